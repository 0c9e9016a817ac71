#include "check.h"
#include "config.h"
#include "vendor.h"

static struct vendor_settings all_on(void)
{
	struct vendor_settings v;
	memset(&v, 0, sizeof v);
	v.z2m = v.shelly = v.tasmota = 1;
	v.tasmota_switch_on_closed = 1;
	strcpy(v.z2m_base, "zigbee2mqtt");
	return v;
}

/* Reads tests/unit/vendor_payloads/<name> into buf; returns its length. */
static size_t fixture(const char *name, char *buf, size_t cap)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	int n = slash ? (int)(slash - __FILE__) : 0;
	snprintf(path, sizeof path, "%.*s%svendor_payloads/%s", n, __FILE__, slash ? "/" : "", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fprintf(stderr, "cannot open %s\n", path);
	REQUIRE(f != NULL);
	size_t len = fread(buf, 1, cap - 1, f);
	CHECK(!ferror(f) && feof(f));
	fclose(f);
	buf[len] = '\0';
	return len;
}

struct got {
	int rc;
	char id[SB_ID_MAX + 1];
	struct report r;
	char err[CODEC_ERR_MAX];
};

static struct got dec(const struct vendor_settings *v, const char *topic, const char *payload)
{
	struct got g;
	memset(&g, 0x5a, sizeof g); /* so a field left unset shows */
	g.rc = vendor_decode(v, topic, payload, strlen(payload), g.id, &g.r, g.err);
	return g;
}

static struct got dec_file(const struct vendor_settings *v, const char *topic, const char *file)
{
	char buf[8192];
	struct got g;
	size_t len = fixture(file, buf, sizeof buf);
	memset(&g, 0x5a, sizeof g);
	g.rc = vendor_decode(v, topic, buf, len, g.id, &g.r, g.err);
	return g;
}

static int is_heartbeat(const struct report *r)
{
	return !r->has_door && !r->has_battery && !r->has_tamper && !r->has_seq && !r->has_ts;
}

static void test_z2m_contact_and_battery(void)
{
	struct vendor_settings v = all_on();
	struct got g;

	g = dec_file(&v, "zigbee2mqtt/door_3_2_1502", "z2m_mccgq11lm_closed.json");
	CHECK(g.rc == 1);
	CHECK_STR(g.id, "door_3_2_1502");
	CHECK(g.r.has_door && g.r.door == SB_DOOR_CLOSED);
	CHECK(g.r.has_battery && g.r.battery == 100);
	CHECK(!g.r.has_tamper && !g.r.has_seq && !g.r.has_ts);

	g = dec_file(&v, "zigbee2mqtt/door_3_2_1502", "z2m_mccgq11lm_open.json");
	CHECK(g.rc == 1 && g.r.has_door && g.r.door == SB_DOOR_OPEN);

	/* fractional battery rounds; tamper false is reported */
	g = dec_file(&v, "zigbee2mqtt/snzb-04_7", "z2m_snzb04_open.json");
	CHECK(g.rc == 1);
	CHECK_STR(g.id, "snzb-04_7");
	CHECK(g.r.door == SB_DOOR_OPEN && g.r.battery == 88);
	CHECK(g.r.has_tamper && g.r.tamper == 0);

	/* battery as a string, tamper true */
	g = dec_file(&v, "zigbee2mqtt/d1", "z2m_battery_string_tamper.json");
	CHECK(g.rc == 1 && g.r.has_battery && g.r.battery == 76);
	CHECK(g.r.has_tamper && g.r.tamper == 1 && g.r.door == SB_DOOR_CLOSED);

	/* no battery reported yet: door only */
	g = dec_file(&v, "zigbee2mqtt/d1", "z2m_no_battery_yet.json");
	CHECK(g.rc == 1 && g.r.has_door && !g.r.has_battery && !g.r.has_tamper);

	/* nulls are unknown values, not errors: a heartbeat */
	g = dec_file(&v, "zigbee2mqtt/d1", "z2m_nulls.json");
	CHECK(g.rc == 1 && is_heartbeat(&g.r));
	g = dec(&v, "zigbee2mqtt/d1", "{\"linkquality\":40,\"voltage\":3000}");
	CHECK(g.rc == 1 && is_heartbeat(&g.r));
	g = dec(&v, "zigbee2mqtt/d1", "{}");
	CHECK(g.rc == 1 && is_heartbeat(&g.r));
}

