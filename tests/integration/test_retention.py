"""Retention (store.keep_days) and the permit cap, through the real daemon.

A database that ran for months is made by backdating rows in the real SQLite
file, as a long run leaves them; the daemon started on it removes what is
older than keep_days, does not load the closed alerts that went, and forgets
at run time what its hourly pass (here every second) removes. Start-up times
are printed for docs/storage.md, never asserted.
"""
import contextlib
import random
import sqlite3
import time

from conftest import is_alert, is_rejected, now_ms
from faultkit import integrity, log_mark, wait_log

DAY = 24 * 3600 * 1000
KEEP = 90


def rw(path):
    return contextlib.closing(sqlite3.connect(str(path), timeout=10))


def count(path, sql, *args):
    with rw(path) as c:
        return c.execute(sql, args).fetchone()[0]


def backdate_months(path, audit_rows=200000, closed_alerts=20000, released=5000):
    """Four months of history: audit rows every few seconds, closed alerts and
    released households with permits, half of each older than KEEP days."""
    now = now_ms()
    rnd = random.Random(7)
    with rw(path) as c:
        c.execute("BEGIN")
        c.executemany("INSERT INTO audit(at_ms, kind, household_id, detail) VALUES(?, 'door', 'hh-live', 'open')",
                      ((now - rnd.randrange(120 * DAY),) for _ in range(audit_rows)))
        c.executemany("INSERT INTO households(id, district_id, street_id, community_id, start_ms, end_ms,"
                      " released, released_ms) VALUES(?, 'd-1', 'st-1', 'c-1', ?, ?, 1, ?)",
                      (("hh-gone-%d" % i if i % 2 else "hh-kept-%d" % i, now - 130 * DAY, now - 100 * DAY,
                        now - (100 if i % 2 else 30) * DAY) for i in range(released)))
        c.executemany("INSERT INTO permits(household_id, from_ms, until_ms, reason) VALUES(?, ?, ?, 'x')",
                      (("hh-gone-%d" % i if i % 2 else "hh-kept-%d" % i, now - 120 * DAY, now - 110 * DAY)
                       for i in range(released) for _ in range(2)))
        c.executemany("INSERT INTO alerts(id, type, state, level, household_id, since_ms, raised_ms, count,"
                      " msg_seq, due_ms, updated_ms) VALUES(?, 'door_open', 'resolved', 'community', 'hh-live',"
                      " ?, ?, 1, 2, 0, ?)",
                      (("old-%d" % i if i % 2 else "recent-%d" % i, now - 100 * DAY, now - 100 * DAY,
                        now - (95 if i % 2 else 10) * DAY) for i in range(closed_alerts)))
        c.execute("COMMIT")


def timed_start(d):
    t0 = time.monotonic()
    d.start()
    return time.monotonic() - t0


def test_a_month_of_history_is_trimmed_at_start_and_not_loaded(daemon, mqtt):
    d = daemon(keep_days=KEEP)
    mqtt.admit("hh-live")
    d.stop()
    t_new = timed_start(d)  # the same tiny roster, no history
    d.stop()

    db = d.settings["path"]
    backdate_months(db)
    old_cut = now_ms() - KEEP * DAY
    assert count(db, "SELECT count(*) FROM audit WHERE at_ms < ?", old_cut) > 40000
    lmark = log_mark(d)
    t_month = timed_start(d)
    line = wait_log(d, r"store: retention at start: removed (\d+) audit rows, (\d+) closed alerts, "
                       r"(\d+) released households, (\d+) permits", lmark, 10, "the retention log line")
    d.stop()
    t_again = timed_start(d)  # what a daemon that trimmed every hour finds at its start
    print("start-up to online: new %.2f s; first start on four months of history (trims them) %.2f s; "
          "next start %.2f s; %s" % (t_new, t_month, t_again, line))

    cut = now_ms() - KEEP * DAY
    assert count(db, "SELECT count(*) FROM audit WHERE at_ms < ?", cut - 60000) == 0
    assert count(db, "SELECT count(*) FROM audit WHERE kind = 'door' AND at_ms >= ?", cut + 60000) > 50000
    assert count(db, "SELECT count(*) FROM alerts WHERE id LIKE 'old-%'") == 0
    assert count(db, "SELECT count(*) FROM alerts WHERE id LIKE 'recent-%'") == 10000
    assert count(db, "SELECT count(*) FROM households WHERE id LIKE 'hh-gone-%'") == 0
    assert count(db, "SELECT count(*) FROM households WHERE id LIKE 'hh-kept-%'") == 2500
    assert count(db, "SELECT count(*) FROM permits WHERE household_id LIKE 'hh-gone-%'") == 0
    # Lapsed permits of households still kept go too.
    assert count(db, "SELECT count(*) FROM permits WHERE until_ms < ?", cut) == 0

    # What went was never loaded: an ack of it is unknown; of a kept one, closed.
    r = mqtt.cmd("ack", {"alert_id": "old-1", "by": "officer-1"})
    assert r["ok"] is False and r["error"] == "unknown_alert", r
    r = mqtt.cmd("ack", {"alert_id": "recent-2", "by": "officer-1"})
    assert r["ok"] is False and r["error"] == "alert_closed", r
    r = mqtt.cmd("permit", {"household_id": "hh-gone-1", "until": "2099-01-01T00:00:00Z"})
    assert r["ok"] is False and r["error"] == "unknown_household", r
    r = mqtt.cmd("permit", {"household_id": "hh-kept-2", "until": "2099-01-01T00:00:00Z"})
    assert r["ok"] is False and r["error"] == "not_active", r
    d.stop()
    assert integrity(db) == ["ok"]


