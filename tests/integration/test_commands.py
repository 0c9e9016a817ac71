"""Commands on R/cmd/<op>: replies, error codes, rejected events."""
import json
import time

import pytest

from conftest import ROOT, iso_in, is_alert, is_rejected, is_state, now_ms

UNITS = {"community_id": "c-1", "street_id": "st-1", "district_id": "d-1"}


def admit_body(hh="hh-1", **extra):
    b = {"household_id": hh, "end": iso_in(3600)}
    b.update(UNITS)
    b.update(extra)
    return b


def test_every_op_with_good_input_replies_ok(daemon, mqtt):
    daemon()
    r = mqtt.cmd("admit", admit_body("hh-1", address="3-2-1502", category="close_contact", persons=3,
                                     start=iso_in(-60)))
    assert r["ok"] is True and "error" not in r, r
    # end as integer seconds since the epoch is accepted too
    assert mqtt.cmd("admit", admit_body("hh-2", end=int(time.time()) + 3600))["ok"] is True
    assert mqtt.cmd("install", {"device_id": "seal-1", "household_id": "hh-1", "silence_after": 600})["ok"] is True
    assert mqtt.cmd("permit", {"household_id": "hh-1", "until": iso_in(600), "reason": "test"})["ok"] is True
    assert mqtt.cmd("permit", {"household_id": "hh-1", "from": int(time.time()) + 60,
                               "until": int(time.time()) + 120})["ok"] is True
    mqtt.report("seal-1", {"door": "open", "seq": 1, "tamper": True})
    alert = mqtt.wait_for(is_alert(household_id="hh-1", type="tamper", state="raised"), what="tamper alert")
    aid = alert.json["alert_id"]
    r = mqtt.cmd("ack", {"alert_id": aid, "by": "officer-7", "note": "on my way"})
    assert r["ok"] is True, r
    r = mqtt.cmd("resolve", {"alert_id": aid, "by": "officer-7", "note": "checked"})
    assert r["ok"] is True, r
    assert mqtt.cmd("uninstall", {"device_id": "seal-1"})["ok"] is True
    assert mqtt.cmd("release", {"household_id": "hh-1", "reason": "ended"})["ok"] is True
    assert mqtt.cmd("release", {"household_id": "hh-2"})["ok"] is True


