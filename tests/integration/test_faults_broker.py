"""Broker faults: killed, its connection cut, frozen. What the daemon had to
send must arrive once the broker is back (possibly twice, never missing)."""
import json
import time

import pytest

from conftest import ROOT, iso_in, is_alert, is_cleared_state, is_state, parse_iso
from faultkit import (LOST_RE, Publisher, broker_back, cut, db_alerts, expected_event_ids, fit, is_status, log_mark,
                      raised_ids_by_alert, seen_event_ids, ss_can_cut, wait_log, wait_until)

S = ROOT + "/alert/street/st-1"


def test_alerts_pending_at_broker_sigkill_all_arrive_after_restart(daemon, mqtt, broker):
    d = daemon()
    pairs = fit(mqtt, 20)
    for _, dev in pairs:
        mqtt.report(dev, {"door": "closed", "seq": 1})
    for hh, _ in pairs:
        mqtt.wait_for(is_state(hh, door="closed"), what="state of %s door closed" % hh)
    mark = mqtt.mark()
    lmark = log_mark(d)
    for _, dev in pairs:
        mqtt.report(dev, {"door": "open", "seq": 2})
    broker.kill()  # the daemon is still raising and publishing these
    before = len(mqtt.messages(is_alert(state="raised"), mark))
    wait_log(d, LOST_RE, lmark, 10, "that the connection was lost")
    time.sleep(1.0)  # a reconnect attempt or two fails
    mark2 = mqtt.mark()
    broker_back(broker, mqtt, d)
    mqtt.wait_for(is_status("online"), 40, mark2, what="status online after the broker restart")

    # What the daemon committed is what it must deliver: every message of
    # every alert in its store.
    alerts = [a for a in db_alerts(d.settings["path"]) if a["type"] == "door_open"]
    assert alerts, "no door alert was committed at all; log shows the reports were not received?"
    want = expected_event_ids(alerts, d.settings["path"])
    wait_until(lambda: want <= seen_event_ids(mqtt), 30,
               "delivery of every committed alert message; missing %s"
               % sorted(want - seen_event_ids(mqtt))[:10])
    print("door alerts: %d committed, %d raised messages seen before the broker was killed"
          % (len(alerts), before))
    assert len({a["household_id"] for a in alerts}) == len(alerts), "two door alerts for one household"
    for aid, ids in raised_ids_by_alert(mqtt).items():
        assert len(ids) == 1, "alert %s raised under several event ids: %s" % (aid, ids)
    # and it keeps serving
    mqtt.ok("admit", {"household_id": "hh-after", "community_id": "c-1", "street_id": "st-1",
                      "district_id": "d-1", "end": iso_in(3600)})


def test_escalation_due_while_broker_dead_arrives_once(daemon, mqtt, broker):
    d = daemon(street_after=1.5)
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    raised = mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert").json
    aid = raised["alert_id"]
    time.sleep(0.5)
    assert not mqtt.messages(is_alert(alert_id=aid, state="escalated")), "escalated early"
    broker.kill()  # 1 s before the escalation is due
    time.sleep(2.0)  # now it is overdue
    mark = mqtt.mark()
    broker_back(broker, mqtt, d)
    esc = mqtt.wait_for(is_alert(alert_id=aid, state="escalated", topic=S), 40, mark,
                        what="street escalation after the broker came back").json
    assert esc["level"] == "street" and esc["since"] == raised["since"], esc
    # made when due even with the broker dead: not early, and not only when the broker came back
    assert 1400 <= parse_iso(esc["at"]) - parse_iso(raised["at"]) <= 3 * 1500 + 2000, \
        "escalated %d ms after raised (street_after 1.5 s): %r" % (parse_iso(esc["at"]) - parse_iso(raised["at"]), esc)
    time.sleep(1.5)
    esc_ids = {m.json["event_id"] for m in mqtt.messages(is_alert(alert_id=aid, state="escalated", topic=S))}
    assert esc_ids == {esc["event_id"]}, "one escalation, several event ids: %s" % esc_ids
    raised_ids = raised_ids_by_alert(mqtt)
    assert raised_ids == {aid: {raised["event_id"]}}, "raised again or another alert: %s" % raised_ids
    assert not mqtt.messages(is_alert(alert_id=aid, level="district")), "escalated to district"


