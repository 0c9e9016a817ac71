"""Bad input under faults: re-delivered and re-ordered reports, a flapping
seal, a storm of reports from seals nobody fitted."""
import json
import time

from conftest import ROOT, is_alert, is_rejected, is_state
from faultkit import Publisher, alert_count, broker_back, is_status, raised_ids_by_alert, wait_until


def test_duplicate_and_reordered_reports_after_reconnect_change_nothing(daemon, mqtt, broker):
    d = daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 5})
    mqtt.report("seal-1", {"door": "open", "seq": 6})
    a = mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert for seq 6").json
    m7 = mqtt.mark()
    mqtt.report("seal-1", {"door": "closed", "seq": 7})
    before = mqtt.wait_for(is_state("hh-1", door="closed"), since=m7, what="state after seq 7").json
    assert before["door"] == "closed" and alert_count(before, "door_open") == 1, before

    # The broker dies and comes back empty; an old report waits retained for
    # the daemon's new subscription.
    broker.kill()
    mark = mqtt.mark()
    with_retained = {"door": "open", "tamper": True, "battery": 5, "seq": 6}
    broker_back(broker, mqtt, None)
    mqtt.report("seal-1", with_retained, retain=True)
    mqtt.wait_for(is_status("online"), 40, mark, what="status online after the broker restart")
    time.sleep(0.5)  # the retained report is delivered right after the subscription
    # Re-deliveries of 6 and 5, live this time.
    mqtt.report("seal-1", {"door": "open", "tamper": True, "seq": 6})
    mqtt.report("seal-1", {"door": "open", "battery": 1, "seq": 5})
    mqtt.expect_none(is_alert(), during=1.0, since=mark, what="alert from an old report")

    def changed(m):
        j = m.json
        return is_state("hh-1")(m) and (j.get("door") != "closed" or j.get("tamper") or j.get("battery") is not None
                                       or alert_count(j, "door_open") != 1)
    mqtt.expect_none(changed, during=0, since=mark, what="state changed by an old report")
    # The next report is taken: one more opening folds into the open alert.
    mqtt.report("seal-1", {"door": "open", "seq": 8})
    s = mqtt.wait_for(is_state("hh-1", door="open"), 10, mark, what="state after seq 8").json
    assert alert_count(s, "door_open") == 2 and s["open_alerts"] == [a["alert_id"]], s
    assert raised_ids_by_alert(mqtt) == {a["alert_id"]: {a["event_id"]}}


def test_flapping_seal_folds_into_one_alert(daemon, mqtt, broker):
    daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mark = mqtt.mark()
    pub = Publisher(broker)
    try:
        t0 = time.monotonic()
        infos = []
        for i in range(100):  # QoS 1 from one client: the broker keeps the order
            for seq, door in ((2 * i + 1, "open"), (2 * i + 2, "closed")):
                infos.append(pub.publish(ROOT + "/dev/seal-1/report", json.dumps({"door": door, "seq": seq})))
        wait_until(lambda: all(x.is_published() for x in infos), 10, "the broker taking 200 reports")
        took = time.monotonic() - t0
    finally:
        pub.close()

    def last_state():
        got = mqtt.messages(is_state("hh-1"), mark)
        return got[-1].json if got else None
    wait_until(lambda: alert_count(last_state(), "door_open") == 100 and last_state()["door"] == "closed", 30,
               "household state with door_open count 100 (last: %r)" % (last_state(),))
    time.sleep(0.5)
    raised = mqtt.messages(is_alert(type="door_open", state="raised"), mark)
    assert len({m.json["event_id"] for m in raised}) == 1, "flapping raised several alerts: %r" % raised
    assert len({m.json["alert_id"] for m in mqtt.messages(is_alert(), mark)}) == 1
    s = last_state()
    assert len(s["open_alerts"]) == 1 and s["alerts"][0]["state"] == "raised", s
    print("200 reports in %.2f s" % took)


def test_storm_of_unknown_seals_does_not_drown_a_real_alert(daemon, mqtt, broker):
    d = daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.wait_for(is_state("hh-1", door="closed"), what="state door closed")
    mark = mqtt.mark()
    pub = Publisher(broker)
    try:
        infos = []
        t0 = time.monotonic()
        for i in range(10000):
            infos.append(pub.publish("%s/dev/ghost-%d/report" % (ROOT, i),
                                     json.dumps({"door": "open", "seq": i}), qos=1 if i % 2 else 0))
            if i == 5000:
                sent = time.monotonic()
                mqtt.report("seal-1", {"door": "open", "seq": 2})
        a = mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-1"), 30, mark,
                          what="the real alert during the storm")
        print("real alert %.2f s after its report; storm published in %.2f s"
              % (a.t - sent, time.monotonic() - t0))
        wait_until(lambda: all(x.is_published() for x in infos[1::2]), 60, "the broker taking the storm")
    finally:
        pub.close()
    assert d.running(), "daemon died in the storm"
    r = mqtt.cmd("permit", {"household_id": "hh-1", "until": "2100-01-01T00:00:00.000Z"}, timeout=30)
    assert r["ok"] is True, r
    rejected = mqtt.messages(is_rejected(reason="unknown_device"), mark)
    print("rejected events published for the storm: %d of 10000" % len(rejected))
    assert all(m.json["topic"].startswith(ROOT + "/dev/ghost-") for m in rejected)
