/* Field operations in the engine: the source a seal speaks through, the
 * gateway it reaches the broker through, its model, the time a queued report
 * is judged at, resolutions for the statistics, and re-arming deadlines when
 * the settings change. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* ---- models ---- */

static const struct engine_model *model_settings(const struct engine *e, const char *name)
{
	for (int i = 0; i < e->set.n_models; i++)
		if (strcmp(e->set.models[i].name, name) == 0)
			return &e->set.models[i];
	return NULL;
}

int field_model_known(const struct engine *e, const char *name)
{
	return model_settings(e, name) != NULL;
}

static const struct engine_model *device_model(const struct engine *e, const struct device *d)
{
	return d->model ? model_settings(e, d->model) : NULL;
}

/* One copy of each name, living until engine_free; NULL on OOM. */
static const char *model_intern(struct engine *e, const char *name)
{
	for (size_t i = 0; i < e->model_names.n; i++)
		if (strcmp(e->model_names.v[i], name) == 0)
			return e->model_names.v[i];
	char *k = strdup(name);
	if (!k || ptrvec_push(&e->model_names, k) < 0) {
		free(k);
		return NULL;
	}
	return k;
}

const char *engine_model_name(const struct engine *e, const struct device *d)
{
	(void)e;
	return d ? d->model : NULL;
}

/* install's value, else the model's, else timing.silence_after. */
int64_t field_silence_after(const struct engine *e, const struct device *d)
{
	if (d->silence_after_ms > 0)
		return d->silence_after_ms;
	const struct engine_model *m = device_model(e, d);
	return m && m->silence_after_ms > 0 ? m->silence_after_ms : e->set.silence_after_ms;
}

int field_battery_low(const struct engine *e, const struct device *d)
{
	const struct engine_model *m = d ? device_model(e, d) : NULL;
	return m && m->battery_low >= 0 ? m->battery_low : e->set.battery_low;
}

/* ---- gateways ---- */

struct gateway *gateway_get(struct engine *e, const char *id, int create)
{
	struct gateway *g = hashmap_get(&e->gateways, id);
	if (g || !create)
		return g;
	size_t n = strlen(id) + 1;
	g = calloc(1, sizeof(*g) + n);
	if (!g)
		return NULL;
	memcpy(g->id, id, n);
	if (hashmap_put(&e->gateways, g->id, g) < 0 || ptrvec_push(&e->gateway_list, g) < 0) {
		hashmap_del(&e->gateways, g->id);
		free(g);
		return NULL;
	}
	return g;
}

const struct gateway *engine_gateway(const struct engine *e, const char *id)
{
	return hashmap_get(&e->gateways, id);
}

void gateway_attach(struct engine *e, struct device *d, struct gateway *g)
{
	if (d->gateway == g)
		return;
	gateway_detach(e, d);
	if (!g)
		return;
	if (g->ndevs == g->capdevs) {
		size_t ncap = g->capdevs ? g->capdevs * 2 : 8;
		struct device **nv = realloc(g->devs, ncap * sizeof(*nv));
		if (!nv) {
			if (e->out)
				e->out->oom = 1;
			return;
		}
		g->devs = nv;
		g->capdevs = ncap;
	}
	g->devs[g->ndevs++] = d;
	d->gateway = g;
}

void gateway_detach(struct engine *e, struct device *d)
{
	(void)e;
	struct gateway *g = d->gateway;
	if (!g)
		return;
	for (size_t i = 0; i < g->ndevs; i++)
		if (g->devs[i] == d) {
			g->devs[i] = g->devs[--g->ndevs];
			break;
		}
	d->gateway = NULL;
}

/* The lowest level whose unit holds every one of these households. */
static enum sb_level common_level(struct household **hs, size_t n)
{
	for (int l = SB_LEVEL_COMMUNITY; l < SB_LEVEL_DISTRICT; l++) {
		size_t i = 1;
		while (i < n && hs[i]->place->unit[l] == hs[0]->place->unit[l])
			i++;
		if (i == n)
			return (enum sb_level)l;
	}
	return SB_LEVEL_DISTRICT;
}