def test_connection_cut_with_ss_reconnects_and_keeps_serving(daemon, mqtt, broker):
    why = ss_can_cut()
    if why:
        pytest.fail(why, pytrace=False)
    d = daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.wait_for(is_state("hh-1", door="closed"), what="state door closed")
    mark = mqtt.mark()
    why = cut(d, broker.port)
    if why:
        pytest.fail(why, pytrace=False)
    mqtt.wait_for(is_status("online"), 40, mark, what="status online after the cut")
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-1"), 15, mark,
                  what="door alert after the cut")
    # a second cut while idle: still back by itself
    mark = mqtt.mark()
    why = cut(d, broker.port)
    assert why is None, why
    mqtt.wait_for(is_status("online"), 40, mark, what="status online after the second cut")
    r = mqtt.cmd("permit", {"household_id": "hh-1", "until": iso_in(60)})
    assert r["ok"] is True, r
    # a cut while the daemon is publishing: a lost link is not a broker refusal
    mark = mqtt.mark()
    mqtt.ok("resolve", {"alert_id": mqtt.messages(is_alert(state="raised"))[0].json["alert_id"], "by": "o-1"})
    pub = Publisher(broker)
    try:
        for i in range(30):
            pub.publish(ROOT + "/cmd/admit", json.dumps({
                "household_id": "hh-b%d" % i, "community_id": "c-1", "street_id": "st-1", "district_id": "d-1",
                "end": iso_in(3600)}))
        mqtt.wait_for(is_state("hh-b0"), 10, mark, what="the first state of the burst")
        why = cut(d, broker.port)  # states of the burst are in flight
        assert why is None, why
    finally:
        pub.close()
    mqtt.wait_for(is_status("online"), 40, mark, what="status online after the third cut")
    for i in range(30):
        mqtt.wait_for(is_state("hh-b%d" % i), 20, mark, what="state of hh-b%d" % i)
    wrong = [m for m in mqtt.messages(is_status("online"), mark) if "refused" in (m.get("error") or "")]
    assert not wrong, "a cut connection reported as a broker refusal: %r" % wrong


def test_broker_hang_longer_than_keepalive_loses_nothing(daemon, mqtt, broker):
    """SIGSTOP the broker past keepalive (5 s): the daemon notices, reconnects
    once it answers, and what fell due during the hang is published."""
    d = daemon(keepalive=5, street_after=2)
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.admit("hh-2", end_in=4)
    mqtt.install("seal-2", "hh-2")
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    mqtt.report("seal-2", {"door": "open", "seq": 1})
    a1 = mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-1"), what="alert hh-1").json
    a2 = mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-2"), what="alert hh-2").json
    mark = mqtt.mark()
    lmark = log_mark(d)
    broker.stop()
    try:
        # hh-1 escalates at 2 s and hh-2's quarantine ends at 4 s, both inside the hang
        wait_log(d, LOST_RE + r"|keepalive|timed out|timeout", lmark, 30,
                 "that the frozen broker was noticed")
        time.sleep(1.0)
    finally:
        broker.cont()
    mqtt.wait_for(is_status("online"), 60, mark, what="status online after the hang")
    esc = mqtt.wait_for(is_alert(alert_id=a1["alert_id"], state="escalated", topic=S), 20, mark,
                        what="escalation due during the hang").json
    res = mqtt.wait_for(is_alert(alert_id=a2["alert_id"], state="resolved"), 20, mark,
                        what="hh-2 alert resolved by the end of its quarantine during the hang").json
    assert res.get("by") == "system", res
    mqtt.wait_for(is_cleared_state("hh-2"), 20, mark, what="hh-2 state cleared at its end")
    assert 1900 <= parse_iso(esc["at"]) - parse_iso(a1["at"]) <= 3 * 2000 + 2000, \
        "escalated %d ms after raised (street_after 2 s): %r" % (parse_iso(esc["at"]) - parse_iso(a1["at"]), esc)
    time.sleep(1.0)
    for aid in (a1["alert_id"], a2["alert_id"]):
        by_state = {}
        for m in mqtt.messages(is_alert(alert_id=aid)):
            by_state.setdefault((m.json["state"], m.json["level"]), set()).add(m.json["event_id"])
        assert all(len(v) == 1 for v in by_state.values()), "a message made twice: %s" % by_state
    # and it keeps serving
    mqtt.ok("ack", {"alert_id": a1["alert_id"], "by": "officer-1"})