static void test_z2m_battery_edges(void)
{
	struct vendor_settings v = all_on();
	struct got g;

	g = dec(&v, "zigbee2mqtt/d1", "{\"battery\":99.4}");
	CHECK(g.rc == 1 && g.r.battery == 99);
	g = dec(&v, "zigbee2mqtt/d1", "{\"battery\":0.5}");
	CHECK(g.rc == 1 && g.r.battery == 1);
	g = dec(&v, "zigbee2mqtt/d1", "{\"battery\":\"12.6\"}");
	CHECK(g.rc == 1 && g.r.battery == 13);
	/* voltage-based estimates overshoot: clamped, so the door in the same message is kept */
	g = dec(&v, "zigbee2mqtt/d1", "{\"battery\":145,\"contact\":false}");
	CHECK(g.rc == 1 && g.r.battery == 100 && g.r.door == SB_DOOR_OPEN);
	g = dec(&v, "zigbee2mqtt/d1", "{\"battery\":-3}");
	CHECK(g.rc == 1 && g.r.battery == 0);
	g = dec(&v, "zigbee2mqtt/d1", "{\"battery\":1e400}");
	CHECK(g.rc == -1 || (g.rc == 1 && g.r.battery == 100)); /* cJSON yields inf or refuses */

	static const char *const bad[] = {
		"{\"battery\":\"85%\"}", "{\"battery\":\"\"}", "{\"battery\":\" 85\"}", "{\"battery\":\"0x50\"}",
		"{\"battery\":\"nan\"}", "{\"battery\":\"1.2.3\"}", "{\"battery\":\"-5\"}", "{\"battery\":true}",
		"{\"battery\":[85]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		g = dec(&v, "zigbee2mqtt/d1", bad[i]);
		if (g.rc != -1)
			fprintf(stderr, "accepted %s\n", bad[i]);
		CHECK(g.rc == -1);
		CHECK(strstr(g.err, "battery") != NULL);
	}
}

static void test_z2m_junk_and_types(void)
{
	struct vendor_settings v = all_on();
	struct got g;
	static const char *const bad[] = {
		"{\"contact\":\"true\"}", "{\"contact\":1}", "{\"tamper\":\"yes\"}", "not json", "[]",
		"\"open\"", "{\"contact\":true", "{\"contact\":true} x", "{\"contact\":true,\"contact\":false}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		g = dec(&v, "zigbee2mqtt/d1", bad[i]);
		if (g.rc != -1)
			fprintf(stderr, "accepted %s\n", bad[i]);
		CHECK(g.rc == -1);
		CHECK(g.err[0] != '\0');
	}
	g = dec(&v, "zigbee2mqtt/d1", "{\"contact\":true,\"contact\":false}");
	CHECK(strstr(g.err, "duplicate") != NULL);

	/* NUL inside the payload */
	char nul[] = "{\"contact\":true}\0{}";
	g.rc = vendor_decode(&v, "zigbee2mqtt/d1", nul, sizeof nul - 1, g.id, &g.r, g.err);
	CHECK(g.rc == -1);

	/* over the cap, even when well-formed */
	static char big[VENDOR_PAYLOAD_MAX + 64];
	size_t n = (size_t)snprintf(big, sizeof big, "{\"contact\":true,\"pad\":\"");
	while (n < VENDOR_PAYLOAD_MAX + 10)
		big[n++] = 'x';
	big[n++] = '"';
	big[n++] = '}';
	g.rc = vendor_decode(&v, "zigbee2mqtt/d1", big, n, g.id, &g.r, g.err);
	CHECK(g.rc == -1 && strstr(g.err, "limit") != NULL);
	/* exactly at the cap is fine */
	n = (size_t)snprintf(big, sizeof big, "{\"contact\":true,\"pad\":\"");
	while (n < VENDOR_PAYLOAD_MAX - 2)
		big[n++] = 'x';
	big[n++] = '"';
	big[n++] = '}';
	CHECK(n == VENDOR_PAYLOAD_MAX);
	g.rc = vendor_decode(&v, "zigbee2mqtt/d1", big, n, g.id, &g.r, g.err);
	CHECK(g.rc == 1 && g.r.door == SB_DOOR_CLOSED);
}

