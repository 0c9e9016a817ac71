"""TLS, broker logins and the deploy ACL, against a real Mosquitto: the daemon
verifies the broker's certificate and host name, says why a login failed,
and deploy/mosquitto.conf with deploy/acl keeps seals and platforms to their
own topics. Also: the database files are private whatever the umask."""
import os
import ssl
import stat
import time
import uuid

import pytest

from conftest import ROOT, check_alert, is_alert, is_state, iso_in, tail
from seckit import (NOT_AUTHORIZED, Refused, SecBroker, SecClient, SecDaemons, deploy_acl, deploy_conf,
                    make_passwd, make_pki, start_nowait)

REPO_DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy")
STATUS = ROOT + "/bridge/status"


def is_status(state):
    return lambda m: m.topic == STATUS and m.get("state") == state


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


class Kit:
    """Brokers and clients of one test, ended at teardown."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.brokers, self.clients = [], []

    def broker(self, name, body):
        b = SecBroker(self.dir, name, body)
        self.brokers.append(b)
        b.start()
        return b

    def client(self, broker, *a, **kw):
        c = SecClient(broker, *a, **kw)
        self.clients.append(c)
        return c

    def close(self):
        for c in self.clients:
            c.close()
        for b in self.brokers:
            b.kill()


@pytest.fixture
def kit(tmp_path):
    k = Kit(tmp_path)
    yield k
    k.close()


@pytest.fixture
def daemon(tmp_path, request):
    """conftest's daemons (same name, so its failure report shows their logs),
    each given the broker and the client that watches it."""
    f = SecDaemons(tmp_path)
    yield f
    problems = [(d, d.cleanup()) for d in f.all]
    problems = [(d, p) for d, p in problems if p]
    if problems:
        rep = getattr(request.node, "rep_call", None)
        if rep is None or rep.passed:
            pytest.fail("\n".join("%s; log:\n%s" % (p, tail(d.log)) for d, p in problems), pytrace=False)


def wait_log(d, pred, timeout, what):
    """Waits until the daemon's log satisfies pred; fails if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not d.running():
            pytest.fail("daemon exited with %s; log:\n%s" % (d.proc.returncode, tail(d.log)), pytrace=False)
        if pred(d.log_text()):
            return
        time.sleep(0.1)
    pytest.fail("no %s in the daemon's log within %.0f s; log:\n%s" % (what, timeout, tail(d.log)), pytrace=False)


# ------------------------------------------------------------------ TLS

def tls_broker(kit, pki, passwd, cert="server"):
    return kit.broker("mosquitto-tls",
                      "listener {port} 127.0.0.1\n"
                      "cafile %s\ncertfile %s\nkeyfile %s\n"
                      "tls_version tlsv1.2\n"
                      "require_certificate true\n"
                      "use_identity_as_username false\n"
                      "allow_anonymous false\n"
                      "password_file %s\n"
                      % (pki["ca.crt"], pki[cert + ".crt"], pki[cert + ".key"], passwd))


def tls_settings(pki, broker, host, password):
    return dict(uri=broker.uri_for("ssl", host), cafile=pki["ca.crt"], certfile=pki["client.crt"],
                keyfile=pki["client.key"], username="sealbridge", password=password)


def client_tls(pki, **kw):
    return dict(ca=pki["ca.crt"], cert=pki["client.crt"], key=pki["client.key"], **kw)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_tls_with_login_comes_online_and_alerts(kit, daemon, pki, tmp_path, host):
    """Over a TLS listener that wants a client certificate and a password, the
    daemon comes online and a door opening reaches a TLS subscriber as an alert."""
    pw = uuid.uuid4().hex
    passwd = make_passwd(tmp_path / "passwd", {"sealbridge": pw, "tester": "tester-pw"})
    b = tls_broker(kit, pki, passwd)
    t = kit.client(b, "tester", "tester-pw", tls=client_tls(pki), host=host,
                   subscriptions=[ROOT + "/#", "test/reply/#"])
    daemon(b, t, **tls_settings(pki, b, host, pw))

    late = kit.client(b, "tester", "tester-pw", tls=client_tls(pki), subscriptions=[STATUS], record=False)
    m = late.wait_for(is_status("online"), 5, what="retained online status for a new TLS subscriber")
    assert m.retain, m

    t.cmd("admit", {"household_id": "hh-1", "community_id": "c-1", "street_id": "st-1", "district_id": "d-1",
                    "end": iso_in(3600), "address": "3-2-1502"}, "test/reply/admit")
    t.cmd("install", {"device_id": "seal-1", "household_id": "hh-1"}, "test/reply/install")
    since = t.mark()
    assert t.publish(ROOT + "/dev/seal-1/report", {"door": "closed", "seq": 1}) == 0
    t.wait_for(is_state("hh-1", door="closed"), since=since, what="door closed state over TLS")
    assert t.publish(ROOT + "/dev/seal-1/report", {"door": "open", "seq": 2}) == 0
    m = t.wait_for(is_alert(type="door_open", state="raised"), since=since, what="door alert over TLS")
    check_alert(m, level="community", household_id="hh-1", device_id="seal-1", community_id="c-1")


