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

static void apply_door(struct engine *e, struct device *d, struct household *h, int active, enum sb_door door,
		       struct sb_now now)
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
	if (engine_permitted(h, now.wall_ms)) {
		engine_audit(e, "door", h, d->id, NULL, now, "open within permit");
		return;
	}
	engine_audit(e, "door", h, d->id, NULL, now, "open");
	alert_raise(e, h, SB_ALERT_DOOR_OPEN, d->id, now.wall_ms, now);
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
	int low = e->set.battery_low;
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
	struct device *d = objmap_get(&e->devices, device_id);
	if (!d)
		return REPORT_UNKNOWN_DEVICE;
	if (!d->household)
		return custody_report(e, d, r, retained, now, out);
	if (r->has_seq && r->seq <= d->seq)
		return retained ? REPORT_STALE_RETAINED : REPORT_DUPLICATE;
	/* A retained copy is what the broker kept, not something the seal just said. */
	if (retained && !r->has_seq)
		return REPORT_STALE_RETAINED;
	engine_begin(e, out);
	struct household *h = d->household;
	int active = engine_household_active(h, now);
	/* seq is saved with the next state change; a lost heartbeat seq only lets
	 * a re-delivered heartbeat count once more. */
	if (r->has_seq)
		d->seq = r->seq;
	if (!retained)
		sign_of_life(e, d, h, active, now);
	if (r->has_door)
		apply_door(e, d, h, active, r->door, now);
	if (r->has_battery)
		apply_battery(e, d, h, active, r->battery, now);
	if (r->has_tamper)
		apply_tamper(e, d, h, active, r->tamper, now);
	if (h->released)
		h->flags &= ~HF_PUB;
	engine_end(e, now);
	return REPORT_APPLIED;
}
