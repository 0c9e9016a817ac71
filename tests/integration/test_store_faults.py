"""A full disk, then a stop: what a consumer and an operator see (docs/storage.md).

Ids must never repeat whatever a store fault loses: an alert raised while the
disk is full whose row never reached the file, or an alert whose row survived
while its later messages were lost. A stop during the fault retries for
store.stop_retry, then exits 3 with a log line saying what was lost. At the
max_waiting_saves cap the daemon stops taking input until the store writes
again, so the broker keeps those inputs unacknowledged.
"""
import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import ROOT, SEALBRIDGE_BIN, is_alert, is_state, iso_in, tail, topic_is
from faultkit import (Publisher, fill, free_bytes, integrity, is_status, log_mark, log_since, mount_tmpfs, umount, wait_log,
                      wait_until)

STOP_RETRY = 2


def is_save_error(err):
    """A save that failed, not the checkpointer's own fault (also "store: ..." in the status)."""
    return bool(err) and "store" in err and "checkpoint" not in err


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs for the database; requested before `daemon` so that the
    daemon is stopped before it is unmounted. A fault test that cannot make its
    fault fails: it must not pass without having run."""
    path = tmp_path / "disk"
    why = mount_tmpfs(path, "2m")
    if why:
        pytest.fail(why)
    yield path
    filler = path / "filler"
    if filler.exists():
        filler.unlink()
    umount(path)


def store_error_status(mqtt, since):
    return mqtt.messages(lambda m: is_status("online")(m) and is_save_error(m.get("error")), since)


def fill_until_saves_fail(d, mqtt, disk):
    """Fills the disk, then admits households until a save fails (SQLite may
    reuse its WAL for the first few). Returns how many admits it took."""
    mark = mqtt.mark()
    fill(disk / "filler")
    assert free_bytes(disk) < 4096, "tmpfs not full"
    n = 0
    while not store_error_status(mqtt, mark):
        assert n < 300, "no store error after %d saves on a full disk; log:\n%s" % (n, tail(d.log, 30))
        r = mqtt.cmd("admit", {"household_id": "hh-full-%d" % n, "community_id": "c-1", "street_id": "st-1",
                               "district_id": "d-1", "end": iso_in(3600)})
        assert r["ok"] is True, "admit refused on a full disk (the reply goes out from memory): %r" % r
        n += 1
    return n


def fitted(mqtt, hh, dev):
    mqtt.admit(hh)
    mqtt.install(dev, hh)
    mqtt.report(dev, {"door": "closed", "seq": 1})
    mqtt.wait_for(is_state(hh, door="closed"), what="%s door closed" % hh)


def door_alert(mqtt, hh, dev, seq, what):
    mark = mqtt.mark()
    mqtt.report(dev, {"door": "open", "seq": seq})
    return mqtt.wait_for(is_alert(type="door_open", state="raised", household_id=hh), 10, mark, what=what).json


def sigterm(d, timeout):
    """Stops the daemon as systemd would; returns (exit code, seconds it took)."""
    d.expected_exit = True
    t0 = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    try:
        rc = d.proc.wait(timeout)
    except Exception:
        d.proc.kill()
        d.proc.wait()
        pytest.fail("daemon did not exit within %.0f s of SIGTERM; log:\n%s" % (timeout, tail(d.log)))
    return rc, time.monotonic() - t0


def test_disk_full_then_stop_never_repeats_an_id(small_disk, daemon, mqtt):
    db = small_disk / "sealbridge.db"
    d = daemon(path=str(db), stop_retry=STOP_RETRY)
    fitted(mqtt, "hh-a", "seal-a")
    fitted(mqtt, "hh-b", "seal-b")
    # Saved before the fault: its row survives, its next message will not.
    b = door_alert(mqtt, "hh-b", "seal-b", 2, "alert of hh-b before the fault")

    n = fill_until_saves_fail(d, mqtt, small_disk)
    a = door_alert(mqtt, "hh-a", "seal-a", 2, "alert of hh-a while the disk is full")
    mark = mqtt.mark()
    r = mqtt.cmd("ack", {"alert_id": b["alert_id"], "by": "officer-1"})
    assert r["ok"] is True, r
    mqtt.wait_for(is_alert(alert_id=b["alert_id"], state="acked"), 10, mark, what="ack of hh-b from memory")
    print("store failing after %d admits; alert %s raised from memory, %s acked from memory"
          % (n, a["alert_id"], b["alert_id"]))

    # A stop during the fault: bounded retry, then a non-zero exit that says what was lost.
    fill(small_disk / "filler-top-up")  # whatever SQLite gave back since (a WAL reset) is taken again
    lmark = log_mark(d)
    rc, took = sigterm(d, 3 * STOP_RETRY + 2 + 10)
    log = log_since(d, lmark)
    assert rc == 3, "exit code %s after a stop during a store fault; log:\n%s" % (rc, log[-3000:])
    assert took >= STOP_RETRY * 0.9, "stopped after %.1f s without retrying for store.stop_retry" % took
    assert took <= 3 * STOP_RETRY + 2 + 5, "stop took %.1f s" % took  # + the shutdown's own 3 s + 2 s
    m = re.search(r"stopped with the store failing \(.*\): (\d+) saves and (\d+) messages not written are lost", log)
    assert m, "no log line saying what the stop lost:\n%s" % log[-3000:]
    assert int(m.group(1)) > 0, m.group(0)
    assert "retrying for up to %.1f s" % STOP_RETRY in log, log[-3000:]
    print("stop took %.1f s: %s" % (took, m.group(0)))

    before = mqtt.messages(is_alert())
    ids_before = {x.json["alert_id"] for x in before}
    events_before = {x.json["event_id"] for x in before}
    assert a["alert_id"] in ids_before and b["alert_id"] in ids_before

    os.unlink(small_disk / "filler")
    assert integrity(str(db)) == ["ok"]
    d.start()
    # Another household's new alert: its ids are new.
    fitted(mqtt, "hh-c", "seal-c")
    c = door_alert(mqtt, "hh-c", "seal-c", 2, "alert of hh-c after the restart")
    assert c["alert_id"] not in ids_before, "alert id %s used again after the lost saves" % c["alert_id"]
    assert c["event_id"] not in events_before, "event id %s used again" % c["event_id"]
    # The alert whose row survived while its ack was lost: its next messages are new event ids.
    mark = mqtt.mark()
    r = mqtt.cmd("resolve", {"alert_id": b["alert_id"], "by": "officer-1", "note": "after the disk was full"})
    assert r["ok"] is True, r
    resolved = mqtt.wait_for(is_alert(alert_id=b["alert_id"], state="resolved"), 10, mark, what="resolved").json
    assert resolved["event_id"] not in events_before, \
        "event id %s of a lost message used again for another" % resolved["event_id"]

    # Over the whole test: one event id, one message.
    by_event = {}
    for x in mqtt.messages(is_alert()):
        key = (x.json["alert_id"], x.json["state"], x.json["level"])
        by_event.setdefault(x.json["event_id"], set()).add(key)
    repeated = {e: v for e, v in by_event.items() if len(v) > 1}
    assert not repeated, "event ids used for different messages: %r" % repeated
    d.stop()
    assert integrity(str(db)) == ["ok"]


def test_stop_during_a_store_fault_that_clears_exits_0(small_disk, daemon, mqtt):
    """The bounded retry is a retry: when space comes back within it, nothing is lost."""
    db = small_disk / "sealbridge.db"
    d = daemon(path=str(db), stop_retry=8)
    fitted(mqtt, "hh-a", "seal-a")
    fill_until_saves_fail(d, mqtt, small_disk)
    a = door_alert(mqtt, "hh-a", "seal-a", 2, "alert while the disk is full")
    lmark = log_mark(d)
    d.expected_exit = True
    d.proc.send_signal(signal.SIGTERM)
    wait_log(d, r"stopping while the store fails: \d+ saves wait", lmark, 10, "the stop retrying")
    os.unlink(small_disk / "filler")
    rc = d.proc.wait(8 * 3 + 2)
    assert rc == 0, "exit code %s; log:\n%s" % (rc, log_since(d, lmark)[-3000:])
    d.start()
    r = mqtt.cmd("ack", {"alert_id": a["alert_id"], "by": "officer-1"})
    assert r["ok"] is True, "the alert saved by the stop's retry is not known after the restart: %r" % r
    d.stop()


def test_waiting_saves_cap_pauses_input_until_the_store_writes(small_disk, daemon, mqtt):
    db = small_disk / "sealbridge.db"
    d = daemon(path=str(db), max_waiting_saves=100)
    fitted(mqtt, "hh-a", "seal-a")
    lmark = log_mark(d)
    mark = mqtt.mark()
    fill(small_disk / "filler")
    # Each admit waits as two saves (household, audit row): the cap comes within 60.
    status = "%s/bridge/status" % ROOT
    paused = None
    for i in range(200):
        mqtt.publish("%s/cmd/admit" % ROOT, {"household_id": "hh-cap-%d" % i, "community_id": "c-1",
                                             "street_id": "st-1", "district_id": "d-1", "end": iso_in(3600)})
        paused = mqtt.messages(lambda m: m.topic == status and m.get("state") == "offline"
                               and "input paused" in (m.get("error") or ""), mark)
        if paused:
            break
    if not paused:
        paused = [mqtt.wait_for(lambda m: m.topic == status and m.get("state") == "offline"
                                and "input paused" in (m.get("error") or ""), 10, mark,
                                what="status offline saying input is paused")]
    wait_log(d, r"store: input paused: disconnecting", lmark, 10, "the pause in the log")
    print("paused: %s" % paused[0].json["error"])

    # Sent while paused: the broker holds it for the daemon's session; no reply yet.
    late_mark = mqtt.mark()
    mqtt.publish("%s/cmd/admit" % ROOT, {"household_id": "hh-late", "community_id": "c-1", "street_id": "st-1",
                                         "district_id": "d-1", "end": iso_in(3600), "request_id": "late-1",
                                         "reply_to": "test/reply/late"})
    mqtt.expect_none(topic_is("test/reply/late"), 2, late_mark, what="a reply while input is paused")

    os.unlink(small_disk / "filler")
    reply = mqtt.wait_for(topic_is("test/reply/late"), 20, late_mark, what="the held admit answered after the pause")
    assert reply.json["ok"] is True, reply.json
    mqtt.wait_for(lambda m: m.topic == status and m.get("state") == "online" and not m.get("error"), 20, late_mark,
                  what="status online without error")
    log = log_since(d, lmark)
    assert re.search(r"store: \d+ saves were lost while store.max_waiting_saves was reached", log), log[-3000:]
    assert "store: taking input again" in log, log[-3000:]
    d.stop()
    assert integrity(str(db)) == ["ok"]


def test_alert_numbers_stay_under_the_reserved_mark_past_a_block(daemon, mqtt, broker):
    """600 alerts in one run use more than half of the first block of 1000: a
    new block is reserved while running, always ahead of every number used."""
    d = daemon()
    homes = [("hh-n%d" % i, "seal-n%d" % i) for i in range(60)]
    for hh, dev in homes:
        mqtt.admit(hh)
        mqtt.install(dev, hh)
    seq = {dev: 0 for _, dev in homes}
    used = set()
    pub = Publisher(broker)
    for _ in range(10):
        mark = mqtt.mark()
        for hh, dev in homes:
            seq[dev] += 1
            pub.publish("%s/dev/%s/report" % (ROOT, dev), json.dumps({"door": "open", "seq": seq[dev]}))
        wait_until(lambda: len(mqtt.messages(is_alert(state="raised"), mark)) >= len(homes), 30,
                   "a door alert from every household", interval=0.2)
        raised = {x.json["alert_id"] for x in mqtt.messages(is_alert(state="raised"), mark)}
        used |= raised
        for aid in raised:
            pub.publish("%s/cmd/resolve" % ROOT, json.dumps({"alert_id": aid, "by": "officer-1"}))
        for hh, dev in homes:
            seq[dev] += 1
            pub.publish("%s/dev/%s/report" % (ROOT, dev), json.dumps({"door": "closed", "seq": seq[dev]}))
        wait_until(lambda: len(mqtt.messages(is_alert(state="resolved"), mark)) >= len(raised), 30,
                   "every alert resolved", interval=0.2)
    pub.close()
    numbers = sorted(int(a.rsplit("-", 1)[1]) for a in used)
    assert len(numbers) == 600 and len(set(numbers)) == 600, "alert ids used twice: %d of 600" % len(set(numbers))
    with contextlib.closing(sqlite3.connect("file:%s?mode=ro" % d.settings["path"], uri=True)) as c:
        mark_now = int(c.execute("SELECT value FROM meta WHERE key = 'alert_reserved'").fetchone()[0])
    assert mark_now > max(numbers), "reserved mark %d behind number %d in use" % (mark_now, max(numbers))
    assert mark_now > 1001, "no new block reserved while running (mark %d after %d alerts)" % (mark_now, len(numbers))
    # A restart goes on after the mark.
    d.restart()
    fitted(mqtt, "hh-after", "seal-after")
    a = door_alert(mqtt, "hh-after", "seal-after", 2, "alert after the restart")
    assert int(a["alert_id"].rsplit("-", 1)[1]) >= mark_now, (a["alert_id"], mark_now)
    d.stop()


def test_start_on_a_full_disk_refuses_rather_than_repeat_ids(small_disk, daemon, mqtt):
    """Without a committed block of alert numbers a start could hand out a
    number an earlier run used: it exits 1 and says why; systemd retries."""
    db = small_disk / "sealbridge.db"
    d = daemon(path=str(db))
    fitted(mqtt, "hh-a", "seal-a")
    # Another reader keeps the WAL index open, so that the file still opens
    # and only the first write fails (a disk with no room at all fails at open).
    with contextlib.closing(sqlite3.connect(str(db))) as keep:
        keep.execute("SELECT count(*) FROM households").fetchone()
        d.stop()
        fill(small_disk / "filler")
        assert free_bytes(small_disk) < 4096, "tmpfs not full"
        r = subprocess.run([str(SEALBRIDGE_BIN), "-c", str(d.ini)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30, cwd=str(d.dir))
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 1, "exit code %s on a full disk:\n%s" % (r.returncode, out[-2000:])
    assert re.search(r"cannot reserve alert ids: .*full.*not starting, because alert and event ids could repeat",
                     out), out[-2000:]
    os.unlink(small_disk / "filler")
    d.start()
    mark = mqtt.mark()
    mqtt.report("seal-a", {"door": "open", "seq": 2})
    mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-a"), 10, mark,
                  what="alert once space is back")
    d.stop()
