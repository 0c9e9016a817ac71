/* Platform commands: admit, release, install, uninstall, permit, ack, resolve. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

static void fail(struct cmd_result *res, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct cmd_result *res, const char *code, const char *fmt, ...)
{
	res->ok = 0;
	res->error = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

void household_activate(struct engine *e, struct household *h, int starting, struct sb_now now)
{
	timer_arm_household(e, h, now);
	struct device *d = h->device;
	if (d) {
		timer_arm_silence(e, d, now);
		/* A condition, not an event: a seal already low when monitoring starts is low. */
		if (starting && engine_household_active(h, now) && !sb_household_alert(h, SB_ALERT_BATTERY_LOW) && d->battery >= 0 &&
		    d->battery <= field_battery_low(e, d))
			alert_raise(e, h, SB_ALERT_BATTERY_LOW, d->id, now.wall_ms, now);
		custody_household_changed(e, h, now);
	}
	engine_touch_household(e, h, HF_PUB);
}

void household_release(struct engine *e, struct household *h, const char *by, const char *reason,
		       struct sb_now now)
{
	h->released = 1;
	h->released_ms = now.wall_ms;
	permit_drop_household(e, h);
	for (int i = 0; i < SB_ALERT_TYPE_COUNT; i++) {
		struct alert *a = sb_household_alert(h, (enum sb_alert_type)i);
		if (a)
			alert_set_state(e, a, SB_AST_RESOLVED, "system", reason, now);
	}
	timer_arm_household(e, h, now);
	if (h->device)
		timerq_cancel(&e->timers, &h->device->silence_timer);
	/* Its device_silent alert is closed: if re-admitted, a seal still silent must raise again. */
	if (h->device && h->device->silent) {
		h->device->silent = 0;
		engine_touch_device(e, h->device);
	}
	engine_audit(e, "release", h, h->device ? h->device->id : NULL, NULL, now, "by %s: %s", by,
		     reason && *reason ? reason : "-");
	custody_household_changed(e, h, now);
	engine_touch_household(e, h, HF_SAVE | HF_PUB);
}

static void cmd_admit(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	int64_t start = c->has_start ? c->start_ms : now.wall_ms;
	if (c->end_ms <= start) {
		fail(res, "bad_request", "'end' must be after 'start'");
		return;
	}
	if (c->end_ms <= now.wall_ms) {
		fail(res, "bad_request", "'end' is in the past");
		return;
	}
	struct unit *u[SB_LEVEL_COUNT];
	for (int l = 0; l < SB_LEVEL_COUNT; l++)
		if (!(u[l] = engine_unit(e, (enum sb_level)l, c->unit_id[l]))) {
			fail(res, "internal", "out of memory");
			return;
		}
	const struct placement *place = engine_place(e, u);
	if (!place) {
		fail(res, "internal", "out of memory");
		return;
	}
	struct household *h = objmap_get(&e->households, c->household_id);
	int fresh = !h || h->released;
	if (!h && !(h = engine_new_household(e, c->household_id, c->address))) {
		fail(res, "internal", "out of memory");
		return;
	}
	/* An admit without address keeps the door label it had. */
	if (c->address[0] && engine_set_address(h, c->address) < 0) {
		fail(res, "internal", "out of memory");
		return;
	}
	h->place = place;
	if (c->category != SB_CAT_NONE || fresh)
		h->category = c->category;
	if (c->persons >= 0 || fresh)
		h->persons = c->persons;
	/* Re-admitting an active household keeps its start unless a new one is given. */
	if (fresh || c->has_start)
		h->start_ms = start;
	h->end_ms = c->end_ms;
	if (fresh) {
		/* A new quarantine: nothing of an earlier one carries over. */
		engine_prune_permits(h, INT64_MAX);
		h->released = 0;
		h->released_ms = 0;
		h->unfitted_since_ms = 0;
	}
	household_activate(e, h, fresh, now);
	engine_audit(e, "command", h, NULL, NULL, now, "admit until %lld%s", (long long)h->end_ms,
		     fresh ? "" : " (update)");
	engine_touch_household(e, h, HF_SAVE | HF_PUB);
}

static struct household *find_household(struct engine *e, const struct command *c, struct cmd_result *res,
					int need_active)
{
	struct household *h = objmap_get(&e->households, c->household_id);
	if (!h) {
		fail(res, "unknown_household", "no household '%s'", c->household_id);
		return NULL;
	}
	if (need_active && h->released) {
		fail(res, "not_active", "household '%s' was released", c->household_id);
		return NULL;
	}
	return h;
}

static void cmd_release(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	struct household *h = find_household(e, c, res, 1);
	if (h)
		household_release(e, h, "command", c->reason, now);
}

static void fit(struct engine *e, struct device *d, struct household *h, int64_t silence_after_ms,
		struct sb_now now)
{
	d->household = h;
	h->device = d;
	d->silence_after_ms = silence_after_ms;
	d->fitted_ms = now.wall_ms;
	d->door = SB_DOOR_UNKNOWN;
	d->battery = -1;
	d->tamper = -1;
	/* seq belongs to the seal: it goes on (field_fitted records it). */
	d->heard = 0;
	d->silent = 0;
	/* A seal that never reports after fitting goes silent like any other. */
	d->last_seen_mono = now.mono_ms;
	h->unfitted_since_ms = 0;
	alert_clear(e, h, SB_ALERT_UNMONITORED, now);
	timer_arm_household(e, h, now);
	timerq_cancel(&e->timers, &d->silence_timer);
	timer_arm_silence(e, d, now);
}

