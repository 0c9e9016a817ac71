#!/usr/bin/env python3
"""sealbridge demo: simulates one district and prints the alerts as a live feed.

1 district (d-01), 10 streets (st-01..st-10), 201 communities (c-001..c-201)
and 50 villages (v-01..v-50), 1,333 households in home quarantine, each with a
door seal. The district's seals are registered (stock intake) and handed out
street by street, the households are admitted and their seals fitted, all
through the command topics; then every seal heart-beats, and a short story
plays out:

  a door opens and a community worker acks it before it escalates;
  a door opens inside a permit (hospital visit): no alert;
  a seal goes silent: raised, escalated to the street, then to the district;
  a door is left open and acked only after the street escalation, which stops
    its escalation to the district;
  a battery runs low (battery_low never escalates), then is replaced;
  now and then another door opens;
  three households of one community are released: the worker's collection
    list shows their doors, the seals are taken off and checked at the depot
    (two back to stock, one faulty), and the SEALS line follows their states.

Run it through scripts/demo.sh, which starts a broker and the daemon with a
fast clock. Needs Python 3 and paho-mqtt (Debian: python3-paho-mqtt, 1.6 or 2.x).
"""
import argparse
import heapq
import json
import os
import queue
import random
import signal
import sys
import time
import uuid

import paho.mqtt.client as mqtt

DAY_MS = 86400 * 1000


def now_ms():
    return int(time.time() * 1000)


def iso(ms):
    ms = int(ms)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


# ------------------------------------------------------------------ terminal

class Out:
    """The feed: one line per event, colour only on a terminal."""

    def __init__(self, colour):
        self.colour = colour
        self.t0 = time.monotonic()

    def c(self, code, text):
        return "\033[%sm%s\033[0m" % (code, text) if self.colour else text

    def line(self, text):
        stamp = "%6.1fs" % (time.monotonic() - self.t0)
        sys.stdout.write("%s  %s\n" % (self.c("2", stamp), text))
        sys.stdout.flush()

    def sim(self, text):
        self.line(self.c("36", "sim    ") + text)

    def note(self, text):
        self.line(self.c("2", "       " + text))


STATE_STYLE = {"raised": ("1;31", "RAISED"), "escalated": ("1;35", "ESCALATED"), "acked": ("1;33", "ACKED"),
               "resolved": ("1;32", "RESOLVED"), "cleared": ("1;32", "CLEARED")}


# ------------------------------------------------------------------- district

