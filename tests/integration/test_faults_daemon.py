"""Daemon faults: SIGKILL in the middle of a burst, and a full disk under the
database."""
import json
import os
import time
import uuid

import pytest

from conftest import ROOT, iso_in, is_alert, is_state, topic_is
from faultkit import (Publisher, alert_count, db_alerts, expected_event_ids, fill, fit, free_bytes, integrity, is_status,
                      latest_states, log_mark, mount_tmpfs, raised_ids_by_alert, seen_event_ids, umount,
                      wait_log, wait_until)

HOUSEHOLDS = 50
REPORTS = 500  # 10 per household: open, closed, ... so 5 door openings each
KILL_AT = 230


def is_save_error(err):
    """A save that failed, not the checkpointer's own fault (also "store: ..." in the status)."""
    return bool(err) and "store" in err and "checkpoint" not in err


def test_sigkill_in_a_burst_of_reports_and_acks(daemon, mqtt, broker):
    d = daemon()
    pairs = fit(mqtt, HOUSEHOLDS)
    pub = Publisher(broker)
    sent = []
    seq = {dev: 0 for _, dev in pairs}
    acks = {}  # request_id -> alert_id
    acked = set()
    start = mqtt.mark()

    def ack_new_alerts():
        for m in mqtt.messages(is_alert(type="door_open", state="raised"), start):
            aid = m.json["alert_id"]
            if aid not in acked:
                acked.add(aid)
                rid = "ack-" + uuid.uuid4().hex[:12]
                acks[rid] = aid
                sent.append(pub.publish(ROOT + "/cmd/ack", json.dumps(
                    {"alert_id": aid, "by": "officer-1", "request_id": rid, "reply_to": "test/reply/acks"})))

    for i in range(REPORTS):
        dev = pairs[i % HOUSEHOLDS][1]
        seq[dev] += 1
        sent.append(pub.publish("%s/dev/%s/report" % (ROOT, dev),
                                json.dumps({"door": "open" if seq[dev] % 2 else "closed", "seq": seq[dev]})))
        if i % 10 == 9:
            time.sleep(0.002)  # a burst, but one the daemon is busy with when killed
            ack_new_alerts()
        if i == KILL_AT:
            d.kill()  # the rest is queued by the broker in the daemon's session
            killed_mark = mqtt.mark()
            assert integrity(d.settings["path"]) == ["ok"], "database damaged by SIGKILL"
    wait_until(lambda: all(x.is_published() for x in sent), 30, "the broker taking every report")
    d.start()
    ack_new_alerts()

    # Every report was taken exactly once: 5 openings folded into one alert each.
    def settled():
        st = latest_states(mqtt, start)
        return all(st.get(hh) and st[hh].get("door") == "closed" and alert_count(st[hh], "door_open") == 5
                   for hh, _ in pairs)
    wait_until(settled, 60, "every household's state door closed with 5 door openings counted; last states:\n%s"
               % "\n".join("%s: door %s count %s" % (hh, (s or {}).get("door"), alert_count(s, "door_open"))
                           for hh, s in sorted(latest_states(mqtt, start).items())))
    ack_new_alerts()
    wait_until(lambda: all(x.is_published() for x in sent), 30, "the broker taking every ack")
    pub.close()
    wait_until(lambda: {m.json.get("request_id") for m in mqtt.messages(topic_is("test/reply/acks"))}
               >= set(acks), 30, "a reply to every ack")
    bad = [m for m in mqtt.messages(topic_is("test/reply/acks")) if m.json.get("ok") is not True]
    assert not bad, "ack refused: %r" % bad[:5]

    alerts = db_alerts(d.settings["path"])
    want = expected_event_ids(alerts, d.settings["path"])
    wait_until(lambda: want <= seen_event_ids(mqtt), 30, "every committed alert message delivered; missing %s"
               % sorted(want - seen_event_ids(mqtt))[:10])
    d.stop()
    assert integrity(d.settings["path"]) == ["ok"], "database damaged"

    alerts = db_alerts(d.settings["path"])
    by_hh = {}
    for a in alerts:
        assert a["type"] == "door_open", "unexpected alert: %r" % a
        by_hh.setdefault(a["household_id"], []).append(a)
    for hh, _ in pairs:
        got = by_hh.get(hh, [])
        assert len(got) == 1, "%s has %d door alerts in the store: %r" % (hh, len(got), got)
        assert got[0]["count"] == 5 and got[0]["state"] == "acked", got[0]
    raised = raised_ids_by_alert(mqtt, start)
    assert all(len(v) == 1 for v in raised.values()), \
        "an alert raised under two event ids: %r" % {k: v for k, v in raised.items() if len(v) > 1}
    ids_per_hh = {}
    for m in mqtt.messages(is_alert(type="door_open"), start):
        ids_per_hh.setdefault(m.json["household_id"], set()).add(m.json["alert_id"])
    two = {hh: ids for hh, ids in ids_per_hh.items() if len(ids) > 1}
    assert not two, "a household got a second door alert while the first was open: %r" % two
    print("killed after %d of %d reports; %d messages after the kill" % (KILL_AT + 1, REPORTS,
                                                                       len(mqtt.messages(since=killed_mark))))


