/* Alert number blocks and the clean-stop mark, in the meta table. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store_ids.h"
#include "store_priv.h"

static const char reserved_key[] = "alert_reserved", counter_key[] = "next_alert_no", clean_key[] = "clean_stop";

/* *out = -1 when the key is missing. */
static int meta_i64(struct store *s, const char *key, int64_t *out)
{
	sqlite3_stmt *st = store_stmt(s, SX_META_GET, "SELECT value FROM meta WHERE key = ?1");
	*out = -1;
	if (!st)
		return -1;
	int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC), ret = 0;
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		char *end = NULL;
		errno = 0;
		long long v = t ? strtoll(t, &end, 10) : -1;
		if (!t || !*t || errno || *end || v < 0) {
			store_stmt_done(st);
			char what[96];
			snprintf(what, sizeof what, "meta %s: bad value", key);
			return store_fail(s, SQLITE_CORRUPT, what);
		}
		*out = v;
	} else if (rc != SQLITE_DONE) {
		ret = store_fail(s, rc, "read meta");
	}
	store_stmt_done(st);
	return ret;
}

static int meta_set(struct store *s, const char *key, int64_t v)
{
	sqlite3_stmt *st = store_stmt(s, SX_META_SET, "INSERT INTO meta(key, value) VALUES(?1, ?2)"
						      " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
	if (!st)
		return -1;
	char text[24];
	snprintf(text, sizeof text, "%" PRId64, v);
	int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	store_stmt_done(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, rc, "write meta");
}

/* Reserving must be durable on its own: it never rides in another input's transaction. */
static int in_own_tx(struct store *s, int (*fn)(struct store *s, void *arg), void *arg)
{
	if (!sqlite3_get_autocommit(store_db(s)))
		return store_fail(s, SQLITE_MISUSE, "reserve ids inside a transaction");
	if (store_begin(s) < 0)
		return -1;
	if (fn(s, arg) < 0 || store_commit(s) < 0) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

struct start_arg {
	int64_t block, from, limit, now_ms;
	int was_clean;
	int moved; /* open alerts whose event numbers moved on */
};

static int start_tx(struct store *s, void *arg)
{
	struct start_arg *a = arg;
	int64_t reserved, counter, clean;
	if (meta_i64(s, reserved_key, &reserved) < 0 || meta_i64(s, counter_key, &counter) < 0 ||
	    meta_i64(s, clean_key, &clean) < 0)
		return -1;
	/* A database without the mark (new, or from before it) counts as unclean: the skip is harmless. */
	a->was_clean = clean == 1;
	if (!a->was_clean) {
		/* The audit trail says where the gap in each alert's event numbers comes from. */
		sqlite3_stmt *au = store_stmt(s, SX_ALERT_SEQ_AUDIT,
					      "INSERT INTO audit(at_ms, kind, household_id, device_id, alert_id, detail)"
					      " SELECT ?1, 'ids', household_id, device_id, id, 'event numbers '"
					      " || (msg_seq + 1) || '-' || (msg_seq + ?2) || ' skipped after an unclean stop'"
					      " FROM alerts WHERE state IN ('raised', 'escalated', 'acked')");
		if (!au)
			return -1;
		int arc = sqlite3_bind_int64(au, 1, a->now_ms);
		if (arc == SQLITE_OK)
			arc = sqlite3_bind_int64(au, 2, STORE_SEQ_SKIP);
		if (arc == SQLITE_OK)
			arc = sqlite3_step(au);
		store_stmt_done(au);
		if (arc != SQLITE_DONE)
			return store_fail(s, arc, "audit skipped event numbers");
		sqlite3_stmt *st = store_stmt(s, SX_ALERT_SEQ_SKIP,
					      "UPDATE alerts SET msg_seq = msg_seq + ?1"
					      " WHERE state IN ('raised', 'escalated', 'acked')");
		if (!st)
			return -1;
		int rc = sqlite3_bind_int64(st, 1, STORE_SEQ_SKIP);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		a->moved = sqlite3_changes(store_db(s));
		store_stmt_done(st);
		if (rc != SQLITE_DONE)
			return store_fail(s, rc, "move event numbers on");
	}
	a->from = reserved > counter ? reserved : counter;
	if (a->from < 1)
		a->from = 1;
	a->limit = a->from + a->block;
	return meta_set(s, clean_key, 0) < 0 ? -1 : meta_set(s, reserved_key, a->limit);
}

int store_ids_start(struct store *s, int64_t block, int64_t now_ms, int64_t *from, int64_t *limit, int *was_clean,
		    int *moved)
{
	struct start_arg a = { block, 0, 0, now_ms, 0, 0 };
	if (block < 1 || in_own_tx(s, start_tx, &a) < 0)
		return -1;
	*from = a.from;
	*limit = a.limit;
	*was_clean = a.was_clean;
	if (moved)
		*moved = a.moved;
	return 0;
}

static int reserve_tx(struct store *s, void *arg)
{
	int64_t *limit = arg, reserved;
	if (meta_i64(s, reserved_key, &reserved) < 0)
		return -1;
	/* Never move the mark back, whatever the caller asks. */
	if (reserved > *limit)
		*limit = reserved;
	return meta_set(s, reserved_key, *limit);
}

int store_ids_reserve(struct store *s, int64_t from, int64_t block, int64_t *limit)
{
	int64_t want = from + block;
	if (block < 1 || in_own_tx(s, reserve_tx, &want) < 0)
		return -1;
	*limit = want;
	return 0;
}

int store_ids_can_reserve(struct store *s)
{
	return sqlite3_get_autocommit(store_db(s)) != 0;
}

static int clean_tx(struct store *s, void *arg)
{
	(void)arg;
	return meta_set(s, clean_key, 1);
}

int store_ids_clean_stop(struct store *s)
{
	return in_own_tx(s, clean_tx, NULL);
}