static void test_z2m_topics(void)
{
	struct vendor_settings v = all_on();
	struct got g;

	/* Z2M's own traffic and commands carry nothing for us */
	static const char *const nothing[] = {
		"zigbee2mqtt/bridge/state", "zigbee2mqtt/bridge/devices", "zigbee2mqtt/bridge",
		"zigbee2mqtt/d1/set", "zigbee2mqtt/d1/get", "zigbee2mqtt/d1/availability",
		"zigbee2mqtt/d1/l1/set", "zigbee2mqtt/d1/set/state",
	};
	for (size_t i = 0; i < sizeof nothing / sizeof nothing[0]; i++) {
		g = dec(&v, nothing[i], "{\"contact\":false}");
		if (g.rc != 0)
			fprintf(stderr, "%s gave %d\n", nothing[i], g.rc);
		CHECK(g.rc == 0);
	}
	/* a level that merely starts with "set" is part of a name, which '/' makes invalid */
	g = dec(&v, "zigbee2mqtt/floor3/settings", "{\"contact\":false}");
	CHECK(g.rc == -1);

	/* an empty (cleared retained) message: nothing */
	g = dec(&v, "zigbee2mqtt/d1", "");
	CHECK(g.rc == 0);

	/* names that are not valid ids */
	static const char *const badname[] = {
		"zigbee2mqtt/Front Door", "zigbee2mqtt/floor3/door", "zigbee2mqtt/", "zigbee2mqtt/d\xc3\xa9",
		"zigbee2mqtt/0123456789012345678901234567890123456789012345678901234567890123x",
	};
	for (size_t i = 0; i < sizeof badname / sizeof badname[0]; i++) {
		g = dec(&v, badname[i], "{\"contact\":false}");
		CHECK(g.rc == -1);
		CHECK(strstr(g.err, "not a valid device id") != NULL);
	}
	g = dec(&v, "zigbee2mqtt/0123456789012345678901234567890123456789012345678901234567890123",
		"{\"contact\":false}");
	CHECK(g.rc == 1 && strlen(g.id) == 64);

	/* other base topic; prefix must end at a level boundary */
	strcpy(v.z2m_base, "home/z2m");
	g = dec(&v, "home/z2m/d2", "{\"contact\":true}");
	CHECK(g.rc == 1);
	CHECK_STR(g.id, "d2");
	g = dec(&v, "zigbee2mqtt/d1", "{\"contact\":true}");
	CHECK(g.rc == 0);
	g = dec(&v, "home/z2mx/d2", "{\"contact\":true}");
	CHECK(g.rc == 0);
}

