/* Seal custody in the engine: every state change on the fake clock, the
 * errors of each command, what is saved and published, the statistics, and
 * a restart from what the store holds. */
#include "test_engine_harness.h"

static const struct seal_rec *seal_pub(const char *dev)
{
	const struct seal_rec *r = NULL;
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_PUB_SEAL && strcmp(A.v[i].u.seal.device_id, dev) == 0)
			r = &A.v[i].u.seal;
	return r;
}

static const struct seal_rec *seal_saved(const char *dev)
{
	const struct seal_rec *r = NULL;
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_SAVE_SEAL && strcmp(A.v[i].u.seal.device_id, dev) == 0)
			r = &A.v[i].u.seal;
	return r;
}

/* The seal's published and saved state after the last call are both `st`. */
static void check_seal(const char *dev, enum sb_seal_state st)
{
	const struct seal_rec *p = seal_pub(dev), *s = seal_saved(dev);
	CHECK(p != NULL);
	CHECK(s != NULL);
	CHECK(p->state == st);
	CHECK(s->state == st);
	CHECK(D(dev)->custody == st);
	CHECK(p->at_ms == now.wall_ms);
}

static size_t history_rows(const char *dev)
{
	size_t n = 0;
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_AUDIT && strcmp(A.v[i].u.audit.kind, "seal") == 0 &&
		    strcmp(A.v[i].u.audit.device_id, dev) == 0)
			n++;
	return n;
}

static struct command dev_cmd(enum sb_op op, const char *dev)
{
	struct command c = cmd(op);
	snprintf(c.device_id, sizeof(c.device_id), "%s", dev);
	return c;
}

static void reg(const char *dev)
{
	struct command c = dev_cmd(SB_OP_REGISTER, dev);
	snprintf(c.model, sizeof(c.model), "ds-200");
	snprintf(c.batch, sizeof(c.batch), "b1");
	run_ok(&c);
}

static struct command allocate_cmd(const char *dev, enum sb_level level, const char *unit)
{
	struct command c = dev_cmd(SB_OP_ALLOCATE, dev);
	snprintf(c.unit_id[level], sizeof(c.unit_id[level]), "%s", unit);
	return c;
}

static void allocate(const char *dev, enum sb_level level, const char *unit)
{
	struct command c = allocate_cmd(dev, level, unit);
	run_ok(&c);
}

static struct command inspect_cmd(const char *dev, enum sb_inspect_result res)
{
	struct command c = dev_cmd(SB_OP_INSPECT, dev);
	c.result = res;
	snprintf(c.note, sizeof(c.note), "checked at the depot");
	return c;
}

static void inspect(const char *dev, enum sb_inspect_result res)
{
	struct command c = inspect_cmd(dev, res);
	run_ok(&c);
}

static struct command swap_cmd(const char *hid, const char *dev)
{
	struct command c = dev_cmd(SB_OP_SWAP, dev);
	snprintf(c.household_id, sizeof(c.household_id), "%s", hid);
	return c;
}

static void release(const char *hid)
{
	struct command c = cmd(SB_OP_RELEASE);
	snprintf(c.household_id, sizeof(c.household_id), "%s", hid);
	run_ok(&c);
}

static void test_register(void)
{
	start_quiet();
	reg("s1");
	CHECK_STR(R.seal_state, "in_stock");
	check_seal("s1", SB_SEAL_IN_STOCK);
	CHECK_STR(seal_pub("s1")->model, "ds-200");
	CHECK_STR(seal_pub("s1")->batch, "b1");
	CHECK(seal_pub("s1")->community_id[0] == '\0' && seal_pub("s1")->household_id[0] == '\0');
	CHECK(count_kind(ACT_SAVE_DEVICE) == 1); /* the row, then its custody */
	CHECK(history_rows("s1") >= 1);
	/* Again with nothing new: no change at all. */
	reg("s1");
	CHECK(R.changed == 0);
	CHECK(A.n == 0);
	/* Only what is given changes; where the seal is never does. */
	allocate("s1", SB_LEVEL_COMMUNITY, "c9");
	struct command c = dev_cmd(SB_OP_REGISTER, "s1");
	snprintf(c.note, sizeof(c.note), "scratched");
	run_ok(&c);
	CHECK(R.changed == 1);
	check_seal("s1", SB_SEAL_ALLOCATED);
	CHECK_STR(seal_saved("s1")->note, "scratched");
	CHECK_STR(seal_saved("s1")->model, "ds-200");
	CHECK_STR(seal_saved("s1")->unit_id, "c9");
	CHECK_STR(R.seal_state, "allocated");
	finish();
}

