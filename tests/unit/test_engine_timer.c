/* Engine deadlines on a fake clock: seal silence (with wall-clock steps and
 * broker outages), unmonitored households, quarantine end, statistics, and the
 * cost of a tick with nothing due. */
#include "test_engine_harness.h"

#include <time.h>

static void test_silent_when_never_reporting(void)
{
	start();
	admit("h1");
	advance(7 * SEC);
	install("s-1", "h1");
	int64_t fitted = now.wall_ms;
	tick_after(set.silence_after_ms - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(!D("s-1")->silent);
	tick_after(1);
	const struct alert_msg *m = raised(SB_ALERT_DEVICE_SILENT);
	CHECK_STR(m->alert.device_id, "s-1");
	CHECK(m->alert.since_ms == fitted);
	CHECK(D("s-1")->silent);
	CHECK(!sb_device_online(D("s-1")));
	CHECK(pub_state_of("h1"));
	tick_after(DAY);
	CHECK(count_pub(-1, SB_AST_RAISED, -1) == 0);
	finish();
}

static void test_reports_push_silence(void)
{
	start();
	fitted_closed("h1", "s-1");
	tick_after(set.silence_after_ms - 1);
	heartbeat("s-1");
	int64_t seen = now.wall_ms;
	tick_after(1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(set.silence_after_ms - 2);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	const struct alert_msg *m = raised(SB_ALERT_DEVICE_SILENT);
	CHECK(m->alert.since_ms == seen);
	finish();
}

static void test_per_device_silence_after(void)
{
	start();
	admit("h1");
	admit("h2");
	struct command c = install_cmd("s-1", "h1");
	c.has_silence_after = 1;
	c.silence_after_ms = 60 * SEC;
	run_ok(&c);
	install("s-2", "h2");
	tick_after(60 * SEC - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK_STR(raised(SB_ALERT_DEVICE_SILENT)->alert.device_id, "s-1");
	tick_after(set.silence_after_ms - 60 * SEC - 1);
	CHECK(count_pub(-1, SB_AST_RAISED, -1) == 0);
	tick_after(1);
	CHECK(count_pub(-1, SB_AST_RAISED, -1) == 1);
	CHECK_STR(find_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RAISED, -1)->alert.device_id, "s-2");
	finish();
}

static void test_wall_steps_do_not_move_silence(void)
{
	start();
	fitted_closed("h1", "s-1");
	int64_t fit_mono = now.mono_ms;
	/* the wall clock jumps forward three hours, then back two */
	now.mono_ms += 5 * MIN;
	now.wall_ms += 3 * HOUR;
	tick();
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	heartbeat("s-1");
	int64_t seen_mono = now.mono_ms, seen_wall = now.wall_ms;
	now.mono_ms += 5 * MIN;
	now.wall_ms -= 2 * HOUR;
	tick();
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(fit_mono < seen_mono);
	now.mono_ms = seen_mono + set.silence_after_ms - 1;
	tick();
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	now.mono_ms += 1;
	tick();
	CHECK(raised(SB_ALERT_DEVICE_SILENT)->alert.since_ms == seen_wall);
	finish();
}

static void test_no_silence_while_disconnected(void)
{
	start();
	fitted_closed("h1", "s-1");
	tick_after(MIN);
	engine_set_connected(E, 0, now);
	tick_after(set.silence_after_ms);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(10 * set.silence_after_ms);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(!D("s-1")->silent);
	engine_set_connected(E, 1, now);
	tick_after(set.silence_after_ms - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	raised(SB_ALERT_DEVICE_SILENT);
	finish();
}

static void test_short_outage_restarts_silence_count(void)
{
	start();
	fitted_closed("h1", "s-1");
	tick_after(100 * SEC);
	engine_set_connected(E, 0, now);
	tick_after(100 * SEC);
	engine_set_connected(E, 1, now);
	int64_t back = now.mono_ms;
	/* the seal could not be heard for those 100 s: they do not count */
	now.mono_ms = T0_MONO + set.silence_after_ms;
	now.wall_ms = T0_WALL + set.silence_after_ms;
	tick();
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(back + set.silence_after_ms - 1 - now.mono_ms);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	raised(SB_ALERT_DEVICE_SILENT);
	finish();
}

static void test_silence_cleared_then_new_alert(void)
{
	start();
	fitted_closed("h1", "s-1");
	tick_after(set.silence_after_ms);
	char id[SB_ID_MAX + 1];
	snprintf(id, sizeof(id), "%s", raised(SB_ALERT_DEVICE_SILENT)->alert.id);
	tick_after(set.street_after_ms);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_ESCALATED, SB_LEVEL_STREET) == 1);
	heartbeat("s-1");
	CHECK(count_pub(-1, -1, -1) == 2);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_CLEARED, SB_LEVEL_COMMUNITY) == 1);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_CLEARED, SB_LEVEL_STREET) == 1);
	CHECK_STR(find_pub(-1, SB_AST_CLEARED, -1)->alert.id, id);
	CHECK(sb_device_online(D("s-1")));
	CHECK(engine_alert(E, id) == NULL);
	CHECK(sb_household_alert(H("h1"), SB_ALERT_DEVICE_SILENT) == NULL);
	/* a closed alert does not escalate further */
	tick_after(set.district_after_ms - set.street_after_ms);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(set.silence_after_ms - (set.district_after_ms - set.street_after_ms) - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	const struct alert_msg *m = raised(SB_ALERT_DEVICE_SILENT);
	CHECK(strcmp(m->alert.id, id) != 0);
	CHECK(m->alert.count == 1);
	finish();
}

