"""Seal custody through the contract: a seal registered, allocated to a
community, fitted, its household released, collected, inspected ok and
fitted on another door, with its retained state and the statistics right at
every step and across restarts."""
import sqlite3
import time

from conftest import ROOT, is_alert, is_rejected

STATS = 0.5  # stats_interval


def seal_topic(device_id):
    return "%s/state/seal/%s" % (ROOT, device_id)


def seal_state(mqtt, device_id, since, what, **want):
    """The next published state of the seal with every field in want."""
    def pred(m):
        j = m.json
        return m.topic == seal_topic(device_id) and isinstance(j, dict) and all(j.get(k) == v for k, v in want.items())
    return mqtt.wait_for(pred, 10, since, what=what).json


def retained_seal(mqtt, device_id):
    r = mqtt.retained(seal_topic(device_id), timeout=5)
    assert r is not None, "no retained state for %s" % device_id
    return r.json


ZERO = {"allocated": 0, "fitted": 0, "awaiting_collection": 0, "collected": 0, "faulty": 0, "lost": 0}


def seals_stats(mqtt, level, unit, since, **want):
    """The first statistics of the unit made after since whose seals are exactly want (others 0)."""
    expect = dict(ZERO)
    expect.update(want)
    if level == "district":
        expect.setdefault("in_stock", 0)
    topic = "%s/stats/%s/%s" % (ROOT, level, unit)
    seen = []

    def pred(m):
        if m.topic != topic or not isinstance(m.json, dict):
            return False
        seen.append(m.json.get("seals"))
        return m.json.get("seals") == expect
    try:
        return mqtt.wait_for(pred, 3 * STATS + 2, since, what="%s %s seals %s" % (level, unit, expect)).json
    except AssertionError:
        raise AssertionError("%s %s: want seals %s, saw %s" % (level, unit, expect, seen[-3:]))


def with_model(daemon, **settings):
    """A daemon whose settings know the seal model the tests register seals with."""
    d = daemon(start=False, **settings)
    with open(d.ini, "a") as f:
        f.write("\n[model.ds-200]\nbattery_low = 20\n")
    return d.start()


