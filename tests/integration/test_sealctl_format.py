"""What sealctl prints for people: status columns stay in line under Chinese
door labels (display width, not bytes), and export writes RFC 3339 times and
cells a spreadsheet cannot run."""
import csv
import io
import os
import re
import subprocess
import time
import unicodedata

from conftest import is_state
from test_sealctl import SEALCTL, ok

LABEL = "新广路3号楼2单元1502"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def sealctl(*args, ini, env=None):
    cmd = [str(SEALCTL), "-c", str(ini)] + [str(a) for a in args]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, encoding="utf-8",
                          env=dict(os.environ, **(env or {})))


def width(s):
    """Terminal columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def test_status_columns_line_up_under_chinese_door_labels(daemon, mqtt):
    d = daemon()
    mqtt.admit("hh-1", address=LABEL)
    mqtt.install("seal-1", "hh-1")
    mqtt.admit("hh-2", address="3-2-1502")
    mqtt.install("seal-2", "hh-2")
    mqtt.admit("hh-3", address="单元7")
    for seal, hh in (("seal-1", "hh-1"), ("seal-2", "hh-2")):
        mqtt.report(seal, {"door": "closed", "battery": 77, "seq": 1})
        mqtt.wait_for(is_state(hh, battery=77), what="state of %s" % hh)
    # LANG unset, as under cron: the widths must still be right
    r = ok(sealctl("status", ini=d.ini, env={"LC_ALL": "C"}))
    lines = r.stdout.splitlines()
    header = lines[0]
    col = width(header[:header.index("DEVICE")])
    rows = [l for l in lines[1:] if l.startswith("hh-")]
    assert len(rows) == 3, r.stdout
    for line in rows:
        fields = line.split()
        device = fields[2]
        assert width(line[:line.index(" " + device + " ") + 1]) == col, \
            "DEVICE column out of line in %r (header at column %d):\n%s" % (line, col, r.stdout)
    assert LABEL in r.stdout


def test_export_writes_rfc3339_in_detail_and_guards_formulas(daemon, mqtt):
    d = daemon()
    # an id may begin with "-" and a door label with "=": neither may run as a formula
    mqtt.admit("-hh-1", address="=1+2")
    mqtt.install("seal-1", "-hh-1")
    mqtt.ok("permit", {"household_id": "-hh-1", "until": "2030-01-01T00:00:00Z", "reason": "@SUM(A1)"})
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    mqtt.wait_for(is_state("-hh-1", door="open"), what="door open")
    time.sleep(0.3)
    r = ok(sealctl("export", "--since", "-1h", ini=d.ini))
    rows = list(csv.reader(io.StringIO(r.stdout)))
    body = rows[1:]
    admit = [x for x in body if x[1] == "command" and "admit" in x[5]]
    assert admit, r.stdout
    assert not re.search(r"\d{12,}", admit[0][5]), "epoch ms in detail: %r" % admit[0][5]
    assert RFC3339.search(admit[0][5]), admit[0][5]
    permit = [x for x in body if x[1] == "command" and "permit" in x[5]]
    assert permit and "2030-01-01T00:00:00.000Z" in permit[0][5], permit
    assert not re.search(r"\d{12,}", permit[0][5]), permit[0][5]
    for row in body:
        assert RFC3339.fullmatch(row[0]), row
        for cell in row[1:]:
            assert not cell or cell[0] not in "=+-@\t\r", "cell a spreadsheet would run: %r in %r" % (cell, row)
    assert any(x[2] == "'-hh-1" for x in body), r.stdout