class District:
    """Who lives where: deterministic for a seed."""

    def __init__(self, households, seed):
        rnd = random.Random(seed)
        self.district = "d-01"
        self.streets = ["st-%02d" % i for i in range(1, 11)]
        communities = ["c-%03d" % i for i in range(1, 202)]
        villages = ["v-%02d" % i for i in range(1, 51)]
        # Urban communities on the first eight streets, villages on the outer two.
        self.street_of = {}
        for i, c in enumerate(communities):
            self.street_of[c] = self.streets[i * 8 // len(communities)]
        for i, v in enumerate(villages):
            self.street_of[v] = self.streets[8 + i * 2 // len(villages)]
        self.units = communities + villages
        # Every unit gets at least one household, the rest fall where they fall.
        homes = list(self.units) + [rnd.choice(self.units) for _ in range(max(0, households - len(self.units)))]
        homes = homes[:households]
        rnd.shuffle(homes)
        cats = ["risk_area_arrival"] * 6 + ["close_contact"] * 3 + ["confirmed_case", "other"]
        self.households = []
        taken = set()
        for n, unit in enumerate(homes, 1):
            while True:
                if unit.startswith("c-"):  # building-entrance-flat
                    addr = "%d-%d-%d%02d" % (rnd.randint(1, 30), rnd.randint(1, 4), rnd.randint(1, 33),
                                             rnd.randint(1, 4))
                else:  # village group-house
                    addr = "%d-%03d" % (rnd.randint(1, 12), rnd.randint(1, 200))
                if (unit, addr) not in taken:
                    taken.add((unit, addr))
                    break
            self.households.append({
                "household_id": "h-%04d" % n, "device_id": "seal-%04d" % n, "unit": unit,
                "street": self.street_of[unit], "address": addr, "category": rnd.choice(cats),
                "persons": rnd.randint(1, 5), "battery": rnd.randint(60, 100)})


# ------------------------------------------------------------------- the sim

class Sim:
    def __init__(self, args, out):
        self.a, self.out = args, out
        self.root = args.root
        self.d = District(args.households, args.seed)
        self.hh = {h["household_id"]: h for h in self.d.households}
        self.rnd = random.Random(args.seed + 1)
        self.run_id = uuid.uuid4().hex[:8]
        self.reply_topic = "demo/reply/%s" % self.run_id
        self.events = queue.Queue()
        self.timers = []  # heap of (monotonic, seq, fn)
        self.timer_seq = 0
        self.replies = {}
        self.alerts = {}  # alert_id -> {"household", "type", "raised_at", "levels", "acked"}
        self.seen_events = set()
        self.counts = {}
        self.reports = 0
        self.silent = set()  # device ids that stopped reporting
        self.stop = False
        self.deadline = time.monotonic() + args.seconds
        self.online = False
        self.last_stats = None
        self.checks = {}  # story check -> None (pending) / True / False
        self.worker = {}  # household_id -> how its community worker responds
        self.story_units = None
        self.seal_states = {}  # device_id -> its latest R/state/seal

        self.cl = self._client("demo-sim-%s" % self.run_id)
        self.cl.on_connect = self._on_connect
        self.cl.on_message = self._on_message
        self.cl.on_disconnect = self._on_disconnect
        self.cl.max_inflight_messages_set(1000)
        self.cl.max_queued_messages_set(0)
        self.subscribed = False

    @staticmethod
    def _client(cid):
        kw = {"client_id": cid, "protocol": mqtt.MQTTv5}
        if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
            kw["callback_api_version"] = mqtt.CallbackAPIVersion.VERSION1
        return mqtt.Client(**kw)

    # -- MQTT callbacks run on paho's thread: they only queue.

    def _on_connect(self, c, userdata, flags, rc, properties=None):
        if rc != 0:
            self.events.put(("fatal", "broker refused the connection: %s" % rc))
            return
        r = self.root
        c.subscribe([(r + "/alert/#", 1), (r + "/bridge/status", 1), (r + "/stats/district/+", 0),
                     (r + "/state/seal/+", 0), (self.reply_topic + "/#", 1)])

    def _on_disconnect(self, c, userdata, rc, properties=None):
        if not self.stop:
            self.events.put(("note", "lost the broker connection (%s); reconnecting" % rc))

    def _on_message(self, c, userdata, m):
        self.events.put(("msg", m.topic, bytes(m.payload)))

    # -- plumbing

    def at(self, delay, fn):
        self.timer_seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.timer_seq, fn))

    def publish(self, topic, body, qos=1):
        return self.cl.publish(topic, json.dumps(body, separators=(",", ":")), qos=qos)

    def command(self, op, body, tag):
        body = dict(body, request_id=tag, reply_to="%s/%s" % (self.reply_topic, op))
        self.publish("%s/cmd/%s" % (self.root, op), body)

    def pump(self, timeout):
        """Handles queued MQTT events and due timers for up to timeout seconds."""
        end = time.monotonic() + timeout
        while not self.stop:
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, fn = heapq.heappop(self.timers)
                fn()
            wait = end - now
            if self.timers:
                wait = min(wait, self.timers[0][0] - now)
            if wait <= 0 and now >= end:
                return
            try:
                ev = self.events.get(timeout=max(0.0, min(wait, 0.05)))
            except queue.Empty:
                if time.monotonic() >= end:
                    return
                continue
            self._handle(ev)
            # Drain what is already there without sleeping.
            while True:
                try:
                    ev = self.events.get_nowait()
                except queue.Empty:
                    break
                self._handle(ev)

    def _handle(self, ev):
        kind = ev[0]
        if kind == "fatal":
            self.out.line(self.out.c("1;31", "error: " + ev[1]))
            self.stop = True
        elif kind == "note":
            self.out.note(ev[1])
        elif kind == "msg":
            topic, payload = ev[1], ev[2]
            try:
                body = json.loads(payload) if payload else None
            except ValueError:
                body = None
            if topic.startswith(self.reply_topic + "/"):
                if isinstance(body, dict):
                    self.replies[body.get("request_id")] = body
                    if not body.get("ok") and not str(body.get("request_id", "")).startswith(
                            ("adm-", "ins-", "reg-", "alc-")):
                        self.out.note("command %s failed: %s %s" % (body.get("op"), body.get("error"),
                                                                     body.get("message")))
            elif topic == self.root + "/bridge/status":
                if isinstance(body, dict) and body.get("state") == "online":
                    self.online = True
            elif topic.startswith(self.root + "/stats/district/"):
                self.last_stats = body
            elif topic.startswith(self.root + "/state/seal/") and isinstance(body, dict):
                self.seal_states[body.get("device_id")] = body
            elif topic.startswith(self.root + "/alert/") and isinstance(body, dict):
                self._alert(body)

    # -- setup

    def connect(self):
        self.cl.reconnect_delay_set(0.2, 2)
        deadline = min(time.monotonic() + 15, self.deadline)
        while True:
            try:
                self.cl.connect(self.a.host, self.a.port, keepalive=30, clean_start=True)
                break
            except OSError as e:
                if time.monotonic() > deadline:
                    raise SystemExit("cannot reach the broker at %s:%d: %s" % (self.a.host, self.a.port, e))
                time.sleep(0.2)
        self.cl.loop_start()
        deadline = min(time.monotonic() + 20, self.deadline)
        while not self.online and not self.stop and time.monotonic() < deadline:
            self.pump(0.1)
        if not self.online:
            raise SystemExit("sealbridge did not report online on %s/bridge/status" % self.root)

    def batch(self, op, tag, bodies, what):
        """Sends every command at once, then waits for all the replies."""
        t = time.monotonic()
        tags = []
        for i, body in enumerate(bodies):
            rid = "%s-%04d" % (tag, i + 1)
            tags.append(rid)
            self.command(op, body, rid)
        deadline = min(time.monotonic() + 60, self.deadline)
        while not self.stop and time.monotonic() < deadline:
            if all(r in self.replies for r in tags):
                break
            self.pump(0.05)
        got = [self.replies.get(r) for r in tags]
        ok = sum(1 for r in got if r and r.get("ok"))
        missing = sum(1 for r in got if r is None)
        self.out.sim("%s %d of %d in %.1f s%s" % (what, ok, len(tags), time.monotonic() - t,
                                                  "" if ok == len(tags) else
                                                  " (%d failed, %d unanswered)" % (len(tags) - ok - missing, missing)))
        for r in [r for r in got if r and not r.get("ok")][:3]:
            self.out.note("e.g. %s: %s %s" % (r.get("request_id"), r.get("error"), r.get("message")))
        return ok == len(tags)

    def setup(self):
        d = self.d
        n_c = sum(1 for u in d.units if u.startswith("c-"))
        self.out.note("ALERT: what platforms receive on %s/alert/<level>/<unit>;  sim: what seals and "
                      "workers do;  STATS: %s/stats/district/%s" % (self.root, self.root, d.district))
        self.out.sim("district %s: %d streets, %d communities, %d villages, %d households"
                     % (d.district, len(d.streets), n_c, len(d.units) - n_c, len(d.households)))
        # Seal custody: the district's stock is registered, then handed out street by street.
        stock = [{"device_id": h["device_id"], "model": "ds-200", "batch": "2026-11-" + h["street"]}
                 for h in d.households]
        ok = self.batch("register", "reg", stock, "seals registered:    ")
        allocs = [{"device_id": h["device_id"], "street_id": h["street"]} for h in d.households]
        ok = self.batch("allocate", "alc", allocs, "seals to streets:    ") and ok
        end = iso(now_ms() + 14 * DAY_MS)
        admits = [{"household_id": h["household_id"], "district_id": d.district, "street_id": h["street"],
                   "community_id": h["unit"], "end": end, "address": h["address"],
                   "category": h["category"], "persons": h["persons"]} for h in d.households]
        ok = self.batch("admit", "adm", admits, "admitted households:")
        installs = [{"device_id": h["device_id"], "household_id": h["household_id"]} for h in d.households]
        return self.batch("install", "ins", installs, "seals fitted:        ") and ok

    # -- seals

    def start_heartbeats(self):
        period = self.a.heartbeat
        self.seq = {h["device_id"]: 0 for h in self.d.households}
        self.door = {h["device_id"]: "closed" for h in self.d.households}
        self.battery = {h["device_id"]: h["battery"] for h in self.d.households}
        self.slots = 50
        self.slot_of = [[] for _ in range(self.slots)]
        for i, h in enumerate(self.d.households):
            self.slot_of[i % self.slots].append(h["device_id"])
        self.hb_t0 = time.monotonic()
        self.hb_next = 0
        self.out.sim("every seal reports every %g s (%d reports/s)" % (period, len(self.d.households) / period))

    def heartbeats_due(self):
        period = self.a.heartbeat
        due = int((time.monotonic() - self.hb_t0) / (period / self.slots))
        while self.hb_next <= due:
            for dev in self.slot_of[self.hb_next % self.slots]:
                if dev not in self.silent:
                    self.report(dev)
            self.hb_next += 1

    def report(self, dev, **change):
        if "door" in change:
            self.door[dev] = change["door"]
        if "battery" in change:
            self.battery[dev] = change["battery"]
        self.seq[dev] += 1
        self.publish("%s/dev/%s/report" % (self.root, dev),
                     {"door": self.door[dev], "battery": self.battery[dev], "seq": self.seq[dev], "ts": now_ms()})
        self.reports += 1

    # -- the story

    def pick(self, used):
        while True:
            h = self.rnd.choice(self.d.households)
            if h["household_id"] not in used:
                used.add(h["household_id"])
                return h

    def who(self, h):
        return "%s (%s, %s)" % (h["household_id"], h["address"], h["unit"])

    def story(self):
        used = set()
        a, p, s, b, low = (self.pick(used) for _ in range(5))
        self.story_units = (a, p, s, b, low)
        street_after, district_after = self.a.street_after, self.a.district_after

        def door(h, state, why):
            self.out.sim("%s door %s%s" % (self.who(h), state.upper(), why))
            self.report(h["device_id"], door=state)

        # A: quick worker, before any escalation.
        self.worker[a["household_id"]] = {"ack_after_raise": 3, "resolve_after_ack": 8,
                                          "by": "worker-" + a["unit"], "note": "called: parcel at the door"}
        self.at(4, lambda: door(a, "open", ""))
        self.at(7, lambda: door(a, "closed", ""))

        # P: permit, then the door opens inside it.
        self.checks["door opened inside a permit raised nothing"] = None

        def permit():
            until = now_ms() + 45000
            self.out.sim("permit for %s until %s (hospital appointment)" % (self.who(p), iso(until)[11:19]))
            self.command("permit", {"household_id": p["household_id"], "until": iso(until),
                                    "reason": "hospital appointment"}, "permit-1")
        self.at(6, permit)
        self.at(9, lambda: door(p, "open", " (inside its permit: no alert expected)"))
        self.at(14, lambda: door(p, "closed", ""))

        def permit_check():
            bad = [x for x in self.alerts.values() if x["household"] == p["household_id"]]
            self.checks["door opened inside a permit raised nothing"] = not bad
            self.out.note("%s: permit covered the opening, %s" % (
                p["household_id"], "no alert" if not bad else "but an alert was raised!"))
        self.at(24, permit_check)

        # S: goes silent, nobody acks: community -> street -> district.
        self.checks["silent seal escalated community -> street -> district"] = None

        def go_silent():
            self.silent.add(s["device_id"])
            self.out.sim("%s seal %s stops reporting (device_silent expected after %g s)"
                         % (self.who(s), s["device_id"], self.a.silence_after))
        self.at(8, go_silent)
        back = 8 + self.a.silence_after + street_after + district_after + 8

        def come_back():
            self.silent.discard(s["device_id"])
            self.out.sim("%s seal %s reports again (back in range)" % (self.who(s), s["device_id"]))
            self.report(s["device_id"], battery=100)
        self.at(back, come_back)

        # B: door left open, acked only after the street escalation.
        self.checks["ack after the street escalation stopped the district one"] = None
        self.worker[b["household_id"]] = {"ack_after_street": 4, "resolve_after_ack": 14,
                                          "by": "worker-" + b["unit"], "note": "on site, household inside"}
        self.at(12, lambda: door(b, "open", " (left open)"))
        self.at(12 + street_after + 14, lambda: door(b, "closed", ""))

        # LOW: battery runs down, then is replaced.
        def battery(level, why):
            def fn():
                self.out.sim("%s seal battery %d%%%s" % (self.who(low), level, why))
                self.report(low["device_id"], battery=level)
            return fn
        self.at(15, battery(24, ""))
        self.at(18, battery(21, ""))
        self.at(21, battery(19, " (battery_low expected: at or below the threshold)"))
        self.at(back - 4, battery(100, " (battery replaced)"))

        # Now and then another door; workers ack those quickly.
        def blip():
            h = self.pick(used)
            self.worker[h["household_id"]] = {"ack_after_raise": self.rnd.uniform(2, 5), "resolve_after_ack": 6,
                                              "by": "worker-" + h["unit"], "note": "rubbish out, reminded"}
            door(h, "open", "")
            self.at(self.rnd.uniform(1.5, 3), lambda: door(h, "closed", ""))
            self.at(self.rnd.uniform(9, 14), blip)
        self.at(30, blip)
        self.collection_round(used)

    def collection_round(self, used):
        """Three households of one community are released; its worker takes the seals off,
        checks them (one is broken) and the good ones go back to stock."""
        what = "collection round: released seals collected, checked, good ones back in stock"
        self.checks[what] = None
        first = self.pick(used)
        round_ = [first] + [h for h in self.d.households
                            if h["unit"] == first["unit"] and h["household_id"] not in used][:2]
        for h in round_:
            used.add(h["household_id"])
        unit = first["unit"]

        def release():
            for h in round_:
                self.out.sim("%s released: quarantine over, seal %s still on the door" % (self.who(h), h["device_id"]))
                self.command("release", {"household_id": h["household_id"], "reason": "quarantine over"},
                             "rel-" + h["household_id"])

        def worklist():
            waiting = [s for s in self.seal_states.values()
                       if s.get("state") == "awaiting_collection" and s.get("community_id") == unit]
            self.out.sim("collect-list %s: %d doors: %s" % (unit, len(waiting), ", ".join(
                "%s %s" % (s.get("household_id"), s.get("address")) for s in waiting)))
            for h in round_:
                self.silent.add(h["device_id"])  # in the worker's bag now
                self.command("uninstall", {"device_id": h["device_id"]}, "col-" + h["device_id"])

        def inspect():
            for i, h in enumerate(round_):
                result = "faulty" if i == len(round_) - 1 else "ok"
                self.out.sim("seal %s checked at the depot: %s" % (h["device_id"], result))
                self.command("inspect", {"device_id": h["device_id"], "result": result,
                                         "note": "latch broken" if result == "faulty" else "clean"},
                             "insp-" + h["device_id"])

        def check():
            states = [self.seal_states.get(h["device_id"], {}).get("state") for h in round_]
            want = ["in_stock"] * (len(round_) - 1) + ["faulty"]
            self.checks[what] = states == want
            self.out.note("collection round %s: seals now %s" % (unit, ", ".join(
                "%s %s" % (h["device_id"], st) for h, st in zip(round_, states))))
        self.at(26, release)
        self.at(32, worklist)
        self.at(38, inspect)
        self.at(44, check)

    # -- alerts

    def _alert(self, al):
        eid = al.get("event_id")
        if eid in self.seen_events:
            return
        self.seen_events.add(eid)
        aid, state, level, kind = al.get("alert_id"), al.get("state"), al.get("level"), al.get("type")
        self.counts[(kind, state, level)] = self.counts.get((kind, state, level), 0) + 1
        rec = self.alerts.setdefault(aid, {"household": al.get("household_id"), "type": kind,
                                           "raised_at": time.monotonic(), "levels": set(), "acked": None})
        rec["levels"].add(level)
        unit = al.get("%s_id" % level) if level in ("community", "street", "district") else "?"
        colour, word = STATE_STYLE.get(state, ("0", str(state).upper()))
        extra = ""
        if state == "escalated":
            extra = "not acked %.0f s after raised" % (time.monotonic() - rec["raised_at"])
        elif state in ("acked", "resolved") and al.get("by"):
            extra = "by %s" % al["by"] + (": %s" % al["note"] if al.get("note") else "")
        if al.get("count", 1) > 1:
            extra = ("count %d  " % al["count"]) + extra
        self.out.line("%s %-9s %-10s %-6s %s %-6s %s %s" % (
            self.out.c(colour, "ALERT"), self.out.c(colour, word.ljust(9)), level, unit or "?", kind.ljust(13),
            al.get("household_id"), ("(%s)" % (al.get("address") or "-")).ljust(11), self.out.c("2", extra)))
        self._react(aid, rec, al)

    def _react(self, aid, rec, al):
        hid, state, level = al.get("household_id"), al.get("state"), al.get("level")
        w = self.worker.get(hid)
        silent = self.story_units[2]["household_id"] if self.story_units else None
        if rec["type"] == "device_silent" and hid == silent and state == "escalated" and level == "district":
            self.checks["silent seal escalated community -> street -> district"] = True
        if w is None or rec["type"] != "door_open":
            return
        if state == "raised" and "ack_after_raise" in w:
            self.at(w["ack_after_raise"], lambda: self.ack(aid, hid, w))
        if state == "escalated" and level == "street" and "ack_after_street" in w:
            self.at(w["ack_after_street"], lambda: self.ack(aid, hid, w))
            check = "ack after the street escalation stopped the district one"

            def verify():
                ok = "district" not in rec["levels"]
                self.checks[check] = ok
                self.out.note("%s: %s" % (hid, "acked at street level, no district escalation"
                                          if ok else "escalated to the district despite the ack!"))
            self.at(w["ack_after_street"] + self.a.district_after + 2, verify)

    def ack(self, aid, hid, w):
        self.out.sim("community worker %s acks %s (%s)" % (w["by"], aid, hid))
        self.command("ack", {"alert_id": aid, "by": w["by"], "note": w["note"]}, "ack-" + aid)

        def resolve():
            self.out.sim("community worker %s resolves %s" % (w["by"], aid))
            self.command("resolve", {"alert_id": aid, "by": w["by"], "note": "closed after visit"},
                         "res-" + aid)
        self.at(w["resolve_after_ack"], resolve)

    # -- main loop

    def stats_line(self):
        s = self.last_stats
        if isinstance(s, dict):
            self.out.line(self.out.c("34", "STATS  ") + "%s: %s households, %s fitted, %s online, %s silent, "
                          "%s doors open, %s open alerts" % (
                              self.d.district, s.get("households"), s.get("fitted"), s.get("online"),
                              s.get("silent"), s.get("doors_open"), s.get("open_alerts")))
            seals = s.get("seals")
            if isinstance(seals, dict):
                self.out.line(self.out.c("34", "SEALS  ") + ", ".join(
                    "%s %s" % (n, k.replace("_", " ")) for k, n in seals.items() if n))

    def run(self):
        end = self.deadline
        next_stats = time.monotonic() + 2
        while not self.stop and time.monotonic() < end:
            self.heartbeats_due()
            if time.monotonic() >= next_stats:
                self.stats_line()
                next_stats += 15
            self.pump(0.05)

    def summary(self):
        o = self.out
        o.line(o.c("1", "summary"))
        o.note("%d reports sent, %d alert messages received" % (self.reports, len(self.seen_events)))
        by_type = {}
        for (kind, state, level), n in sorted(self.counts.items()):
            by_type.setdefault(kind, []).append("%s@%s %d" % (state, level, n))
        for kind, parts in sorted(by_type.items()):
            o.note("%-14s %s" % (kind, ", ".join(parts)))
        failed = False
        for what, ok in self.checks.items():
            mark = {True: o.c("32", "ok  "), False: o.c("31", "FAIL"), None: o.c("33", "n/a ")}[ok]
            o.note("%s %s%s" % (mark, what, " (the run ended before it could be seen)" if ok is None else ""))
            failed = failed or ok is False
        return not failed

    def close(self):
        self.stop = True
        try:
            self.cl.disconnect()
        except Exception:
            pass
        self.cl.loop_stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=1883)
    ap.add_argument("--root", default="seal", help="mqtt.topic_root of the daemon")
    ap.add_argument("--seconds", type=float, default=90, help="how long to run, setup included")
    ap.add_argument("--households", type=int, default=1333)
    ap.add_argument("--heartbeat", type=float, default=5, help="seconds between reports of each seal")
    ap.add_argument("--silence-after", type=float, default=20, help="the daemon's timing.silence_after")
    ap.add_argument("--street-after", type=float, default=10, help="the daemon's escalation.street_after")
    ap.add_argument("--district-after", type=float, default=10, help="the daemon's escalation.district_after")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--colour", choices=("auto", "always", "never"), default="auto")
    a = ap.parse_args()
    if not 251 <= a.households <= 9999:
        ap.error("--households must be 251-9999 (every community and village gets one)")
    if a.heartbeat <= 0 or a.heartbeat >= a.silence_after:
        ap.error("--heartbeat must be above 0 and below --silence-after")
    colour = a.colour == "always" or (a.colour == "auto" and sys.stdout.isatty() and os.environ.get("TERM") != "dumb")
    out = Out(colour)
    sim = Sim(a, out)
    # SIGTERM (demo.sh's timeout) ends the run like Ctrl-C: with the summary.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    ok = True
    try:
        sim.connect()
        ok = sim.setup()
        sim.start_heartbeats()
        sim.story()
        sim.run()
    except KeyboardInterrupt:
        out.note("interrupted")
    finally:
        sim.close()
    ok = sim.summary() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
