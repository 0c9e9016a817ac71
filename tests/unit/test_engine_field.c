/* Engine rules of issue 10 (seq belongs to the seal, restarts, one source per
 * seal, queued reports, re-armed deadlines, moved households) and issue 12
 * (field operations), on the fake clock, each at its boundary. */
#include "test_engine_harness.h"

#include "tzwin.h"

static enum report_result report_src(const char *dev, enum sb_source src, const char *gw, const struct report *r,
				     int retained)
{
	actions_clear(&A);
	enum report_result rr = engine_report_from(E, dev, src, gw, r, retained, now, &A);
	CHECK(!A.oom);
	return rr;
}

static struct report door_seq(enum sb_door d, int64_t seq)
{
	struct report r = rep();
	r.has_door = 1;
	r.door = d;
	r.has_seq = 1;
	r.seq = seq;
	return r;
}

static void install_src(const char *dev, const char *hid, enum sb_source src)
{
	struct command c = install_cmd(dev, hid);
	c.source = src;
	run_ok(&c);
}

/* ---- issue 10 item 5: install does not reset seq ---- */

static void test_refit_keeps_seq_and_old_retained_never_raises(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	struct report r = door_seq(SB_DOOR_OPEN, 7);
	CHECK(report("s-1", &r, 0) == REPORT_APPLIED);
	raised(SB_ALERT_DOOR_OPEN);
	uninstall("s-1");
	admit("h2");
	install("s-1", "h2");
	CHECK(D("s-1")->seq == 7);
	/* The broker re-delivers the seal's last retained report (its old door): nothing. */
	CHECK(report("s-1", &r, 1) == REPORT_STALE_RETAINED);
	CHECK(A.n == 0);
	/* One above the seq at fitting is newer: applied (closed, no alert). */
	struct report r8 = door_seq(SB_DOOR_CLOSED, 8);
	CHECK(report("s-1", &r8, 1) == REPORT_APPLIED);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	/* A retained report stamped before the fitting never raises, whatever its seq. */
	struct report old = door_seq(SB_DOOR_OPEN, 9);
	old.has_ts = 1;
	old.ts = D("s-1")->fitted_ms - 1;
	CHECK(report("s-1", &old, 1) == REPORT_STALE_RETAINED);
	old.ts = D("s-1")->fitted_ms; /* at the fitting: counts */
	CHECK(report("s-1", &old, 1) == REPORT_APPLIED);
	raised(SB_ALERT_DOOR_OPEN);
	/* The seq at fitting is saved with the seal. */
	finish();
}

static void test_fit_seq_is_saved(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	struct report r = door_seq(SB_DOOR_CLOSED, 41);
	report("s-1", &r, 0);
	uninstall("s-1");
	admit("h2");
	install("s-1", "h2");
	int found = 0;
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_SAVE_SEAL_LINK && A.v[i].u.device->fit_seq == 41)
			found = 1;
	CHECK(found);
	finish();
}

/* ---- item 6: a seal that restarts its seq ---- */

