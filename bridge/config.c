/* Settings file to struct config.
 *
 * inih does the INI lexing, but Debian builds it without INI_HANDLER_LINENO and
 * it reports only the first syntax error, so we feed it through our own reader:
 * the reader counts lines, rejects malformed and over-long lines itself (so
 * every one is reported, with its line), strips leading blanks (so inih's
 * multi-line continuation never glues an indented "key = value" onto the
 * previous key's value) and tracks the current section. */
#include "config.h"

#include "log.h"
#include "model.h"
#include "tzwin.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DURATION_MIN_MS 10LL
#define DURATION_MAX_MS (30LL * 24 * 3600 * 1000)
#define STATS_MIN_MS 50LL

enum setting_type { SET_STRING, SET_INT, SET_SECONDS, SET_LEVEL, SET_BOOL, SET_ONOFF };

/* Extra validation for strings: NULL if fine, else why not. */
typedef const char *(*string_check)(const char *v);

struct setting {
	const char *section, *key;
	enum setting_type type;
	size_t offset;
	int64_t min, max; /* int: value; seconds: ms; string: length */
	string_check check;
	const char *def; /* default, in file syntax, so defaults go through the same parser */
};

static const char *check_uri(const char *v);
static const char *check_client_id(const char *v);
static const char *check_topic_root(const char *v);
static const char *check_timezone(const char *v);
static const char *check_id(const char *v);

#define OFF(field) offsetof(struct config, field)
#define STR_LEN_MAX (CONFIG_STR_MAX - 1)

static const struct setting settings[] = {
	{"mqtt", "uri", SET_STRING, OFF(mqtt.uri), 1, STR_LEN_MAX, check_uri, "tcp://127.0.0.1:1883"},
	{"mqtt", "client_id", SET_STRING, OFF(mqtt.client_id), 1, 64, check_client_id, "sealbridge"},
	{"mqtt", "topic_root", SET_STRING, OFF(mqtt.topic_root), 1, 128, check_topic_root, "seal"},
	{"mqtt", "username", SET_STRING, OFF(mqtt.username), 0, STR_LEN_MAX, NULL, ""},
	{"mqtt", "password", SET_STRING, OFF(mqtt.password), 0, STR_LEN_MAX, NULL, ""},
	{"mqtt", "cafile", SET_STRING, OFF(mqtt.cafile), 0, STR_LEN_MAX, NULL, ""},
	{"mqtt", "certfile", SET_STRING, OFF(mqtt.certfile), 0, STR_LEN_MAX, NULL, ""},
	{"mqtt", "keyfile", SET_STRING, OFF(mqtt.keyfile), 0, STR_LEN_MAX, NULL, ""},
	{"mqtt", "keepalive", SET_INT, OFF(mqtt.keepalive), 5, 3600, NULL, "30"},
	{"mqtt", "session_expiry", SET_INT, OFF(mqtt.session_expiry), 0, 2592000, NULL, "86400"},
	{"mqtt", "max_inflight", SET_INT, OFF(mqtt.max_inflight), 1, 65535, NULL, "1000"},
	{"store", "path", SET_STRING, OFF(store.path), 1, STR_LEN_MAX, NULL, "sealbridge.db"},
	/* docs/storage.md: retention, and what a store fault may cost. */
	{"store", "keep_days", SET_INT, OFF(store.keep_days), 0, 3650, NULL, "90"},
	{"store", "retention_every", SET_SECONDS, OFF(store.retention_every_ms), 1000, 7LL * 24 * 3600 * 1000, NULL,
	 "3600"},
	{"store", "max_waiting_saves", SET_INT, OFF(store.max_waiting_saves), 100, 1000000, NULL, "20000"},
	{"store", "stop_retry", SET_SECONDS, OFF(store.stop_retry_ms), 0, 300000, NULL, "10"},
	{"store", "wal_limit_mb", SET_INT, OFF(store.wal_limit_mb), 1, 1024, NULL, "16"},
	{"timing", "silence_after", SET_SECONDS, OFF(timing.silence_after_ms), DURATION_MIN_MS,
	 DURATION_MAX_MS, NULL, "900"},
	{"timing", "unmonitored_after", SET_SECONDS, OFF(timing.unmonitored_after_ms),
	 DURATION_MIN_MS, DURATION_MAX_MS, NULL, "3600"},
	{"timing", "battery_low", SET_INT, OFF(timing.battery_low), 0, 100, NULL, "20"},
	{"timing", "stats_interval", SET_SECONDS, OFF(timing.stats_interval_ms), STATS_MIN_MS,
	 DURATION_MAX_MS, NULL, "60"},
	{"timing", "timezone", SET_STRING, OFF(timing.timezone), 1, 128, check_timezone, "UTC"},
	{"timing", "status_interval", SET_SECONDS, OFF(timing.status_interval_ms), 1000, DURATION_MAX_MS, NULL, "60"},
	{"escalation", "street_after", SET_SECONDS, OFF(escalation.street_after_ms), DURATION_MIN_MS,
	 DURATION_MAX_MS, NULL, "600"},
	{"escalation", "district_after", SET_SECONDS, OFF(escalation.district_after_ms),
	 DURATION_MIN_MS, DURATION_MAX_MS, NULL, "900"},
	{"escalation", "reminder_after", SET_SECONDS, OFF(escalation.reminder_after_ms), 0, DURATION_MAX_MS, NULL,
	 "0"},
	{"log", "level", SET_LEVEL, OFF(log.level), 0, 0, NULL, "info"},
	{"log", "file", SET_STRING, OFF(log.file), 0, STR_LEN_MAX, NULL, ""},
	{"zigbee2mqtt", "enabled", SET_BOOL, OFF(zigbee2mqtt.enabled), 0, 0, NULL, "false"},
	{"zigbee2mqtt", "base_topic", SET_STRING, OFF(zigbee2mqtt.base_topic), 1, 128, check_topic_root,
	 "zigbee2mqtt"},
	{"zigbee2mqtt", "gateway_id", SET_STRING, OFF(zigbee2mqtt.gateway_id), 1, 64, check_id, "z2m"},
	{"shelly", "enabled", SET_BOOL, OFF(shelly.enabled), 0, 0, NULL, "false"},
	{"tasmota", "enabled", SET_BOOL, OFF(tasmota.enabled), 0, 0, NULL, "false"},
	{"tasmota", "switch_closed", SET_ONOFF, OFF(tasmota.switch_closed_on), 0, 0, NULL, "ON"},
};
#define N_SETTINGS (sizeof settings / sizeof settings[0])

