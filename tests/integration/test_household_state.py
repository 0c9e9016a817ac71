"""R/state/household/<id>: retained, on every change, cleared on release."""
import re

from conftest import ROOT, iso_in, is_alert, is_cleared_state, is_state

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
FIELDS = ("household_id", "community_id", "street_id", "district_id", "address", "category", "start", "end",
          "device_id", "door", "online", "last_seen", "battery", "tamper", "open_alerts", "at")
TOPIC = ROOT + "/state/household/hh-1"


def test_state_through_a_households_life(daemon, mqtt):
    daemon()
    end = iso_in(3600)
    mqtt.ok("admit", {"household_id": "hh-1", "community_id": "c-1", "street_id": "st-1", "district_id": "d-1",
                      "end": end, "address": "3-2-1502", "category": "close_contact", "persons": 2})
    s = mqtt.wait_for(is_state("hh-1"), what="state on admit").json
    missing = [f for f in FIELDS if f not in s]
    assert not missing, "state lacks %s: %r" % (missing, s)
    assert (s["household_id"], s["community_id"], s["street_id"], s["district_id"]) == \
        ("hh-1", "c-1", "st-1", "d-1"), s
    assert s["address"] == "3-2-1502" and s["category"] == "close_contact", s
    assert s["end"] == end, s
    for f in ("start", "end", "at"):
        assert TIME.match(s[f]), "%s not RFC 3339 ms UTC: %r" % (f, s[f])
    assert s["device_id"] is None and s["door"] == "unknown" and s["online"] is False, s
    assert s["last_seen"] is None and s["battery"] is None and s["tamper"] is None, s
    assert s["open_alerts"] == [], s

    r = mqtt.retained(TOPIC)
    assert r is not None and r.json.get("household_id") == "hh-1", "state not retained: %r" % r

    mark = mqtt.mark()
    mqtt.install("seal-1", "hh-1")
    s = mqtt.wait_for(is_state("hh-1", device_id="seal-1"), since=mark, what="state on install").json
    assert s["online"] is False and s["door"] == "unknown", s

    mark = mqtt.mark()
    mqtt.report("seal-1", {"door": "closed", "battery": 90, "tamper": False, "seq": 1})
    s = mqtt.wait_for(is_state("hh-1", online=True), since=mark, what="state on first report").json
    assert s["door"] == "closed" and s["battery"] == 90 and s["tamper"] is False, s
    assert TIME.match(s["last_seen"] or ""), s

    mark = mqtt.mark()
    mqtt.report("seal-1", {"battery": 85, "seq": 2})
    mqtt.wait_for(is_state("hh-1", battery=85), since=mark, what="state on battery change")

    mark = mqtt.mark()
    mqtt.report("seal-1", {"door": "open", "seq": 3})
    a = mqtt.wait_for(is_alert(type="door_open", state="raised"), since=mark, what="door alert").json
    s = mqtt.wait_for(is_state("hh-1", door="open"), since=mark, what="state door open").json
    assert s["open_alerts"] == [a["alert_id"]], s

    mark = mqtt.mark()
    mqtt.report("seal-1", {"tamper": True, "seq": 4})
    t = mqtt.wait_for(is_alert(type="tamper", state="raised"), since=mark, what="tamper alert").json
    s = mqtt.wait_for(is_state("hh-1", tamper=True), since=mark, what="state tamper").json
    assert sorted(s["open_alerts"]) == sorted([a["alert_id"], t["alert_id"]]), s

    mark = mqtt.mark()
    mqtt.ok("resolve", {"alert_id": a["alert_id"], "by": "officer-1"})
    s = mqtt.wait_for(lambda m: is_state("hh-1")(m) and m.json["open_alerts"] == [t["alert_id"]], since=mark,
                      what="state after resolve").json

    latest = mqtt.retained(TOPIC)
    assert latest is not None and latest.json["open_alerts"] == [t["alert_id"]], latest

    mark = mqtt.mark()
    mqtt.ok("release", {"household_id": "hh-1"})
    mqtt.wait_for(is_cleared_state("hh-1"), since=mark, what="empty retained state on release")
    assert mqtt.retained(TOPIC, timeout=1) is None, "state still retained after release"


def test_uninstall_updates_state(daemon, mqtt):
    daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mark = mqtt.mark()
    mqtt.ok("uninstall", {"device_id": "seal-1"})
    mqtt.wait_for(is_state("hh-1", device_id=None), since=mark, what="state without device")
