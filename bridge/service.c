/* Service lifecycle and the main loop: connection state, publishing from the
 * queue, PUBACK results, timers. Paho's callbacks only record what happened
 * and wake the loop; connect, subscribe and disconnect happen here, never in
 * a callback. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#ifdef SB_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "clock.h"
#include "codec.h"
#include "log.h"
#include "service_impl.h"

#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 30000
/* A connection the broker ended (DISCONNECT) after it stayed up this long was
 * no flap: the next retry starts from RECONNECT_MIN_MS again. */
#define RECONNECT_STABLE_MS 10000
#define CONNECT_WATCHDOG_MS 60000
/* Paho may clear its connected flag without telling us (a broker
 * DISCONNECT); seen from the main loop for this long, the link is down. */
#define LINK_WATCHDOG_MS 1000
#define LINK_CHECK_MS 200
/* The daemon counts silence only while it hears the broker. An idle link is
 * probed this often; no answer to anything for HEAR_GAP_MS means it does
 * not hear, long before Paho's keepalive (up to ~2x keepalive) notices. */
#define PROBE_IDLE_MS 1000
#define HEAR_GAP_MS 3000
/* The systemd watchdog is fed only while the link machinery makes progress:
 * online, or a connect attempt started within this long. */
#define WD_STUCK_MS (RECONNECT_MAX_MS + CONNECT_WATCHDOG_MS + 10000)
#define CHECKPOINT_EVERY_MS 250
#define SHUTDOWN_WAIT_MS 3000
#define SHUTDOWN_FLUSH_MS 3000
#define PAUSE_STATUS_WAIT_MS 2000
#define DONE_BATCH 512
#define TICK_BATCH 256
#define DONE_DELAY_MS 200
#define TRIM_AFTER_PEAK 4096

void service_wake(struct service *s)
{
	uint64_t one = 1;
	if (atomic_exchange(&s->wake_pending, 1))
		return;
	ssize_t r = write(s->wake_fd, &one, sizeof(one));
	(void)r;
}

static void status_topic(const struct service *s, char *t, size_t n)
{
	snprintf(t, n, "%s/bridge/status", s->cfg.mqtt.topic_root);
}

/* ---- Paho's threads ---- */

static void cb_connected(void *arg)
{
	struct service *s = arg;
	pthread_mutex_lock(&s->evmu);
	s->ev_connected = 1;
	pthread_mutex_unlock(&s->evmu);
	service_wake(s);
}

static void cb_lost(void *arg, const char *cause)
{
	struct service *s = arg;
	pthread_mutex_lock(&s->evmu);
	s->ev_lost = 1;
	snprintf(s->ev_cause, sizeof(s->ev_cause), "%s", cause ? cause : "unknown");
	pthread_mutex_unlock(&s->evmu);
	service_wake(s);
}

static void cb_subscribed(void *arg, int ok)
{
	struct service *s = arg;
	pthread_mutex_lock(&s->evmu);
	s->ev_subscribed = 1;
	s->ev_sub_ok = ok;
	pthread_mutex_unlock(&s->evmu);
	service_wake(s);
}

/* ---- main loop ---- */

static void publish_status(struct service *s, const char *state, struct sb_now now)
{
	char t[CONFIG_STR_MAX + 32];
	status_topic(s, t, sizeof(t));
	const char *err = strcmp(state, "online") == 0 || s->store_paused ? service_status_error(s) : NULL;
	char *p = codec_encode_status(state, SB_VERSION, now.wall_ms, err);
	if (!p)
		return;
	snprintf(s->status_sent, sizeof(s->status_sent), "%s", err ? err : "");
	s->status_next_mono = now.mono_ms + s->cfg.timing.status_interval_ms;
	s->status_ever_sent = 1;
	if (outq_push(&s->outq, 0, 1, t, p, strlen(p), 1, 1, NULL, 0) == 0)
		s->status_token = 0;
	free(p);
}

static void flush_done(struct service *s)
{
	if (!s->ndone)
		return;
	if (store_begin(s->store) == 0 && store_outbox_delete(s->store, s->done_ids, s->ndone) == 0 &&
	    store_commit(s->store) == 0) {
		s->ndone = 0;
		return;
	}
	store_rollback(s->store);
	/* Kept for the next pass; at worst they are sent once more after a restart. */
	if (s->ndone > 100000)
		s->ndone = 0;
}

