"""The web console (deploy/console) in a real browser: Debian's headless
chromium, driven by puppeteer-core, loads the page from websockify, which
bridges its MQTT over WebSockets to the test's Mosquitto; the real daemon
answers. What a worker at the page would notice is asserted; screenshots go
to build/console-artifacts/."""
import os
import time
import uuid

import pytest

from conftest import ROOT, free_port, is_alert, iso_in, tail
from consolekit import Browser, Websockify, has_row, require_tools, row, row_state
from seckit import SecBroker, SecClient, SecDaemons, deploy_acl, deploy_conf, make_passwd

REPO_DEPLOY = os.path.join(os.path.dirname(__file__), "..", "..", "deploy")
LABEL = "新广路3号楼2单元1502"


@pytest.fixture
def browser(tmp_path):
    require_tools()
    b = Browser(tmp_path)
    yield b
    b.close()


def first_alert(mqtt, since, **kw):
    m = mqtt.wait_for(is_alert(state="raised", **kw), 15, since, what="raised alert %s" % kw)
    return m.json["alert_id"]


def link_is(state):
    return "document.getElementById('link').dataset.link === '%s'" % state


def test_console_shows_acks_resolves_and_survives_a_broker_restart(daemon, mqtt, broker, browser, tmp_path):
    daemon(stats_interval=1)
    homes = [("hh-1", "c-1", "st-1", LABEL), ("hh-2", "c-1", "st-1", "新广路3号楼2单元1503"),
             ("hh-3", "c-1", "st-1", "3-1-0201"), ("hh-4", "c-2", "st-1", "7-1-0101"),
             ("hh-5", "c-3", "st-2", "12-4-0402")]
    for i, (hh, c, st, label) in enumerate(homes, 1):
        mqtt.admit(hh, community=c, street=st, address=label)
        mqtt.install("seal-%d" % i, hh)
        mqtt.report("seal-%d" % i, {"door": "closed", "battery": 90 - 7 * i, "seq": 1})
    ws = Websockify(tmp_path, broker.port).start()
    try:
        browser.open("desk", ws.url("unit=community/c-1"), width=1280, height=740)
        browser.wait("desk", link_is("up"), what="page connected")
        browser.wait("desk", "document.querySelectorAll('#households tr[data-household-id]').length === 3",
                     what="the three households of c-1")
        # the tree: district -> streets -> communities, from the retained stats
        browser.wait("desk", "['district/d-1','street/st-1','street/st-2','community/c-1','community/c-2',"
                     "'community/c-3'].every(u => document.querySelector('#stats tr[data-unit=\"' + u + '\"]'))",
                     what="the statistics tree")

        # a door opening raises an alert that shows, with its door label
        since = mqtt.mark()
        mqtt.report("seal-1", {"door": "open", "seq": 2})
        aid = first_alert(mqtt, since, household_id="hh-1")
        browser.wait("desk", row(aid) + " && " + row(aid) + ".dataset.state === 'raised'", what="raised alert row")
        text = browser.eval("desk", row(aid) + ".innerText")
        assert LABEL in text and "door open" in text, text
        # an opening in another community does not show in c-1's list
        mqtt.report("seal-4", {"door": "open", "seq": 2})
        other = first_alert(mqtt, since, household_id="hh-4")
        browser.wait("desk", "document.querySelector('#households tr[data-household-id=\"hh-1\"]')"
                     ".innerText.includes('open')", what="hh-1's door shown open")
        assert browser.eval("desk", has_row(other)) is False, "c-2's alert shown on c-1's page"

        # ack from the page: it reaches the daemon and comes back as acked
        since = mqtt.mark()
        browser.click("desk", '#alerts tr[data-alert-id="%s"] button[data-action="ack"]' % aid)
        acked = mqtt.wait_for(is_alert(alert_id=aid, state="acked"), 15, since, what="acked alert from the page")
        assert acked.json["level"] == "community" and acked.json["by"], acked
        browser.wait("desk", row_state(aid) + " === 'acked'", what="row acked")

        # the statistics catch up (every stats_interval): c-1 has one open alert, c-2 one
        browser.wait("desk", "(() => { const c = u => [...document.querySelectorAll('#stats tr[data-unit=\"' + u +"
                     " '\"] td')].map(td => td.textContent); return c('community/c-1')[6] === '1' &&"
                     " c('district/d-1')[6] === '2'; })()", what="statistics with the open alerts")
        # the desk and the phone, for the artifacts (and the README's screenshot)
        browser.wait("desk", "document.querySelector('#chart path.line')", what="the open-alerts chart")
        browser.screenshot("desk", "desk.png")
        browser.open("phone", ws.url("unit=community/c-1"), width=390, height=844, mobile=True, scale=2)
        browser.wait("phone", has_row(aid), what="alert row on the phone")
        assert browser.eval("phone", "document.documentElement.scrollWidth <= window.innerWidth + 1"), \
            "the phone layout scrolls sideways"
        browser.screenshot("phone", "phone.png")

        # the broker restarts: the page says so and comes back by itself
        broker.restart()
        browser.wait("desk", link_is("down"), 30, what="page shows the broker lost")
        assert "Lost the broker" in browser.eval("desk", "document.getElementById('link').textContent")
        browser.screenshot("desk", "broker-lost.png", full=False)
        browser.wait("desk", link_is("up"), 40, what="page reconnected by itself")
        mqtt.wait_for(lambda m: m.topic == ROOT + "/bridge/status" and m.get("state") == "online", 40, since,
                      what="daemon online again")
        since = mqtt.mark()
        mqtt.report("seal-2", {"door": "open", "seq": 2})
        aid2 = first_alert(mqtt, since, household_id="hh-2")
        browser.wait("desk", has_row(aid2), 20, what="an alert raised after the restart")

        # resolve with an outcome and a note, through the dialog
        since = mqtt.mark()
        browser.click("desk", '#alerts tr[data-alert-id="%s"] button[data-action="resolve"]' % aid2)
        browser.wait("desk", "document.getElementById('resolve-dialog').open", what="resolve dialog")
        browser.eval("desk", "(() => { const f = document.getElementById('resolve-form');"
                     " f.outcome.value = 'false_alarm'; f.note.value = '误报 checked'; return true; })()")
        browser.click("desk", 'button[data-action="resolve-confirm"]')
        res = mqtt.wait_for(is_alert(alert_id=aid2, state="resolved"), 15, since, what="resolved from the page")
        assert res.json["note"] == "误报 checked", res
        browser.wait("desk", row_state(aid2) + " === 'resolved'", what="row resolved")
        assert browser.eval("desk", has_row(aid2)) is False, "a resolved alert is still in the open list"
        # no sound was turned on
        assert browser.eval("desk", "document.getElementById('sound').checked") is False
    finally:
        ws.stop()


