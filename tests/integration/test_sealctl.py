"""sealctl, the operators' tool, against the real daemon and broker."""
import csv
import io
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, SEALBRIDGE_BIN, is_alert, is_state

SEALCTL = Path(os.environ.get("SEALCTL_BIN", str(SEALBRIDGE_BIN.parent / "sealctl")))
UNITS = ["--district", "d-1", "--street", "st-1", "--community", "c-1"]


def sealctl(*args, ini=None, timeout=30, input=None):
    if not SEALCTL.exists():
        pytest.fail("sealctl binary %s not found (build it, or set SEALCTL_BIN)" % SEALCTL, pytrace=False)
    cmd = [str(SEALCTL)] + (["-c", str(ini)] if ini else []) + [str(a) for a in args]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          input=input, universal_newlines=True)


class Lines:
    """Lines of a child's pipe, read on a thread so that a test waits with a timeout."""

    def __init__(self, stream):
        self.q = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        for line in stream:
            self.q.put(line)
        self.q.put(None)

    def next(self, timeout=15, what="a line"):
        try:
            line = self.q.get(timeout=timeout)
        except queue.Empty:
            pytest.fail("sealctl printed no %s within %s s" % (what, timeout), pytrace=False)
        if line is None:
            pytest.fail("sealctl closed its output before %s" % what, pytrace=False)
        return line


