"""What survives a restart: the roster, open alerts, pending escalations, silence deadlines."""
import time

from conftest import ROOT, check_alert, iso_in, is_alert, is_rejected, is_state

S = ROOT + "/alert/street/st-1"


def test_roster_and_open_alerts_survive_a_clean_restart(daemon, mqtt):
    d = daemon()
    mqtt.admit("hh-1", address="7-7-707", category="confirmed_case")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    a = mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert").json
    d.stop()
    mark = mqtt.mark()
    d.start()

    r = mqtt.retained(ROOT + "/state/household/hh-1")
    assert r is not None, "household state gone after restart"
    assert r.json["device_id"] == "seal-1" and r.json["address"] == "7-7-707", r
    assert r.json["open_alerts"] == [a["alert_id"]], r

    assert mqtt.cmd("permit", {"household_id": "hh-1", "until": iso_in(0.5)})["ok"] is True
    mqtt.ok("ack", {"alert_id": a["alert_id"], "by": "officer-1", "note": "after restart"})
    acked = mqtt.wait_for(is_alert(alert_id=a["alert_id"], state="acked"), since=mark, what="acked")
    check_alert(acked, since=a["since"], address="7-7-707")
    mqtt.ok("resolve", {"alert_id": a["alert_id"], "by": "officer-1"})

    time.sleep(0.6)  # past the permit
    mqtt.report("seal-1", {"door": "closed", "seq": 3})
    mqtt.report("seal-1", {"door": "open", "seq": 4})
    b = mqtt.wait_for(is_alert(type="door_open", state="raised"), since=mark, what="new door alert").json
    assert b["alert_id"] != a["alert_id"], "alert id reused after restart"
    assert b["event_id"] != a["event_id"]
    assert not mqtt.messages(is_rejected(reason="unknown_device"), since=mark), "seal forgotten on restart"
    # the seal is still fitted there
    r = mqtt.cmd("install", {"device_id": "seal-1", "household_id": "hh-2"})
    assert r["ok"] is False, r


def test_roster_survives_sigkill(daemon, mqtt):
    d = daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    d.kill()
    mark = mqtt.mark()
    d.start()
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-1"), since=mark,
                  what="door alert after SIGKILL and restart")


def test_escalation_pending_across_sigkill_happens_once(daemon, mqtt):
    d = daemon(street_after=2)
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    raised = mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert")
    aid = raised.json["alert_id"]
    time.sleep(0.5)
    d.kill()
    d.start()
    st = mqtt.wait_for(is_alert(alert_id=aid, state="escalated", topic=S), 10, what="street escalation")
    late = st.t - raised.t
    assert 1.8 <= late <= 3 * 2 + 2, "escalation %.2f s after raise, due at 2 s" % late
    time.sleep(2.5)
    raised_ids = {m.json["event_id"] for m in mqtt.messages(is_alert(alert_id=aid, state="raised"))}
    esc = mqtt.messages(is_alert(alert_id=aid, state="escalated", topic=S))
    assert len({m.json["event_id"] for m in esc}) == 1, "escalated more than once: %r" % esc
    assert len(raised_ids) == 1, "raised more than once: %r" % raised_ids
    assert not mqtt.messages(lambda m: is_alert(state="raised")(m) and m.json["alert_id"] != aid), \
        "a second alert after restart"


def test_escalation_due_while_down_happens_after_restart(daemon, mqtt):
    d = daemon(street_after=1)
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    aid = mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert").json["alert_id"]
    d.stop()
    time.sleep(1.5)
    d.start()
    back = time.monotonic()
    st = mqtt.wait_for(is_alert(alert_id=aid, state="escalated", topic=S), 3 * 1 + 2, what="overdue street escalation")
    # overdue at the restart: made at once, not street_after after it
    assert st.t - back <= 3 * 1 + 2, "overdue escalation %.2f s after the restart" % (st.t - back)
    time.sleep(1.0)
    esc = mqtt.messages(is_alert(alert_id=aid, state="escalated", topic=S))
    assert len({m.json["event_id"] for m in esc}) == 1, esc


def test_silence_is_counted_only_while_connected(daemon, mqtt):
    d = daemon(silence_after=1.5)
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"seq": 1})
    mqtt.wait_for(is_state("hh-1", online=True), what="seal online")
    d.stop()
    time.sleep(2.0)  # longer than silence_after, but the daemon could not hear
    mark = mqtt.mark()
    d.start()
    back = time.monotonic()
    m = mqtt.wait_for(is_alert(type="device_silent", state="raised"), 8, since=mark, what="device_silent")
    assert 1.2 <= m.t - back <= 3 * 1.5 + 2, "silent %.2f s after the restart, silence_after is 1.5 s" % (m.t - back)
