/* Vendor payloads (vendor_decode_all / vendor_decode): a topic and a payload
 * from any Zigbee2MQTT, Shelly or Tasmota device or bridge on the broker.
 * Input: one byte of settings (bit 0 zigbee2mqtt, 1 shelly, 2 tasmota,
 * 3 tasmota switch_closed OFF, 4 a base topic other than "zigbee2mqtt"),
 * then the topic up to the first '\n', then the payload (exact size, not
 * NUL-terminated). Whatever a device sends, every report that comes out must
 * name a valid device id and hold only documented values. */
#include "vendor.h"
#include "fuzz_check.h"

#define MAX_SAFE_INT 9007199254740991LL

static int id_ok(const char *s)
{
	size_t n = strnlen(s, SB_ID_MAX + 1);
	if (n < 1 || n > SB_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

/* The has_ flags say what a report carries; a value without its flag is not
 * read by anyone (a vendor heartbeat leaves them zero), so only flagged
 * values are checked. */
static void check_report(const struct report *r)
{
	FUZZ_CHECK(r->has_door == 0 || r->has_door == 1);
	if (r->has_door)
		FUZZ_CHECK(r->door == SB_DOOR_OPEN || r->door == SB_DOOR_CLOSED);
	FUZZ_CHECK(r->has_battery == 0 || r->has_battery == 1);
	if (r->has_battery)
		FUZZ_CHECK(r->battery >= 0 && r->battery <= 100);
	FUZZ_CHECK(r->has_tamper == 0 || r->has_tamper == 1);
	if (r->has_tamper)
		FUZZ_CHECK(r->tamper == 0 || r->tamper == 1);
	FUZZ_CHECK(r->has_seq == 0 || r->has_seq == 1);
	if (r->has_seq)
		FUZZ_CHECK(r->seq >= 0 && r->seq <= MAX_SAFE_INT);
	FUZZ_CHECK(r->has_ts == 0 || r->has_ts == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct vendor_settings v = {0};
	v.z2m = data[0] & 1;
	v.shelly = (data[0] >> 1) & 1;
	v.tasmota = (data[0] >> 2) & 1;
	v.tasmota_switch_on_closed = !((data[0] >> 3) & 1);
	snprintf(v.z2m_base, sizeof v.z2m_base, "%s", (data[0] >> 4) & 1 ? "site/z2m" : "zigbee2mqtt");
	data++, size--;

	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t)(nl - data) : size;
	if (tlen > SB_TOPIC_MAX)
		return 0; /* the broker would not deliver it */
	char topic[SB_TOPIC_MAX + 1];
	memcpy(topic, data, tlen);
	topic[tlen] = '\0';
	if (strlen(topic) != tlen)
		return 0; /* MQTT topics hold no NUL */
	const uint8_t *p = nl ? nl + 1 : data + size;
	size_t plen = (size_t)(data + size - p);

	/* An exact-size copy, so ASan sees any read past the payload. */
	char *payload = malloc(plen ? plen : 1);
	FUZZ_CHECK(payload != NULL);
	memcpy(payload, p, plen);

	struct vendor_report out[VENDOR_REPORTS_MAX];
	char err[CODEC_ERR_MAX];
	err[0] = '\0';
	int n = vendor_decode_all(&v, topic, payload, plen, out, VENDOR_REPORTS_MAX, err);
	FUZZ_CHECK(n >= -1);
	FUZZ_CHECK(fuzz_terminated(err, CODEC_ERR_MAX));
	if (n < 0) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(fuzz_printable(err));
	}
	int devices = 0, first = -1;
	for (int i = 0; i < n && i < VENDOR_REPORTS_MAX; i++) {
		/* A gateway's status (a bridge's LWT, Zigbee2MQTT's bridge/state) names a gateway, not a seal. */
		if (out[i].gateway_status) {
			FUZZ_CHECK(out[i].gateway_status == 1 || out[i].gateway_status == -1);
			FUZZ_CHECK(id_ok(out[i].gateway_id));
			continue;
		}
		FUZZ_CHECK(id_ok(out[i].device_id));
		FUZZ_CHECK(out[i].gateway_id[0] == '\0' || id_ok(out[i].gateway_id));
		check_report(&out[i].r);
		if (first < 0)
			first = i;
		devices++;
	}
	if (!v.z2m && !v.shelly && !v.tasmota)
		FUZZ_CHECK(n == 0); /* nothing enabled, nothing decoded */

	/* The one-device form agrees with the first of the many. */
	char dev[SB_ID_MAX + 1];
	struct report r;
	char err1[CODEC_ERR_MAX];
	err1[0] = '\0';
	int one = vendor_decode(&v, topic, payload, plen, dev, &r, err1);
	FUZZ_CHECK(one == -1 || one == 0 || one == 1);
	FUZZ_CHECK(fuzz_terminated(err1, CODEC_ERR_MAX));
	FUZZ_CHECK((one < 0) == (n < 0));
	FUZZ_CHECK((one == 1) == (devices > 0));
	if (one == 1) {
		FUZZ_CHECK(strcmp(dev, out[first].device_id) == 0);
		check_report(&r);
	}
	free(payload);
	return 0;
}
