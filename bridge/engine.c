/* Engine lifecycle, loading, and the bookkeeping every entry point shares:
 * the action list of the call in progress and the objects it touched. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

void actions_init(struct actions *a)
{
	memset(a, 0, sizeof(*a));
}

void actions_clear(struct actions *a)
{
	a->n = 0;
	a->oom = 0;
}

void actions_free(struct actions *a)
{
	free(a->v);
	actions_init(a);
}

int ptrvec_push(struct ptrvec *v, void *p)
{
	if (v->n == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 16;
		void **nv = realloc(v->v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = p;
	return 0;
}

struct action *engine_emit(struct engine *e, enum action_kind kind)
{
	struct actions *a = e->out;
	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 16;
		struct action *nv = realloc(a->v, ncap * sizeof(*nv));
		if (!nv) {
			a->oom = 1;
			return NULL;
		}
		a->v = nv;
		a->cap = ncap;
	}
	struct action *x = &a->v[a->n++];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	return x;
}

void engine_touch_household(struct engine *e, struct household *h, unsigned what)
{
	if (!(h->flags & HF_TOUCHED)) {
		if (ptrvec_push(&e->touched_h, h) < 0) {
			e->out->oom = 1;
			return;
		}
		h->flags |= HF_TOUCHED;
	}
	h->flags |= what;
}

void engine_touch_device(struct engine *e, struct device *d)
{
	if (!(d->flags & DF_TOUCHED)) {
		if (ptrvec_push(&e->touched_d, d) < 0) {
			e->out->oom = 1;
			return;
		}
		d->flags |= DF_TOUCHED;
	}
	d->flags |= DF_SAVE;
}

void engine_audit(struct engine *e, const char *kind, const struct household *h, const char *device_id,
		  const char *alert_id, struct sb_now now, const char *fmt, ...)
{
	struct action *x = engine_emit(e, ACT_AUDIT);
	if (!x)
		return;
	struct audit_rec *r = &x->u.audit;
	r->kind = kind;
	r->at_ms = now.wall_ms;
	if (h)
		snprintf(r->household_id, sizeof(r->household_id), "%s", h->id);
	if (device_id)
		snprintf(r->device_id, sizeof(r->device_id), "%s", device_id);
	if (alert_id)
		snprintf(r->alert_id, sizeof(r->alert_id), "%s", alert_id);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

void engine_begin(struct engine *e, struct actions *out)
{
	e->out = out;
}

/* Saves first, then publications, so a consumer never sees a state the store lacks. */
void engine_end(struct engine *e, struct sb_now now)
{
	if (e->counter_dirty) {
		struct action *c = engine_emit(e, ACT_SAVE_COUNTER);
		if (c) {
			c->u.counter = e->next_alert_no;
			e->counter_dirty = 0;
		}
	}
	for (size_t i = 0; i < e->touched_d.n; i++) {
		struct device *d = e->touched_d.v[i];
		if (d->flags & DF_LINK) {
			struct action *x = engine_emit(e, ACT_SAVE_SEAL_LINK);
			if (x)
				x->u.device = d;
			d->flags &= (uint8_t)~DF_LINK;
		}
		if (d->flags & DF_SAVE) {
			struct action *x = engine_emit(e, ACT_SAVE_DEVICE);
			if (x)
				x->u.device = d;
			d->flags &= (uint8_t)~DF_SEEN;
		}
		custody_end_device(e, d, now);
		d->flags &= (uint8_t)~(DF_SAVE | DF_TOUCHED);
	}
	e->touched_d.n = 0;
	for (size_t i = 0; i < e->touched_h.n; i++) {
		struct household *h = e->touched_h.v[i];
		if (h->flags & HF_SAVE) {
			struct action *x = engine_emit(e, ACT_SAVE_HOUSEHOLD);
			if (x)
				x->u.household = h;
		}
	}
	for (size_t i = 0; i < e->touched_h.n; i++) {
		struct household *h = e->touched_h.v[i];
		if (h->flags & HF_PUB) {
			h->changed_ms = now.wall_ms;
			struct action *x = engine_emit(e, h->released ? ACT_PUB_CLEAR_STATE : ACT_PUB_STATE);
			if (x)
				x->u.household = h;
		}
		h->flags &= (uint16_t)~(HF_SAVE | HF_PUB | HF_TOUCHED);
	}
	e->touched_h.n = 0;
	alert_free_dead(e);
	e->out = NULL;
}

int engine_household_active(const struct household *h, struct sb_now now)
{
	return !h->released && h->start_ms <= now.wall_ms && now.wall_ms < h->end_ms;
}

