/* Service internals shared by service*.c. */
#ifndef SB_SERVICE_IMPL_H
#define SB_SERVICE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "config.h"
#include "engine.h"
#include "outq.h"
#include "service.h"
#include "store.h"
#include "store_ckpt.h"
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
	int ever_ready, offline_sent;
	uint64_t status_token;
	char store_error[200], publish_error[200], status_sent[200];
	char ckpt_error[200]; /* the checkpointer's fault, copied every pass */
	int status_ever_sent;
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
	/* Group commit (service_input.c): commands whose transaction is still
	 * open; their messages wait in grp_out until it is committed. Under mu. */
	int grp_open;
	size_t grp_n;
	struct outgoing *grp_out;
	size_t grp_nout, grp_capout;
	struct actions grp_acts; /* their saves, for s->unsaved if the commit fails */
	char topic_prefix_dev[CONFIG_STR_MAX + 8], topic_prefix_cmd[CONFIG_STR_MAX + 8];
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
/* Retries the saves and outbox rows that could not be written. Caller holds mu. */
void service_store_retry(struct service *s);
const char *service_status_error(const struct service *s);
/* Household states since the last confirmed mark, published again after a crash. Caller holds mu. */
void service_recover_states(struct service *s, struct sb_now now);
/* Writes the confirmed mark when it moved (every second at most, and at stop). Caller holds mu. */
void service_mark_states(struct service *s, struct sb_now now, int force);

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