static void gateway_raise(struct engine *e, struct gateway *g, struct sb_now now)
{
	struct household **hs = calloc(g->ndevs + 1, sizeof(*hs));
	if (!hs) {
		e->out->oom = 1;
		return;
	}
	size_t n = 0;
	for (size_t i = 0; i < g->ndevs; i++) {
		struct household *h = g->devs[i]->household;
		if (h && engine_household_active(h, now))
			hs[n++] = h;
	}
	if (n == 0) {
		free(hs);
		return;
	}
	struct alert *a = calloc(1, sizeof(*a));
	if (!a) {
		free(hs);
		e->out->oom = 1;
		return;
	}
	engine_take_id(e, "", a->id, sizeof(a->id));
	a->type = SB_ALERT_GATEWAY_OFFLINE;
	a->level = common_level(hs, n);
	/* Several districts behind one gateway: the first household's district takes it. */
	for (int l = (int)a->level; l < SB_LEVEL_COUNT; l++)
		snprintf(a->unit_id[l], sizeof(a->unit_id[l]), "%s", hs[0]->place->unit[l]->id);
	snprintf(a->gateway_id, sizeof(a->gateway_id), "%s", g->id);
	a->households = (int)n;
	a->since_ms = now.wall_ms;
	a->raised_ms = now.wall_ms;
	a->count = 1;
	a->esc_timer.idx = TIMER_IDLE;
	a->esc_timer.kind = TK_ESCALATE;
	free(hs);
	if (hashmap_put(&e->alerts, a->id, a) < 0) {
		free(a);
		e->out->oom = 1;
		return;
	}
	g->alert = a;
	alert_set_state(e, a, SB_AST_RAISED, NULL, NULL, now);
}

/* A seal fitted behind a gateway that is already offline: the gateway's alert
 * is raised now if it has none (it had no active household behind it). */
void field_after_fit(struct engine *e, struct device *d, struct sb_now now)
{
	struct gateway *g = d->gateway;
	if (g && g->offline && !g->alert)
		gateway_raise(e, g, now);
}

void gateway_alert_closed(struct engine *e, struct alert *a)
{
	struct gateway *g = hashmap_get(&e->gateways, a->gateway_id);
	if (g && g->alert == a)
		g->alert = NULL;
}

void engine_gateway_status(struct engine *e, const char *gateway_id, int online, struct sb_now now,
			   struct actions *out)
{
	engine_begin(e, out);
	struct gateway *g = gateway_get(e, gateway_id, 1);
	if (!g) {
		out->oom = 1;
		engine_end(e, now);
		return;
	}
	int was_offline = g->offline;
	g->offline = !online;
	if (was_offline == g->offline) {
		engine_end(e, now);
		return;
	}
	g->changed_ms = now.wall_ms;
	if (online)
		g->back_mono = now.mono_ms;
	for (size_t i = 0; i < g->ndevs; i++) {
		struct device *d = g->devs[i];
		/* Offline: no silence is counted. Back: every deadline at least silence_after away. */
		timerq_cancel(&e->timers, &d->silence_timer);
		if (online)
			timer_arm_silence(e, d, now);
		if (d->household && !d->household->released)
			engine_touch_household(e, d->household, HF_PUB);
	}
	engine_audit(e, "gateway", NULL, NULL, g->alert ? g->alert->id : NULL, now, "%s %s", g->id,
		     online ? "online" : "offline");
	if (!online && !g->alert)
		gateway_raise(e, g, now);
	else if (online && g->alert)
		alert_set_state(e, g->alert, SB_AST_CLEARED, NULL, NULL, now);
	engine_end(e, now);
}

/* ---- fitting ---- */

int field_install_check(struct engine *e, const struct command *c, struct cmd_result *res)
{
	if (c->model[0] && !model_settings(e, c->model)) {
		res->ok = 0;
		res->error = "bad_request";
		snprintf(res->message, sizeof(res->message), "model '%s' is not configured", c->model);
		return -1;
	}
	return 0;
}

/* A fitting starts the seal's life on this door: seq goes on (it belongs to
 * the seal), and what it said before now never raises. */
void field_fitted(struct engine *e, struct device *d, const struct command *c, struct sb_now now)
{
	d->fit_seq = d->seq;
	d->judged_ms = now.wall_ms;
	d->source = (uint8_t)c->source;
	struct gateway *g = NULL;
	if (c->gateway_id[0] && !(g = gateway_get(e, c->gateway_id, 1)))
		e->out->oom = 1;
	gateway_attach(e, d, g);
	d->gateway_learned = 0;
	/* install's model, else the one the seal was registered with (custody). */
	const char *model = c->model[0] ? c->model : custody_registered_model(e, d);
	d->model = model && *model && field_model_known(e, model) ? model_intern(e, model) : NULL;
	d->flags |= DF_LINK;
	engine_touch_device(e, d);
}

/* install again on the same door: only what the command names changes. */
void field_refit(struct engine *e, struct device *d, const struct command *c, struct sb_now now)
{
	int changed = 0;
	if (c->source != SB_SRC_NONE && c->source != d->source) {
		d->source = (uint8_t)c->source;
		changed = 1;
	}
	if (c->gateway_id[0] && (!d->gateway || strcmp(d->gateway->id, c->gateway_id) != 0)) {
		gateway_attach(e, d, gateway_get(e, c->gateway_id, 1));
		d->gateway_learned = 0;
		changed = 1;
	}
	if (c->model[0]) {
		const char *m = model_intern(e, c->model);
		if (m != d->model) {
			d->model = m;
			changed = 1;
		}
	}
	if (changed) {
		d->flags |= DF_LINK;
		engine_touch_device(e, d);
		timerq_cancel(&e->timers, &d->silence_timer);
		timer_arm_silence(e, d, now);
	}
}

