/* Seal custody in SQLite: the migration that keeps an existing database
 * working, and custody surviving a restart (engine -> store -> new engine). */
#include "test_engine_harness.h"
#include "store.h"
#include "store_schema.h"

#include <sqlite3.h>
#include <unistd.h>

static char dir[] = "/tmp/sb-test-custody-XXXXXX";
static char path[256];
static int db_no;

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
		fprintf(stderr, "%s: %s\n", sql, msg);
	CHECK(msg == NULL);
	sqlite3_close(db);
}

static int sql_int(const char *p, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	int v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* The engine's last actions, in one transaction, as the service writes them. */
static void commit_actions(struct store *s)
{
	CHECK(store_begin(s) == 0);
	for (size_t i = 0; i < A.n; i++) {
		int rc = store_apply(s, &A.v[i]);
		if (rc)
			fprintf(stderr, "store_apply: %s\n", store_errmsg(s));
		CHECK(rc == 0);
	}
	CHECK(store_commit(s) == 0);
}

static void run_saved(struct store *s, const struct command *c)
{
	run_ok(c);
	commit_actions(s);
}

static struct engine *load(struct store *s)
{
	struct engine *e = engine_new(&set, store_instance(s));
	CHECK(e != NULL);
	int rc = store_load(s, e);
	if (rc)
		fprintf(stderr, "store_load: %s\n", store_errmsg(s));
	CHECK(rc == 0);
	engine_loaded(e, now);
	return e;
}

/* A database as an earlier sealbridge left it: no custody columns, version 2. */
static void make_old_database(const char *p)
{
	store_close(open_ok(p));
	sql_exec(p, "ALTER TABLE devices DROP COLUMN custody; ALTER TABLE devices DROP COLUMN model;"
		    "ALTER TABLE devices DROP COLUMN batch; ALTER TABLE devices DROP COLUMN note;"
		    "ALTER TABLE devices DROP COLUMN unit_level; ALTER TABLE devices DROP COLUMN unit_id;"
		    "ALTER TABLE devices DROP COLUMN fittings;"
		    /* and what the retention and field-operations steps add */
		    "DROP INDEX alerts_closed_at; DROP INDEX households_released_at; DROP INDEX permits_until;"
		    "ALTER TABLE alerts DROP COLUMN unit_community; ALTER TABLE alerts DROP COLUMN unit_street;"
		    "ALTER TABLE alerts DROP COLUMN unit_district; ALTER TABLE alerts DROP COLUMN gateway_id;"
		    "ALTER TABLE alerts DROP COLUMN households; ALTER TABLE alerts DROP COLUMN outcome;"
		    "ALTER TABLE alerts DROP COLUMN closed_ms; DROP TABLE seal_links; DROP TABLE field_permits;"
		    "PRAGMA user_version = 2;");
	sql_exec(p, "INSERT INTO households(id, district_id, street_id, community_id, start_ms, end_ms, released)"
		    " VALUES('h-active', 'd1', 's1', 'c1', 0, 9000000000000, 0),"
		    " ('h-released', 'd1', 's1', 'c1', 0, 9000000000000, 1);"
		    "INSERT INTO devices(id, household_id, silence_after_ms, door, heard, silent) VALUES"
		    " ('on-door', 'h-active', 0, 'closed', 1, 0), ('on-released', 'h-released', 0, 'closed', 1, 0),"
		    " ('off', NULL, 0, 'unknown', 0, 0);");
}

static void test_migration_keeps_old_databases(void)
{
	start_quiet();
	const char *p = new_path();
	make_old_database(p);
	struct store *s = open_ok(p);
	CHECK(sql_int(p, "PRAGMA user_version") == STORE_SCHEMA_VERSION);
	struct engine *e = load(s);
	CHECK(engine_device(e, "on-door")->custody == SB_SEAL_FITTED);
	CHECK(engine_device(e, "on-released")->custody == SB_SEAL_AWAITING_COLLECTION);
	CHECK(engine_device(e, "off")->custody == SB_SEAL_COLLECTED);
	CHECK(engine_device(e, "on-door")->fittings == 1);
	CHECK(engine_device(e, "off")->fittings == 0);
	CHECK(sql_int(p, "SELECT count(*) FROM devices WHERE custody = 'fitted'") == 1);
	engine_free(e);
	store_close(s);
	finish();
}

static void test_custody_survives_restart(void)
{
	start_quiet();
	const char *p = new_path();
	struct store *s = open_ok(p);
	struct command c = admit_cmd("h1", "c1", "s1", "d1", now.wall_ms + DAY);
	run_saved(s, &c);
	c = cmd(SB_OP_REGISTER);
	snprintf(c.device_id, sizeof c.device_id, "stock-1");
	snprintf(c.model, sizeof c.model, "ds-200");
	snprintf(c.batch, sizeof c.batch, "b7");
	snprintf(c.note, sizeof c.note, "box 3");
	run_saved(s, &c);
	snprintf(c.device_id, sizeof c.device_id, "alloc-1");
	run_saved(s, &c);
	c = cmd(SB_OP_ALLOCATE);
	snprintf(c.device_id, sizeof c.device_id, "alloc-1");
	snprintf(c.unit_id[SB_LEVEL_COMMUNITY], sizeof c.unit_id[0], "c1");
	run_saved(s, &c);
	c = install_cmd("door-1", "h1");
	run_saved(s, &c);
	c = cmd(SB_OP_UNINSTALL);
	snprintf(c.device_id, sizeof c.device_id, "door-1");
	run_saved(s, &c);
	c = cmd(SB_OP_INSPECT);
	snprintf(c.device_id, sizeof c.device_id, "door-1");
	c.result = SB_INSPECT_FAULTY;
	run_saved(s, &c);
	store_close(s);

	s = open_ok(p);
	struct engine *e = load(s);
	const struct device *d = engine_device(e, "stock-1");
	CHECK(d && d->custody == SB_SEAL_IN_STOCK);
	d = engine_device(e, "alloc-1");
	CHECK(d && d->custody == SB_SEAL_ALLOCATED);
	d = engine_device(e, "door-1");
	CHECK(d && d->custody == SB_SEAL_FAULTY && d->fittings == 1);
	/* Model and batch came back: the seal state made after the restart shows them. */
	actions_clear(&A);
	CHECK(engine_republish_seal(e, "stock-1", now, &A) == 0);
	const struct seal_rec *r = NULL;
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_PUB_SEAL)
			r = &A.v[i].u.seal;
	CHECK(r != NULL);
	CHECK_STR(r->model, "ds-200");
	CHECK_STR(r->batch, "b7");
	CHECK_STR(r->note, "box 3");
	/* Allocation and the fault held at their units. */
	advance(set.stats_interval_ms);
	actions_clear(&A);
	engine_tick(e, now, &A);
	int found = 0;
	for (size_t i = 0; i < A.n; i++) {
		const struct stats_msg *m = &A.v[i].u.stats;
		if (A.v[i].kind != ACT_PUB_STATS || m->unit->level != SB_LEVEL_DISTRICT)
			continue;
		found = 1;
		CHECK(m->seals[SB_SEAL_IN_STOCK] == 1);
		CHECK(m->seals[SB_SEAL_ALLOCATED] == 1);
		CHECK(m->seals[SB_SEAL_FAULTY] == 1);
	}
	CHECK(found);
	engine_free(e);
	store_close(s);
	finish();
}