static void test_shelly(void)
{
	struct vendor_settings v = all_on();
	struct got g;

	g = dec_file(&v, "shellies/shellydw2-483FDA/sensor/state", "shelly_state_open.txt");
	CHECK(g.rc == 1);
	CHECK_STR(g.id, "shellydw2-483FDA");
	CHECK(g.r.has_door && g.r.door == SB_DOOR_OPEN && !g.r.has_battery && !g.r.has_tamper);
	g = dec_file(&v, "shellies/shellydw2-483FDA/sensor/state", "shelly_state_close.txt");
	CHECK(g.rc == 1 && g.r.door == SB_DOOR_CLOSED);
	g = dec_file(&v, "shellies/shellydw2-483FDA/sensor/battery", "shelly_battery.txt");
	CHECK(g.rc == 1 && !g.r.has_door && g.r.has_battery && g.r.battery == 85);

	/* other sensor topics: the device is awake, a heartbeat */
	g = dec_file(&v, "shellies/shellydw2-483FDA/sensor/tilt", "shelly_tilt.txt");
	CHECK(g.rc == 1 && is_heartbeat(&g.r));
	CHECK_STR(g.id, "shellydw2-483FDA");
	g = dec(&v, "shellies/shellydw2-483FDA/sensor/act_reasons", "[\"sensor\"]");
	CHECK(g.rc == 1 && is_heartbeat(&g.r));

	/* nothing for us */
	static const char *const nothing[] = {
		"shellies/shellydw2-483FDA/online", "shellies/announce", "shellies/command",
		"shellies/shellydw2-483FDA/announce", "shellies/shellydw2-483FDA/sensor",
		"shellies/shellydw2-483FDA/sensor/", "shellies/shellydw2-483FDA/sensor/state/x",
		"shellies/shelly1-1/relay/0",
	};
	for (size_t i = 0; i < sizeof nothing / sizeof nothing[0]; i++)
		CHECK(dec(&v, nothing[i], "true").rc == 0);

	static const char *const bad_state[] = {"opened", "OPEN", "open\n", "", "1", "close "};
	for (size_t i = 0; i < sizeof bad_state / sizeof bad_state[0]; i++) {
		g = dec(&v, "shellies/shellydw2-483FDA/sensor/state", bad_state[i]);
		CHECK(g.rc == -1 && strstr(g.err, "open or close") != NULL);
	}
	static const char *const bad_batt[] = {"", "85%", "-1", "eighty", " 85", "0x55", "1e2"};
	for (size_t i = 0; i < sizeof bad_batt / sizeof bad_batt[0]; i++) {
		g = dec(&v, "shellies/shellydw2-483FDA/sensor/battery", bad_batt[i]);
		CHECK(g.rc == -1 && strstr(g.err, "battery") != NULL);
	}
	g = dec(&v, "shellies/shellydw2-483FDA/sensor/battery", "250");
	CHECK(g.rc == 1 && g.r.battery == 100);
	g = dec(&v, "shellies/shelly dw/sensor/state", "open");
	CHECK(g.rc == -1 && strstr(g.err, "not a valid device id") != NULL);
	g = dec(&v, "shellies//sensor/state", "open");
	CHECK(g.rc == -1);
}

static void test_tasmota_switch(void)
{
	struct vendor_settings v = all_on();
	struct got g;

	g = dec_file(&v, "tele/door-1502/SENSOR", "tasmota_switch1_on.json");
	CHECK(g.rc == 1);
	CHECK_STR(g.id, "door-1502");
	CHECK(g.r.has_door && g.r.door == SB_DOOR_CLOSED);
	g = dec_file(&v, "tele/door-1502/SENSOR", "tasmota_switch1_off.json");
	CHECK(g.rc == 1 && g.r.door == SB_DOOR_OPEN);

	/* switch_closed = OFF inverts the switch */
	v.tasmota_switch_on_closed = 0;
	g = dec_file(&v, "tele/door-1502/SENSOR", "tasmota_switch1_on.json");
	CHECK(g.rc == 1 && g.r.door == SB_DOOR_OPEN);
	g = dec_file(&v, "tele/door-1502/SENSOR", "tasmota_switch1_off.json");
	CHECK(g.rc == 1 && g.r.door == SB_DOOR_CLOSED);
	v.tasmota_switch_on_closed = 1;

	/* a top-level Contact: 0 closed, 1 open; it wins over Switch1 */
	g = dec(&v, "tele/door-1502/SENSOR", "{\"Contact\":1}");
	CHECK(g.rc == 1 && g.r.door == SB_DOOR_OPEN);
	g = dec(&v, "tele/door-1502/SENSOR", "{\"Contact\":0,\"Switch1\":\"OFF\"}");
	CHECK(g.rc == 1 && g.r.door == SB_DOOR_CLOSED);

	/* telemetry without a switch: a heartbeat */
	g = dec(&v, "tele/door-1502/SENSOR", "{\"Time\":\"2024-03-02T10:15:04\",\"DS18B20\":{\"Temperature\":21.5}}");
	CHECK(g.rc == 1 && is_heartbeat(&g.r));

	static const char *const bad[] = {
		"{\"Switch1\":\"on\"}", "{\"Switch1\":1}", "{\"Switch1\":\"TOGGLE\"}", "{\"Contact\":2}",
		"{\"Contact\":0.5}", "{\"Contact\":true}", "{\"Contact\":\"0\"}", "Switch1 ON", "",
		"{\"ZbReceived\":[]}", "{\"ZbReceived\":{\"0x1\":5}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		g = dec(&v, "tele/door-1502/SENSOR", bad[i]);
		if (g.rc != -1)
			fprintf(stderr, "accepted %s\n", bad[i]);
		CHECK(g.rc == -1 && g.err[0]);
	}
	g = dec(&v, "tele/door 1502/SENSOR", "{\"Switch1\":\"ON\"}");
	CHECK(g.rc == -1 && strstr(g.err, "not a valid device id") != NULL);
}

