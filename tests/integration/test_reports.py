"""Device reports on R/dev/<id>/report."""
import json

from conftest import ROOT, is_alert, is_rejected, is_state


def fitted(mqtt, hh="hh-1", dev="seal-1"):
    mqtt.admit(hh, address="3-2-1502")
    mqtt.install(dev, hh)


def test_report_from_unfitted_seal_is_rejected(daemon, mqtt):
    daemon()
    mark = mqtt.mark()
    mqtt.report("seal-stranger", {"door": "open", "seq": 1})
    rej = mqtt.wait_for(is_rejected(reason="unknown_device"), since=mark, what="rejected unknown_device")
    assert rej.json["topic"] == ROOT + "/dev/seal-stranger/report", rej
    assert isinstance(rej.json.get("at"), str), rej


def test_report_after_uninstall_is_kept_and_raises_nothing(daemon, mqtt):
    """Seal custody: a collected seal is still known; its reports are kept, never rejected."""
    daemon()
    fitted(mqtt)
    mqtt.ok("uninstall", {"device_id": "seal-1"})
    mark = mqtt.mark()
    mqtt.report("seal-1", {"door": "open", "battery": 55, "seq": 1})
    st = mqtt.wait_for(lambda m: m.topic == ROOT + "/state/seal/seal-1" and m.json
                       and m.json.get("battery") == 55, since=mark, what="seal state with the battery")
    assert st.json["state"] == "collected" and st.json["last_seen"], st.json
    mqtt.expect_none(is_alert(), during=0.3, what="alert")
    assert not mqtt.messages(is_rejected(topic=ROOT + "/dev/seal-1/report"), since=mark)


def test_oversized_report_is_rejected_too_large(daemon, mqtt):
    daemon()
    fitted(mqtt)
    mark = mqtt.mark()
    body = json.dumps({"door": "closed", "seq": 1, "pad": "x" * 1100})
    assert len(body) > 1024
    mqtt.report("seal-1", body)
    mqtt.wait_for(is_rejected(topic=ROOT + "/dev/seal-1/report", reason="too_large"), since=mark,
                  what="rejected too_large")
    # 1024 bytes exactly is still fine
    body = json.dumps({"door": "closed", "seq": 2, "pad": ""})
    body = body[:-2] + "x" * (1024 - len(body)) + '"}'
    assert len(body) == 1024
    mqtt.report("seal-1", body)
    mqtt.wait_for(is_state("hh-1", door="closed"), since=mark, what="state door closed")


def test_malformed_reports_are_rejected_bad_request(daemon, mqtt):
    daemon()
    fitted(mqtt)
    bad = [b"{", b"[]", b"42", b'{"door": "ajar"}', b'{"battery": 101}', b'{"battery": -1}',
           b'{"battery": "full"}', b'{"tamper": "yes"}', b'{"seq": -1}', b'{"seq": 1.5}',
           b'{"door": "open", "door": "closed"}']
    for payload in bad:
        mark = mqtt.mark()
        mqtt.report("seal-1", payload)
        mqtt.wait_for(is_rejected(topic=ROOT + "/dev/seal-1/report", reason="bad_request"), since=mark,
                      what="rejected bad_request for %r" % payload)
    mqtt.expect_none(is_alert(), during=0.2, what="alert from a malformed report")
    # and the seal is still heard afterwards
    mqtt.report("seal-1", {"door": "closed", "seq": 1, "unknown_field": {"ignored": True}})
    mqtt.wait_for(is_state("hh-1", door="closed", online=True), what="state after a good report")


def test_duplicate_seq_changes_nothing(daemon, mqtt):
    daemon()
    fitted(mqtt)
    mqtt.report("seal-1", {"door": "closed", "battery": 90, "seq": 5})
    mqtt.wait_for(is_state("hh-1", door="closed", battery=90), what="state after seq 5")
    mark = mqtt.mark()
    mqtt.report("seal-1", {"door": "open", "battery": 10, "tamper": True, "seq": 5})
    mqtt.report("seal-1", {"door": "open", "battery": 10, "tamper": True, "seq": 4})
    mqtt.expect_none(is_alert(), during=0.6, since=mark, what="alert from a duplicate")
    mqtt.expect_none(lambda m: is_state("hh-1")(m) and m.json.get("door") != "closed", during=0, since=mark,
                     what="state change from a duplicate")
    # a higher seq is accepted again
    mqtt.report("seal-1", {"door": "open", "seq": 6})
    mqtt.wait_for(is_alert(type="door_open", state="raised"), since=mark, what="door alert for seq 6")


def test_retained_report_redelivered_on_restart_is_not_new(daemon, mqtt):
    d = daemon()
    fitted(mqtt)
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.wait_for(is_state("hh-1", door="closed", online=True), what="state closed")
    # no seq: only the retained flag tells the daemon this is old news
    mqtt.report("seal-1", {"tamper": True}, retain=True)
    a = mqtt.wait_for(is_alert(type="tamper", state="raised"), what="tamper alert")
    mark = mqtt.mark()
    mqtt.ok("resolve", {"alert_id": a.json["alert_id"], "by": "officer-1", "note": "seen"})
    before = mqtt.wait_for(lambda m: is_state("hh-1")(m) and m.json.get("open_alerts") == [], since=mark,
                           what="state without open alerts")
    d.stop()
    mark = mqtt.mark()
    d.start()
    mqtt.expect_none(is_alert(type="tamper", state="raised"), during=1.0, since=mark,
                     what="alert from a re-delivered retained report")
    for m in mqtt.messages(is_state("hh-1"), since=mark):
        assert m.json.get("last_seen") == before.json.get("last_seen"), \
            "a retained re-delivery counted as a sign of life:\n%r\n%r" % (before, m)
    # a live report is still taken
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    mqtt.wait_for(is_alert(type="door_open", state="raised"), since=mark, what="door alert after restart")
