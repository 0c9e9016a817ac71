/* Inputs: device reports and platform commands. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

int engine_permitted(struct household *h, int64_t wall_ms)
{
	for (const struct permit *p = h->permits; p; p = p->next)
		if (p->from_ms <= wall_ms && wall_ms <= p->until_ms)
			return 1;
	return 0;
}

/* Lapsed permits go with the next save of the household. */
void engine_prune_permits(struct household *h, int64_t wall_ms)
{
	struct permit **pp = &h->permits;
	while (*pp) {
		struct permit *p = *pp;
		if (p->until_ms < wall_ms) {
			*pp = p->next;
			free(p->reason);
			free(p);
		} else {
			pp = &p->next;
		}
	}
}

static void sign_of_life(struct engine *e, struct device *d, struct household *h, int active, struct sb_now now)
{
	d->last_seen_ms = now.wall_ms;
	d->last_seen_mono = now.mono_ms;
	d->flags |= DF_SEEN;
	if (!d->heard) {
		d->heard = 1;
		engine_touch_device(e, d);
		engine_touch_household(e, h, HF_PUB);
	}
	if (d->silent) {
		d->silent = 0;
		engine_touch_device(e, d);
		engine_touch_household(e, h, HF_PUB);
		alert_clear(e, h, SB_ALERT_DEVICE_SILENT, now);
	}
	if (active)
		timer_arm_silence(e, d, now);
}

/* at_ms: when the report is judged (field_judge_time). */
static void apply_door(struct engine *e, struct device *d, struct household *h, int active, enum sb_door door,
		       int64_t at_ms, struct sb_now now)
{
	enum sb_door prev = d->door;
	if (door == prev)
		return;
	d->door = door;
	engine_touch_device(e, d);
	engine_touch_household(e, h, HF_PUB);
	if (door != SB_DOOR_OPEN || !active) {
		engine_audit(e, "door", h, d->id, NULL, now, "%s", sb_door_name(door));
		return;
	}
	const char *pid = NULL;
	if (engine_permitted(h, at_ms) || (pid = permit_covers(e, h, at_ms))) {
		engine_audit(e, "door", h, d->id, NULL, now, "open within permit%s%s%s", pid ? " " : "", pid ? pid : "",
			     at_ms != now.wall_ms ? " (queued report, judged at its ts)" : "");
		return;
	}
	engine_audit(e, "door", h, d->id, NULL, now, "open");
	alert_raise(e, h, SB_ALERT_DOOR_OPEN, d->id, at_ms, now);
}

static void apply_battery(struct engine *e, struct device *d, struct household *h, int active, int battery,
			  struct sb_now now)
{
	int prev = d->battery;
	if (battery == prev)
		return;
	d->battery = battery;
	engine_touch_device(e, d);
	engine_touch_household(e, h, HF_PUB);
	int low = field_battery_low(e, d);
	if (battery <= low && (prev < 0 || prev > low) && active)
		alert_raise(e, h, SB_ALERT_BATTERY_LOW, d->id, now.wall_ms, now);
	else if (battery > low)
		alert_clear(e, h, SB_ALERT_BATTERY_LOW, now);
}

static void apply_tamper(struct engine *e, struct device *d, struct household *h, int active, int tamper,
			 struct sb_now now)
{
	if (tamper == d->tamper)
		return;
	d->tamper = tamper;
	engine_touch_device(e, d);
	engine_touch_household(e, h, HF_PUB);
	if (tamper && active)
		alert_raise(e, h, SB_ALERT_TAMPER, d->id, now.wall_ms, now);
}

enum report_result engine_report(struct engine *e, const char *device_id, const struct report *r, int retained,
				 struct sb_now now, struct actions *out)
{
	return engine_report_from(e, device_id, SB_SRC_NATIVE, NULL, r, retained, now, out);
}

/* A seal that counts from 0 or 1 again, live, has restarted (reboot, new
 * battery). A ts not after what we last judged for it says it is an old
 * message delivered again instead. */
static int seq_restarted(const struct device *d, const struct report *r, int retained)
{
	return !retained && r->seq <= 1 && d->seq > r->seq && !(r->has_ts && r->ts <= d->judged_ms);
}

enum report_result engine_report_from(struct engine *e, const char *device_id, enum sb_source src,
				      const char *gateway_id, const struct report *r, int retained,
				      struct sb_now now, struct actions *out)
{
	struct device *d = objmap_get(&e->devices, device_id);
	if (!d)
		return REPORT_UNKNOWN_DEVICE;
	if (!d->household)
		return custody_report(e, d, r, retained, now, out);
	if (src != SB_SRC_NONE && d->source != SB_SRC_NONE && d->source != src)
		return REPORT_WRONG_SOURCE;
	int restarted = 0;
	if (r->has_seq && r->seq <= d->seq) {
		if (!seq_restarted(d, r, retained))
			return retained ? REPORT_STALE_RETAINED : REPORT_DUPLICATE;
		restarted = 1;
	}
	/* A retained copy is what the broker kept, not something the seal just said;
	 * one from before the current fitting never counts. */
	if (retained && (!r->has_seq || r->seq <= d->fit_seq || (r->has_ts && r->ts < d->fitted_ms)))
		return REPORT_STALE_RETAINED;
	engine_begin(e, out);
	struct household *h = d->household;
	int active = engine_household_active(h, now);
	if (src != SB_SRC_NONE && d->source == SB_SRC_NONE) {
		d->source = (uint8_t)src; /* the first source heard after fitting */
		d->flags |= DF_LINK;
		engine_touch_device(e, d);
	}
	if (gateway_id && !d->gateway) {
		struct gateway *g = gateway_get(e, gateway_id, 1);
		if (g) {
			gateway_attach(e, d, g);
			d->gateway_learned = 1;
			d->flags |= DF_LINK;
			engine_touch_device(e, d);
			engine_touch_household(e, h, HF_PUB);
		}
	}
	if (restarted) {
		/* Its counter restarted after the fitting: what it says from now on is newer. */
		d->fit_seq = -1;
		d->flags |= DF_LINK;
		engine_touch_device(e, d);
		engine_audit(e, "report", h, d->id, NULL, now, "seq restarted at %lld (was %lld)", (long long)r->seq,
			     (long long)d->seq);
	}
	int64_t at = field_judge_time(e, d, r, now);
	d->judged_ms = at;
	/* seq is saved with the next state change; a lost heartbeat seq only lets
	 * a re-delivered heartbeat count once more. */
	if (r->has_seq)
		d->seq = r->seq;
	if (!retained)
		sign_of_life(e, d, h, active, now);
	if (r->has_door)
		apply_door(e, d, h, active, r->door, at, now);
	if (r->has_battery)
		apply_battery(e, d, h, active, r->battery, now);
	if (r->has_tamper)
		apply_tamper(e, d, h, active, r->tamper, now);
	if (h->released)
		h->flags &= ~HF_PUB;
	engine_end(e, now);
	return restarted ? REPORT_RESTARTED : REPORT_APPLIED;
}
