"""mqtt.topic_root moves every topic the daemon reads and writes."""
import json
import uuid

from conftest import Client, iso_in, topic_is

R = "city7/seal"


def test_other_topic_root(daemon, mqtt, broker):
    other = Client(broker, subscriptions=[R + "/#", "test/reply/#"], record=False, name="root")
    try:
        d = daemon(start=False, topic_root=R)
        d.mqtt = other
        d.start()
        reply_to = "test/reply/" + uuid.uuid4().hex[:8]
        for op, body in (("admit", {"household_id": "hh-1", "community_id": "c-1", "street_id": "st-1",
                                    "district_id": "d-1", "end": iso_in(3600)}),
                         ("install", {"device_id": "seal-1", "household_id": "hh-1"})):
            mark = other.mark()
            other.publish("%s/cmd/%s" % (R, op), dict(body, request_id=op, reply_to=reply_to))
            r = other.wait_for(topic_is(reply_to), since=mark, what="reply to %s" % op).json
            assert r["ok"] is True, r
        other.publish(R + "/dev/seal-1/report", json.dumps({"door": "open", "seq": 1}))
        other.wait_for(lambda m: m.topic == R + "/alert/community/c-1" and m.get("type") == "door_open",
                       what="alert under the configured root")
        other.wait_for(lambda m: m.topic == R + "/state/household/hh-1", what="state under the configured root")
        assert not mqtt.messages(lambda m: m.topic.startswith("seal/")), \
            "daemon published under the default root: %r" % mqtt.messages()
    finally:
        other.close()
