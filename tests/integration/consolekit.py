"""The web console under test: websockify serving deploy/console and bridging
to a broker's TCP listener, and Debian's headless chromium driven through
tests/console/driver.mjs (puppeteer-core). Anything missing fails the test:
scripts/test.sh installs chromium and websockify and runs npm ci."""
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, free_port, tail

CONSOLE = REPO / "deploy" / "console"
DRIVER = REPO / "tests" / "console" / "driver.mjs"
ARTIFACTS = REPO / "build" / "console-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def require_tools():
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append("chromium (%s)" % CHROMIUM)
    for tool in ("websockify", "node"):
        if not shutil.which(tool):
            missing.append(tool)
    if not (REPO / "tests" / "console" / "node_modules" / "puppeteer-core").is_dir():
        missing.append("tests/console/node_modules (cd tests/console && npm ci)")
    if not (CONSOLE / "vendor" / "mqtt.min.js").is_file():
        missing.append("deploy/console/vendor/mqtt.min.js (bash deploy/console/vendor.sh)")
    if missing:
        pytest.fail("the console test cannot run without: %s (scripts/test.sh installs them)" % ", ".join(missing),
                    pytrace=False)


class Websockify:
    """websockify --web deploy/console PORT 127.0.0.1:BROKER_PORT, as
    scripts/run.sh and deploy/websockify-console.service run it."""

    def __init__(self, workdir, target_port):
        self.port = free_port()
        self.target_port = target_port
        self.log = Path(workdir) / "websockify.log"
        self.proc = None

    def start(self):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(["websockify", "--web", str(CONSOLE), "127.0.0.1:%d" % self.port,
                                      "127.0.0.1:%d" % self.target_port],
                                     stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("websockify exited with %s:\n%s" % (self.proc.returncode, tail(self.log)))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("websockify does not accept on %d:\n%s" % (self.port, tail(self.log)))
                time.sleep(0.1)

    def url(self, query=""):
        return "http://127.0.0.1:%d/index.html%s" % (self.port, ("?" + query) if query else "")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class Browser:
    """The JSON-lines driver around one headless chromium."""

    def __init__(self, workdir):
        self.log = Path(workdir) / "browser.log"
        self.errf = open(self.log, "ab")
        self.proc = subprocess.Popen(["node", str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.errf, cwd=str(DRIVER.parent), env=dict(os.environ, CHROMIUM=CHROMIUM))
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.n = 0
        first = self._next(60, "the browser to start")
        if not first.get("ready"):
            pytest.fail("browser driver did not start: %r\n%s" % (first, tail(self.log)), pytrace=False)
        self.version = first.get("version")

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _next(self, timeout, what):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail("no answer from the browser within %.0f s waiting for %s\n%s" % (timeout, what, tail(self.log)),
                        pytrace=False)
        if line is None:
            pytest.fail("the browser driver exited (%s) waiting for %s:\n%s" % (self.proc.poll(), what, tail(self.log)),
                        pytrace=False)
        return json.loads(line)

    def call(self, cmd, timeout=60, **kw):
        self.n += 1
        req = dict(kw, id=self.n, cmd=cmd)
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()
        while True:
            r = self._next(timeout + 10, "%s %s" % (cmd, kw))
            if r.get("id") == self.n:
                break
        if not r.get("ok"):
            raise AssertionError("browser %s failed: %s" % (cmd, r.get("error")))
        return r.get("value")

    def open(self, page, url, **kw):
        return self.call("open", page=page, url=url, **kw)

    def eval(self, page, js):
        return self.call("eval", page=page, js=js)

    def wait(self, page, js, timeout=20, what=None):
        """Waits until js (an expression) is truthy in the page; its value."""
        try:
            return self.call("wait", timeout=timeout, page=page, js=js, ms=int(timeout * 1000))
        except AssertionError as e:
            shot = self.screenshot(page, "failed-%s-%d.png" % (page, self.n))
            text = self.eval(page, "document.body.innerText.slice(0, 3000)")
            logs = self.call("log", page=page)
            rows = self.eval(page, "[...document.querySelectorAll('[data-alert-id]')]"
                             ".map(e => e.dataset.alertId + '=' + e.dataset.state).join(' ')")
            raise AssertionError("%s: not within %.0f s (%s)\nwaited for: %s\nalert rows: %s\nscreenshot %s\n"
                                 "page text:\n%s\nconsole:\n%s" % (what or js, timeout, str(e).splitlines()[0], js,
                                                                   rows, shot, text, "\n".join(logs[-20:])))

    def click(self, page, selector):
        return self.call("click", page=page, selector=selector)

    def screenshot(self, page, name, full=True):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = str(ARTIFACTS / name)
        self.call("screenshot", page=page, path=path, fullPage=full)
        return path

    def close(self):
        try:
            if self.proc.poll() is None:
                self.call("close", timeout=20)
        except Exception:
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.errf.close()


def row(alert_id):
    return "document.querySelector('#alerts tr[data-alert-id=\"%s\"]')" % alert_id


def has_row(alert_id):
    """Whether the open list has the alert (as a boolean the driver can return)."""
    return "!!" + row(alert_id)


def row_state(alert_id):
    """The alert's data-state in the open list, else in the closed list, else null."""
    return ("((document.querySelector('#alerts tr[data-alert-id=\"%s\"]') || "
            "document.querySelector('#closed tr[data-alert-id=\"%s\"]') || {}).dataset || {}).state || null"
            % (alert_id, alert_id))
