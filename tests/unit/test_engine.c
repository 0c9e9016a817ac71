/* Engine rules on a fake clock: door openings, permits, report sequence numbers,
 * escalation, acks, tamper and battery. */
#include "test_engine_harness.h"

/* The n of an event id "<alert_id>-<n>", or -1 when it does not have that shape. */
static int event_no(const struct alert_msg *m)
{
	size_t k = strlen(m->alert.id);
	if (strncmp(m->event_id, m->alert.id, k) != 0 || m->event_id[k] != '-' || !m->event_id[k + 1])
		return -1;
	int n = 0;
	for (const char *p = m->event_id + k + 1; *p; p++) {
		if (*p < '0' || *p > '9' || n > 100000)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

/* Every alert message of the last call is about alert `id`, in `state`, one per
 * level from community up to `top`, and their event numbers continue from *last. */
static void check_levels(const char *id, enum sb_alert_state state, enum sb_level top, int *last)
{
	CHECK(count_pub(-1, -1, -1) == (size_t)top + 1);
	for (int l = 0; l <= (int)top; l++) {
		const struct alert_msg *m = find_pub(-1, (int)state, l);
		REQUIRE(m != NULL);
		CHECK_STR(m->alert.id, id);
		CHECK(m->alert.level == top);
		CHECK(m->at_ms == now.wall_ms);
	}
	for (size_t i = 0; i < A.n; i++) {
		if (A.v[i].kind != ACT_PUB_ALERT)
			continue;
		int n = event_no(&A.v[i].u.alert_msg);
		CHECK(n == *last + 1);
		*last = n;
	}
}

static void test_door_open_raises_once_and_folds(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	advance(5 * SEC);
	door("s-1", SB_DOOR_OPEN);
	const struct alert_msg *m = raised(SB_ALERT_DOOR_OPEN);
	CHECK(m->to_level == SB_LEVEL_COMMUNITY);
	CHECK(m->alert.count == 1);
	CHECK(m->alert.since_ms == now.wall_ms);
	CHECK(m->at_ms == now.wall_ms);
	CHECK_STR(m->alert.household_id, "h1");
	CHECK_STR(m->alert.device_id, "s-1");
	CHECK(m->household == H("h1"));
	CHECK(event_no(m) == 1);
	CHECK(pub_state_of("h1"));
	char id[SB_ID_MAX + 1];
	snprintf(id, sizeof(id), "%s", m->alert.id);
	CHECK(sb_household_alert(H("h1"), SB_ALERT_DOOR_OPEN) == engine_alert(E, id));
	CHECK(saved_alert(id) != NULL);

	/* open again without a close in between is not a new opening */
	advance(SEC);
	door("s-1", SB_DOOR_OPEN);
	CHECK(A.n == 0);
	CHECK(engine_alert(E, id)->count == 1);

	/* a second opening folds into the open alert */
	advance(SEC);
	door("s-1", SB_DOOR_CLOSED);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	advance(SEC);
	door("s-1", SB_DOOR_OPEN);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(engine_alert(E, id)->count == 2);
	CHECK(saved_alert(id) && saved_alert(id)->count == 2);
	CHECK(pub_state_of("h1"));
	CHECK(engine_alert(E, id)->since_ms == T0_WALL + 5 * SEC);

	/* its later messages carry the count */
	ack(id);
	CHECK(count_pub(SB_ALERT_DOOR_OPEN, SB_AST_ACKED, SB_LEVEL_COMMUNITY) == 1);
	CHECK(find_pub(-1, SB_AST_ACKED, -1)->alert.count == 2);
	finish();
}

static void test_door_open_as_first_state_raises(void)
{
	start_quiet();
	admit("h1");
	install("s-1", "h1");
	door("s-1", SB_DOOR_OPEN);
	raised(SB_ALERT_DOOR_OPEN);
	finish();
}

static void test_closing_raises_nothing(void)
{
	start_quiet();
	admit("h1");
	install("s-1", "h1");
	door("s-1", SB_DOOR_CLOSED);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(D("s-1")->door == SB_DOOR_CLOSED);
	CHECK(pub_state_of("h1"));
	finish();
}

static void test_permit_window_inclusive(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	int64_t from = now.wall_ms + 10 * MIN, until = now.wall_ms + 20 * MIN;
	struct command p = permit_cmd("h1", from, until);
	run_ok(&p);
	CHECK(R.changed == 1);
	CHECK(R.permit_id[0] && count_kind(ACT_SAVE_PERMIT) == 1);
	char id[SB_ID_MAX + 1];

	/* 1 ms before the window */
	advance(10 * MIN - 1);
	open_door_alert("s-1", id, sizeof(id));
	resolve(id);

	advance(1); /* == from */
	door("s-1", SB_DOOR_OPEN);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(count_kind(ACT_AUDIT) == 1); /* recorded */
	CHECK(sb_household_alert(H("h1"), SB_ALERT_DOOR_OPEN) == NULL);
	door("s-1", SB_DOOR_CLOSED);

	advance(10 * MIN); /* == until */
	door("s-1", SB_DOOR_OPEN);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	door("s-1", SB_DOOR_CLOSED);

	/* the permit has lapsed */
	advance(1);
	door("s-1", SB_DOOR_OPEN);
	raised(SB_ALERT_DOOR_OPEN);
	finish();
}

static void test_permit_from_defaults_to_now(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	struct command p = permit_cmd("h1", 0, now.wall_ms + MIN);
	p.has_from = 0;
	run_ok(&p);
	door("s-1", SB_DOOR_OPEN);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	door("s-1", SB_DOOR_CLOSED);
	tick_after(MIN + 1);
	door("s-1", SB_DOOR_OPEN);
	raised(SB_ALERT_DOOR_OPEN);
	finish();
}

static void test_released_household_raises_nothing(void)
{
	start();
	fitted_closed("h1", "s-1");
	struct command c = cmd(SB_OP_RELEASE);
	snprintf(c.household_id, sizeof(c.household_id), "h1");
	run_ok(&c);
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 1);
	door("s-1", SB_DOOR_OPEN);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	/* its state stays cleared, without re-clearing on every report */
	CHECK(count_kind(ACT_PUB_STATE) == 0);
	CHECK(count_kind(ACT_PUB_CLEAR_STATE) == 0);
	tamper("s-1", 1);
	battery("s-1", 3);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(2 * DAY);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	finish();
}

static void test_future_start_raises_nothing_until_start(void)
{
	start_quiet();
	struct command c = admit_cmd("h1", "c1", "s1", "d1", now.wall_ms + 14 * DAY);
	c.has_start = 1;
	c.start_ms = now.wall_ms + HOUR;
	run_ok(&c);
	install("s-1", "h1");
	door("s-1", SB_DOOR_CLOSED);
	tick_after(HOUR - 1);
	door("s-1", SB_DOOR_OPEN);
	tamper("s-1", 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	door("s-1", SB_DOOR_CLOSED);
	tick_after(1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	door("s-1", SB_DOOR_OPEN);
	raised(SB_ALERT_DOOR_OPEN);
	finish();
}

static void test_duplicate_seq_changes_nothing(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	struct report r = rep();
	r.has_seq = 1;
	r.seq = 5;
	CHECK(report("s-1", &r, 0) == REPORT_APPLIED);
	int64_t seen = D("s-1")->last_seen_ms;
	advance(SEC);
	r.has_door = 1;
	r.door = SB_DOOR_OPEN;
	CHECK(report("s-1", &r, 0) == REPORT_DUPLICATE);
	CHECK(A.n == 0);
	r.seq = 4;
	CHECK(report("s-1", &r, 0) == REPORT_DUPLICATE);
	CHECK(A.n == 0);
	CHECK(D("s-1")->door == SB_DOOR_CLOSED);
	CHECK(D("s-1")->last_seen_ms == seen);
	r.seq = 6;
	CHECK(report("s-1", &r, 0) == REPORT_APPLIED);
	raised(SB_ALERT_DOOR_OPEN);
	CHECK(D("s-1")->last_seen_ms == now.wall_ms);
	finish();
}

static void test_retained_reports(void)
{
	start();
	admit("h1");
	install("s-1", "h1");
	struct report r = rep();
	r.has_seq = 1;
	r.seq = 1;
	r.has_door = 1;
	r.door = SB_DOOR_CLOSED;
	CHECK(report("s-1", &r, 0) == REPORT_APPLIED);
	tick_after(set.silence_after_ms);
	raised(SB_ALERT_DEVICE_SILENT);
	CHECK(D("s-1")->silent);

	/* without seq, or not newer: the broker's old copy */
	struct report old = rep();
	old.has_door = 1;
	old.door = SB_DOOR_OPEN;
	CHECK(report("s-1", &old, 1) == REPORT_STALE_RETAINED);
	CHECK(A.n == 0);
	old.has_seq = 1;
	old.seq = 1;
	CHECK(report("s-1", &old, 1) == REPORT_STALE_RETAINED);
	CHECK(A.n == 0);
	CHECK(D("s-1")->door == SB_DOOR_CLOSED);

	/* newer: its state applies, but it is no sign of life */
	int64_t seen = D("s-1")->last_seen_ms;
	struct report newer = rep();
	newer.has_seq = 1;
	newer.seq = 2;
	newer.has_battery = 1;
	newer.battery = 80;
	CHECK(report("s-1", &newer, 1) == REPORT_APPLIED);
	CHECK(D("s-1")->battery == 80);
	CHECK(D("s-1")->silent);
	CHECK(D("s-1")->last_seen_ms == seen);
	CHECK(count_pub(-1, SB_AST_CLEARED, -1) == 0);
	CHECK(sb_household_alert(H("h1"), SB_ALERT_DEVICE_SILENT) != NULL);

	/* the same seq live again is a duplicate */
	CHECK(report("s-1", &newer, 0) == REPORT_DUPLICATE);
	CHECK(D("s-1")->silent);
	newer.seq = 3;
	CHECK(report("s-1", &newer, 0) == REPORT_APPLIED);
	CHECK(!D("s-1")->silent);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_CLEARED, SB_LEVEL_COMMUNITY) == 1);
	finish();
}

static void test_unknown_device(void)
{
	start_quiet();
	admit("h1");
	struct report r = rep();
	CHECK(report("nope", &r, 0) == REPORT_UNKNOWN_DEVICE);
	CHECK(A.n == 0);
	install("s-1", "h1");
	uninstall("s-1");
	/* A known seal off its door is kept (seal custody) and raises nothing. */
	r.has_door = 1;
	r.door = SB_DOOR_OPEN;
	CHECK(report("s-1", &r, 0) == REPORT_APPLIED);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(count_kind(ACT_PUB_STATE) == 0);
	CHECK(report("s-1", &r, 1) == REPORT_STALE_RETAINED);
	CHECK(A.n == 0);
	finish();
}

static void test_escalation_boundaries_and_levels(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	door("s-1", SB_DOOR_OPEN);
	char id[SB_ID_MAX + 1];
	snprintf(id, sizeof(id), "%s", raised(SB_ALERT_DOOR_OPEN)->alert.id);
	int last = 1;

	tick_after(set.street_after_ms - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK(count_pub(-1, -1, -1) == 1);
	const struct alert_msg *m = find_pub(SB_ALERT_DOOR_OPEN, SB_AST_ESCALATED, SB_LEVEL_STREET);
	REQUIRE(m != NULL);
	CHECK_STR(m->alert.id, id);
	CHECK(m->alert.level == SB_LEVEL_STREET);
	CHECK(event_no(m) == ++last);
	CHECK(saved_alert(id) && saved_alert(id)->level == SB_LEVEL_STREET);

	tick_after(set.district_after_ms - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK(count_pub(-1, -1, -1) == 1);
	m = find_pub(SB_ALERT_DOOR_OPEN, SB_AST_ESCALATED, SB_LEVEL_DISTRICT);
	REQUIRE(m != NULL);
	CHECK(event_no(m) == ++last);

	tick_after(10 * DAY);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);

	ack(id);
	CHECK(R.changed == 1);
	check_levels(id, SB_AST_ACKED, SB_LEVEL_DISTRICT, &last);
	m = find_pub(-1, SB_AST_ACKED, SB_LEVEL_STREET);
	CHECK_STR(m->alert.by, "warden7");
	CHECK_STR(m->alert.note, "on my way");

	resolve(id);
	check_levels(id, SB_AST_RESOLVED, SB_LEVEL_DISTRICT, &last);
	CHECK_STR(find_pub(-1, SB_AST_RESOLVED, SB_LEVEL_DISTRICT)->alert.note, "door closed again");
	CHECK(engine_alert(E, id) == NULL);
	CHECK(sb_household_alert(H("h1"), SB_ALERT_DOOR_OPEN) == NULL);
	finish();
}

static void test_ack_before_street_stops_escalation(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	char id[SB_ID_MAX + 1];
	int last = 1;
	open_door_alert("s-1", id, sizeof(id));
	tick_after(set.street_after_ms - 1);
	ack(id);
	check_levels(id, SB_AST_ACKED, SB_LEVEL_COMMUNITY, &last);
	CHECK(engine_alert(E, id)->state == SB_AST_ACKED);
	tick_after(1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(10 * DAY);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);

	/* a repeated ack is harmless and says so */
	ack(id);
	CHECK(R.changed == 0);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);

	/* an acked alert still folds further openings */
	door("s-1", SB_DOOR_OPEN);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(engine_alert(E, id)->count == 2);

	resolve(id);
	check_levels(id, SB_AST_RESOLVED, SB_LEVEL_COMMUNITY, &last);
	CHECK(find_pub(-1, SB_AST_RESOLVED, -1)->alert.count == 2);
	finish();
}

static void test_ack_at_street_stops_district(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	char id[SB_ID_MAX + 1];
	int last = 1;
	open_door_alert("s-1", id, sizeof(id));
	tick_after(set.street_after_ms);
	last++;
	tick_after(set.district_after_ms - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	ack(id);
	check_levels(id, SB_AST_ACKED, SB_LEVEL_STREET, &last);
	tick_after(10 * DAY);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	finish();
}

static void test_resolve_before_ack(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	char id[SB_ID_MAX + 1];
	int last = 1;
	open_door_alert("s-1", id, sizeof(id));
	resolve(id);
	check_levels(id, SB_AST_RESOLVED, SB_LEVEL_COMMUNITY, &last);
	CHECK_STR(find_pub(-1, SB_AST_RESOLVED, -1)->alert.by, "warden7");
	tick_after(10 * DAY);
	CHECK(count_pub(SB_ALERT_DOOR_OPEN, -1, -1) == 0);

	/* the next opening is a new alert */
	door("s-1", SB_DOOR_OPEN);
	const struct alert_msg *m = raised(SB_ALERT_DOOR_OPEN);
	CHECK(strcmp(m->alert.id, id) != 0);
	CHECK(m->alert.count == 1);
	CHECK(event_no(m) == 1);
	finish();
}

static void test_tamper(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	tamper("s-1", 0);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tamper("s-1", 1);
	const struct alert_msg *m = raised(SB_ALERT_TAMPER);
	CHECK_STR(m->alert.device_id, "s-1");
	char id[SB_ID_MAX + 1];
	snprintf(id, sizeof(id), "%s", m->alert.id);

	/* the condition ending does not close it */
	tamper("s-1", 0);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(engine_alert(E, id) != NULL);
	CHECK(D("s-1")->tamper == 0);
	tamper("s-1", 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(engine_alert(E, id)->count == 2);

	/* tamper escalates like any alert */
	tick_after(set.street_after_ms);
	CHECK(count_pub(SB_ALERT_TAMPER, SB_AST_ESCALATED, SB_LEVEL_STREET) == 1);

	resolve(id);
	CHECK(count_pub(SB_ALERT_TAMPER, SB_AST_RESOLVED, -1) == 2);
	CHECK(engine_alert(E, id) == NULL);
	tamper("s-1", 0);
	tamper("s-1", 1);
	CHECK(strcmp(raised(SB_ALERT_TAMPER)->alert.id, id) != 0);
	finish();
}

static void test_battery_low(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	battery("s-1", 21);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(D("s-1")->battery == 21);
	battery("s-1", 20); /* exactly the setting */
	const struct alert_msg *m = raised(SB_ALERT_BATTERY_LOW);
	char id[SB_ID_MAX + 1];
	snprintf(id, sizeof(id), "%s", m->alert.id);
	battery("s-1", 10);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);

	/* never escalates */
	tick_after(set.street_after_ms);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(set.district_after_ms);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);

	battery("s-1", 21);
	CHECK(count_pub(-1, -1, -1) == 1);
	CHECK(count_pub(SB_ALERT_BATTERY_LOW, SB_AST_CLEARED, SB_LEVEL_COMMUNITY) == 1);
	CHECK(engine_alert(E, id) == NULL);
	battery("s-1", 22);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);

	battery("s-1", 19);
	CHECK(strcmp(raised(SB_ALERT_BATTERY_LOW)->alert.id, id) != 0);
	finish();
}

static void test_first_battery_low_raises(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	battery("s-1", 0);
	raised(SB_ALERT_BATTERY_LOW);
	finish();
}

int main(void)
{
	RUN(test_door_open_raises_once_and_folds);
	RUN(test_door_open_as_first_state_raises);
	RUN(test_closing_raises_nothing);
	RUN(test_permit_window_inclusive);
	RUN(test_permit_from_defaults_to_now);
	RUN(test_released_household_raises_nothing);
	RUN(test_future_start_raises_nothing_until_start);
	RUN(test_duplicate_seq_changes_nothing);
	RUN(test_retained_reports);
	RUN(test_unknown_device);
	RUN(test_escalation_boundaries_and_levels);
	RUN(test_ack_before_street_stops_escalation);
	RUN(test_ack_at_street_stops_district);
	RUN(test_resolve_before_ack);
	RUN(test_tamper);
	RUN(test_battery_low);
	RUN(test_first_battery_low_raises);
	DONE();
}