def test_custody_life_of_a_seal(daemon, mqtt):
    d = with_model(daemon, stats_interval=STATS)
    mqtt.admit("hh-1", community="c-1", street="st-1", address="3-2-1502")
    mqtt.admit("hh-2", community="c-1", street="st-1", address="3-2-1601")
    mqtt.install("seal-old", "hh-2")  # hh-2 has a seal already: the new one replaces it later

    # Registered: in stock, held by the district.
    mark = mqtt.mark()
    r = mqtt.ok("register", {"device_id": "seal-A", "model": "ds-200", "batch": "2026-11-A", "note": "box 1"})
    assert r["seal_state"] == "in_stock" and r["device_id"] == "seal-A", r
    st = seal_state(mqtt, "seal-A", mark, "seal-A in stock", state="in_stock")
    assert st["model"] == "ds-200" and st["batch"] == "2026-11-A", st
    assert st["community_id"] is None and st["household_id"] is None and st["fittings"] == 0, st
    seals_stats(mqtt, "district", "d-1", mark, in_stock=1, fitted=1)

    # A seal in stock can be tested: its report is kept, raises nothing, is not rejected.
    mark = mqtt.mark()
    mqtt.report("seal-A", {"battery": 97, "door": "open", "seq": 1})
    st = seal_state(mqtt, "seal-A", mark, "battery of seal-A in stock", battery=97)
    assert st["last_seen"] is not None and st["state"] == "in_stock", st
    mqtt.expect_none(is_alert(), during=0.5, since=mark, what="alert from a seal in stock")
    assert not mqtt.messages(is_rejected(topic=ROOT + "/dev/seal-A/report"), since=mark)

    # Allocated to community c-1 (whose street is st-1).
    mark = mqtt.mark()
    r = mqtt.ok("allocate", {"device_id": "seal-A", "community_id": "c-1"})
    assert r["seal_state"] == "allocated", r
    st = seal_state(mqtt, "seal-A", mark, "seal-A allocated", state="allocated")
    assert st["community_id"] == "c-1" and st["street_id"] == "st-1", st
    seals_stats(mqtt, "community", "c-1", mark, allocated=1, fitted=1)
    seals_stats(mqtt, "street", "st-1", mark, allocated=1, fitted=1)
    seals_stats(mqtt, "district", "d-1", mark, in_stock=0, allocated=1, fitted=1)

    # Fitted on hh-1's door.
    mark = mqtt.mark()
    mqtt.install("seal-A", "hh-1")
    st = seal_state(mqtt, "seal-A", mark, "seal-A fitted", state="fitted")
    assert st["household_id"] == "hh-1" and st["address"] == "3-2-1502" and st["fittings"] == 1, st
    assert st["model"] == "ds-200", st
    seals_stats(mqtt, "community", "c-1", mark, fitted=2)
    assert mqtt.cmd("inspect", {"device_id": "seal-A", "result": "ok"})["error"] == "device_in_use"
    assert mqtt.cmd("allocate", {"device_id": "seal-A", "street_id": "st-1"})["error"] == "device_in_use"

    # hh-1 is released: the seal stays on the door, awaiting collection.
    mark = mqtt.mark()
    mqtt.ok("release", {"household_id": "hh-1", "reason": "quarantine over"})
    st = seal_state(mqtt, "seal-A", mark, "seal-A awaiting collection", state="awaiting_collection")
    assert st["household_id"] == "hh-1" and st["released"] is not None, st
    seals_stats(mqtt, "community", "c-1", mark, fitted=1, awaiting_collection=1)
    mqtt.expect_none(is_alert(type="unmonitored"), during=0.3, since=mark, what="unmonitored after release")

    # Collected by the community worker.
    mark = mqtt.mark()
    mqtt.ok("uninstall", {"device_id": "seal-A"})
    st = seal_state(mqtt, "seal-A", mark, "seal-A collected", state="collected")
    assert st["household_id"] is None and st["community_id"] == "c-1", st
    seals_stats(mqtt, "community", "c-1", mark, fitted=1, collected=1)
    assert mqtt.cmd("install", {"device_id": "seal-A", "household_id": "hh-2"})["error"] == "household_has_device"

    # Checked ok: back in stock, its battery history gone.
    mark = mqtt.mark()
    r = mqtt.ok("inspect", {"device_id": "seal-A", "result": "ok", "note": "clean, latch fine"})
    assert r["seal_state"] == "in_stock", r
    st = seal_state(mqtt, "seal-A", mark, "seal-A back in stock", state="in_stock")
    assert st["battery"] is None and st["community_id"] is None and st["fittings"] == 1, st
    seals_stats(mqtt, "district", "d-1", mark, in_stock=1, fitted=1)
    seals_stats(mqtt, "community", "c-1", mark, fitted=1)

    # Fitted on another door, in place of hh-2's seal, in one step.
    mark = mqtt.mark()
    r = mqtt.ok("swap", {"household_id": "hh-2", "device_id": "seal-A"})
    assert r["seal_state"] == "fitted", r
    st = seal_state(mqtt, "seal-A", mark, "seal-A fitted again", state="fitted")
    assert st["household_id"] == "hh-2" and st["fittings"] == 2, st
    old = seal_state(mqtt, "seal-old", mark, "seal-old collected", state="collected")
    assert old["household_id"] is None, old
    seals_stats(mqtt, "community", "c-1", mark, fitted=1, collected=1)
    seals_stats(mqtt, "district", "d-1", mark, in_stock=0, fitted=1, collected=1)
    mqtt.expect_none(is_alert(type="unmonitored"), during=0.3, since=mark, what="unmonitored during swap")

    # A restart keeps all of it.
    d.restart()
    st = retained_seal(mqtt, "seal-A")
    assert st["state"] == "fitted" and st["household_id"] == "hh-2" and st["fittings"] == 2, st
    mark = mqtt.mark()
    seals_stats(mqtt, "district", "d-1", mark, in_stock=0, fitted=1, collected=1)
    mqtt.ok("uninstall", {"device_id": "seal-A"})
    st = seal_state(mqtt, "seal-A", mark, "seal-A collected after restart", state="collected")
    assert st["fittings"] == 2 and st["model"] == "ds-200" and st["batch"] == "2026-11-A", st
    seals_stats(mqtt, "community", "c-1", mark, collected=2)

    # The audit trail has the seal's history: every door and every inspection.
    d.stop()
    db = sqlite3.connect(d.settings["path"])
    try:
        rows = db.execute("SELECT household_id, detail FROM audit WHERE device_id = 'seal-A' AND kind = 'seal'"
                          " ORDER BY id").fetchall()
    finally:
        db.close()
    doors = {h for h, detail in rows if "-> fitted" in detail}
    assert doors == {"hh-1", "hh-2"}, rows
    assert any("inspect ok: clean, latch fine" in detail for _, detail in rows), rows