static void test_tasmota_state_lwt(void)
{
	struct vendor_settings v = all_on();
	struct got g;

	g = dec_file(&v, "tele/door-1502/STATE", "tasmota_state.json");
	CHECK(g.rc == 1 && is_heartbeat(&g.r));
	CHECK_STR(g.id, "door-1502");
	g = dec(&v, "tele/door-1502/LWT", "Online");
	CHECK(g.rc == 1 && is_heartbeat(&g.r));
	CHECK(dec(&v, "tele/door-1502/LWT", "Offline").rc == 0);
	g = dec(&v, "tele/door-1502/LWT", "online");
	CHECK(g.rc == -1 && strstr(g.err, "Online or Offline") != NULL);

	static const char *const nothing[] = {
		"tele/door-1502/INFO1", "tele/door-1502/RESULT", "tele/door-1502", "tele/a/b/SENSOR",
		"stat/door-1502/RESULT", "cmnd/door-1502/POWER", "telex/door-1502/SENSOR",
	};
	for (size_t i = 0; i < sizeof nothing / sizeof nothing[0]; i++)
		CHECK(dec(&v, nothing[i], "{\"Switch1\":\"OFF\"}").rc == 0);
}

static void test_tasmota_zigbee(void)
{
	struct vendor_settings v = all_on();
	struct got g;

	/* the captured Name " door_sensor" is no valid id: the short address is used */
	g = dec_file(&v, "tele/SonoffZB/SENSOR", "tasmota_zb_closed.json");
	CHECK(g.rc == 1);
	CHECK_STR(g.id, "0x662E");
	CHECK(g.r.has_door && g.r.door == SB_DOOR_CLOSED);
	CHECK(g.r.has_tamper && g.r.tamper == 0 && !g.r.has_battery);
	g = dec_file(&v, "tele/SonoffZB/SENSOR", "tasmota_zb_open.json");
	CHECK(g.rc == 1 && g.r.door == SB_DOOR_OPEN);

	g = dec_file(&v, "tele/zbbridge/SENSOR", "tasmota_zb_named.json");
	CHECK(g.rc == 1);
	CHECK_STR(g.id, "door_3_2_1502");
	CHECK(g.r.door == SB_DOOR_CLOSED && g.r.has_battery && g.r.battery == 87);

	/* ZoneStatus 5 = alarm 1 (open) + tamper */
	g = dec_file(&v, "tele/zbbridge/SENSOR", "tasmota_zb_zonestatus.json");
	CHECK(g.rc == 1);
	CHECK_STR(g.id, "0x1FAB");
	CHECK(g.r.door == SB_DOOR_OPEN && g.r.has_tamper && g.r.tamper == 1);
	g = dec(&v, "tele/zbbridge/SENSOR", "{\"ZbReceived\":{\"0x1FAB\":{\"Device\":\"0x1FAB\",\"ZoneStatus\":4}}}");
	CHECK(g.rc == 1 && g.r.door == SB_DOOR_CLOSED && g.r.tamper == 1);

	/* a device that says nothing about a door: a heartbeat under its id */
	g = dec(&v, "tele/zbbridge/SENSOR",
		"{\"ZbReceived\":{\"0x057B\":{\"Device\":\"0x057B\",\"Name\":\"hall\",\"LinkQuality\":178}}}");
	CHECK(g.rc == 1 && is_heartbeat(&g.r));
	CHECK_STR(g.id, "hall");
	/* no usable name or address: the key */
	g = dec(&v, "tele/zbbridge/SENSOR", "{\"ZbReceived\":{\"door7\":{\"Contact\":1}}}");
	CHECK(g.rc == 1);
	CHECK_STR(g.id, "door7");
	g = dec(&v, "tele/zbbridge/SENSOR", "{\"ZbReceived\":{\"door 7\":{\"Name\":\"a b\",\"Contact\":1}}}");
	CHECK(g.rc == -1 && strstr(g.err, "not a valid device id") != NULL);
	/* the bridge's own topic need not be a valid id */
	g = dec(&v, "tele/Sonoff ZB/SENSOR", "{\"ZbReceived\":{\"0x1\":{\"Device\":\"0x1\",\"Contact\":0}}}");
	CHECK(g.rc == 1);
	/* an empty ZbReceived carries nothing */
	CHECK(dec(&v, "tele/zbbridge/SENSOR", "{\"ZbReceived\":{}}").rc == 0);

	g = dec(&v, "tele/zbbridge/SENSOR", "{\"ZbReceived\":{\"0x1\":{\"Device\":\"0x1\",\"ZoneStatus\":70000}}}");
	CHECK(g.rc == -1 && strstr(g.err, "ZoneStatus") != NULL && strstr(g.err, "0x1") != NULL);
	g = dec(&v, "tele/zbbridge/SENSOR", "{\"ZbReceived\":{\"0x1\":{\"Contact\":0,\"Contact\":1}}}");
	CHECK(g.rc == -1 && strstr(g.err, "duplicate") != NULL);
}