static void test_seq_restart_accepted(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	struct report r = door_seq(SB_DOOR_CLOSED, 500);
	CHECK(report("s-1", &r, 0) == REPORT_APPLIED);
	/* seq 2 while stored is 500: an old message, not a restart */
	r = door_seq(SB_DOOR_OPEN, 2);
	CHECK(report("s-1", &r, 0) == REPORT_DUPLICATE);
	/* retained seq 0: never a restart */
	r = door_seq(SB_DOOR_OPEN, 0);
	CHECK(report("s-1", &r, 1) == REPORT_STALE_RETAINED);
	/* live seq 1: the seal rebooted; accepted and counting goes on from it */
	advance(SEC);
	r = door_seq(SB_DOOR_OPEN, 1);
	CHECK(report("s-1", &r, 0) == REPORT_RESTARTED);
	raised(SB_ALERT_DOOR_OPEN);
	CHECK(D("s-1")->seq == 1);
	r = door_seq(SB_DOOR_CLOSED, 2);
	CHECK(report("s-1", &r, 0) == REPORT_APPLIED);
	r = door_seq(SB_DOOR_CLOSED, 2);
	CHECK(report("s-1", &r, 0) == REPORT_DUPLICATE);
	/* seq 0 after 1 restarts again (a second reboot) */
	advance(SEC);
	r = door_seq(SB_DOOR_CLOSED, 0);
	CHECK(report("s-1", &r, 0) == REPORT_RESTARTED);
	/* but a copy whose ts is not after what was judged last is a re-delivery */
	r = door_seq(SB_DOOR_OPEN, 3);
	report("s-1", &r, 0);
	r = door_seq(SB_DOOR_OPEN, 0);
	r.has_ts = 1;
	r.ts = D("s-1")->judged_ms;
	CHECK(report("s-1", &r, 0) == REPORT_DUPLICATE);
	/* after a restart a retained report above the new counter counts again */
	finish();
}

/* ---- item 7: one source per seal ---- */

static void test_source_named_by_install(void)
{
	start_quiet();
	admit("h1");
	install_src("s-1", "h1", SB_SRC_ZIGBEE2MQTT);
	struct report r = rep();
	r.has_door = 1;
	r.door = SB_DOOR_OPEN;
	CHECK(report("s-1", &r, 0) == REPORT_WRONG_SOURCE);
	CHECK(A.n == 0);
	CHECK(!D("s-1")->heard);
	CHECK(report_src("s-1", SB_SRC_TASMOTA, "bridge-1", &r, 0) == REPORT_WRONG_SOURCE);
	CHECK(report_src("s-1", SB_SRC_ZIGBEE2MQTT, "z2m", &r, 0) == REPORT_APPLIED);
	raised(SB_ALERT_DOOR_OPEN);
	CHECK(D("s-1")->heard);
	finish();
}

static void test_source_learned_then_fixed(void)
{
	start_quiet();
	admit("h1");
	install("s-1", "h1");
	struct report hb = rep();
	CHECK(report_src("s-1", SB_SRC_NATIVE, NULL, &hb, 0) == REPORT_APPLIED);
	CHECK(D("s-1")->source == SB_SRC_NATIVE);
	CHECK(count_kind(ACT_SAVE_SEAL_LINK) == 1);
	/* A Tasmota bridge naming the seal in ZbReceived cannot keep it alive or open it. */
	struct report r = rep();
	r.has_door = 1;
	r.door = SB_DOOR_OPEN;
	CHECK(report_src("s-1", SB_SRC_TASMOTA, "tas-1", &r, 0) == REPORT_WRONG_SOURCE);
	CHECK(D("s-1")->door == SB_DOOR_UNKNOWN);
	/* A new fitting forgets the learned source. */
	uninstall("s-1");
	install("s-1", "h1");
	CHECK(report_src("s-1", SB_SRC_TASMOTA, "tas-1", &hb, 0) == REPORT_APPLIED);
	CHECK(report_src("s-1", SB_SRC_NATIVE, NULL, &hb, 0) == REPORT_WRONG_SOURCE);
	finish();
}

/* ---- item 12: reports the broker queued while the daemon was away ---- */

