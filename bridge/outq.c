#include "outq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void outq_init(struct outq *q)
{
	memset(q, 0, sizeof(*q));
	hashmap_init(&q->by_token);
	hashmap_init(&q->latest);
	q->next_token = 1;
	q->next_due = INT64_MAX;
}

static void free_msg(struct outmsg *m)
{
	free(m->topic);
	free(m->payload);
	free(m->corr);
	free(m);
}

void outq_free(struct outq *q)
{
	struct outmsg *m = q->head;
	while (m) {
		struct outmsg *n = m->next;
		free_msg(m);
		m = n;
	}
	hashmap_free(&q->by_token);
	hashmap_free(&q->latest);
	memset(q, 0, sizeof(*q));
	q->next_due = INT64_MAX;
}

int outq_push(struct outq *q, int64_t id, int is_volatile, const char *topic, const void *payload, size_t len,
	      int qos, int retained, const void *corr, size_t corr_len)
{
	struct outmsg *m = calloc(1, sizeof(*m));
	if (!m)
		return -1;
	size_t tl = strlen(topic) + 1;
	m->topic = malloc(tl);
	m->payload = malloc(len + 1);
	if (corr_len)
		m->corr = malloc(corr_len);
	if (!m->topic || !m->payload || (corr_len && !m->corr)) {
		free_msg(m);
		return -1;
	}
	memcpy(m->topic, topic, tl);
	if (len)
		memcpy(m->payload, payload, len);
	m->payload[len] = '\0';
	m->len = len;
	if (corr_len)
		memcpy(m->corr, corr, corr_len);
	m->corr_len = corr_len;
	m->id = id;
	m->is_volatile = is_volatile;
	m->qos = qos;
	m->retained = retained;
	m->prev = q->tail;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->n++;
	if (q->n > q->peak)
		q->peak = q->n;
	if (!q->cursor)
		q->cursor = m;
	return 0;
}

/* A derived message in flight, or gone, can no longer take a newer payload. */
static void unindex(struct outq *q, struct outmsg *m)
{
	if (m->derived && hashmap_get(&q->latest, m->topic) == m)
		hashmap_del(&q->latest, m->topic);
}

static void untrack(struct outq *q, struct outmsg *m)
{
	if (!m->token)
		return;
	hashmap_del(&q->by_token, m->tokkey);
	m->token = 0;
	if (q->inflight)
		q->inflight--;
}

/* m is pending again, somewhere before the cursor. */
static void requeue(struct outq *q, struct outmsg *m)
{
	untrack(q, m);
	q->cursor = q->head;
}

int outq_push_latest(struct outq *q, int64_t since_ms, const char *topic, const void *payload, size_t len,
		     int retained)
{
	q->latest_pushes++;
	struct outmsg *m = hashmap_get(&q->latest, topic);
	if (m && !m->token) {
		char *p = malloc(len + 1);
		if (!p)
			return -1;
		if (len)
			memcpy(p, payload, len);
		p[len] = '\0';
		free(m->payload);
		m->payload = p;
		m->len = len;
		m->retained = retained;
		/* It now carries both changes: the older one decides the confirmed mark. */
		if (since_ms < m->since_ms)
			m->since_ms = since_ms;
		q->coalesced++;
		return 0;
	}
	if (outq_push(q, 0, 0, topic, payload, len, 1, retained, NULL, 0) < 0)
		return -1;
	m = q->tail;
	m->derived = 1;
	m->since_ms = since_ms;
	/* Not indexed (no memory): it simply goes out as it is, and so does a newer one. */
	(void)hashmap_put(&q->latest, m->topic, m);
	return 0;
}

int64_t outq_oldest_derived(const struct outq *q)
{
	int64_t oldest = INT64_MAX;
	for (const struct outmsg *m = q->head; m; m = m->next)
		if (m->derived && m->since_ms < oldest)
			oldest = m->since_ms;
	return oldest;
}

static void recompute_due(struct outq *q)
{
	int64_t next = INT64_MAX;
	if (q->waiting)
		for (const struct outmsg *m = q->head; m; m = m->next)
			if (m->retry_mono && m->retry_mono < next)
				next = m->retry_mono;
	q->next_due = next;
}

size_t outq_pump(struct outq *q, size_t max_inflight, int64_t now_mono, outq_send_fn send, void *arg)
{
	size_t sent = 0;
	/* Waiting messages lie anywhere before the cursor; the queue is walked
	 * from the head only when one has come due, not on every PUBACK. */
	int scan = q->waiting && now_mono >= q->next_due;
	struct outmsg *m = scan ? q->head : q->cursor;
	for (; m && q->inflight < max_inflight; m = m->next) {
		if (m->token || m->retry_mono > now_mono)
			continue;
		if (m->retry_mono) {
			m->retry_mono = 0;
			q->waiting--;
		}
		unindex(q, m);
		m->token = q->next_token++;
		snprintf(m->tokkey, sizeof(m->tokkey), "%llu", (unsigned long long)m->token);
		if (hashmap_put(&q->by_token, m->tokkey, m) < 0) {
			m->token = 0;
			break;
		}
		q->inflight++;
		if (send(arg, m) != 0) {
			requeue(q, m);
			break; /* the transport is not taking messages now; keep the order */
		}
		sent++;
	}
	if (scan)
		recompute_due(q);
	/* Skip past the leading run of in-flight and waiting messages for the next pass. */
	struct outmsg *c = scan ? q->head : q->cursor;
	while (c && (c->token || c->retry_mono))
		c = c->next;
	q->cursor = c;
	return sent;
}

struct outmsg *outq_find(struct outq *q, uint64_t token)
{
	char key[24];
	snprintf(key, sizeof(key), "%llu", (unsigned long long)token);
	return hashmap_get(&q->by_token, key);
}

void outq_retry(struct outq *q, struct outmsg *m, int64_t retry_mono)
{
	/* Waiting is allowed before the cursor: the others go on past it. */
	untrack(q, m);
	if (!m->retry_mono)
		q->waiting++;
	m->retry_mono = retry_mono > 0 ? retry_mono : 1;
	if (m->retry_mono < q->next_due)
		q->next_due = m->retry_mono;
	m->refusals++;
}

void outq_unsend(struct outq *q, struct outmsg *m)
{
	requeue(q, m);
}

void outq_remove(struct outq *q, struct outmsg *m)
{
	untrack(q, m);
	unindex(q, m);
	if (m->retry_mono && q->waiting)
		q->waiting--;
	if (q->cursor == m)
		q->cursor = m->next;
	if (m->prev)
		m->prev->next = m->next;
	else
		q->head = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else
		q->tail = m->prev;
	q->n--;
	free_msg(m);
}

void outq_disconnected(struct outq *q)
{
	struct outmsg *m = q->head;
	q->cursor = q->head;
	while (m) {
		struct outmsg *n = m->next;
		untrack(q, m);
		if (m->is_volatile)
			outq_remove(q, m);
		m = n;
	}
	/* Nothing is in flight on a connection that is gone, whatever was missed. */
	q->inflight = 0;
	hashmap_free(&q->by_token);
	hashmap_init(&q->by_token);
}

int64_t outq_next_retry(const struct outq *q, int64_t now_mono)
{
	return q->waiting && q->next_due > now_mono ? q->next_due : INT64_MAX;
}