def test_hourly_pass_forgets_what_it_removes(daemon, mqtt):
    d = daemon(keep_days=KEEP, retention_every=1)
    db = d.settings["path"]
    mqtt.admit("hh-live")
    mqtt.install("seal-live", "hh-live")
    mqtt.report("seal-live", {"door": "closed", "seq": 1})
    mark = mqtt.mark()
    mqtt.report("seal-live", {"door": "open", "seq": 2})
    a = mqtt.wait_for(is_alert(type="door_open", state="raised"), 10, mark, what="door alert").json
    mqtt.ok("resolve", {"alert_id": a["alert_id"], "by": "officer-1"})
    mqtt.admit("hh-done")
    mqtt.install("seal-done", "hh-done")
    mqtt.ok("release", {"household_id": "hh-done", "reason": "quarantine over"})
    mqtt.ok("uninstall", {"device_id": "seal-done"})  # collected: nothing ties the seal to that door now
    # A released household whose seal is still on its door awaits collection: it stays.
    mqtt.admit("hh-left")
    mqtt.install("seal-left", "hh-left")
    mqtt.ok("release", {"household_id": "hh-left"})
    # Still known: an ack of the closed alert says closed.
    r = mqtt.cmd("ack", {"alert_id": a["alert_id"], "by": "officer-1"})
    assert r["error"] == "alert_closed", r

    # Age them in the file, as 100 days of running would.
    lmark = log_mark(d)
    with rw(db) as c:
        c.execute("UPDATE alerts SET updated_ms = updated_ms - ? WHERE id = ?", (100 * DAY, a["alert_id"]))
        c.execute("UPDATE households SET released_ms = released_ms - ? WHERE id IN ('hh-done', 'hh-left')",
                  (100 * DAY,))
        c.execute("UPDATE audit SET at_ms = at_ms - ? WHERE household_id = 'hh-done'", (100 * DAY,))
        c.commit()
    wait_log(d, r"store: retention pass: removed \d+ audit rows, 1 closed alerts, 1 released households", lmark, 10,
             "the hourly pass")
    assert count(db, "SELECT count(*) FROM alerts WHERE id = ?", a["alert_id"]) == 0
    assert count(db, "SELECT count(*) FROM households WHERE id = 'hh-done'") == 0
    assert count(db, "SELECT count(*) FROM audit WHERE household_id = 'hh-done'") == 0
    assert count(db, "SELECT count(*) FROM devices WHERE id = 'seal-done' AND household_id IS NULL") == 1
    assert count(db, "SELECT count(*) FROM households WHERE id = 'hh-left'") == 1
    assert count(db, "SELECT count(*) FROM devices WHERE id = 'seal-left' AND household_id = 'hh-left'") == 1
    # Gone from memory too.
    r = mqtt.cmd("ack", {"alert_id": a["alert_id"], "by": "officer-1"})
    assert r["ok"] is False and r["error"] == "unknown_alert", r
    r = mqtt.cmd("release", {"household_id": "hh-done"})
    assert r["ok"] is False and r["error"] == "unknown_household", r
    # The seal it left is free for another household; the household id for a new quarantine.
    mqtt.admit("hh-next")
    mqtt.install("seal-done", "hh-next")
    mqtt.admit("hh-done")
    d.restart()
    r = mqtt.cmd("ack", {"alert_id": a["alert_id"], "by": "officer-1"})
    assert r["error"] == "unknown_alert", r
    d.stop()
    assert integrity(db) == ["ok"]


def test_keep_days_0_keeps_everything(daemon, mqtt):
    d = daemon(keep_days=0)
    db = d.settings["path"]
    mqtt.admit("hh-live")
    d.stop()
    backdate_months(db, audit_rows=2000, closed_alerts=20, released=10)
    total = count(db, "SELECT count(*) FROM audit")
    d.start()
    r = mqtt.cmd("ack", {"alert_id": "old-1", "by": "officer-1"})
    assert r["error"] == "alert_closed", r
    d.stop()
    assert count(db, "SELECT count(*) FROM audit") >= total
    assert count(db, "SELECT count(*) FROM alerts WHERE id LIKE 'old-%'") == 10


def test_permit_cap(daemon, mqtt):
    d = daemon()
    mqtt.admit("hh-1")
    for i in range(32):
        mqtt.ok("permit", {"household_id": "hh-1", "until": "2099-01-01T00:00:%02dZ" % i})
    mark = mqtt.mark()
    r = mqtt.cmd("permit", {"household_id": "hh-1", "until": "2099-01-02T00:00:00Z", "reason": "one more"})
    assert r["ok"] is False and r["error"] == "too_many_permits", r
    assert "32" in r["message"], r
    mqtt.wait_for(is_rejected(reason="too_many_permits"), 10, mark, what="rejected too_many_permits")
    db = d.settings["path"]
    assert count(db, "SELECT count(*) FROM field_permits WHERE level = 'household' AND target = 'hh-1'") == 32
    # A restart keeps exactly those: the cap holds after a reload too.
    d.restart()
    r = mqtt.cmd("permit", {"household_id": "hh-1", "until": "2099-01-02T00:00:00Z"})
    assert r["error"] == "too_many_permits", r
    d.stop()