static void test_unmonitored(void)
{
	start();
	admit("h1");
	int64_t admitted = now.wall_ms;
	tick_after(set.unmonitored_after_ms - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	const struct alert_msg *m = raised(SB_ALERT_UNMONITORED);
	CHECK(m->alert.since_ms == admitted);
	CHECK_STR(m->alert.device_id, "");
	tick_after(1);
	install("s-1", "h1");
	CHECK(count_pub(-1, -1, -1) == 1);
	CHECK(count_pub(SB_ALERT_UNMONITORED, SB_AST_CLEARED, SB_LEVEL_COMMUNITY) == 1);
	CHECK(sb_household_alert(H("h1"), SB_ALERT_UNMONITORED) == NULL);

	/* taking the seal off starts the clock again */
	heartbeat("s-1");
	tick_after(MIN);
	uninstall("s-1");
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	int64_t off = now.wall_ms;
	tick_after(set.unmonitored_after_ms - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK(raised(SB_ALERT_UNMONITORED)->alert.since_ms == off);
	finish();
}

static void test_install_in_time_raises_no_unmonitored(void)
{
	start_quiet();
	admit("h1");
	tick_after(set.unmonitored_after_ms - 1);
	install("s-1", "h1");
	tick_after(1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(DAY);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	finish();
}

static void test_unmonitored_counts_from_start(void)
{
	start();
	struct command c = admit_cmd("h1", "c1", "s1", "d1", now.wall_ms + 14 * DAY);
	c.has_start = 1;
	c.start_ms = now.wall_ms + HOUR;
	run_ok(&c);
	tick_after(HOUR);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(set.unmonitored_after_ms - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK(raised(SB_ALERT_UNMONITORED)->alert.since_ms == T0_WALL + HOUR);
	finish();
}

/* The household h1 with a door_open and a tamper alert, both at district level. */
static void two_escalated_alerts(char *door_id, char *tamper_id)
{
	fitted_closed("h1", "s-1");
	door("s-1", SB_DOOR_OPEN);
	snprintf(door_id, SB_ID_MAX + 1, "%s", raised(SB_ALERT_DOOR_OPEN)->alert.id);
	tamper("s-1", 1);
	snprintf(tamper_id, SB_ID_MAX + 1, "%s", raised(SB_ALERT_TAMPER)->alert.id);
	tick_after(set.street_after_ms);
	tick_after(set.district_after_ms);
	CHECK(count_pub(-1, SB_AST_ESCALATED, SB_LEVEL_DISTRICT) == 2);
}

static void release(const char *hid)
{
	struct command c = cmd(SB_OP_RELEASE);
	snprintf(c.household_id, sizeof(c.household_id), "%s", hid);
	run_ok(&c);
}

static void check_released_by_system(const char *door_id, const char *tamper_id)
{
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 1);
	CHECK(count_kind(ACT_PUB_STATE) == 0);
	CHECK(count_pub(-1, -1, -1) == 6);
	CHECK(count_pub(SB_ALERT_DOOR_OPEN, SB_AST_RESOLVED, -1) == 3);
	CHECK(count_pub(SB_ALERT_TAMPER, SB_AST_RESOLVED, -1) == 3);
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_PUB_ALERT)
			CHECK_STR(A.v[i].u.alert_msg.alert.by, "system");
	CHECK(H("h1")->released);
	CHECK(engine_alert(E, door_id) == NULL);
	CHECK(engine_alert(E, tamper_id) == NULL);
	CHECK(saved_alert(door_id) && saved_alert(door_id)->state == SB_AST_RESOLVED);
	CHECK(count_kind(ACT_SAVE_HOUSEHOLD) == 1);
}

/* After release nothing more is raised for the household, and re-admitting revives it. */
static void check_quiet_then_readmit(void)
{
	door("s-1", SB_DOOR_CLOSED);
	door("s-1", SB_DOOR_OPEN);
	battery("s-1", 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(set.silence_after_ms + 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	uninstall("s-1");
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(set.unmonitored_after_ms + 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);

	admit("h1");
	CHECK(!H("h1")->released);
	CHECK(pub_state_of("h1"));
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 0);
	install("s-1", "h1");
	door("s-1", SB_DOOR_CLOSED);
	door("s-1", SB_DOOR_OPEN);
	raised(SB_ALERT_DOOR_OPEN);
}

/* Seals fall silent only after the quarantine has ended: what follows the end
 * shows whether silence is still watched. */
static void start_long_silence(void)
{
	default_settings();
	set.silence_after_ms = 20 * DAY;
	start_with(&set);
}

static void test_quarantine_end_releases(void)
{
	start_long_silence();
	int64_t end = now.wall_ms + 14 * DAY;
	char door_id[SB_ID_MAX + 1], tamper_id[SB_ID_MAX + 1];
	two_escalated_alerts(door_id, tamper_id);
	tick_after(end - 1 - now.wall_ms);
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 0);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(!H("h1")->released);
	tick_after(1);
	check_released_by_system(door_id, tamper_id);
	check_quiet_then_readmit();
	finish();
}

/* The end is a wall-clock time: a clock stepped back an hour ends it an hour later. */
static void test_end_follows_wall_clock_step_back(void)
{
	start_quiet();
	struct command c = admit_cmd("h1", "c1", "s1", "d1", now.wall_ms + DAY);
	run_ok(&c);
	install("s-1", "h1");
	now.mono_ms += HOUR; /* an hour passes, the wall clock is stepped back by as much */
	tick();
	now.mono_ms = T0_MONO + DAY;
	now.wall_ms = T0_WALL + DAY - HOUR;
	tick();
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 0);
	tick_after(HOUR - 1);
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 0);
	tick_after(1);
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 1);
	finish();
}

