"""Fixtures for the integration tests: a private Mosquitto, the real daemon,
and an MQTT v5 client that records what a consumer sees.

Every JSON payload the daemon publishes is also appended to a JSONL file that
the schema validator (tests/schema/validate.mjs) checks when the session ends.
"""
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

REPO = Path(__file__).resolve().parents[2]
ROOT = "seal"
MOSQUITTO = os.environ.get("MOSQUITTO_BIN", "/usr/sbin/mosquitto")
SEALBRIDGE_BIN = Path(os.environ.get("SEALBRIDGE_BIN", str(REPO / "build" / "sealbridge")))
# e.g. SEALBRIDGE_WRAP="valgrind -q --error-exitcode=9" to run every daemon under valgrind
WRAP = shlex.split(os.environ.get("SEALBRIDGE_WRAP", ""))
START_TIMEOUT = 15.0 * (4 if WRAP else 1)


def now_ms():
    return int(time.time() * 1000)


def iso(ms):
    """RFC 3339 UTC with milliseconds, as the interface writes times."""
    ms = int(ms)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def iso_in(seconds):
    return iso(now_ms() + seconds * 1000)


def parse_iso(s):
    """Inverse of iso() for what the daemon publishes; returns ms."""
    import calendar
    base, frac = s[:-1].split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(frac)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=60):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------- capture

class _Capture:
    """Appends every payload the daemon published to one JSONL file."""

    def __init__(self):
        self.lock = threading.Lock()
        self.path = None
        self.count = 0

    def add(self, topic, payload):
        if self.path is None:
            return
        # What the tests themselves publish is not the daemon's output.
        if topic.startswith(ROOT + "/dev/") or topic.startswith(ROOT + "/cmd/"):
            return
        if payload:
            try:
                value = json.loads(payload)
            except ValueError:
                value = {"__not_json__": payload.decode("utf-8", "replace")}
        else:
            value = None
        with self.lock:
            with open(self.path, "a") as f:
                f.write(json.dumps({"topic": topic, "payload": value}) + "\n")
            self.count += 1


CAPTURE = _Capture()


def pytest_configure(config):
    fd, path = tempfile.mkstemp(prefix="sealbridge-published-", suffix=".jsonl")
    os.close(fd)
    CAPTURE.path = path


SCHEMA_RESULT = []  # lines for the terminal summary


