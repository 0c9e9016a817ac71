"""device_silent, tamper, battery_low and unmonitored alerts."""
import time

from conftest import ROOT, check_alert, is_alert, is_state

C = ROOT + "/alert/community/c-1"


def fitted(mqtt, hh="hh-1", dev="seal-1", **install):
    mqtt.admit(hh)
    mqtt.install(dev, hh, **install)


def test_silent_seal_raises_and_clears(daemon, mqtt):
    daemon(silence_after=0.6)
    fitted(mqtt)
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    heard = mqtt.wait_for(is_state("hh-1", online=True), what="seal online")
    after_heard = mqtt.mark()
    m = mqtt.wait_for(is_alert(type="device_silent", state="raised"), 5, what="device_silent")
    check_alert(m, level="community", household_id="hh-1", device_id="seal-1", count=1)
    assert 0.5 <= m.t - heard.t <= 3 * 0.6 + 2, "silent after %.3f s (silence_after 0.6 s)" % (m.t - heard.t)
    mqtt.wait_for(is_state("hh-1", online=False), since=after_heard, what="state offline while silent")
    aid = m.json["alert_id"]
    mark = mqtt.mark()
    mqtt.report("seal-1", {"seq": 2})
    check_alert(mqtt.wait_for(is_alert(alert_id=aid, state="cleared"), since=mark, what="device_silent cleared"),
                level="community")
    mqtt.wait_for(is_state("hh-1", online=True), since=mark, what="state online again")


def test_seal_that_never_reports_goes_silent(daemon, mqtt):
    daemon(silence_after=0.6)
    fitted(mqtt)
    m = mqtt.wait_for(is_alert(type="device_silent", state="raised"), 5, what="device_silent")
    check_alert(m, device_id="seal-1", household_id="hh-1")


def test_heartbeats_keep_a_seal_from_going_silent(daemon, mqtt):
    daemon(silence_after=0.6)
    fitted(mqtt)
    mark = mqtt.mark()
    for seq in range(8):
        mqtt.report("seal-1", {"seq": seq})
        time.sleep(0.2)
    assert not mqtt.messages(is_alert(type="device_silent"), since=mark), "silent despite heartbeats"


def test_per_device_silence_after_overrides(daemon, mqtt):
    daemon(silence_after=0.6)
    fitted(mqtt, "hh-1", "seal-1", silence_after=30)
    fitted(mqtt, "hh-2", "seal-2")
    mqtt.report("seal-1", {"seq": 1})
    mqtt.report("seal-2", {"seq": 1})
    mqtt.wait_for(is_alert(type="device_silent", device_id="seal-2", state="raised"), 5,
                  what="device_silent for seal-2 (default)")
    mqtt.expect_none(is_alert(type="device_silent", device_id="seal-1"), during=1.0,
                     what="device_silent for seal-1 (30 s)")


def test_short_per_device_silence_after(daemon, mqtt):
    daemon(silence_after=600)
    fitted(mqtt, silence_after=0.5)
    mqtt.report("seal-1", {"seq": 1})
    mqtt.wait_for(is_alert(type="device_silent", device_id="seal-1", state="raised"), 5, what="device_silent")


def test_tamper_stays_open_until_resolved(daemon, mqtt):
    daemon()
    fitted(mqtt)
    mqtt.report("seal-1", {"tamper": True, "seq": 1})
    m = mqtt.wait_for(is_alert(type="tamper", state="raised"), what="tamper")
    check_alert(m, level="community", device_id="seal-1")
    aid = m.json["alert_id"]
    mqtt.report("seal-1", {"tamper": False, "seq": 2})
    mqtt.wait_for(is_state("hh-1", tamper=False), what="tamper false in state")
    mqtt.report("seal-1", {"tamper": True, "seq": 3})
    mqtt.expect_none(lambda m: is_alert(type="tamper")(m) and m.json["state"] in ("cleared", "resolved")
                     or is_alert(type="tamper", state="raised")(m) and m.json["alert_id"] != aid,
                     during=0.5, what="tamper cleared by itself or raised twice")
    mqtt.ok("resolve", {"alert_id": aid, "by": "officer-1", "note": "reseated"})
    r = mqtt.wait_for(is_alert(alert_id=aid, state="resolved"), what="tamper resolved")
    assert r.json["count"] == 2, r


def test_battery_low_raises_and_clears(daemon, mqtt):
    daemon(battery_low=20)
    fitted(mqtt)
    mqtt.report("seal-1", {"battery": 21, "seq": 1})
    mqtt.wait_for(is_state("hh-1", battery=21), what="battery 21")
    mqtt.expect_none(is_alert(type="battery_low"), during=0.2, what="battery_low above the threshold")
    mqtt.report("seal-1", {"battery": 15, "seq": 2})
    m = mqtt.wait_for(is_alert(type="battery_low", state="raised"), what="battery_low")
    check_alert(m, level="community", device_id="seal-1", household_id="hh-1")
    aid = m.json["alert_id"]
    mqtt.report("seal-1", {"battery": 80, "seq": 3})
    mqtt.wait_for(is_alert(alert_id=aid, state="cleared"), what="battery_low cleared")
    mqtt.wait_for(is_state("hh-1", battery=80), what="battery 80 in state")


def test_battery_at_threshold_is_low(daemon, mqtt):
    daemon(battery_low=20)
    fitted(mqtt)
    mqtt.report("seal-1", {"battery": 20, "seq": 1})
    mqtt.wait_for(is_alert(type="battery_low", state="raised"), what="battery_low at 20")


def test_unmonitored_household_raises_and_clears_on_install(daemon, mqtt):
    daemon(unmonitored_after=0.5)
    mqtt.admit("hh-1", address="5-5-505")
    admitted = mqtt.wait_for(is_state("hh-1"), what="state")
    m = mqtt.wait_for(is_alert(type="unmonitored", state="raised"), 5, what="unmonitored")
    check_alert(m, level="community", household_id="hh-1", device_id=None, address="5-5-505")
    assert 0.4 <= m.t - admitted.t <= 3 * 0.5 + 2, "unmonitored after %.3f s (0.5 s)" % (m.t - admitted.t)
    aid = m.json["alert_id"]
    mqtt.install("seal-1", "hh-1")
    mqtt.wait_for(is_alert(alert_id=aid, state="cleared"), what="unmonitored cleared")


def test_fitted_household_is_not_unmonitored(daemon, mqtt):
    daemon(unmonitored_after=0.5)
    fitted(mqtt)
    mqtt.expect_none(is_alert(type="unmonitored"), during=1.0, what="unmonitored for a fitted household")
