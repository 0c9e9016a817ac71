/* Shared harness of the engine tests: one engine on a fake clock, the actions of
 * the last call, and builders for commands and reports. Included by each
 * test_engine*.c executable; everything is static to that executable. */
#ifndef SB_TEST_ENGINE_HARNESS_H
#define SB_TEST_ENGINE_HARNESS_H

#include "check.h"
#include "engine.h"

#include <stdint.h>

#define UNUSED __attribute__((unused))

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

/* 2026-11-29T04:00:00Z; the monotonic clock starts somewhere unrelated. */
#define T0_WALL 1795924800000LL
#define T0_MONO 1000000LL

static struct engine_settings set;
static struct engine *E;
static struct sb_now now;
static struct actions A; /* actions of the last engine call */
static struct cmd_result R;

static UNUSED void default_settings(void)
{
	set.silence_after_ms = 900 * SEC;
	set.unmonitored_after_ms = 3600 * SEC;
	set.street_after_ms = 600 * SEC;
	set.district_after_ms = 900 * SEC;
	set.stats_interval_ms = 60 * SEC;
	set.battery_low = 20;
	/* A model that sets nothing of its own: the custody tests register seals with it. */
	snprintf(set.models[0].name, sizeof set.models[0].name, "ds-200");
	set.models[0].silence_after_ms = 0;
	set.models[0].battery_low = -1;
	set.n_models = 1;
}

/* A fresh engine, loaded from an empty store and connected. */
static UNUSED void start_with(const struct engine_settings *s)
{
	now.mono_ms = T0_MONO;
	now.wall_ms = T0_WALL;
	E = engine_new(s, "t");
	REQUIRE(E != NULL);
	actions_init(&A);
	engine_loaded(E, now);
	engine_set_connected(E, 1, now);
}

static UNUSED void start(void)
{
	default_settings();
	start_with(&set);
}

/* Seals never fall silent: for tests of other rules that let days pass. */
static UNUSED void start_quiet(void)
{
	default_settings();
	set.silence_after_ms = 365 * DAY;
	start_with(&set);
}

static UNUSED void finish(void)
{
	engine_free(E);
	E = NULL;
	actions_free(&A);
}

static UNUSED void advance(int64_t ms)
{
	now.mono_ms += ms;
	now.wall_ms += ms;
}

static UNUSED void tick(void)
{
	actions_clear(&A);
	engine_tick(E, now, &A);
	CHECK(!A.oom);
}

/* Move both clocks and fire what is due. */
static UNUSED void tick_after(int64_t ms)
{
	advance(ms);
	tick();
}

/* ---- the action list of the last call ---- */

static UNUSED size_t count_kind(enum action_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < A.n; i++)
		n += A.v[i].kind == k;
	return n;
}

/* type < 0 / state < 0 / level < 0 match any. */
static UNUSED size_t count_pub(int type, int state, int level)
{
	size_t n = 0;
	for (size_t i = 0; i < A.n; i++) {
		const struct action *x = &A.v[i];
		if (x->kind != ACT_PUB_ALERT)
			continue;
		const struct alert_msg *m = &x->u.alert_msg;
		if ((type < 0 || (int)m->alert.type == type) && (state < 0 || (int)m->alert.state == state) &&
		    (level < 0 || (int)m->to_level == level))
			n++;
	}
	return n;
}

static UNUSED const struct alert_msg *find_pub(int type, int state, int level)
{
	for (size_t i = 0; i < A.n; i++) {
		const struct action *x = &A.v[i];
		if (x->kind != ACT_PUB_ALERT)
			continue;
		const struct alert_msg *m = &x->u.alert_msg;
		if ((type < 0 || (int)m->alert.type == type) && (state < 0 || (int)m->alert.state == state) &&
		    (level < 0 || (int)m->to_level == level))
			return m;
	}
	return NULL;
}

/* The one raised message of the last call, or a failed check. */
static UNUSED const struct alert_msg *raised(enum sb_alert_type type)
{
	CHECK(count_pub(-1, -1, -1) == 1);
	const struct alert_msg *m = find_pub((int)type, SB_AST_RAISED, SB_LEVEL_COMMUNITY);
	REQUIRE(m != NULL);
	return m;
}

/* The last saved copy of alert id in the last call, or NULL. */
static UNUSED const struct alert *saved_alert(const char *id)
{
	const struct alert *a = NULL;
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_SAVE_ALERT && strcmp(A.v[i].u.alert.id, id) == 0)
			a = &A.v[i].u.alert;
	return a;
}

static UNUSED int pub_state_of(const char *household_id)
{
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_PUB_STATE && strcmp(A.v[i].u.household->id, household_id) == 0)
			return 1;
	return 0;
}

static UNUSED const struct household *H(const char *id)
{
	const struct household *h = engine_household(E, id);
	REQUIRE(h != NULL);
	return h;
}

static UNUSED const struct device *D(const char *id)
{
	const struct device *d = engine_device(E, id);
	REQUIRE(d != NULL);
	return d;
}

/* ---- commands ---- */

static UNUSED struct command cmd(enum sb_op op)
{
	struct command c;
	memset(&c, 0, sizeof(c));
	c.op = op;
	c.persons = -1;
	return c;
}

static UNUSED void run(const struct command *c)
{
	actions_clear(&A);
	engine_command(E, c, now, &R, &A);
	CHECK(!A.oom);
}