struct parse {
	const char *path;
	struct config *c;
	FILE *f;
	char *buf; /* getline buffer */
	size_t bufcap;
	int lineno;
	char section[64];
	int section_ok; /* 0 after an unknown or malformed header: its keys are not reported again */
	int line_of[N_SETTINGS]; /* where each setting was set, 0 = not set */
	int bad[N_SETTINGS];     /* set but rejected */
	char *err;
	size_t err_len;
	int err_full;
	int nerr;
};

static const char *check_uri(const char *v)
{
	static const char *const schemes[] = {"tcp://", "ssl://", "mqtt://", "mqtts://", "ws://", "wss://"};
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t n = strlen(schemes[i]);
		if (strncmp(v, schemes[i], n) == 0)
			return v[n] ? NULL : "has no host after the scheme";
	}
	return "must start with tcp://, ssl://, mqtt://, mqtts://, ws:// or wss://";
}

static int has_control(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

static const char *check_client_id(const char *v)
{
	if (strpbrk(v, "/+#") || has_control(v))
		return "must not contain '/', '+', '#' or control characters";
	return NULL;
}

static const char *check_topic_root(const char *v)
{
	if (strpbrk(v, "+#") || has_control(v))
		return "must not contain '+', '#' or control characters";
	if (v[0] == '/' || v[strlen(v) - 1] == '/' || strstr(v, "//"))
		return "must not start or end with '/' or have an empty level";
	/* The broker reserves $-topics ($SYS); clients cannot use them as their own. */
	if (v[0] == '$')
		return "must not start with '$'";
	return NULL;
}

static const char *check_timezone(const char *v)
{
	static char why[256]; /* config loading is single-threaded */
	return tzwin_check(v, why) < 0 ? why : NULL;
}

static const char *check_id(const char *v)
{
	return sb_id_valid(v) ? NULL : "must be an id (A-Z a-z 0-9 _ -, 1-64 characters)";
}

static void err_add(struct parse *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Appends one "file:line: message" line; when the next would not fit, one
 * marker line instead, so the text always ends on a whole line. */
static void err_add(struct parse *p, int line, const char *fmt, ...)
{
	static const char more[] = "(more errors not shown)\n";
	char msg[CONFIG_ERR_MAX];
	int n;

	p->nerr++;
	if (p->err_full)
		return;
	if (line > 0)
		n = snprintf(msg, sizeof msg, "%s:%d: ", p->path, line);
	else
		n = snprintf(msg, sizeof msg, "%s: ", p->path);
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof msg) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
		va_end(ap);
	}
	size_t len = strlen(msg);
	if (len > sizeof msg - 2)
		len = sizeof msg - 2;
	msg[len++] = '\n';
	msg[len] = '\0';

	if (p->err_len + len + sizeof more <= CONFIG_ERR_MAX) {
		memcpy(p->err + p->err_len, msg, len + 1);
		p->err_len += len;
	} else {
		memcpy(p->err + p->err_len, more, sizeof more);
		p->err_len += sizeof more - 1;
		p->err_full = 1;
	}
}

