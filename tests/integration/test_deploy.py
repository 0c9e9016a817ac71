"""Deployment: the systemd unit, `cmake --install`, the Debian package and the
installed example settings. Uses the build directory SEALBRIDGE_BIN lives in;
needs no broker."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, SEALBRIDGE_BIN

BUILD = SEALBRIDGE_BIN.resolve().parent
UNIT_SRC = REPO / "deploy" / "sealbridge.service"
SCHEMAS = sorted(p.name for p in (REPO / "schemas").glob("*.schema.json"))

# What `cmake --install --prefix /usr` must put where (relative to DESTDIR).
EXPECTED = ["usr/bin/sealbridge", "usr/bin/sealctl",
            "usr/lib/systemd/system/sealbridge.service",
            "etc/sealbridge/sealbridge.ini",
            "usr/share/doc/sealbridge/examples/mosquitto.conf",
            "usr/share/doc/sealbridge/examples/acl",
            "usr/share/doc/sealbridge/examples/passwords.md"] + \
    ["usr/share/sealbridge/schemas/" + s for s in SCHEMAS]


def run(cmd, timeout=60, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                          universal_newlines=True, **kw)


def need(tool):
    path = shutil.which(tool)
    if path is None:
        pytest.fail("%s is not installed" % tool, pytrace=False)  # cannot run = fail
    return path


def build_dir():
    if not (BUILD / "CMakeCache.txt").exists():
        pytest.fail("%s is not a CMake build directory (SEALBRIDGE_BIN=%s)" % (BUILD, SEALBRIDGE_BIN), pytrace=False)  # cannot run = fail
    text = (BUILD / "cmake_install.cmake").read_text()
    if "install_prefixed.cmake" not in text:
        pytest.fail("%s was configured without cmake/install.cmake: re-run cmake -S %s -B %s"
                    % (BUILD, REPO, BUILD), pytrace=False)
    return BUILD


def verify_unit(unit):
    """systemd-analyze verify; it exits 0 on unknown keys and bad values, so its
    complaints about the unit count as failures too."""
    r = run([need("systemd-analyze"), "verify", str(unit)])
    complaints = [line for line in r.stdout.splitlines() if unit.name in line]
    assert r.returncode == 0 and not complaints, "systemd-analyze verify %s:\n%s" % (unit, r.stdout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """DESTDIR of `cmake --install BUILD --prefix /usr`."""
    cmake = need("cmake")
    destdir = tmp_path_factory.mktemp("destdir")
    r = run([cmake, "--install", str(build_dir()), "--prefix", "/usr"],
            env=dict(os.environ, DESTDIR=str(destdir)))
    assert r.returncode == 0, "cmake --install failed:\n" + r.stdout
    return destdir


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    cpack = need("cpack")
    need("dpkg-deb")
    need("dpkg-shlibdeps")
    out = tmp_path_factory.mktemp("cpack")
    build = build_dir()
    # -B keeps the staging tree and the package out of the build directory.
    r = run([cpack, "-G", "DEB", "-B", str(out), "--config", str(build / "CPackConfig.cmake")],
            timeout=120, cwd=str(build))
    assert r.returncode == 0, "cpack -G DEB failed:\n" + r.stdout
    debs = list(out.glob("sealbridge_*.deb"))
    assert len(debs) == 1, "expected one sealbridge_*.deb in %s, got %s:\n%s" % (out, debs, r.stdout)
    return debs[0]


def test_unit_verifies_with_built_binary(tmp_path):
    unit = tmp_path / "sealbridge.service"
    text = UNIT_SRC.read_text()
    assert "/usr/bin/sealbridge" in text
    unit.write_text(text.replace("/usr/bin/sealbridge", str(SEALBRIDGE_BIN.resolve())))
    verify_unit(unit)


def test_unit_keeps_its_hardening(tmp_path):
    """The unit runs unprivileged and sandboxed; a lost directive raises the exposure."""
    sa = need("systemd-analyze")
    unit = tmp_path / "sealbridge.service"
    unit.write_text(UNIT_SRC.read_text().replace("/usr/bin/sealbridge", str(SEALBRIDGE_BIN.resolve())))
    # Exposure on systemd's 0-100 scale (shown as 0.0-10.0); the unit scores 12.
    r = run([sa, "security", "--offline=true", "--threshold=25", str(unit)])
    if "--offline" in r.stdout and "unrecognized" in r.stdout:
        pytest.fail("systemd-analyze security has no --offline here", pytrace=False)  # cannot run = fail
    assert r.returncode == 0, "exposure above 2.5:\n" + "\n".join(r.stdout.splitlines()[-40:])
    for directive in ("User=sealbridge", "NoNewPrivileges=yes", "ProtectSystem=strict", "Type=notify",
                      "CapabilityBoundingSet=", "SystemCallFilter=@system-service"):
        assert directive in UNIT_SRC.read_text().splitlines(), directive + " missing"


def test_install_puts_every_file_in_place(installed):
    missing = [p for p in EXPECTED if not (installed / p).is_file()]
    assert not missing, "not installed: %s\ninstalled: %s" % (
        missing, sorted(str(p.relative_to(installed)) for p in installed.rglob("*") if p.is_file()))
    for exe in ("usr/bin/sealbridge", "usr/bin/sealctl"):
        assert os.access(str(installed / exe), os.X_OK), exe + " not executable"
    # It holds the broker password.
    mode = (installed / "etc/sealbridge/sealbridge.ini").stat().st_mode & 0o777
    assert mode & 0o007 == 0, "settings file readable by others: %o" % mode
    assert (installed / "etc/sealbridge/sealbridge.ini").read_bytes() == \
        (REPO / "deploy" / "sealbridge.ini").read_bytes()


def test_installed_unit_names_installed_paths(installed, tmp_path):
    unit = (installed / "usr/lib/systemd/system/sealbridge.service").read_text()
    assert "ExecStart=/usr/bin/sealbridge -c /etc/sealbridge/sealbridge.ini" in unit.splitlines()
    # Verify it against the DESTDIR copy of the binary it names.
    relocated = tmp_path / "sealbridge.service"
    relocated.write_text(unit.replace("/usr/bin/sealbridge", str(installed / "usr/bin/sealbridge")))
    verify_unit(relocated)


def test_install_follows_prefix(tmp_path):
    """A /usr/local install keeps its settings there too, and its unit says so."""
    destdir = tmp_path / "d"
    r = run([need("cmake"), "--install", str(build_dir()), "--prefix", "/usr/local"],
            env=dict(os.environ, DESTDIR=str(destdir)))
    assert r.returncode == 0, r.stdout
    assert (destdir / "usr/local/etc/sealbridge/sealbridge.ini").is_file()
    assert not (destdir / "etc").exists(), "a /usr/local install wrote to /etc"
    unit = (destdir / "usr/local/lib/systemd/system/sealbridge.service").read_text()
    assert "ExecStart=/usr/local/bin/sealbridge -c /usr/local/etc/sealbridge/sealbridge.ini" in unit.splitlines()


def test_installed_example_settings_pass_check(installed, tmp_path):
    ini = installed / "etc/sealbridge/sealbridge.ini"
    r = run([str(installed / "usr/bin/sealbridge"), "-t", "-c", str(ini)], cwd=str(tmp_path), timeout=10)
    assert r.returncode == 0, "sealbridge -t -c %s:\n%s" % (ini, r.stdout)
    assert list(tmp_path.iterdir()) == [], "-t created files: %s" % list(tmp_path.iterdir())
    # ...and the check does reject a broken file.
    bad = tmp_path / "bad.ini"
    bad.write_text(ini.read_text().replace("keepalive = 30", "keepalive = 1"))
    r = run([str(installed / "usr/bin/sealbridge"), "-t", "-c", str(bad)], cwd=str(tmp_path), timeout=10)
    assert r.returncode != 0 and "keepalive" in r.stdout, r.stdout


def test_deb_contents_and_control(deb, tmp_path):
    r = run(["dpkg-deb", "-c", str(deb)])
    assert r.returncode == 0, r.stdout
    listed = {line.split()[-1].lstrip(".") for line in r.stdout.splitlines() if line.strip()}
    missing = ["/" + p for p in EXPECTED if "/" + p not in listed]
    assert not missing, "not in %s: %s\n%s" % (deb.name, missing, r.stdout)

    def field(name):
        r = run(["dpkg-deb", "-f", str(deb), name])
        assert r.returncode == 0, r.stdout
        return r.stdout.strip()
    assert field("Package") == "sealbridge"
    depends = field("Depends")
    # dpkg-shlibdeps computed the libraries; adduser is for postinst.
    for lib in ("libpaho-mqtt1.3", "libsqlite3-0", "libcjson1", "libinih1", "libc6", "adduser"):
        assert lib in depends, "Depends lacks %s: %s" % (lib, depends)

    ctrl = tmp_path / "control"
    r = run(["dpkg-deb", "-e", str(deb), str(ctrl)])
    assert r.returncode == 0, r.stdout
    assert (ctrl / "conffiles").read_text().split() == ["/etc/sealbridge/sealbridge.ini"]
    for script in ("postinst", "prerm", "postrm"):
        assert os.access(str(ctrl / script), os.X_OK), script + " missing or not executable"
        assert run(["sh", "-n", str(ctrl / script)]).returncode == 0, script + " is not valid sh"


def _stub_bin(tmp_path, user_exists):
    """PATH directory whose adduser, getent, dpkg-statoverride and systemctl log their arguments."""
    stub = tmp_path / "bin"
    stub.mkdir()
    log = tmp_path / "calls.log"
    for name, rc in (("adduser", 0), ("getent", 0 if user_exists else 2), ("dpkg-statoverride", 1),
                     ("systemctl", 0), ("deb-systemd-invoke", 0), ("invoke-rc.d", 0)):
        (stub / name).write_text("#!/bin/sh\necho \"%s $*\" >> '%s'\nexit %d\n" % (name, log, rc))
        (stub / name).chmod(0o755)
    return stub, log


@pytest.mark.parametrize("user_exists", [False, True])
def test_deb_postinst_creates_account_and_starts_nothing(deb, tmp_path, user_exists):
    ctrl = tmp_path / "control"
    assert run(["dpkg-deb", "-e", str(deb), str(ctrl)]).returncode == 0
    stub, log = _stub_bin(tmp_path, user_exists)
    env = dict(os.environ, PATH="%s:/usr/sbin:/usr/bin:/sbin:/bin" % stub)
    r = run(["sh", str(ctrl / "postinst"), "configure", ""], env=env, timeout=10)
    assert r.returncode == 0, r.stdout
    calls = log.read_text().splitlines() if log.exists() else []
    adds = [c for c in calls if c.startswith("adduser ")]
    if user_exists:
        assert adds == [], calls
    else:
        assert len(adds) == 1, calls
        args = adds[0].split()
        for opt in ("--system", "--group", "--no-create-home"):
            assert opt in args, adds
        assert args[-1] == "sealbridge", adds
    started = [c for c in calls if c.startswith(("systemctl", "deb-systemd-invoke", "invoke-rc.d"))
               and "daemon-reload" not in c]
    assert started == [], "postinst did more than daemon-reload: %s" % started
