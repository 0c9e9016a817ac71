/* SQLite store. Every statement is prepared once at open and reset after each use;
 * values are always bound, never spliced into SQL. Enums are stored by their wire
 * names so the file stays readable with the sqlite3 shell. */
#include "clock.h"
#include "store.h"
#include "store_priv.h"
#include "store_schema.h"
#include "store_field.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
	ST_HOUSEHOLD_SAVE, ST_PERMITS_DELETE, ST_PERMIT_INSERT, ST_DEVICE_STATE, ST_DEVICE_SAVE, ST_DEVICE_SEEN,
	ST_ALERT_SAVE, ST_CHANGED_SINCE,
	ST_META_SET, ST_META_GET, ST_AUDIT_INSERT,
	ST_OUTBOX_ADD, ST_OUTBOX_DELETE, ST_OUTBOX_EACH,
	ST_HOUSEHOLDS_LOAD, ST_PERMITS_LOAD, ST_DEVICES_LOAD, ST_ALERTS_LOAD,
	ST_SEAL_SAVE, ST_SEALS_LOAD, ST_SEALS_CHANGED,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT sb",
	[ST_RELEASE] = "RELEASE sb",
	[ST_ROLLBACK_TO] = "ROLLBACK TO sb",
	[ST_HOUSEHOLD_SAVE] =
		"INSERT INTO households(id, address, district_id, street_id, community_id, category,"
		" persons, start_ms, end_ms, released, released_ms, unfitted_since_ms, changed_ms)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
		" ON CONFLICT(id) DO UPDATE SET address = excluded.address,"
		" district_id = excluded.district_id, street_id = excluded.street_id,"
		" community_id = excluded.community_id, category = excluded.category,"
		" persons = excluded.persons, start_ms = excluded.start_ms, end_ms = excluded.end_ms,"
		" released = excluded.released, released_ms = excluded.released_ms,"
		" unfitted_since_ms = excluded.unfitted_since_ms, changed_ms = excluded.changed_ms",
	[ST_PERMITS_DELETE] = "DELETE FROM permits WHERE household_id = ?1",
	[ST_PERMIT_INSERT] = "INSERT INTO permits(household_id, from_ms, until_ms, reason) VALUES(?1, ?2, ?3, ?4)",
	[ST_DEVICE_SEEN] = "UPDATE devices SET last_seen_ms = ?2 WHERE id = ?1",
	/* A report changes a seal on the same door: household_id is left out of
	 * SET so that its index is not rewritten, one page a commit less. */
	[ST_DEVICE_STATE] =
		"UPDATE devices SET silence_after_ms = ?3, fitted_ms = ?4, door = ?5, battery = ?6, tamper = ?7,"
		" seq = ?8, last_seen_ms = ?9, heard = ?10, silent = ?11, state_ms = ?12"
		" WHERE id = ?1 AND household_id IS ?2",
	[ST_DEVICE_SAVE] =
		"INSERT INTO devices(id, household_id, silence_after_ms, fitted_ms, door, battery, tamper,"
		" seq, last_seen_ms, heard, silent, state_ms)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
		" ON CONFLICT(id) DO UPDATE SET household_id = excluded.household_id,"
		" silence_after_ms = excluded.silence_after_ms, fitted_ms = excluded.fitted_ms,"
		" door = excluded.door, battery = excluded.battery, tamper = excluded.tamper,"
		" seq = excluded.seq, last_seen_ms = excluded.last_seen_ms, heard = excluded.heard,"
		" silent = excluded.silent, state_ms = excluded.state_ms",
	[ST_CHANGED_SINCE] =
		/* Every change of a household's state leaves one of these: its own row
		 * (commands), its seal's row (reports) or an audit row (alerts, doors). */
		"SELECT household_id FROM audit WHERE at_ms >= ?1 AND household_id IS NOT NULL"
		" UNION SELECT household_id FROM devices WHERE state_ms >= ?1 AND household_id IS NOT NULL"
		" UNION SELECT id FROM households WHERE changed_ms >= ?1",
	[ST_ALERT_SAVE] =
		"INSERT INTO alerts(id, type, state, level, household_id, device_id, since_ms, raised_ms,"
		" count, msg_seq, due_ms, \"by\", note, updated_ms,"
		" unit_community, unit_street, unit_district, gateway_id, households, outcome, closed_ms)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		" ?15, ?16, ?17, ?18, ?19, ?20, ?21)"
		" ON CONFLICT(id) DO UPDATE SET type = excluded.type, state = excluded.state,"
		" level = excluded.level, household_id = excluded.household_id,"
		" device_id = excluded.device_id, since_ms = excluded.since_ms,"
		" raised_ms = excluded.raised_ms, count = excluded.count, msg_seq = excluded.msg_seq,"
		" due_ms = excluded.due_ms, \"by\" = excluded.\"by\", note = excluded.note,"
		" updated_ms = excluded.updated_ms,"
		" unit_community = excluded.unit_community, unit_street = excluded.unit_street,"
		" unit_district = excluded.unit_district, gateway_id = excluded.gateway_id,"
		" households = excluded.households, outcome = excluded.outcome, closed_ms = excluded.closed_ms",
	[ST_META_SET] = "INSERT INTO meta(key, value) VALUES(?1, ?2)"
			" ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_AUDIT_INSERT] = "INSERT INTO audit(at_ms, kind, household_id, device_id, alert_id, detail)"
			    " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_OUTBOX_ADD] = "INSERT INTO outbox(topic, payload, qos, retained, corr) VALUES(?1, ?2, ?3, ?4, ?5)",
	[ST_OUTBOX_DELETE] = "DELETE FROM outbox WHERE id = ?1",
	[ST_OUTBOX_EACH] = "SELECT id, topic, payload, qos, retained, corr FROM outbox ORDER BY id",
	[ST_HOUSEHOLDS_LOAD] =
		"SELECT id, address, district_id, street_id, community_id, category, persons, start_ms,"
		" end_ms, released, released_ms, unfitted_since_ms, changed_ms FROM households ORDER BY rowid",
	/* Newest row first: the engine prepends, so this rebuilds each list in the saved order. */
	[ST_PERMITS_LOAD] = "SELECT household_id, from_ms, until_ms, reason FROM permits ORDER BY rowid DESC",
	[ST_DEVICES_LOAD] = "SELECT id, household_id, silence_after_ms, fitted_ms, door, battery, tamper,"
			    " seq, last_seen_ms, heard, silent FROM devices ORDER BY rowid",
	[ST_ALERTS_LOAD] = "SELECT id, type, state, level, household_id, device_id, since_ms, raised_ms,"
			   " count, msg_seq, due_ms, \"by\", note,"
			   " unit_community, unit_street, unit_district, gateway_id, households, outcome, closed_ms"
			   " FROM alerts"
			   " ORDER BY raised_ms, id",
	/* Custody has statements of its own: the hot seal UPDATE stays as narrow as it was. */
	[ST_SEAL_SAVE] = "UPDATE devices SET custody = ?2, model = ?3, batch = ?4, note = ?5, unit_level = ?6,"
			 " unit_id = ?7, fittings = ?8, state_ms = ?9 WHERE id = ?1",
	[ST_SEALS_LOAD] = "SELECT id, custody, model, batch, note, unit_level, unit_id, fittings FROM devices"
			  " ORDER BY rowid",
	/* A seal's state also carries its door's address and units: a household
	 * changed since the mark publishes its seal again too. */
	[ST_SEALS_CHANGED] = "SELECT id FROM devices WHERE state_ms >= ?1"
			     " UNION SELECT d.id FROM devices d JOIN households h ON h.id = d.household_id"
			     " WHERE h.changed_ms >= ?1",
};