static void cmd_install(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	struct household *h = find_household(e, c, res, 1);
	if (!h)
		return;
	struct device *d = objmap_get(&e->devices, c->device_id);
	if (d && d->household && d->household != h) {
		fail(res, "device_in_use", "seal '%s' is fitted on household '%s'", d->id, d->household->id);
		return;
	}
	if (custody_check_fit(d, res) < 0)
		return;
	if (h->device && h->device != d) {
		fail(res, "household_has_device", "household '%s' already has seal '%s'; uninstall it first", h->id,
		     h->device->id);
		return;
	}
	if (field_install_check(e, c, res) < 0)
		return;
	int64_t silence = c->has_silence_after ? c->silence_after_ms : 0;
	if (d && d->household == h) {
		field_refit(e, d, c, now);
		/* Fitted here already: only the silence setting can change. */
		if (c->has_silence_after && silence != d->silence_after_ms) {
			d->silence_after_ms = silence;
			timerq_cancel(&e->timers, &d->silence_timer);
			timer_arm_silence(e, d, now);
			engine_touch_device(e, d);
		} else {
			res->changed = 0;
		}
		return;
	}
	int unregistered = !d;
	if (!d && !(d = engine_new_device(e, c->device_id))) {
		fail(res, "internal", "out of memory");
		return;
	}
	if (unregistered)
		custody_new_seal(e, d, now, "install");
	field_fitted(e, d, c, now);
	fit(e, d, h, silence, now);
	field_after_fit(e, d, now);
	custody_fitted(e, d, now);
	engine_audit(e, "command", h, d->id, NULL, now, "install");
	engine_touch_device(e, d);
	engine_touch_household(e, h, HF_SAVE | HF_PUB);
}

static void cmd_uninstall(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	struct device *d = objmap_get(&e->devices, c->device_id);
	if (!d || !d->household) {
		fail(res, "unknown_device", "seal '%s' is not fitted", c->device_id);
		return;
	}
	struct household *h = d->household;
	d->household = NULL;
	h->device = NULL;
	field_unfitted(e, d, now);
	timerq_cancel(&e->timers, &d->silence_timer);
	/* The seal's own conditions end with it; a door opening or tamper stays for a person to close. */
	alert_clear(e, h, SB_ALERT_DEVICE_SILENT, now);
	alert_clear(e, h, SB_ALERT_BATTERY_LOW, now);
	d->silent = 0;
	timer_arm_household(e, h, now);
	custody_taken_off(e, d, h, now, "uninstall");
	engine_audit(e, "command", h, d->id, NULL, now, "uninstall");
	engine_touch_device(e, d);
	engine_touch_household(e, h, h->released ? HF_SAVE : HF_SAVE | HF_PUB);
}

static struct alert *find_alert(struct engine *e, const struct command *c, struct cmd_result *res, int *closed)
{
	snprintf(res->alert_id, sizeof(res->alert_id), "%s", c->alert_id);
	struct alert *a = hashmap_get(&e->alerts, c->alert_id);
	*closed = 0;
	if (a)
		return a;
	if (hashmap_get(&e->closed, c->alert_id))
		*closed = 1;
	else
		fail(res, "unknown_alert", "no alert '%s'", c->alert_id);
	return NULL;
}

static void cmd_ack(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	int closed;
	struct alert *a = find_alert(e, c, res, &closed);
	if (closed)
		fail(res, "alert_closed", "alert '%s' is already closed", c->alert_id);
	if (!a)
		return;
	if (a->state == SB_AST_ACKED) { /* a reminded alert may be acked again */
		res->changed = 0;
		return;
	}
	alert_set_state(e, a, SB_AST_ACKED, c->by, c->note, now);
}

static void cmd_resolve(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	int closed;
	struct alert *a = find_alert(e, c, res, &closed);
	if (closed)
		res->changed = 0; /* resolving twice is harmless: a retried command must not fail */
	if (!a)
		return;
	a->outcome = (uint8_t)(c->has_outcome ? c->outcome : SB_OUT_OTHER);
	alert_set_state(e, a, SB_AST_RESOLVED, c->by, c->note, now);
}

void engine_command(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res,
		    struct actions *out)
{
	memset(res, 0, sizeof(*res));
	res->ok = 1;
	res->changed = 1;
	engine_begin(e, out);
	switch (c->op) {
	case SB_OP_ADMIT:
		cmd_admit(e, c, now, res);
		break;
	case SB_OP_RELEASE:
		cmd_release(e, c, now, res);
		break;
	case SB_OP_INSTALL:
		cmd_install(e, c, now, res);
		break;
	case SB_OP_UNINSTALL:
		cmd_uninstall(e, c, now, res);
		break;
	case SB_OP_PERMIT:
		cmd_permit(e, c, now, res);
		break;
	case SB_OP_ACK:
		cmd_ack(e, c, now, res);
		break;
	case SB_OP_RESOLVE:
		cmd_resolve(e, c, now, res);
		break;
	case SB_OP_REGISTER:
	case SB_OP_ALLOCATE:
	case SB_OP_INSPECT:
	case SB_OP_SWAP:
		custody_command(e, c, now, res);
		break;
	case SB_OP_REVOKE:
		cmd_revoke(e, c, now, res);
		break;
	default:
		fail(res, "bad_request", "unknown op");
		break;
	}
	if (!res->ok)
		res->changed = 0;
	engine_end(e, now);
}

void engine_fit(struct engine *e, struct device *d, struct household *h, int64_t silence_after_ms,
		struct sb_now now)
{
	fit(e, d, h, silence_after_ms, now);
}
