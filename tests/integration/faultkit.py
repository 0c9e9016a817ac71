"""Helpers for the fault tests: break the broker, the link, the disk or the
daemon on purpose, and look at what a consumer and the database saw."""
import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from conftest import ROOT, is_alert, tail

STATUS = ROOT + "/bridge/status"
LOST_RE = r"connection to \S+ lost|transport: .*(lost|closed|disconnect)"


def wait_until(fn, timeout, what, interval=0.05):
    """fn() until it returns something true; fails the test after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail("no %s within %.0f s" % (what, timeout), pytrace=False)
        time.sleep(interval)


def is_status(state, **kw):
    def pred(m):
        return m.topic == STATUS and m.get("state") == state and all(m.get(k) == v for k, v in kw.items())
    return pred


# ------------------------------------------------------------ the daemon's log

def log_mark(d):
    """Where the daemon's log ends now; pass it to wait_log."""
    try:
        return d.log.stat().st_size
    except OSError:
        return 0


def log_since(d, mark):
    try:
        with open(d.log, "rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def wait_log(d, pattern, mark=0, timeout=10, what=None):
    """The first line of the log after mark that matches pattern, or fail."""
    rx = re.compile(pattern)

    def found():
        for line in log_since(d, mark).splitlines():
            if rx.search(line):
                return line
        return None
    deadline = time.monotonic() + timeout
    while True:
        line = found()
        if line:
            return line
        if time.monotonic() > deadline:
            pytest.fail("the daemon's log never said %s (/%s/) within %.0f s; log tail:\n%s"
                        % (what or "it", pattern, timeout, tail(d.log)), pytrace=False)
        time.sleep(0.05)


def log_has(d, pattern, mark=0):
    return any(re.search(pattern, x) for x in log_since(d, mark).splitlines())


# ------------------------------------------------------------ broker faults

@contextlib.contextmanager
def held(d):
    """The daemon frozen (SIGSTOP) for the duration, whatever happens."""
    if not d.running():
        yield
        return
    d.proc.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        if d.proc.poll() is None:
            d.proc.send_signal(signal.SIGCONT)


def broker_back(broker, mqtt, d=None):
    """Starts a killed broker again on the same port. A broker without
    persistence forgets every subscription, and the test client (clean start)
    would miss what the daemon republishes before the client has subscribed
    again: so the daemon is held until the client is back. The daemon's own
    reconnect attempts while the broker was down have already happened."""
    hold = held(d) if d is not None else contextlib.nullcontext()
    with hold:
        mqtt.subscribed.clear()
        broker.start()
        if not mqtt.subscribed.wait(15):
            pytest.fail("test client did not subscribe again after the broker restart", pytrace=False)


# ------------------------------------------------------------ cutting the link

def daemon_local_ports(d, broker_port):
    """Local ports of the daemon's TCP connections to the broker."""
    r = subprocess.run(["ss", "-tnpH", "state", "established", "dst", "127.0.0.1", "dport", "=",
                        ":%d" % broker_port], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
    ports = []
    for line in r.stdout.decode(errors="replace").splitlines():
        if "pid=%d," % d.proc.pid not in line:
            continue
        cols = line.split()
        # Recv-Q Send-Q Local:Port Peer:Port Process
        local = next((c for c in cols if c.startswith("127.0.0.1:")), None)
        if local:
            ports.append(int(local.rsplit(":", 1)[1]))
    return ports


def cut(d, broker_port, timeout=10):
    """Cuts the daemon's connection(s) to the broker with ss -K, leaving the
    test client's own connection alone. Returns None when cut (the daemon's
    log shows the loss), else why not."""
    ports = daemon_local_ports(d, broker_port)
    if not ports:
        return "ss shows no connection of the daemon (pid %d) to port %d" % (d.proc.pid, broker_port)
    mark = log_mark(d)
    for p in ports:
        r = subprocess.run(["ss", "-K", "dst", "127.0.0.1", "dport", "=", ":%d" % broker_port,
                            "sport", "=", ":%d" % p], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=10)
        out = r.stdout.decode(errors="replace").strip()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_has(d, LOST_RE, mark):
            return None
        time.sleep(0.05)
    return "ss -K did not cut the connection (the daemon's log shows no loss within %d s; ss said: %s)" \
        % (timeout, out or "nothing")


_SS_CAN_CUT = []


def ss_can_cut():
    """Whether ss -K can destroy a loopback TCP socket here (it needs
    CONFIG_INET_DIAG_DESTROY and CAP_NET_ADMIN); checked once, on a socket pair
    of our own."""
    if _SS_CAN_CUT:
        return _SS_CAN_CUT[0]
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    cli = socket.create_connection(("127.0.0.1", port), timeout=2)
    acc, _ = srv.accept()
    why = None
    try:
        r = subprocess.run(["ss", "-K", "dst", "127.0.0.1", "dport", "=", ":%d" % port],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        acc.settimeout(2)
        try:
            data = acc.recv(1)  # b"" (EOF) or a reset when the peer was destroyed
            if data != b"":
                why = "unexpected data"
        except socket.timeout:
            why = "ss -K cannot cut a loopback connection here (ss said: %s)" % (
                r.stdout.decode(errors="replace").strip().splitlines()[:1] or ["nothing"])[0]
        except ConnectionResetError:
            pass
    except (OSError, subprocess.SubprocessError) as e:
        why = "ss -K failed: %s" % e
    finally:
        for s in (cli, acc, srv):
            s.close()
    _SS_CAN_CUT.append(why)
    return why


# ------------------------------------------------------------ the database

def db_ro(path):
    """A read-only connection, so the checks cannot repair what they look at."""
    return sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)


def integrity(path):
    with contextlib.closing(db_ro(path)) as c:
        return [r[0] for r in c.execute("PRAGMA integrity_check")]


def db_alerts(path):
    with contextlib.closing(db_ro(path)) as c:
        c.row_factory = sqlite3.Row
        return [dict(r) for r in c.execute("SELECT * FROM alerts")]


def skipped_event_numbers(path):
    """alert_id -> event numbers a start skipped after an unclean stop (audit kind 'ids')."""
    out = {}
    with contextlib.closing(db_ro(path)) as c:
        for aid, detail in c.execute("SELECT alert_id, detail FROM audit WHERE kind = 'ids'"):
            m = re.match(r"event numbers (\d+)-(\d+) skipped", detail or "")
            assert m, "audit row of kind ids without its range: %r" % detail
            out.setdefault(aid, set()).update(range(int(m.group(1)), int(m.group(2)) + 1))
    return out


def expected_event_ids(alerts, path=None):
    """Every message an alert in the store has made: <alert_id>-1..msg_seq,
    without the numbers a restart skipped (given the database path)."""
    skipped = skipped_event_numbers(path) if path else {}
    return {"%s-%d" % (a["id"], k) for a in alerts for k in range(1, a["msg_seq"] + 1)
            if k not in skipped.get(a["id"], ())}


def seen_event_ids(mqtt, since=0):
    return {m.json["event_id"] for m in mqtt.messages(is_alert(), since) if "event_id" in m.json}


def raised_ids_by_alert(mqtt, since=0):
    """alert_id -> set of event ids of its "raised" messages."""
    out = {}
    for m in mqtt.messages(is_alert(state="raised"), since):
        out.setdefault(m.json["alert_id"], set()).add(m.json["event_id"])
    return out


def latest_states(mqtt, since=0):
    """household_id -> the last household state received (parsed)."""
    out = {}
    for m in mqtt.messages(lambda m: m.topic.startswith(ROOT + "/state/household/"), since):
        out[m.topic.rsplit("/", 1)[1]] = m.json
    return out


def alert_count(state, alert_type):
    for a in (state or {}).get("alerts") or []:
        if a.get("type") == alert_type:
            return a.get("count")
    return None


# ------------------------------------------------------------ the roster

def fit(mqtt, n, prefix=""):
    """n households hh-<i>, each with seal-<i> fitted; returns the pairs."""
    pairs = [("%shh-%d" % (prefix, i), "%sseal-%d" % (prefix, i)) for i in range(n)]
    for hh, dev in pairs:
        mqtt.admit(hh)
        mqtt.install(dev, hh)
    return pairs


class Publisher:
    """A second client that publishes fast and records nothing."""

    def __init__(self, broker, inflight=1000):
        self.c = paho.Client(client_id="pub-" + uuid.uuid4().hex[:10], protocol=paho.MQTTv5)
        self.c.max_inflight_messages_set(inflight)
        self.c.max_queued_messages_set(0)
        self.connected = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p=None: self.connected.set() if rc == 0 else None
        self.c.connect(broker.host, broker.port, keepalive=30, clean_start=True)
        self.c.loop_start()
        if not self.connected.wait(10):
            self.close()
            raise RuntimeError("publisher could not connect to %s" % broker.uri)

    def publish(self, topic, payload, qos=1):
        return self.c.publish(topic, payload, qos=qos)

    def close(self):
        try:
            self.c.disconnect()
        except Exception:
            pass
        self.c.loop_stop()


# ------------------------------------------------------------ disk full

def mount_tmpfs(path, size):
    """Mounts a tmpfs of size on path; returns None or why it cannot."""
    Path(path).mkdir(parents=True, exist_ok=True)
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", str(path)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    except (OSError, subprocess.SubprocessError) as e:
        return "mount: %s" % e
    if r.returncode != 0:
        return "mount -t tmpfs failed (needs root): %s" % r.stdout.decode(errors="replace").strip()
    return None


def umount(path):
    for _ in range(50):
        r = subprocess.run(["umount", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        if r.returncode == 0:
            return
        time.sleep(0.1)
    subprocess.run(["umount", "-l", str(path)], timeout=20)


def fill(path):
    """Writes path until the file system is full; returns the bytes written."""
    n = 0
    block = b"\0" * 4096
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                w = f.write(block)
            except OSError:
                break
            if not w:
                break
            n += w
    # tmpfs may still hold a partial page: eat it byte by byte
    with open(path, "ab", buffering=0) as f:
        for _ in range(4096):
            try:
                if not f.write(b"\0"):
                    break
            except OSError:
                break
            n += 1
    return n


def free_bytes(path):
    st = os.statvfs(str(path))
    return st.f_bavail * st.f_frsize
