"""Quarantines end at `end`: the household is released by system."""
from conftest import ROOT, iso_in, is_alert, is_cleared_state, is_rejected, is_state, now_ms, parse_iso


def test_quarantine_ends_on_its_own(daemon, mqtt):
    daemon()
    end_ms = now_ms() + 1500
    mqtt.admit("hh-1", end_in=1.5, address="2-2-202")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    aid = mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert").json["alert_id"]
    mqtt.wait_for(is_cleared_state("hh-1"), 6, what="state cleared at end")
    r = mqtt.wait_for(is_alert(alert_id=aid, state="resolved"), 3, what="alert resolved by system")
    assert r.json["by"] == "system", r
    late = parse_iso(r.json["at"]) - end_ms
    assert -50 <= late <= 3 * 1500 + 2000, "released %d ms after its end" % late
    assert mqtt.retained(ROOT + "/state/household/hh-1", timeout=1) is None, "state still retained"
    # the household is no longer active
    r = mqtt.cmd("permit", {"household_id": "hh-1", "until": iso_in(60)})
    assert r["ok"] is False and r["error"] == "not_active", r
    mark = mqtt.mark()
    mqtt.report("seal-1", {"door": "closed", "seq": 2})
    mqtt.report("seal-1", {"door": "open", "seq": 3})
    mqtt.expect_none(is_alert(state="raised"), during=0.5, since=mark, what="alert after the end")
    assert not mqtt.messages(is_rejected(reason="unknown_device"), since=mark), "the seal is still fitted"


def test_extending_end_keeps_the_household(daemon, mqtt):
    daemon()
    mqtt.admit("hh-1", end_in=1.0)
    mqtt.admit("hh-1", end_in=3600)
    mqtt.expect_none(is_cleared_state("hh-1"), during=1.8, what="release despite the extension")
    mqtt.wait_for(is_state("hh-1"), what="state")