static int parse_int(const char *s, int64_t min, int64_t max, int *out)
{
	char *end;
	long long v;

	/* strtoll alone would accept " 5", "+5" and "0x5". */
	if (!((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && s[1] >= '0' && s[1] <= '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* Booleans take the usual INI spellings; ON/OFF is Tasmota's own switch text. */
static int parse_switch(const char *s, enum setting_type type, int *out)
{
	static const char *const bool_words[][2] = {{"false", "true"}, {"no", "yes"}, {"off", "on"}, {"0", "1"}};
	static const char *const onoff_words[][2] = {{"OFF", "ON"}, {"off", "on"}};
	const char *const(*words)[2] = type == SET_BOOL ? bool_words : onoff_words;
	size_t n = type == SET_BOOL ? sizeof bool_words / sizeof bool_words[0]
				    : sizeof onoff_words / sizeof onoff_words[0];

	for (size_t i = 0; i < n; i++) {
		for (int v = 0; v < 2; v++) {
			if (strcmp(s, words[i][v]) == 0) {
				*out = v;
				return 0;
			}
		}
	}
	return -1;
}

int config_parse_seconds(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out_ms)
{
	char *end;
	double v, ms;

	if (!s || !out_ms)
		return -1;
	/* Plain decimal only: strtod would also take "nan", "inf", " 1" and hex. */
	if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '.'))
		return -1;
	if (s[strspn(s, "0123456789.eE+-")] != '\0')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !isfinite(v) || v < 0)
		return -1;
	ms = v * 1000.0;
	/* Compare as doubles first: converting an out-of-range double is undefined. */
	if (ms + 0.5 < (double)min_ms || ms - 0.5 > (double)max_ms)
		return -1;
	int64_t r = (int64_t)(ms + 0.5);
	if (r < min_ms || r > max_ms)
		return -1;
	*out_ms = r;
	return 0;
}

static const char *type_hint(const struct setting *s, char *buf, size_t n)
{
	switch (s->type) {
	case SET_INT:
		snprintf(buf, n, "must be an integer from %lld to %lld", (long long)s->min,
			 (long long)s->max);
		break;
	case SET_SECONDS:
		snprintf(buf, n, "must be a duration in seconds from %g to %lld", (double)s->min / 1000.0,
			 (long long)(s->max / 1000));
		break;
	case SET_LEVEL:
		snprintf(buf, n, "must be debug, info, warning or error");
		break;
	case SET_BOOL:
		snprintf(buf, n, "must be true or false");
		break;
	case SET_ONOFF:
		snprintf(buf, n, "must be ON or OFF");
		break;
	case SET_STRING:
		if (s->min > 0)
			snprintf(buf, n, "must be 1 to %lld characters", (long long)s->max);
		else
			snprintf(buf, n, "must be at most %lld characters", (long long)s->max);
		break;
	}
	return buf;
}

#define HINT_MAX 96

/* 0 or -1 with *why set to the reason (pointing into hint or a constant). */
static int apply(struct config *c, const struct setting *s, const char *v, const char **why,
		 char hint[HINT_MAX])
{
	char *field = (char *)c + s->offset;

	*why = NULL;
	switch (s->type) {
	case SET_STRING: {
		size_t len = strlen(v);
		if ((int64_t)len < s->min || (int64_t)len > s->max) {
			*why = type_hint(s, hint, HINT_MAX);
			return -1;
		}
		if (len && s->check && (*why = s->check(v)) != NULL)
			return -1;
		memcpy(field, v, len + 1);
		return 0;
	}
	case SET_INT: {
		int n;
		if (parse_int(v, s->min, s->max, &n) < 0) {
			*why = type_hint(s, hint, HINT_MAX);
			return -1;
		}
		memcpy(field, &n, sizeof n);
		return 0;
	}
	case SET_SECONDS: {
		int64_t ms;
		if (config_parse_seconds(v, s->min, s->max, &ms) < 0) {
			*why = type_hint(s, hint, HINT_MAX);
			return -1;
		}
		memcpy(field, &ms, sizeof ms);
		return 0;
	}
	case SET_LEVEL: {
		enum log_level l;
		if (log_level_parse(v, &l) < 0) {
			*why = type_hint(s, hint, HINT_MAX);
			return -1;
		}
		snprintf(field, sizeof c->log.level, "%s", v);
		return 0;
	}
	case SET_BOOL:
	case SET_ONOFF: {
		int b;
		if (parse_switch(v, s->type, &b) < 0) {
			*why = type_hint(s, hint, HINT_MAX);
			return -1;
		}
		memcpy(field, &b, sizeof b);
		return 0;
	}
	}
	return -1;
}

void config_defaults(struct config *c)
{
	const char *why;
	char hint[HINT_MAX];

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < N_SETTINGS; i++)
		(void)apply(c, &settings[i], settings[i].def, &why, hint); /* the table's defaults are valid */
}

