"""Replies never go where they could do harm (interface): reply_to and the v5
response topic are checked; the command is still carried out, no reply is
published, and R/bridge/rejected says bad_reply_topic."""
import json
import sqlite3
import uuid

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from conftest import ROOT, Client, is_alert, is_rejected, iso_in, topic_is
from faultkit import LOST_RE, log_has, log_mark, wait_log

REJECTED = ROOT + "/bridge/rejected"


def bad_reply(mqtt, op, body, reply_to=None, response_topic=None, what=""):
    """Sends a command whose reply topic is bad; returns the rejection."""
    mark = mqtt.mark()
    body = dict(body, request_id="r" + uuid.uuid4().hex[:10])
    props = None
    if reply_to is not None:
        body["reply_to"] = reply_to
    if response_topic is not None:
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = response_topic
        props.CorrelationData = b"c1"
    mqtt.publish("%s/cmd/%s" % (ROOT, op), json.dumps(body), properties=props)
    return mqtt.wait_for(is_rejected(topic="%s/cmd/%s" % (ROOT, op), reason="bad_reply_topic"), since=mark,
                         what="bad_reply_topic for %s" % what).json


def admit_body(hh):
    return {"household_id": hh, "community_id": "c-1", "street_id": "st-1", "district_id": "d-1",
            "end": iso_in(3600)}


def door_alert(mqtt, hh, dev):
    """The household is active: its seal's opening raises an alert."""
    mqtt.install(dev, hh)
    mark = mqtt.mark()
    mqtt.report(dev, {"door": "open", "seq": 1})
    mqtt.wait_for(is_alert(type="door_open", state="raised", household_id=hh), since=mark,
                  what="door alert for %s" % hh)


def test_reply_to_own_inputs_is_refused_and_command_still_runs(daemon, broker, mqtt):
    d = daemon()
    # a consumer listening everywhere sees whatever the daemon publishes
    spy = Client(broker, subscriptions=["#"], record=False, name="spy")
    try:
        mark = spy.mark()
        # a reply on R/cmd/release would echo household_id and release it
        r = bad_reply(mqtt, "admit", admit_body("hh-1"), reply_to=ROOT + "/cmd/release", what="R/cmd/release")
        assert "cmd" in r["message"], r
        # a reply on a seal's report topic would be a heartbeat for it
        bad_reply(mqtt, "admit", admit_body("hh-2"), reply_to=ROOT + "/dev/seal-2/report", what="R/dev")
        bad_reply(mqtt, "admit", admit_body("hh-3"), reply_to=ROOT + "/gw/gw-1/status", what="R/gw")
        # a wildcard: the broker would disconnect the daemon (issue 10 item 1)
        bad_reply(mqtt, "admit", admit_body("hh-4"), reply_to="x/#", what="wildcard")
        bad_reply(mqtt, "admit", admit_body("hh-5"), reply_to="x/" + "a" * 300, what="too long")
        bad_reply(mqtt, "admit", admit_body("hh-6"), reply_to="", what="empty reply_to")
        bad_reply(mqtt, "admit", admit_body("hh-7"), reply_to="a\u0001b", what="control char")
        bad_reply(mqtt, "admit", admit_body("hh-8"), reply_to="$SYS/x", what="$ topic")
        # pose as an alert
        bad_reply(mqtt, "admit", admit_body("hh-9"), reply_to=ROOT + "/alert/community/c-1", what="alert")
        # the commands were carried out: every household is active
        for i in range(1, 10):
            door_alert(mqtt, "hh-%d" % i, "seal-%d" % i)
        # no reply went anywhere: nothing with a request_id and op was published
        replies = [m for m in spy.messages(since=mark)
                   if m.get("op") == "admit" and not m.topic.startswith(ROOT + "/cmd/")]
        assert not replies, replies
        released = [m for m in spy.messages(since=mark) if m.topic == ROOT + "/cmd/release"]
        assert not released, released
        assert not log_has(d, LOST_RE), "the daemon lost its link"
    finally:
        spy.close()
    # a good reply topic still works, under R/reply/ too
    mqtt.ok("release", {"household_id": "hh-1", "reply_to": ROOT + "/reply/app/1"})


