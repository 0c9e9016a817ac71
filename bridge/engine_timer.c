/* Deadlines: seal silence, quarantine start and end, unmonitored households,
 * escalation, and the periodic statistics. Silence is armed lazily: a sign of
 * life only moves last_seen; the queued deadline is re-checked when it fires,
 * so a heartbeat costs no heap operation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

/* How soon a silence deadline waiting for word from the broker is looked at
 * again (the service probes the link when a deadline is due and it has not
 * heard the broker since; a live broker answers within milliseconds). */
#define SILENCE_RECHECK_MS 100

static int64_t silence_after(const struct engine *e, const struct device *d)
{
	return field_silence_after(e, d);
}

static void set_timer(struct engine *e, struct sb_timer *t, int64_t when)
{
	if (timerq_set(&e->timers, t, when) < 0 && e->out)
		e->out->oom = 1;
}

/* The earliest moment the seal may be called silent, on the monotonic clock. */
static int64_t silence_due(const struct engine *e, const struct device *d)
{
	int64_t base = d->last_seen_mono > e->hear_since_mono ? d->last_seen_mono : e->hear_since_mono;
	/* Behind a gateway that was offline: counted from its return. */
	if (d->gateway && d->gateway->back_mono > base)
		base = d->gateway->back_mono;
	return base + silence_after(e, d);
}

