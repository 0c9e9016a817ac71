"""Running as a service: SIGHUP reloads timing and reopens the log; systemd's
readiness and watchdog notifications (sd_notify) when NOTIFY_SOCKET is set."""
import os
import signal
import socket
import time

import pytest

from conftest import is_alert, write_ini


def fitted_and_open(mqtt):
    mqtt.admit("hh-1", address="3-2-1502")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    return mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert")


def wait_file(path, needle, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and needle in path.read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False


def test_sighup_applies_new_escalation_and_reopens_the_log(daemon, mqtt, tmp_path):
    logfile = tmp_path / "sealbridge-file.log"
    d = daemon(street_after=3600, file=str(logfile))
    assert wait_file(logfile, "online:"), "the log file was not written"

    # logrotate: the file is moved away, then the daemon is told to reopen it
    rotated = tmp_path / "sealbridge-file.log.1"
    os.rename(logfile, rotated)
    d.settings["street_after"] = 0.5
    write_ini(d.ini, d.settings)
    d.proc.send_signal(signal.SIGHUP)
    assert wait_file(logfile, "reload:"), "no new log file after SIGHUP"
    assert "reload:" not in rotated.read_text(errors="replace")

    # the new escalation setting holds for an alert raised after the reload
    raised = fitted_and_open(mqtt)
    aid = raised.get("alert_id")
    m = mqtt.wait_for(is_alert(alert_id=aid, state="escalated", level="street"), 10,
                      what="street escalation after 0.5 s (reloaded setting)")
    assert 0.4 <= m.t - raised.t <= 3 * 0.5 + 2, "escalated %.1f s after raised (0.5 s)" % (m.t - raised.t)


def test_sighup_with_a_broken_file_keeps_running_with_the_old_settings(daemon, mqtt, tmp_path):
    logfile = tmp_path / "sealbridge-file.log"
    d = daemon(file=str(logfile))
    d.ini.write_text(d.ini.read_text() + "\n[timing]\nbattery_low = 101\n")
    d.proc.send_signal(signal.SIGHUP)
    assert wait_file(logfile, "settings not changed"), "no error logged for a broken settings file"
    assert d.running()
    fitted_and_open(mqtt)  # still serving


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    yield s
    s.close()


def receive_until(sock, needle, timeout):
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(4096).decode(errors="replace"))
        except socket.timeout:
            continue
        if any(needle in g for g in got):
            return got
    pytest.fail("no %r from the daemon within %.0f s; got %r" % (needle, timeout, got), pytrace=False)


def test_sd_notify_ready_watchdog_and_stopping(daemon, mqtt, notify_socket):
    d = daemon(start=False)
    d.start()
    # READY=1 only once online (the status was already seen by start())
    receive_until(notify_socket, "READY=1", 5)
    # WATCHDOG_USEC=1 s: pings at least every half of it, while idle too
    t0 = time.monotonic()
    receive_until(notify_socket, "WATCHDOG=1", 3)
    receive_until(notify_socket, "WATCHDOG=1", 3)
    assert time.monotonic() - t0 < 3
    d.stop()
    receive_until(notify_socket, "STOPPING=1", 3)
