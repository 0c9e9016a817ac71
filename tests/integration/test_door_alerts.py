"""door_open alerts: raised, folded, acked, resolved; permits; released households."""
import time

from conftest import ROOT, check_alert, iso_in, is_alert, is_state, now_ms, parse_iso

COMMUNITY = ROOT + "/alert/community/c-1"


def fitted(mqtt, hh="hh-1", dev="seal-1"):
    mqtt.admit(hh, address="3-2-1502")
    mqtt.install(dev, hh)


def test_door_alert_lifecycle(daemon, mqtt):
    daemon()
    fitted(mqtt)
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.wait_for(is_state("hh-1", door="closed"), what="door closed")
    t0 = now_ms()
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    m = mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert")
    a = check_alert(m, level="community", household_id="hh-1", address="3-2-1502", device_id="seal-1",
                    community_id="c-1", street_id="st-1", district_id="d-1", count=1)
    assert m.topic == COMMUNITY and not m.retain, m
    assert abs(parse_iso(a["since"]) - t0) < 5000, a
    aid = a["alert_id"]

    # further openings fold into the open alert
    mark = mqtt.mark()
    for seq in (3, 5):
        mqtt.report("seal-1", {"door": "closed", "seq": seq})
        mqtt.report("seal-1", {"door": "open", "seq": seq + 1})
    mqtt.wait_for(is_state("hh-1", door="open"), since=mark, what="door open again")
    mqtt.expect_none(is_alert(type="door_open", state="raised"), during=0.5, since=mark,
                     what="second alert for folded openings")
    s = mqtt.messages(is_state("hh-1"), since=mark)[-1].json
    assert s["open_alerts"] == [aid], s

    mqtt.ok("ack", {"alert_id": aid, "by": "officer-7", "note": "calling"})
    m = mqtt.wait_for(is_alert(alert_id=aid, state="acked"), what="acked message")
    acked = check_alert(m, level="community", by="officer-7", note="calling", count=3)
    assert acked["event_id"] != a["event_id"], "event ids must differ per message"
    assert acked["since"] == a["since"], acked

    mqtt.ok("resolve", {"alert_id": aid, "by": "officer-8", "note": "back inside"})
    m = mqtt.wait_for(is_alert(alert_id=aid, state="resolved"), what="resolved message")
    check_alert(m, level="community", by="officer-8", note="back inside")
    mqtt.wait_for(lambda m: is_state("hh-1")(m) and m.json["open_alerts"] == [], what="no open alerts")

    # after resolve a new opening is a new alert
    mark = mqtt.mark()
    mqtt.report("seal-1", {"door": "closed", "seq": 10})
    mqtt.report("seal-1", {"door": "open", "seq": 11})
    m = mqtt.wait_for(is_alert(type="door_open", state="raised"), since=mark, what="new door alert")
    assert check_alert(m, count=1)["alert_id"] != aid
    ids = [x.json["event_id"] for x in mqtt.messages(is_alert())]
    assert len(ids) == len(set(ids)), "event ids repeat across messages: %r" % ids


def test_first_door_state_open_alerts(daemon, mqtt):
    daemon()
    fitted(mqtt)
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    check_alert(mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert"), count=1)


def test_door_closed_raises_nothing(daemon, mqtt):
    daemon()
    fitted(mqtt)
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.report("seal-1", {"door": "closed", "seq": 2})
    mqtt.report("seal-1", {"battery": 90, "seq": 3})
    mqtt.expect_none(is_alert(), during=0.5, what="alert")


def test_opening_inside_a_permit_raises_nothing_until_it_lapses(daemon, mqtt):
    daemon()
    fitted(mqtt)
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    until = time.time() + 2.0
    mqtt.ok("permit", {"household_id": "hh-1", "until": iso_in(2.0), "reason": "hospital visit"})
    mark = mqtt.mark()
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    mqtt.wait_for(is_state("hh-1", door="open"), since=mark, what="door open recorded")
    mqtt.report("seal-1", {"door": "closed", "seq": 3})
    mqtt.expect_none(is_alert(), during=0.3, what="alert inside a permit")
    time.sleep(max(0, until - time.time()) + 0.3)
    mqtt.report("seal-1", {"door": "open", "seq": 4})
    check_alert(mqtt.wait_for(is_alert(type="door_open", state="raised"), what="alert after the permit"),
                household_id="hh-1")


def test_permit_in_the_future_does_not_cover_now(daemon, mqtt):
    daemon()
    fitted(mqtt)
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.ok("permit", {"household_id": "hh-1", "from": iso_in(600), "until": iso_in(900)})
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert")


def test_released_household_raises_nothing(daemon, mqtt):
    daemon()
    fitted(mqtt)
    mqtt.ok("release", {"household_id": "hh-1", "reason": "negative test"})
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.report("seal-1", {"door": "open", "seq": 2, "tamper": True, "battery": 3})
    mqtt.expect_none(is_alert(), during=0.8, what="alert for a released household")
    mqtt.expect_none(lambda m: m.topic == ROOT + "/bridge/rejected" and m.json.get("reason") == "unknown_device",
                     during=0, what="the seal stays fitted until uninstall")


def test_two_households_alert_independently(daemon, mqtt):
    daemon()
    fitted(mqtt, "hh-1", "seal-1")
    mqtt.admit("hh-2", community="c-2", street="st-2", district="d-2", address="9-9-909")
    mqtt.install("seal-2", "hh-2")
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    mqtt.report("seal-2", {"door": "open", "seq": 1})
    a1 = mqtt.wait_for(is_alert(household_id="hh-1", state="raised"), what="alert hh-1")
    a2 = mqtt.wait_for(is_alert(household_id="hh-2", state="raised"), what="alert hh-2")
    assert a2.topic == ROOT + "/alert/community/c-2", a2
    check_alert(a2, address="9-9-909", device_id="seal-2", street_id="st-2", district_id="d-2")
    assert a1.json["alert_id"] != a2.json["alert_id"]