void field_unfitted(struct engine *e, struct device *d, struct sb_now now)
{
	(void)now;
	gateway_detach(e, d);
	d->gateway_learned = 0;
	d->flags |= DF_LINK;
}

int engine_load_seal_link(struct engine *e, const char *device_id, enum sb_source src, const char *gateway_id,
			  int gateway_learned, const char *model, int64_t fit_seq)
{
	struct device *d = objmap_get(&e->devices, device_id);
	if (!d || (int)src < 0 || src >= SB_SRC_COUNT)
		return -2;
	d->source = (uint8_t)src;
	d->fit_seq = fit_seq;
	if (gateway_id && *gateway_id) {
		struct gateway *g = gateway_get(e, gateway_id, 1);
		if (!g)
			return -1;
		if (d->household)
			gateway_attach(e, d, g);
		d->gateway_learned = (uint8_t)(gateway_learned != 0);
	}
	if (model && *model && !(d->model = model_intern(e, model)))
		return -1;
	return 0;
}

int engine_load_gateway_alert(struct engine *e, const struct alert *src)
{
	if (!sb_id_valid(src->gateway_id) || hashmap_get(&e->alerts, src->id))
		return -2;
	struct gateway *g = gateway_get(e, src->gateway_id, 1);
	if (!g)
		return -1;
	if (g->alert)
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
	/* Open means it was offline when we stopped; its retained status tells us more at once. */
	g->alert = a;
	g->offline = 1;
	return 0;
}

void field_loaded(struct engine *e, struct sb_now now)
{
	/* Only the last 24 h of resolutions are kept (the store holds them all). */
	size_t k = 0;
	for (size_t i = 0; i < e->resolved_n; i++)
		if (e->resolved[i].at_ms > now.wall_ms - 24 * 3600 * 1000LL)
			e->resolved[k++] = e->resolved[i];
	e->resolved_n = k;
	for (size_t i = 0; i < e->gateway_list.n; i++) {
		struct gateway *g = e->gateway_list.v[i];
		if (g->alert)
			alert_escalate_due(e, g->alert, now);
	}
}

/* ---- queued reports ---- */

/* A report the broker kept for us while we could not hear is judged at the
 * seal's own ts, when that is plausible: not before what we last judged for
 * it, its fitting or the moment we stopped hearing, not after we could hear
 * again (a later ts means a live report), and never after now. */
int64_t field_judge_time(const struct engine *e, const struct device *d, const struct report *r, struct sb_now now)
{
	/* Before we count ourselves as hearing (a resumed session delivers its
	 * queue before our subscriptions are confirmed) every report may be queued. */
	int64_t hear = e->connected ? e->hear_since_wall : now.wall_ms;
	if (!r->has_ts || r->ts > hear || r->ts >= now.wall_ms)
		return now.wall_ms;
	int64_t lo = max64(max64(d->judged_ms, d->fitted_ms), e->deaf_from_wall);
	if (lo > now.wall_ms)
		return now.wall_ms;
	return max64(r->ts, lo);
}

/* ---- resolutions, for resolved_24h ---- */

static void resolved_push(struct engine *e, struct unit *const u[SB_LEVEL_COUNT], enum sb_outcome o, int64_t at)
{
	if (e->resolved_n == e->resolved_cap) {
		size_t ncap = e->resolved_cap ? e->resolved_cap * 2 : 64;
		struct resolved_rec *nv = realloc(e->resolved, ncap * sizeof(*nv));
		if (!nv) {
			if (e->out)
				e->out->oom = 1;
			return;
		}
		e->resolved = nv;
		e->resolved_cap = ncap;
	}
	struct resolved_rec *r = &e->resolved[e->resolved_n++];
	memcpy(r->unit, u, sizeof(r->unit));
	r->outcome = (uint8_t)o;
	r->at_ms = at;
}

void field_note_resolved(struct engine *e, const struct alert *a, struct sb_now now)
{
	struct unit *u[SB_LEVEL_COUNT] = {NULL, NULL, NULL};
	const struct household *h = a->household_id[0] ? objmap_get(&e->households, a->household_id) : NULL;
	for (int l = 0; l < SB_LEVEL_COUNT; l++) {
		if (h && h->place)
			u[l] = h->place->unit[l];
		else if (a->unit_id[l][0])
			u[l] = engine_unit(e, (enum sb_level)l, a->unit_id[l]);
	}
	resolved_push(e, u, (enum sb_outcome)a->outcome, now.wall_ms);
}

