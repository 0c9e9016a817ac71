/* The checkpointer against real SQLite files: its own connection, which has
 * never read the database, must still checkpoint; a WAL pinned by a reader
 * past its bound is escalated, with a bounded wait; the WAL file stays bounded. */
#include "check.h"
#include "store.h"
#include "store_ckpt.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/sb-test-ckpt-XXXXXX";
static char path[256], wal[300];
static int db_no;

static const char *new_path(void)
{
	snprintf(path, sizeof path, "%s/t%d.db", dir, ++db_no);
	snprintf(wal, sizeof wal, "%s-wal", path);
	return path;
}

static long long file_size(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 ? (long long)sb.st_size : -1;
}

static struct store *open_store(const char *p)
{
	char err[256];
	struct store *s = NULL;
	if (store_open(p, &s, err) != 0)
		fprintf(stderr, "store_open: %s\n", err);
	CHECK(s != NULL);
	return s;
}

/* n transactions of about 8 KiB each: a few pages apiece in the WAL. */
static void write_rows(struct store *s, int n)
{
	static char blob[8192];
	memset(blob, 'x', sizeof blob);
	for (int i = 0; i < n; i++) {
		CHECK(store_begin(s) == 0);
		CHECK(store_outbox_add(s, "seal/x", blob, sizeof blob, 1, 0, NULL, 0, NULL) == 0);
		CHECK(store_commit(s) == 0);
	}
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_judge_boundaries(void)
{
	const int64_t fb = 1048, limit = 1048 * 100;
	CHECK(store_ckpt_judge(SQLITE_OK, -1, fb, limit) == CKPT_NOOP);
	CHECK(store_ckpt_judge(SQLITE_OK, 0, fb, limit) == CKPT_OK);
	CHECK(store_ckpt_judge(SQLITE_OK, 100, fb, limit) == CKPT_OK);       /* at the bound */
	CHECK(store_ckpt_judge(SQLITE_OK, 101, fb, limit) == CKPT_ESCALATE); /* one frame past */
	CHECK(store_ckpt_judge(SQLITE_BUSY, -1, fb, limit) == CKPT_OK);     /* busy is no fault */
	CHECK(store_ckpt_judge(SQLITE_BUSY, 101, fb, limit) == CKPT_ESCALATE);
	CHECK(store_ckpt_judge(SQLITE_IOERR, 5, fb, limit) == CKPT_FAILED);
	CHECK(store_ckpt_judge(SQLITE_ERROR, -1, fb, limit) == CKPT_FAILED);
}

/* The trap itself, so that a change of SQLite's behaviour shows here. */
static void test_fresh_connection_is_a_noop_in_sqlite(void)
{
	const char *p = new_path();
	struct store *s = open_store(p);
	write_rows(s, 20);
	sqlite3 *raw;
	CHECK(sqlite3_open_v2(p, &raw, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
	int log = 0, done = 0;
	CHECK(sqlite3_wal_checkpoint_v2(raw, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK);
	CHECK(log == -1 && done == -1);
	CHECK(store_ckpt_judge(SQLITE_OK, log, 1048, 1 << 20) == CKPT_NOOP);
	sqlite3_close(raw);
	store_close(s);
}

/* Our checkpoint connection has never run a query of the daemon's, yet it copies the WAL. */
static void test_own_connection_checkpoints(void)
{
	const char *p = new_path();
	struct store *s = open_store(p);
	struct store_ckpt *c = NULL;
	char err[256], fault[200];
	struct store_ckpt_opts o = {0, 1 << 20, 50};
	CHECK(store_ckpt_open(p, &o, &c, err) == 0 && c);
	long long main0 = file_size(p);
	write_rows(s, 40);
	struct store_ckpt_pass r;
	CHECK(store_ckpt_pass(c, &r) == 0);
	CHECK(r.rc == SQLITE_OK && r.log > 0 && r.done == r.log && !r.escalated);
	CHECK(file_size(p) > main0 + 40 * 8192);
	CHECK(store_ckpt_fault(c, fault, sizeof fault) == 0 && fault[0] == '\0');
	/* The next writer rewinds the WAL: it does not grow past what one burst wrote. */
	long long wal1 = file_size(wal);
	write_rows(s, 10);
	CHECK(file_size(wal) <= wal1);
	store_ckpt_stop(c);
	store_close(s);
}

/* A reader pins the WAL past its bound: the pass escalates, gives up within its
 * busy bound, and succeeds once the reader is gone; the file is trimmed back. */
static void test_escalates_past_the_bound(void)
{
	const char *p = new_path();
	const int64_t limit = 256 << 10;
	struct store *s = open_store(p);
	CHECK(store_set_wal_limit(s, limit) == 0);
	struct store_ckpt *c = NULL;
	char err[256], fault[200];
	struct store_ckpt_opts o = {0, limit, 100};
	CHECK(store_ckpt_open(p, &o, &c, err) == 0 && c);

	sqlite3 *reader;
	CHECK(sqlite3_open_v2(p, &reader, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	write_rows(s, 5);
	CHECK(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM outbox;", NULL, NULL, NULL) == SQLITE_OK);
	write_rows(s, 60); /* about 0.55 MiB past the reader's snapshot: past the bound, within 4x */

	struct store_ckpt_pass r;
	double t0 = now_s();
	store_ckpt_pass(c, &r);
	double waited = now_s() - t0;
	CHECK(r.escalated && r.rc == SQLITE_BUSY);
	CHECK(r.wal_bytes > limit);
	CHECK(waited < 5.0); /* bounded by restart_busy_ms, not by the reader */
	/* Pinned, but not yet far past the bound: no fault. */
	CHECK(store_ckpt_fault(c, fault, sizeof fault) == 0);

	CHECK(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	long long main0 = file_size(p);
	CHECK(store_ckpt_pass(c, &r) == 0);
	CHECK(r.escalated && r.rc == SQLITE_OK && r.done == r.log);
	CHECK(file_size(p) > main0);
	write_rows(s, 1); /* rewinds the WAL and trims its file to the limit */
	CHECK(file_size(wal) <= limit);
	sqlite3_close(reader);
	store_ckpt_stop(c);
	store_close(s);
}

/* A reader that never lets go: once the WAL is far past its bound, it is a fault. */
static void test_stuck_is_a_fault(void)
{
	const char *p = new_path();
	const int64_t limit = 64 << 10;
	struct store *s = open_store(p);
	struct store_ckpt *c = NULL;
	char err[256], fault[200];
	struct store_ckpt_opts o = {0, limit, 10};
	CHECK(store_ckpt_open(p, &o, &c, err) == 0 && c);
	sqlite3 *reader;
	CHECK(sqlite3_open_v2(p, &reader, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	write_rows(s, 2);
	CHECK(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM outbox;", NULL, NULL, NULL) == SQLITE_OK);
	write_rows(s, 60);
	struct store_ckpt_pass r;
	CHECK(store_ckpt_pass(c, &r) < 0);
	CHECK(store_ckpt_fault(c, fault, sizeof fault) == 1);
	CHECK(strstr(fault, "cannot keep up") != NULL);
	CHECK(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	CHECK(store_ckpt_pass(c, &r) == 0);
	CHECK(store_ckpt_fault(c, fault, sizeof fault) == 0);
	sqlite3_close(reader);
	store_ckpt_stop(c);
	store_close(s);
}

/* The thread runs passes by itself. */
static void test_thread_checkpoints(void)
{
	const char *p = new_path();
	struct store *s = open_store(p);
	struct store_ckpt *c = NULL;
	char err[256];
	struct store_ckpt_opts o = {20, 1 << 20, 50};
	long long main0 = file_size(p);
	CHECK(store_ckpt_start(p, &o, &c, err) == 0 && c);
	write_rows(s, 20);
	int grew = 0;
	for (int i = 0; i < 500 && !grew; i++) {
		nanosleep(&(struct timespec){0, 10000000}, NULL);
		grew = file_size(p) > main0 + 20 * 8192;
	}
	CHECK(grew);
	store_ckpt_stop(c);
	store_close(s);
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	RUN(test_judge_boundaries);
	RUN(test_fresh_connection_is_a_noop_in_sqlite);
	RUN(test_own_connection_checkpoints);
	RUN(test_escalates_past_the_bound);
	RUN(test_stuck_is_a_fault);
	RUN(test_thread_checkpoints);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	DONE();
}