static int count_id(void *arg, const char *id)
{
	(void)id;
	(*(int *)arg)++;
	return 0;
}

static void test_seals_changed_since(void)
{
	start_quiet();
	const char *p = new_path();
	struct store *s = open_ok(p);
	struct command c = cmd(SB_OP_REGISTER);
	snprintf(c.device_id, sizeof c.device_id, "a");
	run_saved(s, &c);
	int n = 0;
	CHECK(store_seals_changed_since(s, 0, count_id, &n) == 0);
	CHECK(n == 1);
	n = 0;
	CHECK(store_seals_changed_since(s, INT64_MAX, count_id, &n) == 0);
	CHECK(n == 0);
	/* A door whose household changed (its address is in the seal state) counts too. */
	struct command a = admit_cmd("h1", "c1", "s1", "d1", now.wall_ms + DAY);
	run_saved(s, &a);
	struct command i = install_cmd("b", "h1");
	run_saved(s, &i);
	int64_t later = INT64_MAX / 2;
	n = 0;
	CHECK(store_seals_changed_since(s, later, count_id, &n) == 0);
	CHECK(n == 0);
	char sql[128];
	snprintf(sql, sizeof sql, "UPDATE households SET changed_ms = %lld", (long long)later);
	sql_exec(p, sql);
	CHECK(store_seals_changed_since(s, later, count_id, &n) == 0);
	CHECK(n == 1);
	store_close(s);
	finish();
}

static void cleanup(void)
{
	char p[300];
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (int i = 1; i <= db_no; i++)
		for (size_t j = 0; j < 3; j++) {
			snprintf(p, sizeof p, "%s/t%d.db%s", dir, i, suffix[j]);
			unlink(p);
		}
	rmdir(dir);
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	RUN(test_migration_keeps_old_databases);
	RUN(test_custody_survives_restart);
	RUN(test_seals_changed_since);
	cleanup();
	DONE();
}