int engine_load_resolved(struct engine *e, const char *const unit_ids[SB_LEVEL_COUNT], enum sb_outcome o,
			 int64_t closed_ms)
{
	struct unit *u[SB_LEVEL_COUNT] = {NULL, NULL, NULL};
	for (int l = 0; l < SB_LEVEL_COUNT; l++)
		if (unit_ids[l] && sb_id_valid(unit_ids[l]) && !(u[l] = engine_unit(e, (enum sb_level)l, unit_ids[l])))
			return -1;
	if ((int)o < 0 || o >= SB_OUT_COUNT)
		return -2;
	resolved_push(e, u, o, closed_ms);
	return 0;
}

/* Statistics beyond the per-household counts: resolutions of the last 24 h
 * (older ones are dropped here) and open gateway alerts. */
void field_count_stats(struct engine *e, struct sb_now now)
{
	permit_prune(e, now);
	size_t k = 0;
	for (size_t i = 0; i < e->resolved_n; i++) {
		struct resolved_rec *r = &e->resolved[i];
		if (r->at_ms <= now.wall_ms - 24 * 3600 * 1000LL)
			continue;
		e->resolved[k++] = *r;
		for (int l = 0; l < SB_LEVEL_COUNT; l++)
			if (r->unit[l])
				((struct unit_node *)r->unit[l])->resolved_24h[r->outcome]++;
	}
	e->resolved_n = k;
	for (size_t i = 0; i < e->gateway_list.n; i++) {
		struct gateway *g = e->gateway_list.v[i];
		for (int l = 0; g->alert && l < SB_LEVEL_COUNT; l++) {
			struct unit *un = g->alert->unit_id[l][0] ? engine_unit(e, (enum sb_level)l, g->alert->unit_id[l]) : NULL;
			if (un)
				((struct unit_node *)un)->open_alerts++;
		}
	}
}

/* ---- changed settings ---- */

static void rearm_household(void *v, void *arg)
{
	void **a = arg;
	struct engine *e = a[0];
	struct sb_now now = *(struct sb_now *)a[1];
	struct household *h = v;
	timer_arm_household(e, h, now);
	if (h->device) {
		timerq_cancel(&e->timers, &h->device->silence_timer);
		timer_arm_silence(e, h->device, now);
	}
}

static void rearm_alert(const char *key, void *v, void *arg)
{
	(void)key;
	void **x = arg;
	struct engine *e = x[0];
	struct sb_now now = *(struct sb_now *)x[1];
	struct alert *a = v;
	int64_t old, neu;
	if (a->state == SB_AST_RAISED || a->state == SB_AST_ESCALATED) {
		int street = a->level == SB_LEVEL_COMMUNITY;
		old = street ? e->prev_street_ms : e->prev_district_ms;
		neu = street ? e->set.street_after_ms : e->set.district_after_ms;
	} else if (a->state == SB_AST_ACKED || a->state == SB_AST_REMINDED) {
		old = e->prev_reminder_ms;
		neu = e->set.reminder_after_ms;
	} else {
		return;
	}
	if (old == neu)
		return;
	/* Not escalating (battery_low, or at district level already). */
	if ((a->state == SB_AST_RAISED || a->state == SB_AST_ESCALATED) && a->esc_timer.idx == TIMER_IDLE)
		return;
	if (neu == 0) {
		timerq_cancel(&e->timers, &a->esc_timer);
		a->due_ms = 0;
	} else {
		a->due_ms = a->due_ms && old ? a->due_ms - old + neu : now.wall_ms + neu;
		int64_t left = a->due_ms - now.wall_ms;
		a->due_mono = now.mono_ms + (left > 0 ? left : 0);
		if (timerq_set(&e->timers, &a->esc_timer, a->due_mono) < 0)
			e->out->oom = 1;
	}
	struct action *act = engine_emit(e, ACT_SAVE_ALERT);
	if (act)
		act->u.alert = *a;
}

/* SIGHUP: deadlines move to what the new settings say, now, rather than
 * when the old deadline fires. An escalation keeps the moment it was armed
 * from; a deadline already past fires at once. */
void field_rearm(struct engine *e, struct sb_now now)
{
	e->rearm_pending = 0;
	void *arg[2] = {e, &now};
	if (e->rearm_roster)
		objmap_each(&e->households, rearm_household, arg);
	e->rearm_roster = 0;
	hashmap_each(&e->alerts, rearm_alert, arg);
}

void field_free(struct engine *e)
{
	for (size_t i = 0; i < e->gateway_list.n; i++) {
		struct gateway *g = e->gateway_list.v[i];
		free(g->alert); /* an open gateway alert belongs to no household list */
		free(g->devs);
		free(g);
	}
	free(e->gateway_list.v);
	hashmap_free(&e->gateways);
	for (size_t i = 0; i < e->model_names.n; i++)
		free(e->model_names.v[i]);
	free(e->model_names.v);
	free(e->resolved);
}
