/* Household states are retained messages derived from the roster, so they
 * are published from memory without an outbox row: a state change commits
 * one row, not three. What a crash can lose is a state made but not yet
 * confirmed by the broker. So the daemon records (meta states_confirmed_ms,
 * at most once a second) a wall time before which every state it made was
 * confirmed, and at start-up publishes again every household whose row, seal
 * or audit trail changed since then. */
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "service_impl.h"

#define MARK_EVERY_MS 1000

struct recover_ctx {
	struct service *s;
	struct sb_now now;
	size_t n;
};

static int republish_one(void *arg, const char *household_id)
{
	struct recover_ctx *c = arg;
	if (engine_republish(c->s->engine, household_id, c->now, &c->s->actions) == 0) {
		service_apply(c->s, NULL, NULL, NULL, 0);
		c->n++;
	}
	return 0;
}

static int republish_seal(void *arg, const char *device_id)
{
	struct recover_ctx *c = arg;
	if (engine_republish_seal(c->s->engine, device_id, c->now, &c->s->actions) == 0) {
		service_apply(c->s, NULL, NULL, NULL, 0);
		c->n++;
	}
	return 0;
}

void service_recover_states(struct service *s, struct sb_now now)
{
	int64_t mark;
	if (store_states_confirmed(s->store, &mark) < 0) {
		log_error("store: %s; household states changed before a crash are not published again",
			  store_errmsg(s->store));
		return;
	}
	s->states_saved_ms = mark;
	if (mark < 0)
		return; /* never recorded: a new database, or one from before states left the outbox */
	/* The states made now carry the old mark until confirmed: a second crash
	 * before that publishes them again too. */
	s->recover_since = mark > 0 ? mark : 1;
	struct recover_ctx c = {s, now, 0};
	if (store_changed_since(s->store, mark, republish_one, &c) < 0)
		log_error("store: %s; some household states are not published again", store_errmsg(s->store));
	size_t households = c.n;
	c.n = 0;
	/* Seal states ride the same queue and mark (engine_custody.c). */
	if (store_seals_changed_since(s->store, mark, republish_seal, &c) < 0)
		log_error("store: %s; some seal states are not published again", store_errmsg(s->store));
	s->recover_since = 0;
	if (households)
		log_info("publishing %zu household states again: changed since the last confirmed one", households);
	if (c.n)
		log_info("publishing %zu seal states again: changed since the last confirmed one", c.n);
}

void service_mark_states(struct service *s, struct sb_now now, int force)
{
	if (!force && now.mono_ms < s->states_next_mono)
		return;
	s->states_next_mono = now.mono_ms + MARK_EVERY_MS;
	/* Scans the queue: it is as long as what is in flight, and once a second. */
	/* Nothing made since the last write, and nothing waiting: the mark may stay
	 * where it is (an idle daemon writes nothing). */
	if (!s->stateq.n && s->stateq.latest_pushes == s->states_pushes && s->states_saved_ms >= 0)
		return;
	int64_t oldest = outq_oldest_derived(&s->stateq);
	int64_t mark = oldest < now.wall_ms ? oldest : now.wall_ms;
	if (mark == s->states_saved_ms || s->store_fault)
		return;
	uint64_t pushes = s->stateq.latest_pushes;
	if (store_begin(s->store) == 0 && store_set_states_confirmed(s->store, mark) == 0 &&
	    store_commit(s->store) == 0) {
		s->states_saved_ms = mark;
		s->states_pushes = pushes;
		return;
	}
	store_rollback(s->store);
	log_warn("store: %s; the confirmed household states mark is written later", store_errmsg(s->store));
}
