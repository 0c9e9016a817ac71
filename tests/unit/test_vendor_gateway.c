/* Gateway statuses from vendor sources and R/gw/<id>/status (issue 12 part 1). */
#include "check.h"
#include "vendor.h"

#include <string.h>

static struct vendor_settings on(void)
{
	struct vendor_settings v;
	memset(&v, 0, sizeof v);
	v.z2m = v.shelly = v.tasmota = 1;
	strcpy(v.z2m_base, "zigbee2mqtt");
	strcpy(v.z2m_gateway, "z2m");
	strcpy(v.gw_prefix, "seal/gw");
	v.tasmota_switch_on_closed = 1;
	return v;
}

static int dec(const char *topic, const char *payload, struct vendor_report *out, size_t max, char *err)
{
	struct vendor_settings v = on();
	memset(out, 0x5a, max * sizeof *out);
	return vendor_decode_all(&v, topic, payload, strlen(payload), out, max, err);
}

static void test_gw_status(void)
{
	struct vendor_report r[4];
	char err[CODEC_ERR_MAX];
	CHECK(dec("seal/gw/gw-1/status", "{\"state\":\"offline\"}", r, 4, err) == 1);
	CHECK(r[0].gateway_status == -1);
	CHECK_STR(r[0].gateway_id, "gw-1");
	CHECK(dec("seal/gw/gw-1/status", "{\"state\":\"online\",\"at\":\"x\"}", r, 4, err) == 1);
	CHECK(r[0].gateway_status == 1);
	CHECK(dec("seal/gw/gw-1/status", "online", r, 4, err) == -1);
	CHECK(dec("seal/gw/gw-1/status", "{\"state\":\"asleep\"}", r, 4, err) == -1);
	CHECK(strstr(err, "gateway status") != NULL);
	CHECK(dec("seal/gw/bad+id/status", "{\"state\":\"online\"}", r, 4, err) == -1);
	CHECK(dec("seal/gw/gw-1/status", "", r, 4, err) == 0);
	CHECK(dec("seal/gw/gw-1/other", "{}", r, 4, err) == 0);
}

static void test_z2m_bridge_state(void)
{
	struct vendor_report r[4];
	char err[CODEC_ERR_MAX];
	CHECK(dec("zigbee2mqtt/bridge/state", "offline", r, 4, err) == 1);
	CHECK(r[0].gateway_status == -1);
	CHECK_STR(r[0].gateway_id, "z2m");
	CHECK(dec("zigbee2mqtt/bridge/state", "{\"state\":\"online\"}", r, 4, err) == 1);
	CHECK(r[0].gateway_status == 1);
	CHECK(dec("zigbee2mqtt/bridge/state", "sleeping", r, 4, err) == -1);
	/* a device report carries the source and the gateway */
	CHECK(dec("zigbee2mqtt/door-1", "{\"contact\":true}", r, 4, err) == 1);
	CHECK(r[0].gateway_status == 0 && r[0].source == SB_SRC_ZIGBEE2MQTT);
	CHECK_STR(r[0].gateway_id, "z2m");
}

static void test_tasmota_bridge(void)
{
	struct vendor_report r[4];
	char err[CODEC_ERR_MAX];
	CHECK(dec("tele/tas-1/LWT", "Offline", r, 4, err) == 1);
	CHECK(r[0].gateway_status == -1);
	CHECK_STR(r[0].gateway_id, "tas-1");
	CHECK(dec("tele/tas-1/LWT", "Online", r, 4, err) == 2);
	CHECK(r[0].gateway_status == 0);
	CHECK_STR(r[0].device_id, "tas-1");
	CHECK(r[1].gateway_status == 1);
	CHECK(dec("tele/tas-1/SENSOR", "{\"ZbReceived\":{\"0x1A2B\":{\"Name\":\"zb-7\",\"Contact\":1}}}", r, 4, err) == 1);
	CHECK_STR(r[0].device_id, "zb-7");
	CHECK_STR(r[0].gateway_id, "tas-1");
	CHECK(r[0].source == SB_SRC_TASMOTA && r[0].gateway_status == 0);
	/* a Tasmota switch device speaks for itself: no gateway */
	CHECK(dec("tele/door-9/SENSOR", "{\"Switch1\":\"ON\"}", r, 4, err) == 1);
	CHECK(r[0].gateway_id[0] == '\0');
	CHECK(dec("shellies/sh-1/sensor/state", "open", r, 4, err) == 1);
	CHECK(r[0].source == SB_SRC_SHELLY && r[0].gateway_id[0] == '\0');
}

int main(void)
{
	RUN(test_gw_status);
	RUN(test_z2m_bridge_state);
	RUN(test_tasmota_bridge);
	DONE();
}
