/* The alert lifecycle: raise or fold, escalate, ack, resolve, clear. Every
 * state change goes through alert_set_state(), so every transition and the
 * messages it sends are in one place. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

/* Alert, gateway-alert and permit ids share the durable counter. Past the
 * reserved block (the store failed for that long) the number could be handed
 * out again after a restart: this start's tag keeps it apart. */
void engine_take_id(struct engine *e, const char *infix, char *out, size_t n)
{
	if (e->next_alert_no < e->alert_limit)
		snprintf(out, n, "%s-%s%lld", e->prefix, infix, (long long)e->next_alert_no);
	else
		snprintf(out, n, "%s-%s%lld_%s", e->prefix, infix, (long long)e->next_alert_no, e->start_tag);
	e->next_alert_no++;
	e->counter_dirty = 1; /* saved once per call, however many ids it took */
}

static void publish(struct engine *e, struct alert *a, enum sb_level level, struct sb_now now)
{
	struct household *h = a->household_id[0] ? objmap_get(&e->households, a->household_id) : NULL;
	/* The first message at a level fixes its unit: later ones go to the same. */
	if (!a->unit_id[level][0] && h && h->place)
		snprintf(a->unit_id[level], sizeof(a->unit_id[level]), "%s", h->place->unit[level]->id);
	struct action *x = engine_emit(e, ACT_PUB_ALERT);
	if (!x)
		return; /* oom is flagged; the number is not used, so no event id is skipped */
	a->msg_seq++;
	struct alert_msg *m = &x->u.alert_msg;
	m->alert = *a;
	m->household = h;
	m->to_level = level;
	m->at_ms = now.wall_ms;
	snprintf(m->event_id, sizeof(m->event_id), "%s-%d", a->id, a->msg_seq);
}

static void save(struct engine *e, const struct alert *a)
{
	struct action *x = engine_emit(e, ACT_SAVE_ALERT);
	if (x)
		x->u.alert = *a;
}

static int escalates(const struct alert *a)
{
	return a->type != SB_ALERT_BATTERY_LOW && a->level < SB_LEVEL_DISTRICT &&
	       (a->state == SB_AST_RAISED || a->state == SB_AST_ESCALATED);
}

static int reminds(const struct engine *e, const struct alert *a)
{
	return e->set.reminder_after_ms > 0 && (a->state == SB_AST_ACKED || a->state == SB_AST_REMINDED);
}

static void schedule_escalation(struct engine *e, struct alert *a, int64_t after_ms, struct sb_now now)
{
	if (reminds(e, a))
		after_ms = e->set.reminder_after_ms;
	else if (!escalates(a)) {
		timerq_cancel(&e->timers, &a->esc_timer);
		a->due_ms = 0;
		a->due_mono = 0;
		return;
	}
	a->due_ms = now.wall_ms + after_ms;
	a->due_mono = now.mono_ms + after_ms;
	if (timerq_set(&e->timers, &a->esc_timer, a->due_mono) < 0)
		e->out->oom = 1;
}

void household_unlink_alert(struct household *h, struct alert *a)
{
	for (struct alert **p = &h->alerts; *p; p = &(*p)->next_open)
		if (*p == a) {
			*p = a->next_open;
			a->next_open = NULL;
			return;
		}
}

struct alert *alert_raise(struct engine *e, struct household *h, enum sb_alert_type type,
			  const char *device_id, int64_t since_ms, struct sb_now now)
{
	struct alert *a = sb_household_alert(h, type);
	if (a) {
		/* Folded: the alert's later messages and the household state show the count. */
		a->count++;
		save(e, a);
		engine_touch_household(e, h, HF_PUB);
		engine_audit(e, "alert", h, device_id, a->id, now, "%s folded, count %d",
			     sb_alert_type_name(type), a->count);
		return a;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		e->out->oom = 1;
		return NULL;
	}
	engine_take_id(e, "", a->id, sizeof(a->id));
	a->type = type;
	a->level = SB_LEVEL_COMMUNITY;
	snprintf(a->household_id, sizeof(a->household_id), "%s", h->id);
	if (device_id)
		snprintf(a->device_id, sizeof(a->device_id), "%s", device_id);
	a->since_ms = since_ms;
	a->raised_ms = now.wall_ms;
	a->count = 1;
	a->esc_timer.idx = TIMER_IDLE;
	a->esc_timer.kind = TK_ESCALATE;
	if (hashmap_put(&e->alerts, a->id, a) < 0) {
		free(a);
		e->out->oom = 1;
		return NULL;
	}
	a->next_open = h->alerts;
	h->alerts = a;
	alert_set_state(e, a, SB_AST_RAISED, NULL, NULL, now);
	return a;
}