def pytest_sessionfinish(session, exitstatus):
    """Validates every captured payload against schemas/ (tests/schema/validate.mjs)."""
    path = CAPTURE.path
    if path is None:
        return
    validator = REPO / "tests" / "schema" / "validate.mjs"
    node = shutil.which("node")
    if CAPTURE.count == 0:
        os.unlink(path)
        return
    if not node or not validator.exists() or not (REPO / "tests" / "schema" / "node_modules").is_dir():
        # A check that cannot run fails: without node and tests/schema/node_modules (npm ci)
        # nothing the daemon published would be checked against schemas/.
        SCHEMA_RESULT.append("SCHEMA VALIDATION COULD NOT RUN (needs node, %s and its node_modules: "
                             "run `npm ci` in tests/schema); published payloads kept in %s" % (validator, path))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    try:
        r = subprocess.run([node, str(validator), "--root", ROOT, path], cwd=str(REPO),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        out, rc = r.stdout.decode(errors="replace"), r.returncode
    except subprocess.TimeoutExpired:
        out, rc = "validator timed out", 1
    lines = out.strip().splitlines()
    if rc != 0:
        SCHEMA_RESULT.append("SCHEMA VALIDATION FAILED for payloads the daemon published (all kept in %s):" % path)
        shown = lines[:-1][:20]
        SCHEMA_RESULT.extend("  " + (x if len(x) <= 400 else x[:400] + "...") for x in shown)
        if len(lines) - 1 > len(shown):
            SCHEMA_RESULT.append("  ... %d more" % (len(lines) - 1 - len(shown)))
        SCHEMA_RESULT.append("  " + (lines[-1] if lines else "(no output), exit %d" % rc))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        SCHEMA_RESULT.append("schema validation of %d published payloads: %s"
                             % (CAPTURE.count, lines[-1] if lines else "ok"))
        os.unlink(path)


def pytest_terminal_summary(terminalreporter):
    if SCHEMA_RESULT:
        terminalreporter.section("schema validation")
        for line in SCHEMA_RESULT:
            terminalreporter.write_line(line)


# ----------------------------------------------------------------- broker

class Broker:
    def __init__(self, workdir):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.dir = Path(workdir)
        self.conf = self.dir / "mosquitto.conf"
        self.log = self.dir / "mosquitto.log"
        self.conf.write_text(
            "listener %d 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "max_queued_messages 100000\n"
            "set_tcp_nodelay true\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "connection_messages true\n" % self.port)
        self.proc = None
        self.uri = "tcp://%s:%d" % (self.host, self.port)

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "broker already running"
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited with %s:\n%s" % (self.proc.returncode, tail(self.log)))
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("mosquitto does not accept on %d:\n%s" % (self.port, tail(self.log)))
                time.sleep(0.05)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(10)

    def restart(self):
        self.kill()
        self.start()

    def stop(self):
        self.proc.send_signal(signal.SIGSTOP)

    def cont(self):
        self.proc.send_signal(signal.SIGCONT)

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path)
    b.start()
    yield b
    b.kill()


# ------------------------------------------------------------ mqtt client

class Msg:
    __slots__ = ("topic", "payload", "retain", "props", "t", "_json")

    def __init__(self, topic, payload, retain, props, t):
        self.topic, self.payload, self.retain, self.props, self.t = topic, payload, retain, props, t
        self._json = False

    @property
    def json(self):
        """Parsed payload, or None when empty or not JSON."""
        if self._json is False:
            try:
                self._json = json.loads(self.payload) if self.payload else None
            except ValueError:
                self._json = None
        return self._json

    def get(self, key, default=None):
        j = self.json
        return j.get(key, default) if isinstance(j, dict) else default

    def __repr__(self):
        p = self.payload.decode("utf-8", "replace")
        if len(p) > 300:
            p = p[:300] + "..."
        return "%.3f %s%s %s" % (self.t, self.topic, " (retained)" if self.retain else "", p)


def topic_is(topic):
    return lambda m: m.topic == topic


def is_alert(**kw):
    """Predicate for an alert message whose payload has every given field."""
    level_topic = kw.pop("topic", None)

    def pred(m):
        if not m.topic.startswith(ROOT + "/alert/"):
            return False
        if level_topic is not None and m.topic != level_topic:
            return False
        j = m.json
        if not isinstance(j, dict):
            return False
        return all(j.get(k) == v for k, v in kw.items())
    return pred


TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ALERT_FIELDS = ("event_id", "alert_id", "type", "state", "level", "household_id", "address", "device_id",
                "community_id", "street_id", "district_id", "since", "at", "count")


def check_alert(m, **expected):
    """Asserts an alert message has every interface field, a topic matching its
    level, and the expected values; returns the payload."""
    a = m.json
    assert isinstance(a, dict), "alert is not a JSON object: %r" % m
    missing = [f for f in ALERT_FIELDS if f not in a]
    if a.get("state") in ("acked", "resolved"):
        missing += [f for f in ("by", "note") if f not in a]
    assert not missing, "alert lacks %s: %r" % (missing, m)
    unit = {"community": "community_id", "street": "street_id", "district": "district_id"}.get(a["level"])
    assert unit, "bad level: %r" % m
    assert m.topic == "%s/alert/%s/%s" % (ROOT, a["level"], a[unit]), "topic does not match level: %r" % m
    for f in ("since", "at"):
        assert isinstance(a[f], str) and TIME_RE.match(a[f]), "%s not RFC 3339 ms UTC: %r" % (f, m)
    assert isinstance(a["count"], int) and a["count"] >= 1, m
    for k, v in expected.items():
        assert a.get(k) == v, "alert %s is %r, expected %r: %r" % (k, a.get(k), v, m)
    return a


def is_rejected(**kw):
    def pred(m):
        if m.topic != ROOT + "/bridge/rejected" or not isinstance(m.json, dict):
            return False
        return all(m.json.get(k) == v for k, v in kw.items())
    return pred


def is_state(household_id, **kw):
    topic = "%s/state/household/%s" % (ROOT, household_id)

    def pred(m):
        if m.topic != topic or not isinstance(m.json, dict):
            return False
        return all(m.json.get(k) == v for k, v in kw.items())
    return pred


def is_cleared_state(household_id):
    topic = "%s/state/household/%s" % (ROOT, household_id)
    return lambda m: m.topic == topic and m.payload == b""


class Client:
    """A paho MQTT v5 client that records every message it receives."""

    def __init__(self, broker, subscriptions=(ROOT + "/#", "test/reply/#"), record=True, name="t"):
        self.broker = broker
        self.record = record
        self.subscriptions = list(subscriptions)
        self.cond = threading.Condition()
        self.msgs = []
        self.subscribed = threading.Event()
        self.c = paho.Client(client_id="%s-%s" % (name, uuid.uuid4().hex[:10]), protocol=paho.MQTTv5)
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        self.c.reconnect_delay_set(0.2, 1)
        self.c.connect(broker.host, broker.port, keepalive=30, clean_start=True)
        self.c.loop_start()
        if not self.subscribed.wait(10):
            self.close()
            raise RuntimeError("test client could not subscribe to broker %s" % broker.uri)

    def _on_connect(self, c, userdata, flags, rc, properties=None):
        if rc == 0 and self.subscriptions:
            c.subscribe([(t, 1) for t in self.subscriptions])
        elif rc == 0:
            self.subscribed.set()

    def _on_subscribe(self, c, userdata, mid, granted, properties=None):
        self.subscribed.set()

    def _on_message(self, c, userdata, m):
        msg = Msg(m.topic, bytes(m.payload), bool(m.retain), getattr(m, "properties", None), time.monotonic())
        if self.record:
            CAPTURE.add(m.topic, msg.payload)
        with self.cond:
            self.msgs.append(msg)
            self.cond.notify_all()

    def close(self):
        # disconnect first: it wakes the network thread, which loop_stop() joins
        try:
            self.c.disconnect()
        except Exception:
            pass
        self.c.loop_stop()

    # -- looking at what was received

    def mark(self):
        with self.cond:
            return len(self.msgs)

    def messages(self, pred=lambda m: True, since=0):
        with self.cond:
            return [m for m in self.msgs[since:] if pred(m)]

    def _seen(self, since, limit=40):
        with self.cond:
            seen = self.msgs[since:]
        lines = [repr(m) for m in seen[-limit:]]
        more = "" if len(seen) <= limit else "(%d earlier not shown)\n" % (len(seen) - limit)
        return more + ("\n".join(lines) if lines else "(nothing)")

    def wait_for(self, pred, timeout=10, since=0, what=None, abort=None):
        """The first message from index `since` on that matches, or fail."""
        deadline = time.monotonic() + timeout
        i = since
        with self.cond:
            while True:
                while i < len(self.msgs):
                    if pred(self.msgs[i]):
                        return self.msgs[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if abort is not None:
                    self.cond.release()
                    try:
                        why = abort()
                    finally:
                        self.cond.acquire()
                    if why:
                        pytest.fail("%s while waiting for %s" % (why, what or "a message"), pytrace=False)
                self.cond.wait(min(left, 0.1))
        pytest.fail("no %s within %.1f s; seen:\n%s" % (what or "matching message", timeout, self._seen(since)),
                    pytrace=False)

    def expect_none(self, pred, during=0.5, since=0, what=None):
        time.sleep(during)
        bad = self.messages(pred, since)
        if bad:
            pytest.fail("unexpected %s:\n%s" % (what or "message", "\n".join(repr(m) for m in bad)), pytrace=False)

    # -- publishing

    def publish(self, topic, payload, qos=1, retain=False, properties=None):
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        info = self.c.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        info.wait_for_publish(10)
        assert info.is_published(), "publish to %s not acknowledged" % topic

    def report(self, device_id, body, retain=False):
        self.publish("%s/dev/%s/report" % (ROOT, device_id), body, qos=1, retain=retain)

    def cmd(self, op, body=None, timeout=10):
        """Command with request_id + reply_to in the body; returns the parsed reply."""
        body = dict(body or {})
        rid = body.setdefault("request_id", "r" + uuid.uuid4().hex[:16])
        reply_to = body.setdefault("reply_to", "test/reply/" + uuid.uuid4().hex[:12])
        since = self.mark()
        self.publish("%s/cmd/%s" % (ROOT, op), body)
        m = self.wait_for(topic_is(reply_to), timeout, since, what="reply to %s %s" % (op, json.dumps(body)))
        r = m.json
        assert isinstance(r, dict), "reply is not a JSON object: %r" % m
        assert r.get("request_id") == rid, "reply does not echo request_id: %r" % m
        assert r.get("op") == op, "reply does not name the op: %r" % m
        return r

    def cmd_v5(self, op, body=None, timeout=10, raw=None):
        """Command answered on the MQTT v5 response topic with the correlation data."""
        props = Properties(PacketTypes.PUBLISH)
        topic = "test/reply/" + uuid.uuid4().hex[:12]
        corr = uuid.uuid4().bytes
        props.ResponseTopic = topic
        props.CorrelationData = corr
        since = self.mark()
        payload = raw if raw is not None else json.dumps(body or {})
        self.publish("%s/cmd/%s" % (ROOT, op), payload, properties=props)
        m = self.wait_for(topic_is(topic), timeout, since, what="v5 reply to %s" % op)
        got = getattr(m.props, "CorrelationData", None) if m.props is not None else None
        assert got == corr, "correlation data not echoed: sent %r, got %r" % (corr, got)
        assert isinstance(m.json, dict), "reply is not a JSON object: %r" % m
        return m.json

    def ok(self, op, body=None):
        r = self.cmd(op, body)
        assert r.get("ok") is True, "%s %s failed: %r" % (op, json.dumps(body), r)
        return r

    # -- roster helpers (default units c-1 / st-1 / d-1)

    def admit(self, household_id, community="c-1", street="st-1", district="d-1", end_in=3600, **extra):
        body = {"household_id": household_id, "community_id": community, "street_id": street,
                "district_id": district, "end": iso_in(end_in)}
        body.update(extra)
        return self.ok("admit", body)

    def install(self, device_id, household_id, **extra):
        body = {"device_id": device_id, "household_id": household_id}
        body.update(extra)
        return self.ok("install", body)

    def retained(self, topic, timeout=3):
        """What a new subscriber gets for topic: the retained Msg, or None."""
        c = Client(self.broker, subscriptions=[topic], record=False, name="ret")
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                got = c.messages(lambda m: m.retain)
                if got:
                    return got[-1]
                time.sleep(0.05)
            return None
        finally:
            c.close()


@pytest.fixture
def mqtt(broker):
    c = Client(broker)
    yield c
    c.close()


# ----------------------------------------------------------------- daemon

SECTIONS = {
    "mqtt": ("uri", "client_id", "topic_root", "username", "password", "cafile", "certfile",
             "keyfile", "keepalive", "session_expiry", "max_inflight"),
    "store": ("path",),
    "timing": ("silence_after", "unmonitored_after", "battery_low", "stats_interval"),
    "escalation": ("street_after", "district_after"),
    "log": ("level", "file"),
}
KEY_SECTION = {k: s for s, keys in SECTIONS.items() for k in keys}

# Long enough that nothing fires unless a test asks for it.
DEFAULTS = {"silence_after": 3600, "unmonitored_after": 3600, "battery_low": 20, "stats_interval": 3600,
            "street_after": 3600, "district_after": 3600, "level": "debug", "keepalive": 5}


def write_ini(path, settings):
    by_section = {}
    for key, value in settings.items():
        if key not in KEY_SECTION:
            raise KeyError("unknown sealbridge setting %r" % key)
        by_section.setdefault(KEY_SECTION[key], []).append((key, value))
    out = []
    for section in SECTIONS:
        if section in by_section:
            out.append("[%s]" % section)
            out += ["%s = %s" % kv for kv in by_section[section]]
            out.append("")
    Path(path).write_text("\n".join(out))


class Daemon:
    def __init__(self, n, tmp_path, broker, client, settings):
        self.broker, self.mqtt = broker, client
        self.dir = Path(tmp_path)
        self.ini = self.dir / ("sealbridge-%d.ini" % n)
        self.log = self.dir / ("sealbridge-%d.log" % n)
        s = dict(DEFAULTS)
        s.update(uri=broker.uri, client_id="sealbridge-%d-%s" % (n, uuid.uuid4().hex[:6]),
                 path=str(self.dir / ("sealbridge-%d.db" % n)))
        s.update(settings)
        self.settings = s
        write_ini(self.ini, s)
        self.proc = None
        self.expected_exit = True

    def start(self, timeout=START_TIMEOUT):
        assert self.proc is None or self.proc.poll() is not None, "daemon already running"
        if not SEALBRIDGE_BIN.exists():
            pytest.fail("daemon binary %s not found (build it, or set SEALBRIDGE_BIN)" % SEALBRIDGE_BIN,
                        pytrace=False)
        since = self.mqtt.mark()
        logf = open(self.log, "ab")
        logf.write(b"---- start %s\n" % iso(now_ms()).encode())
        logf.flush()
        self.proc = subprocess.Popen(WRAP + [str(SEALBRIDGE_BIN), "-c", str(self.ini)], stdout=logf,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(self.dir))
        logf.close()
        self.expected_exit = False

        def died():
            if self.proc.poll() is not None:
                return "daemon exited with %s; log:\n%s" % (self.proc.returncode, tail(self.log))
            return None
        status = "%s/bridge/status" % self.settings.get("topic_root", ROOT)
        self.online = self.mqtt.wait_for(
            lambda m: m.topic == status and m.get("state") == "online",
            timeout, since, what="status online", abort=died)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM: a clean shutdown must exit 0."""
        assert self.running(), "daemon not running; log:\n%s" % tail(self.log)
        self.expected_exit = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("daemon did not exit within %d s of SIGTERM; log:\n%s" % (timeout, tail(self.log)),
                        pytrace=False)
        assert rc == 0, "daemon exit code %s after SIGTERM; log:\n%s" % (rc, tail(self.log))

    def kill(self):
        self.expected_exit = True
        if self.running():
            self.proc.kill()
            self.proc.wait(10)

    def restart(self):
        if self.running():
            self.stop()
        return self.start()

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def cleanup(self):
        """Returns a complaint when the daemon died on its own during the test."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            if not self.expected_exit:
                return "daemon exited on its own with %s" % self.proc.returncode
            return None
        self.expected_exit = True
        self.proc.terminate()
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "daemon ignored SIGTERM for 10 s"
        # a crash at shutdown is a failure whatever state the test left behind
        return "daemon exit code %s after SIGTERM at teardown" % rc if rc != 0 else None


class DaemonFactory:
    def __init__(self, tmp_path, broker, client):
        self.tmp_path, self.broker, self.mqtt = tmp_path, broker, client
        self.all = []

    def __call__(self, start=True, **settings):
        d = Daemon(len(self.all) + 1, self.tmp_path, self.broker, self.mqtt, settings)
        self.all.append(d)
        return d.start() if start else d


@pytest.fixture
def daemon(tmp_path, broker, mqtt, request):
    f = DaemonFactory(tmp_path, broker, mqtt)
    yield f
    problems = [(d, d.cleanup()) for d in f.all]
    problems = [(d, p) for d, p in problems if p]
    if problems:
        rep = getattr(request.node, "rep_call", None)
        if rep is None or rep.passed:
            pytest.fail("\n".join("%s; log:\n%s" % (p, tail(d.log)) for d, p in problems), pytrace=False)


# One hung test must not eat the whole run: every phase of a test is bounded.
PHASE_TIMEOUT = float(os.environ.get("SB_TEST_TIMEOUT", "120"))


def _bounded(phase):
    def on_alarm(signum, frame):
        pytest.fail("%s exceeded %g s (SB_TEST_TIMEOUT)" % (phase, PHASE_TIMEOUT), pytrace=True)
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, PHASE_TIMEOUT)
    return old


def _unbound(old):
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    old = _bounded("setup")
    try:
        yield
    finally:
        _unbound(old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    old = _bounded("test")
    try:
        yield
    finally:
        _unbound(old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    old = _bounded("teardown")
    try:
        yield
    finally:
        _unbound(old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if rep.failed and rep.when in ("call", "setup"):
        f = item.funcargs.get("daemon") if hasattr(item, "funcargs") else None
        if isinstance(f, DaemonFactory):
            for d in f.all:
                rep.sections.append(("sealbridge log %s (tail)" % d.log.name, tail(d.log)))
        b = item.funcargs.get("broker") if hasattr(item, "funcargs") else None
        if isinstance(b, Broker):
            rep.sections.append(("mosquitto log (tail)", tail(b.log, 20)))
