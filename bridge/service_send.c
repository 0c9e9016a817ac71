/* Publishing from the queue. Either thread may send: the transport's receive
 * thread sends what an input caused before it returns (Paho runs callbacks on
 * its own thread and lets that thread publish without its lock, so this saves
 * a hand-over to the main loop and the main loop's wait for Paho's lock while
 * a callback commits), and the main loop sends everything else (deadlines,
 * retries, what the receive thread left). Whoever collects a batch holds the
 * turn until it is out, so two batches never interleave on the wire. Nobody
 * waits for the turn while Paho's lock may be held: the receive thread skips
 * its turn when the main loop has it and leaves its messages to it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "service_impl.h"

/* Retries of a refused message: 250 ms, doubling, at most 2 s apart; with
 * OUTQ_MAX_RETRIES that is about 16 s from the first refusal to the drop. */
#define REFUSED_RETRY_FIRST_MS 250
#define REFUSED_RETRY_MAX_MS 2000
#define DONE_BATCH 512

struct collect_ctx {
	struct batch *b;
	size_t max;
};

static int collect_one(void *arg, struct outmsg *m)
{
	struct collect_ctx *c = arg;
	struct batch *b = c->b;
	if (b->n >= c->max)
		return -1; /* the rest stays pending, in order */
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		struct outmsg **nv = realloc(b->v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		b->v = nv;
		b->cap = ncap;
	}
	b->v[b->n++] = m;
	return 0;
}

/* Household states have a window of their own, well inside the broker's.
 * Measured: with up to 32 states in flight, a flood of state changes costs
 * about a third less CPU each than with 1000 (publishes go out in batches,
 * behind PUBACKs, instead of one by one); alerts keep the whole window, so
 * a burst of them is not held to 32 round trips. */
#define STATE_WINDOW 32

size_t service_queued(const struct service *s)
{
	return s->outq.n + s->stateq.n;
}

static int sendable_q(const struct outq *q)
{
	return q->n > q->inflight + q->waiting;
}

int service_sendable(const struct service *s)
{
	size_t inflight = s->outq.inflight + s->stateq.inflight;
	return inflight < s->inflight_cap &&
	       (sendable_q(&s->outq) || (sendable_q(&s->stateq) && s->stateq.inflight < STATE_WINDOW));
}

int service_collect(struct service *s, struct batch *b, size_t max, int64_t now_mono)
{
	if (s->sending || s->conn != CONN_READY)
		return 0; /* b may be the turn holder's */
	b->n = 0;
	/* While the receive thread is in a callback it holds Paho's lock: the main
	 * loop would wait for it at every message, so the receive thread takes
	 * the main loop's messages along on its way out. */
	if (b == &s->main_batch && s->rx_active)
		return 0;
	struct collect_ctx c = {b, max};
	/* Alerts and replies first; the window is shared with the states in flight. */
	size_t cap = s->inflight_cap;
	if (cap > s->stateq.inflight)
		outq_pump(&s->outq, cap - s->stateq.inflight, now_mono, collect_one, &c);
	size_t scap = cap > s->outq.inflight ? cap - s->outq.inflight : 0;
	if (scap > STATE_WINDOW)
		scap = STATE_WINDOW;
	outq_pump(&s->stateq, scap, now_mono, collect_one, &c);
	if (!b->n)
		return 0;
	s->sending = 1;
	return 1;
}

static void drop_unsendable(struct service *s, struct outq *q, struct outmsg *m, const char *why,
			    struct sb_now now);

int service_send(struct service *s, struct batch *b)
{
	size_t i = 0;
	int bad = 0;
	/* The collected messages stay valid: only the main loop removes messages,
	 * and it waits for the turn (service_wait_send) before it removes any that
	 * may not be out yet. Their fields do not change once queued. A message
	 * handed to the transport is the transport's to report on from then on
	 * (even when the link goes during the call): we never touch it again. */
	for (; i < b->n; i++) {
		struct outmsg *m = b->v[i];
		int rc = transport_publish(s->transport, m->topic, m->payload, m->len, m->qos, m->retained, m->corr,
					   m->corr_len, m->token);
		if (rc == -EBADMSG || rc == -EMSGSIZE) {
			bad = rc;
			break;
		}
		if (rc != 0)
			break;
	}
	pthread_mutex_lock(&s->mu);
	if (bad) {
		/* A message that can never be sent (e.g. an empty topic from an old
		 * outbox) must not hold back every later one. */
		struct outmsg *m = b->v[i++];
		drop_unsendable(s, m->derived ? &s->stateq : &s->outq, m,
				bad == -EMSGSIZE ? "larger than the broker's maximum packet size"
						 : "not a valid topic or message for MQTT",
				clock_now());
	}
	/* The transport is not taking messages now: the rest go again later, in
	 * order, each in its own queue (a batch holds both kinds). */
	for (; i < b->n; i++)
		outq_unsend(b->v[i]->derived ? &s->stateq : &s->outq, b->v[i]);
	b->n = 0;
	s->sending = 0;
	pthread_cond_broadcast(&s->sent);
	int more = s->conn == CONN_READY && service_sendable(s);
	pthread_mutex_unlock(&s->mu);
	return more;
}

void service_wait_send(struct service *s)
{
	while (s->sending)
		pthread_cond_wait(&s->sent, &s->mu);
}

void service_batch_free(struct batch *b)
{
	free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
}

