/* Ids that never repeat, retention and permits saved by difference: a real
 * engine and real SQLite files in a private temp dir. */
#include "check.h"
#include "engine.h"
#include "objmap.h"
#include "store.h"
#include "store_ids.h"
#include "store_retain.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/sb-test-retain-XXXXXX";
static char path[256];
static int db_no;

static const struct engine_settings settings = {
	.silence_after_ms = 900000,
	.unmonitored_after_ms = 3600000,
	.street_after_ms = 600000,
	.district_after_ms = 900000,
	.stats_interval_ms = 60000,
	.battery_low = 20,
};

#define DAY (24LL * 3600 * 1000)
/* 2026-11-29T04:00:00Z */
static const struct sb_now now = { 1000000, 1795838400000 };

static const char *new_path(void)
{
	snprintf(path, sizeof path, "%s/t%d.db", dir, ++db_no);
	return path;
}

static struct store *open_ok(const char *p)
{
	char err[256];
	struct store *s = NULL;
	int rc = store_open(p, &s, err);
	if (rc != 0)
		fprintf(stderr, "store_open: %s\n", err);
	CHECK(rc == 0 && s != NULL);
	return s;
}

static void sql_exec(const char *p, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fprintf(stderr, "sql: %s\n", msg);
	CHECK(msg == NULL);
	sqlite3_close(db);
}