static void test_allocate(void)
{
	start_quiet();
	admit("h1"); /* c1 is in street s1 */
	struct command c = allocate_cmd("s1", SB_LEVEL_COMMUNITY, "c1");
	run_err(&c, "unknown_device");
	reg("s1");
	c = dev_cmd(SB_OP_ALLOCATE, "s1");
	run_err(&c, "bad_request");
	c = allocate_cmd("s1", SB_LEVEL_COMMUNITY, "c1");
	snprintf(c.unit_id[SB_LEVEL_STREET], sizeof(c.unit_id[0]), "s1");
	run_err(&c, "bad_request");
	CHECK(D("s1")->custody == SB_SEAL_IN_STOCK);

	allocate("s1", SB_LEVEL_COMMUNITY, "c1");
	check_seal("s1", SB_SEAL_ALLOCATED);
	CHECK_STR(seal_pub("s1")->community_id, "c1");
	CHECK_STR(seal_pub("s1")->street_id, "s1"); /* from the community's households */
	CHECK(history_rows("s1") == 1);
	allocate("s1", SB_LEVEL_COMMUNITY, "c1");
	CHECK(R.changed == 0);
	allocate("s1", SB_LEVEL_STREET, "s2"); /* handed on */
	check_seal("s1", SB_SEAL_ALLOCATED);
	CHECK_STR(seal_pub("s1")->street_id, "s2");
	CHECK(seal_pub("s1")->community_id[0] == '\0');

	/* On a door, or faulty or lost: device_in_use. */
	install("s1", "h1");
	c = allocate_cmd("s1", SB_LEVEL_COMMUNITY, "c1");
	run_err(&c, "device_in_use");
	release("h1");
	CHECK(D("s1")->custody == SB_SEAL_AWAITING_COLLECTION);
	run_err(&c, "device_in_use");
	uninstall("s1");
	CHECK(D("s1")->custody == SB_SEAL_COLLECTED);
	allocate("s1", SB_LEVEL_COMMUNITY, "c2"); /* collected: straight out again */
	check_seal("s1", SB_SEAL_ALLOCATED);
	inspect("s1", SB_INSPECT_FAULTY);
	run_err(&c, "device_in_use");
	inspect("s1", SB_INSPECT_LOST);
	run_err(&c, "device_in_use");
	finish();
}

static void test_install_registers_and_refuses_faulty(void)
{
	start_quiet();
	admit("h1");
	admit("h2");
	install("s1", "h1"); /* never registered */
	check_seal("s1", SB_SEAL_FITTED);
	CHECK(seal_pub("s1")->fittings == 1);
	CHECK_STR(seal_pub("s1")->household_id, "h1");
	CHECK_STR(seal_pub("s1")->address, "3-2-1502");
	CHECK(history_rows("s1") == 2); /* registered, then fitted */
	uninstall("s1");
	inspect("s1", SB_INSPECT_FAULTY);
	check_seal("s1", SB_SEAL_FAULTY);
	struct command c = install_cmd("s1", "h2");
	run_err(&c, "device_unavailable");
	CHECK(H("h2")->device == NULL);
	inspect("s1", SB_INSPECT_LOST);
	check_seal("s1", SB_SEAL_LOST);
	run_err(&c, "device_unavailable");
	inspect("s1", SB_INSPECT_OK); /* found and checked */
	check_seal("s1", SB_SEAL_IN_STOCK);
	install("s1", "h2");
	check_seal("s1", SB_SEAL_FITTED);
	CHECK(seal_pub("s1")->fittings == 2);
	finish();
}

