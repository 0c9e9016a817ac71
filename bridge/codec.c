/* JSON to and from our structs (cJSON stays inside this file).
 * Input comes from devices and platforms we do not control, so every decoder
 * checks size, bytes, syntax, duplicates, types and ranges before a value
 * reaches a struct, and says which field was wrong. */
#include "codec.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec_seal.h"
#include "json_util.h"
#include "tzwin.h"

/* JSON numbers are doubles: beyond 2^53 integers are no longer exact. */
#define MAX_SAFE_INT 9007199254740991.0
/* 9999-12-31T23:59:59Z, the last second RFC 3339 can write. */
#define MAX_TIME_S 253402300799LL
#define MAX_SILENCE_S (30.0 * 24 * 3600)
#define MAX_PERSONS 10000

static void seterr(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, CODEC_ERR_MAX, fmt, ap);
	va_end(ap);
}

/* Input-derived text quoted in an error: short and printable, because the
 * error goes to logs and back out over MQTT. */
static void quote_input(const char *s, char out[48])
{
	size_t i = 0;
	for (; s && s[i] && i < 40; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (s && s[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsArray(v))
		return "array";
	if (cJSON_IsObject(v))
		return "object";
	return "invalid";
}

/* Length of one well-formed UTF-8 sequence at p (no overlongs, surrogates or
 * code points above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	size_t n;
	unsigned min;
	unsigned cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, cp = c & 0x1fu, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, cp = c & 0x0fu, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, cp = c & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* cJSON passes raw control characters and invalid UTF-8 through, and turns a
 * NUL (raw or \u0000) into a silent truncation; refuse all of these first. */
static int check_bytes(const char *buf, size_t len, char *err)
{
	const unsigned char *p = (const unsigned char *)buf;
	int in_str = 0;
	size_t i = 0;
	while (i < len) {
		unsigned char ch = p[i];
		if (ch == 0) {
			seterr(err, "payload contains a NUL byte at byte %zu", i);
			return -1;
		}
		if (ch >= 0x80) {
			size_t n = utf8_len(p + i, len - i);
			if (n == 0) {
				seterr(err, "invalid UTF-8 at byte %zu", i);
				return -1;
			}
			i += n;
			continue;
		}
		if (in_str) {
			if (ch < 0x20) {
				seterr(err, "control character in a string at byte %zu", i);
				return -1;
			}
			if (ch == '\\' && i + 1 < len && p[i + 1] < 0x80) {
				if (p[i + 1] == 'u' && len - i >= 6 && memcmp(p + i + 2, "0000", 4) == 0) {
					seterr(err, "\\u0000 in a string at byte %zu", i);
					return -1;
				}
				i += 2;
				continue;
			}
			if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		}
		i++;
	}
	return 0;
}

/* Size cap, byte check, parse, whole input consumed, object at the top. */
static cJSON *parse_object(const char *buf, size_t len, size_t limit, char *err)
{
	if (len > limit) {
		seterr(err, "payload is %zu bytes, limit %zu", len, limit);
		return NULL;
	}
	if (!buf || len == 0) {
		seterr(err, "empty payload");
		return NULL;
	}
	if (check_bytes(buf, len, err) < 0)
		return NULL;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root) {
		size_t at = end && end >= buf ? (size_t)(end - buf) : 0;
		seterr(err, "invalid JSON near byte %zu", at);
		return NULL;
	}
	/* cJSON stops after the first value; anything but whitespace after it is garbage. */
	size_t pos = end && end >= buf ? (size_t)(end - buf) : len;
	while (pos < len && (buf[pos] == ' ' || buf[pos] == '\t' || buf[pos] == '\n' || buf[pos] == '\r'))
		pos++;
	if (pos < len) {
		seterr(err, "invalid JSON near byte %zu: data after the object", pos);
		cJSON_Delete(root);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		seterr(err, "payload must be a JSON object (got %s)", type_name(root));
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static int check_duplicates(const cJSON *obj, char *err)
{
	const char *dup = json_duplicate_key(obj);
	if (!dup)
		return 0;
	char q[48];
	quote_input(dup, q);
	seterr(err, "duplicate key '%s'", q);
	return -1;
}


static int count_key(const cJSON *obj, const char *name)
{
	int n = 0;
	for (const cJSON *v = obj->child; v; v = v->next)
		if (v->string && strcmp(v->string, name) == 0)
			n++;
	return n;
}

/* Range is checked on the double before any conversion (valueint saturates). */
static int get_int(const cJSON *v, const char *name, double lo, double hi, int64_t *out, char *err)
{
	if (!cJSON_IsNumber(v)) {
		seterr(err, "field '%s': expected an integer %.0f-%.0f (got %s)", name, lo, hi,
		       type_name(v));
		return -1;
	}
	double d = v->valuedouble;
	if (!(d >= lo && d <= hi) || d != (double)(int64_t)d) {
		seterr(err, "field '%s': expected an integer %.0f-%.0f (got %.15g)", name, lo, hi, d);
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A string of at most max bytes without control characters, copied into out[max + 1]. */
static int get_text(const cJSON *v, const char *name, size_t max, char *out, char *err)
{
	if (!cJSON_IsString(v) || !v->valuestring) {
		seterr(err, "field '%s': expected a string (got %s)", name, type_name(v));
		return -1;
	}
	size_t n = strlen(v->valuestring);
	if (n > max) {
		seterr(err, "field '%s': %zu bytes, limit %zu", name, n, max);
		return -1;
	}
	if (has_control(v->valuestring)) {
		seterr(err, "field '%s': control characters are not allowed", name);
		return -1;
	}
	memcpy(out, v->valuestring, n + 1);
	return 0;
}

static int get_id(const cJSON *v, const char *name, char out[SB_ID_MAX + 1], char *err)
{
	if (!cJSON_IsString(v) || !v->valuestring) {
		seterr(err, "field '%s': expected an id string (got %s)", name, type_name(v));
		return -1;
	}
	if (!sb_id_valid(v->valuestring)) {
		seterr(err, "field '%s': invalid id (allowed: A-Z a-z 0-9 _ -, 1-64 characters)", name);
		return -1;
	}
	memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int get_topic(const cJSON *v, const char *name, char out[SB_TOPIC_MAX + 1], char *err)
{
	if (!cJSON_IsString(v) || !v->valuestring) {
		seterr(err, "field '%s': expected a topic string (got %s)", name, type_name(v));
		return -1;
	}
	/* Whether it is a topic a reply may go to is the service's to judge
	 * (reply_topic.c): a bad one must not stop the command itself. Longer
	 * than the buffer stays longer than any valid reply topic. */
	const char *s = v->valuestring;
	size_t n = strlen(s);
	if (n > SB_TOPIC_MAX)
		n = SB_TOPIC_MAX;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static int get_time(const cJSON *v, const char *name, int64_t *out, char *err)
{
	if (cJSON_IsString(v) && v->valuestring) {
		int64_t ms;
		if (codec_parse_time(v->valuestring, &ms) < 0) {
			seterr(err, "field '%s': invalid RFC 3339 time (e.g. 2026-11-29T04:00:00.000Z)", name);
			return -1;
		}
		if (ms < 0 || ms > MAX_TIME_S * 1000 + 999) {
			seterr(err, "field '%s': time before 1970 or after 9999", name);
			return -1;
		}
		*out = ms;
		return 0;
	}
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (!(d >= 0 && d <= (double)MAX_TIME_S) || d != (double)(int64_t)d) {
			seterr(err, "field '%s': expected integer seconds since the epoch 0-%lld (got %.15g)",
			       name, (long long)MAX_TIME_S, d);
			return -1;
		}
		*out = (int64_t)d * 1000;
		return 0;
	}
	seterr(err, "field '%s': expected an RFC 3339 time string or integer seconds since the epoch (got %s)",
	       name, type_name(v));
	return -1;
}

int codec_decode_report(const char *buf, size_t len, struct report *out, char err[CODEC_ERR_MAX])
{
	memset(out, 0, sizeof *out);
	out->battery = -1;
	out->tamper = -1;
	err[0] = '\0';
	cJSON *root = parse_object(buf, len, SB_REPORT_MAX, err);
	if (!root)
		return -1;
	int rc = -1;
	const cJSON *v;
	int64_t n;
	if (check_duplicates(root, err) < 0)
		goto done;
	if ((v = json_member(root, "door"))) {
		const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
		if (s && strcmp(s, "open") == 0) {
			out->door = SB_DOOR_OPEN;
		} else if (s && strcmp(s, "closed") == 0) {
			out->door = SB_DOOR_CLOSED;
		} else {
			char q[48];
			quote_input(s, q);
			seterr(err, "field 'door': expected \"open\" or \"closed\" (got %s%s%s)",
			       s ? "\"" : "", s ? q : type_name(v), s ? "\"" : "");
			goto done;
		}
		out->has_door = 1;
	}
	if ((v = json_member(root, "battery"))) {
		if (get_int(v, "battery", 0, 100, &n, err) < 0)
			goto done;
		out->battery = (int)n;
		out->has_battery = 1;
	}
	if ((v = json_member(root, "tamper"))) {
		if (!cJSON_IsBool(v)) {
			seterr(err, "field 'tamper': expected true or false (got %s)", type_name(v));
			goto done;
		}
		out->tamper = cJSON_IsTrue(v) ? 1 : 0;
		out->has_tamper = 1;
	}
	if ((v = json_member(root, "seq"))) {
		if (get_int(v, "seq", 0, MAX_SAFE_INT, &out->seq, err) < 0)
			goto done;
		out->has_seq = 1;
	}
	if ((v = json_member(root, "ts"))) {
		if (get_int(v, "ts", 0, MAX_SAFE_INT, &out->ts, err) < 0)
			goto done;
		out->has_ts = 1;
	}
	rc = 0;
done:
	cJSON_Delete(root);
	return rc;
}

/* Command fields, each decoded by one case of decode_field(). */
enum field {
	F_HOUSEHOLD, F_DISTRICT, F_STREET, F_COMMUNITY, F_DEVICE, F_ALERT, F_BY,
	F_START, F_END, F_FROM, F_UNTIL, F_ADDRESS, F_CATEGORY, F_PERSONS,
	F_SILENCE, F_REASON, F_NOTE, F_MODEL, F_BATCH, F_RESULT, F_SOURCE, F_GATEWAY, F_PERMIT, F_DAILY,
	F_OUTCOME, F_NONE
};

static const char *const field_names[F_NONE] = {
	"household_id", "district_id", "street_id", "community_id", "device_id", "alert_id", "by",
	"start", "end", "from", "until", "address", "category", "persons",
	"silence_after", "reason", "note", "model", "batch", "result", "source", "gateway_id", "permit_id",
	"daily", "outcome"};

struct field_use {
	enum field f;
	int required;
};

/* INTERFACE.md's command table; F_NONE ends each row. */
static const struct field_use op_fields[SB_OP_COUNT][10] = {
	[SB_OP_ADMIT] = {{F_HOUSEHOLD, 1}, {F_DISTRICT, 1}, {F_STREET, 1}, {F_COMMUNITY, 1}, {F_END, 1},
			 {F_START, 0}, {F_ADDRESS, 0}, {F_CATEGORY, 0}, {F_PERSONS, 0}, {F_NONE, 0}},
	[SB_OP_RELEASE] = {{F_HOUSEHOLD, 1}, {F_REASON, 0}, {F_NONE, 0}},
	[SB_OP_INSTALL] = {{F_DEVICE, 1}, {F_HOUSEHOLD, 1}, {F_SILENCE, 0}, {F_SOURCE, 0}, {F_GATEWAY, 0},
			   {F_MODEL, 0}, {F_NONE, 0}},
	[SB_OP_UNINSTALL] = {{F_DEVICE, 1}, {F_NONE, 0}},
	/* One target of household_id, community_id, street_id, district_id: checked after the row. */
	[SB_OP_PERMIT] = {{F_HOUSEHOLD, 0}, {F_COMMUNITY, 0}, {F_STREET, 0}, {F_DISTRICT, 0}, {F_UNTIL, 1},
			  {F_FROM, 0}, {F_REASON, 0}, {F_DAILY, 0}, {F_NONE, 0}},
	[SB_OP_ACK] = {{F_ALERT, 1}, {F_BY, 1}, {F_NOTE, 0}, {F_NONE, 0}},
	[SB_OP_RESOLVE] = {{F_ALERT, 1}, {F_BY, 1}, {F_NOTE, 0}, {F_OUTCOME, 0}, {F_NONE, 0}},
	/* Seal custody; allocate's "exactly one of street_id or community_id" is the engine's. */
	[SB_OP_REGISTER] = {{F_DEVICE, 1}, {F_MODEL, 0}, {F_BATCH, 0}, {F_NOTE, 0}, {F_NONE, 0}},
	[SB_OP_ALLOCATE] = {{F_DEVICE, 1}, {F_STREET, 0}, {F_COMMUNITY, 0}, {F_NONE, 0}},
	[SB_OP_INSPECT] = {{F_DEVICE, 1}, {F_RESULT, 1}, {F_NOTE, 0}, {F_NONE, 0}},
	[SB_OP_SWAP] = {{F_HOUSEHOLD, 1}, {F_DEVICE, 1}, {F_NONE, 0}},
	[SB_OP_REVOKE] = {{F_PERMIT, 1}, {F_NONE, 0}},
};

static int decode_silence(const cJSON *v, struct command *c, char *err)
{
	const char *what = "field 'silence_after': expected seconds > 0 and <= 2592000 (30 days)";
	if (!cJSON_IsNumber(v)) {
		seterr(err, "%s (got %s)", what, type_name(v));
		return -1;
	}
	double s = v->valuedouble;
	if (!(s > 0 && s <= MAX_SILENCE_S)) {
		seterr(err, "%s (got %.15g)", what, s);
		return -1;
	}
	int64_t ms = (int64_t)(s * 1000.0 + 0.5);
	if (ms <= 0) {
		seterr(err, "field 'silence_after': %.15g seconds is less than 1 ms", s);
		return -1;
	}
	c->silence_after_ms = ms;
	c->has_silence_after = 1;
	return 0;
}

static int decode_result(const cJSON *v, struct command *c, char *err)
{
	static const char *const names[] = {"ok", "faulty", "lost"};
	const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
	for (int i = 0; s && i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			c->result = (enum sb_inspect_result)(SB_INSPECT_OK + i);
			return 0;
		}
	char q[48];
	quote_input(s, q);
	seterr(err, "field 'result': expected \"ok\", \"faulty\" or \"lost\" (got %s%s%s)", s ? "\"" : "",
	       s ? q : type_name(v), s ? "\"" : "");
	return -1;
}

/* {"from": "HH:MM", "until": "HH:MM"}, nothing else. */
static int decode_daily(const cJSON *v, struct command *c, char *err)
{
	const char *what = "field 'daily': expected {\"from\": \"HH:MM\", \"until\": \"HH:MM\"} (00:00-23:59)";
	if (!cJSON_IsObject(v)) {
		seterr(err, "%s (got %s)", what, type_name(v));
		return -1;
	}
	const cJSON *f = json_member(v, "from"), *u = json_member(v, "until");
	int n = 0;
	for (const cJSON *x = v->child; x; x = x->next)
		n++;
	int from = f && cJSON_IsString(f) ? tzwin_parse_hhmm(f->valuestring) : -1;
	int until = u && cJSON_IsString(u) ? tzwin_parse_hhmm(u->valuestring) : -1;
	if (n != 2 || from < 0 || until < 0) {
		seterr(err, "%s", what);
		return -1;
	}
	if (from == until) {
		seterr(err, "field 'daily': 'from' and 'until' are the same time");
		return -1;
	}
	c->has_daily = 1;
	c->daily_from = from;
	c->daily_until = until;
	return 0;
}

/* A permit names exactly one target: a household or one unit. */
static int permit_target(struct command *c, char *err)
{
	int n = 0;
	c->area = 0;
	if (c->household_id[0])
		n++;
	for (int l = 0; l < SB_LEVEL_COUNT; l++)
		if (c->unit_id[l][0]) {
			n++;
			c->area = 1 + l;
		}
	if (n != 1) {
		seterr(err, "%s: give exactly one of household_id, community_id, street_id, district_id",
		       n ? "more than one target" : "missing target");
		return -1;
	}
	return 0;
}

static int decode_field(enum field f, const cJSON *v, struct command *c, char *err)
{
	const char *name = field_names[f];
	int64_t n;
	switch (f) {
	case F_HOUSEHOLD:
		return get_id(v, name, c->household_id, err);
	case F_DISTRICT:
		return get_id(v, name, c->unit_id[SB_LEVEL_DISTRICT], err);
	case F_STREET:
		return get_id(v, name, c->unit_id[SB_LEVEL_STREET], err);
	case F_COMMUNITY:
		return get_id(v, name, c->unit_id[SB_LEVEL_COMMUNITY], err);
	case F_DEVICE:
		return get_id(v, name, c->device_id, err);
	case F_ALERT:
		return get_id(v, name, c->alert_id, err);
	case F_BY:
		return get_id(v, name, c->by, err);
	case F_START:
		c->has_start = get_time(v, name, &c->start_ms, err) == 0;
		return c->has_start ? 0 : -1;
	case F_END:
		c->has_end = get_time(v, name, &c->end_ms, err) == 0;
		return c->has_end ? 0 : -1;
	case F_FROM:
		c->has_from = get_time(v, name, &c->from_ms, err) == 0;
		return c->has_from ? 0 : -1;
	case F_UNTIL:
		c->has_until = get_time(v, name, &c->until_ms, err) == 0;
		return c->has_until ? 0 : -1;
	case F_ADDRESS:
		return get_text(v, name, SB_ADDRESS_MAX, c->address, err);
	case F_REASON:
		return get_text(v, name, SB_TEXT_MAX, c->reason, err);
	case F_NOTE:
		return get_text(v, name, SB_TEXT_MAX, c->note, err);
	case F_CATEGORY:
		if (!cJSON_IsString(v) || !v->valuestring || !*v->valuestring ||
		    sb_category_parse(v->valuestring, &c->category) < 0) {
			const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
			char q[48];
			quote_input(s, q);
			c->category = SB_CAT_NONE;
			seterr(err, "field 'category': expected one of risk_area_arrival, confirmed_case, "
				    "close_contact, other (got %s%s%s)",
			       s ? "\"" : "", s ? q : type_name(v), s ? "\"" : "");
			return -1;
		}
		return 0;
	case F_PERSONS:
		if (get_int(v, name, 0, MAX_PERSONS, &n, err) < 0)
			return -1;
		c->persons = (int)n;
		return 0;
	case F_SILENCE:
		return decode_silence(v, c, err);
	case F_MODEL:
		return get_id(v, name, c->model, err);
	case F_BATCH:
		return get_id(v, name, c->batch, err);
	case F_RESULT:
		return decode_result(v, c, err);
	case F_SOURCE:
		if (!cJSON_IsString(v) || sb_source_parse(v->valuestring, &c->source) < 0) {
			c->source = SB_SRC_NONE;
			seterr(err, "field 'source': expected one of native, zigbee2mqtt, shelly, tasmota");
			return -1;
		}
		return 0;
	case F_GATEWAY:
		return get_id(v, name, c->gateway_id, err);
	case F_PERMIT:
		return get_id(v, name, c->permit_id, err);
	case F_DAILY:
		return decode_daily(v, c, err);
	case F_OUTCOME:
		if (!cJSON_IsString(v) || sb_outcome_parse(v->valuestring, &c->outcome) < 0) {
			seterr(err, "field 'outcome': expected one of false_alarm, errand, violation, device_fault, other");
			return -1;
		}
		c->has_outcome = 1;
		return 0;
	case F_NONE:
		break;
	}
	return -1;
}

/* request_id and reply_to come first and independently, so that whatever is
 * wrong later can still be answered to the right place. */
static int decode_reply_fields(const cJSON *root, struct command *c, char *err)
{
	int rc = 0;
	char e2[CODEC_ERR_MAX];
	const cJSON *v;
	if ((v = json_member(root, "request_id"))) {
		if (count_key(root, "request_id") > 1) {
			seterr(err, "duplicate key 'request_id'");
			rc = -1;
		} else if (get_id(v, "request_id", c->request_id, err) < 0) {
			c->request_id[0] = '\0';
			rc = -1;
		}
	}
	if ((v = json_member(root, "reply_to"))) {
		if (count_key(root, "reply_to") > 1) {
			seterr(e2, "duplicate key 'reply_to'");
		} else if (get_topic(v, "reply_to", c->reply_to, e2) == 0) {
			c->reply_to_given = 1;
			return rc;
		}
		c->reply_to[0] = '\0';
		if (rc == 0)
			memcpy(err, e2, CODEC_ERR_MAX);
		rc = -1;
	}
	return rc;
}

int codec_decode_command(enum sb_op op, const char *buf, size_t len, struct command *c,
			 char err[CODEC_ERR_MAX])
{
	memset(c, 0, sizeof *c);
	c->op = op;
	c->persons = -1;
	c->category = SB_CAT_NONE;
	err[0] = '\0';
	if ((int)op < 0 || op >= SB_OP_COUNT) {
		seterr(err, "unknown command");
		return -1;
	}
	cJSON *root = parse_object(buf, len, SB_COMMAND_MAX, err);
	if (!root)
		return -1;
	int rc = -1;
	if (decode_reply_fields(root, c, err) < 0)
		goto done;
	if (check_duplicates(root, err) < 0)
		goto done;
	for (const struct field_use *u = op_fields[op]; u->f != F_NONE; u++) {
		const cJSON *v = json_member(root, field_names[u->f]);
		if (!v) {
			if (u->required) {
				seterr(err, "missing field '%s'", field_names[u->f]);
				goto done;
			}
			continue;
		}
		if (decode_field(u->f, v, c, err) < 0)
			goto done;
	}
	if (op == SB_OP_PERMIT && permit_target(c, err) < 0)
		goto done;
	rc = 0;
done:
	cJSON_Delete(root);
	return rc;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Clamped to years 0000-9999 so that the text always has the RFC 3339 shape. */
void codec_format_time(int64_t wall_ms, char out[32])
{
	const int64_t lo = days_from_civil(0, 1, 1) * 86400000LL;
	const int64_t hi = (MAX_TIME_S + 1) * 1000 - 1;
	if (wall_ms < lo)
		wall_ms = lo;
	if (wall_ms > hi)
		wall_ms = hi;
	int64_t ms = wall_ms % 1000;
	int64_t s = wall_ms / 1000;
	if (ms < 0) {
		ms += 1000;
		s -= 1;
	}
	int64_t days = s / 86400;
	int64_t sod = s % 86400;
	if (sod < 0) {
		sod += 86400;
		days -= 1;
	}
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	/* Written digit by digit: every field is bounded by the clamp above. */
	const unsigned v[7] = {(unsigned)y, m, d, (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60),
			       (unsigned)(sod % 60), (unsigned)ms};
	static const int width[7] = {4, 2, 2, 2, 2, 2, 3};
	static const char sep[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
	char *p = out;
	for (int i = 0; i < 7; i++) {
		for (int k = width[i] - 1; k >= 0; k--) {
			unsigned x = v[i];
			for (int j = 0; j < k; j++)
				x /= 10;
			*p++ = (char)('0' + x % 10);
		}
		*p++ = sep[i];
	}
	*p = '\0';
}

/* Exactly n ASCII digits at *p, advancing *p. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];
		if (ch < '0' || ch > '9')
			return -1;
		v = v * 10 + (ch - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 date-time only: no week dates, no missing seconds, no leap
 * second 60 (we cannot place it), no local time without an offset. */
int codec_parse_time(const char *s, int64_t *out_ms)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int Y, M, D, h, mi, sec, ms = 0;
	if (!s)
		return -1;
	const char *p = s;
	if (digits(&p, 4, &Y) < 0 || *p++ != '-' || digits(&p, 2, &M) < 0 || *p++ != '-' ||
	    digits(&p, 2, &D) < 0)
		return -1;
	if (*p != 'T' && *p != 't')
		return -1;
	p++;
	if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0 || *p++ != ':' ||
	    digits(&p, 2, &sec) < 0)
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] + (M == 2 && is_leap(Y)) || h > 23 ||
	    mi > 59 || sec > 59)
		return -1;
	if (*p == '.') {
		p++;
		int n = 0;
		for (; p[n] >= '0' && p[n] <= '9'; n++)
			if (n < 3)
				ms = ms * 10 + (p[n] - '0');
		if (n < 1 || n > 9)
			return -1;
		for (int i = n; i < 3; i++)
			ms *= 10;
		p += n;
	}
	int off_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		int oh, om;
		if (digits(&p, 2, &oh) < 0 || *p++ != ':' || digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
			return -1;
		off_min = sign * (oh * 60 + om);
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	int64_t secs = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + sec -
		       (int64_t)off_min * 60;
	*out_ms = secs * 1000 + ms;
	return 0;
}

/* ---- encoders ----
 * Builders record an allocation failure in *ok instead of checking each call. */

static void add_str(cJSON *o, const char *name, const char *v, int *ok)
{
	cJSON *item = v ? cJSON_CreateString(v) : cJSON_CreateNull();
	if (!item || !cJSON_AddItemToObject(o, name, item)) {
		cJSON_Delete(item);
		*ok = 0;
	}
}

/* "" means absent for the fixed-size id fields of our structs. */
static void add_str_or_null(cJSON *o, const char *name, const char *v, int *ok)
{
	add_str(o, name, v && *v ? v : NULL, ok);
}

static void add_int(cJSON *o, const char *name, int64_t v, int *ok)
{
	if (!cJSON_AddNumberToObject(o, name, (double)v))
		*ok = 0;
}

static void add_bool(cJSON *o, const char *name, int v, int *ok)
{
	if (!cJSON_AddBoolToObject(o, name, v ? 1 : 0))
		*ok = 0;
}

static void add_null(cJSON *o, const char *name, int *ok)
{
	if (!cJSON_AddNullToObject(o, name))
		*ok = 0;
}

static void add_time(cJSON *o, const char *name, int64_t ms, int *ok)
{
	char t[32];
	codec_format_time(ms, t);
	add_str(o, name, t, ok);
}

static char *finish(cJSON *o, int ok)
{
	char *s = ok && o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

static const char *unit_id(const struct household *h, enum sb_level l)
{
	const struct unit *u = sb_household_unit(h, l);
	return u ? u->id : NULL;
}

/* The unit an alert went to at this level, else the household's. */
static const char *alert_unit(const struct alert *a, const struct household *h, enum sb_level l)
{
	return a->unit_id[l][0] ? a->unit_id[l] : unit_id(h, l);
}

char *codec_encode_alert(const struct alert_msg *m)
{
	const struct alert *a = &m->alert;
	const struct household *h = m->household;
	int ok = 1;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_str(o, "event_id", m->event_id, &ok);
	add_str(o, "alert_id", a->id, &ok);
	add_str(o, "type", sb_alert_type_name(a->type), &ok);
	add_str(o, "state", sb_alert_state_name(a->state), &ok);
	add_str(o, "level", sb_level_name(m->to_level), &ok);
	add_str_or_null(o, "household_id", a->household_id, &ok);
	add_str(o, "address", h ? h->address : NULL, &ok);
	add_str_or_null(o, "device_id", a->device_id, &ok);
	add_str(o, "community_id", alert_unit(a, h, SB_LEVEL_COMMUNITY), &ok);
	add_str(o, "street_id", alert_unit(a, h, SB_LEVEL_STREET), &ok);
	add_str(o, "district_id", alert_unit(a, h, SB_LEVEL_DISTRICT), &ok);
	if (a->type == SB_ALERT_GATEWAY_OFFLINE) {
		add_str(o, "gateway_id", a->gateway_id, &ok);
		add_int(o, "households", a->households, &ok);
	}
	add_time(o, "since", a->since_ms, &ok);
	add_time(o, "at", m->at_ms, &ok);
	add_int(o, "count", a->count, &ok);
	add_str_or_null(o, "category", h ? sb_category_name(h->category) : NULL, &ok);
	if (a->state == SB_AST_ACKED || a->state == SB_AST_RESOLVED || a->state == SB_AST_REMINDED) {
		add_str_or_null(o, "by", a->by, &ok);
		add_str_or_null(o, "note", a->note, &ok);
	}
	if (a->state == SB_AST_RESOLVED)
		add_str(o, "outcome", sb_outcome_name((enum sb_outcome)a->outcome), &ok);
	return finish(o, ok);
}

char *codec_encode_state(const struct household *h, int64_t at_ms)
{
	const struct device *d = h->device;
	int ok = 1;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_str(o, "household_id", h->id, &ok);
	add_str(o, "district_id", unit_id(h, SB_LEVEL_DISTRICT), &ok);
	add_str(o, "street_id", unit_id(h, SB_LEVEL_STREET), &ok);
	add_str(o, "community_id", unit_id(h, SB_LEVEL_COMMUNITY), &ok);
	add_str(o, "address", h->address, &ok);
	add_str_or_null(o, "category", sb_category_name(h->category), &ok);
	if (h->persons >= 0)
		add_int(o, "persons", h->persons, &ok);
	else
		add_null(o, "persons", &ok);
	add_time(o, "start", h->start_ms, &ok);
	add_time(o, "end", h->end_ms, &ok);
	add_str(o, "device_id", d ? d->id : NULL, &ok);
	add_str(o, "door", d ? sb_door_name(d->door) : sb_door_name(SB_DOOR_UNKNOWN), &ok);
	add_bool(o, "online", d ? sb_device_online(d) : 0, &ok);
	add_str(o, "gateway", d && d->gateway ? (d->gateway->offline ? "offline" : "online") : NULL, &ok);
	if (d && d->last_seen_ms != 0)
		add_time(o, "last_seen", d->last_seen_ms, &ok);
	else
		add_null(o, "last_seen", &ok);
	if (d && d->battery >= 0)
		add_int(o, "battery", d->battery, &ok);
	else
		add_null(o, "battery", &ok);
	if (d && d->tamper >= 0)
		add_bool(o, "tamper", d->tamper, &ok);
	else
		add_null(o, "tamper", &ok);
	cJSON *arr = cJSON_AddArrayToObject(o, "open_alerts");
	if (!arr)
		ok = 0;
	for (int t = 0; arr && t < SB_ALERT_TYPE_COUNT; t++) {
		const struct alert *a = sb_household_alert(h, (enum sb_alert_type)t);
		if (!a)
			continue;
		cJSON *id = cJSON_CreateString(a->id);
		if (!id || !cJSON_AddItemToArray(arr, id)) {
			cJSON_Delete(id);
			ok = 0;
		}
	}
	/* Beyond the ids: what each open alert is, how far it went and how many
	 * occurrences it has folded (the interface wants count visible here). */
	cJSON *det = cJSON_AddArrayToObject(o, "alerts");
	if (!det)
		ok = 0;
	for (int t = 0; det && t < SB_ALERT_TYPE_COUNT; t++) {
		const struct alert *a = sb_household_alert(h, (enum sb_alert_type)t);
		if (!a)
			continue;
		cJSON *x = cJSON_CreateObject();
		if (!x || !cJSON_AddItemToArray(det, x)) {
			cJSON_Delete(x);
			ok = 0;
			continue;
		}
		add_str(x, "alert_id", a->id, &ok);
		add_str(x, "type", sb_alert_type_name(a->type), &ok);
		add_str(x, "state", sb_alert_state_name(a->state), &ok);
		add_str(x, "level", sb_level_name(a->level), &ok);
		add_int(x, "count", a->count, &ok);
		add_time(x, "since", a->since_ms, &ok);
	}
	add_time(o, "at", at_ms, &ok);
	return finish(o, ok);
}

char *codec_encode_stats(const struct stats_msg *m)
{
	int ok = 1;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_str(o, "level", m->unit ? sb_level_name(m->unit->level) : NULL, &ok);
	add_str(o, "unit_id", m->unit ? m->unit->id : NULL, &ok);
	add_int(o, "households", m->households, &ok);
	add_int(o, "fitted", m->fitted, &ok);
	add_int(o, "online", m->online, &ok);
	add_int(o, "silent", m->silent, &ok);
	add_int(o, "doors_open", m->doors_open, &ok);
	add_int(o, "open_alerts", m->open_alerts, &ok);
	codec_add_seals(o, m->seals, &ok);
	add_int(o, "gateway_offline", m->gateway_offline, &ok);
	cJSON *r24 = cJSON_AddObjectToObject(o, "resolved_24h");
	if (!r24)
		ok = 0;
	for (int i = 0; r24 && i < SB_OUT_COUNT; i++)
		add_int(r24, sb_outcome_name((enum sb_outcome)i), m->resolved_24h[i], &ok);
	add_time(o, "at", m->at_ms, &ok);
	return finish(o, ok);
}

char *codec_encode_reply(const struct command *c, enum sb_op op, const struct cmd_result *r)
{
	int ok = 1;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_str_or_null(o, "request_id", c ? c->request_id : NULL, &ok);
	add_str(o, "op", sb_op_name(op), &ok);
	add_bool(o, "ok", r->ok, &ok);
	if (!r->ok) {
		add_str(o, "error", r->error, &ok);
		add_str(o, "message", r->message, &ok);
		return finish(o, ok);
	}
	if (c && c->household_id[0])
		add_str(o, "household_id", c->household_id, &ok);
	if (c && c->device_id[0])
		add_str(o, "device_id", c->device_id, &ok);
	if (r->permit_id[0])
		add_str(o, "permit_id", r->permit_id, &ok);
	if (r->alert_id[0])
		add_str(o, "alert_id", r->alert_id, &ok);
	else if (c && c->alert_id[0])
		add_str(o, "alert_id", c->alert_id, &ok);
	if (r->seal_state)
		add_str(o, "seal_state", r->seal_state, &ok);
	return finish(o, ok);
}

char *codec_encode_error_reply(const char *request_id, const char *op_name, const char *error,
			       const char *message)
{
	int ok = 1;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_str_or_null(o, "request_id", request_id, &ok);
	add_str(o, "op", op_name, &ok);
	add_bool(o, "ok", 0, &ok);
	add_str(o, "error", error, &ok);
	add_str(o, "message", message, &ok);
	return finish(o, ok);
}

char *codec_encode_rejected(const char *topic, const char *reason, const char *detail, int64_t at_ms)
{
	int ok = 1;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_str(o, "topic", topic, &ok);
	add_str(o, "reason", reason, &ok);
	add_str(o, "message", detail, &ok);
	add_time(o, "at", at_ms, &ok);
	return finish(o, ok);
}

char *codec_encode_status(const char *state, const char *version, int64_t at_ms, const char *error)
{
	int ok = 1;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	add_str(o, "state", state, &ok);
	add_str(o, "version", version, &ok);
	/* The will is made at start-up and sent whenever the broker loses us: no honest time. */
	if (at_ms > 0)
		add_time(o, "at", at_ms, &ok);
	else
		add_null(o, "at", &ok);
	if (error)
		add_str(o, "error", error, &ok);
	return finish(o, ok);
}
