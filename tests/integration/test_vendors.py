"""Vendor door sensors (Zigbee2MQTT, Shelly gen 1, Tasmota) raise the same alerts as native seals.

The conftest daemon fixture only knows the core settings, so these tests create
the daemon unstarted and append the vendor sections to its INI themselves."""
import json

from conftest import check_alert, is_alert, is_rejected, is_state

VENDORS_ON = """
[zigbee2mqtt]
enabled = true
base_topic = zigbee2mqtt
[shelly]
enabled = true
[tasmota]
enabled = true
switch_closed = ON
"""


def start_with_vendors(daemon, extra=VENDORS_ON):
    d = daemon(start=False)
    with open(d.ini, "a") as f:
        f.write(extra)
    return d.start()


def fitted(mqtt, dev, hh="hh-1"):
    mqtt.admit(hh, address="3-2-1502")
    mqtt.install(dev, hh)


def closed_then_open(mqtt, dev, publish_closed, publish_open, hh="hh-1"):
    """Door closed (state shows it, no alert), then open: returns the door_open alert payload."""
    mark = mqtt.mark()
    publish_closed()
    mqtt.wait_for(is_state(hh, door="closed", device_id=dev), since=mark, what="door closed from %s" % dev)
    mqtt.expect_none(is_alert(type="door_open"), during=0.3, since=mark, what="alert for a closed door")
    publish_open()
    m = mqtt.wait_for(is_alert(type="door_open", state="raised"), since=mark, what="door alert from %s" % dev)
    return check_alert(m, level="community", household_id=hh, device_id=dev, address="3-2-1502", count=1)


def test_zigbee2mqtt_contact_sensor(daemon, mqtt):
    start_with_vendors(daemon)
    fitted(mqtt, "door_3_2_1502")
    topic = "zigbee2mqtt/door_3_2_1502"
    closed_then_open(
        mqtt, "door_3_2_1502",
        lambda: mqtt.publish(topic, {"battery": 100, "contact": True, "linkquality": 145, "voltage": 3025}),
        lambda: mqtt.publish(topic, {"battery": 100, "contact": False, "linkquality": 142, "voltage": 3025}))


def test_zigbee2mqtt_battery_string_and_tamper(daemon, mqtt):
    start_with_vendors(daemon)
    fitted(mqtt, "snzb04_1502")
    mark = mqtt.mark()
    mqtt.publish("zigbee2mqtt/snzb04_1502", {"battery": "15", "contact": True, "tamper": True})
    mqtt.wait_for(is_alert(type="tamper", state="raised", device_id="snzb04_1502"), since=mark, what="tamper alert")
    mqtt.wait_for(is_alert(type="battery_low", state="raised", device_id="snzb04_1502"), since=mark,
                  what="battery_low alert")
    mqtt.wait_for(is_state("hh-1", battery=15, tamper=True), since=mark, what="state with battery and tamper")


def test_zigbee2mqtt_own_topics_change_nothing(daemon, mqtt):
    start_with_vendors(daemon)
    fitted(mqtt, "door_3_2_1502")
    mark = mqtt.mark()
    mqtt.publish("zigbee2mqtt/bridge/state", {"state": "online"})
    mqtt.publish("zigbee2mqtt/door_3_2_1502/set", {"contact": False})
    mqtt.publish("zigbee2mqtt/door_3_2_1502/availability", {"state": "online"})
    mqtt.expect_none(is_alert(), during=0.5, since=mark, what="alert from Z2M's own topics")
    mqtt.expect_none(is_state("hh-1", door="open"), during=0, since=mark, what="door open")


def test_zigbee2mqtt_retained_state_is_not_an_event(daemon, mqtt):
    """Z2M often retains device state: what the broker replays at subscribe is no new opening."""
    d1 = start_with_vendors(daemon)
    fitted(mqtt, "door_3_2_1502")
    mqtt.publish("zigbee2mqtt/door_3_2_1502", {"contact": True})
    mqtt.wait_for(is_state("hh-1", door="closed"), what="door closed")
    d1.stop()
    mqtt.publish("zigbee2mqtt/door_3_2_1502", {"contact": False}, retain=True)
    try:
        # Same database, new client id: a fresh session gets only the retained replay.
        d2 = daemon(start=False, path=d1.settings["path"])
        with open(d2.ini, "a") as f:
            f.write(VENDORS_ON)
        mark = mqtt.mark()
        d2.start()
        mqtt.expect_none(is_alert(type="door_open"), during=1.0, since=mark, what="alert from a retained replay")
        mqtt.expect_none(is_state("hh-1", door="open"), during=0, since=mark, what="door open from a replay")
        # a live message after the replay still counts
        mqtt.publish("zigbee2mqtt/door_3_2_1502", {"contact": False})
        mqtt.wait_for(is_alert(type="door_open", state="raised"), since=mark, what="door alert")
    finally:
        mqtt.publish("zigbee2mqtt/door_3_2_1502", b"", retain=True)


