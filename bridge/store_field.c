/* Seal links and permits with an id in SQLite; bound parameters only. */
#include "store_field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FS_LINK_SAVE, FS_PERMIT_SAVE, FS_PERMIT_DELETE, FS_LINKS_LOAD, FS_PERMITS_LOAD, FS_COUNT };

static const char *const sql[FS_COUNT] = {
	[FS_LINK_SAVE] = ("INSERT INTO seal_links(device_id, source, gateway_id, gateway_learned, model, fit_seq)"
			 " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(device_id) DO UPDATE SET"
			 " source = excluded.source, gateway_id = excluded.gateway_id,"
			 " gateway_learned = excluded.gateway_learned, model = excluded.model,"
			 " fit_seq = excluded.fit_seq"),
	[FS_PERMIT_SAVE] = ("INSERT INTO field_permits(id, level, target, from_ms, until_ms, daily_from, daily_until,"
			   " reason) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(id) DO UPDATE SET"
			   " until_ms = excluded.until_ms"),
	[FS_PERMIT_DELETE] = ("DELETE FROM field_permits WHERE id = ?1"),
	[FS_LINKS_LOAD] = ("SELECT device_id, source, gateway_id, gateway_learned, model, fit_seq FROM seal_links"),
	[FS_PERMITS_LOAD] = ("SELECT id, level, target, from_ms, until_ms, daily_from, daily_until, reason"
			    " FROM field_permits"),
};

struct store_field {
	sqlite3 *db;
	sqlite3_stmt *st[FS_COUNT];
};

int store_field_open(sqlite3 *db, struct store_field **out, char err[256])
{
	struct store_field *f = calloc(1, sizeof *f);
	*out = NULL;
	if (!f) {
		snprintf(err, 256, "out of memory");
		return -1;
	}
	f->db = db;
	for (int i = 0; i < FS_COUNT; i++)
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &f->st[i], NULL) != SQLITE_OK) {
			snprintf(err, 256, "prepare: %s", sqlite3_errmsg(db));
			store_field_close(f);
			return -1;
		}
	*out = f;
	return 0;
}

void store_field_close(struct store_field *f)
{
	if (!f)
		return;
	for (int i = 0; i < FS_COUNT; i++)
		sqlite3_finalize(f->st[i]);
	free(f);
}

static int text(sqlite3_stmt *st, int i, const char *v)
{
	return v && *v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int step(sqlite3_stmt *st, int rc)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : (rc == SQLITE_OK || rc == SQLITE_ROW ? SQLITE_ERROR : rc);
}

static int save_link(struct store_field *f, const struct device *d)
{
	sqlite3_stmt *st = f->st[FS_LINK_SAVE];
	int rc = text(st, 1, d->id);
	if (rc == SQLITE_OK)
		rc = text(st, 2, sb_source_name((enum sb_source)d->source));
	if (rc == SQLITE_OK)
		rc = text(st, 3, d->gateway ? d->gateway->id : NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 4, d->gateway_learned);
	if (rc == SQLITE_OK)
		rc = text(st, 5, d->model);
	if (rc == SQLITE_OK)
		rc = d->fit_seq < 0 ? sqlite3_bind_null(st, 6) : sqlite3_bind_int64(st, 6, d->fit_seq);
	return step(st, rc);
}

static int save_permit(struct store_field *f, const struct permit_rec *p)
{
	sqlite3_stmt *st = f->st[p->gone ? FS_PERMIT_DELETE : FS_PERMIT_SAVE];
	int rc = text(st, 1, p->id);
	if (p->gone)
		return step(st, rc);
	if (rc == SQLITE_OK)
		rc = text(st, 2, p->level < 0 ? "household" : sb_level_name((enum sb_level)p->level));
	if (rc == SQLITE_OK)
		rc = text(st, 3, p->target);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, p->from_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, p->until_ms);
	if (rc == SQLITE_OK)
		rc = p->daily_from < 0 ? sqlite3_bind_null(st, 6) : sqlite3_bind_int(st, 6, p->daily_from);
	if (rc == SQLITE_OK)
		rc = p->daily_from < 0 ? sqlite3_bind_null(st, 7) : sqlite3_bind_int(st, 7, p->daily_until);
	if (rc == SQLITE_OK)
		rc = text(st, 8, p->reason);
	return step(st, rc);
}

int store_field_apply(struct store_field *f, const struct action *a)
{
	if (a->kind == ACT_SAVE_SEAL_LINK)
		return save_link(f, a->u.device);
	if (a->kind == ACT_SAVE_PERMIT)
		return save_permit(f, &a->u.permit);
	return 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int load_links(struct store_field *f, struct engine *e, char err[256])
{
	sqlite3_stmt *st = f->st[FS_LINKS_LOAD];
	int rc, ret = 0;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = col_text(st, 0), *src = col_text(st, 1);
		enum sb_source s = SB_SRC_NONE;
		if (src && sb_source_parse(src, &s) < 0) {
			snprintf(err, 256, "seal_links %s: bad source", id ? id : "?");
			ret = -1;
			break;
		}
		int64_t fit_seq = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
		int r = engine_load_seal_link(e, id ? id : "", s, col_text(st, 2), sqlite3_column_int(st, 3),
					      col_text(st, 4), fit_seq < 0 ? -1 : fit_seq);
		if (r == -1) {
			snprintf(err, 256, "seal_links: out of memory");
			ret = -1;
		}
		/* -2: a link of a seal no longer known is left alone. */
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		snprintf(err, 256, "load seal_links: %s", sqlite3_errmsg(f->db));
		ret = -1;
	}
	sqlite3_reset(st);
	return ret;
}

static int load_permits(struct store_field *f, struct engine *e, char err[256])
{
	sqlite3_stmt *st = f->st[FS_PERMITS_LOAD];
	int rc, ret = 0;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct permit_rec p;
		memset(&p, 0, sizeof p);
		const char *id = col_text(st, 0), *level = col_text(st, 1), *target = col_text(st, 2);
		const char *reason = col_text(st, 7);
		enum sb_level l;
		if (!id || !level || !target || strlen(id) > SB_ID_MAX || strlen(target) > SB_ID_MAX) {
			snprintf(err, 256, "field_permits: bad row");
			ret = -1;
			break;
		}
		snprintf(p.id, sizeof p.id, "%s", id);
		snprintf(p.target, sizeof p.target, "%s", target);
		snprintf(p.reason, sizeof p.reason, "%s", reason ? reason : "");
		p.level = strcmp(level, "household") == 0 ? -1 : sb_level_parse(level, &l) == 0 ? (int)l : -2;
		p.from_ms = sqlite3_column_int64(st, 3);
		p.until_ms = sqlite3_column_int64(st, 4);
		p.daily_from = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 5);
		p.daily_until = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 6);
		if (p.daily_from >= 1440 || p.daily_until >= 1440 || (p.daily_from < 0) != (p.daily_until < 0)) {
			snprintf(err, 256, "field_permits %s: bad daily window", p.id);
			ret = -1;
			break;
		}
		int r = engine_load_permit_rec(e, &p);
		if (r < 0) {
			snprintf(err, 256, "field_permits %s: %s", p.id, r == -1 ? "out of memory" : "bad row");
			ret = -1;
		}
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		snprintf(err, 256, "load field_permits: %s", sqlite3_errmsg(f->db));
		ret = -1;
	}
	sqlite3_reset(st);
	return ret;
}

int store_field_load(struct store_field *f, struct engine *e, char err[256])
{
	int ret = load_links(f, e, err);
	return ret ? ret : load_permits(f, e, err);
}