struct store {
	struct store_field *field; /* store_field.c: the field-operations tables */
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	sqlite3_stmt *ext[SX_COUNT]; /* store_priv.h: prepared on first use */
	char instance[9];
	char err[256];
	int disk_fault;
};

static const char counter_key[] = "next_alert_no";

/* Our own diagnosis (bad data), not SQLite's. */
__attribute__((format(printf, 2, 3))) static int bad(struct store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	s->disk_fault = 0;
	return -1;
}

/* Records a SQLite failure under a short context. A full disk or an I/O error
 * is remembered apart: the daemon reacts to those differently from bad data. */
__attribute__((format(printf, 3, 4))) static int fail(struct store *s, int rc, const char *fmt, ...)
{
	char what[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	const char *msg = sqlite3_extended_errcode(s->db) == rc ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	snprintf(s->err, sizeof s->err, "%s: %s", what, msg);
	s->disk_fault = (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR;
	return -1;
}

static void stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Collects the first bind error so a save can bind every column, then check once. */
struct bind {
	sqlite3_stmt *st;
	int rc;
};

static void bind_text(struct bind *b, int i, const char *v)
{
	if (b->rc == SQLITE_OK)
		b->rc = v ? sqlite3_bind_text(b->st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(b->st, i);
}

/* "" means "none" in the model's fixed buffers; the table says it with NULL. */
static void bind_text_nz(struct bind *b, int i, const char *v)
{
	bind_text(b, i, v && *v ? v : NULL);
}

static void bind_i64(struct bind *b, int i, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_int64(b->st, i, v);
}

static void bind_i64_or_null(struct bind *b, int i, int64_t v, int64_t null_when)
{
	if (b->rc != SQLITE_OK)
		return;
	b->rc = v == null_when ? sqlite3_bind_null(b->st, i) : sqlite3_bind_int64(b->st, i, v);
}

/* A NULL pointer would bind SQL NULL; an empty payload must stay an empty blob. */
static void bind_blob(struct bind *b, int i, const void *p, size_t n)
{
	if (b->rc == SQLITE_OK)
		b->rc = n ? sqlite3_bind_blob64(b->st, i, p, n, SQLITE_STATIC) : sqlite3_bind_zeroblob(b->st, i, 0);
}

/* Steps a statement that returns no rows, then readies it for the next use. */
__attribute__((format(printf, 4, 5))) static int run(struct store *s, struct bind *b, enum stmt_id id,
						      const char *fmt, ...)
{
	sqlite3_stmt *st = s->st[id];
	int rc = b ? b->rc : SQLITE_OK;
	int ret = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		char what[128];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(what, sizeof what, fmt, ap);
		va_end(ap);
		ret = fail(s, rc, "%s", what);
	}
	stmt_done(st);
	return ret;
}

/* Quietly, for clean-up paths that must not hide the error being reported. */
static void run_quiet(struct store *s, enum stmt_id id)
{
	sqlite3_step(s->st[id]);
	stmt_done(s->st[id]);
}

/* A savepoint makes a multi-statement step atomic whether or not the caller
 * holds a transaction. */
static int sp_begin(struct store *s)
{
	return run(s, NULL, ST_SAVEPOINT, "savepoint");
}

static int sp_end(struct store *s, int ret)
{
	if (ret == 0 && run(s, NULL, ST_RELEASE, "release savepoint") == 0)
		return 0;
	/* SQLite may already have rolled the whole transaction back (full disk,
	 * I/O error); then these fail harmlessly. */
	run_quiet(s, ST_ROLLBACK_TO);
	run_quiet(s, ST_RELEASE);
	return ret < 0 ? ret : -1;
}

/* ---- saving ---- */

static int save_household(struct store *s, const struct household *h)
{
	const char *unit_id[SB_LEVEL_COUNT];
	for (int l = 0; l < SB_LEVEL_COUNT; l++) {
		const struct unit *u = sb_household_unit(h, (enum sb_level)l);
		if (!u || !u->id)
			return bad(s, "save household %s: no %s unit", h->id, sb_level_name((enum sb_level)l));
		unit_id[l] = u->id;
	}
	if (sp_begin(s) < 0)
		return -1;

	struct bind b = { s->st[ST_HOUSEHOLD_SAVE], SQLITE_OK };
	bind_text(&b, 1, h->id);
	bind_text(&b, 2, h->address);
	bind_text(&b, 3, unit_id[SB_LEVEL_DISTRICT]);
	bind_text(&b, 4, unit_id[SB_LEVEL_STREET]);
	bind_text(&b, 5, unit_id[SB_LEVEL_COMMUNITY]);
	bind_text(&b, 6, h->category == SB_CAT_NONE ? NULL : sb_category_name(h->category));
	bind_i64_or_null(&b, 7, h->persons, -1);
	bind_i64(&b, 8, h->start_ms);
	bind_i64(&b, 9, h->end_ms);
	bind_i64(&b, 10, h->released ? 1 : 0);
	bind_i64(&b, 11, h->released_ms);
	bind_i64(&b, 12, h->unfitted_since_ms);
	bind_i64(&b, 13, h->changed_ms);
	int ret = run(s, &b, ST_HOUSEHOLD_SAVE, "save household %s", h->id);

	/* Only the permits that changed are written (store_permits.c). */
	if (ret == 0)
		ret = store_permits_sync(s, h);
	return sp_end(s, ret);
}

static void bind_device(struct bind *b, const struct device *d, int64_t state_ms)
{
	bind_text(b, 1, d->id);
	bind_text(b, 2, d->household ? d->household->id : NULL);
	bind_i64(b, 3, d->silence_after_ms);
	bind_i64(b, 4, d->fitted_ms);
	bind_text(b, 5, sb_door_name((enum sb_door)d->door));
	bind_i64_or_null(b, 6, d->battery, -1);
	bind_i64_or_null(b, 7, d->tamper, -1);
	bind_i64_or_null(b, 8, d->seq, -1);
	bind_i64(b, 9, d->last_seen_ms);
	bind_i64(b, 10, d->heard ? 1 : 0);
	bind_i64(b, 11, d->silent ? 1 : 0);
	bind_i64(b, 12, state_ms);
}

static int save_device(struct store *s, const struct device *d)
{
	/* When the state changed, for publishing it again after a crash; our own
	 * clock, never earlier than the change. */
	int64_t state_ms = clock_now().wall_ms;
	struct bind b = { s->st[ST_DEVICE_STATE], SQLITE_OK };
	bind_device(&b, d, state_ms);
	if (run(s, &b, ST_DEVICE_STATE, "save device %s", d->id) < 0)
		return -1;
	if (sqlite3_changes(s->db) > 0)
		return 0;
	b = (struct bind){ s->st[ST_DEVICE_SAVE], SQLITE_OK };
	bind_device(&b, d, state_ms);
	return run(s, &b, ST_DEVICE_SAVE, "save device %s", d->id);
}

static int save_alert(struct store *s, const struct alert *a)
{
	struct bind b = { s->st[ST_ALERT_SAVE], SQLITE_OK };
	bind_text(&b, 1, a->id);
	bind_text(&b, 2, sb_alert_type_name(a->type));
	bind_text(&b, 3, sb_alert_state_name(a->state));
	bind_text(&b, 4, sb_level_name(a->level));
	bind_text(&b, 5, a->household_id);
	bind_text_nz(&b, 6, a->device_id);
	bind_i64(&b, 7, a->since_ms);
	bind_i64(&b, 8, a->raised_ms);
	bind_i64(&b, 9, a->count);
	bind_i64(&b, 10, a->msg_seq);
	bind_i64(&b, 11, a->due_ms);
	bind_text(&b, 12, a->by);
	bind_text(&b, 13, a->note);
	/* When it was last saved (our own clock): for a closed alert, when it
	 * closed, which retention counts from. */
	bind_i64(&b, 14, clock_now().wall_ms);
	for (int l = 0; l < SB_LEVEL_COUNT; l++)
		bind_text_nz(&b, 15 + l, a->unit_id[l]);
	bind_text_nz(&b, 18, a->gateway_id);
	bind_i64_or_null(&b, 19, a->households, 0);
	bind_text(&b, 20, a->state == SB_AST_RESOLVED ? sb_outcome_name((enum sb_outcome)a->outcome) : NULL);
	bind_i64_or_null(&b, 21, a->closed_ms, 0);
	return run(s, &b, ST_ALERT_SAVE, "save alert %s", a->id);
}

static int save_counter(struct store *s, int64_t next)
{
	char text[24];
	snprintf(text, sizeof text, "%" PRId64, next);
	struct bind b = { s->st[ST_META_SET], SQLITE_OK };
	bind_text(&b, 1, counter_key);
	bind_text(&b, 2, text);
	return run(s, &b, ST_META_SET, "save alert counter");
}

static int save_audit(struct store *s, const struct audit_rec *r)
{
	if (!r->kind)
		return bad(s, "save audit record: no kind");
	struct bind b = { s->st[ST_AUDIT_INSERT], SQLITE_OK };
	bind_i64(&b, 1, r->at_ms);
	bind_text(&b, 2, r->kind);
	bind_text_nz(&b, 3, r->household_id);
	bind_text_nz(&b, 4, r->device_id);
	bind_text_nz(&b, 5, r->alert_id);
	bind_text(&b, 6, r->detail);
	return run(s, &b, ST_AUDIT_INSERT, "save audit record");
}

static int save_seal(struct store *s, const struct seal_rec *r)
{
	struct bind b = { s->st[ST_SEAL_SAVE], SQLITE_OK };
	bind_text(&b, 1, r->device_id);
	bind_text(&b, 2, sb_seal_state_name(r->state));
	bind_text_nz(&b, 3, r->model);
	bind_text_nz(&b, 4, r->batch);
	bind_text_nz(&b, 5, r->note);
	bind_text(&b, 6, r->has_unit ? sb_level_name(r->unit_level) : NULL);
	bind_text(&b, 7, r->has_unit ? r->unit_id : NULL);
	bind_i64(&b, 8, r->fittings);
	bind_i64(&b, 9, clock_now().wall_ms); /* as save_device: for publishing again after a crash */
	if (run(s, &b, ST_SEAL_SAVE, "save custody of %s", r->device_id) < 0)
		return -1;
	/* Its ACT_SAVE_DEVICE comes first in the same transaction. */
	return sqlite3_changes(s->db) == 1 ? 0 : bad(s, "save custody of %s: no such seal row", r->device_id);
}

int store_apply(struct store *s, const struct action *a)
{
	switch (a->kind) {
	case ACT_SAVE_HOUSEHOLD:
		return save_household(s, a->u.household);
	case ACT_SAVE_DEVICE:
		return save_device(s, a->u.device);
	case ACT_SAVE_SEEN: {
		struct bind b = { s->st[ST_DEVICE_SEEN], SQLITE_OK };
		bind_text(&b, 1, a->u.device->id);
		bind_i64(&b, 2, a->u.device->last_seen_ms);
		return run(s, &b, ST_DEVICE_SEEN, "save last_seen of %s", a->u.device->id);
	}
	case ACT_SAVE_ALERT:
		return save_alert(s, &a->u.alert);
	case ACT_SAVE_COUNTER:
		return save_counter(s, a->u.counter);
	case ACT_AUDIT:
		return save_audit(s, &a->u.audit);
	case ACT_SAVE_SEAL:
		return save_seal(s, &a->u.seal);
	case ACT_SAVE_SEAL_LINK:
	case ACT_SAVE_PERMIT:
		return store_field_apply(s->field, a) == 0 ? 0 : fail(s, sqlite3_errcode(s->db), "save field data");
	case ACT_PUB_SEAL:
	case ACT_PUB_ALERT:
	case ACT_PUB_STATE:
	case ACT_PUB_CLEAR_STATE:
	case ACT_PUB_STATS:
		break;
	}
	return 0;
}

/* ---- loading ---- */

/* Reads one row's columns, remembering the first one that holds something we
 * never write: such a file was edited or damaged, and loading it would be a guess. */
struct row {
	sqlite3_stmt *st;
	int bad; /* first bad column, or -1 */
};

static void row_mark(struct row *r, int i)
{
	if (r->bad < 0)
		r->bad = i;
}

static int64_t row_i64(struct row *r, int i, int64_t null_val, int64_t lo, int64_t hi)
{
	int type = sqlite3_column_type(r->st, i);
	if (type == SQLITE_NULL)
		return null_val;
	int64_t v = sqlite3_column_int64(r->st, i);
	if (type != SQLITE_INTEGER || v < lo || v > hi) {
		row_mark(r, i);
		return null_val;
	}
	return v;
}

static int row_int(struct row *r, int i, int null_val, int lo, int hi)
{
	return (int)row_i64(r, i, null_val, lo, hi);
}

static const char *row_text(struct row *r, int i, int required)
{
	const char *t = (const char *)sqlite3_column_text(r->st, i);
	if (!t && required)
		row_mark(r, i);
	return t;
}

/* Into one of the model's fixed buffers; NULL reads as "". */
static void row_copy(struct row *r, int i, char *buf, size_t size)
{
	const char *t = row_text(r, i, 0);
	size_t n = t ? strlen(t) : 0;
	if (n >= size) {
		row_mark(r, i);
		n = 0;
	}
	if (n)
		memcpy(buf, t, n);
	buf[n] = '\0';
}

static int row_check(struct store *s, struct row *r, const char *table, const char *id)
{
	if (r->bad < 0)
		return 0;
	return bad(s, "%s %s: bad value in column %s", table, id ? id : "?", sqlite3_column_name(r->st, r->bad));
}

static int door_parse(const char *t, enum sb_door *out)
{
	static const enum sb_door doors[] = { SB_DOOR_UNKNOWN, SB_DOOR_CLOSED, SB_DOOR_OPEN };
	for (size_t i = 0; t && i < sizeof doors / sizeof doors[0]; i++) {
		if (strcmp(t, sb_door_name(doors[i])) == 0) {
			*out = doors[i];
			return 0;
		}
	}
	return -1;
}

typedef int (*row_fn)(struct store *s, struct row *r, void *arg);

/* Steps a query to the end or until fn returns non-zero, which is returned. */
static int each_row(struct store *s, enum stmt_id id, row_fn fn, void *arg, const char *what)
{
	sqlite3_stmt *st = s->st[id];
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct row r = { st, -1 };
		ret = fn(s, &r, arg);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(s, rc, "%s", what);
	stmt_done(st);
	return ret;
}

static int household_row(struct store *s, struct row *r, void *arg)
{
	const char *unit_id[SB_LEVEL_COUNT];
	const char *id = row_text(r, 0, 1);
	const char *address = row_text(r, 1, 0);
	unit_id[SB_LEVEL_DISTRICT] = row_text(r, 2, 1);
	unit_id[SB_LEVEL_STREET] = row_text(r, 3, 1);
	unit_id[SB_LEVEL_COMMUNITY] = row_text(r, 4, 1);
	const char *cat_name = row_text(r, 5, 0);
	enum sb_category cat = SB_CAT_NONE;
	if (cat_name && sb_category_parse(cat_name, &cat) < 0)
		row_mark(r, 5);
	int persons = row_int(r, 6, -1, 0, INT_MAX);
	int64_t start_ms = row_i64(r, 7, 0, INT64_MIN, INT64_MAX);
	int64_t end_ms = row_i64(r, 8, 0, INT64_MIN, INT64_MAX);
	int released = row_int(r, 9, 0, 0, 1);
	int64_t released_ms = row_i64(r, 10, 0, INT64_MIN, INT64_MAX);
	int64_t unfitted_ms = row_i64(r, 11, 0, INT64_MIN, INT64_MAX);
	int64_t changed_ms = row_i64(r, 12, 0, INT64_MIN, INT64_MAX);
	if (row_check(s, r, "household", id) < 0)
		return -1;
	return engine_load_household(arg, id, address, unit_id, cat, persons, start_ms, end_ms, released,
				     released_ms, unfitted_ms, changed_ms);
}

static int permit_row(struct store *s, struct row *r, void *arg)
{
	const char *hid = row_text(r, 0, 1);
	int64_t from_ms = row_i64(r, 1, 0, INT64_MIN, INT64_MAX);
	int64_t until_ms = row_i64(r, 2, 0, INT64_MIN, INT64_MAX);
	const char *reason = row_text(r, 3, 0);
	if (row_check(s, r, "permit of", hid) < 0)
		return -1;
	return engine_load_permit(arg, hid, from_ms, until_ms, reason);
}

static int device_row(struct store *s, struct row *r, void *arg)
{
	struct device d;
	memset(&d, 0, sizeof d);
	const char *id = row_text(r, 0, 1);
	const char *hid = row_text(r, 1, 0);
	d.silence_after_ms = row_i64(r, 2, 0, 0, INT64_MAX);
	d.fitted_ms = row_i64(r, 3, 0, INT64_MIN, INT64_MAX);
	enum sb_door door = SB_DOOR_UNKNOWN;
	if (door_parse(row_text(r, 4, 1), &door) < 0)
		row_mark(r, 4);
	d.door = (int8_t)door;
	d.battery = (int8_t)row_int(r, 5, -1, 0, 100);
	d.tamper = (int8_t)row_int(r, 6, -1, 0, 1);
	d.seq = row_i64(r, 7, -1, 0, INT64_MAX);
	d.last_seen_ms = row_i64(r, 8, 0, INT64_MIN, INT64_MAX);
	d.heard = (uint8_t)row_int(r, 9, 0, 0, 1);
	d.silent = (uint8_t)row_int(r, 10, 0, 0, 1);
	if (row_check(s, r, "device", id) < 0)
		return -1;
	return engine_load_device(arg, id, &d, hid);
}

static int alert_row(struct store *s, struct row *r, void *arg)
{
	struct alert a;
	memset(&a, 0, sizeof a);
	row_copy(r, 0, a.id, sizeof a.id);
	if (sb_alert_type_parse(row_text(r, 1, 1), &a.type) < 0)
		row_mark(r, 1);
	if (sb_alert_state_parse(row_text(r, 2, 1), &a.state) < 0)
		row_mark(r, 2);
	if (sb_level_parse(row_text(r, 3, 1), &a.level) < 0)
		row_mark(r, 3);
	row_copy(r, 4, a.household_id, sizeof a.household_id);
	row_copy(r, 5, a.device_id, sizeof a.device_id);
	a.since_ms = row_i64(r, 6, 0, INT64_MIN, INT64_MAX);
	a.raised_ms = row_i64(r, 7, 0, INT64_MIN, INT64_MAX);
	a.count = row_int(r, 8, 0, 0, INT_MAX);
	a.msg_seq = row_int(r, 9, 0, 0, INT_MAX);
	a.due_ms = row_i64(r, 10, 0, INT64_MIN, INT64_MAX);
	a.due_mono = 0; /* the engine derives it from due_ms and its own clock */
	row_copy(r, 11, a.by, sizeof a.by);
	row_copy(r, 12, a.note, sizeof a.note);
	for (int l = 0; l < SB_LEVEL_COUNT; l++)
		row_copy(r, 13 + l, a.unit_id[l], sizeof a.unit_id[l]);
	row_copy(r, 16, a.gateway_id, sizeof a.gateway_id);
	a.households = row_int(r, 17, 0, 0, INT_MAX);
	const char *outcome = row_text(r, 18, 0);
	enum sb_outcome o = SB_OUT_OTHER;
	if (outcome && sb_outcome_parse(outcome, &o) < 0)
		row_mark(r, 18);
	a.outcome = (uint8_t)o;
	a.closed_ms = row_i64(r, 19, 0, 0, INT64_MAX);
	/* A gateway's alert has no household. */
	if (!a.id[0] || (!a.household_id[0] && !a.gateway_id[0]))
		row_mark(r, a.id[0] ? 4 : 0);
	if (row_check(s, r, "alert", a.id) < 0)
		return -1;
	return engine_load_alert(arg, &a);
}

static int seal_row(struct store *s, struct row *r, void *arg)
{
	const char *id = row_text(r, 0, 1);
	const char *state_name = row_text(r, 1, 0);
	enum sb_seal_state state = SB_SEAL_COLLECTED;
	if (state_name && sb_seal_state_parse(state_name, &state) < 0)
		row_mark(r, 1);
	const char *model = row_text(r, 2, 0), *batch = row_text(r, 3, 0), *note = row_text(r, 4, 0);
	const char *level_name = row_text(r, 5, 0), *unit_id = row_text(r, 6, 0);
	enum sb_level level = SB_LEVEL_COMMUNITY;
	if ((level_name && sb_level_parse(level_name, &level) < 0) || (!level_name != !unit_id))
		row_mark(r, 5);
	int fittings = row_int(r, 7, 0, 0, INT_MAX);
	if (row_check(s, r, "seal", id) < 0)
		return -1;
	int rc = engine_load_seal(arg, id, state_name != NULL, state, model, batch, note, level, unit_id, fittings);
	return rc == -2 ? bad(s, "seal %s: custody does not fit the rest of the database", id ? id : "?") : rc;
}

/* Each id the statement (one parameter: since_ms) yields, to fn. */
static int ids_changed_since(struct store *s, enum stmt_id which, const char *what, int64_t since_ms,
			     int (*fn)(void *arg, const char *id), void *arg)
{
	sqlite3_stmt *st = s->st[which];
	int rc = sqlite3_bind_int64(st, 1, since_ms), ret = 0;
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (id && (ret = fn(arg, id)) != 0)
			break;
		rc = SQLITE_OK;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(s, rc, "%s changed since %" PRId64, what, since_ms);
	stmt_done(st);
	return ret;
}

int store_seals_changed_since(struct store *s, int64_t since_ms, int (*fn)(void *arg, const char *device_id),
			      void *arg)
{
	return ids_changed_since(s, ST_SEALS_CHANGED, "seals", since_ms, fn, arg);
}

static int parse_i64(const char *t, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	if (!t || !*t)
		return -1;
	errno = 0;
	long long v = strtoll(t, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int counter_row(struct store *s, struct row *r, void *arg)
{
	int64_t *next = arg;
	const char *t = row_text(r, 0, 1);
	if (parse_i64(t, 0, INT64_MAX, next) < 0)
		return bad(s, "meta %s: bad value \"%s\"", counter_key, t ? t : "");
	return 1; /* found; stop */
}

/* ---- household states after a crash ---- */

static const char states_key[] = "states_confirmed_ms";

int store_set_states_confirmed(struct store *s, int64_t ms)
{
	char text[24];
	snprintf(text, sizeof text, "%" PRId64, ms);
	struct bind b = { s->st[ST_META_SET], SQLITE_OK };
	bind_text(&b, 1, states_key);
	bind_text(&b, 2, text);
	return run(s, &b, ST_META_SET, "save %s", states_key);
}

int store_states_confirmed(struct store *s, int64_t *out)
{
	sqlite3_stmt *st = s->st[ST_META_GET];
	*out = -1;
	int rc = sqlite3_bind_text(st, 1, states_key, -1, SQLITE_STATIC), ret = 0;
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (parse_i64(t, 0, INT64_MAX, out) < 0)
			ret = bad(s, "meta %s: bad value \"%s\"", states_key, t ? t : "");
	} else if (rc != SQLITE_DONE) {
		ret = fail(s, rc, "read %s", states_key);
	}
	stmt_done(st);
	return ret;
}

int store_changed_since(struct store *s, int64_t since_ms, int (*fn)(void *arg, const char *household_id),
			void *arg)
{
	return ids_changed_since(s, ST_CHANGED_SINCE, "households", since_ms, fn, arg);
}

static int load_all(struct store *s, struct engine *e)
{
	int ret = each_row(s, ST_HOUSEHOLDS_LOAD, household_row, e, "load households");
	if (ret == 0)
		ret = each_row(s, ST_PERMITS_LOAD, permit_row, e, "load permits");
	if (ret == 0)
		ret = each_row(s, ST_DEVICES_LOAD, device_row, e, "load devices");
	if (ret == 0)
		ret = each_row(s, ST_SEALS_LOAD, seal_row, e, "load seal custody");
	if (ret == 0 && (ret = store_field_load(s->field, e, s->err)) != 0)
		s->disk_fault = 0;
	/* Closed alerts too: the engine keeps their ids, so that after a restart an
	 * ack of one still answers alert_closed and a repeated resolve answers ok. */
	if (ret == 0)
		ret = each_row(s, ST_ALERTS_LOAD, alert_row, e, "load alerts");
	if (ret == 0) {
		int64_t next = 0;
		struct bind b = { s->st[ST_META_GET], SQLITE_OK };
		bind_text(&b, 1, counter_key);
		if (b.rc != SQLITE_OK) {
			stmt_done(b.st);
			return fail(s, b.rc, "load alert counter");
		}
		ret = each_row(s, ST_META_GET, counter_row, &next, "load alert counter");
		/* A new database has no counter yet: the engine keeps its own start value. */
		if (ret == 1) {
			engine_load_counter(e, next);
			ret = 0;
		}
	}
	return ret;
}

int store_load(struct store *s, struct engine *e)
{
	/* One read snapshot for all tables. */
	if (sp_begin(s) < 0)
		return -1;
	return sp_end(s, load_all(s, e));
}

/* ---- transactions and outbox ---- */

int store_begin(struct store *s)
{
	return run(s, NULL, ST_BEGIN, "begin");
}

int store_commit(struct store *s)
{
	if (run(s, NULL, ST_COMMIT, "commit") == 0)
		return 0;
	/* A failed COMMIT (e.g. a deferred foreign key) leaves the transaction open;
	 * close it so the next store_begin does not fail for ever. */
	if (!sqlite3_get_autocommit(s->db))
		run_quiet(s, ST_ROLLBACK);
	return -1;
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		run_quiet(s, ST_ROLLBACK);
}

int store_outbox_add(struct store *s, const char *topic, const void *payload, size_t len, int qos,
		     int retained, const void *corr, size_t corr_len, int64_t *id_out)
{
	if (!topic || (len && !payload) || (corr_len && !corr))
		return bad(s, "outbox add: missing topic or data");
	struct bind b = { s->st[ST_OUTBOX_ADD], SQLITE_OK };
	bind_text(&b, 1, topic);
	bind_blob(&b, 2, payload, len);
	bind_i64(&b, 3, qos);
	bind_i64(&b, 4, retained ? 1 : 0);
	if (corr_len)
		bind_blob(&b, 5, corr, corr_len);
	else
		bind_text(&b, 5, NULL);
	if (run(s, &b, ST_OUTBOX_ADD, "outbox add %s", topic) < 0)
		return -1;
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int store_outbox_delete(struct store *s, const int64_t *ids, size_t n)
{
	int ret = 0;
	if (n == 0)
		return 0;
	if (sp_begin(s) < 0)
		return -1;
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct bind b = { s->st[ST_OUTBOX_DELETE], SQLITE_OK };
		bind_i64(&b, 1, ids[i]);
		ret = run(s, &b, ST_OUTBOX_DELETE, "outbox delete %" PRId64, ids[i]);
	}
	return sp_end(s, ret);
}

struct outbox_each_arg {
	store_outbox_fn fn;
	void *arg;
};

static int outbox_row(struct store *s, struct row *r, void *arg)
{
	struct outbox_each_arg *oa = arg;
	int64_t id = row_i64(r, 0, 0, 1, INT64_MAX);
	const char *topic = row_text(r, 1, 1);
	/* blob before bytes: the documented order that avoids a conversion */
	const void *payload = sqlite3_column_blob(r->st, 2);
	size_t len = (size_t)sqlite3_column_bytes(r->st, 2);
	int qos = row_int(r, 3, 0, 0, 2);
	int retained = row_int(r, 4, 0, 0, 1);
	const void *corr = sqlite3_column_blob(r->st, 5);
	size_t corr_len = corr ? (size_t)sqlite3_column_bytes(r->st, 5) : 0;
	char idtext[24];
	snprintf(idtext, sizeof idtext, "%" PRId64, id);
	if (row_check(s, r, "outbox", idtext) < 0)
		return -1;
	return oa->fn(oa->arg, id, topic, len ? payload : "", len, qos, retained, corr, corr_len);
}

int store_outbox_each(struct store *s, store_outbox_fn fn, void *arg)
{
	struct outbox_each_arg oa = { fn, arg };
	return each_row(s, ST_OUTBOX_EACH, outbox_row, &oa, "outbox read");
}

int store_set_wal_limit(struct store *s, int64_t bytes)
{
	/* A PRAGMA takes no parameters; the value is our own integer. */
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA journal_size_limit = %" PRId64, bytes);
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(s, rc, "journal_size_limit");
}

int store_checkpoint(struct store *s)
{
	int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(s, rc, "checkpoint");
}

const char *store_errmsg(const struct store *s)
{
	return s ? s->err : "no store";
}

int store_disk_fault(const struct store *s)
{
	return s ? s->disk_fault : 0;
}

const char *store_instance(const struct store *s)
{
	return s->instance;
}

/* ---- open and close ---- */

static int prepare_all(struct store *s, char err[256])
{
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) !=
		    SQLITE_OK) {
			snprintf(err, 256, "prepare: %s", sqlite3_errmsg(s->db));
			return -1;
		}
	}
	return 0;
}

