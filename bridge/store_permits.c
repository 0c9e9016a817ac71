/* A household's permits are saved by difference: its rows are read (a few at
 * most: SB_PERMITS_MAX active, plus lapsed ones not yet pruned), rows that are
 * no longer in memory are deleted and permits missing from the table are
 * inserted. Re-admitting or touching a household writes no permit row at all. */
#include <stdlib.h>
#include <string.h>

#include "store_priv.h"

struct prow {
	sqlite3_int64 rowid;
	int64_t from_ms, until_ms;
	char *reason; /* NULL for none */
	int matched;
};

static int same_reason(const char *a, const char *b)
{
	if (!a || !*a)
		return !b || !*b;
	return b && strcmp(a, b) == 0;
}

static void rows_free(struct prow *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].reason);
	free(v);
}

static int read_rows(struct store *s, const char *hid, struct prow **out, size_t *nout)
{
	sqlite3_stmt *st = store_stmt(s, SX_PERMITS_OF,
				      "SELECT rowid, from_ms, until_ms, reason FROM permits WHERE household_id = ?1");
	struct prow *v = NULL;
	size_t n = 0, cap = 0;
	int rc;
	*out = NULL;
	*nout = 0;
	if (!st)
		return -1;
	rc = sqlite3_bind_text(st, 1, hid, -1, SQLITE_STATIC);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct prow *nv = realloc(v, ncap * sizeof(*nv));
			if (!nv) {
				rc = SQLITE_NOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		struct prow *r = &v[n];
		memset(r, 0, sizeof(*r));
		r->rowid = sqlite3_column_int64(st, 0);
		r->from_ms = sqlite3_column_int64(st, 1);
		r->until_ms = sqlite3_column_int64(st, 2);
		const char *t = (const char *)sqlite3_column_text(st, 3);
		if (t && *t && !(r->reason = strdup(t))) {
			rc = SQLITE_NOMEM;
			break;
		}
		n++;
		rc = SQLITE_OK;
	}
	store_stmt_done(st);
	if (rc != SQLITE_DONE) {
		rows_free(v, n);
		return store_fail(s, rc, "read permits");
	}
	*out = v;
	*nout = n;
	return 0;
}

static int step_done(struct store *s, sqlite3_stmt *st, int rc, const char *what)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	store_stmt_done(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, rc, what);
}

int store_permits_sync(struct store *s, const struct household *h)
{
	struct prow *rows;
	size_t n;
	if (read_rows(s, h->id, &rows, &n) < 0)
		return -1;
	int ret = 0;
	for (const struct permit *p = h->permits; p && ret == 0; p = p->next) {
		size_t i = 0;
		while (i < n && (rows[i].matched || rows[i].from_ms != p->from_ms || rows[i].until_ms != p->until_ms ||
				 !same_reason(rows[i].reason, p->reason)))
			i++;
		if (i < n) {
			rows[i].matched = 1;
			continue;
		}
		sqlite3_stmt *st = store_stmt(s, SX_PERMIT_ADD,
					      "INSERT INTO permits(household_id, from_ms, until_ms, reason)"
					      " VALUES(?1, ?2, ?3, ?4)");
		if (!st) {
			ret = -1;
			break;
		}
		int rc = sqlite3_bind_text(st, 1, h->id, -1, SQLITE_STATIC);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 2, p->from_ms);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, 3, p->until_ms);
		if (rc == SQLITE_OK)
			rc = p->reason && *p->reason ? sqlite3_bind_text(st, 4, p->reason, -1, SQLITE_STATIC)
						     : sqlite3_bind_null(st, 4);
		ret = step_done(s, st, rc, "save permit");
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		if (rows[i].matched)
			continue;
		sqlite3_stmt *st = store_stmt(s, SX_PERMIT_DEL_ROW, "DELETE FROM permits WHERE rowid = ?1");
		if (!st) {
			ret = -1;
			break;
		}
		ret = step_done(s, st, sqlite3_bind_int64(st, 1, rows[i].rowid), "delete permit");
	}
	rows_free(rows, n);
	return ret;
}