void service_row_done(struct service *s, int64_t id)
{
	if (id <= 0)
		return;
	if (s->ndone == s->capdone) {
		size_t ncap = s->capdone ? s->capdone * 2 : 256;
		int64_t *nd = realloc(s->done_ids, ncap * sizeof(*nd));
		if (nd) {
			s->done_ids = nd;
			s->capdone = ncap;
		}
	}
	/* Without room the row stays, and is sent once more after a restart. */
	if (s->ndone < s->capdone)
		s->done_ids[s->ndone++] = id;
}

/* The message leaves the queue and its outbox row for good, said in the log
 * and (for all but the daemon's own volatile chatter) in a rejected event. */
static void drop_unsendable(struct service *s, struct outq *q, struct outmsg *m, const char *why,
			    struct sb_now now)
{
	char detail[200];
	if (m->refusals)
		snprintf(detail, sizeof(detail), "not published, dropped after %d retries: %s", m->refusals, why);
	else
		snprintf(detail, sizeof(detail), "not published, dropped: %s", why);
	log_error("message to %s %s", m->topic, detail);
	service_row_done(s, m->id);
	char topic[CONFIG_STR_MAX + 32];
	snprintf(topic, sizeof(topic), "%s/bridge/rejected", s->cfg.mqtt.topic_root);
	int own = strcmp(m->topic, topic) == 0;
	char *t = own ? NULL : strdup(m->topic);
	outq_remove(q, m);
	s->publish_error[0] = '\0';
	if (t)
		service_reject(s, t, "publish_refused", detail, now.wall_ms);
	free(t);
}

static void confirmed(struct service *s, struct outq *q, struct outmsg *m)
{
	if (m->refusals) {
		log_info("%s accepted after %d refusals", m->topic, m->refusals);
		s->publish_error[0] = '\0';
	}
	service_row_done(s, m->id);
	outq_remove(q, m);
}

static void not_confirmed(struct service *s, struct outq *q, struct outmsg *m, int reason, const char *why,
			  struct sb_now now)
{
	if (reason < 0x80 || reason > 0xff) {
		/* Not the broker's answer: the link went before a PUBACK. It goes
		 * again, in order, as soon as we are back online. */
		log_debug("%s not confirmed (%s); sending again after reconnect", m->topic, why);
		if (m->is_volatile)
			outq_remove(q, m);
		else
			outq_unsend(q, m);
		return;
	}
	/* Refused (ACL, quota): retry a bounded number of times, say so where
	 * operators look, and never let it hold back the others. */
	if (m->is_volatile) {
		/* Statistics, status and rejections are not kept; one for a
		 * refused rejection would only be refused again. */
		if (now.mono_ms - s->last_refusal_log_mono > 5000) {
			log_error("broker refused %s (reason 0x%02x %s); not kept", m->topic, (unsigned)reason, why);
			s->last_refusal_log_mono = now.mono_ms;
		}
		outq_remove(q, m);
		return;
	}
	if (m->refusals >= OUTQ_MAX_RETRIES) {
		char w[160];
		snprintf(w, sizeof(w), "the broker refused it (reason 0x%02x %s)", (unsigned)reason, why);
		drop_unsendable(s, q, m, w, now);
		return;
	}
	if (now.mono_ms - s->last_refusal_log_mono > 5000 || m->refusals == 0) {
		log_error("broker refused %s (reason 0x%02x %s); retry %d of %d", m->topic, (unsigned)reason, why,
			  m->refusals + 1, OUTQ_MAX_RETRIES);
		s->last_refusal_log_mono = now.mono_ms;
	}
	snprintf(s->publish_error, sizeof(s->publish_error), "broker refused %.120s (0x%02x)", m->topic,
		 (unsigned)reason);
	int64_t delay = REFUSED_RETRY_FIRST_MS;
	for (int i = 0; i < m->refusals && delay < REFUSED_RETRY_MAX_MS; i++)
		delay *= 2;
	if (delay > REFUSED_RETRY_MAX_MS)
		delay = REFUSED_RETRY_MAX_MS;
	outq_retry(q, m, now.mono_ms + delay);
}

/* On Paho's thread, for each PUBACK (or failure): the message leaves the queue
 * at once. After a PUBACK on the receive thread, the window it frees is used
 * at once, here, rather than after a hand-over to the main loop that would
 * then wait for Paho's lock. Failures are not sent on from here: Paho reports
 * them from any of its threads, some while holding its command lock, and a
 * publish from there would wait for that lock for good (seen in the link-loss
 * tests); the main loop sends them again. */
void service_on_published(void *arg, uint64_t token, int ok, int reason, const char *why)
{
	struct service *s = arg;
	struct sb_now now = clock_now();
	pthread_mutex_lock(&s->mu);
	struct outq *q = token >= SERVICE_STATE_TOKENS ? &s->stateq : &s->outq;
	struct outmsg *m = outq_find(q, token);
	if (m) {
		if (ok)
			confirmed(s, q, m);
		else
			not_confirmed(s, q, m, reason, why ? why : "", now);
	}
	int wake = s->ndone >= DONE_BATCH || !ok;
	int here = ok && s->rx_thread_known && pthread_equal(s->rx_thread, pthread_self());
	int mine = here && service_collect(s, &s->rx_batch, SERVICE_RX_BATCH_MAX, now.mono_ms);
	if (ok && !here)
		wake = 1;
	pthread_mutex_unlock(&s->mu);
	if (mine && service_send(s, &s->rx_batch))
		wake = 1;
	if (wake)
		service_wake(s);
}
