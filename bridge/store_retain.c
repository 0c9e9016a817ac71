/* Retention batches. Each kind is found through an index on its age (schema:
 * audit_at, alerts_closed_at, households_released_at, permits_until), so a
 * batch that finds nothing costs an index probe, not a scan. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "store_priv.h"
#include "store_retain.h"

struct idlist {
	char (*v)[SB_ID_MAX + 1];
	size_t n;
};

/* Ids from a query bound with (cutoff, batch). */
static int select_ids(struct store *s, enum store_ext_stmt slot, const char *sql, int64_t cutoff, size_t batch,
		      struct idlist *out)
{
	sqlite3_stmt *st = store_stmt(s, slot, sql);
	out->n = 0;
	if (!st)
		return -1;
	int rc = sqlite3_bind_int64(st, 1, cutoff);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)batch);
	while (rc == SQLITE_OK && out->n < batch && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (id && strlen(id) <= SB_ID_MAX)
			memcpy(out->v[out->n++], id, strlen(id) + 1);
		rc = SQLITE_OK;
	}
	store_stmt_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		return store_fail(s, rc, "retention: select");
	return 0;
}

/* Runs a statement bound with (text id[, cutoff]); returns rows changed or -1. */
static int run_id(struct store *s, enum store_ext_stmt slot, const char *sql, const char *id, int64_t cutoff,
		  int with_cutoff)
{
	sqlite3_stmt *st = store_stmt(s, slot, sql);
	if (!st)
		return -1;
	int rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && with_cutoff)
		rc = sqlite3_bind_int64(st, 2, cutoff);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	store_stmt_done(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, "retention: delete");
	return sqlite3_changes(store_db(s));
}

static int batch_audit(struct store *s, int64_t cutoff, size_t batch, struct store_retained *n, int *more)
{
	sqlite3_stmt *st = store_stmt(s, SX_AUDIT_OLD,
				      "DELETE FROM audit WHERE id IN"
				      " (SELECT id FROM audit WHERE at_ms < ?1 ORDER BY at_ms LIMIT ?2)");
	if (!st)
		return -1;
	int rc = sqlite3_bind_int64(st, 1, cutoff);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)batch);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	store_stmt_done(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, "retention: audit");
	size_t k = (size_t)sqlite3_changes(store_db(s));
	n->audit += k;
	*more |= k == batch;
	return 0;
}

static int batch_alerts(struct store *s, int64_t cutoff, size_t batch, store_gone_fn fn, void *arg,
			struct idlist *ids, struct store_retained *n, int *more)
{
	if (select_ids(s, SX_ALERTS_OLD,
		       /* Without statistics the planner would walk every closed alert through alerts_state. */
		       "SELECT id FROM alerts INDEXED BY alerts_closed_at"
		       " WHERE state IN ('resolved', 'cleared') AND updated_ms < ?1 LIMIT ?2",
		       cutoff, batch, ids) < 0)
		return -1;
	size_t gone = 0;
	for (size_t i = 0; i < ids->n; i++) {
		if (fn && fn(arg, STORE_GONE_ALERT, ids->v[i]) != 0)
			continue;
		int k = run_id(s, SX_ALERT_DEL, "DELETE FROM alerts WHERE id = ?1", ids->v[i], 0, 0);
		if (k < 0)
			return -1;
		gone += (size_t)k;
	}
	n->alerts += gone;
	*more |= ids->n == batch && gone > 0;
	return 0;
}

static int batch_households(struct store *s, int64_t cutoff, size_t batch, store_gone_fn fn, void *arg,
			    struct idlist *ids, struct store_retained *n, int *more)
{
	if (select_ids(s, SX_HOUSEHOLDS_OLD,
		       "SELECT id FROM households h WHERE released = 1 AND released_ms < ?1"
		       " AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.household_id = h.id"
		       "  AND a.state IN ('raised', 'escalated', 'acked'))"
		       /* A seal still on the door awaits collection there: the collect-list needs its household. */
		       " AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.household_id = h.id)"
		       " LIMIT ?2",
		       cutoff, batch, ids) < 0)
		return -1;
	size_t gone = 0;
	for (size_t i = 0; i < ids->n; i++) {
		if (fn && fn(arg, STORE_GONE_HOUSEHOLD, ids->v[i]) != 0)
			continue;
		/* A seal left on the door since the release is no longer this household's. */
		if (run_id(s, SX_DEVICE_DETACH, "UPDATE devices SET household_id = NULL WHERE household_id = ?1",
			   ids->v[i], 0, 0) < 0)
			return -1;
		int p = run_id(s, SX_PERMITS_OF_DEL, "DELETE FROM permits WHERE household_id = ?1", ids->v[i], 0, 0);
		if (p < 0)
			return -1;
		int k = run_id(s, SX_HOUSEHOLD_DEL, "DELETE FROM households WHERE id = ?1", ids->v[i], 0, 0);
		if (k < 0)
			return -1;
		n->permits += (size_t)p;
		gone += (size_t)k;
	}
	n->households += gone;
	*more |= ids->n == batch && gone > 0;
	return 0;
}

static int batch_permits(struct store *s, int64_t cutoff, size_t batch, store_gone_fn fn, void *arg,
			 struct idlist *ids, struct store_retained *n, int *more)
{
	if (select_ids(s, SX_PERMITS_LAPSED,
		       "SELECT DISTINCT household_id FROM permits WHERE until_ms < ?1 LIMIT ?2", cutoff, batch,
		       ids) < 0)
		return -1;
	size_t gone = 0;
	for (size_t i = 0; i < ids->n; i++) {
		if (fn && fn(arg, STORE_GONE_PERMITS, ids->v[i]) != 0)
			continue;
		int k = run_id(s, SX_PERMITS_LAPSED_DEL, "DELETE FROM permits WHERE household_id = ?1 AND until_ms < ?2",
			       ids->v[i], cutoff, 1);
		if (k < 0)
			return -1;
		gone += (size_t)k;
	}
	n->permits += gone;
	*more |= ids->n == batch && gone > 0;
	return 0;
}

int store_retain_step(struct store *s, int64_t cutoff_ms, size_t batch, store_gone_fn fn, void *arg,
		      struct store_retained *n)
{
	struct idlist ids = { calloc(batch ? batch : 1, sizeof(*ids.v)), 0 };
	int more = 0;
	if (!ids.v)
		return store_fail(s, SQLITE_NOMEM, "retention");
	int ret = store_begin(s);
	if (ret == 0)
		ret = batch_audit(s, cutoff_ms, batch, n, &more);
	if (ret == 0)
		ret = batch_alerts(s, cutoff_ms, batch, fn, arg, &ids, n, &more);
	/* Households before their permits: a household that goes takes them along. */
	if (ret == 0)
		ret = batch_households(s, cutoff_ms, batch, fn, arg, &ids, n, &more);
	if (ret == 0)
		ret = batch_permits(s, cutoff_ms, batch, fn, arg, &ids, n, &more);
	if (ret == 0)
		ret = store_commit(s);
	else
		store_rollback(s);
	free(ids.v);
	return ret < 0 ? -1 : more;
}
