#include "store_ckpt.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"

/* A WAL this many times its bound means the checkpoints lost the race. */
#define STUCK_FACTOR 4
/* A WAL frame is a 24-byte header and one page; the file has a 32-byte header. */
#define FRAME_HEADER 24

struct store_ckpt {
	sqlite3 *db;
	struct store_ckpt_opts o;
	int64_t frame_bytes;
	pthread_t thread;
	int has_thread;
	pthread_mutex_t mu; /* stop, fault */
	pthread_cond_t cv;
	int stop;
	char fault[200];
};

enum store_ckpt_verdict store_ckpt_judge(int rc, int log, int64_t frame_bytes, int64_t limit_bytes)
{
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		return CKPT_FAILED;
	if (rc == SQLITE_OK && log < 0)
		return CKPT_NOOP;
	if (log > 0 && (int64_t)log * frame_bytes > limit_bytes)
		return CKPT_ESCALATE;
	return CKPT_OK;
}

/* One read opens the WAL on this connection (see the header). */
static int read_once(struct store_ckpt *c)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, "PRAGMA page_size", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		c->frame_bytes = sqlite3_column_int64(st, 0) + FRAME_HEADER;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	/* page_size alone may be answered from the header; this reads a page. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : -1;
}

/* A RESTART must catch the write lock between two of the daemon's commits,
 * which come every 0.1-0.3 ms in a flood and retry every 0.1 ms when busy.
 * SQLite's own handler sleeps 1, 2, 5, 10 ms... and loses that race for its
 * whole timeout (seen: the WAL past 4 x its bound). So: look every 20 us. */
#define CKPT_BUSY_STEP_US 20

static int busy_wait(void *arg, int tries)
{
	const struct store_ckpt *c = arg;
	if ((int64_t)tries * CKPT_BUSY_STEP_US >= (int64_t)c->o.restart_busy_ms * 1000)
		return 0;
	struct timespec ts = {0, CKPT_BUSY_STEP_US * 1000L};
	nanosleep(&ts, NULL);
	return 1;
}

static void set_fault(struct store_ckpt *c, const char *text)
{
	pthread_mutex_lock(&c->mu);
	int was = c->fault[0] != '\0';
	int same = strcmp(c->fault, text) == 0;
	snprintf(c->fault, sizeof c->fault, "%s", text);
	pthread_mutex_unlock(&c->mu);
	if (!same && text[0])
		log_error("%s", text);
	else if (was && !text[0])
		log_info("store: checkpoints work again");
}

int store_ckpt_pass(struct store_ckpt *c, struct store_ckpt_pass *out)
{
	struct store_ckpt_pass p = {0};
	int log_frames = -1, done = -1;
	p.rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done);
	p.wal_bytes = log_frames > 0 ? (int64_t)log_frames * c->frame_bytes : 0;
	enum store_ckpt_verdict v = store_ckpt_judge(p.rc, log_frames, c->frame_bytes, c->o.wal_limit_bytes);
	if (v == CKPT_ESCALATE) {
		/* Blocks writers, but only for what came after the passive pass. */
		p.escalated = 1;
		p.rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, &log_frames, &done);
		v = store_ckpt_judge(p.rc, log_frames, c->frame_bytes, INT64_MAX);
	}
	p.log = log_frames;
	p.done = done;
	char text[200] = "";
	switch (v) {
	case CKPT_NOOP:
		snprintf(text, sizeof text, "store: WAL checkpoint did nothing (its connection has not opened the WAL)");
		read_once(c); /* so that the next pass works */
		break;
	case CKPT_FAILED:
		snprintf(text, sizeof text, "store: WAL checkpoint failed: %s", sqlite3_errmsg(c->db));
		break;
	case CKPT_OK:
	case CKPT_ESCALATE:
		/* Busy (a RESTART that gave up) is normal under load; a WAL far past
		 * its bound is not. */
		if (p.rc == SQLITE_BUSY && p.wal_bytes > STUCK_FACTOR * c->o.wal_limit_bytes)
			snprintf(text, sizeof text,
				 "store: the WAL holds %.1f MiB, checkpoints cannot keep up (a long reader?)",
				 (double)p.wal_bytes / (1 << 20));
		break;
	}
	set_fault(c, text);
	if (out)
		*out = p;
	return text[0] ? -1 : 0;
}

/* A WAL filling fast (tens of MiB a second under a flood of state changes)
 * is looked at more often, so that it passes its bound by less. Never
 * slower than the interval: a flood can start at any moment, and a 2 s
 * pause let 40 MiB pile up past the bound (tried and measured). */
#define FAST_INTERVAL_MS 50

static void *run(void *arg)
{
	struct store_ckpt *c = arg;
	int wait_ms = c->o.interval_ms;
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
			;
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->mu);
		struct store_ckpt_pass p;
		store_ckpt_pass(c, &p);
		wait_ms = p.wal_bytes > c->o.wal_limit_bytes / 4 && c->o.interval_ms > FAST_INTERVAL_MS ? FAST_INTERVAL_MS
											: c->o.interval_ms;
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static void ckpt_free(struct store_ckpt *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	sqlite3_close(c->db);
	free(c);
}

int store_ckpt_open(const char *path, const struct store_ckpt_opts *o, struct store_ckpt **out, char err[256])
{
	*out = NULL;
	struct store_ckpt *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, 256, "out of memory");
		return -1;
	}
	if (o)
		c->o = *o;
	if (c->o.interval_ms <= 0)
		c->o.interval_ms = 250;
	if (c->o.wal_limit_bytes <= 0)
		c->o.wal_limit_bytes = 16 << 20;
	if (c->o.restart_busy_ms <= 0)
		c->o.restart_busy_ms = 100;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    (sqlite3_busy_handler(c->db, busy_wait, c), read_once(c) < 0)) {
		snprintf(err, 256, "%s: checkpoint connection: %s", path, c->db ? sqlite3_errmsg(c->db) : "cannot open");
		ckpt_free(c);
		return -1;
	}
	/* Also this connection: whoever rewinds the WAL trims the file to this. */
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA journal_size_limit = %" PRId64, c->o.wal_limit_bytes);
	sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	*out = c;
	return 0;
}

int store_ckpt_start(const char *path, const struct store_ckpt_opts *o, struct store_ckpt **out, char err[256])
{
	if (store_ckpt_open(path, o, out, err) < 0)
		return -1;
	struct store_ckpt *c = *out;
	if (pthread_create(&c->thread, NULL, run, c) != 0) {
		snprintf(err, 256, "cannot start the checkpoint thread");
		ckpt_free(c);
		*out = NULL;
		return -1;
	}
	c->has_thread = 1;
	return 0;
}

int store_ckpt_fault(struct store_ckpt *c, char *buf, size_t n)
{
	if (!c) {
		if (n)
			buf[0] = '\0';
		return 0;
	}
	pthread_mutex_lock(&c->mu);
	snprintf(buf, n, "%s", c->fault);
	pthread_mutex_unlock(&c->mu);
	return buf[0] != '\0';
}

void store_ckpt_stop(struct store_ckpt *c)
{
	if (!c)
		return;
	if (c->has_thread) {
		pthread_mutex_lock(&c->mu);
		c->stop = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
	}
	ckpt_free(c);
}
