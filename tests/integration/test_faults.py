"""Broker faults: a frozen broker, a daemon killed with unsent messages."""
import time

from conftest import ROOT, is_alert, parse_iso

S = ROOT + "/alert/street/st-1"


def test_alert_made_while_broker_frozen_survives_sigkill(daemon, mqtt, broker):
    """The escalation is made while the broker hangs, the daemon is killed
    before any PUBACK: after restart it arrives, under one event id."""
    d = daemon(street_after=1)
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    aid = mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert").json["alert_id"]
    broker.stop()
    try:
        time.sleep(1.8)  # escalation due at 1 s
        d.kill()
    finally:
        broker.cont()
    d.start()
    st = mqtt.wait_for(is_alert(alert_id=aid, state="escalated", topic=S), 10, what="street escalation")
    # made when due (1 s), while the broker hung: that is the time it carries
    gap = parse_iso(st.json["at"]) - parse_iso(st.json["since"])
    assert 900 <= gap <= 3 * 1000 + 2000, "escalation made %d ms after the alert began (street_after 1 s)" % gap
    time.sleep(1.0)
    esc = mqtt.messages(is_alert(alert_id=aid, state="escalated", topic=S))
    assert len({m.json["event_id"] for m in esc}) == 1, "one escalation, several event ids: %r" % esc


def test_report_sent_while_daemon_down_is_processed_after_restart(daemon, mqtt):
    """The daemon keeps a persistent session: QoS 1 reports queued by the
    broker while it was away are not lost."""
    d = daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    d.stop()
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    d.start()
    mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-1"), 10,
                  what="door alert for a report queued while the daemon was down")