static int section_known(const char *name)
{
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (strcmp(settings[i].section, name) == 0)
			return 1;
	return 0;
}

static const char model_prefix[] = "model.";

/* [model.<name>]: silence_after and battery_low, each at most once. */
static void model_setting(struct parse *p, const char *key, const char *value)
{
	struct config_model *m = &p->c->models[p->c->n_models - 1];
	int *line;
	if (strcmp(key, "silence_after") == 0)
		line = &m->line_silence;
	else if (strcmp(key, "battery_low") == 0)
		line = &m->line_battery;
	else {
		err_add(p, p->lineno, "unknown setting \"%.64s\" in [%s] (silence_after, battery_low)", key,
			p->section);
		return;
	}
	if (*line) {
		err_add(p, p->lineno, "%s.%s: already set on line %d", p->section, key, *line);
		return;
	}
	*line = p->lineno;
	int ok = line == &m->line_silence
			 ? config_parse_seconds(value, DURATION_MIN_MS, DURATION_MAX_MS, &m->silence_after_ms) == 0
			 : parse_int(value, 0, 100, &m->battery_low) == 0;
	if (!ok)
		err_add(p, p->lineno, "%s.%s: %s (got \"%.64s\")", p->section, key,
			line == &m->line_silence ? "must be a duration in seconds from 0.01 to 2592000"
						 : "must be an integer from 0 to 100",
			value);
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	const char *why;
	char hint[HINT_MAX];

	(void)section; /* the reader's own tracking also knows about rejected headers */
	if (!p->section_ok)
		return 1;
	if (!p->section[0]) {
		err_add(p, p->lineno, "\"%.64s\" is not in a [section]", key);
		return 1;
	}
	if (strncmp(p->section, model_prefix, sizeof model_prefix - 1) == 0) {
		model_setting(p, key, value);
		return 1;
	}
	for (size_t i = 0; i < N_SETTINGS; i++) {
		const struct setting *s = &settings[i];
		if (strcmp(s->section, p->section) != 0 || strcmp(s->key, key) != 0)
			continue;
		if (p->line_of[i]) {
			err_add(p, p->lineno, "%s.%s: already set on line %d", s->section, s->key,
				p->line_of[i]);
			return 1;
		}
		p->line_of[i] = p->lineno;
		if (apply(p->c, s, value, &why, hint) < 0) {
			p->bad[i] = 1;
			err_add(p, p->lineno, "%s.%s: %s (got \"%.64s%s\")", s->section, s->key, why,
				value, strlen(value) > 64 ? "..." : "");
		}
		return 1;
	}
	err_add(p, p->lineno, "unknown setting \"%.64s\" in [%s]", key, p->section);
	return 1;
}

static int take_model(struct parse *p)
{
	const char *name = p->section + sizeof model_prefix - 1;
	struct config *c = p->c;
	p->section_ok = 0;
	if (!sb_id_valid(name)) {
		err_add(p, p->lineno, "[%s]: a model name must be an id (A-Z a-z 0-9 _ -, 1-64 characters)", p->section);
		return -1;
	}
	for (int i = 0; i < c->n_models; i++)
		if (strcmp(c->models[i].name, name) == 0) {
			err_add(p, p->lineno, "[%s]: already defined on line %d", p->section, c->models[i].line);
			return -1;
		}
	if (c->n_models >= CONFIG_MODELS_MAX) {
		err_add(p, p->lineno, "[%s]: at most %d models", p->section, CONFIG_MODELS_MAX);
		return -1;
	}
	struct config_model *m = &c->models[c->n_models++];
	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "%s", name);
	m->battery_low = -1;
	m->line = p->lineno;
	p->section_ok = 1;
	return 0;
}