static UNUSED void run_ok(const struct command *c)
{
	run(c);
	if (!R.ok)
		fprintf(stderr, "%s failed: %s %s\n", sb_op_name(c->op), R.error, R.message);
	CHECK(R.ok);
	CHECK(R.error == NULL);
}

static UNUSED void run_err(const struct command *c, const char *code)
{
	run(c);
	CHECK(!R.ok);
	CHECK_STR(R.error, code);
	CHECK(R.changed == 0);
	CHECK(R.message[0] != '\0');
}

static UNUSED struct command admit_cmd(const char *hid, const char *community, const char *street,
				       const char *district, int64_t end_ms)
{
	struct command c = cmd(SB_OP_ADMIT);
	snprintf(c.household_id, sizeof(c.household_id), "%s", hid);
	snprintf(c.unit_id[SB_LEVEL_COMMUNITY], sizeof(c.unit_id[0]), "%s", community);
	snprintf(c.unit_id[SB_LEVEL_STREET], sizeof(c.unit_id[0]), "%s", street);
	snprintf(c.unit_id[SB_LEVEL_DISTRICT], sizeof(c.unit_id[0]), "%s", district);
	snprintf(c.address, sizeof(c.address), "3-2-1502");
	c.category = SB_CAT_CLOSE_CONTACT;
	c.has_end = 1;
	c.end_ms = end_ms;
	return c;
}

/* Household in c1/s1/d1 for 14 days from now. */
static UNUSED void admit(const char *hid)
{
	struct command c = admit_cmd(hid, "c1", "s1", "d1", now.wall_ms + 14 * DAY);
	run_ok(&c);
}

static UNUSED struct command install_cmd(const char *dev, const char *hid)
{
	struct command c = cmd(SB_OP_INSTALL);
	snprintf(c.device_id, sizeof(c.device_id), "%s", dev);
	snprintf(c.household_id, sizeof(c.household_id), "%s", hid);
	return c;
}

static UNUSED void install(const char *dev, const char *hid)
{
	struct command c = install_cmd(dev, hid);
	run_ok(&c);
}

static UNUSED void uninstall(const char *dev)
{
	struct command c = cmd(SB_OP_UNINSTALL);
	snprintf(c.device_id, sizeof(c.device_id), "%s", dev);
	run_ok(&c);
}

static UNUSED struct command alert_cmd(enum sb_op op, const char *alert_id, const char *by)
{
	struct command c = cmd(op);
	snprintf(c.alert_id, sizeof(c.alert_id), "%s", alert_id);
	snprintf(c.by, sizeof(c.by), "%s", by);
	return c;
}

static UNUSED void ack(const char *alert_id)
{
	struct command c = alert_cmd(SB_OP_ACK, alert_id, "warden7");
	snprintf(c.note, sizeof(c.note), "on my way");
	run_ok(&c);
}

static UNUSED void resolve(const char *alert_id)
{
	struct command c = alert_cmd(SB_OP_RESOLVE, alert_id, "warden7");
	snprintf(c.note, sizeof(c.note), "door closed again");
	run_ok(&c);
}

static UNUSED struct command permit_cmd(const char *hid, int64_t from_ms, int64_t until_ms)
{
	struct command c = cmd(SB_OP_PERMIT);
	snprintf(c.household_id, sizeof(c.household_id), "%s", hid);
	c.has_from = 1;
	c.from_ms = from_ms;
	c.has_until = 1;
	c.until_ms = until_ms;
	snprintf(c.reason, sizeof(c.reason), "test");
	return c;
}

/* ---- reports ---- */

static UNUSED enum report_result report(const char *dev, const struct report *r, int retained)
{
	actions_clear(&A);
	enum report_result rr = engine_report(E, dev, r, retained, now, &A);
	CHECK(!A.oom);
	return rr;
}

static UNUSED struct report rep(void)
{
	struct report r;
	memset(&r, 0, sizeof(r));
	return r;
}

static UNUSED void door(const char *dev, enum sb_door d)
{
	struct report r = rep();
	r.has_door = 1;
	r.door = d;
	CHECK(report(dev, &r, 0) == REPORT_APPLIED);
}

static UNUSED void heartbeat(const char *dev)
{
	struct report r = rep();
	CHECK(report(dev, &r, 0) == REPORT_APPLIED);
}

static UNUSED void battery(const char *dev, int level)
{
	struct report r = rep();
	r.has_battery = 1;
	r.battery = level;
	CHECK(report(dev, &r, 0) == REPORT_APPLIED);
}

static UNUSED void tamper(const char *dev, int on)
{
	struct report r = rep();
	r.has_tamper = 1;
	r.tamper = on;
	CHECK(report(dev, &r, 0) == REPORT_APPLIED);
}

/* Admitted, fitted, reported closed: the usual starting point. */
static UNUSED void fitted_closed(const char *hid, const char *dev)
{
	admit(hid);
	install(dev, hid);
	door(dev, SB_DOOR_CLOSED);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
}

/* Raise a door_open alert now and return its id (copied to buf). */
static UNUSED const char *open_door_alert(const char *dev, char *buf, size_t n)
{
	door(dev, SB_DOOR_OPEN);
	const struct alert_msg *m = raised(SB_ALERT_DOOR_OPEN);
	snprintf(buf, n, "%s", m->alert.id);
	door(dev, SB_DOOR_CLOSED);
	return buf;
}

#endif