void alert_set_state(struct engine *e, struct alert *a, enum sb_alert_state to, const char *by,
		     const char *note, struct sb_now now)
{
	struct household *h = a->household_id[0] ? objmap_get(&e->households, a->household_id) : NULL;
	a->state = to;
	if (by)
		snprintf(a->by, sizeof(a->by), "%s", by);
	if (note)
		snprintf(a->note, sizeof(a->note), "%s", note);
	switch (to) {
	case SB_AST_RAISED:
		/* A gateway's alert may start above community level: it then waits as at street. */
		schedule_escalation(e, a, a->level == SB_LEVEL_COMMUNITY ? e->set.street_after_ms : e->set.district_after_ms,
				    now);
		publish(e, a, a->level, now);
		break;
	case SB_AST_ESCALATED:
		a->level++;
		schedule_escalation(e, a, e->set.district_after_ms, now);
		publish(e, a, a->level, now);
		break;
	case SB_AST_ACKED:
	case SB_AST_REMINDED:
	case SB_AST_RESOLVED:
	case SB_AST_CLEARED:
		if (to == SB_AST_RESOLVED || to == SB_AST_CLEARED)
			a->closed_ms = now.wall_ms;
		schedule_escalation(e, a, 0, now);
		/* Every level reached: a gateway's alert starts above community. */
		for (int l = 0; l <= (int)a->level; l++)
			if (a->unit_id[l][0] || (h && h->place))
				publish(e, a, (enum sb_level)l, now);
		break;
	}
	if (to == SB_AST_RESOLVED)
		field_note_resolved(e, a, now);
	if ((to == SB_AST_RESOLVED || to == SB_AST_CLEARED) && a->type == SB_ALERT_GATEWAY_OFFLINE)
		gateway_alert_closed(e, a);
	engine_audit(e, "alert", h, a->device_id[0] ? a->device_id : NULL, a->id, now, "%s %s at %s, count %d",
		     sb_alert_type_name(a->type), sb_alert_state_name(to), sb_level_name(a->level), a->count);
	save(e, a);
	if (to == SB_AST_RESOLVED || to == SB_AST_CLEARED) {
		if (h)
			household_unlink_alert(h, a);
		hashmap_del(&e->alerts, a->id);
		if (ptrvec_push(&e->dead_alerts, a) < 0)
			e->out->oom = 1;
	}
	if (h)
		engine_touch_household(e, h, HF_PUB);
}

void alert_clear(struct engine *e, struct household *h, enum sb_alert_type type, struct sb_now now)
{
	struct alert *a = sb_household_alert(h, type);
	if (a)
		alert_set_state(e, a, SB_AST_CLEARED, NULL, NULL, now);
}

/* After loading: put the pending escalation back on the monotonic clock, at the
 * wall time it was due, or at once if that has passed while we were down. */
void alert_escalate_due(struct engine *e, struct alert *a, struct sb_now now)
{
	if ((!escalates(a) && !reminds(e, a)) || !a->due_ms)
		return;
	int64_t left = a->due_ms - now.wall_ms;
	a->due_mono = now.mono_ms + (left > 0 ? left : 0);
	if (timerq_set(&e->timers, &a->esc_timer, a->due_mono) < 0 && e->out)
		e->out->oom = 1;
}

void alert_free_dead(struct engine *e)
{
	for (size_t i = 0; i < e->dead_alerts.n; i++) {
		struct alert *a = e->dead_alerts.v[i];
		char *k = malloc(strlen(a->id) + 1);
		if (k) {
			strcpy(k, a->id);
			if (hashmap_put(&e->closed, k, (void *)(uintptr_t)(a->state + 1)) < 0)
				free(k);
		}
		timerq_cancel(&e->timers, &a->esc_timer);
		free(a);
	}
	e->dead_alerts.n = 0;
}
