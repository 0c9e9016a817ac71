/* The command subcommands (admit, release, install, uninstall, permit, ack,
 * resolve, revoke): options to a JSON command, request on R/cmd/<op>, reply on our
 * own reply topic, matched by MQTT v5 correlation data. */
#include "ctl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

const struct ctl_field ctl_admit_fields[] = {
	{"household", "household_id", CTL_STR, 1, "ID"},
	{"district", "district_id", CTL_STR, 1, "ID"},
	{"street", "street_id", CTL_STR, 1, "ID"},
	{"community", "community_id", CTL_STR, 1, "ID"},
	{"end", "end", CTL_TIME, 1, "TIME"},
	{"start", "start", CTL_TIME, 0, "TIME"},
	{"address", "address", CTL_STR, 0, "LABEL"},
	{"category", "category", CTL_STR, 0, "risk_area_arrival|confirmed_case|close_contact|other"},
	{"persons", "persons", CTL_INT, 0, "N"},
	{NULL, NULL, CTL_STR, 0, NULL},
};
static const struct ctl_field release_fields[] = {
	{"household", "household_id", CTL_STR, 1, "ID"},
	{"reason", "reason", CTL_STR, 0, "TEXT"},
	{NULL, NULL, CTL_STR, 0, NULL},
};
const struct ctl_field ctl_install_fields[] = {
	{"device", "device_id", CTL_STR, 1, "ID"},
	{"household", "household_id", CTL_STR, 1, "ID"},
	{"silence-after", "silence_after", CTL_NUM, 0, "SECONDS"},
	{"source", "source", CTL_STR, 0, "native|zigbee2mqtt|shelly|tasmota"},
	{"gateway", "gateway_id", CTL_STR, 0, "ID"},
	{"model", "model", CTL_STR, 0, "NAME"},
	{NULL, NULL, CTL_STR, 0, NULL},
};
static const struct ctl_field uninstall_fields[] = {
	{"device", "device_id", CTL_STR, 1, "ID"},
	{NULL, NULL, CTL_STR, 0, NULL},
};
/* One target of household, community, street, district: the daemon says bad_request otherwise. */
static const struct ctl_field permit_fields[] = {
	{"household", "household_id", CTL_STR, 0, "ID"},
	{"community", "community_id", CTL_STR, 0, "ID"},
	{"street", "street_id", CTL_STR, 0, "ID"},
	{"district", "district_id", CTL_STR, 0, "ID"},
	{"until", "until", CTL_TIME, 1, "TIME"},
	{"from", "from", CTL_TIME, 0, "TIME"},
	{"daily", "daily", CTL_DAILY, 0, "HH:MM-HH:MM"},
	{"reason", "reason", CTL_STR, 0, "TEXT"},
	{NULL, NULL, CTL_STR, 0, NULL},
};
static const struct ctl_field revoke_fields[] = {
	{"permit", "permit_id", CTL_STR, 1, "ID"},
	{NULL, NULL, CTL_STR, 0, NULL},
};
static const struct ctl_field resolve_fields[] = {
	{"alert", "alert_id", CTL_STR, 1, "ID"},
	{"by", "by", CTL_STR, 1, "ID"},
	{"note", "note", CTL_STR, 0, "TEXT"},
	{"outcome", "outcome", CTL_STR, 0, "false_alarm|errand|violation|device_fault|other"},
	{NULL, NULL, CTL_STR, 0, NULL},
};
static const struct ctl_field alert_fields[] = {
	{"alert", "alert_id", CTL_STR, 1, "ID"},
	{"by", "by", CTL_STR, 1, "ID"},
	{"note", "note", CTL_STR, 0, "TEXT"},
	{NULL, NULL, CTL_STR, 0, NULL},
};

static const struct op {
	const char *name;
	const struct ctl_field *fields;
	const char *what;
} ops[] = {
	{"admit", ctl_admit_fields, "a household enters quarantine (again: updates it)"},
	{"release", release_fields, "monitoring of a household ends now"},
	{"install", ctl_install_fields, "a seal is fitted on a household's door"},
	{"uninstall", uninstall_fields, "a seal is taken off"},
	{"permit", permit_fields, "door openings in [from, until] raise no alert"},
	{"ack", alert_fields, "someone has taken an alert in hand: escalation stops"},
	{"resolve", resolve_fields, "an alert is closed"},
	{"register", ctl_register_fields, "a seal enters stock (again: updates model, batch, note)"},
	{"allocate", ctl_allocate_fields, "a seal is handed to one community or one street"},
	{"inspect", ctl_inspect_fields, "a collected seal was checked: ok (back to stock), faulty or lost"},
	{"swap", ctl_swap_fields, "the household's seal is replaced by this one, in one step"},
	{"revoke", revoke_fields, "a permit ends now"},
};
#define NOPS (sizeof ops / sizeof ops[0])
#define MAX_FIELDS 16

static const struct op *find_op(const char *name)
{
	for (size_t i = 0; i < NOPS; i++) {
		if (strcmp(ops[i].name, name) == 0)
			return &ops[i];
	}
	return NULL;
}

