"""The outbox as the only copy of an alert.

The other crash tests cannot tell whether the outbox row outlives the send:
a broker frozen with SIGSTOP still has the PUBLISH in its socket buffer, and
a killed broker is covered by the daemon's in-memory resend. Here the broker's
ACL refuses the alert topic, so the alert exists nowhere but in the daemon's
outbox; the daemon is then SIGKILLed, the ACL fixed and the broker reloaded,
and the restarted daemon must deliver the alert under the event id it
committed. A daemon that deletes the row when it hands the message to the
transport (instead of on its PUBACK) loses the alert here.

Timing: refused publishes are retried a bounded number of times (10, the
interface's rule) and then dropped. The SIGKILL comes 1.5 s after the first
refusal is logged, well inside that retry window, so the row must still be
there whatever the retry bound is."""
import getpass
import signal
import time

import pytest

from conftest import ROOT, Broker, check_alert, is_alert, is_state
from faultkit import db_alerts, db_ro, expected_event_ids, log_mark, wait_log, wait_until

C = ROOT + "/alert/community/c-1"
ACL_OPEN = "topic readwrite #\n\nuser sealbridge\ntopic readwrite #\n"
ACL_NO_ALERTS = "topic readwrite #\n\nuser sealbridge\ntopic deny %s/alert/#\ntopic readwrite #\n" % ROOT


@pytest.fixture
def broker(tmp_path):
    """conftest's broker with an ACL: anonymous test clients may do anything,
    the daemon (user sealbridge) may not publish alerts until the ACL is fixed."""
    b = Broker(tmp_path)
    b.acl = tmp_path / "acl"
    b.acl.write_text(ACL_NO_ALERTS)
    # Mosquitto started as root switches to user "mosquitto", which cannot
    # read pytest's private tmp directory: stay who we are.
    b.conf.write_text("user %s\n%sacl_file %s\n" % (getpass.getuser(), b.conf.read_text(), b.acl))
    b.start()
    yield b
    b.kill()


def outbox_alert_rows(path):
    with db_ro(path) as c:
        return [r[0] for r in c.execute("SELECT topic FROM outbox WHERE topic LIKE ?", (ROOT + "/alert/%",))]


def reload_acl(broker, text):
    mark = len(broker.log_text())
    broker.acl.write_text(text)
    broker.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "Reloading config" in broker.log_text()[mark:], 10, "the broker's reload after SIGHUP")
    time.sleep(0.3)  # the ACL is read after the log line


def test_refused_alert_survives_sigkill_in_the_outbox(daemon, mqtt, broker):
    d = daemon(username="sealbridge")
    mqtt.admit("hh-1", address="Door 1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.wait_for(is_state("hh-1", door="closed"), what="state door closed")

    mark, lmark = mqtt.mark(), log_mark(d)
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    wait_log(d, r"broker refused \S*/alert/", lmark, 15, "that the broker refused the alert")
    # Confirmed rows are deleted in batches a moment (0.2 s) after their
    # PUBACK: give a daemon that wrongly counts the send as done the time to
    # delete, yet SIGKILL well inside the retry window (the first retry of a
    # refused publish comes seconds later, and they stop only after 10).
    time.sleep(1.5)
    d.kill()  # the outbox row is now the only copy
    assert not mqtt.messages(is_alert(), mark), "the ACL let an alert through: the test proves nothing"

    alerts = [a for a in db_alerts(d.settings["path"]) if a["type"] == "door_open"]
    assert len(alerts) == 1, "expected one committed door alert, store has %r" % alerts
    want = expected_event_ids(alerts)
    assert want == {alerts[0]["id"] + "-1"}, want
    assert outbox_alert_rows(d.settings["path"]), \
        "the refused alert is not in the outbox after SIGKILL: it was deleted before its PUBACK"

    reload_acl(broker, ACL_OPEN)
    mark = mqtt.mark()
    d.start()
    m = mqtt.wait_for(is_alert(type="door_open", state="raised", household_id="hh-1"), 20, mark,
                      what="the refused alert, delivered from the outbox after the restart")
    check_alert(m, alert_id=alerts[0]["id"], event_id=alerts[0]["id"] + "-1", level="community", address="Door 1")
    assert m.topic == C
    # delivered, so the row goes (on its PUBACK)
    wait_until(lambda: not outbox_alert_rows(d.settings["path"]), 15, "the outbox row deleted after the PUBACK")
    ids = {x.json["alert_id"] for x in mqtt.messages(is_alert(household_id="hh-1"), mark)}
    assert ids == {alerts[0]["id"]}, "one opening, several alerts: %s" % ids
