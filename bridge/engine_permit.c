/* Permits with an id: for one household or a whole unit (a testing round),
 * once or every day between two local clock times (the rubbish run). They
 * are looked up by target when a door opens, so a household admitted into a
 * unit while its permit runs is covered, and revoked by id. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "tzwin.h"

struct fpermit {
	struct permit_rec r;
	char key[SB_ID_MAX + 3]; /* "H:<household>" or "<level>:<unit>": the target map's key */
	struct fpermit *next;    /* same target */
};

static void fail(struct cmd_result *res, const char *code, const char *msg, const char *arg)
{
	res->ok = 0;
	res->error = code;
	snprintf(res->message, sizeof(res->message), msg, arg);
}

static void target_key(int level, const char *target, char out[SB_ID_MAX + 3])
{
	if (level < 0)
		snprintf(out, SB_ID_MAX + 3, "H:%s", target);
	else
		snprintf(out, SB_ID_MAX + 3, "%c:%s", (char)('0' + level), target);
}

static int add(struct engine *e, const struct permit_rec *r)
{
	struct fpermit *p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->r = *r;
	target_key(r->level, r->target, p->key);
	struct fpermit *head = hashmap_get(&e->permit_targets, p->key);
	if (hashmap_put(&e->permits, p->r.id, p) < 0) {
		free(p);
		return -1;
	}
	if (head) {
		p->next = head->next;
		head->next = p;
	} else if (hashmap_put(&e->permit_targets, p->key, p) < 0) {
		hashmap_del(&e->permits, p->r.id);
		free(p);
		return -1;
	}
	return 0;
}

/* Out of both maps; the caller frees it (after its last use in this call). */
static void unlink_permit(struct engine *e, struct fpermit *p)
{
	hashmap_del(&e->permits, p->r.id);
	struct fpermit *head = hashmap_get(&e->permit_targets, p->key);
	if (head == p) {
		hashmap_del(&e->permit_targets, p->key);
		if (p->next && hashmap_put(&e->permit_targets, p->next->key, p->next) < 0 && e->out)
			e->out->oom = 1;
		return;
	}
	for (struct fpermit *q = head; q; q = q->next)
		if (q->next == p) {
			q->next = p->next;
			return;
		}
}

static void save(struct engine *e, const struct permit_rec *r)
{
	struct action *x = engine_emit(e, ACT_SAVE_PERMIT);
	if (x)
		x->u.permit = *r;
}

static int covers(const struct permit_rec *r, int64_t t)
{
	if (t < r->from_ms || t > r->until_ms)
		return 0;
	return r->daily_from < 0 || tzwin_in_window(t, r->daily_from, r->daily_until);
}

static const char *covers_key(struct engine *e, const char *key, int64_t t)
{
	for (struct fpermit *p = hashmap_get(&e->permit_targets, key); p; p = p->next)
		if (covers(&p->r, t))
			return p->r.id;
	return NULL;
}

const char *permit_covers(struct engine *e, const struct household *h, int64_t wall_ms)
{
	if (!hashmap_size(&e->permits))
		return NULL;
	char key[SB_ID_MAX + 3];
	target_key(-1, h->id, key);
	const char *id = covers_key(e, key, wall_ms);
	for (int l = 0; !id && l < SB_LEVEL_COUNT && h->place; l++) {
		target_key(l, h->place->unit[l]->id, key);
		id = covers_key(e, key, wall_ms);
	}
	return id;
}

/* Permits of one target that have not lapsed (a household's own include the
 * ones loaded from before permits had ids): a cap keeps every save and lookup small. */
static int permits_held(struct engine *e, int level, const char *target, int64_t wall_ms)
{
	char key[SB_ID_MAX + 3];
	target_key(level, target, key);
	int n = 0;
	for (struct fpermit *p = hashmap_get(&e->permit_targets, key); p; p = p->next)
		if (p->r.until_ms >= wall_ms)
			n++;
	struct household *h = level < 0 ? objmap_get(&e->households, target) : NULL;
	for (const struct permit *q = h ? h->permits : NULL; q; q = q->next)
		if (q->until_ms >= wall_ms)
			n++;
	return n;
}