/* Deleting confirmed rows is one transaction per batch, not per PUBACK: it
 * holds the lock that message processing needs. A row deleted late is at
 * worst sent once more after a crash. */
static void flush_done_due(struct service *s, struct sb_now now)
{
	if (s->ndone && !s->done_since_mono)
		s->done_since_mono = now.mono_ms;
	if (s->ndone >= DONE_BATCH || (s->ndone && now.mono_ms - s->done_since_mono >= DONE_DELAY_MS)) {
		flush_done(s);
		s->done_since_mono = s->ndone ? now.mono_ms : 0;
	}
}

static void went_down(struct service *s, const char *cause, struct sb_now now);

/* s->conn is read under mu by the receive thread (service_collect). */
static void set_conn(struct service *s, enum conn_state c)
{
	pthread_mutex_lock(&s->mu);
	s->conn = c;
	pthread_mutex_unlock(&s->mu);
}

/* Every retry backs off: exponential, capped, with jitter so that many
 * daemons (or one daemon and a flapping broker) do not retry in lockstep. */
static void schedule_retry(struct service *s, struct sb_now now)
{
	if (s->backoff_ms < RECONNECT_MIN_MS)
		s->backoff_ms = RECONNECT_MIN_MS;
	int64_t half = s->backoff_ms / 2;
	s->retry_in_ms = half + (int64_t)((unsigned)rand_r(&s->rand_seed) % (unsigned)(half + 1));
	s->reconnect_mono = now.mono_ms + s->retry_in_ms;
	s->backoff_ms = s->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : s->backoff_ms * 2;
}

/* Paho holds its own lock while it runs our callbacks, and on_message takes
 * s->mu: so nothing here may call into the transport while holding s->mu. */
static void subscribe_all(struct service *s)
{
	char dev[CONFIG_STR_MAX + 32], cmd[CONFIG_STR_MAX + 32];
	snprintf(dev, sizeof(dev), "%s/dev/+/report", s->cfg.mqtt.topic_root);
	snprintf(cmd, sizeof(cmd), "%s/cmd/+", s->cfg.mqtt.topic_root);
	char vf[VENDOR_FILTERS_MAX][SB_TOPIC_MAX + 1];
	const char *f[2 + VENDOR_FILTERS_MAX] = {dev, cmd};
	size_t n = vendor_filters(&s->vendors, vf, VENDOR_FILTERS_MAX);
	for (size_t i = 0; i < n; i++)
		f[2 + i] = vf[i];
	if (transport_subscribe(s->transport, f, 2 + n, 1) < 0) {
		log_error("subscribe failed to start; reconnecting");
		transport_disconnect(s->transport, 1000);
		went_down(s, "subscribe failed", clock_now());
	}
}

static void start_connect(struct service *s, struct sb_now now)
{
	pthread_mutex_lock(&s->mu);
	/* Per-connection counts start afresh, whatever the last one left. */
	service_wait_send(s);
	outq_disconnected(&s->outq);
	outq_disconnected(&s->stateq);
	s->conn = CONN_CONNECTING;
	pthread_mutex_unlock(&s->mu);
	s->connecting_since_mono = s->attempt_mono = now.mono_ms;
	s->link_gone_mono = 0;
	int rc = transport_connect(s->transport);
	if (rc < 0) {
		set_conn(s, CONN_DOWN);
		schedule_retry(s, now);
		log_warn("cannot connect to %s: code %d; retrying in %.1f s", s->cfg.mqtt.uri, rc,
			 (double)s->retry_in_ms / 1000.0);
	}
}

