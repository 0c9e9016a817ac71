/* Seal custody: where every seal is, from stock to door and back
 * (INTERFACE.md "Seal custody", docs/custody.md has the state table).
 *
 * custody_set_state() is the one place a seal's custody state changes: it
 * keeps the per-unit counts of seals not on a door, writes the seal's history
 * row and marks the seal to be saved and published. A seal on a door is
 * counted by the statistics pass through its household, like the other
 * household figures; a seal elsewhere is counted where it is held (`loose`),
 * kept up to date here, so that the pass never walks the seals. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

/* Only seals that have a model, batch, note or holder have one: at a million
 * fitted seals that came in through install, none do, and the seal itself
 * stays small. */
struct seal_info {
	char *model, *batch, *note; /* NULL: none */
	struct unit *unit;          /* holder while not on a door; NULL: none (in stock) */
};

static int on_door(enum sb_seal_state s)
{
	return s == SB_SEAL_FITTED || s == SB_SEAL_AWAITING_COLLECTION;
}

static struct seal_info *info_of(const struct engine *e, const struct device *d)
{
	return hashmap_get(&e->seal_info, d->id);
}

static struct seal_info *info_make(struct engine *e, struct device *d)
{
	struct seal_info *i = info_of(e, d);
	if (i)
		return i;
	i = calloc(1, sizeof(*i));
	/* The key is the seal's own id: it lives in the arena as long as the engine. */
	if (!i || hashmap_put(&e->seal_info, d->id, i) < 0) {
		free(i);
		if (e->out)
			e->out->oom = 1;
		return NULL;
	}
	return i;
}

static struct unit_node *node(struct unit *u)
{
	return (struct unit_node *)u;
}

/* The seal leaves (-1) or enters (+1) the count of where it is now. */
static void count(struct engine *e, const struct device *d, int delta)
{
	if (d->custody == SB_SEAL_IN_STOCK) {
		e->seals_in_stock += delta;
		return;
	}
	if (on_door(d->custody))
		return; /* counted through its household */
	const struct seal_info *i = info_of(e, d);
	if (i && i->unit)
		node(i->unit)->loose[d->custody] += delta;
}

/* Marks the seal for a published state only (nothing of custody to save). */
static void touch_pub(struct engine *e, struct device *d)
{
	if (!(d->flags & DF_TOUCHED)) {
		if (ptrvec_push(&e->touched_d, d) < 0) {
			e->out->oom = 1;
			return;
		}
		d->flags |= DF_TOUCHED;
	}
	d->flags |= DF_SEAL_PUB;
}

void custody_set_state(struct engine *e, struct device *d, enum sb_seal_state to, struct unit *unit,
		       const struct household *door, struct sb_now now, const char *why)
{
	enum sb_seal_state from = (enum sb_seal_state)d->custody;
	struct seal_info *i = info_of(e, d);
	if (on_door(to) || to == SB_SEAL_IN_STOCK)
		unit = NULL;
	struct unit *was = i ? i->unit : NULL;
	if (from == to && was == unit)
		return;
	if (unit && !i && !(i = info_make(e, d)))
		return;
	count(e, d, -1);
	if (i)
		i->unit = unit;
	d->custody = (uint8_t)to;
	count(e, d, +1);
	engine_touch_device(e, d);
	d->flags |= DF_SEAL;
	if (unit)
		engine_audit(e, "seal", door, d->id, NULL, now, "%s -> %s (%s %s): %s", sb_seal_state_name(from),
			     sb_seal_state_name(to), sb_level_name(unit->level), unit->id, why);
	else
		engine_audit(e, "seal", door, d->id, NULL, now, "%s -> %s: %s", sb_seal_state_name(from),
			     sb_seal_state_name(to), why);
}

void custody_new_seal(struct engine *e, struct device *d, struct sb_now now, const char *why)
{
	d->custody = SB_SEAL_IN_STOCK;
	e->seals_in_stock++;
	engine_touch_device(e, d);
	d->flags |= DF_SEAL;
	engine_audit(e, "seal", NULL, d->id, NULL, now, "registered, in_stock: %s", why);
}

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

