#!/usr/bin/env python3
"""sealbridge demo, field operations: three short stories against the running daemon.

  a Zigbee coordinator with 20 seals behind it dies: one gateway_offline alert,
    not 40 device_silent; it comes back and the alert clears;
  a testing round: an area permit for a community, door-to-door openings raise
    nothing, the permit is revoked and the next opening raises;
  the daily rubbish run: a daily permit (the window is set around now), an
    opening inside it raises nothing, one outside raises; resolved as errand.

Run by scripts/demo.sh after the district simulation (same broker and daemon).
Needs Python 3 and paho-mqtt.
"""
import argparse
import json
import queue
import sys
import time
import uuid

import paho.mqtt.client as mqtt


def iso(ms):
    ms = int(ms)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def now_ms():
    return int(time.time() * 1000)


class Demo:
    def __init__(self, host, port, root):
        self.root = root
        self.q = queue.Queue()
        try:
            self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="demo-field-" + uuid.uuid4().hex[:6],
                                 protocol=mqtt.MQTTv5)
        except AttributeError:  # paho-mqtt 1.x
            self.c = mqtt.Client(client_id="demo-field-" + uuid.uuid4().hex[:6], protocol=mqtt.MQTTv5)
        self.c.on_message = lambda c, u, m: self.q.put((m.topic, m.payload))
        self.c.connect(host, port)
        self.c.subscribe([(root + "/alert/#", 1), ("demo/field/#", 1)])
        self.c.loop_start()
        self.t0 = time.monotonic()

    def say(self, text):
        print("%6.1fs  %s" % (time.monotonic() - self.t0, text), flush=True)

    def pub(self, topic, body, retain=False):
        self.c.publish(topic, body if isinstance(body, str) else json.dumps(body), qos=1, retain=retain).wait_for_publish(10)

    def cmd(self, op, body):
        rid = uuid.uuid4().hex[:10]
        body = dict(body, request_id=rid, reply_to="demo/field/" + rid)
        self.pub("%s/cmd/%s" % (self.root, op), body)
        return self.wait(lambda t, j: t == "demo/field/" + rid, 10, "reply to " + op)

    def wait(self, pred, timeout, what, quiet=False):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                t, p = self.q.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                j = json.loads(p)
            except ValueError:
                continue
            hid = (j.get("household_id") or "") if isinstance(j, dict) else ""
            if t.startswith(self.root + "/alert/") and not hid.startswith("fo-") and j.get("type") != "gateway_offline":
                continue  # the district simulation's own alerts
            if pred(t, j):
                return j
        if not quiet:
            self.say("(no %s within %d s)" % (what, timeout))
        return None

    def alerts_for(self, seconds, pred):
        got, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            j = self.wait(lambda t, j: t.startswith(self.root + "/alert/") and pred(j), end - time.monotonic(), "alert", True)
            if j is None:
                break
            got.append(j)
        return got

    def report(self, dev, body):
        self.pub("%s/dev/%s/report" % (self.root, dev), body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=1883)
    ap.add_argument("--root", default="seal")
    a = ap.parse_args()
    d = Demo(a.host, a.port, a.root)
    end = iso(now_ms() + 14 * 86400 * 1000)

    d.say("== field operations: a coordinator with 20 seals behind it dies")
    for i in range(20):
        d.cmd("admit", {"household_id": "fo-g%02d" % i, "district_id": "d-01", "street_id": "st-fo",
                        "community_id": "c-fo", "end": end, "address": "9-%d-%02d" % (i // 10, i)})
        d.cmd("install", {"device_id": "fo-zb%02d" % i, "household_id": "fo-g%02d" % i, "gateway_id": "coord-1"})
        d.report("fo-zb%02d" % i, {"door": "closed", "seq": 1})
    d.pub(d.root + "/gw/coord-1/status", {"state": "offline"}, retain=True)
    got = d.alerts_for(3, lambda j: j.get("gateway_id") == "coord-1")
    for j in got:
        d.say("%s %s at %s, households %s" % (j["type"], j["state"], j["level"], j.get("households")))
    d.say("   (one alert for the gateway, none per seal; household states say gateway: offline)")
    d.pub(d.root + "/gw/coord-1/status", {"state": "online"}, retain=True)
    for j in d.alerts_for(2, lambda j: j.get("gateway_id") == "coord-1"):
        d.say("%s %s at %s" % (j["type"], j["state"], j["level"]))

    d.say("== a testing round: permit for community c-fo, door to door")
    r = d.cmd("permit", {"community_id": "c-fo", "until": iso(now_ms() + 3600 * 1000), "reason": "testing round"})
    pid = r and r.get("permit_id")
    d.say("permit %s" % pid)
    for i in range(5):
        d.report("fo-zb%02d" % i, {"door": "open", "seq": 2})
        d.report("fo-zb%02d" % i, {"door": "closed", "seq": 3})
    n = len(d.alerts_for(2, lambda j: j.get("type") == "door_open"))
    d.say("5 doors opened for the testers: %d alerts" % n)
    d.cmd("revoke", {"permit_id": pid})
    d.report("fo-zb05", {"door": "open", "seq": 2})
    for j in d.alerts_for(2, lambda j: j.get("type") == "door_open"):
        d.say("after revoke: %s %s for %s (%s)" % (j["type"], j["state"], j["household_id"], j["address"]))
        d.cmd("resolve", {"alert_id": j["alert_id"], "by": "warden-fo", "outcome": "violation"})

    d.say("== the daily rubbish run (window set around now, UTC)")
    t = time.gmtime(time.time() - 60)
    u = time.gmtime(time.time() + 120)
    window = {"from": "%02d:%02d" % (t.tm_hour, t.tm_min), "until": "%02d:%02d" % (u.tm_hour, u.tm_min)}
    d.cmd("permit", {"household_id": "fo-g10", "until": end, "daily": window, "reason": "rubbish"})
    d.say("daily permit %s-%s for fo-g10" % (window["from"], window["until"]))
    d.report("fo-zb10", {"door": "open", "seq": 2})
    n = len(d.alerts_for(2, lambda j: j.get("household_id") == "fo-g10"))
    d.say("fo-g10 took the rubbish out: %d alerts" % n)
    d.report("fo-zb11", {"door": "open", "seq": 2})
    for j in d.alerts_for(2, lambda j: j.get("household_id") == "fo-g11"):
        d.say("fo-g11 has no permit: %s %s" % (j["type"], j["state"]))
        d.cmd("resolve", {"alert_id": j["alert_id"], "by": "warden-fo", "outcome": "errand"})
        d.say("resolved as errand: statistics count it in resolved_24h.errand")
    d.c.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
