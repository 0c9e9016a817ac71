"""sealctl's custody verbs against the real daemon and broker: a stock intake
from CSV, allocation, the seals table, a collection round, inspection, a swap,
and the seals' history in the export."""
import csv
import io

from conftest import ROOT
from test_sealctl import ok, sealctl


def table(stdout):
    """Rows of a sealctl table as dicts keyed by its titles (titles are split on two spaces)."""
    lines = [l for l in stdout.splitlines() if l.strip()]
    assert lines, "no table printed"
    head = lines[0]
    starts = [0] + [i + 2 for i in range(len(head) - 2) if head[i:i + 2] == "  " and head[i + 2] != " "]
    names = [head[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
    rows = []
    for l in lines[1:]:
        cells = [l[a:b].strip() if b else l[a:].strip() for a, b in zip(starts, starts[1:] + [None])]
        rows.append(dict(zip(names, cells)))
    return rows


def test_stock_intake_allocation_and_collection_round(daemon, mqtt, tmp_path):
    d = daemon(start=False)
    with open(d.ini, "a") as f:
        f.write("\n[model.ds-200]\nbattery_low = 20\n")
    d.start()
    stock = tmp_path / "stock.csv"
    stock.write_text("device_id,model,batch,note\n"
                     "seal-01,ds-200,2026-11-A,\n"
                     "seal-02,ds-200,2026-11-A,box 2\n"
                     "seal-03,,2026-11-B,\n"
                     "seal-04,bad model,2026-11-B,\n"
                     "\n"
                     "seal-05\n")
    r = sealctl("register", "--csv", stock, ini=d.ini)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert lines[:3] == ["row 2 seal-01: ok", "row 3 seal-02: ok", "row 4 seal-03: ok"], lines
    assert lines[3].startswith("row 5 seal-04: error bad_request: "), lines
    assert lines[4].startswith("row 7 -: error bad_csv: "), lines
    assert lines[-1] == "5 rows: 3 ok, 2 failed", lines
    ok(sealctl("register", "--device", "seal-06", "--batch", "2026-11-B", ini=d.ini))

    r = ok(sealctl("allocate", "--device", "seal-01", "--community", "c-1", ini=d.ini))
    assert "seal_state=allocated" in r.stdout, r.stdout
    ok(sealctl("allocate", "--device", "seal-02", "--community", "c-1", ini=d.ini))
    r = sealctl("allocate", "--device", "seal-03", ini=d.ini)
    assert r.returncode == 1 and "error bad_request: " in r.stderr, (r.returncode, r.stderr)

    rows = table(ok(sealctl("seals", "--community", "c-1", ini=d.ini)).stdout)
    assert [(x["DEVICE"], x["STATE"], x["MODEL"]) for x in rows] == [
        ("seal-01", "allocated", "ds-200"), ("seal-02", "allocated", "ds-200")], rows
    rows = table(ok(sealctl("seals", "--state", "in_stock", ini=d.ini)).stdout)
    assert sorted(x["DEVICE"] for x in rows) == ["seal-03", "seal-06"], rows
    assert sealctl("seals", "--state", "broken", ini=d.ini).returncode == 2

    # Fitted, two households released: one seal is collected at once, one stays on the door.
    for hh, addr in (("hh-1", "3-2-1502"), ("hh-2", "3-2-1601"), ("hh-3", "3-2-1701")):
        mqtt.admit(hh, community="c-1", street="st-1", address=addr)
    mqtt.install("seal-01", "hh-1")
    mqtt.install("seal-02", "hh-2")
    mqtt.install("seal-03", "hh-3")
    mqtt.ok("release", {"household_id": "hh-1"})
    mqtt.ok("release", {"household_id": "hh-2"})
    ok(sealctl("uninstall", "--device", "seal-02", ini=d.ini))
    r = ok(sealctl("collect-list", "--community", "c-1", ini=d.ini))
    rows = table(r.stdout)
    assert [(x["HOUSEHOLD"], x["ADDRESS"], x["DEVICE"]) for x in rows] == [("hh-1", "3-2-1502", "seal-01")], rows
    assert float(rows[0]["DAYS"]) < 0.1, rows
    assert "1 seal to collect in c-1" in r.stderr, r.stderr
    assert table(ok(sealctl("collect-list", "--community", "c-9", ini=d.ini)).stdout) == []
    assert sealctl("collect-list", ini=d.ini).returncode == 2

    # Checked, and out again in place of another seal.
    r = ok(sealctl("inspect", "--device", "seal-02", "--result", "ok", "--note", "fine", ini=d.ini))
    assert "seal_state=in_stock" in r.stdout, r.stdout
    r = ok(sealctl("swap", "--household", "hh-3", "--device", "seal-02", ini=d.ini))
    assert "seal_state=fitted" in r.stdout, r.stdout
    st = mqtt.retained("%s/state/seal/seal-02" % ROOT).json
    assert st["household_id"] == "hh-3" and st["fittings"] == 2, st
    r = sealctl("inspect", "--device", "seal-02", "--result", "ok", ini=d.ini)
    assert r.returncode == 1 and "error device_in_use: " in r.stderr, (r.returncode, r.stderr)

    # The export has each seal's history: its doors and its inspection.
    out = ok(sealctl("export", "--since", "-1h", "--db", d.settings["path"], ini=d.ini)).stdout
    hist = [x for x in csv.DictReader(io.StringIO(out)) if x["kind"] == "seal" and x["device_id"] == "seal-02"]
    assert {x["household_id"] for x in hist if "-> fitted" in x["detail"]} == {"hh-2", "hh-3"}, hist
    assert any(x["detail"] == "inspect ok: fine" for x in hist), hist