static void test_release_and_readmit(void)
{
	start_quiet();
	admit("h1");
	install("s1", "h1");
	advance(3 * DAY);
	release("h1");
	check_seal("s1", SB_SEAL_AWAITING_COLLECTION);
	CHECK(seal_pub("s1")->released_ms == now.wall_ms);
	CHECK_STR(seal_pub("s1")->household_id, "h1");
	/* The household comes back before the seal was collected: it is fitted again, same door. */
	advance(HOUR);
	admit("h1");
	check_seal("s1", SB_SEAL_FITTED);
	CHECK(seal_pub("s1")->fittings == 1);
	CHECK(seal_pub("s1")->released_ms == 0);
	/* A quarantine that ends on its own releases too. */
	struct command a = admit_cmd("h1", "c1", "s1", "d1", now.wall_ms + HOUR);
	run_ok(&a);
	tick_after(HOUR - 1);
	CHECK(D("s1")->custody == SB_SEAL_FITTED);
	tick_after(1);
	check_seal("s1", SB_SEAL_AWAITING_COLLECTION);
	finish();
}

static void test_uninstall_collects(void)
{
	start_quiet();
	admit("h1");
	install("s1", "h1");
	uninstall("s1");
	check_seal("s1", SB_SEAL_COLLECTED);
	CHECK_STR(seal_saved("s1")->unit_id, "c1"); /* held by the community it came off in */
	CHECK(seal_saved("s1")->unit_level == SB_LEVEL_COMMUNITY);
	CHECK_STR(seal_pub("s1")->community_id, "c1");
	CHECK(seal_pub("s1")->household_id[0] == '\0');
	struct command c = dev_cmd(SB_OP_UNINSTALL, "s1");
	run_err(&c, "unknown_device");
	finish();
}

static void test_inspect(void)
{
	start_quiet();
	admit("h1");
	struct command c = inspect_cmd("s1", SB_INSPECT_OK);
	run_err(&c, "unknown_device");
	install("s1", "h1");
	run_err(&c, "device_in_use"); /* fitted: uninstall or swap first */
	c.result = SB_INSPECT_LOST;
	run_err(&c, "device_in_use");
	battery("s1", 15);
	tamper("s1", 1);
	release("h1");
	c.result = SB_INSPECT_OK;
	run_err(&c, "device_in_use"); /* still on the door: collect it first */
	c.result = SB_INSPECT_FAULTY;
	run_err(&c, "device_in_use");
	uninstall("s1");
	inspect("s1", SB_INSPECT_OK);
	check_seal("s1", SB_SEAL_IN_STOCK);
	CHECK(D("s1")->battery == -1 && D("s1")->tamper == -1);
	CHECK(seal_pub("s1")->battery == -1);
	CHECK(seal_pub("s1")->community_id[0] == '\0'); /* back in the district's stock */
	/* Every inspection is in the history, even one that changes nothing. */
	inspect("s1", SB_INSPECT_FAULTY);
	inspect("s1", SB_INSPECT_FAULTY);
	CHECK(history_rows("s1") == 1);
	CHECK(strstr(A.v[0].u.audit.detail, "inspect faulty: checked at the depot") != NULL);
	c = dev_cmd(SB_OP_INSPECT, "s1");
	run_err(&c, "bad_request"); /* no result */
	finish();
}

static void test_inspect_lost_from_released_door(void)
{
	start_quiet();
	admit("h1");
	install("s1", "h1");
	release("h1");
	inspect("s1", SB_INSPECT_LOST);
	check_seal("s1", SB_SEAL_LOST);
	CHECK(H("h1")->device == NULL);
	CHECK(D("s1")->household == NULL);
	CHECK_STR(seal_saved("s1")->unit_id, "c1"); /* lost where it was */
	finish();
}

