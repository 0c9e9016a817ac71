"""Helpers for test_security.py: a throw-away PKI made with openssl, Mosquitto
password files, a broker with TLS or an ACL, and an MQTT v5 client that logs
in, speaks TLS and records the reason codes the broker answers with."""
import getpass
import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from conftest import CAPTURE, SEALBRIDGE_BIN, WRAP, Broker, DaemonFactory, Msg, free_port, iso, now_ms, tail

MOSQUITTO_PASSWD = os.environ.get("MOSQUITTO_PASSWD_BIN", "/usr/bin/mosquitto_passwd")
NOT_AUTHORIZED = 0x87


def _run(args, cwd):
    r = subprocess.run(args, cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args), r.returncode, r.stdout.decode(errors="replace")))


# ---------------------------------------------------------------- certificates

def _key_and_csr(d, name, cn):
    # EC keys: quick to make, and what a small device would use.
    _run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-subj", "/CN=" + cn, "-keyout", name + ".key", "-out", name + ".csr"], d)


def _sign(d, name, ext):
    (d / (name + ".ext")).write_text(ext)
    _run(["openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
          "-CAcreateserial", "-days", "2", "-sha256", "-extfile", name + ".ext", "-out", name + ".crt"], d)


def make_pki(dirpath):
    """A CA; a server certificate for 127.0.0.1 and localhost; one for another
    host name only; a client certificate; an unrelated CA. Returns {name: Path}."""
    d = Path(dirpath)
    d.mkdir(parents=True, exist_ok=True)
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-subj", "/CN=sealbridge test CA", "-days", "2", "-keyout", "ca.key", "-out", "ca.crt",
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    server = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
    _key_and_csr(d, "server", "127.0.0.1")
    _sign(d, "server", server + "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _key_and_csr(d, "wronghost", "broker.example.org")
    _sign(d, "wronghost", server + "subjectAltName=DNS:broker.example.org\n")
    # a CA that signed none of these, to trust by mistake
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-subj", "/CN=some other CA", "-days", "2", "-keyout", "otherca.key", "-out", "otherca.crt",
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    _key_and_csr(d, "client", "sealbridge")
    _sign(d, "client", "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n")
    return {n: d / n for n in ("ca.crt", "server.crt", "server.key", "wronghost.crt", "wronghost.key",
                               "client.crt", "client.key", "otherca.crt")}


def make_passwd(path, users):
    """A Mosquitto password file made with mosquitto_passwd -b, as passwords.md does."""
    path = Path(path)
    if path.exists():
        path.unlink()
    first = True
    for user, password in users.items():
        _run([MOSQUITTO_PASSWD] + (["-c"] if first else []) + ["-b", str(path), user, password], path.parent)
        first = False
    return path


# ---------------------------------------------------------------- broker

class SecBroker(Broker):
    """conftest's Broker with a configuration of our own. body holds the
    listeners and everything else; "{port}" in it is a free port (the one
    conftest's readiness check and clients use by default), "{port2}" a second."""

    def __init__(self, workdir, name, body):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.port2 = free_port()
        while self.port2 == self.port:
            self.port2 = free_port()
        self.dir = Path(workdir)
        self.conf = self.dir / (name + ".conf")
        self.log = self.dir / (name + ".log")
        # Mosquitto started as root switches to user "mosquitto", which cannot
        # read files under pytest's private tmp directory: stay who we are.
        self.conf.write_text(
            "user %s\n"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "connection_messages true\n%s\n" % (getpass.getuser(), body.format(port=self.port, port2=self.port2)))
        self.proc = None
        self.uri = "tcp://%s:%d" % (self.host, self.port)

    def uri_for(self, scheme, host, port=None):
        return "%s://%s:%d" % (scheme, host, port or self.port)


# Lines of deploy/mosquitto.conf a loopback test cannot or need not use.
_TLS_KEYS = {"cafile", "capath", "certfile", "keyfile", "tls_version", "require_certificate", "crlfile",
             "ciphers", "ciphers_tls1.3", "dhparamfile", "use_identity_as_username", "use_subject_as_username"}
_HOST_KEYS = {"pid_file", "persistence", "persistence_location", "autosave_interval", "log_dest", "log_type",
              "log_timestamp_format", "connection_messages", "user"}


def deploy_conf(conf_path, passwd, acl):
    """deploy/mosquitto.conf for a test: its first listener (the daemon's) on
    {port}, its second (seals and platforms) on {port2}, both plain TCP on
    loopback; the test's password file and ACL; every other line as written."""
    out, listeners = [], 0
    for line in Path(conf_path).read_text().splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        key = words[0]
        if key == "listener":
            listeners += 1
            assert listeners <= 2, "deploy/mosquitto.conf has more listeners than the test knows"
            out.append("listener {%s} 127.0.0.1" % ("port" if listeners == 1 else "port2"))
        elif key == "password_file":
            out.append("password_file %s" % passwd)
        elif key == "acl_file":
            out.append("acl_file %s" % acl)
        elif key not in _TLS_KEYS and key not in _HOST_KEYS:
            out.append(line.strip())
    assert listeners == 2, "deploy/mosquitto.conf: expected a daemon listener and a client listener"
    return "\n".join(out)


def deploy_acl(acl_path, units, template="c-017"):
    """deploy/acl with a user block for each unit in units, copied from the
    example platform's block, as passwords.md tells operators to do."""
    text = Path(acl_path).read_text()
    lines = text.splitlines()
    start = lines.index("user " + template)
    end = start + 1
    while end < len(lines) and lines[end].strip():
        end += 1
    block = lines[start + 1:end]
    for unit in units:
        text += "\nuser %s\n%s\n" % (unit, "\n".join(block))
    return text


# ---------------------------------------------------------------- client

class _Paho(paho.Client):
    """paho 1.x reads the PUBACK reason code and drops it: keep it per mid."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.puback_reasons = {}

    def _handle_pubackcomp(self, cmd):
        pkt = self._in_packet["packet"]
        if cmd == "PUBACK" and len(pkt) >= 2:
            mid = int.from_bytes(pkt[:2], "big")
            # a PUBACK of two bytes means success (0x00)
            self.puback_reasons[mid] = pkt[2] if len(pkt) > 2 else 0
        return super()._handle_pubackcomp(cmd)


class Refused(Exception):
    pass


class SecClient:
    """MQTT v5 client with a login and optional TLS that records what it gets.
    wait_for/mark have conftest Client's meaning, so a DaemonFactory can watch
    for the daemon's status through it."""

    def __init__(self, broker, username=None, password=None, tls=None, host=None, port=None, client_id=None,
                 subscriptions=(), record=True, name="s", timeout=10):
        self.broker = broker
        self.record = record
        self.cond = threading.Condition()
        self.msgs = []
        self.connack = None           # reason code of the first CONNACK
        self.disconnects = []         # reason codes of lost connections
        self.suback = {}              # mid -> [reason code per filter]
        self.c = _Paho(client_id=client_id or "%s-%s" % (name, uuid.uuid4().hex[:10]), protocol=paho.MQTTv5)
        if username is not None:
            self.c.username_pw_set(username, password)
        if tls:
            self.c.tls_set(ca_certs=str(tls["ca"]), certfile=tls.get("cert") and str(tls["cert"]),
                           keyfile=tls.get("key") and str(tls["key"]))
            # chain still checked, host name not: to tell the two apart
            self.c.tls_insecure_set(bool(tls.get("insecure")))
        self.c.on_connect = self._on_connect
        self.c.on_disconnect = self._on_disconnect
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        # a refused login must stay refused, not be retried behind our back
        self.c.reconnect_delay_set(60, 60)
        self.c.connect(host or broker.host, port or broker.port, keepalive=30, clean_start=True)
        self.c.loop_start()
        with self.cond:
            self.cond.wait_for(lambda: self.connack is not None, timeout)
        if self.connack != 0:
            rc = self.connack
            self.close()
            raise Refused("CONNACK %r for %s" % (rc, username))
        if subscriptions:
            granted = self.subscribe(subscriptions)
            if any(g >= 0x80 for g in granted):
                self.close()
                raise RuntimeError("subscription %r refused: %r" % (subscriptions, granted))

    def _on_connect(self, c, userdata, flags, rc, properties=None):
        with self.cond:
            if self.connack is None:
                self.connack = rc.value if hasattr(rc, "value") else int(rc)
            self.cond.notify_all()

    def _on_disconnect(self, c, userdata, rc, properties=None):
        with self.cond:
            self.disconnects.append(rc.value if hasattr(rc, "value") else int(rc))
            self.cond.notify_all()

    def _on_subscribe(self, c, userdata, mid, granted, properties=None):
        with self.cond:
            self.suback[mid] = [g.value if hasattr(g, "value") else int(g) for g in granted]
            self.cond.notify_all()

    def _on_message(self, c, userdata, m):
        msg = Msg(m.topic, bytes(m.payload), bool(m.retain), getattr(m, "properties", None), time.monotonic())
        if self.record:
            CAPTURE.add(m.topic, msg.payload)
        with self.cond:
            self.msgs.append(msg)
            self.cond.notify_all()

    def close(self):
        try:
            self.c.disconnect()
        except Exception:
            pass
        self.c.loop_stop()

    def subscribe(self, filters, timeout=10):
        """Subscribes at QoS 1; returns the SUBACK reason code per filter."""
        rc, mid = self.c.subscribe([(f, 1) for f in filters])
        assert rc == paho.MQTT_ERR_SUCCESS, "subscribe not sent: %d" % rc
        with self.cond:
            if not self.cond.wait_for(lambda: mid in self.suback, timeout):
                pytest.fail("no SUBACK for %r within %d s" % (filters, timeout), pytrace=False)
            return self.suback[mid]

    def publish(self, topic, payload, qos=1, retain=False, timeout=10):
        """Returns the PUBACK reason code (0 success, 0x87 not authorised)."""
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(timeout)
        assert info.is_published(), "no PUBACK for %s within %d s" % (topic, timeout)
        return self.c.puback_reasons.pop(info.mid, None)

    def mark(self):
        with self.cond:
            return len(self.msgs)

    def messages(self, pred=lambda m: True, since=0):
        with self.cond:
            return [m for m in self.msgs[since:] if pred(m)]

    def wait_for(self, pred, timeout=10, since=0, what=None, abort=None):
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
            seen = "\n".join(repr(m) for m in self.msgs[since:][-30:]) or "(nothing)"
        pytest.fail("no %s within %.1f s; seen:\n%s\nbroker log:\n%s"
                    % (what or "matching message", timeout, seen, tail(self.broker.log, 20)), pytrace=False)

    def expect_none(self, pred, during=0.5, since=0, what=None):
        time.sleep(during)
        bad = self.messages(pred, since)
        if bad:
            pytest.fail("unexpected %s:\n%s" % (what or "message", "\n".join(repr(m) for m in bad)), pytrace=False)

    def cmd(self, op, body, reply_to, timeout=10):
        """A command whose reply comes to reply_to (which we must be subscribed to)."""
        body = dict(body, request_id="r" + uuid.uuid4().hex[:12], reply_to=reply_to)
        since = self.mark()
        rc = self.publish("seal/cmd/" + op, body)
        assert rc == 0, "command %s refused by the broker: 0x%02x" % (op, rc)
        m = self.wait_for(lambda m: m.topic == reply_to and m.get("request_id") == body["request_id"], timeout,
                          since, what="reply to %s" % op)
        assert m.json.get("ok") is True, "%s %r failed: %r" % (op, body, m)
        return m.json


# ---------------------------------------------------------------- daemon

class SecDaemons(DaemonFactory):
    """conftest's daemons, each on a broker and watched through a client given
    per call; start=False leaves it to start_nowait()."""

    def __init__(self, tmp_path):
        super().__init__(tmp_path, None, None)

    def __call__(self, broker, watcher, start=True, **settings):
        self.broker, self.mqtt = broker, watcher
        return super().__call__(start=start, **settings)


def start_nowait(d, umask=None):
    """Starts the daemon without waiting for it to come online (conftest's
    Daemon.start insists that it does)."""
    logf = open(d.log, "ab")
    logf.write(b"---- start %s\n" % iso(now_ms()).encode())
    logf.flush()
    d.proc = subprocess.Popen(WRAP + [str(SEALBRIDGE_BIN), "-c", str(d.ini)], stdout=logf,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(d.dir),
                              preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)
    logf.close()
    d.expected_exit = False
    return d
