/* The store's side of the service: ids reserved before use, saves that wait
 * while the store fails (capped, retried in slices), what a stop does during a
 * fault, and retention. docs/storage.md says what a consumer and an operator
 * see in each case. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "service_impl.h"
#include "store_ids.h"
#include "store_retain.h"

/* Alert numbers reserved at a time; a new block is reserved when half is used.
 * A restart skips what is left of the block: gaps, never repeats. */
#define IDS_BLOCK 1000
/* Saves or outbox rows written per retry transaction: the lock is let go between them. */
#define RETRY_SLICE 256
/* Rows of each kind deleted per retention transaction: small while running
 * (the lock is held for one batch), larger at start, when nothing waits. */
#define RETAIN_BATCH 500
#define RETAIN_BATCH_START 5000
#define DAY_MS (24LL * 3600 * 1000)

static void start_tag(char out[17])
{
	unsigned char rnd[8];
	size_t got = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && got < sizeof rnd) {
		ssize_t n = read(fd, rnd + got, sizeof rnd - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	if (got < sizeof rnd) {
		/* Never the same twice on one host either: the time in ns and our pid. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t v = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 48);
		memcpy(rnd, &v, sizeof rnd);
	}
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

static int64_t cutoff_ms(const struct service *s, int64_t wall_ms)
{
	return wall_ms - (int64_t)s->cfg.store.keep_days * DAY_MS;
}

static void log_retained(const char *when, const struct store_retained *n)
{
	if (n->audit || n->alerts || n->households || n->permits)
		log_info("store: retention %s: removed %zu audit rows, %zu closed alerts, %zu released households, "
			 "%zu permits",
			 when, n->audit, n->alerts, n->households, n->permits);
}

int service_store_start(struct service *s)
{
	struct sb_now now = clock_now();
	/* Before loading: what is too old is never read into memory. */
	if (s->cfg.store.keep_days > 0) {
		struct store_retained n = {0};
		int more;
		while ((more = store_retain_step(s->store, cutoff_ms(s, now.wall_ms), RETAIN_BATCH_START, NULL, NULL, &n)) > 0)
			;
		if (more < 0)
			log_warn("store: retention at start failed: %s; old rows stay for now", store_errmsg(s->store));
		log_retained("at start", &n);
	}
	int64_t from, limit;
	int clean, moved = 0;
	if (store_ids_start(s->store, IDS_BLOCK, now.wall_ms, &from, &limit, &clean, &moved) < 0) {
		log_error("store %s: cannot reserve alert ids: %s; not starting, because alert and event ids could "
			  "repeat (free space, then start again)",
			  s->cfg.store.path, store_errmsg(s->store));
		return -1;
	}
	s->ids_from = from;
	s->ids_limit = limit;
	if (!clean && moved > 0)
		log_info("store: the last run did not stop cleanly; event numbers of %d open alerts move on by %d",
			 moved, STORE_SEQ_SKIP);
	s->retention_next_mono = now.mono_ms + s->cfg.store.retention_every_ms;
	return 0;
}

void service_store_loaded(struct service *s)
{
	char tag[17];
	start_tag(tag);
	engine_set_start_tag(s->engine, tag);
	engine_set_alert_numbers(s->engine, s->ids_from, s->ids_limit);
}

void service_ids_top_up(struct service *s)
{
	/* Inside a transaction (several inputs committed together) it waits for the next call. */
	if (engine_alert_numbers_left(s->engine) >= IDS_BLOCK / 2 || s->store_fault || !store_ids_can_reserve(s->store))
		return;
	int64_t next = engine_next_alert_no(s->engine), limit;
	if (store_ids_reserve(s->store, next, IDS_BLOCK, &limit) < 0) {
		/* The next input's failed save reports the fault; numbers past the block carry the start tag. */
		log_warn("store: cannot reserve alert ids: %s", store_errmsg(s->store));
		return;
	}
	engine_set_alert_numbers(s->engine, next, limit);
}

int service_keep_room(struct service *s, size_t more)
{
	size_t cap = (size_t)s->cfg.store.max_waiting_saves;
	if (s->unsaved.n + more <= cap)
		return 1;
	if (!s->store_paused) {
		log_error("store: %zu saves wait, the most store.max_waiting_saves allows; no input is taken until "
			  "the store writes again, and saves made meanwhile are lost",
			  s->unsaved.n);
		s->store_paused = 1;
		service_wake(s);
	}
	snprintf(s->store_error, sizeof(s->store_error), "store: %.120s; %zu saves wait (cap): input paused",
		 store_errmsg(s->store), s->unsaved.n);
	s->saves_lost += more;
	return 0;
}

static int write_slice(struct service *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (store_apply(s->store, &s->unsaved.v[i]) < 0)
			return -1;
	return 0;
}

/* Messages published from memory during the fault that still wait for their PUBACK get their outbox rows. */
static int rows_slice(struct service *s, size_t *written)
{
	struct outmsg *m, *v[RETRY_SLICE];
	int64_t ids[RETRY_SLICE];
	size_t k = 0;
	for (m = s->outq.head; m && k < RETRY_SLICE; m = m->next)
		if (!m->id && !m->is_volatile)
			v[k++] = m;
	*written = 0;
	if (!k)
		return 0;
	int ok = store_begin(s->store) == 0;
	for (size_t i = 0; ok && i < k; i++)
		ok = store_outbox_add(s->store, v[i]->topic, v[i]->payload, v[i]->len, v[i]->qos, v[i]->retained,
				      v[i]->corr, v[i]->corr_len, &ids[i]) == 0;
	if (!ok || store_commit(s->store) < 0) {
		store_rollback(s->store);
		return -1;
	}
	/* Row ids exist only once the transaction is committed. */
	for (size_t i = 0; i < k; i++)
		v[i]->id = ids[i];
	*written = k;
	return k == RETRY_SLICE;
}

int service_store_retry(struct service *s)
{
	if (!s->store_fault)
		return 0;
	size_t n = s->unsaved.n < RETRY_SLICE ? s->unsaved.n : RETRY_SLICE;
	if (n) {
		if (store_begin(s->store) < 0 || write_slice(s, n) < 0 || store_commit(s->store) < 0) {
			store_rollback(s->store);
			goto failed;
		}
		memmove(s->unsaved.v, s->unsaved.v + n, (s->unsaved.n - n) * sizeof(*s->unsaved.v));
		s->unsaved.n -= n;
		s->retried_saves += n;
		if (s->unsaved.n)
			return 1; /* more: the caller lets go of the lock and comes back at once */
	}
	size_t rows;
	int more = rows_slice(s, &rows);
	if (more < 0)
		goto failed;
	s->retried_rows += rows;
	if (more)
		return 1;
	log_info("store: writing again; %zu delayed saves and %zu messages written%s", s->retried_saves,
		 s->retried_rows, s->saves_lost ? "" : ", nothing lost");
	if (s->saves_lost)
		log_error("store: %zu saves were lost while store.max_waiting_saves was reached", s->saves_lost);
	s->retried_saves = s->retried_rows = 0;
	s->saves_lost = 0; /* reported; a later stop has nothing more to say about them */
	s->store_fault = 0;
	s->store_error[0] = '\0';
	if (s->store_paused) {
		log_info("store: taking input again");
		s->store_paused = 0;
	}
	service_ids_top_up(s);
	return 0;
failed:
	snprintf(s->store_error, sizeof(s->store_error), "store: %s%s", store_errmsg(s->store),
		 s->store_paused ? " (input paused)" : "");
	return -1;
}

static int gone(void *arg, enum store_gone what, const char *id)
{
	struct service *s = arg;
	switch (what) {
	case STORE_GONE_ALERT:
		/* Not known as closed: it may be open in memory (its close not yet saved); keep it. */
		return engine_alert(s->engine, id) ? 1 : (engine_forget_closed_alert(s->engine, id), 0);
	case STORE_GONE_HOUSEHOLD: {
		int rc = engine_forget_household(s->engine, id);
		return rc == -2; /* -1: not in memory (fine); -2: in use again */
	}
	case STORE_GONE_PERMITS:
		engine_forget_lapsed_permits(s->engine, id, cutoff_ms(s, clock_now().wall_ms));
		return 0;
	}
	return 1;
}

int service_retention_tick(struct service *s, struct sb_now now)
{
	if (s->cfg.store.keep_days <= 0 || s->store_fault || now.mono_ms < s->retention_next_mono)
		return 0;
	int more = store_retain_step(s->store, cutoff_ms(s, now.wall_ms), RETAIN_BATCH, gone, s, &s->retained);
	if (more > 0) {
		s->retention_next_mono = now.mono_ms; /* next batch on the next pass, after others had the lock */
		return 1;
	}
	if (more < 0)
		log_warn("store: retention failed: %s; tried again later", store_errmsg(s->store));
	log_retained("pass", &s->retained);
	memset(&s->retained, 0, sizeof(s->retained));
	s->retention_next_mono = now.mono_ms + s->cfg.store.retention_every_ms;
	return 0;
}

size_t service_outbox_waiting(const struct service *s)
{
	size_t n = 0;
	for (const struct outmsg *m = s->outq.head; m; m = m->next)
		n += m->id != 0;
	return n;
}

static size_t unstored_messages(const struct service *s)
{
	size_t n = 0;
	for (const struct outmsg *m = s->outq.head; m; m = m->next)
		n += !m->id && !m->is_volatile;
	return n;
}

/* Caller holds mu; it is let go between slices and while waiting. */
void service_store_stop_retry(struct service *s)
{
	if (!s->store_fault)
		return;
	int64_t until = clock_now().mono_ms + s->cfg.store.stop_retry_ms;
	log_warn("stopping while the store fails: %zu saves wait; retrying for up to %.1f s", s->unsaved.n,
		 (double)s->cfg.store.stop_retry_ms / 1000.0);
	for (;;) {
		int r = service_store_retry(s);
		if (r == 0 && !s->store_fault)
			return;
		int64_t left = until - clock_now().mono_ms;
		if (left <= 0)
			return;
		pthread_mutex_unlock(&s->mu);
		if (r < 0)
			poll(NULL, 0, (int)(left < 250 ? left : 250));
		pthread_mutex_lock(&s->mu);
	}
}

int service_store_stop_end(struct service *s)
{
	if (s->store_fault) {
		log_error("stopped with the store failing (%s): %zu saves and %zu messages not written are lost%s; "
			  "exit code %d",
			  store_errmsg(s->store), s->unsaved.n + s->saves_lost, unstored_messages(s),
			  s->saves_lost ? " (some at the store.max_waiting_saves cap)" : "", SERVICE_EXIT_LOST);
		return SERVICE_EXIT_LOST;
	}
	if (store_ids_clean_stop(s->store) < 0) {
		log_error("store: cannot record the clean stop: %s; the next start moves event numbers on",
			  store_errmsg(s->store));
	}
	return 0;
}
