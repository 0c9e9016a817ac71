"""scripts/run.sh's own broker: the settings of deploy/mosquitto.conf that apply
on one machine (scripts/local-broker-conf.sh), and a Mosquitto that starts with them."""
import socket
import subprocess
import time
from pathlib import Path

from conftest import MOSQUITTO, REPO, free_port, tail

KEYS = ("max_inflight_messages", "max_queued_messages", "set_tcp_nodelay", "message_size_limit",
        "persistence", "autosave_interval", "per_listener_settings")


def settings(text):
    out = {}
    for line in text.splitlines():
        words = line.split()
        if words and not words[0].startswith("#"):
            out.setdefault(words[0], []).append(" ".join(words[1:]))
    return out


def test_local_broker_has_the_deploy_settings_and_starts(tmp_path):
    port = free_port()
    conf = subprocess.run(["bash", str(REPO / "scripts" / "local-broker-conf.sh"), str(tmp_path), str(port)],
                          stdout=subprocess.PIPE, check=True, universal_newlines=True, timeout=30).stdout
    local, deploy = settings(conf), settings((REPO / "deploy" / "mosquitto.conf").read_text())
    for key in KEYS:
        assert key in deploy, "deploy/mosquitto.conf lost %s" % key
        assert local.get(key) == deploy[key], "%s: run.sh's broker has %r, deploy/mosquitto.conf %r" % (
            key, local.get(key), deploy[key])
    assert local["max_inflight_messages"] == ["1000"]
    assert local["listener"] == ["%d 127.0.0.1" % port]
    path = Path(tmp_path) / "mosquitto.conf"
    path.write_text(conf)
    log = Path(tmp_path) / "mosquitto.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen([MOSQUITTO, "-c", str(path)], stdout=logf, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, "mosquitto refused run.sh's settings:\n" + tail(log)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "mosquitto does not listen:\n" + tail(log)
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(10)