static void test_tasmota_zigbee_several(void)
{
	struct vendor_settings v = all_on();
	struct vendor_report out[VENDOR_REPORTS_MAX];
	char buf[4096], err[CODEC_ERR_MAX];
	size_t len = fixture("tasmota_zb_two.json", buf, sizeof buf);

	int n = vendor_decode_all(&v, "tele/zbbridge/SENSOR", buf, len, out, VENDOR_REPORTS_MAX, err);
	CHECK(n == 2);
	CHECK_STR(out[0].device_id, "door_3_2_1502");
	CHECK(out[0].r.door == SB_DOOR_CLOSED);
	CHECK_STR(out[1].device_id, "Tuya_Door_Sensor");
	CHECK(out[1].r.door == SB_DOOR_OPEN && out[1].r.has_tamper && out[1].r.tamper == 0);

	/* the count says how many there were even when fewer fit */
	memset(out, 0, sizeof out);
	n = vendor_decode_all(&v, "tele/zbbridge/SENSOR", buf, len, out, 1, err);
	CHECK(n == 2);
	CHECK_STR(out[0].device_id, "door_3_2_1502");
	CHECK_STR(out[1].device_id, "");

	/* vendor_decode: the first device */
	struct got g = dec_file(&v, "tele/zbbridge/SENSOR", "tasmota_zb_two.json");
	CHECK(g.rc == 1);
	CHECK_STR(g.id, "door_3_2_1502");

	/* one bad device refuses the message whole */
	const char *two = "{\"ZbReceived\":{\"a\":{\"Contact\":1},\"b\":{\"Contact\":9}}}";
	n = vendor_decode_all(&v, "tele/zbbridge/SENSOR", two, strlen(two), out, VENDOR_REPORTS_MAX, err);
	CHECK(n == -1 && strstr(err, "'b'") != NULL);

	/* single-device decoders give one, or nothing */
	const char *one = "{\"contact\":false}";
	n = vendor_decode_all(&v, "zigbee2mqtt/d1", one, strlen(one), out, VENDOR_REPORTS_MAX, err);
	CHECK(n == 1 && out[0].r.door == SB_DOOR_OPEN);
	n = vendor_decode_all(&v, "zigbee2mqtt/bridge/state", "online", 6, out, VENDOR_REPORTS_MAX, err);
	CHECK(n == 0);
}

