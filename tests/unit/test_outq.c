/* The outgoing queue: order, in-flight window, PUBACK bookkeeping, refusals
 * and reconnects, as the daemon's publishing relies on them. */
#include <stdint.h>

#include "check.h"
#include "outq.h"

static char sent_topics[64][16];
static size_t nsent;
static int refuse_sends;

static int fake_send(void *arg, struct outmsg *m)
{
	(void)arg;
	if (refuse_sends)
		return -1;
	CHECK(nsent < 64);
	snprintf(sent_topics[nsent++], sizeof(sent_topics[0]), "%s", m->topic);
	return 0;
}

static void push(struct outq *q, const char *topic, int is_volatile)
{
	CHECK(outq_push(q, 7, is_volatile, topic, "{}", 2, 1, 0, NULL, 0) == 0);
}

static struct outmsg *by_topic(struct outq *q, const char *topic)
{
	for (struct outmsg *m = q->head; m; m = m->next)
		if (strcmp(m->topic, topic) == 0)
			return m;
	return NULL;
}

static void test_order_and_window(void)
{
	struct outq q;
	outq_init(&q);
	nsent = 0;
	push(&q, "a", 0);
	push(&q, "b", 0);
	push(&q, "c", 0);
	CHECK(outq_pump(&q, 2, 0, fake_send, NULL) == 2);
	CHECK_STR(sent_topics[0], "a");
	CHECK_STR(sent_topics[1], "b");
	CHECK(q.inflight == 2);
	/* the window is full: nothing more until a PUBACK */
	CHECK(outq_pump(&q, 2, 0, fake_send, NULL) == 0);
	struct outmsg *a = by_topic(&q, "a");
	CHECK(outq_find(&q, a->token) == a);
	outq_remove(&q, a);
	CHECK(outq_pump(&q, 2, 0, fake_send, NULL) == 1);
	CHECK_STR(sent_topics[2], "c");
	/* a later message is sent after the cursor moved past the in-flight ones */
	push(&q, "d", 0);
	CHECK(outq_pump(&q, 3, 0, fake_send, NULL) == 1);
	CHECK_STR(sent_topics[3], "d");
	CHECK(q.n == 3 && q.inflight == 3);
	outq_free(&q);
}

static void test_stale_token_is_unknown(void)
{
	struct outq q;
	outq_init(&q);
	nsent = 0;
	push(&q, "a", 0);
	outq_pump(&q, 10, 0, fake_send, NULL);
	uint64_t first = q.head->token;
	outq_disconnected(&q);
	/* after a reconnect the same message goes again under a new token */
	CHECK(outq_pump(&q, 10, 0, fake_send, NULL) == 1);
	CHECK(nsent == 2);
	CHECK(outq_find(&q, first) == NULL);
	CHECK(outq_find(&q, q.head->token) == q.head);
	outq_free(&q);
}

static void test_refused_waits_and_retries(void)
{
	struct outq q;
	outq_init(&q);
	nsent = 0;
	push(&q, "a", 0);
	push(&q, "b", 0);
	outq_pump(&q, 10, 100, fake_send, NULL);
	struct outmsg *a = by_topic(&q, "a");
	outq_retry(&q, a, 5100);
	CHECK(outq_next_retry(&q, 100) == 5100);
	CHECK(outq_pump(&q, 10, 5099, fake_send, NULL) == 0);
	CHECK(outq_pump(&q, 10, 5100, fake_send, NULL) == 1);
	CHECK_STR(sent_topics[2], "a");
	CHECK(a->refusals == 1);
	CHECK(outq_next_retry(&q, 5100) == INT64_MAX);
	outq_free(&q);
}

/* A refused message waits without holding back the ones behind it, and a
 * pump before it is due starts at the cursor, not at the head. */
static void test_waiting_message_holds_back_nothing(void)
{
	struct outq q;
	outq_init(&q);
	nsent = 0;
	push(&q, "a", 0);
	push(&q, "b", 0);
	CHECK(outq_pump(&q, 1, 100, fake_send, NULL) == 1);
	struct outmsg *a = by_topic(&q, "a");
	outq_retry(&q, a, 1000);
	CHECK(q.inflight == 0 && q.waiting == 1);
	/* b goes while a waits */
	CHECK(outq_pump(&q, 1, 200, fake_send, NULL) == 1);
	CHECK_STR(sent_topics[1], "b");
	/* the cursor is past both: a pump before a is due walks nothing */
	CHECK(q.cursor == NULL);
	push(&q, "c", 0);
	outq_remove(&q, by_topic(&q, "b"));
	CHECK(outq_pump(&q, 5, 999, fake_send, NULL) == 1);
	CHECK_STR(sent_topics[2], "c");
	CHECK(outq_next_retry(&q, 999) == 1000);
	/* due at 1000 exactly, not at 999 */
	CHECK(outq_pump(&q, 5, 1000, fake_send, NULL) == 1);
	CHECK_STR(sent_topics[3], "a");
	CHECK(q.waiting == 0 && q.inflight == 2);
	CHECK(outq_next_retry(&q, 1000) == INT64_MAX);
	outq_free(&q);
}