static void test_queued_report_judged_at_its_ts(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	int64_t t0 = now.wall_ms;
	struct command p = permit_cmd("h1", t0 + 10 * MIN, t0 + 20 * MIN);
	run_ok(&p);
	advance(12 * MIN);
	engine_set_connected(E, 0, now); /* the daemon stops hearing (stopped, or the link died) */
	advance(18 * MIN);               /* back at t0 + 30 min: the permit lapsed 10 min ago */
	engine_set_connected(E, 1, now);
	struct report r = rep();
	r.has_door = 1;
	r.door = SB_DOOR_OPEN;
	r.has_ts = 1;
	r.ts = t0 + 20 * MIN; /* opened at the permit's until (inclusive) while we were away */
	CHECK(report("s-1", &r, 0) == REPORT_APPLIED);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(count_kind(ACT_AUDIT) >= 1);
	r.door = SB_DOOR_CLOSED;
	r.ts = t0 + 20 * MIN + 500;
	report("s-1", &r, 0);
	/* 1 ms after until: raised, since the seal's own time */
	r.door = SB_DOOR_OPEN;
	r.ts = t0 + 20 * MIN + 1;
	/* not before what was judged last (t0+20min+500): judged there, still after until */
	CHECK(report("s-1", &r, 0) == REPORT_APPLIED);
	const struct alert_msg *m = raised(SB_ALERT_DOOR_OPEN);
	CHECK(m->alert.since_ms == t0 + 20 * MIN + 500);
	finish();
}

static void test_queued_ts_bounds(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	int64_t t0 = now.wall_ms;
	struct command p = permit_cmd("h1", t0, t0 + 5 * MIN);
	run_ok(&p);
	advance(10 * MIN);
	engine_set_connected(E, 0, now);
	advance(10 * MIN);
	engine_set_connected(E, 1, now);
	/* ts inside the permit but before the daemon stopped hearing: it could not
	 * have been queued that long ago, so it is judged at that moment (t0+10min), outside. */
	struct report r = rep();
	r.has_door = 1;
	r.door = SB_DOOR_OPEN;
	r.has_ts = 1;
	r.ts = t0 + MIN;
	report("s-1", &r, 0);
	const struct alert_msg *m = raised(SB_ALERT_DOOR_OPEN);
	CHECK(m->alert.since_ms == t0 + 10 * MIN);
	finish();

	/* A live report (ts after the daemon could hear again) is judged now, even inside a lapsed window. */
	start_quiet();
	fitted_closed("h1", "s-1");
	t0 = now.wall_ms;
	p = permit_cmd("h1", t0, t0 + 5 * MIN);
	run_ok(&p);
	advance(10 * MIN);
	r.ts = now.wall_ms - 1; /* connected since the start: this is live */
	report("s-1", &r, 0);
	m = raised(SB_ALERT_DOOR_OPEN);
	CHECK(m->alert.since_ms == now.wall_ms);
	finish();
}

/* ---- Low: changed timings take effect at once ---- */

static void test_sighup_rearms_silence_and_escalation(void)
{
	start();
	fitted_closed("h1", "s-1");
	int64_t fitted = now.mono_ms;
	advance(100 * SEC);
	struct engine_settings s2 = set;
	s2.silence_after_ms = 300 * SEC;
	engine_set_settings(E, &s2);
	tick();
	advance(fitted + 300 * SEC - 1 - now.mono_ms);
	tick();
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, -1, -1) == 0);
	tick_after(1);
	raised(SB_ALERT_DEVICE_SILENT);
	finish();

	start_quiet();
	fitted_closed("h1", "s-1");
	door("s-1", SB_DOOR_OPEN);
	raised(SB_ALERT_DOOR_OPEN);
	int64_t at = now.mono_ms;
	advance(50 * SEC);
	s2 = set;
	s2.street_after_ms = 100 * SEC;
	engine_set_settings(E, &s2);
	tick();
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	advance(at + 100 * SEC - 1 - now.mono_ms);
	tick();
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK(count_pub(SB_ALERT_DOOR_OPEN, SB_AST_ESCALATED, SB_LEVEL_STREET) == 1);
	finish();
}

/* ---- Low: a moved household's alert closes where it was raised ---- */

static void test_moved_household_closes_at_old_units(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	char id[SB_ID_MAX + 1];
	open_door_alert("s-1", id, sizeof id);
	struct command c = admit_cmd("h1", "c2", "s2", "d1", now.wall_ms + 14 * DAY);
	run_ok(&c);
	resolve(id);
	const struct alert_msg *m = find_pub(SB_ALERT_DOOR_OPEN, SB_AST_RESOLVED, SB_LEVEL_COMMUNITY);
	CHECK(m != NULL);
	CHECK_STR(m->alert.unit_id[SB_LEVEL_COMMUNITY], "c1");
	CHECK(count_pub(-1, -1, -1) == 1); /* reached community only */
	finish();
}