def watch(ini, *args):
    p = subprocess.Popen([str(SEALCTL), "-c", str(ini), "watch"] + list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    return p, Lines(p.stdout), Lines(p.stderr)


def ok(r):
    assert r.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (r.returncode, r.stdout, r.stderr)
    return r


def test_admit_and_install_show_in_the_retained_state(daemon, mqtt):
    d = daemon()
    r = ok(sealctl("admit", "--household", "hh-1", *UNITS, "--end", "+2h", "--address", "3-2-1502",
                   "--category", "close_contact", "--persons", "2", ini=d.ini))
    assert r.stdout.strip() == "ok household_id=hh-1", r.stdout
    # common options after the subcommand work too
    r = ok(sealctl("install", "-c", d.ini, "--device", "seal-1", "--household", "hh-1", "--silence-after", "600"))
    assert "device_id=seal-1" in r.stdout, r.stdout
    st = mqtt.retained("%s/state/household/hh-1" % ROOT)
    assert st is not None, "no retained state for hh-1"
    s = st.json
    assert (s["device_id"], s["address"], s["category"], s["persons"]) == ("seal-1", "3-2-1502", "close_contact", 2), s
    end_s = time.mktime(time.strptime(s["end"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert abs(end_s - (time.time() + 7200)) < 120, "end %s is not about two hours from now" % s["end"]


def test_daemon_error_is_exit_1_with_its_code(daemon):
    d = daemon()
    r = sealctl("install", "--device", "seal-1", "--household", "nobody", ini=d.ini)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("error unknown_household: "), r.stderr
    r = sealctl("ack", "--alert", "no-such-alert", "--by", "officer-1", ini=d.ini)
    assert r.returncode == 1 and "error unknown_alert: " in r.stderr, (r.returncode, r.stderr)


@pytest.mark.parametrize("args", [
    ["admit", "--household", "hh-1", "--end", "+2h"],                       # units missing
    ["admit", "--household", "hh-1"] + UNITS + ["--end", "tomorrow"],      # not a time
    ["admit", "--household", "hh-1"] + UNITS + ["--end", "+2h", "--persons", "two"],
    ["install", "--device", "seal-1"],
    ["frobnicate"],
    ["status", "--household", "a/b"],
    ["watch", "--level", "city"],
    ["release", "--household", "hh-1", "--timeout", "0"],
])
def test_usage_errors_are_exit_2_and_send_nothing(daemon, mqtt, args):
    d = daemon()
    mark = mqtt.mark()
    r = sealctl(*args, ini=d.ini)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.strip(), "no explanation on stderr"
    assert not mqtt.messages(lambda m: m.topic.startswith(ROOT + "/cmd/"), since=mark)


def test_help_exits_0(daemon):
    r = ok(sealctl("--help"))
    for cmd in ("admit", "import", "status", "watch", "export"):
        assert cmd in r.stdout
    assert "--silence-after" in ok(sealctl("install", "--help")).stdout


def test_no_daemon_is_exit_3(broker):
    ini = Path(broker.dir) / "nodaemon.ini"
    ini.write_text("[mqtt]\nuri = %s\n" % broker.uri)
    t0 = time.monotonic()
    r = sealctl("admit", "--household", "hh-1", *UNITS, "--end", "+1h", "--timeout", "1", ini=ini)
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)
    assert "no reply" in r.stderr, r.stderr
    assert time.monotonic() - t0 < 8
    # and no broker at all
    r = sealctl("status", "--uri", "tcp://127.0.0.1:1", "--timeout", "1", ini=ini)
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)


def test_permit_ack_resolve_uninstall_release(daemon, mqtt):
    d = daemon()
    ok(sealctl("admit", "--household", "hh-1", *UNITS, "--end", "+1d", ini=d.ini))
    ok(sealctl("install", "--device", "seal-1", "--household", "hh-1", ini=d.ini))
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.wait_for(is_state("hh-1", door="closed"), what="closed state")

    ok(sealctl("permit", "--household", "hh-1", "--until", "+10m", "--reason", "hospital visit", ini=d.ini))
    mark = mqtt.mark()
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    mqtt.wait_for(is_state("hh-1", door="open"), since=mark, what="open state")
    mqtt.expect_none(is_alert(household_id="hh-1"), during=0.5, since=mark, what="alert within a permit")

    mqtt.report("seal-1", {"tamper": True, "seq": 3})
    alert = mqtt.wait_for(is_alert(household_id="hh-1", type="tamper", state="raised"), what="tamper alert")
    aid = alert.json["alert_id"]
    mark = mqtt.mark()
    r = ok(sealctl("ack", "--alert", aid, "--by", "officer-7", "--note", "on my way", ini=d.ini))
    assert "alert_id=%s" % aid in r.stdout, r.stdout
    a = mqtt.wait_for(is_alert(alert_id=aid, state="acked"), since=mark, what="acked").json
    assert (a["by"], a["note"]) == ("officer-7", "on my way"), a
    ok(sealctl("resolve", "--alert", aid, "--by", "officer-7", ini=d.ini))
    mqtt.wait_for(is_alert(alert_id=aid, state="resolved"), since=mark, what="resolved")

    ok(sealctl("uninstall", "--device", "seal-1", ini=d.ini))
    mqtt.wait_for(is_state("hh-1", device_id=None), since=mark, what="state without seal")
    ok(sealctl("release", "--household", "hh-1", "--reason", "ended", ini=d.ini))
    assert mqtt.retained("%s/state/household/hh-1" % ROOT) is None, "state still retained after release"


def test_import_reports_each_row_and_applies_the_good_ones(daemon, mqtt, tmp_path):
    d = daemon()
    f = tmp_path / "roster.csv"
    f.write_bytes(
        b"\xef\xbb\xbfhousehold_id,district_id,street_id,community_id,end,address,category,persons,device_id\r\n"
        b"hh-1,d-1,st-1,c-1,+14d,\"Bldg 3, \"\"east\"\" door\",close_contact,3,seal-1\r\n"
        b"hh-2,d-1,st-1,c-1,+14d,2-1-101,nonsense,,\r\n"
        b"hh-3,d-1,st-2,c-1,+14d,\"unclosed,other,,\r\n")
    r = sealctl("import", f, ini=d.ini)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert lines[0] == "row 2 hh-1: ok", r.stdout
    assert lines[1].startswith("row 3 hh-2: error bad_request: "), r.stdout
    assert "category" in lines[1], r.stdout
    assert lines[2].startswith("row 4 -: error bad_csv: "), r.stdout
    assert lines[-1] == "3 rows: 1 ok, 2 failed", r.stdout

    st = mqtt.retained("%s/state/household/hh-1" % ROOT)
    assert st is not None and st.json["device_id"] == "seal-1", st
    assert st.json["address"] == 'Bldg 3, "east" door' and st.json["persons"] == 3, st.json
    assert mqtt.retained("%s/state/household/hh-2" % ROOT) is None

    # an install that fails is reported on the row that asked for it
    f.write_text("household_id,district_id,street_id,community_id,end,device_id\n"
                 "hh-4,d-1,st-1,c-1,+1d,seal-1\n")
    r = sealctl("import", f, ini=d.ini)
    assert r.returncode == 1 and r.stdout.startswith("row 2 hh-4: error device_in_use: "), r.stdout
    # a header that lacks a required column stops everything: nothing is sent
    f.write_text("household_id,district_id,street_id,end\nhh-5,d-1,st-1,+1d\n")
    r = sealctl("import", f, ini=d.ini)
    assert r.returncode == 2 and "community_id" in r.stderr, (r.returncode, r.stderr)


def test_status_lists_the_households(daemon, mqtt):
    d = daemon()
    mqtt.admit("hh-1", address="3-2-1502")
    mqtt.install("seal-1", "hh-1")
    mqtt.admit("hh-2", community="c-2", address="9-9-909")
    mqtt.report("seal-1", {"door": "closed", "battery": 77, "seq": 1})
    mqtt.wait_for(is_state("hh-1", battery=77), what="state with battery")
    r = ok(sealctl("status", ini=d.ini))
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["HOUSEHOLD", "ADDRESS"], r.stdout
    row = next(l for l in lines if l.startswith("hh-1 "))
    assert row.split()[:6] == ["hh-1", "3-2-1502", "seal-1", "closed", "yes", "77%"], row
    assert any(l.startswith("hh-2 ") for l in lines), r.stdout
    r = ok(sealctl("status", "--community", "c-2", ini=d.ini))
    assert [l.split()[0] for l in r.stdout.splitlines()[1:]] == ["hh-2"], r.stdout


def test_watch_prints_alerts_and_ends_on_sigint(daemon, mqtt):
    d = daemon()
    mqtt.admit("hh-1", address="3-2-1502")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.wait_for(is_state("hh-1", door="closed"), what="closed state")
    p, out, err = watch(d.ini, "--level", "community")
    try:
        # it says when its subscription is in place
        assert "watching %s/alert/community/+" % ROOT in err.next(what="'watching'")
        mqtt.report("seal-1", {"door": "open", "seq": 2})
        alert = mqtt.wait_for(is_alert(household_id="hh-1", type="door_open", state="raised"), what="alert")
        line = out.next(what="alert line").split()
        assert line[1:9] == ["community", "c-1", "door_open", "raised", "hh-1", "3-2-1502",
                             alert.json["alert_id"], "1"], line
        assert line[0] == alert.json["at"], line
        p.send_signal(signal.SIGINT)
        assert p.wait(10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_export_has_the_door_events(daemon, mqtt):
    d = daemon()
    mqtt.admit("hh-1", address="3-2-1502")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    mqtt.wait_for(is_alert(household_id="hh-1", type="door_open"), what="alert")
    time.sleep(0.3)
    # the database path comes from the settings file's [store] path
    r = ok(sealctl("export", "--since", "-1h", ini=d.ini))
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["at", "kind", "household_id", "device_id", "alert_id", "detail"], rows[0]
    doors = [x for x in rows[1:] if x[1] == "door" and x[2] == "hh-1"]
    assert [x[5] for x in doors][:2] == ["closed", "open"], rows
    assert all(x[3] == "seal-1" for x in doors), doors
    assert all(len(x) == 6 for x in rows), rows
    # a window before any of it is empty; --db names the database explicitly
    r = ok(sealctl("export", "--since", "-2h", "--until", "-1h", "--db", d.settings["path"], ini=d.ini))
    assert r.stdout.splitlines() == ["at,kind,household_id,device_id,alert_id,detail"], r.stdout
    r = sealctl("export", "--since", "-1h", "--db", str(Path(d.dir) / "missing.db"), ini=d.ini)
    assert r.returncode == 3, (r.returncode, r.stderr)


def test_watch_resubscribes_after_the_broker_restarts(daemon, mqtt, broker):
    d = daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.wait_for(is_state("hh-1", door="closed"), what="closed state")
    p, out, err = watch(d.ini)
    try:
        assert "watching" in err.next(what="'watching'")
        mark = mqtt.mark()
        broker.restart()  # persistence off: every session and subscription is gone
        mqtt.wait_for(lambda m: m.topic == ROOT + "/bridge/status" and m.get("state") == "online",
                      timeout=20, since=mark, what="daemon back online")
        assert "reconnected" in err.next(timeout=20, what="'reconnected'")
        mqtt.report("seal-1", {"door": "open", "seq": 2})
        mqtt.wait_for(is_alert(household_id="hh-1", type="door_open"), what="alert")
        line = out.next(what="alert line").split()
        assert line[3:6] == ["door_open", "raised", "hh-1"], line
        p.send_signal(signal.SIGINT)
        assert p.wait(10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_with_a_login_the_reply_comes_under_the_user_name(daemon, mqtt):
    # deploy/acl lets an account read replies only under R/reply/<user name>/
    d = daemon()
    mark = mqtt.mark()
    ok(sealctl("admit", "--household", "hh-1", *UNITS, "--end", "+1h", "--username", "c-1", ini=d.ini))
    m = mqtt.wait_for(lambda m: m.topic.startswith(ROOT + "/reply/"), since=mark, what="the reply")
    assert m.topic.startswith(ROOT + "/reply/c-1/sealctl-"), m
