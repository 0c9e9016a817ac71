/* Min-heap of deadlines on the monotonic clock. Timers are embedded in the
 * objects they belong to; each knows its heap slot, so rescheduling and
 * cancelling are O(log n) and a freed object can take its timer out first. */
#ifndef SB_TIMERQ_H
#define SB_TIMERQ_H

#include <stddef.h>
#include <stdint.h>

#define TIMER_IDLE UINT32_MAX

struct timerq {
	struct sb_timer **heap;
	size_t n, cap;
};

struct sb_timer;

void timerq_init(struct timerq *q);
void timerq_free(struct timerq *q);
/* Queues t at `when`, or moves it there if already queued. 0, or -1 on OOM. */
int timerq_set(struct timerq *q, struct sb_timer *t, int64_t when);
void timerq_cancel(struct timerq *q, struct sb_timer *t);
/* The earliest timer, or NULL. */
struct sb_timer *timerq_peek(const struct timerq *q);
/* Removes and returns the earliest timer due at or before now, or NULL. */
struct sb_timer *timerq_pop_due(struct timerq *q, int64_t now);

#endif