def test_console_login_and_acl(tmp_path, browser):
    """deploy/mosquitto.conf and deploy/acl, with the console's listener from
    deploy/console/mosquitto-console.conf: each login sees only what the ACL
    gives it, the password leaves the URL, and a login binds the page to its unit."""
    pw = {u: uuid.uuid4().hex for u in ("sealbridge", "seal-1", "seal-3", "c-1", "c-2")}
    passwd = make_passwd(tmp_path / "passwd", pw)
    acl = tmp_path / "acl"
    acl.write_text(deploy_acl(os.path.join(REPO_DEPLOY, "acl"), ("c-1", "c-2")))
    console_port = free_port()
    body = deploy_conf(os.path.join(REPO_DEPLOY, "mosquitto.conf"), passwd, acl)
    body += "\n" + console_listener(console_port)
    broker = SecBroker(tmp_path, "mosquitto-console", body)
    broker.start()
    watcher = None
    daemons = SecDaemons(tmp_path)
    ws = None
    try:
        # On the loopback listener, with client ids of their own: on the client and console
        # listeners the client id is the user name, and the page logs in as c-1 and c-2.
        watcher = SecClient(broker, "c-1", pw["c-1"], port=broker.port,
                            subscriptions=[ROOT + "/alert/#", ROOT + "/reply/#", ROOT + "/bridge/status"])
        c2 = SecClient(broker, "c-2", pw["c-2"], port=broker.port, subscriptions=[ROOT + "/alert/#", ROOT + "/reply/#"])
        daemons(broker, watcher, uri=broker.uri, username="sealbridge", password=pw["sealbridge"],
                client_id="sealbridge", stats_interval=1)
        for p, unit, hh, seal in ((watcher, "c-1", "hh-1", "seal-1"), (c2, "c-2", "hh-3", "seal-3")):
            p.cmd("admit", {"household_id": hh, "community_id": unit, "street_id": "st-1", "district_id": "d-1",
                            "end": iso_in(3600), "address": LABEL if unit == "c-1" else "9-9-0909"},
                  "%s/reply/%s/admit-%s" % (ROOT, unit, hh))
            p.cmd("install", {"device_id": seal, "household_id": hh}, "%s/reply/%s/install-%s" % (ROOT, unit, hh))
        seals = {s: SecClient(broker, s, pw[s], port=broker.port2, client_id=s) for s in ("seal-1", "seal-3")}
        since = watcher.mark()
        since2 = c2.mark()
        for s in seals:
            assert seals[s].publish("%s/dev/%s/report" % (ROOT, s), {"door": "open", "seq": 1}) == 0
        aid1 = watcher.wait_for(is_alert(household_id="hh-1", state="raised"), 15, since, what="c-1 alert").json["alert_id"]
        aid3 = c2.wait_for(is_alert(household_id="hh-3", state="raised"), 15, since2, what="c-2 alert").json["alert_id"]

        ws = Websockify(tmp_path, console_port).start()
        # a kiosk URL with a login: straight in, and the password leaves the URL
        browser.open("c1", ws.url("unit=community/c-1&user=c-1&password=" + pw["c-1"]))
        url = browser.eval("c1", "location.href")
        assert pw["c-1"] not in url and "password" not in url, url
        assert "user=c-1" in url and "unit=community" in url, url
        browser.wait("c1", link_is("up"), what="c-1 connected")
        browser.wait("c1", has_row(aid1), what="c-1's own alert (from its household state)")
        browser.wait("c1", "document.body.dataset.access === 'yes'", what="access to c-1")
        # the ack goes through the command topics and its reply under seal/reply/c-1/
        since = watcher.mark()
        browser.click("c1", '#alerts tr[data-alert-id="%s"] button[data-action="ack"]' % aid1)
        watcher.wait_for(is_alert(alert_id=aid1, state="acked", by="c-1"), 15, since, what="ack by c-1")
        reply = watcher.wait_for(lambda m: m.topic.startswith(ROOT + "/reply/c-1/console/") and
                                 m.get("op") == "ack", 15, since, what="the page's reply topic")
        assert reply.json["ok"] is True, reply
        browser.wait("c1", row_state(aid1) + " === 'acked'", what="acked on c-1's page")
        # c-2's alert is not shown to c-1, though its household states are readable (deploy/acl says so)
        time.sleep(1.5)
        assert browser.eval("c1", has_row(aid3)) is False, "c-2's alert on c-1's page"
        browser.screenshot("c1", "acl-c1.png")

        # the same login asking for c-2: the broker gives it neither c-2's alerts nor its stats
        browser.open("c1", ws.url("unit=community/c-2&user=c-1&password=" + pw["c-1"]))
        browser.wait("c1", link_is("up"), what="c-1 connected again")
        time.sleep(3)  # three stats intervals: c-2's stats would have come if the ACL let them
        assert browser.eval("c1", "document.body.dataset.access") == "no"
        assert browser.eval("c1", "document.querySelectorAll('#alerts tr[data-alert-id]').length") == 0
        assert browser.eval("c1", "document.querySelectorAll('#households tr[data-household-id]').length") == 0
        assert browser.eval("c1", "!!document.querySelector('#stats tr[data-unit=\"community/c-2\"]')") is False
        browser.screenshot("c1", "acl-c1-asks-for-c2.png")

        # a login alone binds the page to its unit (from the statistics it may read)
        browser.open("c2", ws.url("user=c-2&password=" + pw["c-2"]))
        browser.wait("c2", "document.getElementById('unit-select').value === 'community/c-2'", 15,
                     what="c-2's page bound to community/c-2 by its login")
        browser.wait("c2", has_row(aid3), what="c-2's alert on c-2's page")
        assert browser.eval("c2", has_row(aid1)) is False
        # a wrong password: the page says the broker refused it
        browser.open("bad", ws.url("unit=community/c-1&user=c-1&password=wrong"))
        browser.wait("bad", "document.getElementById('link').textContent.includes('refused')", 15,
                     what="a refused login shown as such")
    finally:
        if ws:
            ws.stop()
        for d in daemons.all:
            print("---- daemon log (tail)\n" + tail(d.log, 30))
            problem = d.cleanup()
            assert not problem, "%s; log:\n%s" % (problem, tail(d.log))
        broker.kill()


def console_listener(port):
    """deploy/console/mosquitto-console.conf with the test's port."""
    path = os.path.join(REPO_DEPLOY, "console", "mosquitto-console.conf")
    out = []
    for line in open(path, encoding="utf-8").read().splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "listener":
            out.append("listener %d 127.0.0.1" % port)
        else:
            out.append(line.strip())
    assert any(l.startswith("listener") for l in out), "no listener in mosquitto-console.conf"
    return "\n".join(out)



def test_websockify_unit_verifies():
    """deploy/websockify-console.service is a unit systemd accepts (websockify installed)."""
    from test_deploy import verify_unit
    from pathlib import Path
    verify_unit(Path(REPO_DEPLOY) / "websockify-console.service")