static void test_readmit_without_address_keeps_label(void)
{
	start_quiet();
	admit("h1");
	struct command c = admit_cmd("h1", "c1", "s1", "d1", now.wall_ms + 20 * DAY);
	c.address[0] = '\0';
	run_ok(&c);
	CHECK_STR(H("h1")->address, "3-2-1502");
	finish();
}


/* ---- issue 12 part 1: gateways ---- */

static void install_gw(const char *dev, const char *hid, const char *gw)
{
	struct command c = install_cmd(dev, hid);
	snprintf(c.gateway_id, sizeof c.gateway_id, "%s", gw);
	run_ok(&c);
}

static void gw_status(const char *gw, int online)
{
	actions_clear(&A);
	engine_gateway_status(E, gw, online, now, &A);
	CHECK(!A.oom);
}

static void test_gateway_offline_one_alert_no_silence(void)
{
	start();
	char hid[16], dev[16];
	for (int i = 0; i < 500; i++) {
		snprintf(hid, sizeof hid, "h%d", i);
		snprintf(dev, sizeof dev, "s%d", i);
		admit(hid);
		install_gw(dev, hid, "gw-1");
		heartbeat(dev);
	}
	fitted_closed("direct", "s-direct"); /* no gateway: silence as usual */
	advance(MIN);
	gw_status("gw-1", 0);
	CHECK(count_pub(-1, -1, -1) == 1);
	const struct alert_msg *m = find_pub(SB_ALERT_GATEWAY_OFFLINE, SB_AST_RAISED, SB_LEVEL_COMMUNITY);
	CHECK(m != NULL);
	CHECK(m->household == NULL && m->alert.household_id[0] == '\0' && m->alert.device_id[0] == '\0');
	CHECK_STR(m->alert.gateway_id, "gw-1");
	CHECK(m->alert.households == 500);
	CHECK_STR(m->alert.unit_id[SB_LEVEL_COMMUNITY], "c1");
	CHECK(count_kind(ACT_PUB_STATE) == 500);
	char gid[SB_ID_MAX + 1];
	snprintf(gid, sizeof gid, "%s", m->alert.id);
	/* No silence is counted while it is offline: only the direct seal goes silent. */
	tick_after(set.silence_after_ms + HOUR);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RAISED, -1) == 1);
	CHECK(count_pub(SB_ALERT_GATEWAY_OFFLINE, SB_AST_ESCALATED, SB_LEVEL_STREET) == 1);
	/* offline again changes nothing */
	gw_status("gw-1", 0);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	/* Back: cleared at every level reached; every deadline at least silence_after away. */
	gw_status("gw-1", 1);
	CHECK(count_pub(SB_ALERT_GATEWAY_OFFLINE, SB_AST_CLEARED, -1) == 2);
	CHECK(engine_alert(E, gid) == NULL);
	tick_after(set.silence_after_ms - 1);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RAISED, -1) == 0);
	tick_after(1);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RAISED, -1) == 500);
	finish();
}

