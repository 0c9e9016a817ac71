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

/* A resumed session delivers its queue before the subscriptions are confirmed:
 * such a report may always be queued, whatever its ts. */
static void test_queued_before_subscribed(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	int64_t t0 = now.wall_ms;
	struct command p = permit_cmd("h1", t0, t0 + 5 * MIN);
	run_ok(&p);
	engine_set_connected(E, 0, now);
	advance(20 * MIN);
	struct report r = rep();
	r.has_door = 1;
	r.door = SB_DOOR_OPEN;
	r.has_ts = 1;
	r.ts = t0 + 5 * MIN; /* the until, inclusive */
	CHECK(report("s-1", &r, 0) == REPORT_APPLIED);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	r.door = SB_DOOR_CLOSED;
	report("s-1", &r, 0);
	r.door = SB_DOOR_OPEN;
	r.ts = t0 + 5 * MIN + 1;
	report("s-1", &r, 0);
	CHECK(raised(SB_ALERT_DOOR_OPEN)->alert.since_ms == t0 + 5 * MIN + 1);
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
	/* a seal fitted behind it while it is offline: now it has a household to speak for */
	admit("h2");
	install_gw("s-2", "h2", "gw-1");
	CHECK(count_pub(SB_ALERT_GATEWAY_OFFLINE, SB_AST_RAISED, SB_LEVEL_COMMUNITY) == 1);
	install_gw("s-2", "h2", "gw-1"); /* again: no second alert */
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	admit("h3");
	install_gw("s-3", "h3", "gw-1");
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

/* ---- part 2: area permits and revoke ---- */

static struct command area_permit(enum sb_level l, const char *unit, int64_t from, int64_t until)
{
	struct command c = cmd(SB_OP_PERMIT);
	snprintf(c.unit_id[l], sizeof c.unit_id[l], "%s", unit);
	c.area = 1 + (int)l;
	c.has_from = 1;
	c.from_ms = from;
	c.has_until = 1;
	c.until_ms = until;
	snprintf(c.reason, sizeof c.reason, "testing round");
	return c;
}

static void admit_in(const char *hid, const char *community)
{
	struct command c = admit_cmd(hid, community, "s1", "d1", now.wall_ms + 14 * DAY);
	run_ok(&c);
}

/* Opens and closes the door: 1 when that raised (or folded into) nothing.
 * An alert it raised is resolved, so that each call stands alone. */
static int opens_quietly(const char *dev)
{
	door(dev, SB_DOOR_OPEN);
	int quiet = count_kind(ACT_SAVE_ALERT) == 0 && count_kind(ACT_PUB_ALERT) == 0;
	char id[SB_ID_MAX + 1] = "";
	const struct alert_msg *m = find_pub(SB_ALERT_DOOR_OPEN, SB_AST_RAISED, -1);
	if (m)
		snprintf(id, sizeof id, "%s", m->alert.id);
	door(dev, SB_DOOR_CLOSED);
	if (id[0])
		resolve(id);
	return quiet;
}

static void test_area_permit_covers_unit(void)
{
	start_quiet();
	admit_in("h1", "c1");
	install("s-1", "h1");
	admit_in("h3", "c2");
	install("s-3", "h3");
	door("s-1", SB_DOOR_CLOSED);
	door("s-3", SB_DOOR_CLOSED);
	int64_t t0 = now.wall_ms;
	struct command p = area_permit(SB_LEVEL_COMMUNITY, "c1", t0 + 10 * MIN, t0 + 20 * MIN);
	run_ok(&p);
	CHECK(R.permit_id[0] != '\0');
	char pid[SB_ID_MAX + 1];
	snprintf(pid, sizeof pid, "%s", R.permit_id);
	advance(10 * MIN - 1);
	CHECK(!opens_quietly("s-1")); /* T-1 */
	advance(1);
	CHECK(opens_quietly("s-1")); /* T: inside, recorded */
	CHECK(!opens_quietly("s-3")); /* another community */
	/* admitted into c1 while the permit runs: covered */
	admit_in("h4", "c1");
	install("s-4", "h4");
	door("s-4", SB_DOOR_CLOSED);
	CHECK(opens_quietly("s-4"));
	/* revoke: ends now */
	struct command r = cmd(SB_OP_REVOKE);
	snprintf(r.permit_id, sizeof r.permit_id, "%s", pid);
	run_ok(&r);
	CHECK_STR(R.permit_id, pid);
	CHECK(count_kind(ACT_SAVE_PERMIT) == 1 && A.v[0].kind != ACT_PUB_ALERT);
	CHECK(!opens_quietly("s-4"));
	run_err(&r, "unknown_permit");
	finish();
}

static void test_area_permit_errors(void)
{
	start_quiet();
	admit_in("h1", "c1");
	struct command p = area_permit(SB_LEVEL_STREET, "nowhere", now.wall_ms, now.wall_ms + HOUR);
	run_err(&p, "unknown_unit");
	p = area_permit(SB_LEVEL_DISTRICT, "d1", now.wall_ms + HOUR, now.wall_ms);
	run_err(&p, "bad_request");
	CHECK(count_kind(ACT_SAVE_PERMIT) == 0);
	p = area_permit(SB_LEVEL_DISTRICT, "d1", now.wall_ms, now.wall_ms + HOUR);
	p.has_daily = 1;
	p.daily_from = p.daily_until = 600;
	run_err(&p, "bad_request");
	/* the permit lapses: it leaves memory and the store at the next statistics pass */
	p = area_permit(SB_LEVEL_DISTRICT, "d1", now.wall_ms, now.wall_ms + MIN);
	run_ok(&p);
	tick_after(set.stats_interval_ms + MIN);
	CHECK(count_kind(ACT_SAVE_PERMIT) == 1);
	finish();
}

/* ---- part 3: daily permits in the local zone ---- */

#define UTC(y, mo, d, h, mi) ((int64_t)days_utc(y, mo, d) * DAY + (h) * HOUR + (mi) * MIN)
static int64_t days_utc(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

static void test_tz_windows_follow_dst(void)
{
	char err[256];
	CHECK(tzwin_use("Europe/Berlin", err) == 0);
	CHECK(tzwin_check("Mars/Olympus", err) == -1 && strstr(err, "no such zone"));
	CHECK(tzwin_check("../etc/passwd", err) == -1);
	/* 16:00-16:10 local: CET (UTC+1) on 28 March 2026, CEST (UTC+2) from 29 March */
	CHECK(!tzwin_in_window(UTC(2026, 3, 28, 15, 0) - 1, 960, 970));
	CHECK(tzwin_in_window(UTC(2026, 3, 28, 15, 0), 960, 970));
	CHECK(tzwin_in_window(UTC(2026, 3, 28, 15, 10), 960, 970));
	CHECK(!tzwin_in_window(UTC(2026, 3, 28, 15, 10) + 1, 960, 970));
	CHECK(!tzwin_in_window(UTC(2026, 3, 29, 15, 0), 960, 970));
	CHECK(tzwin_in_window(UTC(2026, 3, 29, 14, 0), 960, 970));
	/* back to CET on 25 October */
	CHECK(tzwin_in_window(UTC(2026, 10, 25, 15, 5), 960, 970));
	CHECK(!tzwin_in_window(UTC(2026, 10, 24, 15, 5), 960, 970));
	/* across midnight: 23:30-00:15 */
	CHECK(tzwin_in_window(UTC(2026, 11, 29, 22, 45), 1410, 15));
	CHECK(tzwin_in_window(UTC(2026, 11, 29, 23, 15), 1410, 15));
	CHECK(!tzwin_in_window(UTC(2026, 11, 29, 23, 15) + 1, 1410, 15));
	CHECK(!tzwin_in_window(UTC(2026, 11, 29, 22, 30) - 1, 1410, 15));
	CHECK(tzwin_parse_hhmm("23:59") == 1439 && tzwin_parse_hhmm("24:00") < 0 && tzwin_parse_hhmm("7:00") < 0);
	CHECK(tzwin_use("UTC", err) == 0);
}

static void test_daily_permit(void)
{
	char err[256];
	CHECK(tzwin_use("Asia/Shanghai", err) == 0);
	start_quiet();
	fitted_closed("h1", "s-1"); /* now is 04:00Z = 12:00 in Shanghai */
	struct command p = permit_cmd("h1", now.wall_ms, now.wall_ms + 14 * DAY);
	p.has_daily = 1;
	p.daily_from = 16 * 60;
	p.daily_until = 16 * 60 + 10;
	run_ok(&p);
	advance(4 * HOUR - 1); /* 15:59:59.999 local */
	CHECK(!opens_quietly("s-1"));
	advance(1);
	CHECK(opens_quietly("s-1"));
	advance(10 * MIN);
	CHECK(opens_quietly("s-1"));
	advance(1);
	CHECK(!opens_quietly("s-1"));
	advance(DAY - 10 * MIN - 1); /* the next day at 16:00 */
	CHECK(opens_quietly("s-1"));
	finish();
	CHECK(tzwin_use("UTC", err) == 0);
}

/* ---- part 4: reminders ---- */

static void test_reminders(void)
{
	default_settings();
	set.silence_after_ms = 365 * DAY;
	set.reminder_after_ms = HOUR;
	start_with(&set);
	fitted_closed("h1", "s-1");
	char id[SB_ID_MAX + 1];
	open_door_alert("s-1", id, sizeof id);
	tick_after(set.street_after_ms); /* escalated to street */
	ack(id);
	tick_after(HOUR - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK(count_pub(SB_ALERT_DOOR_OPEN, SB_AST_REMINDED, -1) == 2); /* community and street */
	CHECK(find_pub(SB_ALERT_DOOR_OPEN, SB_AST_REMINDED, SB_LEVEL_STREET) != NULL);
	CHECK_STR(find_pub(SB_ALERT_DOOR_OPEN, SB_AST_REMINDED, -1)->alert.by, "warden7");
	tick_after(HOUR);
	CHECK(count_pub(SB_ALERT_DOOR_OPEN, SB_AST_REMINDED, -1) == 2); /* again */
	/* ack again: reminded from then on */
	advance(30 * MIN);
	ack(id);
	CHECK(count_pub(SB_ALERT_DOOR_OPEN, SB_AST_ACKED, -1) == 2);
	tick_after(HOUR - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK(count_pub(SB_ALERT_DOOR_OPEN, SB_AST_REMINDED, -1) == 2);
	resolve(id);
	tick_after(5 * HOUR);
	CHECK(count_kind(ACT_PUB_ALERT) == 0); /* never for a resolved alert */
	/* a raised, not acked alert escalates and is never reminded */
	open_door_alert("s-1", id, sizeof id);
	tick_after(set.street_after_ms + set.district_after_ms + 3 * HOUR);
	CHECK(count_pub(-1, SB_AST_REMINDED, -1) == 0);
	finish();
}

static void test_reminder_due_survives_reload(void)
{
	default_settings();
	set.reminder_after_ms = HOUR;
	start_with(&set);
	fitted_closed("h1", "s-1");
	char id[SB_ID_MAX + 1];
	open_door_alert("s-1", id, sizeof id);
	ack(id);
	const struct alert *a = saved_alert(id);
	CHECK(a && a->state == SB_AST_ACKED && a->due_ms == now.wall_ms + HOUR);
	finish();
}

/* ---- part 5: outcomes ---- */

static const struct stats_msg *stats_of(const char *unit)
{
	for (size_t i = 0; i < A.n; i++)
		if (A.v[i].kind == ACT_PUB_STATS && strcmp(A.v[i].u.stats.unit->id, unit) == 0)
			return &A.v[i].u.stats;
	return NULL;
}

static void test_outcomes_and_resolved_24h(void)
{
	start_quiet();
	fitted_closed("h1", "s-1");
	char id[SB_ID_MAX + 1];
	open_door_alert("s-1", id, sizeof id);
	struct command c = alert_cmd(SB_OP_RESOLVE, id, "warden7");
	c.has_outcome = 1;
	c.outcome = SB_OUT_FALSE_ALARM;
	run_ok(&c);
	const struct alert_msg *m = find_pub(SB_ALERT_DOOR_OPEN, SB_AST_RESOLVED, SB_LEVEL_COMMUNITY);
	CHECK(m && m->alert.outcome == SB_OUT_FALSE_ALARM);
	int64_t resolved_at = now.wall_ms;
	open_door_alert("s-1", id, sizeof id);
	resolve(id); /* default: other */
	CHECK(find_pub(SB_ALERT_DOOR_OPEN, SB_AST_RESOLVED, -1)->alert.outcome == SB_OUT_OTHER);
	tick_after(set.stats_interval_ms);
	const struct stats_msg *s = stats_of("s1");
	CHECK(s && s->resolved_24h[SB_OUT_FALSE_ALARM] == 1 && s->resolved_24h[SB_OUT_OTHER] == 1);
	CHECK(stats_of("c1")->resolved_24h[SB_OUT_FALSE_ALARM] == 1);
	CHECK(stats_of("d1")->resolved_24h[SB_OUT_VIOLATION] == 0);
	/* a sliding 24 h: passes every 1 ms from here on, so each tick is one */
	struct engine_settings s2 = set;
	s2.stats_interval_ms = 1;
	engine_set_settings(E, &s2);
	tick_after(resolved_at + DAY - 1 - now.wall_ms);
	CHECK(stats_of("c1") && now.wall_ms == resolved_at + DAY - 1);
	CHECK(stats_of("c1")->resolved_24h[SB_OUT_FALSE_ALARM] == 1);
	tick_after(1);
	CHECK(stats_of("c1") && stats_of("c1")->resolved_24h[SB_OUT_FALSE_ALARM] == 0);
	finish();
}

static void test_resolved_24h_loaded(void)
{
	start_quiet();
	admit("h1");
	const char *u[SB_LEVEL_COUNT] = {"c1", "s1", "d1"};
	CHECK(engine_load_resolved(E, u, SB_OUT_ERRAND, now.wall_ms - DAY + MIN) == 0);
	CHECK(engine_load_resolved(E, u, SB_OUT_ERRAND, now.wall_ms - DAY) == 0); /* just out */
	tick_after(set.stats_interval_ms);
	CHECK(stats_of("c1")->resolved_24h[SB_OUT_ERRAND] == 0); /* both older than 24 h by now */
	finish();
	start_quiet();
	admit("h1");
	CHECK(engine_load_resolved(E, u, SB_OUT_ERRAND, now.wall_ms - HOUR) == 0);
	tick_after(set.stats_interval_ms);
	CHECK(stats_of("c1")->resolved_24h[SB_OUT_ERRAND] == 1);
	finish();
}

/* ---- part 6: seal models ---- */

static void test_models(void)
{
	default_settings();
	snprintf(set.models[0].name, sizeof set.models[0].name, "ds100");
	set.models[0].silence_after_ms = 100 * SEC;
	set.models[0].battery_low = 30;
	snprintf(set.models[1].name, sizeof set.models[1].name, "quiet");
	set.models[1].silence_after_ms = 0;
	set.models[1].battery_low = -1;
	set.n_models = 2;
	start_with(&set);
	admit("h1");
	struct command c = install_cmd("s-1", "h1");
	snprintf(c.model, sizeof c.model, "nope");
	run_err(&c, "bad_request");
	CHECK(engine_device(E, "s-1") == NULL);
	snprintf(c.model, sizeof c.model, "ds100");
	run_ok(&c);
	CHECK_STR(engine_model_name(E, D("s-1")), "ds100");
	tick_after(100 * SEC - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	raised(SB_ALERT_DEVICE_SILENT);
	battery("s-1", 30); /* the model's battery_low, not the setting's 20 */
	CHECK(count_pub(SB_ALERT_BATTERY_LOW, SB_AST_RAISED, -1) == 1);
	/* install's silence_after comes first */
	admit("h2");
	c = install_cmd("s-2", "h2");
	snprintf(c.model, sizeof c.model, "ds100");
	c.has_silence_after = 1;
	c.silence_after_ms = 50 * SEC;
	run_ok(&c);
	tick_after(50 * SEC);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RAISED, -1) == 1);
	/* a model that sets nothing: the timing settings */
	admit("h3");
	c = install_cmd("s-3", "h3");
	snprintf(c.model, sizeof c.model, "quiet");
	run_ok(&c);
	battery("s-3", 25);
	CHECK(count_pub(SB_ALERT_BATTERY_LOW, -1, -1) == 0);
	/* SIGHUP: a changed model applies to fitted seals */
	struct engine_settings s2 = set;
	s2.models[1].silence_after_ms = 10 * SEC;
	engine_set_settings(E, &s2);
	heartbeat("s-3");
	tick();
	tick_after(10 * SEC - 1);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, -1, -1) == 0);
	tick_after(1);
	CHECK(count_pub(SB_ALERT_DEVICE_SILENT, SB_AST_RAISED, -1) == 1);
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
	RUN(test_queued_before_subscribed);
	RUN(test_sighup_rearms_silence_and_escalation);
	RUN(test_moved_household_closes_at_old_units);
	RUN(test_readmit_without_address_keeps_label);
	RUN(test_gateway_offline_one_alert_no_silence);
	RUN(test_gateway_alert_at_lowest_common_unit);
	RUN(test_gateway_never_heard_counts_online);
	RUN(test_gateway_without_active_households_raises_nothing);
	RUN(test_gateway_learned_from_vendor_and_stats);
	RUN(test_area_permit_covers_unit);
	RUN(test_area_permit_errors);
	RUN(test_tz_windows_follow_dst);
	RUN(test_daily_permit);
	RUN(test_reminders);
	RUN(test_reminder_due_survives_reload);
	RUN(test_outcomes_and_resolved_24h);
	RUN(test_resolved_24h_loaded);
	RUN(test_models);
	DONE();
}
