"""Household states go out from memory, without an outbox row. The daemon
records (meta states_confirmed_ms) a time before which the broker confirmed
every state it made; after a crash it publishes again the households changed
since then, and after a clean stop nothing needs publishing again."""
import sqlite3
import time

from conftest import ROOT, is_state, now_ms

KEY = "states_confirmed_ms"


def state_topic(household_id):
    return "%s/state/household/%s" % (ROOT, household_id)


def read_mark(d):
    db = sqlite3.connect(d.settings["path"])
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (KEY,)).fetchone()
        return int(row[0]) if row else None
    finally:
        db.close()


def write_mark(d, ms):
    db = sqlite3.connect(d.settings["path"])
    try:
        with db:
            db.execute("INSERT INTO meta(key, value) VALUES(?, ?)"
                       " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (KEY, str(ms)))
    finally:
        db.close()


def fitted(mqtt, household_id, device_id, battery):
    mqtt.admit(household_id)
    mqtt.install(device_id, household_id)
    mqtt.report(device_id, {"battery": battery, "seq": 1})
    mqtt.wait_for(is_state(household_id, battery=battery), what="state of %s" % household_id)


def test_states_changed_after_the_mark_are_published_again(daemon, mqtt):
    d = daemon()
    fitted(mqtt, "hh-old", "seal-old", 70)
    time.sleep(0.05)
    cut = now_ms()
    time.sleep(0.05)
    fitted(mqtt, "hh-new", "seal-new", 50)
    mqtt.report("seal-old", {"battery": 69, "seq": 2})  # a report after the mark: this one too
    mqtt.wait_for(is_state("hh-old", battery=69), what="second state of hh-old")
    d.stop()
    # As if the daemon had died before the broker confirmed what came after cut.
    write_mark(d, cut)
    mqtt.publish(state_topic("hh-new"), b"", retain=True)
    mqtt.publish(state_topic("hh-old"), b"", retain=True)
    d.start()
    r = mqtt.retained(state_topic("hh-new"), timeout=5)
    assert r is not None and r.json["battery"] == 50 and r.json["device_id"] == "seal-new", r
    r = mqtt.retained(state_topic("hh-old"), timeout=5)
    assert r is not None and r.json["battery"] == 69, r
    # Confirmed now: the mark moves past the republished states.
    deadline = time.monotonic() + 5
    while read_mark(d) <= cut and time.monotonic() < deadline:
        time.sleep(0.1)
    assert read_mark(d) > cut, "the confirmed mark did not move after the states went out"


def test_states_confirmed_before_the_mark_are_not_published_again(daemon, mqtt):
    d = daemon()
    fitted(mqtt, "hh-1", "seal-1", 70)
    d.stop()
    mark = read_mark(d)
    assert mark is not None and mark <= now_ms(), "no confirmed mark after a clean stop: %r" % mark
    mqtt.publish(state_topic("hh-1"), b"", retain=True)
    since = mqtt.mark()
    d.start()
    mqtt.expect_none(is_state("hh-1"), during=1.5, since=since, what="state published again after a clean stop")
    assert mqtt.retained(state_topic("hh-1"), timeout=1) is None


def test_a_household_released_after_the_mark_is_cleared_again(daemon, mqtt):
    """A household released after the mark gets its empty retained message again."""
    d = daemon()
    fitted(mqtt, "hh-1", "seal-1", 70)
    cut = now_ms()
    time.sleep(0.05)
    mqtt.ok("release", {"household_id": "hh-1", "reason": "ended"})
    mqtt.wait_for(lambda m: m.topic == state_topic("hh-1") and m.payload == b"", what="cleared state")
    d.stop()
    write_mark(d, cut)
    since = mqtt.mark()
    d.start()
    mqtt.wait_for(lambda m: m.topic == state_topic("hh-1") and m.payload == b"", since=since,
                  what="the empty retained state published again")