def test_v5_response_topic_empty_or_wildcard_does_not_block_alerts(daemon, broker, mqtt):
    d = daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mark = log_mark(d)
    bad_reply(mqtt, "admit", admit_body("hh-2"), response_topic="", what="empty response topic")
    bad_reply(mqtt, "admit", admit_body("hh-3"), response_topic="x/#", what="wildcard response topic")
    bad_reply(mqtt, "admit", admit_body("hh-4"), response_topic="x/" + "y" * 700, what="long response topic")
    # alerts keep flowing, the link stays up, and the commands were carried out
    m = mqtt.mark()
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-1"), since=m, what="door alert")
    door_alert(mqtt, "hh-2", "seal-2")
    door_alert(mqtt, "hh-3", "seal-3")
    assert not log_has(d, LOST_RE, mark), "the daemon lost its link"
    # a good response topic is answered
    r = mqtt.cmd_v5("release", {"household_id": "hh-4"})
    assert r["ok"] is True, r


def test_old_outbox_rows_with_bad_topics_are_dropped_at_start(daemon, broker, mqtt, tmp_path):
    d = daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    d.stop()
    db = sqlite3.connect(d.settings["path"])
    with db:
        for topic in ("", ROOT + "/cmd/release", "x/#"):
            db.execute("INSERT INTO outbox(topic, payload, qos, retained, corr) VALUES (?, ?, 1, 0, NULL)",
                       (topic, json.dumps({"household_id": "hh-1", "op": "admit"}).encode()))
    db.close()
    mark = log_mark(d)
    spy = Client(broker, subscriptions=["#"], record=False, name="spy")
    try:
        since = spy.mark()
        d.start()
        wait_log(d, r"outbox: dropped message", mark, what="the bad outbox rows dropped")
        # the queue is not held back, and nothing went to the daemon's own inputs
        m = mqtt.mark()
        mqtt.report("seal-1", {"door": "open", "seq": 1})
        mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-1"), since=m,
                      what="door alert after the bad rows")
        assert not spy.messages(topic_is(ROOT + "/cmd/release"), since), "an old row released a household"
    finally:
        spy.close()
    lines = [l for l in d.log_text()[mark:].splitlines() if "outbox: dropped message" in l]
    assert len(lines) == 3, lines
    d.stop()
    db = sqlite3.connect(d.settings["path"])
    left = db.execute("SELECT topic FROM outbox WHERE topic = '' OR topic LIKE '%#' OR topic LIKE '%/cmd/%'"
                      ).fetchall()
    db.close()
    assert not left, "bad rows still in the outbox: %r" % left


VENDORS_ON = """
[zigbee2mqtt]
enabled = true
base_topic = z2m-test
[shelly]
enabled = true
[tasmota]
enabled = true
"""


def test_reply_to_vendor_topics_is_refused_when_the_source_is_enabled(daemon, broker, mqtt):
    """A reply under an enabled vendor source's topics could be a device
    command or a sensor report; with the sources off those topics are free."""
    d = daemon(start=False)
    with open(d.ini, "a") as f:
        f.write(VENDORS_ON)
    d.start()
    for i, topic in enumerate(("z2m-test/door-1", "z2m-test/door-1/set", "shellies/s1/sensor/state",
                               "tele/t1/SENSOR", "cmnd/t1/POWER")):
        bad_reply(mqtt, "admit", admit_body("hh-%d" % i), reply_to=topic, what=topic)
    d.stop()
    # the same topics are ordinary reply topics for a daemon without vendor sources
    daemon()
    spy = Client(broker, subscriptions=["tele/#"], record=False, name="spy")
    try:
        mqtt.publish(ROOT + "/cmd/admit", dict(admit_body("hh-x"), request_id="rx", reply_to="tele/t1/SENSOR"))
        r = spy.wait_for(topic_is("tele/t1/SENSOR"), what="the reply on tele/t1/SENSOR").json
        assert r["ok"] is True and r["request_id"] == "rx", r
    finally:
        spy.close()
