#include "timerq.h"

#include <stdlib.h>

#include "model.h"

void timerq_init(struct timerq *q)
{
	q->heap = NULL;
	q->n = q->cap = 0;
}

void timerq_free(struct timerq *q)
{
	for (size_t i = 0; i < q->n; i++)
		q->heap[i]->idx = TIMER_IDLE;
	free(q->heap);
	timerq_init(q);
}

static void place(struct timerq *q, size_t i, struct sb_timer *t)
{
	q->heap[i] = t;
	t->idx = (uint32_t)i;
}

static void sift_up(struct timerq *q, size_t i)
{
	struct sb_timer *t = q->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (q->heap[p]->when <= t->when)
			break;
		place(q, i, q->heap[p]);
		i = p;
	}
	place(q, i, t);
}

static void sift_down(struct timerq *q, size_t i)
{
	struct sb_timer *t = q->heap[i];
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		int64_t best = t->when;
		if (l < q->n && q->heap[l]->when < best) {
			m = l;
			best = q->heap[l]->when;
		}
		if (l + 1 < q->n && q->heap[l + 1]->when < best)
			m = l + 1;
		if (m == i)
			break;
		place(q, i, q->heap[m]);
		i = m;
	}
	place(q, i, t);
}

int timerq_set(struct timerq *q, struct sb_timer *t, int64_t when)
{
	if (t->idx != TIMER_IDLE) {
		int64_t old = t->when;
		t->when = when;
		if (when < old)
			sift_up(q, t->idx);
		else
			sift_down(q, t->idx);
		return 0;
	}
	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 64;
		if (ncap >= TIMER_IDLE)
			return -1;
		struct sb_timer **nh = realloc(q->heap, ncap * sizeof(*nh));
		if (!nh)
			return -1;
		q->heap = nh;
		q->cap = ncap;
	}
	t->when = when;
	place(q, q->n++, t);
	sift_up(q, q->n - 1);
	return 0;
}

void timerq_cancel(struct timerq *q, struct sb_timer *t)
{
	if (t->idx == TIMER_IDLE)
		return;
	size_t i = t->idx;
	t->idx = TIMER_IDLE;
	struct sb_timer *last = q->heap[--q->n];
	if (i == q->n)
		return;
	place(q, i, last);
	sift_up(q, i);
	sift_down(q, last->idx);
}

struct sb_timer *timerq_peek(const struct timerq *q)
{
	return q->n ? q->heap[0] : NULL;
}

struct sb_timer *timerq_pop_due(struct timerq *q, int64_t now)
{
	if (!q->n || q->heap[0]->when > now)
		return NULL;
	struct sb_timer *t = q->heap[0];
	timerq_cancel(q, t);
	return t;
}