static long long sql_int(const char *p, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void sql_text(const char *p, const char *sql, char *out, size_t size)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	const char *t = (const char *)sqlite3_column_text(st, 0);
	snprintf(out, size, "%s", t ? t : "(null)");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Every save of an action list, in one transaction, as the service does. */
static void save_all(struct store *s, struct actions *acts)
{
	CHECK(store_begin(s) == 0);
	for (size_t i = 0; i < acts->n; i++)
		CHECK(store_apply(s, &acts->v[i]) == 0);
	CHECK(store_commit(s) == 0);
	actions_clear(acts);
}

static void cmd(struct engine *e, struct store *s, struct command *c, struct sb_now at, const char *want_error)
{
	struct actions acts;
	struct cmd_result res;
	actions_init(&acts);
	engine_command(e, c, at, &res, &acts);
	if (want_error) {
		CHECK(!res.ok);
		CHECK_STR(res.error, want_error);
	} else {
		if (!res.ok)
			fprintf(stderr, "command failed: %s: %s\n", res.error, res.message);
		CHECK(res.ok);
	}
	if (s)
		save_all(s, &acts);
	actions_free(&acts);
}

static void admit(struct engine *e, struct store *s, const char *hid, struct sb_now at)
{
	struct command c;
	memset(&c, 0, sizeof c);
	c.op = SB_OP_ADMIT;
	c.persons = -1;
	snprintf(c.household_id, sizeof c.household_id, "%s", hid);
	snprintf(c.unit_id[SB_LEVEL_COMMUNITY], SB_ID_MAX + 1, "c-1");
	snprintf(c.unit_id[SB_LEVEL_STREET], SB_ID_MAX + 1, "st-1");
	snprintf(c.unit_id[SB_LEVEL_DISTRICT], SB_ID_MAX + 1, "d-1");
	c.has_end = 1;
	c.end_ms = at.wall_ms + 14 * DAY;
	cmd(e, s, &c, at, NULL);
}

static void install(struct engine *e, struct store *s, const char *dev, const char *hid, struct sb_now at)
{
	struct command c;
	memset(&c, 0, sizeof c);
	c.op = SB_OP_INSTALL;
	c.persons = -1;
	snprintf(c.household_id, sizeof c.household_id, "%s", hid);
	snprintf(c.device_id, sizeof c.device_id, "%s", dev);
	cmd(e, s, &c, at, NULL);
}

static void permit(struct engine *e, struct store *s, const char *hid, int64_t from, int64_t until,
		   const char *reason, struct sb_now at, const char *want_error)
{
	struct command c;
	memset(&c, 0, sizeof c);
	c.op = SB_OP_PERMIT;
	c.persons = -1;
	snprintf(c.household_id, sizeof c.household_id, "%s", hid);
	c.has_from = 1;
	c.from_ms = from;
	c.has_until = 1;
	c.until_ms = until;
	snprintf(c.reason, sizeof c.reason, "%s", reason);
	cmd(e, s, &c, at, want_error);
}

static void release(struct engine *e, struct store *s, const char *hid, struct sb_now at)
{
	struct command c;
	memset(&c, 0, sizeof c);
	c.op = SB_OP_RELEASE;
	c.persons = -1;
	snprintf(c.household_id, sizeof c.household_id, "%s", hid);
	cmd(e, s, &c, at, NULL);
}

/* A door opening; returns the alert id raised (static buffer). */
static const char *door_open(struct engine *e, const char *dev, int64_t seq, struct sb_now at)
{
	static char id[SB_ID_MAX + 1];
	struct actions acts;
	struct report r;
	actions_init(&acts);
	memset(&r, 0, sizeof r);
	r.has_door = r.has_seq = 1;
	r.door = SB_DOOR_OPEN;
	r.seq = seq;
	CHECK(engine_report(e, dev, &r, 0, at, &acts) == REPORT_APPLIED);
	id[0] = '\0';
	for (size_t i = 0; i < acts.n; i++)
		if (acts.v[i].kind == ACT_PUB_ALERT)
			snprintf(id, sizeof id, "%s", acts.v[i].u.alert_msg.alert.id);
	actions_free(&acts);
	CHECK(id[0]);
	return id;
}

/* ---- ids ---- */

static void test_alert_number_blocks(void)
{
	const char *p = new_path();
	struct store *s = open_ok(p);
	int64_t from, limit;
	int clean = -1;
	/* A new database: numbers from 1, and the last run counts as unclean. */
	CHECK(store_ids_start(s, 10, now.wall_ms, &from, &limit, &clean, NULL) == 0);
	CHECK(from == 1 && limit == 11 && clean == 0);
	CHECK(sql_int(p, "SELECT value FROM meta WHERE key = 'alert_reserved'") == 11);
	CHECK(store_ids_reserve(s, 6, 10, &limit) == 0 && limit == 16);
	/* The mark never goes back. */
	CHECK(store_ids_reserve(s, 2, 3, &limit) == 0 && limit == 16);
	store_close(s);

	/* A start goes on after the reserved mark, whatever was used of the block. */
	s = open_ok(p);
	CHECK(store_ids_start(s, 10, now.wall_ms, &from, &limit, &clean, NULL) == 0);
	CHECK(from == 16 && limit == 26 && clean == 0);
	CHECK(store_ids_clean_stop(s) == 0);
	store_close(s);
	s = open_ok(p);
	CHECK(store_ids_start(s, 10, now.wall_ms, &from, &limit, &clean, NULL) == 0);
	CHECK(from == 26 && clean == 1);
	/* The counter saved with alerts wins when it is ahead of the mark. */
	sql_exec(p, "INSERT OR REPLACE INTO meta(key, value) VALUES('next_alert_no', '500')");
	store_close(s);
	s = open_ok(p);
	CHECK(store_ids_start(s, 10, now.wall_ms, &from, &limit, &clean, NULL) == 0);
	CHECK(from == 500 && limit == 510);
	/* Reserving inside another transaction would ride on its fate: refused. */
	CHECK(store_begin(s) == 0);
	CHECK(store_ids_reserve(s, 510, 10, &limit) < 0);
	store_rollback(s);
	/* A damaged mark is refused, not guessed. */
	sql_exec(p, "UPDATE meta SET value = 'x' WHERE key = 'alert_reserved'");
	CHECK(store_ids_start(s, 10, now.wall_ms, &from, &limit, &clean, NULL) < 0);
	store_close(s);
}

static void test_numbers_past_the_block_carry_the_start_tag(void)
{
	struct engine *e = engine_new(&settings, "abcd0123");
	CHECK(e);
	engine_loaded(e, now);
	engine_set_connected(e, 1, now);
	engine_set_start_tag(e, "00ff00ff00ff00ff");
	engine_set_alert_numbers(e, 41, 43);
	CHECK(engine_alert_numbers_left(e) == 2 && engine_next_alert_no(e) == 41);
	const char *hh[] = { "h1", "h2", "h3" }, *dev[] = { "s1", "s2", "s3" };
	for (int i = 0; i < 3; i++) {
		admit(e, NULL, hh[i], now);
		install(e, NULL, dev[i], hh[i], now);
	}
	CHECK_STR(door_open(e, "s1", 1, now), "abcd0123-41");
	CHECK(engine_alert_numbers_left(e) == 1);
	CHECK_STR(door_open(e, "s2", 1, now), "abcd0123-42");
	CHECK(engine_alert_numbers_left(e) == 0);
	/* The store could not reserve more: the id cannot meet one of another start. */
	CHECK_STR(door_open(e, "s3", 1, now), "abcd0123-43_00ff00ff00ff00ff");
	/* A new block never moves numbering back. */
	engine_set_alert_numbers(e, 10, 100);
	CHECK(engine_next_alert_no(e) == 44 && engine_alert_numbers_left(e) == 56);
	engine_free(e);
}

static void save_alert_row(struct store *s, const char *id, enum sb_alert_type type, enum sb_alert_state state,
			   int msg_seq)
{
	struct action a;
	memset(&a, 0, sizeof a);
	a.kind = ACT_SAVE_ALERT;
	snprintf(a.u.alert.id, sizeof a.u.alert.id, "%s", id);
	a.u.alert.type = type;
	a.u.alert.state = state;
	snprintf(a.u.alert.household_id, sizeof a.u.alert.household_id, "h1");
	a.u.alert.since_ms = a.u.alert.raised_ms = now.wall_ms;
	a.u.alert.count = 1;
	a.u.alert.msg_seq = msg_seq;
	CHECK(store_begin(s) == 0 && store_apply(s, &a) == 0 && store_commit(s) == 0);
}

static void test_event_numbers_move_on_after_an_unclean_stop(void)
{
	const char *p = new_path();
	struct store *s = open_ok(p);
	int64_t from, limit;
	int clean;
	CHECK(store_ids_start(s, 10, now.wall_ms, &from, &limit, &clean, NULL) == 0);
	save_alert_row(s, "x-1", SB_ALERT_DOOR_OPEN, SB_AST_ESCALATED, 2);
	save_alert_row(s, "x-2", SB_ALERT_DOOR_OPEN, SB_AST_RESOLVED, 4);
	save_alert_row(s, "x-3", SB_ALERT_TAMPER, SB_AST_ACKED, 3);
	/* No clean stop recorded: messages past the saved k may have gone out unsaved. */
	store_close(s);
	s = open_ok(p);
	CHECK(store_ids_start(s, 10, now.wall_ms, &from, &limit, &clean, NULL) == 0 && clean == 0);
	CHECK(sql_int(p, "SELECT msg_seq FROM alerts WHERE id = 'x-1'") == 2 + STORE_SEQ_SKIP);
	CHECK(sql_int(p, "SELECT msg_seq FROM alerts WHERE id = 'x-3'") == 3 + STORE_SEQ_SKIP);
	/* A closed alert sends nothing more. */
	CHECK(sql_int(p, "SELECT msg_seq FROM alerts WHERE id = 'x-2'") == 4);
	char detail[200];
	sql_text(p, "SELECT detail FROM audit WHERE kind = 'ids' AND alert_id = 'x-1'", detail, sizeof detail);
	CHECK_STR(detail, "event numbers 3-102 skipped after an unclean stop");
	CHECK(sql_int(p, "SELECT count(*) FROM audit WHERE kind = 'ids'") == 2);
	/* The loaded alert goes on from there. */
	struct engine *e = engine_new(&settings, "x");
	admit(e, NULL, "h1", now);
	CHECK(store_load(s, e) == 0);
	CHECK(engine_alert(e, "x-1")->msg_seq == 2 + STORE_SEQ_SKIP);
	engine_free(e);
	/* After a clean stop nothing moves. */
	CHECK(store_ids_clean_stop(s) == 0);
	store_close(s);
	s = open_ok(p);
	CHECK(store_ids_start(s, 10, now.wall_ms, &from, &limit, &clean, NULL) == 0 && clean == 1);
	CHECK(sql_int(p, "SELECT msg_seq FROM alerts WHERE id = 'x-1'") == 2 + STORE_SEQ_SKIP);
	CHECK(sql_int(p, "SELECT count(*) FROM audit WHERE kind = 'ids'") == 2);
	store_close(s);
}

/* ---- permits ---- */

static void test_permits_saved_by_difference(void)
{
	const char *p = new_path();
	struct store *s = open_ok(p);
	struct engine *e = engine_new(&settings, "x");
	engine_loaded(e, now);
	admit(e, s, "h1", now);
	permit(e, s, "h1", now.wall_ms, now.wall_ms + DAY, "doctor", now, NULL);
	permit(e, s, "h1", now.wall_ms + DAY, now.wall_ms + 2 * DAY, "", now, NULL);
	char before[64], after[64];
	const char *rows = "SELECT group_concat(rowid) FROM (SELECT rowid FROM field_permits ORDER BY rowid)";
	sql_text(p, rows, before, sizeof before);
	CHECK_STR(before, "1,2");
	/* Re-admitting saves the household, and writes no permit row. */
	admit(e, s, "h1", now);
	sql_text(p, rows, after, sizeof after);
	CHECK_STR(after, before);
	/* One more: only it is written. */
	permit(e, s, "h1", now.wall_ms, now.wall_ms + 3 * DAY, "shop", now, NULL);
	sql_text(p, rows, after, sizeof after);
	CHECK_STR(after, "1,2,3");
	/* The table holds what memory holds: a reload gives the same three. */
	struct engine *e2 = engine_new(&settings, "x");
	CHECK(store_load(s, e2) == 0);
	CHECK(sql_int(p, "SELECT count(*) FROM field_permits WHERE target = 'h1' AND level = 'household'") == 3);
	engine_free(e2);
	engine_free(e);
	store_close(s);
}

static void test_permit_cap(void)
{
	struct engine *e = engine_new(&settings, "x");
	engine_loaded(e, now);
	admit(e, NULL, "h1", now);
	for (int i = 0; i < SB_PERMITS_MAX; i++)
		permit(e, NULL, "h1", now.wall_ms + i * 1000, now.wall_ms + DAY, "", now, NULL);
	permit(e, NULL, "h1", now.wall_ms, now.wall_ms + DAY, "", now, "too_many_permits");
	/* Lapsed permits do not count: once the first one lapsed, one more fits. */
	struct sb_now later = { now.mono_ms + DAY + 1, now.wall_ms + DAY + 1 };
	permit(e, NULL, "h1", later.wall_ms, later.wall_ms + DAY, "", later, NULL);
	permit(e, NULL, "h1", later.wall_ms, later.wall_ms + DAY, "", later, NULL);
	engine_free(e);
}

/* ---- retention ---- */

struct gone_log {
	int alerts, households, permits;
	const char *keep; /* an id the callback refuses */
};

static int on_gone(void *arg, enum store_gone what, const char *id)
{
	struct gone_log *g = arg;
	if (g->keep && strcmp(id, g->keep) == 0)
		return 1;
	g->alerts += what == STORE_GONE_ALERT;
	g->households += what == STORE_GONE_HOUSEHOLD;
	g->permits += what == STORE_GONE_PERMITS;
	return 0;
}

static void test_retention_batches(void)
{
	const char *p = new_path();
	struct store *s = open_ok(p);
	struct engine *e = engine_new(&settings, "x");
	engine_loaded(e, now);
	struct sb_now old = { now.mono_ms, now.wall_ms - 100 * DAY };
	/* Released 100 days ago, one with its seal still on the door; released 10 days ago; active. */
	admit(e, s, "h-old", old);
	permit(e, s, "h-old", old.wall_ms, old.wall_ms + DAY, "x", old, NULL);
	release(e, s, "h-old", old);
	admit(e, s, "h-seal", old);
	install(e, s, "s-left", "h-seal", old);
	release(e, s, "h-seal", old);
	admit(e, s, "h-recent", now);
	release(e, s, "h-recent", now);
	admit(e, s, "h-live", now);
	store_close(s);
	/* A month and more of history, backdated as a long run would leave it. */
	char sql[512];
	snprintf(sql, sizeof sql,
		 "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1199)"
		 " INSERT INTO audit(at_ms, kind, household_id, detail) SELECT %lld - i * 8640000, 'door', 'h-live', 'x'"
		 " FROM n",
		 (long long)now.wall_ms);
	sql_exec(p, sql); /* 1200 rows, one every 0.1 day over 120 days */
	snprintf(sql, sizeof sql,
		 "INSERT INTO alerts(id, type, state, level, household_id, since_ms, raised_ms, count, msg_seq,"
		 " due_ms, updated_ms) VALUES"
		 " ('a-old', 'door_open', 'resolved', 'community', 'h-live', 0, 0, 1, 2, 0, %lld),"
		 " ('a-keep', 'door_open', 'cleared', 'community', 'h-live', 0, 0, 1, 2, 0, %lld),"
		 " ('a-new', 'door_open', 'resolved', 'community', 'h-live', 0, 0, 1, 2, 0, %lld),"
		 " ('a-open', 'tamper', 'raised', 'community', 'h-live', 0, 0, 1, 1, 0, %lld)",
		 (long long)(now.wall_ms - 91 * DAY), (long long)(now.wall_ms - 95 * DAY),
		 (long long)(now.wall_ms - 89 * DAY), (long long)(now.wall_ms - 200 * DAY));
	sql_exec(p, sql);
	snprintf(sql, sizeof sql,
		 "INSERT INTO permits(household_id, from_ms, until_ms) VALUES ('h-live', 0, %lld), ('h-live', 0, %lld)",
		 (long long)(now.wall_ms - 91 * DAY), (long long)(now.wall_ms + DAY));
	sql_exec(p, sql);

	s = open_ok(p);
	struct store_retained n = {0};
	struct gone_log g = { 0, 0, 0, "a-keep" };
	int64_t cutoff = now.wall_ms - 90 * DAY;
	int more, batches = 0;
	while ((more = store_retain_step(s, cutoff, 100, on_gone, &g, &n)) > 0)
		batches++;
	CHECK(more == 0);
	/* Small batches: 300 old audit rows take four transactions at 100 a batch. */
	CHECK(batches >= 3);
	CHECK(n.audit >= 299 && n.alerts == 1 && n.households == 1);
	CHECK(g.alerts == 1 && g.households == 1 && g.permits == 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM audit WHERE at_ms < %lld", (long long)cutoff);
	CHECK(sql_int(p, sql) == 0);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM audit WHERE kind = 'door' AND at_ms >= %lld", (long long)cutoff);
	CHECK(sql_int(p, sql) == 901); /* 90.0 days old is not older than 90 days */
	CHECK(sql_int(p, "SELECT count(*) FROM alerts WHERE id IN ('a-keep', 'a-new', 'a-open')") == 3);
	CHECK(sql_int(p, "SELECT count(*) FROM alerts WHERE id = 'a-old'") == 0);
	CHECK(sql_int(p, "SELECT count(*) FROM households WHERE id = 'h-old'") == 0);
	/* A released household whose seal is still on the door stays: it awaits collection there. */
	CHECK(sql_int(p, "SELECT count(*) FROM households WHERE id = 'h-seal'") == 1);
	CHECK(sql_int(p, "SELECT count(*) FROM households WHERE id IN ('h-recent', 'h-live')") == 2);
	CHECK(sql_int(p, "SELECT count(*) FROM permits WHERE household_id = 'h-old'") == 0);
	CHECK(sql_int(p, "SELECT count(*) FROM permits WHERE household_id = 'h-live'") == 1);
	CHECK(sql_int(p, "SELECT count(*) FROM devices WHERE id = 's-left' AND household_id = 'h-seal'") == 1);
	CHECK(sql_int(p, "SELECT count(*) FROM devices WHERE household_id IS NOT NULL"
			 " AND household_id NOT IN (SELECT id FROM households)") == 0);
	/* Nothing left: one more step finds nothing. */
	memset(&n, 0, sizeof n);
	CHECK(store_retain_step(s, cutoff, 100, on_gone, &g, &n) == 0 && n.audit == 0 && n.alerts == 0);
	store_close(s);

	/* What went from the store goes from memory too. */
	CHECK(engine_forget_household(e, "h-live") == -2); /* active */
	CHECK(engine_forget_household(e, "h-nope") == -1);
	CHECK(engine_forget_household(e, "h-seal") == 0);
	CHECK(engine_household(e, "h-seal") == NULL);
	CHECK(engine_device(e, "s-left") && engine_device(e, "s-left")->household == NULL);
	CHECK(engine_forget_household(e, "h-old") == 0 && engine_household(e, "h-old") == NULL);
	CHECK(engine_household(e, "h-recent") && engine_household(e, "h-live"));
	/* A forgotten household can be admitted again as a new one. */
	admit(e, NULL, "h-old", now);
	CHECK(engine_household(e, "h-old") && !engine_household(e, "h-old")->released);
	engine_free(e);
}

static void test_closed_alert_forgotten(void)
{
	const char *p = new_path();
	struct store *s = open_ok(p);
	struct engine *e0 = engine_new(&settings, "x");
	admit(e0, s, "h1", now);
	engine_free(e0);
	save_alert_row(s, "x-1", SB_ALERT_DOOR_OPEN, SB_AST_RESOLVED, 2);
	struct engine *e = engine_new(&settings, "x");
	CHECK(store_load(s, e) == 0);
	struct command c;
	memset(&c, 0, sizeof c);
	c.op = SB_OP_ACK;
	snprintf(c.alert_id, sizeof c.alert_id, "x-1");
	snprintf(c.by, sizeof c.by, "o-1");
	cmd(e, NULL, &c, now, "alert_closed");
	CHECK(engine_forget_closed_alert(e, "x-1") == 0);
	CHECK(engine_forget_closed_alert(e, "x-1") == -1);
	cmd(e, NULL, &c, now, "unknown_alert");
	engine_free(e);
	store_close(s);
}

static void test_objmap_delete_keeps_clusters(void)
{
	/* Objects are their own keys: a char array at offset 0. */
	enum { N = 2000 };
	static char keys[N][16];
	struct objmap m;
	objmap_init(&m, 0);
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		CHECK(objmap_add(&m, keys[i]) == 0);
	}
	for (int i = 0; i < N; i += 2)
		CHECK(objmap_del(&m, keys[i]) == keys[i]);
	CHECK(objmap_del(&m, "k0") == NULL && objmap_del(&m, "nope") == NULL);
	CHECK(objmap_size(&m) == N / 2);
	for (int i = 0; i < N; i++)
		CHECK((objmap_get(&m, keys[i]) != NULL) == (i % 2 == 1));
	objmap_free(&m);
}

static void cleanup(void)
{
	char cmdline[300];
	snprintf(cmdline, sizeof cmdline, "rm -rf '%s'", dir);
	CHECK(system(cmdline) == 0);
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	RUN(test_alert_number_blocks);
	RUN(test_numbers_past_the_block_carry_the_start_tag);
	RUN(test_event_numbers_move_on_after_an_unclean_stop);
	RUN(test_permits_saved_by_difference);
	RUN(test_permit_cap);
	RUN(test_retention_batches);
	RUN(test_closed_alert_forgotten);
	RUN(test_objmap_delete_keeps_clusters);
	cleanup();
	DONE();
}