def test_admit_again_updates_the_household(daemon, mqtt):
    daemon()
    mqtt.ok("admit", admit_body("hh-1", address="1-1-101"))
    mark = mqtt.mark()
    end = now_ms() + 7200 * 1000
    mqtt.ok("admit", admit_body("hh-1", address="1-1-102", end=end // 1000))
    m = mqtt.wait_for(is_state("hh-1", address="1-1-102"), since=mark, what="updated state")
    assert m.json["end"].startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(end // 1000))), m


BAD_IDS = ["a/b", "a+b", "x#", "x" * 65, "a\u0001b", "", "a b", "caf\u00e9"]


@pytest.mark.parametrize("bad", BAD_IDS, ids=["slash", "plus", "hash", "65chars", "control", "empty",
                                             "space", "nonascii"])
def test_invalid_id_is_bad_request_and_rejected(daemon, mqtt, bad):
    daemon()
    mark = mqtt.mark()
    r = mqtt.cmd("admit", admit_body(bad))
    assert r["ok"] is False and r["error"] == "bad_request", r
    assert r.get("message"), r
    mqtt.wait_for(is_rejected(topic=ROOT + "/cmd/admit", reason="bad_request"), since=mark,
                  what="rejected event")
    # the next valid command is served
    assert mqtt.cmd("admit", admit_body("hh-ok"))["ok"] is True


def test_64_char_id_is_fine(daemon, mqtt):
    daemon()
    assert mqtt.cmd("admit", admit_body("h" * 64))["ok"] is True


@pytest.mark.parametrize("op,body", [
    ("admit", {"community_id": "c-1", "street_id": "st-1", "district_id": "d-1", "end": 4102444800}),
    ("admit", {"household_id": "hh-1", "street_id": "st-1", "district_id": "d-1", "end": 4102444800}),
    ("admit", {"household_id": "hh-1", "community_id": "c-1", "street_id": "st-1", "district_id": "d-1"}),
    ("admit", {"household_id": 17, "community_id": "c-1", "street_id": "st-1", "district_id": "d-1",
               "end": 4102444800}),
    ("admit", {"household_id": "hh-1", "community_id": "c-1", "street_id": "st-1", "district_id": "d-1",
               "end": "tomorrow"}),
    ("admit", {"household_id": "hh-1", "community_id": "c-1", "street_id": "st-1", "district_id": "d-1",
               "end": 4102444800, "category": "tourist"}),
    ("admit", {"household_id": "hh-1", "community_id": "c-1", "street_id": "st-1", "district_id": "d-1",
               "end": 4102444800, "persons": "three"}),
    ("install", {"device_id": "seal-1"}),
    ("install", {"device_id": "seal-1", "household_id": "hh-1", "silence_after": "soon"}),
    ("install", {"device_id": "seal-1", "household_id": "hh-1", "silence_after": -5}),
    ("uninstall", {}),
    ("permit", {"household_id": "hh-1"}),
    ("permit", {"household_id": "hh-1", "until": True}),
    ("ack", {"alert_id": "a-1"}),
    ("ack", {"by": "officer-1"}),
    ("resolve", {"alert_id": ["a-1"], "by": "officer-1"}),
    ("release", {"household_id": None}),
], ids=lambda v: v if isinstance(v, str) else None)
def test_missing_or_mistyped_field_is_bad_request(daemon, mqtt, op, body):
    daemon()
    mqtt.ok("admit", admit_body("hh-1"))
    mark = mqtt.mark()
    r = mqtt.cmd(op, body)
    assert r["ok"] is False and r["error"] == "bad_request", r
    mqtt.wait_for(is_rejected(topic="%s/cmd/%s" % (ROOT, op), reason="bad_request"), since=mark,
                  what="rejected event")


def test_bad_json_is_rejected_and_answered_on_the_response_topic(daemon, mqtt):
    daemon()
    mark = mqtt.mark()
    r = mqtt.cmd_v5("admit", raw=b'{"household_id": "hh-1", ')
    assert r["ok"] is False and r["error"] == "bad_request", r
    assert r.get("request_id") is None, r
    rej = mqtt.wait_for(is_rejected(topic=ROOT + "/cmd/admit", reason="bad_request"), since=mark,
                        what="rejected event")
    for k in ("topic", "reason", "message", "at"):
        assert k in rej.json, rej
    # not an object, duplicate keys, empty payload
    for raw in (b'[1,2]', b'"admit"', b'{"household_id":"a","household_id":"b"}', b''):
        r = mqtt.cmd_v5("release", raw=raw)
        assert r["ok"] is False and r["error"] == "bad_request", (raw, r)
    assert mqtt.cmd("admit", admit_body("hh-1"))["ok"] is True


def test_oversized_command_is_rejected(daemon, mqtt):
    daemon()
    mark = mqtt.mark()
    body = admit_body("hh-1", address="x" * 20000)
    mqtt.publish(ROOT + "/cmd/admit", json.dumps(body))
    rej = mqtt.wait_for(lambda m: is_rejected(topic=ROOT + "/cmd/admit")(m) and
                        m.json.get("reason") in ("too_large", "bad_request"), since=mark, what="rejected event")
    assert rej.json["reason"] == "too_large", rej
    assert mqtt.cmd("admit", admit_body("hh-2"))["ok"] is True


def test_unknown_op(daemon, mqtt):
    daemon()
    mark = mqtt.mark()
    r = mqtt.cmd("frobnicate", {"household_id": "hh-1"})
    assert r["ok"] is False and r["error"] == "unknown_op", r
    mqtt.wait_for(is_rejected(topic=ROOT + "/cmd/frobnicate", reason="unknown_op"), since=mark,
                  what="rejected event")
    assert mqtt.cmd("admit", admit_body("hh-1"))["ok"] is True


def test_domain_errors(daemon, mqtt):
    daemon()
    mqtt.ok("admit", admit_body("hh-1"))
    mqtt.ok("admit", admit_body("hh-2"))
    mqtt.ok("admit", admit_body("hh-3"))

    def err(op, body, code):
        r = mqtt.cmd(op, body)
        assert r["ok"] is False and r["error"] == code, "%s %s: %r" % (op, body, r)
        assert r.get("message"), r

    err("release", {"household_id": "hh-nope"}, "unknown_household")
    err("install", {"device_id": "seal-1", "household_id": "hh-nope"}, "unknown_household")
    err("permit", {"household_id": "hh-nope", "until": iso_in(60)}, "unknown_household")
    err("uninstall", {"device_id": "seal-never"}, "unknown_device")
    err("ack", {"alert_id": "no-such-alert", "by": "officer-1"}, "unknown_alert")
    err("resolve", {"alert_id": "no-such-alert", "by": "officer-1"}, "unknown_alert")

    mqtt.ok("install", {"device_id": "seal-1", "household_id": "hh-1"})
    # installing it again on the same household is a harmless repeat
    assert mqtt.cmd("install", {"device_id": "seal-1", "household_id": "hh-1"})["ok"] is True
    err("install", {"device_id": "seal-1", "household_id": "hh-2"}, "device_in_use")
    err("install", {"device_id": "seal-2", "household_id": "hh-1"}, "household_has_device")

    mqtt.ok("release", {"household_id": "hh-3"})
    err("install", {"device_id": "seal-3", "household_id": "hh-3"}, "not_active")
    err("permit", {"household_id": "hh-3", "until": iso_in(60)}, "not_active")

    # after uninstall the seal can be fitted elsewhere
    mqtt.ok("uninstall", {"device_id": "seal-1"})
    mqtt.ok("install", {"device_id": "seal-1", "household_id": "hh-2"})


def test_ack_and_resolve_of_closed_alerts(daemon, mqtt):
    daemon()
    mqtt.admit("hh-1")
    mqtt.install("seal-1", "hh-1")
    mqtt.report("seal-1", {"tamper": True, "seq": 1})
    aid = mqtt.wait_for(is_alert(type="tamper", state="raised"), what="tamper alert").json["alert_id"]
    mqtt.ok("resolve", {"alert_id": aid, "by": "officer-1", "note": "fixed"})
    mark = mqtt.mark()
    r = mqtt.cmd("resolve", {"alert_id": aid, "by": "officer-1"})
    assert r["ok"] is True, "repeating resolve should be ok: %r" % r
    r = mqtt.cmd("ack", {"alert_id": aid, "by": "officer-1"})
    assert r["ok"] is False and r["error"] == "alert_closed", r
    mqtt.expect_none(is_alert(alert_id=aid), during=0.3, since=mark, what="alert message for a repeat")


def test_replies_on_v5_response_topic(daemon, mqtt):
    daemon()
    body = admit_body("hh-1")
    body["request_id"] = "req-v5"
    r = mqtt.cmd_v5("admit", body)
    assert r == {**r, "request_id": "req-v5", "op": "admit", "ok": True}, r
    r = mqtt.cmd_v5("release", {"household_id": "hh-none"})
    assert r["ok"] is False and r["error"] == "unknown_household", r
    assert r.get("request_id") is None, r
    r = mqtt.cmd_v5("frobnicate", {})
    assert r["ok"] is False and r["error"] == "unknown_op", r


def test_no_reply_without_reply_address(daemon, mqtt):
    """Fire-and-forget commands still take effect."""
    daemon()
    mark = mqtt.mark()
    mqtt.publish(ROOT + "/cmd/admit", admit_body("hh-1"))
    mqtt.wait_for(is_state("hh-1"), since=mark, what="state of hh-1")