@pytest.mark.parametrize("cert,host,ca", [("wronghost", "localhost", "ca.crt"),
                                          ("wronghost", "127.0.0.1", "ca.crt"),
                                          ("server", "localhost", "otherca.crt")],
                         ids=["wrong-host-name", "wrong-host-ip", "untrusted-ca"])
def test_tls_unverified_broker_is_refused(kit, daemon, pki, tmp_path, cert, host, ca):
    """The broker's certificate names another host, or the daemon's cafile
    did not sign it: the daemon must not connect (Paho's verify = 1 and
    enableServerCertAuth = 1)."""
    pw = uuid.uuid4().hex
    passwd = make_passwd(tmp_path / "passwd", {"sealbridge": pw, "tester": "tester-pw"})
    b = tls_broker(kit, pki, passwd, cert=cert)
    # The broker works: its chain is good, and a client skipping only the name check gets in...
    t = kit.client(b, "tester", "tester-pw", tls=client_tls(pki, insecure=True), subscriptions=[STATUS])
    # ...while one that checks what the daemon is told to check does not.
    with pytest.raises(ssl.SSLCertVerificationError):
        SecClient(b, "tester", "tester-pw", tls=dict(client_tls(pki), ca=pki[ca]), host=host, timeout=5).close()

    settings = tls_settings(pki, b, host, pw)
    settings["cafile"] = pki[ca]
    d = start_nowait(daemon(b, t, start=False, **settings))
    failed = "connect to ssl://%s:%d failed" % (host, b.port)
    wait_log(d, lambda text: any(failed in x and "TLS" in x for x in text.splitlines()), 10,
             "TLS connect failure for ssl://%s:%d" % (host, b.port))
    t.expect_none(is_status("online"), during=2.0, what="online status from an unverified broker")
    assert "connected to" not in d.log_text(), tail(d.log)
    assert d.running(), tail(d.log)


def test_bad_password_is_refused_with_reason(kit, daemon, pki, tmp_path):
    pw = uuid.uuid4().hex
    passwd = make_passwd(tmp_path / "passwd", {"sealbridge": pw, "tester": "tester-pw"})
    b = tls_broker(kit, pki, passwd)
    t = kit.client(b, "tester", "tester-pw", tls=client_tls(pki), subscriptions=[STATUS])
    d = start_nowait(daemon(b, t, start=False, **tls_settings(pki, b, "localhost", "not-" + pw)))
    # Mosquitto 2.0 answers a bad password with 0x87 (not authorised) to MQTT v5 clients.
    wait_log(d, lambda text: "refused by the broker: 0x87" in text or "refused by the broker: 0x86" in text, 10,
             "CONNACK refusal reason (0x86/0x87)")
    t.expect_none(is_status("online"), during=1.5, what="online status with a wrong password")
    assert "connected to" not in d.log_text(), tail(d.log)
    assert d.running(), tail(d.log)


# ------------------------------------------------------------ deploy ACL