int ctl_is_op(const char *name)
{
	return find_op(name) != NULL;
}

int ctl_field_set(cJSON *body, const struct ctl_field *f, const char *value, int64_t now_ms,
		  char err[CTL_ERR_MAX])
{
	cJSON *v = NULL;
	switch (f->kind) {
	case CTL_STR:
		v = cJSON_CreateString(value);
		break;
	case CTL_TIME: {
		struct ctl_time t;
		char e[CTL_ERR_MAX];
		if (ctl_time_parse(value, now_ms, &t, e) < 0) {
			snprintf(err, CTL_ERR_MAX, "%s: %.400s", f->key, e);
			return -1;
		}
		v = t.is_seconds ? cJSON_CreateNumber((double)t.seconds) : cJSON_CreateString(t.text);
		break;
	}
	case CTL_INT: {
		char *end;
		errno = 0;
		long long n = strtoll(value, &end, 10);
		/* Beyond 2^53 a JSON number no longer holds every integer. */
		if (errno || end == value || *end || n < -9007199254740991LL || n > 9007199254740991LL) {
			snprintf(err, CTL_ERR_MAX, "%s: '%s' is not an integer", f->key, value);
			return -1;
		}
		v = cJSON_CreateNumber((double)n);
		break;
	}
	case CTL_DAILY: {
		/* HH:MM-HH:MM; the daemon checks the times themselves. */
		char from[8], until[8];
		const char *dash = strchr(value, '-');
		if (!dash || dash - value != 5 || strlen(dash + 1) != 5) {
			snprintf(err, CTL_ERR_MAX, "%s: '%.64s' is not HH:MM-HH:MM (e.g. 16:00-16:10)", f->key, value);
			return -1;
		}
		memcpy(from, value, 5);
		from[5] = '\0';
		memcpy(until, dash + 1, 6);
		v = cJSON_CreateObject();
		if (v && (!cJSON_AddStringToObject(v, "from", from) || !cJSON_AddStringToObject(v, "until", until))) {
			cJSON_Delete(v);
			v = NULL;
		}
		break;
	}
	case CTL_NUM: {
		char *end;
		errno = 0;
		double d = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(d)) {
			snprintf(err, CTL_ERR_MAX, "%s: '%s' is not a number", f->key, value);
			return -1;
		}
		v = cJSON_CreateNumber(d);
		break;
	}
	}
	if (!v || !cJSON_AddItemToObject(body, f->key, v)) {
		cJSON_Delete(v);
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return -1;
	}
	return 0;
}

/* With a login, under R/reply/<user name>/: the broker ACL in deploy/ lets an
 * account read only its own replies there. */
static void reply_topic(const struct ctl *c, char *out, size_t n)
{
	const char *user = c->cfg.mqtt.username;
	int r;
	if (sb_id_valid(user))
		r = snprintf(out, n, "%s/reply/%s/%s", c->cfg.mqtt.topic_root, user, c->tag);
	else
		r = snprintf(out, n, "%s/reply/%s", c->cfg.mqtt.topic_root, c->tag);
	if (r < 0 || (size_t)r >= n)
		out[0] = '\0'; /* cannot happen with the configured limits; an empty topic fails loudly */
}

int ctl_request_begin(struct ctl_session *s, const struct ctl *c, char err[CTL_ERR_MAX])
{
	char topic[CONFIG_STR_MAX + 160];
	reply_topic(c, topic, sizeof topic);
	const char *filters[] = {topic};
	return ctl_session_subscribe(s, filters, 1, c->timeout_ms, err);
}

