"""The database stays small under a steady stream of state changes: the WAL is
checkpointed into the main file and stays near its bound ([store]
wal_limit_mb), and a WAL that cannot be checkpointed is reported in
R/bridge/status. Door flips inside permits: each one is a state change with an
audit row, committed before its PUBACK."""
import os
import sqlite3

from conftest import ROOT

STATUS = ROOT + "/bridge/status"
SEALS = 20
MIB = 1 << 20


def roster(mqtt):
    for i in range(SEALS):
        mqtt.admit("hh-%d" % i, end_in=7200)
        mqtt.install("seal-%d" % i, "hh-%d" % i)
        mqtt.ok("permit", {"household_id": "hh-%d" % i, "until": 4102444800, "reason": "test"})


def flips(mqtt, n, start=0, sample=None):
    """n door changes, round robin over the seals; waits until the daemon processed them all."""
    pending = []
    for k in range(start, start + n):
        seal = k % SEALS
        door = "open" if (k // SEALS) % 2 == 0 else "closed"
        pending.append(mqtt.c.publish("%s/dev/seal-%d/report" % (ROOT, seal),
                                      '{"door":"%s"}' % door, qos=1))
        if len(pending) >= 200:
            for p in pending:
                p.wait_for_publish(30)
                assert p.is_published(), "report not acknowledged"
            pending = []
            if sample:
                sample()
    for p in pending:
        p.wait_for_publish(30)
    # Commands are handled in order after the reports: the reply means all were applied.
    r = mqtt.cmd("ack", {"alert_id": "none-1", "by": "t"}, timeout=60)
    assert r.get("error") == "unknown_alert", r


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def test_wal_stays_bounded_and_the_main_file_grows(daemon, mqtt):
    d = daemon(wal_limit_mb=1, level="info")
    db = d.settings["path"]
    roster(mqtt)
    flips(mqtt, 200)
    main0 = size(db)
    worst = [0]

    def sample():
        worst[0] = max(worst[0], size(db + "-wal"))

    n = 4000
    flips(mqtt, n, start=200, sample=sample)
    sample()
    main1 = size(db)
    # Each flip writes at least one audit row and the seal's row: several KiB of WAL frames
    # in all, many times the bound; the WAL must not have kept them.
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as c:
        rows = c.execute("SELECT count(*) FROM audit WHERE kind = 'door'").fetchone()[0]
    assert rows >= n, "only %d door rows in the audit trail" % rows
    assert main1 > main0 + 100 * 1024, "main file %d -> %d bytes: nothing was checkpointed" % (main0, main1)
    assert worst[0] <= 6 * MIB, "WAL reached %.1f MiB with a 1 MiB bound" % (worst[0] / MIB)
    st = mqtt.retained(STATUS)
    assert st is not None and st.json.get("state") == "online" and "error" not in st.json, st


def test_a_pinned_wal_is_reported_in_the_status(daemon, mqtt):
    d = daemon(wal_limit_mb=1, level="info")
    db = d.settings["path"]
    roster(mqtt)
    # An operator's sqlite3 shell left in a read transaction pins the WAL.
    reader = sqlite3.connect("file:%s?mode=ro" % db, uri=True, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM audit").fetchone()
    since = mqtt.mark()
    flips(mqtt, 3000)
    m = mqtt.wait_for(lambda m: m.topic == STATUS and "cannot keep up" in (m.get("error") or ""), 15, since,
                      what="status error about the WAL")
    assert m.get("state") == "online", m
    since = mqtt.mark()
    reader.execute("COMMIT")
    reader.close()
    mqtt.wait_for(lambda m: m.topic == STATUS and m.get("state") == "online" and not m.get("error"), 15, since,
                  what="status without the error once the reader let go")
    flips(mqtt, 100, start=3000)
    assert size(db + "-wal") <= 2 * MIB, "WAL still %.1f MiB after the reader let go" % (size(db + "-wal") / MIB)