/* A wall-clock moment expressed on the monotonic clock, as seen from now. */
int64_t engine_wall_to_mono(struct sb_now now, int64_t wall_ms)
{
	int64_t d = wall_ms - now.wall_ms;
	return now.mono_ms + d;
}

struct engine *engine_new(const struct engine_settings *s, const char *alert_prefix)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->set = *s;
	snprintf(e->prefix, sizeof(e->prefix), "%.16s", alert_prefix ? alert_prefix : "a");
	e->next_alert_no = 1;
	e->alert_limit = INT64_MAX;
	snprintf(e->start_tag, sizeof(e->start_tag), "0");
	objmap_init(&e->households, offsetof(struct household, id));
	objmap_init(&e->devices, offsetof(struct device, id));
	hashmap_init(&e->units);
	hashmap_init(&e->places);
	hashmap_init(&e->alerts);
	hashmap_init(&e->closed);
	hashmap_init(&e->seal_info);
	hashmap_init(&e->gateways);
	hashmap_init(&e->permits);
	hashmap_init(&e->permit_targets);
	timerq_init(&e->timers);
	e->next_stats_mono = INT64_MAX;
	return e;
}

void engine_set_settings(struct engine *e, const struct engine_settings *s)
{
	int64_t old = e->set.stats_interval_ms;
	/* Deadlines armed under the old values move at the next tick (field_rearm). */
	e->prev_street_ms = e->set.street_after_ms;
	e->prev_district_ms = e->set.district_after_ms;
	e->prev_reminder_ms = e->set.reminder_after_ms;
	/* A SIGHUP for log rotation changes nothing: a million timers stay as they are. */
	int roster = e->set.silence_after_ms != s->silence_after_ms ||
		     e->set.unmonitored_after_ms != s->unmonitored_after_ms || e->set.n_models != s->n_models;
	for (int i = 0; !roster && i < s->n_models; i++)
		roster = strcmp(e->set.models[i].name, s->models[i].name) != 0 ||
			 e->set.models[i].silence_after_ms != s->models[i].silence_after_ms ||
			 e->set.models[i].battery_low != s->models[i].battery_low;
	e->rearm_roster |= roster;
	e->rearm_pending |= roster || e->set.street_after_ms != s->street_after_ms ||
			    e->set.district_after_ms != s->district_after_ms ||
			    e->set.reminder_after_ms != s->reminder_after_ms;
	e->set = *s;
	if (e->next_stats_mono != INT64_MAX && old != s->stats_interval_ms)
		e->next_stats_mono = e->next_stats_mono - old + s->stats_interval_ms;
}

static void free_household(void *v, void *arg)
{
	(void)arg;
	struct household *h = v;
	while (h->alerts) {
		struct alert *a = h->alerts;
		h->alerts = a->next_open;
		free(a);
	}
	struct permit *p = h->permits;
	while (p) {
		struct permit *n = p->next;
		free(p->reason);
		free(p);
		p = n;
	}
	if (h->flags & HF_ADDR_HEAP)
		free(h->address);
}

static void free_key(const char *k, void *v, void *arg)
{
	(void)v;
	(void)arg;
	free((char *)k);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	timerq_free(&e->timers);
	objmap_each(&e->households, free_household, NULL);
	for (size_t i = 0; i < e->unit_list.n; i++) {
		struct unit_node *u = e->unit_list.v[i];
		free(u->u.id - 2); /* the id lives inside its "L:id" map key */
		free(u);
	}
	hashmap_each(&e->closed, free_key, NULL);
	custody_free(e);
	permit_free_all(e);
	field_free(e);
	objmap_free(&e->households);
	objmap_free(&e->devices);
	arena_free(&e->arena);
	hashmap_free(&e->units);
	hashmap_free(&e->places);
	hashmap_free(&e->alerts);
	hashmap_free(&e->closed);
	free(e->touched_h.v);
	free(e->touched_d.v);
	free(e->dead_alerts.v);
	free(e->unit_list.v);
	free(e);
}

/* Units are interned: many households share one. The map key is "L:id". */
struct unit *engine_unit(struct engine *e, enum sb_level level, const char *id)
{
	char key[SB_ID_MAX + 3];
	snprintf(key, sizeof(key), "%d:%s", (int)level, id);
	struct unit_node *u = hashmap_get(&e->units, key);
	if (u)
		return &u->u;
	u = calloc(1, sizeof(*u));
	char *k = malloc(strlen(key) + 1);
	if (!u || !k) {
		free(u);
		free(k);
		return NULL;
	}
	strcpy(k, key);
	u->u.id = k + 2;
	u->u.level = level;
	if (hashmap_put(&e->units, k, u) < 0 || ptrvec_push(&e->unit_list, u) < 0) {
		hashmap_del(&e->units, k);
		free(k);
		free(u);
		return NULL;
	}
	return &u->u;
}