/* A burst of deadlines can be taken a slice at a time, none lost or repeated. */
static void test_tick_in_slices(void)
{
	start();
	char hid[16], dev[16];
	for (int i = 0; i < 10; i++) {
		snprintf(hid, sizeof(hid), "h%d", i);
		snprintf(dev, sizeof(dev), "s-%d", i);
		fitted_closed(hid, dev);
	}
	advance(set.silence_after_ms);
	size_t raised_total = 0;
	int more, rounds = 0;
	do {
		actions_clear(&A);
		more = engine_tick_some(E, now, 4, &A);
		size_t n = count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RAISED, SB_LEVEL_COMMUNITY);
		CHECK(n <= 4);
		raised_total += n;
		rounds++;
	} while (more && rounds < 10);
	CHECK(rounds == 3);
	CHECK(raised_total == 10);
	tick();
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, -1, -1) == 0);
	finish();
}

/* Stepped forward, the wall clock brings the end nearer: it is released when
 * the wall clock says so, not a day of monotonic time later. */
static void test_end_follows_wall_clock_step_forward(void)
{
	start_quiet();
	struct command c = admit_cmd("h1", "c1", "s1", "d1", now.wall_ms + DAY);
	run_ok(&c);
	install("s-1", "h1");
	now.mono_ms += HOUR;
	now.wall_ms += 2 * HOUR; /* an hour passes, the clock is stepped an hour ahead */
	tick();
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 0);
	tick_after(DAY - 2 * HOUR - 1);
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 0);
	tick_after(1);
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 1);
	CHECK(H("h1")->released);
	finish();
}

