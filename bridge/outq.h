/* In-memory queue of outgoing messages, in the order they were made. It
 * mirrors the store's outbox (id > 0) and also carries messages that need no
 * durability (volatile: stats, rejected events, status) or that could not be
 * stored (disk full: id == 0 but not volatile). A message leaves the queue
 * only on a successful PUBACK. */
#ifndef SB_OUTQ_H
#define SB_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include "hashmap.h"

struct outmsg {
	struct outmsg *next, *prev;
	int64_t id;        /* outbox row, 0 when not stored */
	int is_volatile;   /* dropped rather than kept while disconnected */
	int derived;       /* a household state: kept, never stored; made again from the roster after a crash */
	int64_t since_ms;  /* derived: wall time of the change it carries */
	uint64_t token;    /* of the current send attempt; 0 when not in flight */
	char tokkey[24];
	char *topic;
	char *payload;
	size_t len;
	void *corr;
	size_t corr_len;
	int qos, retained;
	int64_t retry_mono; /* not before this (after a refusal) */
	int refusals;
};

/* A message the broker refuses is sent again at most this many times (the
 * interface's bound), then dropped. */
#define OUTQ_MAX_RETRIES 10

struct outq {
	struct outmsg *head, *tail;
	/* Every message before cursor is in flight or waiting for its retry:
	 * pumping starts there, so a long queue costs nothing per pass. Reset
	 * to head when one goes back. */
	struct outmsg *cursor;
	size_t n, inflight;
	size_t peak; /* most messages queued at once since the owner last reset it */
	size_t waiting; /* messages held back until their retry_mono */
	int64_t next_due; /* no waiting message is due before this (INT64_MAX: none) */
	struct hashmap by_token;
	struct hashmap latest; /* topic -> its derived message not yet in flight */
	size_t coalesced;      /* derived messages replaced by a newer one before they went out */
	uint64_t latest_pushes; /* outq_push_latest calls so far */
	uint64_t next_token;
};

void outq_init(struct outq *q);
void outq_free(struct outq *q);
/* Copies everything. 0, or -1 on OOM. */
int outq_push(struct outq *q, int64_t id, int is_volatile, const char *topic, const void *payload, size_t len,
	      int qos, int retained, const void *corr, size_t corr_len);
/* Queues a derived message (a household state: retained, only the last one
 * counts). A newer one for the same topic replaces one that has not gone out
 * yet, in its place; one in flight stays and the newer one queues behind it.
 * 0, or -1 on OOM. */
int outq_push_latest(struct outq *q, int64_t since_ms, const char *topic, const void *payload, size_t len,
		     int retained);
/* The since_ms of the oldest derived message, or INT64_MAX when there is none. */
int64_t outq_oldest_derived(const struct outq *q);
/* Sends pending messages in order while fewer than max_inflight are in flight.
 * send returns 0 when the message was handed to the transport. Returns how many were sent. */
typedef int (*outq_send_fn)(void *arg, struct outmsg *m);
size_t outq_pump(struct outq *q, size_t max_inflight, int64_t now_mono, outq_send_fn send, void *arg);
/* The in-flight message of that send attempt, or NULL (stale or unknown token). It stays queued. */
struct outmsg *outq_find(struct outq *q, uint64_t token);
/* A send attempt ended without success: the message waits until retry_mono
 * while the others go on past it. */
void outq_retry(struct outq *q, struct outmsg *m, int64_t retry_mono);
void outq_remove(struct outq *q, struct outmsg *m);
/* The send attempt never reached the transport: pending again at once. */
void outq_unsend(struct outq *q, struct outmsg *m);
/* The connection is gone: every in-flight message is pending again; volatile ones are dropped. */
void outq_disconnected(struct outq *q);
/* When the next waiting message comes due, if after now_mono; else INT64_MAX. */
int64_t outq_next_retry(const struct outq *q, int64_t now_mono);

#endif
