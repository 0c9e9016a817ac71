/* Service internals shared by service*.c. */
#ifndef SB_SERVICE_IMPL_H
#define SB_SERVICE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "config.h"
#include "engine.h"
#include "outq.h"
#include "reply_topic.h"
#include "service.h"
#include "store.h"
#include "store_ckpt.h"
#include "store_retain.h"
#include "transport.h"
#include "vendor.h"

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_SUBSCRIBING, CONN_READY };

struct outgoing;

/* Messages collected from the queue for one thread to send. */
struct batch {
	struct outmsg **v;
	size_t n, cap;
};

struct service {
	struct config cfg;
	struct vendor_settings vendors;
	pthread_mutex_t mu; /* engine, store, outq, actions */
	struct engine *engine;
	struct store *store;
	struct store_ckpt *ckpt;
	struct outq outq;   /* alerts, replies, status, statistics, rejections */
	struct outq stateq; /* household states: their own, smaller window (see service_send.c) */
	struct actions actions;
	struct transport *transport;
	int wake_fd;
	atomic_int wake_pending;

	/* Written by Paho's threads under evmu, read by the main loop. */
	pthread_mutex_t evmu;
	int ev_connected, ev_lost, ev_subscribed, ev_sub_ok;
	char ev_cause[160];

	/* Main loop only. */
	enum conn_state conn;
	int64_t reconnect_mono, connecting_since_mono, backoff_ms;
	int64_t retry_in_ms;      /* the delay schedule_retry chose last */
	int64_t ready_since_mono; /* when the current connection became ready */
	int64_t attempt_mono;     /* when the last connect attempt started */
	int64_t link_gone_mono;   /* when the main loop first saw Paho disconnected while we were up */
	int64_t link_check_mono;  /* when it last asked */
	int64_t probe_mono;       /* when the last probe went out */
	int hearing;              /* under mu: the engine counts silence */
	unsigned rand_seed;       /* jitter of the reconnect backoff */
	int ever_ready, offline_sent;
	uint64_t status_token;
	char store_error[200], publish_error[200], status_sent[200];
	char ckpt_error[200]; /* the checkpointer's fault, copied every pass */
	int status_ever_sent;
	int64_t status_next_mono; /* online is republished then (timing.status_interval) */
	struct actions unsaved; /* saves that failed (disk full): retried in order, before anything newer */
	int64_t next_store_retry_mono;
	size_t inflight_cap; /* min(max_inflight, the broker's Receive Maximum) */
	/* Publishing (service_send.c): one thread at a time sends a batch it
	 * collected, so the queue's order is the order on the wire. */
	int sending;            /* under mu */
	int rx_active;          /* under mu: the receive thread is in a callback and sends on its way out */
	pthread_t rx_thread;    /* under mu: the transport's receive thread, once a message came */
	int rx_thread_known;
	pthread_cond_t sent;    /* signalled when a batch is out */
	struct batch main_batch; /* main loop only */
	struct batch rx_batch;   /* the transport's receive thread only */
	int64_t *done_ids;
	size_t ndone, capdone;
	int64_t done_since_mono; /* oldest confirmed row not yet deleted */
	int64_t last_refusal_log_mono;
	int store_fault;
	int64_t recover_since;      /* while republishing states after a crash: the confirmed mark */
	int64_t states_saved_ms;    /* the confirmed mark as last written */
	int64_t states_next_mono;   /* when to write it next */
	uint64_t states_pushes;     /* stateq.latest_pushes when it was last written */
	int tick_more; /* deadlines were left due for the next pass */
	/* service_store.c (under mu) */
	int64_t ids_from, ids_limit;   /* the block reserved at start */
	size_t saves_lost;             /* dropped at the max_waiting_saves cap */
	size_t retried_saves, retried_rows;
	atomic_int store_paused;       /* the cap was reached: no input until the store writes again */
	int64_t retention_next_mono;
	struct store_retained retained; /* this retention pass so far */
	/* Group commit (service_input.c): commands whose transaction is still
	 * open; their messages wait in grp_out until it is committed. Under mu. */
	int grp_open;
	size_t grp_n;
	struct outgoing *grp_out;
	size_t grp_nout, grp_capout;
	struct actions grp_acts; /* their saves, for s->unsaved if the commit fails */
	char topic_prefix_dev[CONFIG_STR_MAX + 8], topic_prefix_cmd[CONFIG_STR_MAX + 8];
	struct reply_rules reply_rules; /* where replies may not go (service_reply.c) */
	/* service_reject.c, under mu */
	int64_t reject_window_mono;
	size_t reject_logged, reject_suppressed;
	struct hashmap retained_rejected; /* topic -> its retained report already rejected */
};