/* Re-admitted with a seal still low: battery_low is a condition, raised again;
 * the old quarantine's permits do not carry over. */
static void test_readmit_low_battery_and_old_permits(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	struct command p = permit_cmd("h1", now.wall_ms, now.wall_ms + 30 * DAY);
	run_ok(&p);
	battery("s-1", 10);
	raised(SB_ALERT_BATTERY_LOW);
	release("h1");
	tick_after(MIN);
	admit("h1");
	CHECK(count_pub(SB_ALERT_BATTERY_LOW, SB_AST_RAISED, SB_LEVEL_COMMUNITY) == 1);
	/* updating the active household raises nothing more */
	admit("h1");
	CHECK(count_pub(SB_ALERT_BATTERY_LOW, -1, -1) == 0);
	door("s-1", SB_DOOR_OPEN);
	raised(SB_ALERT_DOOR_OPEN);
	finish();
}

/* A seal that died before its household was released and re-admitted is
 * still watched: the new quarantine hears of its silence. */
static void test_readmit_with_silent_seal(void)
{
	start();
	fitted_closed("h1", "s-1");
	tick_after(set.silence_after_ms);
	raised(SB_ALERT_DEVICE_SILENT);
	release("h1");
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RESOLVED, -1) == 1);
	tick_after(HOUR);
	admit("h1");
	tick_after(set.silence_after_ms);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RAISED, -1) == 1);
	CHECK(D("s-1")->silent);
	heartbeat("s-1");
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_CLEARED, -1) == 1);
	finish();
}

static void test_release_command(void)
{
	start_long_silence();
	char door_id[SB_ID_MAX + 1], tamper_id[SB_ID_MAX + 1];
	two_escalated_alerts(door_id, tamper_id);
	struct command c = cmd(SB_OP_RELEASE);
	snprintf(c.household_id, sizeof(c.household_id), "h1");
	snprintf(c.reason, sizeof(c.reason), "moved to hospital");
	run_ok(&c);
	CHECK(R.changed == 1);
	check_released_by_system(door_id, tamper_id);
	CHECK(D("s-1")->household == H("h1")); /* the seal stays fitted until collected */
	run_err(&c, "not_active");
	check_quiet_then_readmit();
	finish();
}

static const struct stats_msg *stats_of(const char *unit_id, enum sb_level level)
{
	const struct stats_msg *found = NULL;
	for (size_t i = 0; i < A.n; i++) {
		if (A.v[i].kind != ACT_PUB_STATS)
			continue;
		const struct stats_msg *m = &A.v[i].u.stats;
		if (m->unit->level == level && strcmp(m->unit->id, unit_id) == 0) {
			CHECK(found == NULL); /* once per unit */
			found = m;
		}
	}
	return found;
}

static void check_stats(const char *unit_id, enum sb_level level, int households, int fitted, int online,
			int silent, int doors_open, int open_alerts)
{
	const struct stats_msg *m = stats_of(unit_id, level);
	REQUIRE(m != NULL);
	CHECK(m->households == households);
	CHECK(m->fitted == fitted);
	CHECK(m->online == online);
	CHECK(m->silent == silent);
	CHECK(m->doors_open == doors_open);
	CHECK(m->open_alerts == open_alerts);
	CHECK(m->at_ms == now.wall_ms);
}