/* Checks a header line and tracks the section. 0 if the line may go to inih. */
static int take_header(struct parse *p, char *line)
{
	char *close = strchr(line, ']');
	size_t n;

	if (!close) {
		err_add(p, p->lineno, "section header has no ']'");
		p->section_ok = 0;
		return -1;
	}
	char *rest = close + 1;
	rest += strspn(rest, " \t\r\n");
	if (*rest && *rest != ';' && *rest != '#') {
		err_add(p, p->lineno, "text after section header");
		p->section_ok = 0;
		return -1;
	}
	n = (size_t)(close - line - 1);
	if (n >= sizeof p->section)
		n = sizeof p->section - 1;
	memcpy(p->section, line + 1, n);
	p->section[n] = '\0';
	if (strncmp(p->section, model_prefix, sizeof model_prefix - 1) == 0)
		return take_model(p);
	if (!section_known(p->section)) {
		err_add(p, p->lineno, "unknown section [%s]", p->section);
		p->section_ok = 0;
		return -1;
	}
	p->section_ok = 1;
	return 0;
}

/* inih's fgets-style reader: one real line per call, already vetted. */
static char *reader(char *str, int num, void *user)
{
	struct parse *p = user;
	ssize_t got;
	char *line;
	size_t len;

	if (num < 3)
		return NULL;
	got = getline(&p->buf, &p->bufcap, p->f);
	if (got < 0)
		return NULL;
	p->lineno++;
	line = p->buf;
	len = (size_t)got;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (p->lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3;
		len -= 3;
	}
	while (*line == ' ' || *line == '\t') {
		line++;
		len--;
	}
	str[0] = '\n';
	str[1] = '\0';
	if (strlen(line) != len) {
		err_add(p, p->lineno, "line contains a NUL byte");
		return str;
	}
	if (len > (size_t)num - 2) {
		err_add(p, p->lineno, "line is longer than %d characters", num - 2);
		return str;
	}
	if (len == 0 || line[0] == ';' || line[0] == '#')
		return str;
	if (line[0] == '[') {
		if (take_header(p, line) < 0)
			return str;
	} else if (!strpbrk(line, "=:")) {
		err_add(p, p->lineno, "expected \"key = value\" or \"[section]\"");
		return str;
	}
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

static size_t index_of(const char *section, const char *key)
{
	size_t i;
	for (i = 0; i < N_SETTINGS; i++)
		if (strcmp(settings[i].section, section) == 0 && strcmp(settings[i].key, key) == 0)
			break;
	return i; /* only called with names from the table */
}

static int is_tls_uri(const char *uri)
{
	return strncmp(uri, "ssl://", 6) == 0 || strncmp(uri, "mqtts://", 8) == 0 ||
	       strncmp(uri, "wss://", 6) == 0;
}

static void cross_checks(struct parse *p)
{
	const struct config *c = p->c;
	size_t icert = index_of("mqtt", "certfile"), ikey = index_of("mqtt", "keyfile");
	size_t ica = index_of("mqtt", "cafile"), iuri = index_of("mqtt", "uri");

	if (!c->mqtt.certfile[0] != !c->mqtt.keyfile[0]) {
		int line = c->mqtt.certfile[0] ? p->line_of[icert] : p->line_of[ikey];
		err_add(p, line, "mqtt.certfile and mqtt.keyfile must be set together");
	}
	/* Paho ignores TLS files on a plain URI: what was meant to be private would go out in clear. */
	if ((c->mqtt.cafile[0] || c->mqtt.certfile[0]) && !p->bad[iuri] && !is_tls_uri(c->mqtt.uri)) {
		int line = p->line_of[iuri] ? p->line_of[iuri]
					    : (c->mqtt.cafile[0] ? p->line_of[ica] : p->line_of[icert]);
		err_add(p, line, "mqtt.cafile and mqtt.certfile need a TLS uri (ssl://, mqtts:// or wss://)");
	}
}

int config_load(const char *path, struct config *c, char err[CONFIG_ERR_MAX])
{
	struct parse p;
	int rc;

	if (!path || !c || !err)
		return -1;
	memset(&p, 0, sizeof p);
	p.path = path;
	p.c = c;
	p.err = err;
	p.section_ok = 1;
	err[0] = '\0';
	config_defaults(c);

	p.f = fopen(path, "r");
	if (!p.f) {
		err_add(&p, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	rc = ini_parse_stream(reader, &p, handler, &p);
	if (ferror(p.f))
		err_add(&p, 0, "cannot read: %s", strerror(errno));
	fclose(p.f);
	free(p.buf);
	if (rc == -2)
		err_add(&p, 0, "out of memory");
	else if (rc > 0 && p.nerr == 0)
		err_add(&p, rc, "syntax error"); /* the reader lets no malformed line through */
	cross_checks(&p);
	return p.nerr ? -1 : 0;
}
