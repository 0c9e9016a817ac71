"""Escalation community -> street -> district while an alert is not acked."""
from conftest import ROOT, check_alert, is_alert, parse_iso

C, S, D = ROOT + "/alert/community/c-1", ROOT + "/alert/street/st-1", ROOT + "/alert/district/d-1"


def door_alert(mqtt):
    mqtt.admit("hh-1", address="1-1-101")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    return mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert")


def test_unacked_alert_escalates_street_then_district(daemon, mqtt):
    daemon(street_after=0.5, district_after=0.5)
    raised = door_alert(mqtt)
    aid = raised.json["alert_id"]
    st = mqtt.wait_for(is_alert(alert_id=aid, state="escalated", topic=S), 5, what="street escalation")
    check_alert(st, level="street", household_id="hh-1", address="1-1-101", since=raised.json["since"])
    di = mqtt.wait_for(is_alert(alert_id=aid, state="escalated", topic=D), 5, what="district escalation")
    check_alert(di, level="district", since=raised.json["since"])
    # not before it is due (monotonic arrival times, with a little slack), and
    # not later than a consumer would tolerate (3x the setting + 2 s)
    assert 0.4 <= st.t - raised.t <= 3 * 0.5 + 2, "street escalation after %.3f s" % (st.t - raised.t)
    assert 0.4 <= di.t - st.t <= 3 * 0.5 + 2, "district escalation %.3f s after street" % (di.t - st.t)
    assert 400 <= parse_iso(st.json["at"]) - parse_iso(raised.json["at"]) <= 3500, (raised, st)
    assert 400 <= parse_iso(di.json["at"]) - parse_iso(st.json["at"]) <= 3500, (st, di)

    mark = mqtt.mark()
    mqtt.ok("ack", {"alert_id": aid, "by": "officer-1", "note": "going"})
    for topic in (C, S, D):
        check_alert(mqtt.wait_for(is_alert(alert_id=aid, state="acked", topic=topic), since=mark,
                                  what="acked on %s" % topic), by="officer-1", note="going")
    mark = mqtt.mark()
    mqtt.ok("resolve", {"alert_id": aid, "by": "officer-2", "note": "done"})
    for topic in (C, S, D):
        mqtt.wait_for(is_alert(alert_id=aid, state="resolved", topic=topic), since=mark,
                      what="resolved on %s" % topic)
    # nothing escalates any further, nor twice
    mqtt.expect_none(lambda m: m.topic.startswith(ROOT + "/alert/") and m.json.get("state") == "escalated"
                     and m.t > di.t, during=0.8, what="escalation after ack")
    assert len(mqtt.messages(is_alert(alert_id=aid, state="escalated", topic=S))) == 1
    assert len(mqtt.messages(is_alert(alert_id=aid, state="escalated", topic=D))) == 1


def test_acked_early_never_escalates(daemon, mqtt):
    daemon(street_after=0.5, district_after=0.5)
    aid = door_alert(mqtt).json["alert_id"]
    mqtt.ok("ack", {"alert_id": aid, "by": "officer-1"})
    mqtt.wait_for(is_alert(alert_id=aid, state="acked", topic=C), what="acked")
    mqtt.expect_none(is_alert(state="escalated"), during=1.5, what="escalation of an acked alert")
    assert not mqtt.messages(lambda m: m.topic in (S, D)), "acked alert reached street or district"


def test_resolved_goes_to_every_level_reached_and_no_further(daemon, mqtt):
    daemon(street_after=0.5, district_after=2.0)
    aid = door_alert(mqtt).json["alert_id"]
    st = mqtt.wait_for(is_alert(alert_id=aid, state="escalated", topic=S), 5, what="street escalation")
    assert parse_iso(st.json["at"]) - parse_iso(st.json["since"]) <= 3 * 500 + 2000, st
    mqtt.ok("resolve", {"alert_id": aid, "by": "officer-1", "note": "false alarm"})
    mqtt.wait_for(is_alert(alert_id=aid, state="resolved", topic=C), what="resolved at community")
    mqtt.wait_for(is_alert(alert_id=aid, state="resolved", topic=S), what="resolved at street")
    mqtt.expect_none(lambda m: m.topic == D, during=2.5, what="message at district level")


def test_battery_low_never_escalates(daemon, mqtt):
    daemon(street_after=0.5, district_after=0.5)
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"battery": 10, "seq": 1})
    mqtt.wait_for(is_alert(type="battery_low", state="raised", topic=C), what="battery_low alert")
    mqtt.expect_none(is_alert(type="battery_low", state="escalated"), during=1.5, what="battery_low escalation")