static void test_stats(void)
{
	start();
	struct command a;
	a = admit_cmd("h1", "c1", "s1", "d1", now.wall_ms + 14 * DAY);
	run_ok(&a);
	a = admit_cmd("h2", "c2", "s1", "d1", now.wall_ms + 14 * DAY);
	run_ok(&a);
	a = admit_cmd("h3", "c2", "s1", "d1", now.wall_ms + 14 * DAY);
	run_ok(&a);
	install("s-1", "h1");
	door("s-1", SB_DOOR_OPEN); /* heard, door open, one alert */
	install("s-3", "h3");      /* fitted, never heard */
	tick_after(set.stats_interval_ms - 1);
	CHECK(count_kind(ACT_PUB_STATS) == 0);
	tick_after(1);
	CHECK(count_kind(ACT_PUB_STATS) == 4);
	check_stats("c1", SB_LEVEL_COMMUNITY, 1, 1, 1, 0, 1, 1);
	check_stats("c2", SB_LEVEL_COMMUNITY, 2, 1, 0, 0, 0, 0);
	check_stats("s1", SB_LEVEL_STREET, 3, 2, 1, 0, 1, 1);
	check_stats("d1", SB_LEVEL_DISTRICT, 3, 2, 1, 0, 1, 1);

	/* s-3 falls silent, and every household of c2 leaves */
	tick_after(set.silence_after_ms - set.stats_interval_ms);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RAISED, -1) == 2);
	struct command r = cmd(SB_OP_RELEASE);
	snprintf(r.household_id, sizeof(r.household_id), "h2");
	run_ok(&r);
	tick_after(set.stats_interval_ms);
	CHECK(count_kind(ACT_PUB_STATS) == 4);
	check_stats("c2", SB_LEVEL_COMMUNITY, 1, 1, 0, 1, 0, 1);
	check_stats("c1", SB_LEVEL_COMMUNITY, 1, 1, 0, 1, 1, 2);
	check_stats("s1", SB_LEVEL_STREET, 2, 2, 0, 2, 1, 3);
	snprintf(r.household_id, sizeof(r.household_id), "h3");
	run_ok(&r);
	tick_after(set.stats_interval_ms);
	CHECK(count_kind(ACT_PUB_STATS) == 4);
	check_stats("c2", SB_LEVEL_COMMUNITY, 0, 0, 0, 0, 0, 0);
	check_stats("d1", SB_LEVEL_DISTRICT, 1, 1, 0, 1, 1, 2);
	/* c2 has no household left but still holds a seal on a released door
	 * (seal custody): it goes on being published until the seal is collected
	 * and the community holds nothing. */
	CHECK(stats_of("c2", SB_LEVEL_COMMUNITY)->seals[SB_SEAL_AWAITING_COLLECTION] == 1);
	uninstall("s-3");
	tick_after(set.stats_interval_ms);
	CHECK(count_kind(ACT_PUB_STATS) == 4);
	CHECK(stats_of("c2", SB_LEVEL_COMMUNITY)->seals[SB_SEAL_COLLECTED] == 1);
	struct command ins = cmd(SB_OP_INSPECT);
	snprintf(ins.device_id, sizeof(ins.device_id), "s-3");
	ins.result = SB_INSPECT_OK;
	run_ok(&ins);
	tick_after(set.stats_interval_ms);
	CHECK(count_kind(ACT_PUB_STATS) == 4);
	check_stats("c2", SB_LEVEL_COMMUNITY, 0, 0, 0, 0, 0, 0);
	CHECK(stats_of("c2", SB_LEVEL_COMMUNITY)->seals[SB_SEAL_COLLECTED] == 0);
	tick_after(set.stats_interval_ms);
	CHECK(count_kind(ACT_PUB_STATS) == 3);
	CHECK(stats_of("c2", SB_LEVEL_COMMUNITY) == NULL);
	check_stats("c1", SB_LEVEL_COMMUNITY, 1, 1, 0, 1, 1, 2);
	finish();
}

static void test_next_deadline(void)
{
	default_settings();
	set.stats_interval_ms = 30 * DAY;
	start_with(&set);
	CHECK(engine_next_deadline(E) == T0_MONO + 30 * DAY);
	admit("h1");
	CHECK(engine_next_deadline(E) == T0_MONO + set.unmonitored_after_ms);
	tick_after(10 * SEC);
	install("s-1", "h1");
	CHECK(engine_next_deadline(E) == T0_MONO + 10 * SEC + set.silence_after_ms);
	tick_after(10 * SEC);
	door("s-1", SB_DOOR_OPEN);
	char id[SB_ID_MAX + 1];
	snprintf(id, sizeof(id), "%s", raised(SB_ALERT_DOOR_OPEN)->alert.id);
	CHECK(engine_next_deadline(E) == now.mono_ms + set.street_after_ms);
	ack(id);
	/* never later than the real silence deadline, never in the past */
	int64_t next = engine_next_deadline(E);
	CHECK(next > now.mono_ms);
	CHECK(next <= now.mono_ms + set.silence_after_ms);
	finish();
}

/* At a city's size the counting pass goes in slices, so that the lock it
 * runs under is never held for long; the numbers come when it is done. */