/* Placements are interned by their three unit ids: a household holds one pointer. */
const struct placement *engine_place(struct engine *e, struct unit *const u[SB_LEVEL_COUNT])
{
	char key[SB_LEVEL_COUNT * (SB_ID_MAX + 1)];
	custody_place(u);
	snprintf(key, sizeof(key), "%s/%s/%s", u[0]->id, u[1]->id, u[2]->id); /* ids hold no '/' */
	struct placement *p = hashmap_get(&e->places, key);
	if (p)
		return p;
	size_t n = strlen(key) + 1;
	p = arena_alloc(&e->arena, sizeof(*p) + n, _Alignof(struct placement));
	if (!p)
		return NULL;
	memcpy(p->unit, u, sizeof(p->unit));
	char *k = memcpy((char *)(p + 1), key, n);
	return hashmap_put(&e->places, k, p) < 0 ? NULL : p;
}

static char *dup_or_null(const char *s)
{
	if (!s || !*s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* Households and seals are never freed before the engine: they, their ids
 * and the address a household is created with come from the arena. */
struct household *engine_new_household(struct engine *e, const char *id, const char *address)
{
	size_t n = strlen(id) + 1, na = address && *address ? strlen(address) + 1 : 0;
	struct household *h = arena_alloc(&e->arena, offsetof(struct household, id) + n + na, _Alignof(struct household));
	if (!h)
		return NULL;
	memcpy(h->id, id, n);
	if (na)
		h->address = memcpy(h->id + n, address, na);
	if (objmap_add(&e->households, h) < 0)
		return NULL; /* the arena keeps the bytes until the end; an OOM path only */
	h->persons = -1;
	h->timer.idx = TIMER_IDLE;
	h->timer.kind = TK_HOUSEHOLD;
	return h;
}

struct device *engine_new_device(struct engine *e, const char *id)
{
	size_t n = strlen(id) + 1;
	struct device *d = arena_alloc(&e->arena, offsetof(struct device, id) + n, _Alignof(struct device));
	if (!d)
		return NULL;
	memcpy(d->id, id, n);
	if (objmap_add(&e->devices, d) < 0)
		return NULL;
	d->battery = -1;
	d->tamper = -1;
	d->seq = -1;
	d->fit_seq = -1;
	d->silence_timer.idx = TIMER_IDLE;
	d->silence_timer.kind = TK_SILENCE;
	return d;
}

/* A changed address fits in the old one's bytes, or gets its own allocation. */
int engine_set_address(struct household *h, const char *address)
{
	if (!address || !*address) {
		if (h->flags & HF_ADDR_HEAP)
			free(h->address);
		h->flags &= (uint16_t)~HF_ADDR_HEAP;
		h->address = NULL;
		return 0;
	}
	size_t n = strlen(address) + 1;
	if (h->address && strlen(h->address) + 1 >= n) {
		memmove(h->address, address, n);
		return 0;
	}
	char *a = dup_or_null(address);
	if (!a)
		return -1;
	if (h->flags & HF_ADDR_HEAP)
		free(h->address);
	h->address = a;
	h->flags |= HF_ADDR_HEAP;
	return 0;
}

int engine_load_household(struct engine *e, const char *id, const char *address,
			  const char *const unit_ids[SB_LEVEL_COUNT], enum sb_category cat, int persons,
			  int64_t start_ms, int64_t end_ms, int released, int64_t released_ms,
			  int64_t unfitted_since_ms, int64_t changed_ms)
{
	if (!sb_id_valid(id) || objmap_get(&e->households, id))
		return -2;
	struct unit *u[SB_LEVEL_COUNT];
	for (int l = 0; l < SB_LEVEL_COUNT; l++) {
		if (!sb_id_valid(unit_ids[l]))
			return -2;
		if (!(u[l] = engine_unit(e, (enum sb_level)l, unit_ids[l])))
			return -1;
	}
	struct household *h = engine_new_household(e, id, address);
	if (!h)
		return -1;
	if (!(h->place = engine_place(e, u)))
		return -1;
	h->category = cat;
	h->persons = persons;
	h->start_ms = start_ms;
	h->end_ms = end_ms;
	h->released = released;
	h->released_ms = released_ms;
	h->unfitted_since_ms = unfitted_since_ms;
	h->changed_ms = changed_ms;
	return 0;
}

int engine_load_permit(struct engine *e, const char *household_id, int64_t from_ms, int64_t until_ms,
		       const char *reason)
{
	struct household *h = objmap_get(&e->households, household_id);
	if (!h)
		return -2;
	struct permit *p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->from_ms = from_ms;
	p->until_ms = until_ms;
	if (reason && *reason && !(p->reason = dup_or_null(reason))) {
		free(p);
		return -1;
	}
	p->next = h->permits;
	h->permits = p;
	return 0;
}

int engine_load_device(struct engine *e, const char *id, const struct device *src, const char *household_id)
{
	if (!sb_id_valid(id) || objmap_get(&e->devices, id))
		return -2;
	struct household *h = NULL;
	if (household_id) {
		h = objmap_get(&e->households, household_id);
		if (!h || h->device)
			return -2;
	}
	struct device *d = engine_new_device(e, id);
	if (!d)
		return -1;
	d->household = h;
	if (h)
		h->device = d;
	d->silence_after_ms = src->silence_after_ms;
	d->fitted_ms = src->fitted_ms;
	d->door = src->door;
	d->battery = src->battery;
	d->tamper = src->tamper;
	d->seq = src->seq;
	d->last_seen_ms = src->last_seen_ms;
	d->heard = src->heard;
	d->silent = src->silent;
	d->judged_ms = src->last_seen_ms > src->fitted_ms ? src->last_seen_ms : src->fitted_ms;
	if (src->last_seen_ms > e->deaf_from_wall)
		e->deaf_from_wall = src->last_seen_ms; /* the last we heard anything: about when we last ran */
	/* Nothing was heard in this run yet: silence counts from when we can hear. */
	d->last_seen_mono = INT64_MIN;
	custody_loaded_device(e, d);
	return 0;
}

int engine_load_alert(struct engine *e, const struct alert *src)
{
	if (!sb_id_valid(src->id) || src->type >= SB_ALERT_TYPE_COUNT)
		return -2;
	if (src->state == SB_AST_RESOLVED || src->state == SB_AST_CLEARED) {
		if (hashmap_get(&e->closed, src->id))
			return 0;
		if (src->state == SB_AST_RESOLVED && src->closed_ms > 0) {
			const struct household *rh = objmap_get(&e->households, src->household_id);
			const char *u[SB_LEVEL_COUNT];
			for (int l = 0; l < SB_LEVEL_COUNT; l++)
				u[l] = rh && rh->place ? rh->place->unit[l]->id : src->unit_id[l][0] ? src->unit_id[l] : NULL;
			if (engine_load_resolved(e, u, (enum sb_outcome)src->outcome, src->closed_ms) == -1)
				return -1;
		}
		char *k = dup_or_null(src->id);
		if (!k || hashmap_put(&e->closed, k, (void *)(uintptr_t)(src->state + 1)) < 0) {
			free(k);
			return -1;
		}
		return 0;
	}
	if (src->type == SB_ALERT_GATEWAY_OFFLINE)
		return engine_load_gateway_alert(e, src);
	struct household *h = objmap_get(&e->households, src->household_id);
	if (!h || sb_household_alert(h, src->type) || hashmap_get(&e->alerts, src->id))
		return -2;
	struct alert *a = malloc(sizeof(*a));
	if (!a)
		return -1;
	*a = *src;
	a->next_open = NULL;
	a->esc_timer.idx = TIMER_IDLE;
	a->esc_timer.kind = TK_ESCALATE;
	a->due_mono = 0;
	if (hashmap_put(&e->alerts, a->id, a) < 0) {
		free(a);
		return -1;
	}
	a->next_open = h->alerts;
	h->alerts = a;
	return 0;
}

void engine_load_counter(struct engine *e, int64_t next_alert_no)
{
	if (next_alert_no > e->next_alert_no)
		e->next_alert_no = next_alert_no;
}

void engine_set_alert_numbers(struct engine *e, int64_t from, int64_t limit)
{
	if (from > e->next_alert_no)
		e->next_alert_no = from;
	e->alert_limit = limit;
}

int64_t engine_alert_numbers_left(const struct engine *e)
{
	return e->next_alert_no < e->alert_limit ? e->alert_limit - e->next_alert_no : 0;
}

int64_t engine_next_alert_no(const struct engine *e)
{
	return e->next_alert_no;
}

void engine_set_start_tag(struct engine *e, const char *tag)
{
	snprintf(e->start_tag, sizeof(e->start_tag), "%.16s", tag && *tag ? tag : "0");
}

static void loaded_household(void *v, void *arg)
{
	struct engine *e = ((void **)arg)[0];
	struct sb_now now = *(struct sb_now *)((void **)arg)[1];
	struct household *h = v;
	timer_arm_household(e, h, now);
	if (h->device)
		timer_arm_silence(e, h->device, now);
	for (struct alert *a = h->alerts; a; a = a->next_open)
		alert_escalate_due(e, a, now);
}

void engine_loaded(struct engine *e, struct sb_now now)
{
	/* Until the transport says it can hear, no silence is counted. */
	e->connected = 0;
	e->hear_since_mono = now.mono_ms;
	void *arg[2] = {e, &now};
	objmap_each(&e->households, loaded_household, arg);
	field_loaded(e, now);
	e->wall_offset = now.wall_ms - now.mono_ms;
	e->next_stats_mono = now.mono_ms + e->set.stats_interval_ms;
}

void engine_set_connected(struct engine *e, int connected, struct sb_now now)
{
	if (connected && !e->connected) {
		e->hear_since_mono = now.mono_ms;
		e->hear_since_wall = now.wall_ms;
	}
	if (!connected && e->connected)
		e->deaf_from_wall = now.wall_ms;
	e->connected = connected;
}

void engine_set_heard(struct engine *e, int64_t heard_mono)
{
	e->heard_known = 1;
	e->heard_mono = heard_mono;
}

int64_t engine_next_deadline(const struct engine *e)
{
	const struct sb_timer *t = timerq_peek(&e->timers);
	int64_t next = t ? t->when : INT64_MAX;
	return e->next_stats_mono < next ? e->next_stats_mono : next;
}

static void rearm_wall(void *v, void *arg)
{
	void **a = arg;
	timer_arm_household(a[0], v, *(struct sb_now *)a[1]);
}

int engine_tick_some(struct engine *e, struct sb_now now, size_t max, struct actions *out)
{
	engine_begin(e, out);
	/* The wall clock was stepped (NTP, date -s): quarantine ends and other
	 * wall-clock deadlines move with it. Silence and escalation do not. */
	int64_t off = now.wall_ms - now.mono_ms;
	if (off - e->wall_offset > 1000 || e->wall_offset - off > 1000) {
		void *arg[2] = {e, &now};
		objmap_each(&e->households, rearm_wall, arg);
		e->wall_offset = off;
	}
	if (e->rearm_pending)
		field_rearm(e, now);
	struct sb_timer *t;
	size_t n = 0;
	while (n < max && (t = timerq_pop_due(&e->timers, now.mono_ms))) {
		timer_fire(e, t, now);
		n++;
	}
	const struct sb_timer *next = timerq_peek(&e->timers);
	int more = next && next->when <= now.mono_ms;
	if (!more && (e->stats_running || now.mono_ms >= e->next_stats_mono)) {
		if (stats_step(e, now, STATS_SLICE))
			e->next_stats_mono = now.mono_ms + e->set.stats_interval_ms;
		else
			more = 1; /* the rest of the pass on the next call */
	}
	engine_end(e, now);
	return more;
}

void engine_tick(struct engine *e, struct sb_now now, struct actions *out)
{
	engine_tick_some(e, now, SIZE_MAX, out);
}

static void flush_one(void *v, void *arg)
{
	struct device *d = v;
	if (!(d->flags & DF_SEEN))
		return;
	struct action *x = engine_emit(arg, ACT_SAVE_SEEN);
	if (!x)
		return;
	x->u.device = d;
	d->flags &= (uint8_t)~DF_SEEN;
}

int engine_flush_liveness(struct engine *e, size_t slots, struct actions *out)
{
	engine_begin(e, out);
	e->flush_cursor = objmap_scan(&e->devices, e->flush_cursor, slots, flush_one, e);
	struct sb_now none = {0, 0};
	engine_end(e, none);
	return e->flush_cursor == 0;
}

int engine_republish(struct engine *e, const char *household_id, struct sb_now now, struct actions *out)
{
	struct household *h = objmap_get(&e->households, household_id);
	if (!h)
		return -1;
	engine_begin(e, out);
	engine_touch_household(e, h, HF_PUB);
	engine_end(e, now);
	return 0;
}

size_t engine_household_count(const struct engine *e)
{
	return objmap_size(&e->households);
}

size_t engine_device_count(const struct engine *e)
{
	return objmap_size(&e->devices);
}

const struct household *engine_household(const struct engine *e, const char *id)
{
	return objmap_get(&e->households, id);
}

const struct device *engine_device(const struct engine *e, const char *id)
{
	return objmap_get(&e->devices, id);
}

const struct alert *engine_alert(const struct engine *e, const char *id)
{
	return hashmap_get(&e->alerts, id);
}
