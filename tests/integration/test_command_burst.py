"""Commands that arrive together share one transaction, but a reply still
means "committed": a burst of commands sent without waiting, the daemon killed
(SIGKILL) as soon as the replies are in; after the restart every command that
was answered is in the roster."""
import json
import sqlite3
import uuid

from conftest import ROOT, iso_in, topic_is

N = 300


def test_every_answered_command_survives_sigkill(daemon, mqtt):
    d = daemon()
    reply_to = "test/reply/" + uuid.uuid4().hex[:12]
    since = mqtt.mark()
    infos = []
    for i in range(N):
        body = {"household_id": "hb-%d" % i, "district_id": "d-1", "street_id": "st-1", "community_id": "c-1",
                "end": iso_in(3600), "request_id": "r%d" % i, "reply_to": reply_to}
        infos.append(mqtt.c.publish("%s/cmd/admit" % ROOT, json.dumps(body), qos=1))
        body = {"household_id": "hb-%d" % i, "device_id": "sb-%d" % i, "request_id": "i%d" % i,
                "reply_to": reply_to}
        infos.append(mqtt.c.publish("%s/cmd/install" % ROOT, json.dumps(body), qos=1))
    for p in infos:
        p.wait_for_publish(30)
    # The last reply: all are in (one subscriber, in order).
    mqtt.wait_for(lambda m: m.topic == reply_to and m.get("request_id") == "i%d" % (N - 1), 60, since,
                  what="the last reply")
    d.kill()
    replies = [m.json for m in mqtt.messages(topic_is(reply_to), since)]
    assert len(replies) == 2 * N, "%d replies for %d commands" % (len(replies), 2 * N)
    assert all(r.get("ok") is True for r in replies), [r for r in replies if not r.get("ok")][:3]
    # What an operator's sqlite3 shell sees in the file the killed daemon left.
    with sqlite3.connect("file:%s?mode=ro" % d.settings["path"], uri=True) as c:
        fitted = c.execute("SELECT count(*) FROM devices d JOIN households h ON h.id = d.household_id"
                           " WHERE d.id LIKE 'sb-%'").fetchone()[0]
    assert fitted == N, "%d of %d answered installs are in the database" % (fitted, N)
    d.start()
    # Every answered install is there: its seal's door opening raises an alert.
    since = mqtt.mark()
    for i in (0, N // 2, N - 1):
        mqtt.report("sb-%d" % i, {"door": "open"})
    for i in (0, N // 2, N - 1):
        mqtt.wait_for(lambda m, i=i: m.topic.startswith(ROOT + "/alert/community/")
                      and m.get("device_id") == "sb-%d" % i, 15, since, what="alert of sb-%d after restart" % i)
