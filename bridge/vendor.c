/* Vendor door sensors to struct report.
 *
 * Formats (fixtures and their sources in tests/unit/vendor_payloads/):
 *  Zigbee2MQTT  <base>/<friendly_name>  {"contact":true,"battery":91,"tamper":false,...}
 *               contact true = closed; battery a number or, in some converters, a string.
 *  Shelly gen 1 shellies/<id>/sensor/state "open"|"close"; shellies/<id>/sensor/battery "85";
 *               any other shellies/<id>/sensor/<x> is a sign of life.
 *  Tasmota      tele/<topic>/SENSOR {"Switch1":"ON"} or {"Contact":0|1} (0 = closed),
 *               or {"ZbReceived":{"<key>":{"Device":"0x8F20","Name":"...","Contact":0,...}}};
 *               tele/<topic>/STATE and LWT "Online" are signs of life.
 *
 * Vendor firmware is not ours to fix, so a battery estimate outside 0-100 is
 * clamped rather than refused: refusing would also drop the door state that
 * came in the same message. */
#include "vendor.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

#define NOT_MINE (-2)
#define PERCENT_TEXT_MAX 24

static void seterr(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, CODEC_ERR_MAX, fmt, ap);
	va_end(ap);
}

/* Input quoted in an error goes to logs and out over MQTT: short and printable. */
static void quote(const char *s, size_t n, char out[48])
{
	size_t i = 0;
	for (; i < n && s[i] && i < 40; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (i < n && s[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

void vendor_settings_from_config(const struct config *c, struct vendor_settings *v)
{
	memset(v, 0, sizeof *v);
	v->z2m = c->zigbee2mqtt.enabled;
	/* config caps base_topic at VENDOR_BASE_MAX; a longer one could only be cut wrong. */
	size_t n = strnlen(c->zigbee2mqtt.base_topic, sizeof c->zigbee2mqtt.base_topic);
	if (n <= VENDOR_BASE_MAX)
		memcpy(v->z2m_base, c->zigbee2mqtt.base_topic, n);
	v->shelly = c->shelly.enabled;
	v->tasmota = c->tasmota.enabled;
	v->tasmota_switch_on_closed = c->tasmota.switch_closed_on;
	snprintf(v->z2m_gateway, sizeof v->z2m_gateway, "%.64s", c->zigbee2mqtt.gateway_id);
	if (strlen(c->mqtt.topic_root) + 3 < sizeof v->gw_prefix)
		snprintf(v->gw_prefix, sizeof v->gw_prefix, "%s/gw", c->mqtt.topic_root);
}

static size_t add_filter(char out[][SB_TOPIC_MAX + 1], size_t n, size_t max, const char *a, const char *b)
{
	if (n >= max)
		return n;
	int w = snprintf(out[n], SB_TOPIC_MAX + 1, "%s%s", a, b);
	return (w > 0 && w <= SB_TOPIC_MAX) ? n + 1 : n;
}

size_t vendor_filters(const struct vendor_settings *v, char out[][SB_TOPIC_MAX + 1], size_t max)
{
	size_t n = 0;
	if (!v || !out)
		return 0;
	/* '+' rather than '#': a friendly name with '/' is no valid device id anyway,
	 * and '#' would bring in the bridge's large retained device lists. */
	if (v->z2m && v->z2m_base[0])
		n = add_filter(out, n, max, v->z2m_base, "/+");
	if (v->shelly)
		n = add_filter(out, n, max, "shellies/+/sensor/+", "");
	if (v->tasmota) {
		n = add_filter(out, n, max, "tele/+/SENSOR", "");
		n = add_filter(out, n, max, "tele/+/STATE", "");
		n = add_filter(out, n, max, "tele/+/LWT", "");
	}
	/* Gateways: Zigbee2MQTT's own state, and R/gw/<id>/status. */
	if (v->z2m && v->z2m_base[0])
		n = add_filter(out, n, max, v->z2m_base, "/bridge/state");
	if (v->gw_prefix[0])
		n = add_filter(out, n, max, v->gw_prefix, "/+/status");
	return n;
}

/* ---------------------------------------------------------------- helpers */

/* The part of topic after "prefix/", or NULL. */
static const char *after(const char *topic, const char *prefix)
{
	size_t n = strlen(prefix);
	if (n == 0 || strncmp(topic, prefix, n) != 0 || topic[n] != '/')
		return NULL;
	return topic + n + 1;
}

/* 1 when one of the levels of s (a '/'-separated topic part) is word. */
static int has_level(const char *s, const char *word)
{
	size_t n = strlen(word);
	for (;;) {
		size_t l = strcspn(s, "/");
		if (l == n && memcmp(s, word, n) == 0)
			return 1;
		if (!s[l])
			return 0;
		s += l + 1;
	}
}

/* The first topic level of s (up to '/' or the end) as a device id. */
static int take_id(const char *s, const char *what, char id[SB_ID_MAX + 1], char *err)
{
	size_t n = strcspn(s, "/");
	char q[48];
	if (n <= SB_ID_MAX) {
		memcpy(id, s, n);
		id[n] = '\0';
		if (sb_id_valid(id))
			return 0;
	}
	quote(s, n, q);
	seterr(err, "%s '%s' is not a valid device id", what, q);
	return -1;
}

static int too_big(size_t len, char *err)
{
	if (len <= VENDOR_PAYLOAD_MAX)
		return 0;
	seterr(err, "payload is %zu bytes, limit %d", len, VENDOR_PAYLOAD_MAX);
	return -1;
}

static int payload_is(const char *p, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(p, word, len) == 0;
}

/* A double to a percentage: rounded, clamped to 0-100 (see the top of the file). */
static int percent_of(double d, int *out)
{
	if (!isfinite(d))
		return -1;
	if (d <= 0)
		*out = 0;
	else if (d >= 100)
		*out = 100;
	else
		*out = (int)floor(d + 0.5);
	return 0;
}

/* "85", "85.5": plain decimal text only (no sign, exponent, hex, blanks, nan). */
static int percent_text(const char *s, size_t len, int *out)
{
	char buf[PERCENT_TEXT_MAX];
	int digits = 0, dots = 0;

	if (len == 0 || len >= sizeof buf)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.' && ++dots == 1)
			continue;
		else
			return -1;
	}
	if (!digits)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	char *end;
	double d = strtod(buf, &end);
	if (*end || errno == ERANGE)
		return -1;
	return percent_of(d, out);
}

static int has_nul(const char *p, size_t len)
{
	return memchr(p, '\0', len) != NULL;
}

/* Size cap, parse, whole input consumed, an object at the top. */
static cJSON *parse_object(const char *p, size_t len, char *err)
{
	const char *end = NULL;
	if (has_nul(p, len)) {
		seterr(err, "payload contains a NUL byte");
		return NULL;
	}
	cJSON *root = cJSON_ParseWithLengthOpts(p, len, &end, 0);
	if (!root) {
		size_t at = end && end >= p ? (size_t)(end - p) : 0;
		seterr(err, "invalid JSON near byte %zu", at);
		return NULL;
	}
	size_t pos = end && end >= p ? (size_t)(end - p) : len;
	while (pos < len && strchr(" \t\r\n", p[pos]))
		pos++;
	if (pos < len || !cJSON_IsObject(root)) {
		seterr(err, pos < len ? "invalid JSON: data after the value" : "payload must be a JSON object");
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static int no_duplicates(const cJSON *obj, char *err)
{
	const char *dup = json_duplicate_key(obj);
	if (!dup)
		return 0;
	char q[48];
	quote(dup, strlen(dup), q);
	seterr(err, "duplicate key '%s'", q);
	return -1;
}

/* Exact lookup; JSON null counts as absent (Z2M publishes null for unknown values). */
static const cJSON *field(const cJSON *obj, const char *name)
{
	const cJSON *v = json_member(obj, name);
	return v && !cJSON_IsNull(v) ? v : NULL;
}

static int json_percent(const cJSON *v, const char *name, int *out, char *err)
{
	if (cJSON_IsNumber(v) && percent_of(v->valuedouble, out) == 0)
		return 0;
	if (cJSON_IsString(v) && percent_text(v->valuestring, strlen(v->valuestring), out) == 0)
		return 0;
	seterr(err, "%s must be a number from 0 to 100", name);
	return -1;
}

static int json_bool(const cJSON *v, const char *name, int *out, char *err)
{
	if (!cJSON_IsBool(v)) {
		seterr(err, "%s must be true or false", name);
		return -1;
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

/* An integer-valued number in [min, max]. */
static int json_int(const cJSON *v, const char *name, double min, double max, long *out, char *err)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!isfinite(d) || d != floor(d) || d < min || d > max) {
		seterr(err, "%s must be an integer from %.0f to %.0f", name, min, max);
		return -1;
	}
	*out = (long)d;
	return 0;
}

/* ---------------------------------------------------------------- gateways */

/* "online"/"offline", plain (Zigbee2MQTT before 1.29) or as {"state": ...}. */
static int status_word(const char *p, size_t len, int json_only, char *err)
{
	if (!json_only) {
		if (payload_is(p, len, "online"))
			return 1;
		if (payload_is(p, len, "offline"))
			return -1;
	}
	cJSON *root = parse_object(p, len, err);
	if (!root)
		return 0;
	int st = 0;
	const cJSON *s = no_duplicates(root, err) == 0 ? field(root, "state") : NULL;
	if (s && cJSON_IsString(s) && strcmp(s->valuestring, "online") == 0)
		st = 1;
	else if (s && cJSON_IsString(s) && strcmp(s->valuestring, "offline") == 0)
		st = -1;
	else if (s || !err[0])
		seterr(err, "gateway status: expected {\"state\": \"online\"} or {\"state\": \"offline\"}");
	cJSON_Delete(root);
	return st;
}

static int gateway_entry(const char *id, int st, struct vendor_report *out, size_t max, char *err)
{
	struct vendor_report one;
	memset(&one, 0, sizeof one);
	if (take_id(id, "gateway id", one.gateway_id, err) < 0)
		return -1;
	one.gateway_status = st;
	if (max)
		out[0] = one;
	return 1;
}

static int gw_decode(const struct vendor_settings *v, const char *topic, const char *p, size_t len,
		     struct vendor_report *out, size_t max, char *err)
{
	const char *rest = v->gw_prefix[0] ? after(topic, v->gw_prefix) : NULL;
	const char *slash = rest ? strchr(rest, '/') : NULL;
	if (!slash || strcmp(slash, "/status") != 0)
		return NOT_MINE;
	char id[SB_ID_MAX + 2];
	size_t n = (size_t)(slash - rest);
	if (n == 0 || n > SB_ID_MAX) {
		seterr(err, "gateway id in topic must be 1-%d characters", SB_ID_MAX);
		return -1;
	}
	memcpy(id, rest, n);
	id[n] = '\0';
	if (too_big(len, err) < 0)
		return -1;
	if (len == 0)
		return 0; /* a cleared retained status says nothing */
	int st = status_word(p, len, 1, err);
	return st ? gateway_entry(id, st, out, max, err) : -1;
}

static int z2m_bridge_state(const struct vendor_settings *v, const char *p, size_t len, struct vendor_report *out,
			    size_t max, char *err)
{
	if (too_big(len, err) < 0)
		return -1;
	if (len == 0 || !v->z2m_gateway[0])
		return 0;
	int st = status_word(p, len, 0, err);
	return st ? gateway_entry(v->z2m_gateway, st, out, max, err) : -1;
}

/* ------------------------------------------------------------ Zigbee2MQTT */

static int z2m_decode(const struct vendor_settings *v, const char *topic, const char *p, size_t len,
		      struct vendor_report *out, size_t max, char *err)
{
	const char *rest = v->z2m && v->z2m_base[0] ? after(topic, v->z2m_base) : NULL;
	if (!rest)
		return NOT_MINE;
	if (strcmp(rest, "bridge/state") == 0)
		return z2m_bridge_state(v, p, len, out, max, err);
	if (strcmp(rest, "bridge") == 0 || strncmp(rest, "bridge/", 7) == 0)
		return 0;
	const char *slash = strchr(rest, '/');
	/* <name>/set, <name>/get, <name>/<endpoint>/set, <name>/availability:
	 * commands to a device or Z2M's own liveness, not what the device said. */
	if (slash && (has_level(slash + 1, "set") || has_level(slash + 1, "get") ||
		      strcmp(strrchr(rest, '/'), "/availability") == 0))
		return 0;
	struct vendor_report one;
	memset(&one, 0, sizeof one);
	/* A friendly name may hold '/', which no device id does: the whole rest is the name. */
	if (slash) {
		char q[48];
		quote(rest, strlen(rest), q);
		seterr(err, "zigbee2mqtt friendly name '%s' is not a valid device id", q);
		return -1;
	}
	if (take_id(rest, "zigbee2mqtt friendly name", one.device_id, err) < 0 || too_big(len, err) < 0)
		return -1;
	/* An empty retained message is Z2M clearing a removed device's state. */
	if (len == 0)
		return 0;
	cJSON *root = parse_object(p, len, err);
	if (!root)
		return -1;
	memset(&one.r, 0, sizeof one.r);
	int rc = -1;
	const cJSON *f;
	if (no_duplicates(root, err) < 0)
		goto out;
	if ((f = field(root, "contact"))) {
		int closed;
		if (json_bool(f, "contact", &closed, err) < 0)
			goto out;
		one.r.has_door = 1;
		one.r.door = closed ? SB_DOOR_CLOSED : SB_DOOR_OPEN;
	}
	if ((f = field(root, "battery"))) {
		if (json_percent(f, "battery", &one.r.battery, err) < 0)
			goto out;
		one.r.has_battery = 1;
	}
	if ((f = field(root, "tamper"))) {
		if (json_bool(f, "tamper", &one.r.tamper, err) < 0)
			goto out;
		one.r.has_tamper = 1;
	}
	if (max)
		out[0] = one;
	rc = 1;
out:
	cJSON_Delete(root);
	return rc;
}

/* ----------------------------------------------------------------- Shelly */

static int shelly_decode(const struct vendor_settings *v, const char *topic, const char *p, size_t len,
			 struct vendor_report *out, size_t max, char *err)
{
	const char *rest = v->shelly ? after(topic, "shellies") : NULL;
	if (!rest)
		return NOT_MINE;
	/* shellies/<id>/sensor/<what>; announce, online, info and relays say nothing about a door. */
	const char *slash = strchr(rest, '/');
	const char *what = slash ? after(slash + 1, "sensor") : NULL;
	if (!what || !what[0] || strchr(what, '/'))
		return 0;
	struct vendor_report one;
	memset(&one, 0, sizeof one);
	if (take_id(rest, "shelly id", one.device_id, err) < 0 || too_big(len, err) < 0)
		return -1;
	if (has_nul(p, len)) {
		seterr(err, "payload contains a NUL byte");
		return -1;
	}
	if (strcmp(what, "state") == 0) {
		one.r.has_door = 1;
		if (payload_is(p, len, "open")) {
			one.r.door = SB_DOOR_OPEN;
		} else if (payload_is(p, len, "close") || payload_is(p, len, "closed")) {
			one.r.door = SB_DOOR_CLOSED;
		} else {
			char q[48];
			quote(p, len, q);
			seterr(err, "sensor/state must be open or close (got '%s')", q);
			return -1;
		}
	} else if (strcmp(what, "battery") == 0) {
		if (percent_text(p, len, &one.r.battery) < 0) {
			char q[48];
			quote(p, len, q);
			seterr(err, "sensor/battery must be a number from 0 to 100 (got '%s')", q);
			return -1;
		}
		one.r.has_battery = 1;
	}
	/* tilt, vibration, lux, temperature, ...: the device is awake, a sign of life. */
	if (max)
		out[0] = one;
	return 1;
}

/* ---------------------------------------------------------------- Tasmota */

/* Contact 0 = closed, 1 = open; else IAS ZoneStatus bit 0 (alarm 1 = open), bit 2 tamper. */
static int tasmota_fields(const cJSON *obj, int zigbee, struct report *r, char *err)
{
	const cJSON *f;
	long n;
	memset(r, 0, sizeof *r);
	if (no_duplicates(obj, err) < 0)
		return -1;
	if ((f = field(obj, "Contact"))) {
		if (json_int(f, "Contact", 0, 1, &n, err) < 0)
			return -1;
		r->has_door = 1;
		r->door = n ? SB_DOOR_OPEN : SB_DOOR_CLOSED;
	}
	if (!zigbee)
		return 0;
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "ZoneStatusChange" : "ZoneStatus";
		if (!(f = field(obj, name)))
			continue;
		if (json_int(f, name, 0, 65535, &n, err) < 0)
			return -1;
		if (!r->has_door) {
			r->has_door = 1;
			r->door = (n & 1) ? SB_DOOR_OPEN : SB_DOOR_CLOSED;
		}
		r->has_tamper = 1;
		r->tamper = (n & 4) != 0;
		break;
	}
	if ((f = field(obj, "BatteryPercentage"))) {
		if (json_percent(f, "BatteryPercentage", &r->battery, err) < 0)
			return -1;
		r->has_battery = 1;
	}
	return 0;
}

/* The Zigbee Name when it is a valid id (Tasmota lets names hold blanks), else
 * the short address in Device, else the key. */
static int zb_id(const char *key, const cJSON *dev, char id[SB_ID_MAX + 1], char *err)
{
	const cJSON *name = field(dev, "Name"), *addr = field(dev, "Device");
	if (cJSON_IsString(name) && sb_id_valid(name->valuestring))
		return take_id(name->valuestring, "", id, err);
	if (cJSON_IsString(addr) && sb_id_valid(addr->valuestring))
		return take_id(addr->valuestring, "", id, err);
	return take_id(key ? key : "", "ZbReceived device", id, err);
}

static int tasmota_zigbee(const char *bridge, const cJSON *zb, struct vendor_report *out, size_t max, char *err)
{
	int n = 0;
	if (!cJSON_IsObject(zb)) {
		seterr(err, "ZbReceived must be an object");
		return -1;
	}
	if (no_duplicates(zb, err) < 0)
		return -1;
	for (const cJSON *dev = zb->child; dev; dev = dev->next) {
		struct vendor_report one;
		memset(&one, 0, sizeof one);
		/* The bridge relays this device: it is the device's gateway. */
		char e3[CODEC_ERR_MAX];
		if (take_id(bridge, "tasmota topic", one.gateway_id, e3) < 0)
			one.gateway_id[0] = '\0';
		char e2[CODEC_ERR_MAX], q[48];
		quote(dev->string ? dev->string : "", dev->string ? strlen(dev->string) : 0, q);
		if (!cJSON_IsObject(dev)) {
			seterr(err, "ZbReceived '%s' must be an object", q);
			return -1;
		}
		if (zb_id(dev->string, dev, one.device_id, err) < 0)
			return -1;
		if (tasmota_fields(dev, 1, &one.r, e2) < 0) {
			seterr(err, "ZbReceived '%s': %s", q, e2);
			return -1;
		}
		if ((size_t)n < max)
			out[n] = one;
		n++;
	}
	return n;
}

static int tasmota_sensor(const struct vendor_settings *v, const char *name, const char *p, size_t len,
			  struct vendor_report *out, size_t max, char *err)
{
	cJSON *root = parse_object(p, len, err);
	if (!root)
		return -1;
	int rc = -1;
	const cJSON *zb, *sw;
	struct vendor_report one;
	memset(&one, 0, sizeof one);
	if (no_duplicates(root, err) < 0)
		goto out;
	/* A Zigbee bridge reports its devices, each under its own id, not its own topic. */
	if ((zb = field(root, "ZbReceived"))) {
		rc = tasmota_zigbee(name, zb, out, max, err);
		goto out;
	}
	if (take_id(name, "tasmota topic", one.device_id, err) < 0 || tasmota_fields(root, 0, &one.r, err) < 0)
		goto out;
	if (!one.r.has_door && (sw = field(root, "Switch1"))) {
		int on = cJSON_IsString(sw) && strcmp(sw->valuestring, "ON") == 0;
		if (!on && !(cJSON_IsString(sw) && strcmp(sw->valuestring, "OFF") == 0)) {
			seterr(err, "Switch1 must be \"ON\" or \"OFF\"");
			goto out;
		}
		one.r.has_door = 1;
		one.r.door = on == v->tasmota_switch_on_closed ? SB_DOOR_CLOSED : SB_DOOR_OPEN;
	}
	if (max)
		out[0] = one;
	rc = 1;
out:
	cJSON_Delete(root);
	return rc;
}

static int tasmota_decode(const struct vendor_settings *v, const char *topic, const char *p, size_t len,
			  struct vendor_report *out, size_t max, char *err)
{
	const char *rest = v->tasmota ? after(topic, "tele") : NULL;
	if (!rest)
		return NOT_MINE;
	const char *slash = strchr(rest, '/');
	if (!slash || strchr(slash + 1, '/'))
		return 0;
	const char *kind = slash + 1;
	int known = strcmp(kind, "SENSOR") == 0 || strcmp(kind, "LWT") == 0 || strcmp(kind, "STATE") == 0;
	if (!known)
		return 0; /* INFO1, RESULT, MARGINS, ...: nothing about a door */
	if (too_big(len, err) < 0)
		return -1;
	if (strcmp(kind, "SENSOR") == 0)
		return tasmota_sensor(v, rest, p, len, out, max, err);
	if (strcmp(kind, "LWT") == 0) {
		/* A Tasmota bridge is the gateway of the Zigbee devices it relays. */
		char topic_id[SB_ID_MAX + 2];
		size_t tn = (size_t)(slash - rest);
		if (tn == 0 || tn > SB_ID_MAX)
			return take_id("", "tasmota topic", topic_id, err);
		memcpy(topic_id, rest, tn);
		topic_id[tn] = '\0';
		if (payload_is(p, len, "Offline"))
			return gateway_entry(topic_id, -1, out, max, err);
		if (!payload_is(p, len, "Online")) {
			char q[48];
			quote(p, len, q);
			seterr(err, "LWT must be Online or Offline (got '%s')", q);
			return -1;
		}
		/* Online: the Tasmota device itself is alive, and as a gateway it is back. */
		struct vendor_report two[2];
		memset(two, 0, sizeof two);
		if (take_id(topic_id, "tasmota topic", two[0].device_id, err) < 0 ||
		    gateway_entry(topic_id, 1, two + 1, 1, err) < 0)
			return -1;
		for (size_t i = 0; i < 2 && i < max; i++)
			out[i] = two[i];
		return 2;
	}
	/* STATE (periodic telemetry) or LWT Online: a heartbeat. */
	struct vendor_report one;
	memset(&one, 0, sizeof one);
	if (take_id(rest, "tasmota topic", one.device_id, err) < 0)
		return -1;
	if (max)
		out[0] = one;
	return 1;
}

/* -------------------------------------------------------------------- API */

int vendor_decode_all(const struct vendor_settings *v, const char *topic, const char *payload, size_t len,
		      struct vendor_report *out, size_t max, char err[CODEC_ERR_MAX])
{
	static int (*const sources[])(const struct vendor_settings *, const char *, const char *, size_t,
				      struct vendor_report *, size_t, char *) = {gw_decode, z2m_decode, shelly_decode,
										tasmota_decode};
	static const enum sb_source source_of[] = {SB_SRC_NONE, SB_SRC_ZIGBEE2MQTT, SB_SRC_SHELLY, SB_SRC_TASMOTA};
	if (!v || !topic || !err || (!payload && len) || (!out && max))
		return -1;
	err[0] = '\0';
	for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		int rc = sources[i](v, topic, payload ? payload : "", len, out, max, err);
		if (rc == NOT_MINE)
			continue;
		for (int k = 0; k < rc && (size_t)k < max; k++) {
			if (out[k].gateway_status)
				continue;
			out[k].source = source_of[i];
			/* A Zigbee2MQTT instance is the gateway of its seals. */
			if (source_of[i] == SB_SRC_ZIGBEE2MQTT)
				snprintf(out[k].gateway_id, sizeof out[k].gateway_id, "%s", v->z2m_gateway);
			else if (source_of[i] != SB_SRC_TASMOTA)
				out[k].gateway_id[0] = '\0';
		}
		return rc;
	}
	return 0;
}

int vendor_decode(const struct vendor_settings *v, const char *topic, const char *payload, size_t len,
		  char device_id[SB_ID_MAX + 1], struct report *r, char err[CODEC_ERR_MAX])
{
	struct vendor_report all[VENDOR_REPORTS_MAX];
	if (!device_id || !r)
		return -1;
	int rc = vendor_decode_all(v, topic, payload, len, all, VENDOR_REPORTS_MAX, err);
	/* The first device's report: a gateway's status is none. */
	for (int i = 0; i < rc && i < VENDOR_REPORTS_MAX; i++) {
		if (all[i].gateway_status)
			continue;
		memcpy(device_id, all[i].device_id, sizeof all[i].device_id);
		*r = all[i].r;
		return 1;
	}
	return rc < 0 ? rc : 0;
}
