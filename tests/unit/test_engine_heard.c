/* Silence counted only from evidence (engine_set_heard): a silence deadline
 * fires only once the broker was heard at or after it, on a fake clock. */
#include "test_engine_harness.h"

/* The engine looks at a deadline waiting for evidence again this often. */
#define RECHECK_MS 100

static void test_deadline_waits_for_word_from_the_broker(void)
{
	start();
	fitted_closed("h1", "s-1");
	int64_t due = now.mono_ms + set.silence_after_ms;
	engine_set_heard(E, now.mono_ms);
	tick_after(set.silence_after_ms);
	CHECK(count_kind(ACT_PUB_ALERT) == 0); /* heard last before the deadline: maybe a dead link */
	engine_set_heard(E, due - 1);
	tick_after(RECHECK_MS);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(!D("s-1")->silent);
	engine_set_heard(E, due); /* heard at the deadline itself: the seal really was silent */
	tick_after(RECHECK_MS - 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK_STR(raised(SB_ALERT_DEVICE_SILENT)->alert.device_id, "s-1");
	finish();
}

static void test_reports_held_up_on_a_dead_link_raise_nothing(void)
{
	start();
	fitted_closed("h1", "s-1");
	engine_set_heard(E, now.mono_ms);
	/* the link dies unnoticed; the deadline passes with no word from the broker */
	tick_after(set.silence_after_ms + 2 * SEC);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	/* the service notices it hears nothing: silence is not counted */
	engine_set_connected(E, 0, now);
	tick_after(10 * SEC);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	/* the broker answers again, and the seal's held-up report arrives */
	engine_set_connected(E, 1, now);
	engine_set_heard(E, now.mono_ms);
	heartbeat("s-1");
	tick_after(RECHECK_MS);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	CHECK(!D("s-1")->silent);
	/* and silence is counted afresh from evidence */
	tick_after(set.silence_after_ms - RECHECK_MS - 1);
	engine_set_heard(E, now.mono_ms + 1);
	CHECK(count_kind(ACT_PUB_ALERT) == 0);
	tick_after(1);
	CHECK_STR(raised(SB_ALERT_DEVICE_SILENT)->alert.device_id, "s-1");
	finish();
}

static void test_without_evidence_tracking_deadlines_fire_as_before(void)
{
	start(); /* engine_set_heard never called: the engine's users that do not probe */
	fitted_closed("h1", "s-1");
	tick_after(set.silence_after_ms);
	CHECK_STR(raised(SB_ALERT_DEVICE_SILENT)->alert.device_id, "s-1");
	finish();
}

int main(void)
{
	RUN(test_deadline_waits_for_word_from_the_broker);
	RUN(test_reports_held_up_on_a_dead_link_raise_nothing);
	RUN(test_without_evidence_tracking_deadlines_fire_as_before);
	DONE();
}