void cmd_permit(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	struct permit_rec r;
	memset(&r, 0, sizeof(r));
	r.level = c->area - 1;
	struct household *h = NULL;
	if (r.level < 0) {
		h = objmap_get(&e->households, c->household_id);
		if (!h) {
			fail(res, "unknown_household", "no household '%s'", c->household_id);
			return;
		}
		if (h->released) {
			fail(res, "not_active", "household '%s' was released", c->household_id);
			return;
		}
		snprintf(r.target, sizeof(r.target), "%s", h->id);
	} else {
		char key[SB_ID_MAX + 3];
		snprintf(key, sizeof(key), "%c:%s", (char)('0' + r.level), c->unit_id[r.level]);
		if (!hashmap_get(&e->units, key)) {
			res->ok = 0;
			res->error = "unknown_unit";
			snprintf(res->message, sizeof(res->message), "no %s '%s' holds any household",
				 sb_level_name((enum sb_level)r.level), c->unit_id[r.level]);
			return;
		}
		snprintf(r.target, sizeof(r.target), "%s", c->unit_id[r.level]);
	}
	r.from_ms = c->has_from ? c->from_ms : now.wall_ms;
	r.until_ms = c->until_ms;
	if (r.until_ms < r.from_ms) {
		fail(res, "bad_request", "'until' is before 'from'%s", "");
		return;
	}
	if (r.until_ms < now.wall_ms) {
		fail(res, "bad_request", "'until' is in the past%s", "");
		return;
	}
	r.daily_from = r.daily_until = -1;
	if (c->has_daily) {
		if (c->daily_from == c->daily_until) {
			fail(res, "bad_request", "'daily': 'from' and 'until' are the same time%s", "");
			return;
		}
		r.daily_from = c->daily_from;
		r.daily_until = c->daily_until;
	}
	if (permits_held(e, r.level, r.target, now.wall_ms) >= SB_PERMITS_MAX) {
		res->ok = 0;
		res->error = "too_many_permits";
		snprintf(res->message, sizeof(res->message), "'%s' already holds %d permits that have not lapsed",
			 r.target, SB_PERMITS_MAX);
		return;
	}
	snprintf(r.reason, sizeof(r.reason), "%s", c->reason);
	/* The alert counter is durable and never repeats: permit ids share it. */
	engine_take_id(e, "p", r.id, sizeof(r.id));
	if (add(e, &r) < 0) {
		fail(res, "internal", "out of memory%s", "");
		return;
	}
	save(e, &r);
	snprintf(res->permit_id, sizeof(res->permit_id), "%s", r.id);
	engine_audit(e, "command", h, NULL, NULL, now, "permit %s for %s %s %lld..%lld%s%s%s", r.id,
		     r.level < 0 ? "household" : sb_level_name((enum sb_level)r.level), r.target, (long long)r.from_ms,
		     (long long)r.until_ms, c->has_daily ? " daily" : "", c->reason[0] ? ": " : "", c->reason);
	if (h)
		engine_touch_household(e, h, HF_PUB);
}

void cmd_revoke(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res)
{
	snprintf(res->permit_id, sizeof(res->permit_id), "%s", c->permit_id);
	struct fpermit *p = hashmap_get(&e->permits, c->permit_id);
	if (!p) {
		fail(res, "unknown_permit", "no permit '%s' (unknown, revoked or lapsed)", c->permit_id);
		return;
	}
	unlink_permit(e, p);
	p->r.gone = 1;
	save(e, &p->r);
	struct household *h = p->r.level < 0 ? objmap_get(&e->households, p->r.target) : NULL;
	engine_audit(e, "command", h, NULL, NULL, now, "revoke %s", p->r.id);
	if (h)
		engine_touch_household(e, h, HF_PUB);
	free(p);
}

/* A released household's own permits end with its quarantine. */
void permit_drop_household(struct engine *e, const struct household *h)
{
	char key[SB_ID_MAX + 3];
	target_key(-1, h->id, key);
	struct fpermit *p;
	while ((p = hashmap_get(&e->permit_targets, key))) {
		unlink_permit(e, p);
		p->r.gone = 1;
		save(e, &p->r);
		free(p);
	}
}

int engine_load_permit_rec(struct engine *e, const struct permit_rec *r)
{
	if (!sb_id_valid(r->id) || !sb_id_valid(r->target) || r->level < -1 || r->level >= SB_LEVEL_COUNT ||
	    hashmap_get(&e->permits, r->id))
		return -2;
	return add(e, r) < 0 ? -1 : 0;
}

struct lapsed {
	int64_t now;
	struct ptrvec v;
	int oom;
};

static void find_lapsed(const char *k, void *v, void *arg)
{
	(void)k;
	struct lapsed *l = arg;
	struct fpermit *p = v;
	if (p->r.until_ms < l->now && ptrvec_push(&l->v, p) < 0)
		l->oom = 1;
}

/* Lapsed permits leave memory and the store (the audit trail keeps them). */
void permit_prune(struct engine *e, struct sb_now now)
{
	if (!hashmap_size(&e->permits))
		return;
	struct lapsed l = {now.wall_ms, {0}, 0};
	hashmap_each(&e->permits, find_lapsed, &l);
	for (size_t i = 0; i < l.v.n; i++) {
		struct fpermit *p = l.v.v[i];
		unlink_permit(e, p);
		p->r.gone = 1;
		save(e, &p->r);
		free(p);
	}
	free(l.v.v);
}

static void free_one(const char *k, void *v, void *arg)
{
	(void)k;
	(void)arg;
	free(v);
}

void permit_free_all(struct engine *e)
{
	hashmap_each(&e->permits, free_one, NULL);
	hashmap_free(&e->permits);
	hashmap_free(&e->permit_targets);
}