int custody_check_fit(const struct device *d, struct cmd_result *res)
{
	if (d && (d->custody == SB_SEAL_FAULTY || d->custody == SB_SEAL_LOST)) {
		fail(res, "device_unavailable", "seal '%s' is %s; inspect it ok before fitting it", d->id,
		     sb_seal_state_name((enum sb_seal_state)d->custody));
		return -1;
	}
	return 0;
}

void custody_fitted(struct engine *e, struct device *d, struct sb_now now)
{
	struct household *h = d->household;
	if (d->fittings < UINT16_MAX)
		d->fittings++;
	custody_set_state(e, d, h->released ? SB_SEAL_AWAITING_COLLECTION : SB_SEAL_FITTED, NULL, h, now,
			  "fitted");
	d->flags |= DF_SEAL; /* fittings moved even if the state did not */
}

void custody_taken_off(struct engine *e, struct device *d, struct household *h, struct sb_now now,
		       const char *why)
{
	custody_set_state(e, d, SB_SEAL_COLLECTED, h->place->unit[SB_LEVEL_COMMUNITY], h, now, why);
}

/* Release, re-admission and a start: the seal on the door follows its
 * household; its published state carries the door's units and address. */
void custody_household_changed(struct engine *e, struct household *h, struct sb_now now)
{
	struct device *d = h->device;
	if (!d)
		return;
	enum sb_seal_state to = h->released ? SB_SEAL_AWAITING_COLLECTION : SB_SEAL_FITTED;
	custody_set_state(e, d, to, NULL, h, now, h->released ? "household released" : "household active again");
	touch_pub(e, d);
}

/* What a seal loaded without custody columns is: the door decides. */
void custody_loaded_device(struct engine *e, struct device *d)
{
	(void)e;
	if (d->household)
		d->custody = d->household->released ? SB_SEAL_AWAITING_COLLECTION : SB_SEAL_FITTED;
	else
		d->custody = SB_SEAL_COLLECTED;
	d->fittings = d->household ? 1 : 0;
	d->custody_battery = d->battery;
}