class AclEnv:
    """deploy/mosquitto.conf and deploy/acl on loopback, the daemon on the
    daemon's listener, seals and platforms on the other; hh-1 (seal-1) and
    hh-2 (seal-2) in community c-1, hh-3 (seal-3) in community c-2."""

    SEALS = ("seal-1", "seal-2", "seal-3")
    UNITS = ("c-1", "c-2")

    def __init__(self, kit, daemon, tmp_path):
        self.kit = kit
        self.pw = {u: uuid.uuid4().hex for u in ("sealbridge",) + self.SEALS + self.UNITS}
        passwd = make_passwd(tmp_path / "passwd", self.pw)
        acl = tmp_path / "acl"
        acl.write_text(deploy_acl(os.path.join(REPO_DEPLOY, "acl"), self.UNITS))
        self.broker = kit.broker("mosquitto-acl", deploy_conf(os.path.join(REPO_DEPLOY, "mosquitto.conf"),
                                                              passwd, acl))
        subs = [ROOT + "/alert/#", ROOT + "/reply/#", ROOT + "/state/household/#", STATUS]
        self.c1 = self.login("c-1", subscriptions=subs)
        self.c2 = self.login("c-2", subscriptions=subs)
        # The production default client id, which a hijacker would guess first.
        self.daemon = daemon(self.broker, self.c1, uri=self.broker.uri, username="sealbridge",
                             password=self.pw["sealbridge"], client_id="sealbridge")
        for unit, hh, seal, street in (("c-1", "hh-1", "seal-1", "st-1"), ("c-1", "hh-2", "seal-2", "st-1"),
                                       ("c-2", "hh-3", "seal-3", "st-2")):
            p = self.c1 if unit == "c-1" else self.c2
            p.cmd("admit", {"household_id": hh, "community_id": unit, "street_id": street, "district_id": "d-1",
                            "end": iso_in(3600)}, "%s/reply/%s/admit-%s" % (ROOT, unit, hh))
            p.cmd("install", {"device_id": seal, "household_id": hh}, "%s/reply/%s/install-%s" % (ROOT, unit, hh))
        self.seal = {s: self.login(s, client_id=s) for s in self.SEALS}

    def login(self, user, password=None, **kw):
        """A client on the seals' and platforms' listener."""
        return self.kit.client(self.broker, user, password or self.pw[user], port=self.broker.port2, **kw)

    def report(self, seal, body, as_seal=None):
        """seal's report topic, published with as_seal's login; the PUBACK code."""
        c = self.seal[as_seal or seal]
        return c.publish("%s/dev/%s/report" % (ROOT, seal), body)


@pytest.fixture
def acl(kit, daemon, tmp_path):
    return AclEnv(kit, daemon, tmp_path)


def hh_changed(hh):
    """A state message or alert about household hh."""
    return lambda m: is_state(hh)(m) or is_alert(household_id=hh)(m)


def test_acl_seal_publishes_only_its_own_report(acl):
    c1 = acl.c1
    since = c1.mark()
    assert acl.report("seal-1", {"door": "closed", "seq": 1}) == 0
    assert acl.report("seal-2", {"door": "closed", "seq": 1}) == 0
    c1.wait_for(is_state("hh-2", door="closed"), since=since, what="hh-2 closed")
    assert acl.report("seal-1", {"door": "open", "seq": 2}) == 0
    m = c1.wait_for(is_alert(type="door_open", state="raised", household_id="hh-1"), since=since,
                    what="seal-1's own report raising a door alert")
    check_alert(m, community_id="c-1", device_id="seal-1")

    since = c1.mark()
    rc = acl.report("seal-2", {"door": "open", "seq": 2}, as_seal="seal-1")
    assert rc == NOT_AUTHORIZED, "seal-1 publishing seal-2's report: PUBACK 0x%02x" % rc
    c1.expect_none(hh_changed("hh-2"), during=1.5, since=since, what="change to hh-2 from seal-1's forgery")
    # Had the forgery reached the daemon, seq 2 would now be a duplicate.
    assert acl.report("seal-2", {"door": "open", "seq": 2}) == 0
    c1.wait_for(is_alert(type="door_open", state="raised", household_id="hh-2"), since=since,
                what="door alert from seal-2's own seq 2")


def test_acl_seal_reads_nothing_and_sends_no_commands(acl):
    """A seal sits in the quarantined home: it must neither watch alerts nor
    release its own household. (Mosquitto 2.0 grants every SUBSCRIBE and
    checks the ACL per delivered message, so the proof is what arrives.)"""
    s1 = acl.seal["seal-1"]
    s1.subscribe([ROOT + "/alert/#", ROOT + "/alert/community/c-1", ROOT + "/#", "#"])
    since = acl.c1.mark()
    assert acl.report("seal-1", {"door": "open", "seq": 1}) == 0
    acl.c1.wait_for(is_alert(type="door_open", household_id="hh-1"), since=since, what="door alert")
    rc = s1.publish(ROOT + "/cmd/release", {"household_id": "hh-1", "reply_to": ROOT + "/reply/seal-1/x"})
    assert rc == NOT_AUTHORIZED, "seal-1 sending release: PUBACK 0x%02x" % rc
    time.sleep(1.0)
    assert s1.messages() == [], "seal-1 received: %r" % s1.messages()
    assert not acl.c1.messages(lambda m: m.topic == ROOT + "/state/household/hh-1" and not m.payload, since), \
        "hh-1 released by its own seal"
    assert s1.disconnects == [], "seal-1 lost its connection: %r" % s1.disconnects