static void test_stats_in_slices(void)
{
	start();
	const char *units[SB_LEVEL_COUNT] = {"c1", "s1", "d1"};
	char hid[32];
	for (int i = 0; i < 60000; i++) {
		snprintf(hid, sizeof(hid), "h%d", i);
		CHECK(engine_load_household(E, hid, NULL, units, SB_CAT_NONE, -1, now.wall_ms - DAY, now.wall_ms + DAY, 0,
					    0, 0, 0) == 0);
	}
	tick_after(set.stats_interval_ms);
	CHECK(count_kind(ACT_PUB_STATS) == 0);   /* more than one slice of the table */
	CHECK(engine_next_deadline(E) <= now.mono_ms); /* and the rest is due at once */
	int calls = 1;
	while (count_kind(ACT_PUB_STATS) == 0 && calls < 10) {
		tick();
		calls++;
	}
	CHECK(calls > 1 && count_kind(ACT_PUB_STATS) == 3);
	check_stats("c1", SB_LEVEL_COMMUNITY, 60000, 0, 0, 0, 0, 0);
	check_stats("d1", SB_LEVEL_DISTRICT, 60000, 0, 0, 0, 0, 0);
	CHECK(engine_next_deadline(E) > now.mono_ms); /* then it sleeps until the next interval */
	finish();
}

#define MANY 100000

static void test_many_seals_idle_tick(void)
{
	default_settings();
	set.stats_interval_ms = 30 * DAY;
	start_with(&set);
	char hid[32], dev[32];
	for (int i = 0; i < MANY; i++) {
		snprintf(hid, sizeof(hid), "h%d", i);
		snprintf(dev, sizeof(dev), "s%d", i);
		struct command c = admit_cmd(hid, "c1", "s1", "d1", now.wall_ms + 14 * DAY);
		run_ok(&c);
		c = install_cmd(dev, hid);
		run_ok(&c);
	}
	CHECK(engine_device_count(E) == MANY);
	int64_t first = engine_next_deadline(E);
	CHECK(first == T0_MONO + set.silence_after_ms);
	/* Three rounds of heartbeats, ten minutes apart, past the first silence
	 * deadlines: those fire and are put back, nothing is raised. */
	for (int round = 0; round < 3; round++) {
		advance(590 * SEC);
		for (int i = 0; i < MANY; i++) {
			snprintf(dev, sizeof(dev), "s%d", i);
			if (i % 10 == 0)
				advance(1);
			heartbeat(dev);
			CHECK(count_kind(ACT_PUB_ALERT) == 0);
			if (i % 1000 == 0) {
				tick();
				CHECK(count_kind(ACT_PUB_ALERT) == 0);
			}
		}
	}
	tick();
	CHECK(A.n == 0);
	int64_t next = engine_next_deadline(E);
	CHECK(next > now.mono_ms);
	/* a tick with nothing due must not visit every seal */
	clock_t t0 = clock();
	for (int i = 0; i < 20000; i++) {
		actions_clear(&A);
		engine_tick(E, now, &A);
		if (A.n)
			break;
	}
	double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	CHECK(A.n == 0);
	printf("# 20000 idle ticks over %d seals: %.3f s cpu\n", MANY, cpu);
	CHECK(cpu < 2.0);
	finish();
}

int main(void)
{
	RUN(test_silent_when_never_reporting);
	RUN(test_reports_push_silence);
	RUN(test_per_device_silence_after);
	RUN(test_wall_steps_do_not_move_silence);
	RUN(test_no_silence_while_disconnected);
	RUN(test_short_outage_restarts_silence_count);
	RUN(test_silence_cleared_then_new_alert);
	RUN(test_unmonitored);
	RUN(test_install_in_time_raises_no_unmonitored);
	RUN(test_unmonitored_counts_from_start);
	RUN(test_quarantine_end_releases);
	RUN(test_end_follows_wall_clock_step_back);
	RUN(test_end_follows_wall_clock_step_forward);
	RUN(test_tick_in_slices);
	RUN(test_readmit_low_battery_and_old_permits);
	RUN(test_readmit_with_silent_seal);
	RUN(test_release_command);
	RUN(test_stats);
	RUN(test_next_deadline);
	RUN(test_stats_in_slices);
	RUN(test_many_seals_idle_tick);
	DONE();
}
