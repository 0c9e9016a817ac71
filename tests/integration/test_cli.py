"""The command line: version, help, and checking a settings file with -t."""
import re
import subprocess

import pytest

from conftest import SEALBRIDGE_BIN, write_ini


def run(*args, timeout=10):
    if not SEALBRIDGE_BIN.exists():
        pytest.fail("daemon binary %s not found" % SEALBRIDGE_BIN, pytrace=False)
    return subprocess.run([str(SEALBRIDGE_BIN)] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=timeout)


def test_version_prints_a_version_and_exits_0():
    r = run("--version")
    assert r.returncode == 0, r
    out = (r.stdout + r.stderr).decode()
    assert re.search(r"\d+\.\d+\.\d+", out), "no version number in %r" % out


def test_help_exits_0_and_mentions_the_options():
    r = run("--help")
    assert r.returncode == 0, r
    out = (r.stdout + r.stderr).decode()
    assert "-c" in out and "-t" in out, out


def test_check_accepts_a_good_file(tmp_path):
    ini = tmp_path / "good.ini"
    write_ini(ini, {"uri": "tcp://127.0.0.1:1883", "topic_root": "seal", "path": str(tmp_path / "x.db"),
                    "silence_after": "0.5", "battery_low": 20, "street_after": 600, "district_after": 900})
    r = run("-t", "-c", ini)
    assert r.returncode == 0, r.stderr.decode()


def test_check_accepts_the_interface_example(tmp_path):
    ini = tmp_path / "example.ini"
    ini.write_text("""[mqtt]
uri = tcp://127.0.0.1:1883        ; ssl://host:8883 for TLS
client_id = sealbridge
topic_root = seal
username =
password =
cafile =
certfile =
keyfile =
keepalive = 30
[store]
path = sealbridge.db
[timing]
silence_after = 900
unmonitored_after = 3600
battery_low = 20
stats_interval = 60
[escalation]
street_after = 600
district_after = 900
""")
    r = run("-t", "-c", ini)
    assert r.returncode == 0, r.stderr.decode()


def test_check_reports_every_error_with_file_and_line(tmp_path):
    ini = tmp_path / "bad.ini"
    ini.write_text("[timing]\n"            # 1
                   "silence_after = 900\n"  # 2
                   "battery_low = 101\n"    # 3
                   "[mqtt]\n"               # 4
                   "no_such_key = 1\n")     # 5
    r = run("-t", "-c", ini)
    err = r.stderr.decode()
    assert r.returncode != 0, "bad file accepted"
    assert re.search(r"^%s:3: .+" % re.escape(str(ini)), err, re.M), "no FILE:3: line for battery_low:\n" + err
    assert re.search(r"^%s:5: .+" % re.escape(str(ini)), err, re.M), "no FILE:5: line for the unknown key:\n" + err


@pytest.mark.parametrize("line", ["silence_after = -1", "silence_after = abc", "stats_interval = nan",
                                  "battery_low = 20x"])
def test_check_rejects_bad_values(tmp_path, line):
    ini = tmp_path / "bad.ini"
    ini.write_text("[timing]\n%s\n" % line)
    r = run("-t", "-c", ini)
    assert r.returncode != 0, "%r accepted" % line
    assert re.search(r"^%s:2: .+" % re.escape(str(ini)), r.stderr.decode(), re.M), r.stderr.decode()


def test_check_of_a_missing_file_fails(tmp_path):
    r = run("-t", "-c", tmp_path / "absent.ini")
    assert r.returncode != 0
    assert str(tmp_path / "absent.ini") in r.stderr.decode()