static void copy_str(const cJSON *o, const char *key, char *out, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	snprintf(out, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static void parse_reply(const struct ctl_msg *m, struct ctl_reply *r)
{
	memset(r, 0, sizeof *r);
	cJSON *o = cJSON_ParseWithLength(m->payload, m->len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		snprintf(r->error, sizeof r->error, "bad_reply");
		snprintf(r->message, sizeof r->message, "the reply is not a JSON object: %.200s", m->payload);
		return;
	}
	r->ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok"));
	copy_str(o, "error", r->error, sizeof r->error);
	copy_str(o, "message", r->message, sizeof r->message);
	if (!r->ok && !r->error[0])
		snprintf(r->error, sizeof r->error, "unknown");
	static const char *const keys[] = {"household_id", "device_id", "alert_id", "seal_state", "permit_id"};
	size_t used = 0;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
		if (!cJSON_IsString(v) || used >= sizeof r->ids)
			continue;
		int w = snprintf(r->ids + used, sizeof r->ids - used, " %s=%s", keys[i], v->valuestring);
		if (w > 0)
			used += (size_t)w;
	}
	cJSON_Delete(o);
}

int ctl_request(struct ctl_session *s, const struct ctl *c, const char *op, cJSON *body,
		struct ctl_reply *reply, char err[CTL_ERR_MAX])
{
	static unsigned counter;
	char topic[CONFIG_STR_MAX + 96], rtopic[CONFIG_STR_MAX + 160], rid[96];
	unsigned char corr[16];

	snprintf(topic, sizeof topic, "%s/cmd/%s", c->cfg.mqtt.topic_root, op);
	reply_topic(c, rtopic, sizeof rtopic);
	snprintf(rid, sizeof rid, "%.50s-%u", c->tag, ++counter);
	ctl_random(corr, sizeof corr);

	cJSON_DeleteItemFromObjectCaseSensitive(body, "request_id");
	if (!cJSON_AddStringToObject(body, "request_id", rid)) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return -1;
	}
	char *payload = cJSON_PrintUnformatted(body);
	if (!payload) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return -1;
	}
	int64_t deadline = ctl_mono_ms() + c->timeout_ms;
	int rc = ctl_session_publish(s, topic, payload, rtopic, corr, sizeof corr, c->timeout_ms, err);
	free(payload);
	if (rc < 0)
		return -1;
	for (;;) {
		int64_t left = deadline - ctl_mono_ms();
		struct ctl_msg *m = NULL;
		int got = left > 0 ? ctl_session_next(s, left, &m) : 0;
		if (got < 0) {
			snprintf(err, CTL_ERR_MAX, "connection to the broker lost while waiting for the reply");
			return -1;
		}
		if (got == 0) {
			snprintf(err, CTL_ERR_MAX,
				 "no reply to %s within %lld ms (is sealbridge running and connected to %.300s?)", op,
				 (long long)c->timeout_ms, c->cfg.mqtt.uri);
			return -1;
		}
		/* A late reply to an earlier request that timed out is not ours. */
		int ours = strcmp(m->topic, rtopic) == 0 && m->corr_len == sizeof corr &&
			   memcmp(m->corr, corr, sizeof corr) == 0;
		if (ours)
			parse_reply(m, reply);
		ctl_msg_free(m);
		if (ours)
			return 0;
	}
}

static void op_usage(FILE *f, const struct op *op)
{
	fprintf(f, "usage: sealctl %s", op->name);
	for (const struct ctl_field *fl = op->fields; fl->opt; fl++)
		fprintf(f, fl->required ? " --%s %s" : " [--%s %s]", fl->opt, fl->arg);
	fprintf(f, " [common options]\n  %s\n", op->what);
	fputs(ctl_common_help, f);
}

int ctl_cmd_op(struct ctl *c, int argc, char **argv)
{
	const struct op *op = find_op(argv[0]);
	const char *values[MAX_FIELDS] = {0};
	struct option longopts[MAX_FIELDS + 8] = {CTL_COMMON_OPTS};
	size_t ncommon = 7, nf = 0;

	for (; op->fields[nf].opt; nf++) {
		longopts[ncommon + nf] = (struct option){op->fields[nf].opt, required_argument, NULL, 0x200 + (int)nf};
	}
	longopts[ncommon + nf] = (struct option){0, 0, 0, 0};

	int opt;
	optind = 0; /* 0, not 1: glibc then re-reads the option string */
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			op_usage(stdout, op);
			return CTL_EXIT_OK;
		}
		if (opt >= 0x200 && opt < 0x200 + (int)nf) {
			values[opt - 0x200] = optarg;
			continue;
		}
		int r = ctl_common_opt(c, opt, optarg);
		if (r == 1)
			continue;
		if (r == 0)
			op_usage(stderr, op);
		return CTL_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "sealctl %s: unexpected argument '%s'\n", op->name, argv[optind]);
		op_usage(stderr, op);
		return CTL_EXIT_USAGE;
	}
	int rc = ctl_settle(c);
	if (rc)
		return rc;

	cJSON *body = cJSON_CreateObject();
	if (!body) {
		fprintf(stderr, "sealctl: out of memory\n");
		return CTL_EXIT_NO_REPLY;
	}
	int64_t now = ctl_wall_ms();
	char err[CTL_ERR_MAX];
	for (size_t i = 0; i < nf; i++) {
		const struct ctl_field *f = &op->fields[i];
		if (!values[i]) {
			if (f->required) {
				fprintf(stderr, "sealctl %s: --%s is required\n", op->name, f->opt);
				cJSON_Delete(body);
				return CTL_EXIT_USAGE;
			}
			continue;
		}
		if (ctl_field_set(body, f, values[i], now, err) < 0) {
			fprintf(stderr, "sealctl %s: --%s %s\n", op->name, f->opt, err);
			cJSON_Delete(body);
			return CTL_EXIT_USAGE;
		}
	}

	struct ctl_session *s = NULL;
	struct ctl_reply reply;
	rc = ctl_session_open(c, 0, &s, err);
	if (rc == 0)
		rc = ctl_request_begin(s, c, err);
	if (rc == 0)
		rc = ctl_request(s, c, op->name, body, &reply, err);
	cJSON_Delete(body);
	ctl_session_close(s);
	if (rc < 0) {
		fprintf(stderr, "sealctl %s: %s\n", op->name, err);
		return CTL_EXIT_NO_REPLY;
	}
	if (!reply.ok) {
		fprintf(stderr, "error %s: %s\n", reply.error, reply.message);
		return CTL_EXIT_REFUSED;
	}
	printf("ok%s\n", reply.ids);
	return CTL_EXIT_OK;
}