static void went_down(struct service *s, const char *cause, struct sb_now now)
{
	/* A working connection lost on the way (a cut, a broker restart) is
	 * retried at once; one the broker itself ends with a DISCONNECT soon
	 * after it was made (a kick loop, a quota) keeps backing off. */
	if (s->conn == CONN_READY && (now.mono_ms - s->ready_since_mono >= RECONNECT_STABLE_MS ||
				      !strstr(cause, "broker sent DISCONNECT")))
		s->backoff_ms = RECONNECT_MIN_MS;
	schedule_retry(s, now);
	if (s->conn == CONN_READY)
		log_warn("connection to %s lost: %s; reconnecting in %.1f s", s->cfg.mqtt.uri, cause,
			 (double)s->retry_in_ms / 1000.0);
	else
		log_warn("cannot connect to %s: %s; retrying in %.1f s", s->cfg.mqtt.uri, cause,
			 (double)s->retry_in_ms / 1000.0);
	pthread_mutex_lock(&s->mu);
	s->conn = CONN_DOWN;
	s->hearing = 0;
	engine_set_connected(s->engine, 0, now);
	service_wait_send(s); /* outq_disconnected drops volatile messages a batch may hold */
	outq_disconnected(&s->outq);
	outq_disconnected(&s->stateq);
	pthread_mutex_unlock(&s->mu);
}

/* Paho can lose a connection without a callback (a broker DISCONNECT clears
 * its connected flag first); the main loop looks for itself. */
static void watch_link(struct service *s, struct sb_now now)
{
	if (s->conn != CONN_SUBSCRIBING && s->conn != CONN_READY) {
		s->link_gone_mono = 0;
		return;
	}
	/* Asking Paho takes its lock, which a busy receive thread holds: at most
	 * a few times a second, not on every pass of a busy loop. */
	if (now.mono_ms - s->link_check_mono < LINK_CHECK_MS)
		return;
	s->link_check_mono = now.mono_ms;
	if (transport_is_connected(s->transport)) {
		s->link_gone_mono = 0;
		return;
	}
	if (!s->link_gone_mono) {
		s->link_gone_mono = now.mono_ms; /* give Paho's own report a moment */
		return;
	}
	if (now.mono_ms - s->link_gone_mono >= LINK_WATCHDOG_MS) {
		s->link_gone_mono = 0;
		went_down(s, "the link closed without a word from the MQTT library", now);
	}
}

/* Whether the daemon hears the broker now: only then is silence counted
 * (engine_set_connected), and a silence deadline fires only once something
 * came from the broker after it (engine_set_heard). */
static void watch_hearing(struct service *s, struct sb_now now)
{
	if (s->conn != CONN_READY)
		return;
	int64_t heard = transport_heard_mono(s->transport);
	int hearing = now.mono_ms - heard < HEAR_GAP_MS;
	pthread_mutex_lock(&s->mu);
	engine_set_heard(s->engine, heard);
	/* A deadline due with no word from the broker since: ask at once, so
	 * that a live link lets it fire within milliseconds, not a second. */
	int64_t due = engine_next_deadline(s->engine);
	int ask = (now.mono_ms - heard >= PROBE_IDLE_MS && now.mono_ms - s->probe_mono >= PROBE_IDLE_MS) ||
		  (due <= now.mono_ms && heard < due);
	if (hearing != s->hearing) {
		s->hearing = hearing;
		engine_set_connected(s->engine, hearing, now);
		if (!hearing)
			log_warn("nothing heard from %s for %.1f s: silence is not counted until it answers again",
				 s->cfg.mqtt.uri, (double)(now.mono_ms - heard) / 1000.0);
		else
			log_info("hearing %s again; silence is counted from now", s->cfg.mqtt.uri);
	}
	pthread_mutex_unlock(&s->mu);
	if (ask) {
		s->probe_mono = now.mono_ms;
		transport_probe(s->transport); /* one at a time: a no-op while one is out */
	}
}

/* The waiting saves reached their cap: inputs taken now could not be kept,
 * and Paho acknowledges whatever the callback does. Leaving the broker makes
 * it hold them for our session, unacknowledged, until the store writes again. */