static void test_swap_no_moment_unmonitored(void)
{
	start();
	admit("h1");
	install("s1", "h1");
	char door_alert[SB_ID_MAX + 1];
	door("s1", SB_DOOR_OPEN);
	snprintf(door_alert, sizeof door_alert, "%s", raised(SB_ALERT_DOOR_OPEN)->alert.id);
	battery("s1", 10);
	CHECK(count_pub(SB_ALERT_BATTERY_LOW, SB_AST_RAISED, -1) == 1);
	tick_after(set.silence_after_ms);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RAISED, -1) == 1);

	struct command c = swap_cmd("h1", "s2");
	run_ok(&c);
	CHECK_STR(R.seal_state, "fitted");
	check_seal("s2", SB_SEAL_FITTED);
	check_seal("s1", SB_SEAL_COLLECTED);
	CHECK(H("h1")->device == D("s2"));
	CHECK(D("s1")->household == NULL);
	/* The old seal's own alerts clear; the household's door alert stays. */
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_CLEARED, -1) == 1);
	CHECK(count_pub(SB_ALERT_BATTERY_LOW, SB_AST_CLEARED, -1) == 1);
	CHECK(engine_alert(E, door_alert) != NULL);
	CHECK(count_pub(SB_ALERT_UNMONITORED, -1, -1) == 0);
	CHECK(H("h1")->unfitted_since_ms == 0);
	CHECK(pub_state_of("h1"));
	/* No unmonitored deadline started: nothing at T-1 or at T. */
	heartbeat("s2");
	tick_after(set.unmonitored_after_ms - 1);
	CHECK(count_pub(SB_ALERT_UNMONITORED, -1, -1) == 0);
	tick_after(1);
	CHECK(count_pub(SB_ALERT_UNMONITORED, -1, -1) == 0);
	/* Against what uninstall does: the deadline starts and fires at T exactly. */
	heartbeat("s2");
	uninstall("s2");
	tick_after(set.unmonitored_after_ms - 1);
	CHECK(count_pub(SB_ALERT_UNMONITORED, SB_AST_RAISED, -1) == 0);
	tick_after(1);
	CHECK(count_pub(SB_ALERT_UNMONITORED, SB_AST_RAISED, -1) == 1);
	finish();
}

static void test_swap_errors(void)
{
	start_quiet();
	admit("h1");
	admit("h2");
	install("s1", "h1");
	install("s2", "h2");
	struct command c = swap_cmd("nobody", "s3");
	run_err(&c, "unknown_household");
	c = swap_cmd("h1", "s2");
	run_err(&c, "device_in_use");
	c = swap_cmd("h1", "s1");
	run_ok(&c);
	CHECK(R.changed == 0);
	reg("s3");
	uninstall("s2");
	inspect("s2", SB_INSPECT_FAULTY);
	c = swap_cmd("h1", "s2");
	run_err(&c, "device_unavailable");
	CHECK(H("h1")->device == D("s1"));
	/* A door without a seal gets this one. */
	c = swap_cmd("h2", "s3");
	run_ok(&c);
	check_seal("s3", SB_SEAL_FITTED);
	release("h2");
	c = swap_cmd("h2", "s4");
	run_err(&c, "not_active");
	CHECK(engine_device(E, "s4") == NULL);
	finish();
}

static void test_reports_from_seal_off_a_door(void)
{
	start();
	reg("s1");
	struct report r = rep();
	r.has_battery = 1;
	r.battery = 5; /* far below battery_low: nobody is watched through it */
	r.has_door = 1;
	r.door = SB_DOOR_OPEN;
	r.has_seq = 1;
	r.seq = 7;
	CHECK(report("s1", &r, 0) == REPORT_APPLIED);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(count_kind(ACT_PUB_STATE) == 0);
	CHECK(seal_pub("s1") != NULL);
	CHECK(seal_pub("s1")->battery == 5);
	CHECK(seal_pub("s1")->last_seen_ms == now.wall_ms);
	CHECK(count_kind(ACT_SAVE_DEVICE) == 1);
	CHECK(report("s1", &r, 0) == REPORT_DUPLICATE);
	struct report hb = rep();
	CHECK(report("s1", &hb, 1) == REPORT_STALE_RETAINED);
	CHECK(report("nobody", &hb, 0) == REPORT_UNKNOWN_DEVICE);
	/* Kept for the next fitting? No: fitting starts the seal's readings afresh. */
	tick_after(365 * DAY);
	CHECK(count_pub(-1, -1, -1) == 0);
	finish();
}