def test_shelly_door_window(daemon, mqtt):
    start_with_vendors(daemon)
    dev = "shellydw2-483FDA"
    fitted(mqtt, dev)
    base = "shellies/%s/sensor/" % dev
    mark = mqtt.mark()
    mqtt.publish(base + "battery", "85")
    mqtt.wait_for(is_state("hh-1", battery=85), since=mark, what="battery from Shelly")
    closed_then_open(mqtt, dev, lambda: mqtt.publish(base + "state", "close"),
                     lambda: mqtt.publish(base + "state", "open"))


def test_tasmota_switch(daemon, mqtt):
    start_with_vendors(daemon)
    fitted(mqtt, "door-1502")
    topic = "tele/door-1502/SENSOR"
    closed_then_open(mqtt, "door-1502",
                     lambda: mqtt.publish(topic, {"Time": "2024-03-02T10:15:04", "Switch1": "ON"}),
                     lambda: mqtt.publish(topic, {"Time": "2024-03-02T10:15:09", "Switch1": "OFF"}))


def test_tasmota_switch_closed_off(daemon, mqtt):
    start_with_vendors(daemon, VENDORS_ON.replace("switch_closed = ON", "switch_closed = OFF"))
    fitted(mqtt, "door-1502")
    topic = "tele/door-1502/SENSOR"
    closed_then_open(mqtt, "door-1502", lambda: mqtt.publish(topic, {"Switch1": "OFF"}),
                     lambda: mqtt.publish(topic, {"Switch1": "ON"}))


def zb(name, contact, battery=87):
    return {"ZbReceived": {"0x8F20": {"Device": "0x8F20", "Name": name, "Contact": contact,
                                      "BatteryPercentage": battery, "Endpoint": 1, "LinkQuality": 65}}}


def test_tasmota_zigbee_bridge(daemon, mqtt):
    start_with_vendors(daemon)
    fitted(mqtt, "door_3_2_1502")
    topic = "tele/zbbridge/SENSOR"
    closed_then_open(mqtt, "door_3_2_1502", lambda: mqtt.publish(topic, zb("door_3_2_1502", 0)),
                     lambda: mqtt.publish(topic, zb("door_3_2_1502", 1)))


def test_tasmota_zigbee_without_valid_name_uses_short_address(daemon, mqtt):
    start_with_vendors(daemon)
    fitted(mqtt, "0x8F20")
    topic = "tele/zbbridge/SENSOR"
    closed_then_open(mqtt, "0x8F20", lambda: mqtt.publish(topic, zb(" door sensor", 0)),
                     lambda: mqtt.publish(topic, zb(" door sensor", 1)))


def test_malformed_vendor_payload_is_rejected(daemon, mqtt):
    start_with_vendors(daemon)
    fitted(mqtt, "shellydw2-483FDA")
    mark = mqtt.mark()
    mqtt.publish("shellies/shellydw2-483FDA/sensor/state", "ajar")
    rej = mqtt.wait_for(is_rejected(topic="shellies/shellydw2-483FDA/sensor/state"), since=mark,
                        what="rejected malformed Shelly state")
    assert rej.json.get("reason"), rej
    mqtt.expect_none(is_alert(), during=0.3, since=mark, what="alert from a malformed payload")


def test_disabled_vendors_are_not_read(daemon, mqtt):
    daemon()  # no vendor sections: all disabled
    fitted(mqtt, "door_3_2_1502")
    mark = mqtt.mark()
    mqtt.publish("zigbee2mqtt/door_3_2_1502", json.dumps({"contact": True}))
    mqtt.publish("zigbee2mqtt/door_3_2_1502", json.dumps({"contact": False}))
    mqtt.expect_none(is_alert(type="door_open"), during=0.7, since=mark, what="alert from a disabled vendor")
    mqtt.expect_none(is_state("hh-1", door="open"), during=0, since=mark, what="door open")