# ------------------------------------------------------------------ disk full

@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs for the database; requested before `daemon` so that the
    daemon is stopped before it is unmounted."""
    path = tmp_path / "disk"
    why = mount_tmpfs(path, "2m")
    if why:
        pytest.fail(why, pytrace=False)
    yield path
    filler = path / "filler"
    if filler.exists():
        filler.unlink()
    umount(path)


def test_disk_full_alerts_still_go_out_and_saves_catch_up(small_disk, daemon, mqtt):
    db = small_disk / "sealbridge.db"
    d = daemon(path=str(db))
    mqtt.admit("hh-1", address="1-1-101")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.wait_for(is_state("hh-1", door="closed"), what="state door closed")

    filler = small_disk / "filler"
    lmark = log_mark(d)
    mark = mqtt.mark()
    fill(filler)
    assert free_bytes(small_disk) < 4096, "tmpfs not full"
    # SQLite reuses its WAL after a checkpoint, so the first saves may still
    # fit: admit households until a save fails (each admit is a transaction).
    n = 0
    while not mqtt.messages(lambda m: is_status("online")(m) and is_save_error(m.get("error")), mark):
        assert n < 300, "no store error after %d saves on a full disk; log:\n%s" % (n, log_since_tail(d))
        r = mqtt.cmd("admit", {"household_id": "hh-full-%d" % n, "community_id": "c-1", "street_id": "st-1",
                               "district_id": "d-1", "end": iso_in(3600)})
        assert r["ok"] is True, "admit refused on a full disk (the reply goes out from memory): %r" % r
        n += 1
    last_admitted = "hh-full-%d" % (n - 1)
    err = mqtt.messages(lambda m: is_status("online")(m) and is_save_error(m.get("error")), mark)[0]
    wait_log(d, r"store: .*failed", lmark, 10, "that the store failed")

    mark = mqtt.mark()
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    a = mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-1"), 10, mark,
                      what="door alert while the disk is full").json
    mqtt.wait_for(is_state("hh-1", door="open"), 10, mark, what="state door open while the disk is full")
    print("store error after %d admits: %s" % (n, err.json["error"]))

    mark = mqtt.mark()
    lmark = log_mark(d)
    os.unlink(filler)
    mqtt.wait_for(lambda m: is_status("online")(m) and not m.get("error"), 15, mark,
                  what="status without error once space is back")
    wait_log(d, r"store: writing again", lmark, 10, "that the store writes again")

    d.restart()
    mark = mqtt.mark()
    r = mqtt.cmd("ack", {"alert_id": a["alert_id"], "by": "officer-1", "note": "after the disk was full"})
    assert r["ok"] is True, "the alert raised while the disk was full was not saved: %r" % r
    acked = mqtt.wait_for(is_alert(alert_id=a["alert_id"], state="acked"), 10, mark, what="acked").json
    assert acked["since"] == a["since"], (a, acked)
    r = mqtt.cmd("permit", {"household_id": last_admitted, "until": iso_in(60)})
    assert r["ok"] is True, "household admitted while the disk was full was not saved: %r" % r
    d.stop()
    assert integrity(str(db)) == ["ok"]


def log_since_tail(d):
    from conftest import tail
    return tail(d.log, 30)