void timer_arm_silence(struct engine *e, struct device *d, struct sb_now now)
{
	if (!d->household || d->silent || !engine_household_active(d->household, now) ||
	    (d->gateway && d->gateway->offline)) {
		timerq_cancel(&e->timers, &d->silence_timer);
		return;
	}
	if (d->silence_timer.idx != TIMER_IDLE)
		return;
	int64_t due = silence_due(e, d);
	if (!e->connected && due < now.mono_ms + silence_after(e, d))
		due = now.mono_ms + silence_after(e, d);
	set_timer(e, &d->silence_timer, due);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* A household has one timer, for the earliest of its wall-clock deadlines:
 * its start (while it waits for it), its end, and the moment it counts as
 * unmonitored. When the timer fires, each is checked against the wall clock
 * and the timer is set again for what remains (one timer, not three: memory
 * at a million households). */
void timer_arm_household(struct engine *e, struct household *h, struct sb_now now)
{
	h->flags &= (uint16_t)~HF_START_PENDING;
	if (h->released) {
		timerq_cancel(&e->timers, &h->timer);
		return;
	}
	int64_t when = h->end_ms;
	if (now.wall_ms < h->start_ms) {
		h->flags |= HF_START_PENDING;
		when = min64(when, h->start_ms);
	}
	if (engine_household_active(h, now) && !h->device) {
		if (!h->unfitted_since_ms) {
			h->unfitted_since_ms = now.wall_ms;
			if (e->out)
				engine_touch_household(e, h, HF_SAVE);
		}
		if (!sb_household_alert(h, SB_ALERT_UNMONITORED))
			when = min64(when, h->unfitted_since_ms + e->set.unmonitored_after_ms);
	}
	set_timer(e, &h->timer, engine_wall_to_mono(now, when));
}

static void fire_household(struct engine *e, struct household *h, struct sb_now now)
{
	if (h->released)
		return;
	if ((h->flags & HF_START_PENDING) && now.wall_ms >= h->start_ms) {
		h->flags &= (uint16_t)~HF_START_PENDING;
		household_activate(e, h, 1, now);
	}
	if (now.wall_ms >= h->end_ms) {
		household_release(e, h, "system", "quarantine ended", now);
		return;
	}
	if (engine_household_active(h, now) && !h->device && h->unfitted_since_ms &&
	    now.wall_ms >= h->unfitted_since_ms + e->set.unmonitored_after_ms &&
	    !sb_household_alert(h, SB_ALERT_UNMONITORED))
		alert_raise(e, h, SB_ALERT_UNMONITORED, NULL, h->unfitted_since_ms, now);
	/* What is left, or a deadline the wall clock says is not there yet (it was stepped). */
	timer_arm_household(e, h, now);
}

static void fire_silence(struct engine *e, struct device *d, struct sb_now now)
{
	struct household *h = d->household;
	if (!h || d->silent || !engine_household_active(h, now) || (d->gateway && d->gateway->offline))
		return;
	if (!e->connected) {
		set_timer(e, &d->silence_timer, now.mono_ms + silence_after(e, d));
		return;
	}
	int64_t due = silence_due(e, d);
	if (due > now.mono_ms) {
		set_timer(e, &d->silence_timer, due);
		return;
	}
	/* No word from the broker since the deadline: the seal's reports may
	 * be held up on a dead link nobody has noticed yet. */
	if (e->heard_known && e->heard_mono < due) {
		set_timer(e, &d->silence_timer, now.mono_ms + SILENCE_RECHECK_MS);
		return;
	}
	d->silent = 1;
	engine_touch_device(e, d);
	int64_t since = d->heard && d->last_seen_ms ? d->last_seen_ms : d->fitted_ms;
	alert_raise(e, h, SB_ALERT_DEVICE_SILENT, d->id, since, now);
}

void timer_fire(struct engine *e, struct sb_timer *t, struct sb_now now)
{
	switch ((enum timer_kind)t->kind) {
	case TK_SILENCE:
		fire_silence(e, container_of(t, struct device, silence_timer), now);
		break;
	case TK_HOUSEHOLD:
		fire_household(e, container_of(t, struct household, timer), now);
		break;
	case TK_ESCALATE: {
		struct alert *a = container_of(t, struct alert, esc_timer);
		if ((a->state == SB_AST_RAISED || a->state == SB_AST_ESCALATED) && a->level < SB_LEVEL_DISTRICT &&
		    a->type != SB_ALERT_BATTERY_LOW)
			alert_set_state(e, a, SB_AST_ESCALATED, NULL, NULL, now);
		else if ((a->state == SB_AST_ACKED || a->state == SB_AST_REMINDED) && e->set.reminder_after_ms > 0)
			alert_set_state(e, a, SB_AST_REMINDED, NULL, NULL, now);
		break;
	}
	}
}

static void count_household(void *v, void *arg)
{
	(void)arg;
	const struct household *h = v;
	custody_count_household(h);
	if (h->released)
		return;
	const struct device *d = h->device;
	int open = 0;
	for (const struct alert *a = h->alerts; a; a = a->next_open)
		open++;
	for (int l = 0; l < SB_LEVEL_COUNT; l++) {
		struct unit_node *u = (struct unit_node *)h->place->unit[l];
		u->households++;
		u->open_alerts += open;
		if (!d)
			continue;
		u->fitted++;
		u->online += sb_device_online(d);
		u->silent += d->silent;
		u->doors_open += d->door == SB_DOOR_OPEN;
		u->gateway_offline += d->gateway && d->gateway->offline;
	}
}

/* The counting pass goes in slices, so that at a million households it never
 * holds the service's lock for long (reports wait for it). A household that
 * changes between two slices is counted as it was when its slice came. */
int stats_step(struct engine *e, struct sb_now now, size_t slots)
{
	if (!e->stats_running) {
		for (size_t i = 0; i < e->unit_list.n; i++) {
			struct unit_node *u = e->unit_list.v[i];
			u->households = u->fitted = u->online = u->silent = u->doors_open = u->open_alerts = 0;
			memset(u->seals, 0, sizeof(u->seals));
			u->gateway_offline = 0;
			memset(u->resolved_24h, 0, sizeof(u->resolved_24h));
		}
		e->stats_running = 1;
		e->stats_cursor = 0;
	}
	e->stats_cursor = objmap_scan(&e->households, e->stats_cursor, slots, count_household, NULL);
	if (e->stats_cursor != 0)
		return 0;
	e->stats_running = 0;
	custody_stats_rollup(e);
	field_count_stats(e, now);
	for (size_t i = 0; i < e->unit_list.n; i++) {
		struct unit_node *u = e->unit_list.v[i];
		/* A unit that has just lost its last household gets one message of zeros. */
		int held = custody_held(u);
		if (!u->households && !held && !u->published)
			continue;
		u->published = u->households > 0 || held > 0;
		struct action *x = engine_emit(e, ACT_PUB_STATS);
		if (!x)
			return 1;
		struct stats_msg *m = &x->u.stats;
		m->unit = &u->u;
		m->households = u->households;
		m->fitted = u->fitted;
		m->online = u->online;
		m->silent = u->silent;
		m->doors_open = u->doors_open;
		m->open_alerts = u->open_alerts;
		custody_stats_fill(e, u, m);
		m->gateway_offline = u->gateway_offline;
		memcpy(m->resolved_24h, u->resolved_24h, sizeof(m->resolved_24h));
		m->at_ms = now.wall_ms;
	}
	return 1;
}