static void test_fitted_seal_state_on_battery_only(void)
{
	start_quiet();
	fitted_closed("h1", "s1");
	door("s1", SB_DOOR_OPEN);
	CHECK(seal_pub("s1") == NULL); /* the door is in the household state */
	battery("s1", 80);
	CHECK(seal_pub("s1") != NULL && seal_pub("s1")->battery == 80);
	CHECK(seal_saved("s1") == NULL); /* nothing of custody changed */
	heartbeat("s1");
	CHECK(seal_pub("s1") == NULL);
	finish();
}

static const struct stats_msg *stats(const char *unit, enum sb_level level)
{
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_PUB_STATS && A.v[i].u.stats.unit->level == level &&
		    strcmp(A.v[i].u.stats.unit->id, unit) == 0)
			return &A.v[i].u.stats;
	return NULL;
}

static void check_seals(const char *unit, enum sb_level level, int in_stock, int allocated, int fitted,
			int awaiting, int collected, int faulty, int lost)
{
	const struct stats_msg *m = stats(unit, level);
	CHECK(m != NULL);
	int want[SB_SEAL_STATE_COUNT] = {in_stock, allocated, fitted, awaiting, collected, faulty, lost};
	for (int s = 0; s < SB_SEAL_STATE_COUNT; s++) {
		if (m->seals[s] != want[s])
			fprintf(stderr, "%s %s: %s %d, want %d\n", sb_level_name(level), unit,
				sb_seal_state_name((enum sb_seal_state)s), m->seals[s], want[s]);
		CHECK(m->seals[s] == want[s]);
	}
}

static void test_stats_seals(void)
{
	start_quiet();
	admit("h1");
	struct command a = admit_cmd("h2", "c2", "s1", "d1", now.wall_ms + 14 * DAY);
	run_ok(&a);
	for (int i = 1; i <= 6; i++) {
		char id[8];
		snprintf(id, sizeof id, "s%d", i);
		reg(id);
	}
	allocate("s1", SB_LEVEL_COMMUNITY, "c1");
	allocate("s2", SB_LEVEL_COMMUNITY, "c1");
	allocate("s3", SB_LEVEL_STREET, "s1");
	allocate("s4", SB_LEVEL_COMMUNITY, "c-new"); /* no household yet: no street known */
	install("s1", "h1");
	install("s5", "h2");
	release("h2");
	tick_after(set.stats_interval_ms);
	/*                          stock alloc fitted await coll faulty lost */
	check_seals("c1", SB_LEVEL_COMMUNITY, -1, 1, 1, 0, 0, 0, 0);
	check_seals("c2", SB_LEVEL_COMMUNITY, -1, 0, 0, 1, 0, 0, 0);
	check_seals("c-new", SB_LEVEL_COMMUNITY, -1, 1, 0, 0, 0, 0, 0);
	check_seals("s1", SB_LEVEL_STREET, -1, 2, 1, 1, 0, 0, 0);
	check_seals("d1", SB_LEVEL_DISTRICT, 1, 2, 1, 1, 0, 0, 0);
	CHECK(stats("c-new", SB_LEVEL_COMMUNITY)->households == 0);

	uninstall("s5");
	inspect("s5", SB_INSPECT_FAULTY);
	uninstall("s1");
	tick_after(set.stats_interval_ms);
	check_seals("c1", SB_LEVEL_COMMUNITY, -1, 1, 0, 0, 1, 0, 0);
	check_seals("c2", SB_LEVEL_COMMUNITY, -1, 0, 0, 0, 0, 1, 0);
	check_seals("d1", SB_LEVEL_DISTRICT, 1, 2, 0, 0, 1, 1, 0);
	inspect("s5", SB_INSPECT_OK);
	inspect("s1", SB_INSPECT_LOST);
	tick_after(set.stats_interval_ms);
	check_seals("c1", SB_LEVEL_COMMUNITY, -1, 1, 0, 0, 0, 0, 1);
	check_seals("d1", SB_LEVEL_DISTRICT, 2, 2, 0, 0, 0, 0, 1);
	finish();
}

