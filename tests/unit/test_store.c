/* Store against real SQLite files in a private temp dir, loaded into a real engine. */
#include "check.h"
#include "test_model.h"
#include "clock.h"
#include "engine.h"
#include "store.h"
#include "store_schema.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/sb-test-store-XXXXXX";
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

/* 2026-11-29T04:00:00Z */
static const struct sb_now now = { 1000000, 1795838400000 };

/* A fresh database file name for each test. */
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

/* Side door into the file, as an operator with the sqlite3 shell would have. */
static void sql_exec(const char *p, const char *sql)
{
	sqlite3 *db;
	CHECK(sqlite3_open(p, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
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

static int file_mode(const char *p)
{
	struct stat sb;
	CHECK(stat(p, &sb) == 0);
	return (int)(sb.st_mode & 07777);
}

static void test_open_creates_private_wal_file(void)
{
	const char *p = new_path();
	char buf[64], wal[300], want[16];
	/* A umask that would leave the file read-only must not matter. */
	mode_t old = umask(0277);
	struct store *s = open_ok(p);
	umask(old);
	CHECK(file_mode(p) == 0600);
	snprintf(wal, sizeof wal, "%s-wal", p);
	CHECK(file_mode(wal) == 0600);

	const char *inst = store_instance(s);
	CHECK(strlen(inst) == 8 && strspn(inst, "0123456789abcdef") == 8);
	char first[9];
	memcpy(first, inst, 9);
	store_close(s);

	sql_text(p, "PRAGMA journal_mode", buf, sizeof buf);
	CHECK_STR(buf, "wal");
	sql_text(p, "PRAGMA user_version", buf, sizeof buf);
	snprintf(want, sizeof want, "%d", STORE_SCHEMA_VERSION);
	CHECK_STR(buf, want);

	s = open_ok(p);
	CHECK_STR(store_instance(s), first);
	store_close(s);
	store_close(NULL);

	/* A second database gets its own instance id. */
	s = open_ok(new_path());
	CHECK(strcmp(store_instance(s), first) != 0);
	store_close(s);
}

static void test_refuses_newer_schema(void)
{
	const char *p = new_path();
	char err[256], sql[64];
	store_close(open_ok(p));
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION + 1);
	sql_exec(p, sql);
	struct store *s = (struct store *)1;
	CHECK(store_open(p, &s, err) < 0);
	CHECK(s == NULL);
	CHECK(strstr(err, "newer") != NULL);
	CHECK(strstr(err, p) != NULL);
}

static void test_refuses_bad_files(void)
{
	char err[256];
	struct store *s = (struct store *)1;

	const char *p = new_path();
	FILE *f = fopen(p, "w");
	REQUIRE(f != NULL);
	for (int i = 0; i < 400; i++)
		fputs("this is a text file, not a database\n", f);
	fclose(f);
	CHECK(store_open(p, &s, err) < 0);
	CHECK(s == NULL);
	CHECK(strstr(err, "not a database") != NULL);

	/* Someone else's database: never add our tables to it. */
	p = new_path();
	sql_exec(p, "CREATE TABLE stuff(x)");
	CHECK(store_open(p, &s, err) < 0);
	CHECK(strstr(err, "not a sealbridge database") != NULL);

	CHECK(store_open(dir, &s, err) < 0);
	CHECK(s == NULL && err[0] != '\0');
}

/* Roster fixtures: two households, one with permits and a seal, one released. */
static struct unit units[SB_LEVEL_COUNT] = {
	[SB_LEVEL_COMMUNITY] = { "c-7", SB_LEVEL_COMMUNITY },
	[SB_LEVEL_STREET] = { "s-3", SB_LEVEL_STREET },
	[SB_LEVEL_DISTRICT] = { "d-1", SB_LEVEL_DISTRICT },
};
static struct permit permit2 = { 1795845600000, 1795849200000, NULL, NULL };
static struct permit permit1 = { 1795840000000, 1795841000000, "hospital visit", &permit2 };
static struct permit permit0 = { 1795830000000, 1795831000000, "old", &permit1 };


static void fill_households(struct household *h1, struct household *h2)
{
	memset(h1, 0, sizeof *h1);
	strcpy(h1->id, "h1");
	h1->address = "3-2-1502";
	static struct placement place;
	for (int l = 0; l < SB_LEVEL_COUNT; l++)
		place.unit[l] = &units[l];
	h1->place = &place;
	h1->category = SB_CAT_CLOSE_CONTACT;
	h1->persons = 3;
	h1->start_ms = now.wall_ms - 86400000;
	h1->end_ms = now.wall_ms + 13 * 86400000LL;
	h1->unfitted_since_ms = now.wall_ms - 86400000;
	h1->changed_ms = now.wall_ms - 5000;
	h1->permits = &permit0;

	*h2 = *h1;
	strcpy(h2->id, "h2");
	h2->address = NULL;
	h2->category = SB_CAT_NONE;
	h2->persons = -1;
	h2->released = 1;
	h2->released_ms = now.wall_ms - 1000;
	h2->permits = NULL;
}

static void fill_alert(struct alert *a, const char *id, enum sb_alert_type type, enum sb_alert_state state,
		       const char *hid)
{
	memset(a, 0, sizeof *a);
	snprintf(a->id, sizeof a->id, "%s", id);
	snprintf(a->household_id, sizeof a->household_id, "%s", hid);
	a->type = type;
	a->state = state;
	a->level = SB_LEVEL_COMMUNITY;
	a->since_ms = now.wall_ms - 60000;
	a->raised_ms = now.wall_ms - 59000;
	a->count = 1;
	a->msg_seq = 1;
}

static void apply(struct store *s, struct action *a)
{
	int rc = store_apply(s, a);
	if (rc != 0)
		fprintf(stderr, "store_apply: %s\n", store_errmsg(s));
	CHECK(rc == 0);
}

static struct engine *load(struct store *s)
{
	struct engine *e = engine_new(&settings, store_instance(s));
	REQUIRE(e != NULL);
	int rc = store_load(s, e);
	if (rc != 0)
		fprintf(stderr, "store_load: %d %s\n", rc, store_errmsg(s));
	CHECK(rc == 0);
	engine_loaded(e, now);
	return e;
}

static void test_roundtrip_through_engine(void)
{
	const char *p = new_path();
	struct store *s = open_ok(p);
	union test_household h1u, h2u;
	struct household *h1 = &h1u.o, *h2 = &h2u.o;
	union test_device d1u, d2u;
	struct device *d1 = &d1u.o, *d2 = &d2u.o;
	struct action act;
	fill_households(h1, h2);

	memset(d1u.room, 0, sizeof d1u.room);
	strcpy(d1->id, "seal-1");
	d1->household = h1;
	d1->silence_after_ms = 120000;
	d1->fitted_ms = now.wall_ms - 3600000;
	d1->door = SB_DOOR_OPEN;
	d1->battery = 55;
	d1->tamper = 0;
	d1->seq = 17;
	d1->last_seen_ms = now.wall_ms - 30000;
	d1->heard = 1;
	*d2 = *d1;
	strcpy(d2->id, "seal-2");
	d2->household = NULL;
	d2->silence_after_ms = 0;
	d2->door = SB_DOOR_UNKNOWN;
	d2->battery = d2->tamper = -1;
	d2->seq = -1;
	d2->last_seen_ms = 0;
	d2->heard = 0;
	d2->silent = 1;

	CHECK(store_begin(s) == 0);
	act.kind = ACT_SAVE_HOUSEHOLD;
	act.u.household = h1;
	apply(s, &act);
	/* Saved again with one permit fewer: the permit list is replaced, not merged. */
	h1->permits = &permit1;
	h1->persons = 4;
	apply(s, &act);
	act.u.household = h2;
	apply(s, &act);
	act.kind = ACT_SAVE_DEVICE;
	act.u.device = d1;
	apply(s, &act);
	act.u.device = d2;
	apply(s, &act);

	act.kind = ACT_SAVE_ALERT;
	fill_alert(&act.u.alert, "x-1", SB_ALERT_DOOR_OPEN, SB_AST_RAISED, "h1");
	snprintf(act.u.alert.device_id, sizeof act.u.alert.device_id, "seal-1");
	apply(s, &act);
	/* The same alert later: escalated, folded twice more. */
	act.u.alert.state = SB_AST_ESCALATED;
	act.u.alert.level = SB_LEVEL_STREET;
	act.u.alert.count = 3;
	act.u.alert.msg_seq = 2;
	act.u.alert.due_ms = now.wall_ms + 900000;
	apply(s, &act);
	fill_alert(&act.u.alert, "x-2", SB_ALERT_UNMONITORED, SB_AST_ACKED, "h2");
	snprintf(act.u.alert.by, sizeof act.u.alert.by, "officer-9");
	snprintf(act.u.alert.note, sizeof act.u.alert.note, "on the way, \"quoted\"");
	apply(s, &act);
	fill_alert(&act.u.alert, "x-3", SB_ALERT_TAMPER, SB_AST_RESOLVED, "h1");
	apply(s, &act);

	act.kind = ACT_SAVE_COUNTER;
	act.u.counter = 42;
	apply(s, &act);
	memset(&act.u.audit, 0, sizeof act.u.audit);
	act.kind = ACT_AUDIT;
	act.u.audit.kind = "door";
	act.u.audit.at_ms = now.wall_ms;
	snprintf(act.u.audit.household_id, sizeof act.u.audit.household_id, "h1");
	snprintf(act.u.audit.device_id, sizeof act.u.audit.device_id, "seal-1");
	snprintf(act.u.audit.detail, sizeof act.u.audit.detail, "open within permit");
	apply(s, &act);
	act.kind = ACT_PUB_STATE; /* not the store's business */
	act.u.household = h1;
	apply(s, &act);
	CHECK(store_commit(s) == 0);
	store_close(s);

	/* Everything must come back after a restart. */
	s = open_ok(p);
	struct engine *e = load(s);
	CHECK(engine_household_count(e) == 2);
	CHECK(engine_device_count(e) == 2);

	const struct household *g = engine_household(e, "h1");
	REQUIRE(g != NULL);
	CHECK_STR(g->address, "3-2-1502");
	CHECK_STR(sb_household_unit(g, SB_LEVEL_COMMUNITY)->id, "c-7");
	CHECK_STR(sb_household_unit(g, SB_LEVEL_STREET)->id, "s-3");
	CHECK_STR(sb_household_unit(g, SB_LEVEL_DISTRICT)->id, "d-1");
	CHECK(g->category == SB_CAT_CLOSE_CONTACT);
	CHECK(g->persons == 4);
	CHECK(g->start_ms == h1->start_ms && g->end_ms == h1->end_ms);
	CHECK(g->released == 0);
	CHECK(g->unfitted_since_ms == h1->unfitted_since_ms);
	CHECK(g->changed_ms == h1->changed_ms);
	CHECK(g->permits != NULL && g->permits->next != NULL && g->permits->next->next == NULL);
	CHECK(g->permits->from_ms == permit1.from_ms && g->permits->until_ms == permit1.until_ms);
	CHECK_STR(g->permits->reason, "hospital visit");
	CHECK(g->permits->next->from_ms == permit2.from_ms && g->permits->next->until_ms == permit2.until_ms);
	CHECK(g->permits->next->reason == NULL);
	REQUIRE(g->device != NULL);
	CHECK_STR(g->device->id, "seal-1");

	g = engine_household(e, "h2");
	REQUIRE(g != NULL);
	CHECK(g->address == NULL);
	CHECK(g->category == SB_CAT_NONE);
	CHECK(g->persons == -1);
	CHECK(g->released == 1 && g->released_ms == h2->released_ms);
	CHECK(g->permits == NULL && g->device == NULL);

	const struct device *d = engine_device(e, "seal-1");
	REQUIRE(d != NULL);
	CHECK(d->household == engine_household(e, "h1"));
	CHECK(d->silence_after_ms == 120000);
	CHECK(d->fitted_ms == d1->fitted_ms);
	CHECK(d->door == SB_DOOR_OPEN);
	CHECK(d->battery == 55 && d->tamper == 0 && d->seq == 17);
	CHECK(d->last_seen_ms == d1->last_seen_ms);
	{
		/* What was loaded is what is on disk: no liveness left to write. */
		struct actions fl = {0};
		while (!engine_flush_liveness(e, 64, &fl))
			;
		CHECK(fl.n == 0);
		actions_free(&fl);
	}
	CHECK(d->heard == 1 && d->silent == 0);
	d = engine_device(e, "seal-2");
	REQUIRE(d != NULL);
	CHECK(d->household == NULL);
	CHECK(d->door == SB_DOOR_UNKNOWN);
	CHECK(d->battery == -1 && d->tamper == -1 && d->seq == -1);
	CHECK(d->last_seen_ms == 0 && d->heard == 0 && d->silent == 1);

	const struct alert *a = engine_alert(e, "x-1");
	REQUIRE(a != NULL);
	CHECK(a->type == SB_ALERT_DOOR_OPEN && a->state == SB_AST_ESCALATED && a->level == SB_LEVEL_STREET);
	CHECK_STR(a->household_id, "h1");
	CHECK_STR(a->device_id, "seal-1");
	CHECK(a->since_ms == now.wall_ms - 60000 && a->raised_ms == now.wall_ms - 59000);
	CHECK(a->count == 3 && a->msg_seq == 2);
	CHECK(a->due_ms == now.wall_ms + 900000);
	CHECK_STR(a->by, "");
	CHECK(sb_household_alert(engine_household(e, "h1"), SB_ALERT_DOOR_OPEN) == a);
	a = engine_alert(e, "x-2");
	REQUIRE(a != NULL);
	CHECK(a->type == SB_ALERT_UNMONITORED && a->state == SB_AST_ACKED);
	CHECK_STR(a->device_id, "");
	CHECK_STR(a->by, "officer-9");
	CHECK_STR(a->note, "on the way, \"quoted\"");
	/* Closed alerts are history, not engine state; but the engine still knows
	 * them: an ack answers alert_closed and a repeated resolve answers ok. */
	CHECK(engine_alert(e, "x-3") == NULL);
	{
		struct command c;
		struct cmd_result res;
		struct actions none;
		actions_init(&none);
		memset(&c, 0, sizeof c);
		c.op = SB_OP_ACK;
		snprintf(c.alert_id, sizeof c.alert_id, "x-3");
		snprintf(c.by, sizeof c.by, "w-1");
		engine_command(e, &c, now, &res, &none);
		CHECK(!res.ok);
		CHECK_STR(res.error, "alert_closed");
		c.op = SB_OP_RESOLVE;
		engine_command(e, &c, now, &res, &none);
		CHECK(res.ok && !res.changed);
		c.op = SB_OP_ACK;
		snprintf(c.alert_id, sizeof c.alert_id, "x-404");
		engine_command(e, &c, now, &res, &none);
		CHECK_STR(res.error, "unknown_alert");
		actions_free(&none);
	}

	/* The counter survived: the next alert is number 42, not 1 again. */
	struct actions out;
	struct report r;
	memset(&r, 0, sizeof r);
	r.has_tamper = 1;
	r.tamper = 1;
	actions_init(&out);
	CHECK(engine_report(e, "seal-1", &r, 0, now, &out) == REPORT_APPLIED);
	char want[32];
	snprintf(want, sizeof want, "%s-42", store_instance(s));
	const struct alert *raised = sb_household_alert(engine_household(e, "h1"), SB_ALERT_TAMPER);
	REQUIRE(raised != NULL);
	CHECK_STR(raised->id, want);
	actions_free(&out);
	engine_free(e);
	store_close(s);

	char buf[600];
	sql_text(p, "SELECT kind || '|' || household_id || '|' || device_id || '|' || ifnull(alert_id, 'NULL')"
		    " || '|' || detail || '|' || at_ms FROM audit",
		 buf, sizeof buf);
	snprintf(want, sizeof want, "|%lld", (long long)now.wall_ms);
	CHECK(strncmp(buf, "door|h1|seal-1|NULL|open within permit|", 39) == 0);
	CHECK(strstr(buf, want) != NULL);
	sql_text(p, "SELECT count(*) FROM permits", buf, sizeof buf);
	CHECK_STR(buf, "2");
}

static void test_bad_rows_refused(void)
{
	const char *p = new_path();
	struct store *s = open_ok(p);
	union test_household h1u, h2u;
	struct household *h1 = &h1u.o, *h2 = &h2u.o;
	struct action act;
	fill_households(h1, h2);
	act.kind = ACT_SAVE_HOUSEHOLD;
	act.u.household = h1;
	apply(s, &act);
	/* An open alert of a household the roster does not know: the engine's code comes back. */
	act.kind = ACT_SAVE_ALERT;
	fill_alert(&act.u.alert, "x-9", SB_ALERT_TAMPER, SB_AST_RAISED, "nobody");
	apply(s, &act);
	struct engine *e = engine_new(&settings, "t");
	CHECK(store_load(s, e) == -2);
	engine_free(e);
	store_close(s);

	sql_exec(p, "DELETE FROM alerts; UPDATE households SET category = 'vip'");
	s = open_ok(p);
	e = engine_new(&settings, "t");
	CHECK(store_load(s, e) == -1);
	CHECK(strstr(store_errmsg(s), "h1") != NULL && strstr(store_errmsg(s), "category") != NULL);
	engine_free(e);
	store_close(s);
}

struct seen {
	int n;
	int64_t id[8];
	char topic[8][64];
	unsigned char payload[8][16];
	size_t len[8], corr_len[8];
	unsigned char corr[8][16];
	int qos[8], retained[8];
	int stop_after;
};

static int collect(void *arg, int64_t id, const char *topic, const void *payload, size_t len, int qos,
		   int retained, const void *corr, size_t corr_len)
{
	struct seen *sn = arg;
	CHECK(sn->n < 8 && len <= 16 && corr_len <= 16);
	REQUIRE(payload != NULL);
	sn->id[sn->n] = id;
	snprintf(sn->topic[sn->n], 64, "%s", topic);
	memcpy(sn->payload[sn->n], payload, len);
	sn->len[sn->n] = len;
	if (corr_len)
		memcpy(sn->corr[sn->n], corr, corr_len);
	sn->corr_len[sn->n] = corr_len;
	sn->qos[sn->n] = qos;
	sn->retained[sn->n] = retained;
	sn->n++;
	return sn->stop_after && sn->n == sn->stop_after ? 7 : 0;
}

static void test_outbox(void)
{
	const char *p = new_path();
	struct store *s = open_ok(p);
	static const unsigned char bin[] = { '{', 0, 0xff, '}' };
	static const unsigned char corr[] = { 1, 0, 2 };
	int64_t id[3];
	CHECK(store_outbox_add(s, "seal/alert/community/c-7", bin, sizeof bin, 1, 0, corr, sizeof corr, &id[0]) == 0);
	CHECK(store_outbox_add(s, "seal/state/household/h1", NULL, 0, 1, 1, NULL, 0, &id[1]) == 0);
	CHECK(store_outbox_add(s, "seal/reply/x", "{}", 2, 0, 0, NULL, 0, &id[2]) == 0);
	CHECK(id[0] < id[1] && id[1] < id[2]);
	store_close(s);

	s = open_ok(p);
	struct seen sn;
	memset(&sn, 0, sizeof sn);
	CHECK(store_outbox_each(s, collect, &sn) == 0);
	CHECK(sn.n == 3);
	CHECK(sn.id[0] == id[0] && sn.id[1] == id[1] && sn.id[2] == id[2]);
	CHECK_STR(sn.topic[0], "seal/alert/community/c-7");
	CHECK(sn.len[0] == sizeof bin && memcmp(sn.payload[0], bin, sizeof bin) == 0);
	CHECK(sn.corr_len[0] == sizeof corr && memcmp(sn.corr[0], corr, sizeof corr) == 0);
	CHECK(sn.qos[0] == 1 && sn.retained[0] == 0);
	/* The empty retained message that clears a household's state. */
	CHECK(sn.len[1] == 0 && sn.retained[1] == 1 && sn.corr_len[1] == 0);
	CHECK(sn.len[2] == 2 && memcmp(sn.payload[2], "{}", 2) == 0 && sn.qos[2] == 0);

	memset(&sn, 0, sizeof sn);
	sn.stop_after = 1;
	CHECK(store_outbox_each(s, collect, &sn) == 7);
	CHECK(sn.n == 1);

	int64_t del[2] = { id[0], id[2] };
	CHECK(store_outbox_delete(s, del, 2) == 0);
	memset(&sn, 0, sizeof sn);
	CHECK(store_outbox_each(s, collect, &sn) == 0);
	CHECK(sn.n == 1 && sn.id[0] == id[1]);
	CHECK(store_checkpoint(s) == 0);
	store_close(s);
}

static int count_rows(void *arg, int64_t id, const char *topic, const void *payload, size_t len, int qos,
		      int retained, const void *corr, size_t corr_len)
{
	(void)id, (void)topic, (void)payload, (void)len, (void)qos, (void)retained, (void)corr, (void)corr_len;
	++*(int *)arg;
	return 0;
}

static void test_rollback_and_failed_commit(void)
{
	const char *p = new_path();
	struct store *s = open_ok(p);
	union test_household h1u, h2u;
	struct household *h1 = &h1u.o, *h2 = &h2u.o;
	struct action act;
	fill_households(h1, h2);

	CHECK(store_begin(s) == 0);
	act.kind = ACT_SAVE_HOUSEHOLD;
	act.u.household = h1;
	apply(s, &act);
	CHECK(store_outbox_add(s, "seal/state/household/h1", "{}", 2, 1, 1, NULL, 0, NULL) == 0);
	store_rollback(s);
	store_rollback(s); /* nothing open: harmless */

	int rows = 0;
	CHECK(store_outbox_each(s, count_rows, &rows) == 0);
	CHECK(rows == 0);
	struct engine *e = load(s);
	CHECK(engine_household(e, "h1") == NULL);
	engine_free(e);

	/* A seal fitted to a household that was never saved: caught at commit,
	 * and the store is usable afterwards. */
	union test_device du;
	struct device *d = &du.o;
	memset(du.room, 0, sizeof du.room);
	strcpy(d->id, "seal-x");
	d->household = h2;
	d->battery = d->tamper = -1;
	d->seq = -1;
	CHECK(store_begin(s) == 0);
	act.kind = ACT_SAVE_DEVICE;
	act.u.device = d;
	apply(s, &act);
	CHECK(store_commit(s) < 0);
	CHECK(strstr(store_errmsg(s), "FOREIGN KEY") != NULL);
	CHECK(store_disk_fault(s) == 0);
	CHECK(store_begin(s) == 0);
	act.kind = ACT_SAVE_HOUSEHOLD;
	act.u.household = h1;
	apply(s, &act);
	CHECK(store_commit(s) == 0);
	e = load(s);
	CHECK(engine_household(e, "h1") != NULL);
	CHECK(engine_device(e, "seal-x") == NULL);
	engine_free(e);
	store_close(s);
}

static void cleanup(void)
{
	char p[300];
	static const char *const suffix[] = { "", "-wal", "-shm" };
	for (int i = 1; i <= db_no; i++)
		for (size_t j = 0; j < 3; j++) {
			snprintf(p, sizeof p, "%s/t%d.db%s", dir, i, suffix[j]);
			unlink(p);
		}
	rmdir(dir);
}

struct idset {
	char ids[8][16];
	int n;
};

static int collect_id(void *arg, const char *id)
{
	struct idset *set = arg;
	CHECK(set->n < 8);
	snprintf(set->ids[set->n++], sizeof set->ids[0], "%s", id);
	return 0;
}

static int has_id(const struct idset *set, const char *id)
{
	for (int i = 0; i < set->n; i++)
		if (strcmp(set->ids[i], id) == 0)
			return 1;
	return 0;
}

static struct idset changed_since(struct store *s, int64_t ms)
{
	struct idset set = {.n = 0};
	CHECK(store_changed_since(s, ms, collect_id, &set) == 0);
	return set;
}

/* What a restart after a crash publishes again: every household whose own
 * row, seal row or audit trail changed at or after the confirmed mark. */
static void test_states_changed_since(void)
{
	const char *p = new_path();
	struct store *s = open_ok(p);
	int64_t mark;
	CHECK(store_states_confirmed(s, &mark) == 0 && mark == -1); /* never recorded */
	union test_household h1u, h2u;
	struct household *h1 = &h1u.o, *h2 = &h2u.o;
	fill_households(h1, h2);
	h1->changed_ms = now.wall_ms - 5000;
	h2->changed_ms = now.wall_ms - 100000;
	h2->released = 0;
	struct action act = {.kind = ACT_SAVE_HOUSEHOLD};
	CHECK(store_begin(s) == 0);
	act.u.household = h1;
	apply(s, &act);
	act.u.household = h2;
	apply(s, &act);
	CHECK(store_commit(s) == 0);
	struct idset set = changed_since(s, now.wall_ms - 10000);
	CHECK(set.n == 1 && has_id(&set, "h1"));
	CHECK(changed_since(s, now.wall_ms - 4999).n == 0); /* the mark is inclusive, and no later */

	/* A report saves the seal, not the household: the seal's row carries the time. */
	int64_t before = clock_now().wall_ms;
	union test_device du;
	struct device *d = &du.o;
	memset(du.room, 0, sizeof du.room);
	strcpy(d->id, "seal-2");
	d->household = h2;
	d->battery = d->tamper = -1;
	d->seq = -1;
	CHECK(store_begin(s) == 0);
	act.kind = ACT_SAVE_DEVICE;
	act.u.device = d;
	apply(s, &act);
	d->battery = 40; /* saved again, now as an update of the same row */
	apply(s, &act);
	CHECK(store_commit(s) == 0);
	set = changed_since(s, before);
	CHECK(set.n == 1 && has_id(&set, "h2"));

	/* An alert or a door leaves an audit row. */
	memset(&act.u.audit, 0, sizeof act.u.audit);
	act.kind = ACT_AUDIT;
	act.u.audit.kind = "alert";
	act.u.audit.at_ms = before + 3600000;
	snprintf(act.u.audit.household_id, sizeof act.u.audit.household_id, "h1");
	CHECK(store_begin(s) == 0);
	apply(s, &act);
	CHECK(store_commit(s) == 0);
	set = changed_since(s, before + 1000);
	CHECK(set.n == 1 && has_id(&set, "h1"));
	set = changed_since(s, now.wall_ms - 10000);
	CHECK(set.n == 2 && has_id(&set, "h1") && has_id(&set, "h2")); /* each once */

	CHECK(store_begin(s) == 0 && store_set_states_confirmed(s, before) == 0 && store_commit(s) == 0);
	store_close(s);
	s = open_ok(p);
	CHECK(store_states_confirmed(s, &mark) == 0 && mark == before);
	store_close(s);
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	RUN(test_open_creates_private_wal_file);
	RUN(test_refuses_newer_schema);
	RUN(test_refuses_bad_files);
	RUN(test_roundtrip_through_engine);
	RUN(test_bad_rows_refused);
	RUN(test_outbox);
	RUN(test_rollback_and_failed_commit);
	RUN(test_states_changed_since);
	cleanup();
	DONE();
}