static void pause_input(struct service *s, struct sb_now now)
{
	log_error("store: input paused: disconnecting from %s until the store writes again; the broker keeps "
		  "what arrives for the session",
		  s->cfg.mqtt.uri);
	pthread_mutex_lock(&s->mu);
	if (s->conn == CONN_READY)
		publish_status(s, "offline", now);
	/* Consumers learn why before the link goes: the status leaves the queue on its PUBACK. */
	for (int64_t until = now.mono_ms + PAUSE_STATUS_WAIT_MS; clock_now().mono_ms < until;) {
		char t[CONFIG_STR_MAX + 32];
		status_topic(s, t, sizeof(t));
		int queued = 0;
		for (const struct outmsg *m = s->outq.head; m && !queued; m = m->next)
			queued = strcmp(m->topic, t) == 0;
		if (!queued)
			break;
		int mine = service_collect(s, &s->main_batch, SIZE_MAX, clock_now().mono_ms);
		pthread_mutex_unlock(&s->mu);
		if (mine)
			service_send(s, &s->main_batch);
		poll(NULL, 0, 20);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	transport_disconnect(s->transport, 1000);
	went_down(s, "input paused (store)", now);
}

static void handle_connection(struct service *s, struct sb_now now)
{
	pthread_mutex_lock(&s->evmu);
	int connected = s->ev_connected, lost = s->ev_lost, subscribed = s->ev_subscribed, sub_ok = s->ev_sub_ok;
	char cause[sizeof(s->ev_cause)];
	memcpy(cause, s->ev_cause, sizeof(cause));
	s->ev_connected = s->ev_lost = s->ev_subscribed = 0;
	pthread_mutex_unlock(&s->evmu);

	if (lost && s->conn != CONN_DOWN)
		went_down(s, cause, now);
	if (connected && s->conn == CONN_CONNECTING && !lost) {
		log_info("connected to %s; subscribing", s->cfg.mqtt.uri);
		set_conn(s, CONN_SUBSCRIBING);
		subscribe_all(s);
	}
	if (subscribed && s->conn == CONN_SUBSCRIBING) {
		if (!sub_ok) {
			log_error("the broker refused our subscriptions (ACL?); retrying");
			went_down(s, "subscription refused", now);
			transport_disconnect(s->transport, 1000);
		} else {
			int rm = transport_receive_maximum(s->transport);
			pthread_mutex_lock(&s->mu);
			s->inflight_cap = (size_t)(rm < s->cfg.mqtt.max_inflight ? rm : s->cfg.mqtt.max_inflight);
			s->conn = CONN_READY;
			s->ready_since_mono = now.mono_ms;
			s->hearing = 1;
			engine_set_heard(s->engine, transport_heard_mono(s->transport));
			engine_set_connected(s->engine, 1, now);
			publish_status(s, "online", now);
			log_info("online: %zu households, %zu seals, %zu messages waiting", engine_household_count(s->engine),
				 engine_device_count(s->engine), service_queued(s));
			pthread_mutex_unlock(&s->mu);
			if (!s->ever_ready) {
				s->ever_ready = 1;
#ifdef SB_HAVE_SYSTEMD
				sd_notify(0, "READY=1");
#endif
			}
		}
	}
	if (s->conn == CONN_CONNECTING && now.mono_ms - s->connecting_since_mono > CONNECT_WATCHDOG_MS) {
		/* Paho's own connect timeout runs on the wall clock; do not trust it alone. */
		went_down(s, "connect attempt timed out", now);
	}
	if (s->store_paused && s->conn != CONN_DOWN)
		pause_input(s, now);
	if (s->conn == CONN_SUBSCRIBING && now.mono_ms - s->connecting_since_mono > CONNECT_WATCHDOG_MS) {
		/* A SUBACK that never comes must not leave us half online for good. */
		went_down(s, "the broker never answered our subscriptions", now);
		transport_disconnect(s->transport, 1000);
	}
	watch_link(s, now);
	watch_hearing(s, now);
	if (s->conn == CONN_DOWN && now.mono_ms >= s->reconnect_mono && !s->store_paused)
		start_connect(s, now);
}

static void apply_tick(struct service *s, struct sb_now now)
{
	if (s->store_fault && now.mono_ms >= s->next_store_retry_mono)
		/* In slices: the lock is let go between them (next pass at once). */
		s->next_store_retry_mono = now.mono_ms + (service_store_retry(s) > 0 ? 0 : 1000);
	s->tick_more = engine_tick_some(s->engine, now, TICK_BATCH, &s->actions);
	if (s->actions.n)
		service_apply(s, NULL, NULL, NULL, 0);
	service_ids_top_up(s);
}

/* A burst can queue many messages (a full inbound stream holds back the
 * PUBACKs that free the window). Once the queue is empty, the freed memory goes
 * back to the system: resident memory is what operators watch. */
static void give_back_memory(struct service *s)
{
	if (s->outq.peak + s->stateq.peak < TRIM_AFTER_PEAK || service_queued(s))
		return;
	s->outq.peak = s->stateq.peak = 0;
	malloc_trim(0);
}

static int64_t next_wake(struct service *s, struct sb_now now)
{
	if (s->tick_more)
		return now.mono_ms; /* more deadlines due: go round at once, sending in between */
	int64_t next = engine_next_deadline(s->engine);
	int64_t r = outq_next_retry(&s->outq, now.mono_ms);
	int64_t rs = outq_next_retry(&s->stateq, now.mono_ms);
	if (rs < r)
		r = rs;
	if (r < next)
		next = r;
	if (s->conn == CONN_DOWN && s->reconnect_mono < next)
		next = s->reconnect_mono;
	/* The link and hearing watches run every pass. */
	if ((s->conn == CONN_READY || s->conn == CONN_SUBSCRIBING) && now.mono_ms + 250 < next)
		next = now.mono_ms + 250;
	if (s->ndone && s->done_since_mono + DONE_DELAY_MS < next)
		next = s->done_since_mono + DONE_DELAY_MS;
	if (s->store_fault && s->next_store_retry_mono < next)
		next = s->next_store_retry_mono;
	/* Wall-clock deadlines (quarantine end) are re-read at least this often. */
	if (now.mono_ms + 1000 < next)
		next = now.mono_ms + 1000;
	return next;
}

static void reload(struct service *s, const char *cfg_path)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	config_defaults(&c);
	if (config_load(cfg_path, &c, err) < 0) {
		log_error("reload: settings not changed:\n%s", err);
		return;
	}
	enum log_level lvl;
	if (log_level_parse(c.log.level, &lvl) == 0)
		log_set_level(lvl);
	log_reopen();
	s->cfg.timing = c.timing;
	s->cfg.escalation = c.escalation;
	s->cfg.log = c.log;
	memcpy(s->cfg.models, c.models, sizeof(c.models)); /* [model.*]: changed models apply to fitted seals */
	s->cfg.n_models = c.n_models;
	struct engine_settings es;
	service_engine_settings(&s->cfg, &es);
	engine_set_settings(s->engine, &es);
	log_info("reload: timing and escalation settings applied (connection and store settings need a restart)");
}