/* What the store hands back after a restart: the devices, then their custody. */
static void test_restart(void)
{
	start_quiet();
	const char *units[SB_LEVEL_COUNT] = {"c1", "s1", "d1"};
	CHECK(engine_load_household(E, "h1", "1-1", units, SB_CAT_OTHER, 1, now.wall_ms - DAY, now.wall_ms + DAY, 0,
				    0, 0, 0) == 0);
	CHECK(engine_load_household(E, "h2", "1-2", units, SB_CAT_OTHER, 1, now.wall_ms - DAY, now.wall_ms + DAY, 1,
				    now.wall_ms - HOUR, 0, 0) == 0);
	struct device d;
	memset(&d, 0, sizeof d);
	d.battery = 70;
	d.tamper = -1;
	d.seq = -1;
	CHECK(engine_load_device(E, "on-door", &d, "h1") == 0);
	CHECK(engine_load_device(E, "released-door", &d, "h2") == 0);
	CHECK(engine_load_device(E, "old-off", &d, NULL) == 0);
	CHECK(engine_load_device(E, "stock", &d, NULL) == 0);
	CHECK(engine_load_device(E, "alloc", &d, NULL) == 0);
	/* A row from before custody was kept: the door decides. */
	CHECK(D("on-door")->custody == SB_SEAL_FITTED);
	CHECK(D("released-door")->custody == SB_SEAL_AWAITING_COLLECTION);
	CHECK(D("old-off")->custody == SB_SEAL_COLLECTED);
	CHECK(engine_load_seal(E, "on-door", 1, SB_SEAL_FITTED, "ds-200", NULL, NULL, SB_LEVEL_COMMUNITY, NULL, 3) == 0);
	CHECK(engine_load_seal(E, "stock", 1, SB_SEAL_IN_STOCK, NULL, "b1", NULL, SB_LEVEL_COMMUNITY, NULL, 0) == 0);
	CHECK(engine_load_seal(E, "alloc", 1, SB_SEAL_ALLOCATED, NULL, NULL, NULL, SB_LEVEL_COMMUNITY, "c1", 1) == 0);
	/* A row that says "fitted" for a seal on no door cannot be; it is collected. */
	CHECK(engine_load_seal(E, "old-off", 1, SB_SEAL_FITTED, NULL, NULL, NULL, SB_LEVEL_COMMUNITY, NULL, 1) == 0);
	CHECK(D("old-off")->custody == SB_SEAL_COLLECTED);
	CHECK(engine_load_seal(E, "nobody", 1, SB_SEAL_FITTED, NULL, NULL, NULL, SB_LEVEL_COMMUNITY, NULL, 1) == -2);
	CHECK(engine_load_seal(E, "stock", 1, SB_SEAL_IN_STOCK, NULL, NULL, NULL, SB_LEVEL_COMMUNITY, "bad id", 0) == -2);
	engine_loaded(E, now);
	engine_set_connected(E, 1, now);
	CHECK(D("on-door")->fittings == 3);
	tick_after(set.stats_interval_ms);
	check_seals("c1", SB_LEVEL_COMMUNITY, -1, 1, 1, 1, 0, 0, 0);
	check_seals("d1", SB_LEVEL_DISTRICT, 1, 1, 1, 1, 0, 0, 0);
	/* And it goes on from there. */
	struct command c = swap_cmd("h1", "stock");
	run_ok(&c);
	check_seal("stock", SB_SEAL_FITTED);
	CHECK_STR(seal_pub("stock")->batch, "b1");
	CHECK_STR(seal_pub("on-door")->model, "ds-200");
	CHECK(seal_pub("stock")->fittings == 1);
	CHECK(engine_republish_seal(E, "alloc", now, &A) == 0);
	CHECK(engine_republish_seal(E, "nobody", now, &A) == -1);
	finish();
}

int main(void)
{
	RUN(test_register);
	RUN(test_allocate);
	RUN(test_install_registers_and_refuses_faulty);
	RUN(test_release_and_readmit);
	RUN(test_uninstall_collects);
	RUN(test_inspect);
	RUN(test_inspect_lost_from_released_door);
	RUN(test_swap_no_moment_unmonitored);
	RUN(test_swap_errors);
	RUN(test_reports_from_seal_off_a_door);
	RUN(test_fitted_seal_state_on_battery_only);
	RUN(test_stats_seals);
	RUN(test_restart);
	DONE();
}