def test_custody_errors(daemon, mqtt):
    daemon()
    mqtt.admit("hh-1")
    assert mqtt.cmd("allocate", {"device_id": "ghost", "street_id": "st-1"})["error"] == "unknown_device"
    assert mqtt.cmd("inspect", {"device_id": "ghost", "result": "ok"})["error"] == "unknown_device"
    mqtt.ok("register", {"device_id": "seal-B"})
    for body in ({"device_id": "seal-B"}, {"device_id": "seal-B", "street_id": "st-1", "community_id": "c-1"}):
        assert mqtt.cmd("allocate", body)["error"] == "bad_request", body
    assert mqtt.cmd("inspect", {"device_id": "seal-B", "result": "broken"})["error"] == "bad_request"
    assert mqtt.cmd("register", {"device_id": "seal-B", "model": "not a model"})["error"] == "bad_request"
    mqtt.ok("inspect", {"device_id": "seal-B", "result": "faulty"})
    r = mqtt.cmd("install", {"device_id": "seal-B", "household_id": "hh-1"})
    assert r["error"] == "device_unavailable", r
    assert mqtt.cmd("swap", {"device_id": "seal-B", "household_id": "hh-1"})["error"] == "device_unavailable"
    assert mqtt.cmd("allocate", {"device_id": "seal-B", "street_id": "st-1"})["error"] == "device_in_use"
    # Re-registering changes only what it names: the seal stays faulty.
    r = mqtt.ok("register", {"device_id": "seal-B", "batch": "b2"})
    assert r["seal_state"] == "faulty", r
    # An install of a seal nobody registered registers it first, as before.
    mqtt.install("seal-new", "hh-1")
    assert retained_seal(mqtt, "seal-new")["state"] == "fitted"
    # From an unknown seal a report is still rejected.
    mark = mqtt.mark()
    mqtt.report("seal-stranger", {"battery": 50, "seq": 1})
    mqtt.wait_for(is_rejected(topic=ROOT + "/dev/seal-stranger/report", reason="unknown_device"), since=mark,
                  what="rejected unknown_device")


def test_seal_states_published_again_after_a_crash(daemon, mqtt):
    """Seal states follow the household states' rule: what changed since the
    confirmed mark is published again at start-up."""
    d = daemon()
    mqtt.ok("register", {"device_id": "seal-early"})
    mqtt.wait_for(lambda m: m.topic == seal_topic("seal-early"), what="state of seal-early")
    time.sleep(0.05)
    cut = int(time.time() * 1000)
    time.sleep(0.05)
    mqtt.ok("register", {"device_id": "seal-late", "batch": "b9"})
    mqtt.wait_for(lambda m: m.topic == seal_topic("seal-late"), what="state of seal-late")
    d.stop()
    db = sqlite3.connect(d.settings["path"])
    try:
        with db:  # as if the daemon had died before the broker confirmed what came after cut
            db.execute("UPDATE meta SET value = ? WHERE key = 'states_confirmed_ms'", (str(cut),))
    finally:
        db.close()
    mqtt.publish(seal_topic("seal-late"), b"", retain=True)
    mqtt.publish(seal_topic("seal-early"), b"", retain=True)
    mark = mqtt.mark()
    d.start()
    r = mqtt.retained(seal_topic("seal-late"), timeout=5)
    assert r is not None and r.json["state"] == "in_stock" and r.json["batch"] == "b9", r
    mqtt.expect_none(lambda m: m.topic == seal_topic("seal-early") and m.payload, during=1, since=mark,
                     what="seal-early, confirmed before the mark, published again")