static void test_gateway_alert_at_lowest_common_unit(void)
{
	start_quiet();
	struct command c = admit_cmd("h1", "c1", "s1", "d1", now.wall_ms + DAY);
	run_ok(&c);
	c = admit_cmd("h2", "c2", "s1", "d1", now.wall_ms + DAY);
	run_ok(&c);
	c = admit_cmd("h3", "c3", "s3", "d1", now.wall_ms + DAY);
	run_ok(&c);
	install_gw("a", "h1", "g");
	install_gw("b", "h2", "g");
	gw_status("g", 0);
	const struct alert_msg *m = find_pub(SB_ALERT_GATEWAY_OFFLINE, SB_AST_RAISED, SB_LEVEL_STREET);
	CHECK(m != NULL && m->alert.households == 2);
	CHECK_STR(m->alert.unit_id[SB_LEVEL_STREET], "s1");
	CHECK(m->alert.unit_id[SB_LEVEL_COMMUNITY][0] == '\0');
	/* it escalates as others: to district district_after later (it started above community) */
	tick_after(set.district_after_ms - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK(count_pub(SB_ALERT_GATEWAY_OFFLINE, SB_AST_ESCALATED, SB_LEVEL_DISTRICT) == 1);
	gw_status("g", 1);
	CHECK(count_pub(SB_ALERT_GATEWAY_OFFLINE, SB_AST_CLEARED, -1) == 2); /* street and district */
	/* across districts: the district of the first */
	install_gw("c", "h3", "g2");
	c = admit_cmd("h4", "c4", "s4", "d2", now.wall_ms + DAY);
	run_ok(&c);
	install_gw("d", "h4", "g2");
	gw_status("g2", 0);
	CHECK(count_pub(SB_ALERT_GATEWAY_OFFLINE, SB_AST_RAISED, SB_LEVEL_DISTRICT) == 1);
	finish();
}

static void test_gateway_never_heard_counts_online(void)
{
	start();
	admit("h1");
	install_gw("s-1", "h1", "gw-9");
	heartbeat("s-1");
	CHECK(engine_gateway(E, "gw-9") && !engine_gateway(E, "gw-9")->offline);
	tick_after(set.silence_after_ms - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	raised(SB_ALERT_DEVICE_SILENT);
	finish();
}

static void test_gateway_without_active_households_raises_nothing(void)
{
	start_quiet();
	admit("h1");
	install_gw("s-1", "h1", "gw-1");
	struct command r = cmd(SB_OP_RELEASE);
	snprintf(r.household_id, sizeof r.household_id, "h1");
	run_ok(&r);
	gw_status("gw-1", 0);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	finish();
}

static void test_gateway_learned_from_vendor_and_stats(void)
{
	start_quiet();
	admit("h1");
	install("zb-1", "h1");
	struct report hb = rep();
	CHECK(report_src("zb-1", SB_SRC_ZIGBEE2MQTT, "z2m", &hb, 0) == REPORT_APPLIED);
	CHECK(D("zb-1")->gateway && strcmp(D("zb-1")->gateway->id, "z2m") == 0);
	gw_status("z2m", 0);
	CHECK(count_pub(SB_ALERT_GATEWAY_OFFLINE, SB_AST_RAISED, -1) == 1);
	tick_after(set.stats_interval_ms);
	int seen = 0;
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_PUB_STATS && strcmp(A.v[i].u.stats.unit->id, "c1") == 0) {
			CHECK(A.v[i].u.stats.gateway_offline == 1);
			CHECK(A.v[i].u.stats.open_alerts == 1);
			seen = 1;
		}
	CHECK(seen);
	finish();
}

int main(void)
{
	RUN(test_refit_keeps_seq_and_old_retained_never_raises);
	RUN(test_fit_seq_is_saved);
	RUN(test_seq_restart_accepted);
	RUN(test_source_named_by_install);
	RUN(test_source_learned_then_fixed);
	RUN(test_queued_report_judged_at_its_ts);
	RUN(test_queued_ts_bounds);
	RUN(test_sighup_rearms_silence_and_escalation);
	RUN(test_moved_household_closes_at_old_units);
	RUN(test_readmit_without_address_keeps_label);
	RUN(test_gateway_offline_one_alert_no_silence);
	RUN(test_gateway_alert_at_lowest_common_unit);
	RUN(test_gateway_never_heard_counts_online);
	RUN(test_gateway_without_active_households_raises_nothing);
	RUN(test_gateway_learned_from_vendor_and_stats);
	DONE();
}