/* A lost connection leaves nothing counted in flight, however the messages
 * were reported (a token never answered must not shrink the window for good). */
static void test_disconnect_resets_the_window(void)
{
	struct outq q;
	outq_init(&q);
	nsent = 0;
	push(&q, "a", 0);
	push(&q, "b", 1);
	CHECK(outq_pump(&q, 10, 100, fake_send, NULL) == 2);
	CHECK(q.inflight == 2);
	uint64_t tok = by_topic(&q, "a")->token;
	outq_disconnected(&q);
	CHECK(q.inflight == 0 && q.n == 1);
	CHECK(outq_find(&q, tok) == NULL); /* a late answer for the old connection finds nothing */
	outq_disconnected(&q);
	CHECK(q.inflight == 0);
	CHECK(outq_pump(&q, 10, 100, fake_send, NULL) == 1);
	CHECK(q.inflight == 1);
	outq_free(&q);
}

static void test_disconnect_drops_volatile_keeps_durable(void)
{
	struct outq q;
	outq_init(&q);
	nsent = 0;
	push(&q, "stats", 1);
	push(&q, "alert", 0);
	outq_pump(&q, 10, 0, fake_send, NULL);
	outq_disconnected(&q);
	CHECK(q.n == 1 && q.inflight == 0);
	CHECK_STR(q.head->topic, "alert");
	outq_free(&q);
}

static void test_transport_refusing_keeps_order(void)
{
	struct outq q;
	outq_init(&q);
	nsent = 0;
	push(&q, "a", 0);
	push(&q, "b", 0);
	refuse_sends = 1;
	CHECK(outq_pump(&q, 10, 0, fake_send, NULL) == 0);
	CHECK(q.inflight == 0);
	refuse_sends = 0;
	CHECK(outq_pump(&q, 10, 0, fake_send, NULL) == 2);
	CHECK_STR(sent_topics[0], "a");
	CHECK_STR(sent_topics[1], "b");
	/* unsend puts one back in front of the cursor */
	outq_unsend(&q, by_topic(&q, "a"));
	CHECK(outq_pump(&q, 10, 0, fake_send, NULL) == 1);
	CHECK_STR(sent_topics[2], "a");
	outq_free(&q);
}

/* Household states: only the last one counts, so a newer one takes the place
 * of one not yet sent; one in flight is never touched. */
static void test_latest_state_replaces_unsent(void)
{
	struct outq q;
	outq_init(&q);
	nsent = 0;
	CHECK(outq_push_latest(&q, 100, "st/h1", "v1", 2, 1) == 0);
	CHECK(outq_push_latest(&q, 200, "st/h2", "w1", 2, 1) == 0);
	CHECK(outq_push_latest(&q, 300, "st/h1", "v2", 2, 1) == 0);
	CHECK(q.n == 2 && q.coalesced == 1);
	struct outmsg *h1 = by_topic(&q, "st/h1");
	CHECK(h1 == q.head && strcmp(h1->payload, "v2") == 0); /* in the first one's place */
	CHECK(h1->since_ms == 100 && h1->derived && h1->retained);
	CHECK(outq_oldest_derived(&q) == 100);

	CHECK(outq_pump(&q, 1, 0, fake_send, NULL) == 1); /* h1 goes out */
	CHECK(outq_push_latest(&q, 400, "st/h1", "v3", 2, 1) == 0);
	CHECK(q.n == 3 && strcmp(h1->payload, "v2") == 0); /* the one in flight keeps its payload */
	CHECK(outq_push_latest(&q, 500, "st/h1", "v4", 2, 1) == 0);
	CHECK(q.n == 3 && strcmp(q.tail->payload, "v4") == 0 && q.tail->since_ms == 400);
	outq_remove(&q, h1); /* its PUBACK */
	CHECK(outq_pump(&q, 10, 0, fake_send, NULL) == 2);
	CHECK(nsent == 3 && strcmp(sent_topics[1], "st/h2") == 0 && strcmp(sent_topics[2], "st/h1") == 0);
	CHECK(outq_oldest_derived(&q) == 200);
	while (q.head)
		outq_remove(&q, q.head);
	CHECK(outq_oldest_derived(&q) == INT64_MAX);
	/* Gone from the index with the message: the next one is a new message. */
	CHECK(outq_push_latest(&q, 600, "st/h1", "v5", 2, 1) == 0 && q.n == 1);
	outq_free(&q);
}

int main(void)
{
	RUN(test_order_and_window);
	RUN(test_stale_token_is_unknown);
	RUN(test_refused_waits_and_retries);
	RUN(test_waiting_message_holds_back_nothing);
	RUN(test_disconnect_resets_the_window);
	RUN(test_disconnect_drops_volatile_keeps_durable);
	RUN(test_transport_refusing_keeps_order);
	RUN(test_latest_state_replaces_unsent);
	DONE();
}