static void test_disabled_sources(void)
{
	struct vendor_settings v;
	struct got g;

	memset(&v, 0, sizeof v);
	strcpy(v.z2m_base, "zigbee2mqtt");
	CHECK(dec(&v, "zigbee2mqtt/d1", "{\"contact\":false}").rc == 0);
	CHECK(dec(&v, "shellies/shellydw2-483FDA/sensor/state", "open").rc == 0);
	CHECK(dec(&v, "tele/door-1502/SENSOR", "{\"Switch1\":\"OFF\"}").rc == 0);
	/* a disabled source's junk is not ours to judge either */
	CHECK(dec(&v, "zigbee2mqtt/Front Door", "junk").rc == 0);
	CHECK(dec(&v, "seal/dev/x/report", "{}").rc == 0);

	/* each source alone */
	v.shelly = 1;
	CHECK(dec(&v, "shellies/shellydw2-483FDA/sensor/state", "open").rc == 1);
	CHECK(dec(&v, "zigbee2mqtt/d1", "{\"contact\":false}").rc == 0);
	CHECK(dec(&v, "tele/door-1502/SENSOR", "{\"Switch1\":\"OFF\"}").rc == 0);
	v.shelly = 0;
	v.tasmota = 1;
	g = dec(&v, "tele/door-1502/SENSOR", "{\"Switch1\":\"OFF\"}");
	CHECK(g.rc == 1 && g.r.door == SB_DOOR_CLOSED); /* switch_on_closed 0 here */
	CHECK(dec(&v, "shellies/shellydw2-483FDA/sensor/state", "open").rc == 0);
	v.tasmota = 0;
	v.z2m = 1;
	CHECK(dec(&v, "zigbee2mqtt/d1", "{\"contact\":false}").rc == 1);
	v.z2m_base[0] = '\0'; /* no base: nothing matches */
	CHECK(dec(&v, "zigbee2mqtt/d1", "{\"contact\":false}").rc == 0);
	CHECK(dec(&v, "/d1", "{\"contact\":false}").rc == 0);
}

static void test_filters(void)
{
	struct vendor_settings v;
	char f[VENDOR_FILTERS_MAX][SB_TOPIC_MAX + 1];

	memset(&v, 0, sizeof v);
	strcpy(v.z2m_base, "zigbee2mqtt");
	CHECK(vendor_filters(&v, f, VENDOR_FILTERS_MAX) == 0);

	v = all_on();
	CHECK(vendor_filters(&v, f, VENDOR_FILTERS_MAX) == 6);
	CHECK_STR(f[0], "zigbee2mqtt/+");
	CHECK_STR(f[1], "shellies/+/sensor/+");
	CHECK_STR(f[2], "tele/+/SENSOR");
	CHECK_STR(f[3], "tele/+/STATE");
	CHECK_STR(f[4], "tele/+/LWT");
	/* never more than asked for */
	CHECK(vendor_filters(&v, f, 2) == 2);
	CHECK_STR(f[1], "shellies/+/sensor/+");

	strcpy(v.z2m_base, "site/a/z2m");
	v.tasmota = 0;
	CHECK(vendor_filters(&v, f, VENDOR_FILTERS_MAX) == 3);
	CHECK_STR(f[0], "site/a/z2m/+");
}

static void test_settings_from_config(void)
{
	struct config c;
	struct vendor_settings v;

	config_defaults(&c);
	vendor_settings_from_config(&c, &v);
	CHECK(!v.z2m && !v.shelly && !v.tasmota);
	CHECK_STR(v.z2m_base, "zigbee2mqtt");
	CHECK(v.tasmota_switch_on_closed == 1);

	c.zigbee2mqtt.enabled = 1;
	strcpy(c.zigbee2mqtt.base_topic, "home/zb");
	c.shelly.enabled = 1;
	c.tasmota.enabled = 1;
	c.tasmota.switch_closed_on = 0;
	vendor_settings_from_config(&c, &v);
	CHECK(v.z2m && v.shelly && v.tasmota && !v.tasmota_switch_on_closed);
	CHECK_STR(v.z2m_base, "home/zb");
}

int main(void)
{
	RUN(test_z2m_contact_and_battery);
	RUN(test_z2m_battery_edges);
	RUN(test_z2m_junk_and_types);
	RUN(test_z2m_topics);
	RUN(test_shelly);
	RUN(test_tasmota_switch);
	RUN(test_tasmota_state_lwt);
	RUN(test_tasmota_zigbee);
	RUN(test_tasmota_zigbee_several);
	RUN(test_disabled_sources);
	RUN(test_filters);
	RUN(test_settings_from_config);
	DONE();
}