static int shutdown_clean(struct service *s)
{
	struct sb_now now = clock_now();
	pthread_mutex_lock(&s->mu);
	service_group_commit(s);
	service_store_stop_retry(s);
	/* Heartbeats are not committed one by one (nor in the background: at a
	 * million seals that held the lock for long and cost CPU when idle). Their
	 * last_seen is written here, for at most a few seconds; what is left, or
	 * lost in a crash, only makes last_seen older after the restart, and
	 * silence is counted afresh from then anyway. */
	int64_t flush_until = now.mono_ms + SHUTDOWN_FLUSH_MS;
	/* Not while the store fails: they would only be lost with the rest. */
	for (int done = s->store_fault; !done && clock_now().mono_ms < flush_until;) {
		done = engine_flush_liveness(s->engine, 20000, &s->actions);
		if (s->actions.n)
			service_apply(s, NULL, NULL, NULL, 0);
	}
	/* A clean DISCONNECT suppresses the will, so say offline ourselves. */
	if (s->conn == CONN_READY) {
		publish_status(s, "offline", now);
		int64_t until = now.mono_ms + SHUTDOWN_WAIT_MS;
		while (now.mono_ms < until && service_queued(s)) {
			int mine = service_collect(s, &s->main_batch, SIZE_MAX, now.mono_ms);
			pthread_mutex_unlock(&s->mu);
			if (mine)
				service_send(s, &s->main_batch);
			struct pollfd p = {s->wake_fd, POLLIN, 0};
			poll(&p, 1, 50);
			uint64_t v;
			if (read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				break;
			atomic_store(&s->wake_pending, 0);
			pthread_mutex_lock(&s->mu);
			now = clock_now();
		}
	}
	flush_done(s);
	service_mark_states(s, clock_now(), 1);
	pthread_mutex_unlock(&s->mu);
	transport_disconnect(s->transport, 2000);
	/* After the disconnect: no input can come in behind the clean-stop mark. */
	pthread_mutex_lock(&s->mu);
	int rc = service_store_stop_end(s);
	size_t waiting = service_outbox_waiting(s), states = s->stateq.n;
	pthread_mutex_unlock(&s->mu);
	log_info("stopped; %zu messages wait in the outbox for the next start, %zu household states after it",
		 waiting, states);
	return rc;
}

int service_run(struct service *s, const char *cfg_path, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload_flag)
{
	struct sb_now now = clock_now();
	s->rand_seed = (unsigned)getpid() ^ (unsigned)now.wall_ms;
	s->backoff_ms = RECONNECT_MIN_MS;
	start_connect(s, now);
#ifdef SB_HAVE_SYSTEMD
	uint64_t wd_usec = 0;
	int64_t next_wd = 0;
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;
#endif
	while (!*stop) {
		now = clock_now();
		if (*reload_flag) {
			*reload_flag = 0;
			pthread_mutex_lock(&s->mu);
			reload(s, cfg_path);
			pthread_mutex_unlock(&s->mu);
		}
		handle_connection(s, now);
		pthread_mutex_lock(&s->mu);
		service_group_commit(s);
		flush_done_due(s, now);
		apply_tick(s, now);
		if (service_retention_tick(s, now))
			s->tick_more = 1;
		give_back_memory(s);
		service_mark_states(s, now, 0);
		store_ckpt_fault(s->ckpt, s->ckpt_error, sizeof(s->ckpt_error));
		const char *err = service_status_error(s);
		/* Also every timing.status_interval, with a fresh at: a platform can tell a quiet district from a hung daemon. */
		if (s->conn == CONN_READY && (strcmp(err ? err : "", s->status_sent) != 0 || now.mono_ms >= s->status_next_mono))
			publish_status(s, "online", now);
		int mine = service_collect(s, &s->main_batch, SIZE_MAX, now.mono_ms);
		int64_t next = next_wake(s, now);
		if (s->conn == CONN_READY && s->status_next_mono < next)
			next = s->status_next_mono;
		pthread_mutex_unlock(&s->mu);
		if (mine && service_send(s, &s->main_batch))
			next = now.mono_ms; /* more came while we sent */
#ifdef SB_HAVE_SYSTEMD
		/* Fed only while the link is up or attempts go on: a daemon stuck
		 * offline for good is restarted by systemd. */
		int progressing = s->conn == CONN_READY || now.mono_ms - s->attempt_mono < WD_STUCK_MS;
		if (wd_usec && progressing && now.mono_ms >= next_wd) {
			sd_notify(0, "WATCHDOG=1");
			next_wd = now.mono_ms + (int64_t)(wd_usec / 2000);
		}
		if (wd_usec && next_wd < next)
			next = next_wd;
#endif
		now = clock_now();
		int timeout = next <= now.mono_ms ? 0 : (int)(next - now.mono_ms > 60000 ? 60000 : next - now.mono_ms);
		struct pollfd p = {s->wake_fd, POLLIN, 0};
		if (poll(&p, 1, timeout) > 0) {
			uint64_t v;
			if (read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
				log_warn("wake fd: %m");
		}
		atomic_store(&s->wake_pending, 0);
	}
#ifdef SB_HAVE_SYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
	return shutdown_clean(s);
}

static int load_outbox_row(void *arg, int64_t id, const char *topic, const void *payload, size_t len, int qos,
			   int retained, const void *corr, size_t corr_len)
{
	struct service *s = arg;
	char why[160];
	if (service_outbox_topic_ok(s, topic, why, sizeof(why)) < 0) {
		/* Sent, it would be refused for ever (holding back every later
		 * message) or land where it does harm. */
		log_error("outbox: dropped message %lld to \"%.80s\": %s", (long long)id, topic, why);
		service_row_done(s, id);
		return 0;
	}
	return outq_push(&s->outq, id, 0, topic, payload, len, qos, retained, corr, corr_len) < 0 ? -1 : 0;
}

int service_new(const struct config *cfg, struct service **out)
{
	*out = NULL;
	struct service *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->cfg = *cfg;
	vendor_settings_from_config(cfg, &s->vendors);
	s->wake_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->evmu, NULL);
	pthread_cond_init(&s->sent, NULL);
	outq_init(&s->outq);
	outq_init(&s->stateq);
	s->stateq.next_token = SERVICE_STATE_TOKENS;
	actions_init(&s->actions);
	actions_init(&s->unsaved);
	snprintf(s->topic_prefix_dev, sizeof(s->topic_prefix_dev), "%s/dev/", cfg->mqtt.topic_root);
	snprintf(s->topic_prefix_cmd, sizeof(s->topic_prefix_cmd), "%s/cmd/", cfg->mqtt.topic_root);
	service_reply_rules(s);
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0) {
		log_error("eventfd: %m");
		goto fail;
	}
	char err[256];
	if (store_open(cfg->store.path, &s->store, err) < 0) {
		log_error("store %s: %s", cfg->store.path, err);
		goto fail;
	}
	struct store_ckpt_opts co = {CHECKPOINT_EVERY_MS, (int64_t)cfg->store.wal_limit_mb << 20, 0};
	if (store_set_wal_limit(s->store, co.wal_limit_bytes) < 0) {
		log_error("store %s: %s", cfg->store.path, store_errmsg(s->store));
		goto fail;
	}
	if (store_ckpt_start(cfg->store.path, &co, &s->ckpt, err) < 0) {
		log_error("store %s: %s", cfg->store.path, err);
		goto fail;
	}
	struct engine_settings es;
	service_engine_settings(cfg, &es);
	s->engine = engine_new(&es, store_instance(s->store));
	if (!s->engine) {
		log_error("out of memory");
		goto fail;
	}
	struct sb_now now = clock_now();
	if (service_store_start(s) < 0)
		goto fail;
	if (store_load(s->store, s->engine) < 0) {
		log_error("store %s: loading failed: %s", cfg->store.path, store_errmsg(s->store));
		goto fail;
	}
	engine_loaded(s->engine, now);
	service_store_loaded(s);
	if (store_outbox_each(s->store, load_outbox_row, s) != 0) {
		log_error("store %s: loading the outbox failed: %s", cfg->store.path, store_errmsg(s->store));
		goto fail;
	}
	log_info("store %s: %zu households, %zu seals, %zu unsent messages", cfg->store.path,
		 engine_household_count(s->engine), engine_device_count(s->engine), s->outq.n);
	service_recover_states(s, now);

	char will_topic[CONFIG_STR_MAX + 32];
	status_topic(s, will_topic, sizeof(will_topic));
	char *will = codec_encode_status("offline", SB_VERSION, 0, NULL);
	struct transport_settings ts = {
		.uri = cfg->mqtt.uri,
		.client_id = cfg->mqtt.client_id,
		.username = cfg->mqtt.username,
		.password = cfg->mqtt.password,
		.cafile = cfg->mqtt.cafile,
		.certfile = cfg->mqtt.certfile,
		.keyfile = cfg->mqtt.keyfile,
		.keepalive_s = cfg->mqtt.keepalive,
		.session_expiry_s = cfg->mqtt.session_expiry,
		.will_topic = will_topic,
		.will_payload = will ? will : "{\"state\":\"offline\"}",
		.max_inflight = cfg->mqtt.max_inflight,
	};
	struct transport_callbacks cb = {
		.on_message = service_on_message,
		.on_connected = cb_connected,
		.on_lost = cb_lost,
		.on_subscribed = cb_subscribed,
		.on_published = service_on_published,
		.arg = s,
	};
	int rc = transport_new(&ts, &cb, &s->transport);
	free(will);
	if (rc < 0) {
		log_error("mqtt: cannot create a client for %s", cfg->mqtt.uri);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	service_free(s);
	return -1;
}

void service_free(struct service *s)
{
	if (!s)
		return;
	transport_free(s->transport);
	engine_free(s->engine);
	store_ckpt_stop(s->ckpt);
	store_close(s->store);
	outq_free(&s->outq);
	outq_free(&s->stateq);
	actions_free(&s->actions);
	actions_free(&s->unsaved);
	service_reject_free(s);
	service_group_free(s);
	free(s->done_ids);
	service_batch_free(&s->main_batch);
	service_batch_free(&s->rx_batch);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->evmu);
	pthread_cond_destroy(&s->sent);
	free(s);
}