static int set_text(char **dst, const char *src)
{
	if (!src || !*src) {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (*dst && strcmp(*dst, src) == 0)
		return 0;
	char *n = strdup(src);
	if (!n)
		return -1;
	free(*dst);
	*dst = n;
	return 0;
}

int engine_load_seal(struct engine *e, const char *id, int has_state, enum sb_seal_state state,
		     const char *model, const char *batch, const char *note, enum sb_level unit_level,
		     const char *unit_id, int fittings)
{
	struct device *d = objmap_get(&e->devices, id);
	if (!d || (has_state && (state < 0 || state >= SB_SEAL_STATE_COUNT)) || fittings < 0)
		return -2;
	struct unit *unit = NULL;
	if (unit_id) {
		if (!sb_id_valid(unit_id) || unit_level < 0 || unit_level >= SB_LEVEL_COUNT)
			return -2;
		if (!(unit = engine_unit(e, unit_level, unit_id)))
			return -1;
	}
	count(e, d, -1);
	/* The door is the truth: a row that disagrees with it was written by a
	 * daemon that crashed between the two, or predates custody. */
	if (!has_state || on_door(state) || d->household) {
		custody_loaded_device(e, d);
		if (has_state && !on_door(state) && !d->household)
			d->custody = (uint8_t)state;
	} else {
		d->custody = (uint8_t)state;
	}
	d->fittings = (uint16_t)(fittings > UINT16_MAX ? UINT16_MAX : fittings);
	if (model || batch || note || unit) {
		struct seal_info *i = info_make(e, d);
		if (!i || set_text(&i->model, model) < 0 || set_text(&i->batch, batch) < 0 ||
		    set_text(&i->note, note) < 0)
			return -1;
		i->unit = on_door(d->custody) || d->custody == SB_SEAL_IN_STOCK ? NULL : unit;
	}
	count(e, d, +1);
	return 0;
}

/* ---- reports from a seal that is not on a door ---- */

enum report_result custody_report(struct engine *e, struct device *d, const struct report *r, int retained,
				  struct sb_now now, struct actions *out)
{
	/* The same rules as for a fitted seal: seq belongs to the seal; a live 0
	 * or 1 below the stored one is a restart (new battery before it goes out). */
	if (r->has_seq && r->seq <= d->seq && (retained || r->seq > 1))
		return retained ? REPORT_STALE_RETAINED : REPORT_DUPLICATE;
	if (retained && !r->has_seq)
		return REPORT_STALE_RETAINED;
	engine_begin(e, out);
	if (r->has_seq)
		d->seq = r->seq;
	if (!retained) {
		d->last_seen_ms = now.wall_ms;
		d->last_seen_mono = now.mono_ms;
	}
	if (r->has_battery)
		d->battery = (int8_t)r->battery;
	if (r->has_tamper)
		d->tamper = (int8_t)r->tamper;
	/* Kept and published, never raising: nobody is watched through this seal. */
	engine_touch_device(e, d);
	touch_pub(e, d);
	engine_end(e, now);
	return REPORT_APPLIED;
}

/* ---- saving and publishing ---- */

static void copy_id(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void fill_rec(const struct engine *e, const struct device *d, struct seal_rec *r, struct sb_now now)
{
	const struct seal_info *i = info_of(e, d);
	copy_id(r->device_id, sizeof(r->device_id), d->id);
	r->state = (enum sb_seal_state)d->custody;
	if (i) {
		copy_id(r->model, sizeof(r->model), i->model);
		copy_id(r->batch, sizeof(r->batch), i->batch);
		copy_id(r->note, sizeof(r->note), i->note);
	}
	const struct household *h = d->household;
	if (h) {
		copy_id(r->community_id, sizeof(r->community_id), h->place->unit[SB_LEVEL_COMMUNITY]->id);
		copy_id(r->street_id, sizeof(r->street_id), h->place->unit[SB_LEVEL_STREET]->id);
		copy_id(r->household_id, sizeof(r->household_id), h->id);
		copy_id(r->address, sizeof(r->address), h->address);
		if (h->released)
			r->released_ms = h->released_ms;
	} else if (i && i->unit) {
		const struct unit *u = i->unit;
		r->has_unit = 1;
		r->unit_level = u->level;
		copy_id(r->unit_id, sizeof(r->unit_id), u->id);
		if (u->level == SB_LEVEL_COMMUNITY) {
			copy_id(r->community_id, sizeof(r->community_id), u->id);
			const struct unit_node *p = ((const struct unit_node *)u)->parent;
			if (p)
				copy_id(r->street_id, sizeof(r->street_id), p->u.id);
		} else if (u->level == SB_LEVEL_STREET) {
			copy_id(r->street_id, sizeof(r->street_id), u->id);
		}
	}
	r->battery = d->battery;
	r->last_seen_ms = d->last_seen_ms;
	r->fittings = d->fittings;
	r->at_ms = now.wall_ms;
}

/* From engine_end, for each touched seal, after its ACT_SAVE_DEVICE. */
void custody_end_device(struct engine *e, struct device *d, struct sb_now now)
{
	int pub = (d->flags & (DF_SEAL | DF_SEAL_PUB)) != 0;
	/* A fitted seal's state changes with its battery; its door and liveness
	 * are in the household's state, which changes far more often. */
	if ((d->flags & DF_SAVE) && d->battery != d->custody_battery)
		pub = 1;
	if (d->flags & DF_SEAL) {
		struct action *x = engine_emit(e, ACT_SAVE_SEAL);
		if (x)
			fill_rec(e, d, &x->u.seal, now);
	}
	if (pub) {
		struct action *x = engine_emit(e, ACT_PUB_SEAL);
		if (x) {
			fill_rec(e, d, &x->u.seal, now);
			d->custody_battery = d->battery;
		}
	}
	d->flags &= (uint8_t)~(DF_SEAL | DF_SEAL_PUB);
}

int engine_republish_seal(struct engine *e, const char *device_id, struct sb_now now, struct actions *out)
{
	struct device *d = objmap_get(&e->devices, device_id);
	if (!d)
		return -1;
	engine_begin(e, out);
	touch_pub(e, d);
	engine_end(e, now);
	return 0;
}

/* ---- statistics ---- */

void custody_place(struct unit *const u[SB_LEVEL_COUNT])
{
	node(u[SB_LEVEL_COMMUNITY])->parent = node(u[SB_LEVEL_STREET]);
	node(u[SB_LEVEL_STREET])->parent = node(u[SB_LEVEL_DISTRICT]);
}

void custody_count_household(const struct household *h)
{
	const struct device *d = h->device;
	if (!d)
		return;
	for (int l = 0; l < SB_LEVEL_COUNT; l++)
		node(h->place->unit[l])->seals[d->custody]++;
}

/* After a pass: a community's seals not on a door count at its street and
 * district too, a street's at its district. */
void custody_stats_rollup(struct engine *e)
{
	for (size_t k = 0; k < e->unit_list.n; k++) {
		struct unit_node *u = e->unit_list.v[k];
		for (int s = 0; s < SB_SEAL_STATE_COUNT; s++) {
			int v = u->loose[s];
			if (!v)
				continue;
			u->seals[s] += v;
			enum sb_level below = u->u.level;
			for (struct unit_node *p = u->parent; p && p->u.level > below; p = p->parent) {
				p->seals[s] += v;
				below = p->u.level;
			}
		}
	}
}

int custody_held(const struct unit_node *u)
{
	int n = 0;
	for (int s = 0; s < SB_SEAL_STATE_COUNT; s++)
		if (s != SB_SEAL_IN_STOCK)
			n += u->seals[s];
	return n;
}

void custody_stats_fill(const struct engine *e, const struct unit_node *u, struct stats_msg *m)
{
	memcpy(m->seals, u->seals, sizeof(m->seals));
	/* Stock belongs to the district; with several districts each shows it. */
	m->seals[SB_SEAL_IN_STOCK] = u->u.level == SB_LEVEL_DISTRICT ? e->seals_in_stock : -1;
}

/* ---- commands ---- */

/* The one check of a seal model: a configured settings section [model.<name>]
 * (INTERFACE.md "Seal models"). */
static int custody_model_known(const struct engine *e, const char *model)
{
	return field_model_known(e, model);
}

/* The model the seal was registered with, for an install that names none. */
const char *custody_registered_model(const struct engine *e, const struct device *d)
{
	const struct seal_info *i = info_of(e, d);
	return i ? i->model : NULL;
}

static const char *state_name(const struct device *d)
{
	return sb_seal_state_name((enum sb_seal_state)d->custody);
}

static void cmd_register(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	if (c->model[0] && !custody_model_known(e, c->model)) {
		fail(res, "bad_request", "model '%s' is not configured", c->model);
		return;
	}
	struct device *d = objmap_get(&e->devices, c->device_id);
	int fresh = !d;
	if (fresh) {
		if (!(d = engine_new_device(e, c->device_id))) {
			fail(res, "internal", "out of memory");
			return;
		}
		custody_new_seal(e, d, now, "register");
	}
	const struct seal_info *old = info_of(e, d);
	const char *given[3] = {c->model, c->batch, c->note};
	const char *had[3] = {old ? old->model : NULL, old ? old->batch : NULL, old ? old->note : NULL};
	int changed = fresh;
	for (int k = 0; k < 3; k++)
		if (given[k][0] && (!had[k] || strcmp(had[k], given[k]) != 0))
			changed = 1;
	res->seal_state = state_name(d);
	if (!changed) {
		res->changed = 0;
		return;
	}
	struct seal_info *i = info_make(e, d);
	/* Only the fields given change: a re-register never touches where the seal is. */
	if (!i || (c->model[0] && set_text(&i->model, c->model) < 0) ||
	    (c->batch[0] && set_text(&i->batch, c->batch) < 0) || (c->note[0] && set_text(&i->note, c->note) < 0)) {
		fail(res, "internal", "out of memory");
		return;
	}
	engine_touch_device(e, d);
	d->flags |= DF_SEAL;
	engine_audit(e, "seal", NULL, d->id, NULL, now, "register%s model=%s batch=%s", fresh ? "" : " (update)",
		     i->model ? i->model : "-", i->batch ? i->batch : "-");
}

static struct device *find_seal(struct engine *e, const struct command *c, struct cmd_result *res)
{
	struct device *d = objmap_get(&e->devices, c->device_id);
	if (!d)
		fail(res, "unknown_device", "no seal '%s' is registered", c->device_id);
	return d;
}

static void cmd_allocate(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	int street = c->unit_id[SB_LEVEL_STREET][0] != '\0', community = c->unit_id[SB_LEVEL_COMMUNITY][0] != '\0';
	if (street + community != 1) {
		fail(res, "bad_request", "give exactly one of 'street_id' or 'community_id'");
		return;
	}
	struct device *d = find_seal(e, c, res);
	if (!d)
		return;
	enum sb_seal_state st = (enum sb_seal_state)d->custody;
	if (st != SB_SEAL_IN_STOCK && st != SB_SEAL_ALLOCATED && st != SB_SEAL_COLLECTED) {
		if (d->household)
			fail(res, "device_in_use", "seal '%s' is %s on household '%s'", d->id, state_name(d),
			     d->household->id);
		else
			fail(res, "device_in_use", "seal '%s' is %s; only a seal in stock, allocated or collected can be allocated",
			     d->id, state_name(d));
		return;
	}
	enum sb_level level = street ? SB_LEVEL_STREET : SB_LEVEL_COMMUNITY;
	struct unit *u = engine_unit(e, level, c->unit_id[level]);
	if (!u) {
		fail(res, "internal", "out of memory");
		return;
	}
	const struct seal_info *i = info_of(e, d);
	res->seal_state = sb_seal_state_name(SB_SEAL_ALLOCATED);
	if (st == SB_SEAL_ALLOCATED && i && i->unit == u) {
		res->changed = 0;
		return;
	}
	custody_set_state(e, d, SB_SEAL_ALLOCATED, u, NULL, now, "allocate");
}

/* Off its door, as uninstall does; the household's own alerts stay. rearm 0:
 * another seal goes on in the same step (swap), so no unmonitored deadline starts. */
static void take_off(struct engine *e, struct device *d, struct household *h, int rearm, struct sb_now now)
{
	d->household = NULL;
	h->device = NULL;
	timerq_cancel(&e->timers, &d->silence_timer);
	alert_clear(e, h, SB_ALERT_DEVICE_SILENT, now);
	alert_clear(e, h, SB_ALERT_BATTERY_LOW, now);
	d->silent = 0;
	if (rearm)
		timer_arm_household(e, h, now);
	engine_touch_device(e, d);
	engine_touch_household(e, h, h->released ? HF_SAVE : HF_SAVE | HF_PUB);
}

static const char *const result_names[] = {"", "ok", "faulty", "lost"};

static void cmd_inspect(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	if (c->result == SB_INSPECT_NONE) {
		fail(res, "bad_request", "missing field 'result'");
		return;
	}
	struct device *d = find_seal(e, c, res);
	if (!d)
		return;
	enum sb_seal_state st = (enum sb_seal_state)d->custody;
	struct household *h = d->household;
	if (st == SB_SEAL_FITTED) {
		fail(res, "device_in_use", "seal '%s' is fitted on household '%s'; uninstall or swap it first", d->id,
		     h->id);
		return;
	}
	if (st == SB_SEAL_AWAITING_COLLECTION && c->result != SB_INSPECT_LOST) {
		fail(res, "device_in_use", "seal '%s' is still on the door of released household '%s'; uninstall (collect) it first",
		     d->id, h->id);
		return;
	}
	const char *what = result_names[c->result];
	engine_audit(e, "seal", h, d->id, NULL, now, "inspect %s%s%s", what, c->note[0] ? ": " : "", c->note);
	if (h) {
		/* Gone from the door of a released household: it is lost where it was. */
		struct unit *u = h->place->unit[SB_LEVEL_COMMUNITY];
		take_off(e, d, h, 1, now);
		custody_set_state(e, d, SB_SEAL_LOST, u, h, now, "inspect lost");
	} else if (c->result == SB_INSPECT_OK) {
		/* Back in stock as good as new: what it reported before says nothing of its next door. */
		d->battery = -1;
		d->tamper = -1;
		custody_set_state(e, d, SB_SEAL_IN_STOCK, NULL, NULL, now, "inspect ok");
		engine_touch_device(e, d);
		d->flags |= DF_SEAL;
	} else {
		const struct seal_info *i = info_of(e, d);
		enum sb_seal_state to = c->result == SB_INSPECT_FAULTY ? SB_SEAL_FAULTY : SB_SEAL_LOST;
		custody_set_state(e, d, to, i ? i->unit : NULL, NULL, now, c->result == SB_INSPECT_FAULTY ? "inspect faulty" : "inspect lost");
		touch_pub(e, d);
	}
	res->seal_state = state_name(d);
}

static void cmd_swap(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	struct household *h = objmap_get(&e->households, c->household_id);
	if (!h) {
		fail(res, "unknown_household", "no household '%s'", c->household_id);
		return;
	}
	if (h->released) {
		fail(res, "not_active", "household '%s' was released", h->id);
		return;
	}
	struct device *nd = objmap_get(&e->devices, c->device_id);
	struct device *old = h->device;
	if (nd && nd == old) {
		res->changed = 0;
		res->seal_state = state_name(nd);
		return;
	}
	if (nd && nd->household) {
		fail(res, "device_in_use", "seal '%s' is %s on household '%s'", nd->id, state_name(nd),
		     nd->household->id);
		return;
	}
	if (custody_check_fit(nd, res) < 0)
		return;
	if (!nd) {
		if (!(nd = engine_new_device(e, c->device_id))) {
			fail(res, "internal", "out of memory");
			return;
		}
		custody_new_seal(e, nd, now, "swap");
	}
	/* The door keeps its silence setting: the seal changed, the door did not. */
	int64_t silence = old ? old->silence_after_ms : 0;
	if (old) {
		take_off(e, old, h, 0, now);
		custody_taken_off(e, old, h, now, "swap");
	}
	engine_fit(e, nd, h, silence, now);
	custody_fitted(e, nd, now);
	engine_audit(e, "command", h, nd->id, NULL, now, "swap %s -> %s", old ? old->id : "-", nd->id);
	engine_touch_device(e, nd);
	engine_touch_household(e, h, HF_SAVE | HF_PUB);
	res->seal_state = state_name(nd);
}

void custody_command(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	switch (c->op) {
	case SB_OP_REGISTER:
		cmd_register(e, c, now, res);
		break;
	case SB_OP_ALLOCATE:
		cmd_allocate(e, c, now, res);
		break;
	case SB_OP_INSPECT:
		cmd_inspect(e, c, now, res);
		break;
	case SB_OP_SWAP:
		cmd_swap(e, c, now, res);
		break;
	default:
		fail(res, "bad_request", "unknown op");
		break;
	}
}

static void free_info(const char *k, void *v, void *arg)
{
	(void)k;
	(void)arg;
	struct seal_info *i = v;
	free(i->model);
	free(i->batch);
	free(i->note);
	free(i);
}

void custody_free(struct engine *e)
{
	hashmap_each(&e->seal_info, free_info, NULL);
	hashmap_free(&e->seal_info);
}