/* service_input.c: runs on the transport's thread. */
void service_on_message(void *arg, const struct transport_msg *m);
/* Applies s->actions (store transaction, then queue); caller holds mu. reply may be NULL. */
void service_apply(struct service *s, const char *reply_topic, const char *reply, const void *corr,
		   size_t corr_len);
/* Commits the open group of commands, then queues their messages. Caller holds mu. */
void service_group_commit(struct service *s);
void service_group_free(struct service *s);
void service_publish_volatile(struct service *s, const char *topic, const char *payload, int retained);
void service_reject(struct service *s, const char *topic, const char *reason, const char *detail,
		    int64_t at_ms);
void service_engine_settings(const struct config *c, struct engine_settings *es);
/* service_store.c; all but service_store_start with mu held. */
/* After store_open, before store_load: retention at start and the first id block. 0 or -1 (logged). */
int service_store_start(struct service *s);
void service_store_loaded(struct service *s);
/* Reserves the next block of alert numbers when half of this one is used. */
void service_ids_top_up(struct service *s);
/* 1 when `more` saves may wait in memory; 0 at the cap (counted as lost, input paused). */
int service_keep_room(struct service *s, size_t more);
/* One slice of the saves, then the outbox rows, that could not be written:
 * 1 when more is left (call again soon), 0 when all is written, -1 on failure. */
int service_store_retry(struct service *s);
/* One retention batch when due: 1 when more is left. */
int service_retention_tick(struct service *s, struct sb_now now);
/* Stop: retries for store.stop_retry; then the exit code (0 or SERVICE_EXIT_LOST), logged. */
void service_store_stop_retry(struct service *s);
int service_store_stop_end(struct service *s);
/* Messages with an outbox row, that the next start sends. */
size_t service_outbox_waiting(const struct service *s);
const char *service_status_error(const struct service *s);
/* Household states since the last confirmed mark, published again after a crash. Caller holds mu. */
void service_recover_states(struct service *s, struct sb_now now);
/* Writes the confirmed mark when it moved (every second at most, and at stop). Caller holds mu. */
void service_mark_states(struct service *s, struct sb_now now, int force);

/* service_send.c: the outbox row id is deleted with the next batch of confirmed ones. */
void service_row_done(struct service *s, int64_t id);
/* service_reject.c. Under mu: the log line of a rejection, rate-limited at warning. */
void service_log_rejected(struct service *s, const char *topic, const char *reason, const char *detail);
/* 1 when this retained message (topic and payload) was rejected before: the
 * broker delivers it again at every subscribe. */
int service_retained_rejected_before(struct service *s, const char *topic, const char *payload, size_t len,
				     int retained);
void service_reject_free(struct service *s);
/* service_reply.c */
void service_reply_rules(struct service *s);
/* The topic a command's reply goes to, or NULL: none asked for, or one that
 * may not be used (then a bad_reply_topic rejection is queued). Under mu. */
const char *service_reply_topic(struct service *s, const struct transport_msg *m, const struct command *c);
/* Whether an outbox row loaded at start may be sent: its topic is the
 * daemon's own output, or a reply topic the rules allow (an old database
 * may hold one from before they existed). 0, or -1 with why. */
int service_outbox_topic_ok(const struct service *s, const char *topic, char *why, size_t why_len);

/* service_send.c. Under mu: collects up to max sendable messages into b and
 * takes the sending turn; 0 (nothing taken) when another thread has the turn,
 * the link is not ready or nothing can go now. */
int service_collect(struct service *s, struct batch *b, size_t max, int64_t now_mono);
/* Without mu, after service_collect returned 1: sends b and gives the turn
 * back. Returns non-zero when messages are left that could go now. */
int service_send(struct service *s, struct batch *b);
/* Under mu: waits until no thread is sending (before touching what may be in a batch). */
void service_wait_send(struct service *s);
void service_batch_free(struct batch *b);
/* State tokens start here, so one token names one message in either queue. */
#define SERVICE_STATE_TOKENS (1ULL << 62)
/* Messages queued in both queues; those that could be sent now. */
size_t service_queued(const struct service *s);
int service_sendable(const struct service *s);
/* The transport's publish callback (any of Paho's threads). */
void service_on_published(void *arg, uint64_t token, int ok, int reason, const char *why);
/* Most a Paho thread sends on its way out of a callback; more is the main loop's. */
#define SERVICE_RX_BATCH_MAX 256

#endif
