"""R/stats/<level>/<unit>: retained counts per unit."""
from conftest import ROOT, TIME_RE, is_alert, is_state

COUNTS = ("households", "fitted", "online", "silent", "doors_open", "open_alerts")


def build_roster(mqtt):
    # hh-1: fitted, heard, door open (one alert); hh-2: fitted, heard, closed
    # hh-3: no seal; hh-4: fitted, never heard
    mqtt.admit("hh-1", community="c-1", street="st-1", district="d-1")
    mqtt.admit("hh-2", community="c-1", street="st-1", district="d-1")
    mqtt.admit("hh-3", community="c-2", street="st-1", district="d-1")
    mqtt.admit("hh-4", community="c-3", street="st-2", district="d-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.install("seal-2", "hh-2")
    mqtt.install("seal-4", "hh-4")
    mqtt.report("seal-1", {"door": "closed", "seq": 1})
    mqtt.report("seal-1", {"door": "open", "seq": 2})
    mqtt.report("seal-2", {"door": "closed", "seq": 1})
    mqtt.wait_for(is_alert(type="door_open", state="raised"), what="door alert")
    mqtt.wait_for(is_state("hh-2", online=True), what="hh-2 online")


EXPECTED = {
    "community/c-1": (2, 2, 2, 0, 1, 1),
    "community/c-2": (1, 0, 0, 0, 0, 0),
    "community/c-3": (1, 1, 0, 0, 0, 0),
    "street/st-1": (3, 2, 2, 0, 1, 1),
    "street/st-2": (1, 1, 0, 0, 0, 0),
    "district/d-1": (4, 3, 2, 0, 1, 1),
}


def counts(m):
    return tuple(m.json.get(k) for k in COUNTS) if isinstance(m.json, dict) else None


def test_stats_match_the_roster(daemon, mqtt):
    daemon(stats_interval=0.5)
    build_roster(mqtt)
    mark = mqtt.mark()
    for unit, want in EXPECTED.items():
        topic = "%s/stats/%s" % (ROOT, unit)
        m = mqtt.wait_for(lambda m: m.topic == topic and counts(m) == want, 5, since=mark,
                          what="stats %s = %s" % (unit, dict(zip(COUNTS, want))))
        assert TIME_RE.match(m.json.get("at", "")), m
        r = mqtt.retained(topic)
        assert r is not None and counts(r) == want, "retained %s: %r" % (topic, r)
    stats_units = {m.topic.split("/", 2)[2] for m in mqtt.messages(lambda m: m.topic.startswith(ROOT + "/stats/"))}
    assert stats_units == set(EXPECTED), "stats for units without households: %s" % (stats_units - set(EXPECTED))


def test_stats_count_silent_seals_and_follow_changes(daemon, mqtt):
    daemon(stats_interval=0.5, silence_after=0.6)
    mqtt.admit("hh-1")
    mqtt.admit("hh-2")
    mqtt.install("seal-1", "hh-1")
    mqtt.install("seal-2", "hh-2")
    mqtt.wait_for(is_alert(device_id="seal-1", type="device_silent", state="raised"), 5, what="silent seal-1")
    mqtt.wait_for(is_alert(device_id="seal-2", type="device_silent", state="raised"), 5, what="silent seal-2")
    mark = mqtt.mark()
    mqtt.wait_for(lambda m: m.topic == ROOT + "/stats/community/c-1" and counts(m) == (2, 2, 0, 2, 0, 2), 5,
                  since=mark, what="stats with two silent seals")
    mqtt.ok("release", {"household_id": "hh-2"})
    mark = mqtt.mark()
    mqtt.wait_for(lambda m: m.topic == ROOT + "/stats/community/c-1" and counts(m) == (1, 1, 0, 1, 0, 1), 5,
                  since=mark, what="stats after a release")