def test_acl_platform_commands_and_reads_only_its_community(acl):
    c1, c2 = acl.c1, acl.c2
    since1, since2 = c1.mark(), c2.mark()
    # (the fixture's admits and installs were c-1's and c-2's commands, answered under their own reply/)
    assert not c1.messages(lambda m: m.topic.startswith(ROOT + "/reply/c-2/")), "c-1 read c-2's replies"
    assert not c2.messages(lambda m: m.topic.startswith(ROOT + "/reply/c-1/")), "c-2 read c-1's replies"

    assert acl.report("seal-1", {"door": "open", "seq": 1}) == 0
    assert acl.report("seal-3", {"door": "open", "seq": 1}) == 0
    c1.wait_for(is_alert(type="door_open", household_id="hh-1", community_id="c-1"), since=since1,
                what="c-1's alert at c-1")
    c2.wait_for(is_alert(type="door_open", household_id="hh-3", community_id="c-2"), since=since2,
                what="c-2's alert at c-2")
    c1.expect_none(is_alert(community_id="c-2"), during=1.0, since=since1, what="c-2's alert at c-1")
    c2.expect_none(is_alert(community_id="c-1"), during=0, since=since2, what="c-1's alert at c-2")

    # acked by c-1, and a platform cannot pose as a seal
    aid = c1.messages(is_alert(household_id="hh-1"), since1)[0].json["alert_id"]
    c1.cmd("ack", {"alert_id": aid, "by": "officer-1"}, ROOT + "/reply/c-1/ack")
    c1.wait_for(is_alert(alert_id=aid, state="acked"), since=since1, what="acked alert at c-1")
    rc = c1.publish(ROOT + "/dev/seal-2/report", {"door": "open", "seq": 9})
    assert rc == NOT_AUTHORIZED, "c-1 publishing a seal report: PUBACK 0x%02x" % rc
    c1.expect_none(hh_changed("hh-2"), during=1.0, since=since1, what="change to hh-2 from c-1's forgery")


def test_acl_client_id_borrows_no_identity(acl):
    """seal-2's login with seal-1's, or the daemon's, client id neither
    publishes as seal-1 nor throws seal-1 or the daemon off the broker."""
    c1, s1 = acl.c1, acl.seal["seal-1"]
    since = c1.mark()
    fake = acl.login("seal-2", client_id="seal-1")
    rc = fake.publish(ROOT + "/dev/seal-1/report", {"door": "open", "seq": 5})
    assert rc == NOT_AUTHORIZED, "seal-2 as client id seal-1 publishing seal-1's report: PUBACK 0x%02x" % rc
    hijack = acl.login("seal-2", client_id="sealbridge")
    c1.expect_none(hh_changed("hh-1"), during=1.5, since=since, what="change to hh-1 from seal-2's forgery")
    assert s1.disconnects == [], "seal-1 was thrown off by seal-2 using its client id: %r" % s1.disconnects
    c1.expect_none(is_status("offline"), during=0, since=since, what="daemon offline (its client id taken)")
    assert "connection lost" not in acl.daemon.log_text(), tail(acl.daemon.log)
    assert fake.connack == 0 and hijack.connack == 0
    # the real seal-1 is still heard, seq 5 included
    assert acl.report("seal-1", {"door": "open", "seq": 5}) == 0
    c1.wait_for(is_alert(type="door_open", household_id="hh-1"), since=since, what="seal-1's own door alert")


def test_acl_wrong_password_and_anonymous_refused(acl):
    with pytest.raises(Refused):
        acl.login("seal-1", "wrong")
    with pytest.raises(Refused):
        acl.kit.client(acl.broker, port=acl.broker.port2)


# ------------------------------------------------------------- the files

@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_database_files_are_private(daemon, broker, mqtt, tmp_path, umask):
    d = start_nowait(daemon(broker, mqtt, start=False), umask=umask)
    mqtt.wait_for(is_status("online"), 15, what="status online",
                  abort=lambda: None if d.running() else "daemon exited:\n" + tail(d.log))
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "open", "seq": 1})
    mqtt.wait_for(is_alert(type="door_open"), what="door alert")
    db = d.settings["path"]
    files = [p for p in (db, db + "-wal", db + "-shm", db + "-journal") if os.path.exists(p)]
    assert db in files and db + "-wal" in files, "expected the database in WAL mode: %r" % files
    modes = {p: stat.S_IMODE(os.stat(p).st_mode) for p in files}
    assert all(m == 0o600 for m in modes.values()), \
        "umask %03o: %s" % (umask, ", ".join("%s %03o" % (os.path.basename(p), m) for p, m in modes.items()))
    d.stop()
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
