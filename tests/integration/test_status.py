"""R/bridge/status: online once subscribed, offline on clean exit and as the will."""
from conftest import ROOT, is_state

STATUS = ROOT + "/bridge/status"


def test_online_is_retained_after_start(daemon, mqtt):
    d = daemon()
    assert d.online.json.get("state") == "online"
    m = mqtt.retained(STATUS)
    assert m is not None, "no retained status"
    assert m.json.get("state") == "online", m


def test_online_means_subscribed(daemon, mqtt):
    # A command sent right after "online" must not be lost.
    daemon()
    r = mqtt.cmd("admit", {"household_id": "hh-1", "community_id": "c-1", "street_id": "st-1",
                           "district_id": "d-1", "end": 4102444800})
    assert r["ok"] is True, r


def test_offline_after_sigterm(daemon, mqtt):
    d = daemon()
    mark = mqtt.mark()
    d.stop()
    mqtt.wait_for(lambda m: m.topic == STATUS and m.get("state") == "offline", 5, mark, what="offline status")
    m = mqtt.retained(STATUS)
    assert m is not None and m.json.get("state") == "offline", m


def test_offline_will_after_sigkill(daemon, mqtt):
    d = daemon()
    mark = mqtt.mark()
    d.kill()
    mqtt.wait_for(lambda m: m.topic == STATUS and m.get("state") == "offline", 10, mark, what="offline will")
    m = mqtt.retained(STATUS)
    assert m is not None and m.json.get("state") == "offline", m


def test_online_again_after_restart(daemon, mqtt):
    d = daemon()
    d.kill()
    d.start()
    m = mqtt.retained(STATUS)
    assert m is not None and m.json.get("state") == "online", m


def test_reconnects_after_broker_restart(daemon, mqtt, broker):
    """The broker loses its retained messages (persistence false): the daemon
    must say online again after reconnecting, and keep serving."""
    daemon()
    mqtt.admit("hh-1")
    mark = mqtt.mark()
    broker.restart()
    mqtt.wait_for(lambda m: m.topic == STATUS and m.get("state") == "online", 30, mark,
                  what="status online after the broker restarted")
    r = mqtt.cmd("admit", {"household_id": "hh-2", "community_id": "c-1", "street_id": "st-1",
                           "district_id": "d-1", "end": 4102444800}, timeout=15)
    assert r["ok"] is True, r
    mqtt.wait_for(is_state("hh-2"), 10, mark, what="state of hh-2")