static int read_instance(struct store *s, char err[256])
{
	sqlite3_stmt *st = s->st[ST_META_GET];
	int ok = 0;
	int rc = sqlite3_bind_text(st, 1, "instance", -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		ok = t && strlen(t) == 8 && strspn(t, "0123456789abcdef") == 8;
		if (ok)
			memcpy(s->instance, t, 9);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		snprintf(err, 256, "read instance id: %s", sqlite3_errmsg(s->db));
	else if (!ok)
		snprintf(err, 256, "database has no valid instance id");
	stmt_done(st);
	return ok ? 0 : -1;
}

/* While the checkpointer's RESTART holds the write lock (a few ms), wait in
 * small steps: SQLite's own handler sleeps 1, 2, 5, 10 ms..., so a 3 ms hold
 * would stall the message path for 8. Gives up after about 5 s, as before. */
static int busy_wait(void *arg, int tries)
{
	(void)arg;
	if (tries >= 50 + 4950)
		return 0;
	struct timespec ts = {0, tries < 50 ? 100000L : 1000000L};
	nanosleep(&ts, NULL);
	return 1;
}

int store_open(const char *path, struct store **out, char err[256])
{
	char why[256] = "";
	*out = NULL;
	err[0] = '\0';
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, 256, "%s: out of memory", path);
		return -1;
	}
	if (store_schema_open(path, &s->db, err) < 0) {
		free(s);
		return -1;
	}
	sqlite3_busy_handler(s->db, busy_wait, NULL);
	if (prepare_all(s, why) < 0 || read_instance(s, why) < 0 || store_field_open(s->db, &s->field, why) < 0) {
		snprintf(err, 256, "%s: %.200s", path, why);
		store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->db && !sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	for (int i = 0; i < SX_COUNT; i++)
		sqlite3_finalize(s->ext[i]);
	store_field_close(s->field);
	if (s->db) {
		/* Leave a single self-contained file behind for backups and copies. */
		sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		sqlite3_close(s->db);
	}
	free(s);
}

/* ---- for store_priv.h ---- */

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

sqlite3_stmt *store_stmt(struct store *s, enum store_ext_stmt slot, const char *sql)
{
	if (!s->ext[slot]) {
		int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->ext[slot], NULL);
		if (rc != SQLITE_OK) {
			fail(s, rc, "prepare");
			s->ext[slot] = NULL;
		}
	}
	return s->ext[slot];
}

int store_fail(struct store *s, int rc, const char *what)
{
	return fail(s, rc, "%s", what);
}

void store_stmt_done(sqlite3_stmt *st)
{
	stmt_done(st);
}
