/* sealctl status and watch: read what the daemon publishes, the retained
 * household states and the alert stream. */
#include "ctl.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_width.h"
#include "model.h"

/* Retained states come in one burst after the SUBACK; this much quiet ends it. */
#define STATUS_QUIET_MS 500

static const char *str_of(const cJSON *o, const char *key, const char *none)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : none;
}

/* ---- status */

struct row {
	char *id;
	cJSON *state; /* NULL: cleared (released) */
	size_t seq;
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static int rows_add(struct rows *r, const char *id, cJSON *state, size_t seq)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct row *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	char *dup = strdup(id);
	if (!dup)
		return -1;
	r->v[r->n++] = (struct row){dup, state, seq};
	return 0;
}

static void rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].id);
		cJSON_Delete(r->v[i].state);
	}
	free(r->v);
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

enum { COL_HH, COL_ADDR, COL_DEV, COL_DOOR, COL_ONLINE, COL_BATT, COL_SEEN, COL_ALERTS, NCOLS };
static const char *const col_title[NCOLS] = {"HOUSEHOLD", "ADDRESS", "DEVICE", "DOOR", "ONLINE", "BATTERY",
					     "LAST SEEN", "OPEN ALERTS"};

/* The cells of one state; alerts is scratch for the joined alert ids. */
static void cells(const cJSON *st, const char *cell[NCOLS], char batt[16], char *alerts, size_t alerts_len)
{
	cell[COL_HH] = str_of(st, "household_id", "-");
	cell[COL_ADDR] = str_of(st, "address", "-");
	cell[COL_DEV] = str_of(st, "device_id", "-");
	cell[COL_DOOR] = str_of(st, "door", "-");
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(st, "online");
	cell[COL_ONLINE] = cJSON_IsBool(on) ? (cJSON_IsTrue(on) ? "yes" : "no") : "-";
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(st, "battery");
	if (cJSON_IsNumber(b))
		snprintf(batt, 16, "%d%%", b->valueint);
	else
		snprintf(batt, 16, "-");
	cell[COL_BATT] = batt;
	cell[COL_SEEN] = str_of(st, "last_seen", "-");
	size_t used = 0;
	alerts[0] = '\0';
	const cJSON *a;
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(st, "open_alerts"))
	{
		if (!cJSON_IsString(a) || used >= alerts_len)
			continue;
		int w = snprintf(alerts + used, alerts_len - used, "%s%s", used ? "," : "", a->valuestring);
		if (w > 0)
			used += (size_t)w;
	}
	cell[COL_ALERTS] = alerts[0] ? alerts : "-";
}

/* Padded by display width, not bytes: a Chinese door label is two columns a
 * character and would push every later column out of line. */
static void print_cell(const char *s, size_t width, int last)
{
	if (last) {
		printf("%s\n", s);
		return;
	}
	ctl_print_padded(stdout, s, width);
	fputs("  ", stdout);
}

static void print_table(struct rows *r)
{
	size_t width[NCOLS];
	const char *cell[NCOLS];
	char batt[16], alerts[1024];
	for (int k = 0; k < NCOLS; k++)
		width[k] = ctl_display_width(col_title[k]);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			for (int k = 0; k < NCOLS; k++)
				print_cell(col_title[k], width[k], k + 1 == NCOLS);
		}
		for (size_t i = 0; i < r->n; i++) {
			if (!r->v[i].state)
				continue;
			cells(r->v[i].state, cell, batt, alerts, sizeof alerts);
			for (int k = 0; k < NCOLS; k++) {
				size_t w = ctl_display_width(cell[k]);
				if (pass == 0 && w > width[k])
					width[k] = w;
				if (pass == 1)
					print_cell(cell[k], width[k], k + 1 == NCOLS);
			}
		}
	}
}

static void status_usage(FILE *f)
{
	fputs("usage: sealctl status [--community ID | --street ID | --district ID | --household ID]\n"
	      "                      [common options]\n"
	      "  A table of the households the daemon monitors, from their retained states:\n"
	      "  household, address, device, door, online, battery, last seen, open alerts.\n",
	      f);
	fputs(ctl_common_help, f);
}

int ctl_cmd_status(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {CTL_COMMON_OPTS,
						 {"community", required_argument, NULL, 0x201},
						 {"street", required_argument, NULL, 0x202},
						 {"district", required_argument, NULL, 0x203},
						 {"household", required_argument, NULL, 0x204},
						 {0, 0, 0, 0}};
	static const char *const filter_key[] = {"community_id", "street_id", "district_id", "household_id"};
	const char *filter = NULL, *filter_val = NULL;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			status_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (opt >= 0x201 && opt <= 0x204) {
			if (filter) {
				fprintf(stderr, "sealctl status: give at most one of --community, --street, "
						"--district, --household\n");
				return CTL_EXIT_USAGE;
			}
			if (!sb_id_valid(optarg)) {
				fprintf(stderr, "sealctl status: '%s' is not an id ([A-Za-z0-9_-], 1 to 64)\n",
					optarg);
				return CTL_EXIT_USAGE;
			}
			filter = filter_key[opt - 0x201];
			filter_val = optarg;
			continue;
		}
		int r = ctl_common_opt(c, opt, optarg);
		if (r == 1)
			continue;
		if (r == 0)
			status_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (optind < argc) {
		status_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	int rc = ctl_settle(c);
	if (rc)
		return rc;

	char topic[CONFIG_STR_MAX + 96], status_topic[CONFIG_STR_MAX + 32], err[CTL_ERR_MAX];
	const char *root = c->cfg.mqtt.topic_root;
	if (filter && strcmp(filter, "household_id") == 0)
		snprintf(topic, sizeof topic, "%s/state/household/%s", root, filter_val);
	else
		snprintf(topic, sizeof topic, "%s/state/household/+", root);
	snprintf(status_topic, sizeof status_topic, "%s/bridge/status", root);
	const char *filters[] = {topic, status_topic};

	struct ctl_session *s = NULL;
	if (ctl_session_open(c, 0, &s, err) < 0 || ctl_session_subscribe(s, filters, 2, c->timeout_ms, err) < 0) {
		fprintf(stderr, "sealctl status: %s\n", err);
		ctl_session_close(s);
		return CTL_EXIT_NO_REPLY;
	}

	struct rows rows = {0};
	size_t prefix = strlen(root) + strlen("/state/household/");
	int64_t end = ctl_mono_ms() + c->timeout_ms;
	int lost = 0, oom = 0, daemon_offline = 0;
	for (size_t seq = 0;; seq++) {
		int64_t left = end - ctl_mono_ms();
		if (left <= 0)
			break;
		struct ctl_msg *m = NULL;
		int got = ctl_session_next(s, left < STATUS_QUIET_MS ? left : STATUS_QUIET_MS, &m);
		if (got <= 0) {
			lost = got < 0;
			break;
		}
		if (strcmp(m->topic, status_topic) == 0) {
			cJSON *st = cJSON_ParseWithLength(m->payload, m->len);
			daemon_offline = !st || strcmp(str_of(st, "state", ""), "online") != 0;
			cJSON_Delete(st);
		} else if (strlen(m->topic) > prefix) {
			/* An empty payload is a released household: it replaces what came before. */
			cJSON *st = m->len ? cJSON_ParseWithLength(m->payload, m->len) : NULL;
			if (m->len && !cJSON_IsObject(st)) {
				fprintf(stderr, "sealctl status: %s: not a JSON object, skipped\n", m->topic);
				cJSON_Delete(st);
			} else if (st && filter && strcmp(str_of(st, filter, ""), filter_val) != 0) {
				cJSON_Delete(st);
			} else if (rows_add(&rows, m->topic + prefix, st, seq) < 0) {
				cJSON_Delete(st);
				oom = 1;
			}
		}
		ctl_msg_free(m);
		if (oom)
			break;
	}
	ctl_session_close(s);
	if (oom || lost) {
		fprintf(stderr, "sealctl status: %s\n", oom ? "out of memory" : "connection to the broker lost");
		rows_free(&rows);
		return CTL_EXIT_NO_REPLY;
	}
	/* The latest state of each household wins. */
	qsort(rows.v, rows.n, sizeof *rows.v, row_cmp);
	size_t shown = 0;
	for (size_t i = 0; i < rows.n; i++) {
		if (i + 1 < rows.n && strcmp(rows.v[i].id, rows.v[i + 1].id) == 0) {
			cJSON_Delete(rows.v[i].state);
			rows.v[i].state = NULL;
		}
		shown += rows.v[i].state != NULL;
	}
	print_table(&rows);
	rows_free(&rows);
	if (daemon_offline)
		fprintf(stderr, "sealctl status: warning: the daemon is offline; these states may be stale\n");
	if (!shown)
		fprintf(stderr, "sealctl status: no household%s\n", filter ? " matches" : " is monitored");
	return CTL_EXIT_OK;
}

/* ---- watch */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void watch_usage(FILE *f)
{
	fputs("usage: sealctl watch [--level community|street|district] [--unit ID] [common options]\n"
	      "  One line per alert message until Ctrl-C: time, level, unit, type, state,\n"
	      "  household, address, alert id, count.\n",
	      f);
	fputs(ctl_common_help, f);
}

static void print_alert(const struct ctl_msg *m)
{
	cJSON *a = cJSON_ParseWithLength(m->payload, m->len);
	if (!cJSON_IsObject(a)) {
		fprintf(stderr, "sealctl watch: %s: not a JSON object\n", m->topic);
		cJSON_Delete(a);
		return;
	}
	const char *slash = strrchr(m->topic, '/');
	const char *level = str_of(a, "level", "-");
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(a, "count");
	char n[24];
	if (cJSON_IsNumber(count))
		snprintf(n, sizeof n, "%.0f", count->valuedouble);
	else
		snprintf(n, sizeof n, "-");
	printf("%s %s %s %s %s %s %s %s %s\n", str_of(a, "at", "-"), level, slash ? slash + 1 : "-",
	       str_of(a, "type", "-"), str_of(a, "state", "-"), str_of(a, "household_id", "-"),
	       str_of(a, "address", "-"), str_of(a, "alert_id", "-"), n);
	fflush(stdout);
	cJSON_Delete(a);
}

int ctl_cmd_watch(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {CTL_COMMON_OPTS,
						 {"level", required_argument, NULL, 0x201},
						 {"unit", required_argument, NULL, 0x202},
						 {0, 0, 0, 0}};
	const char *level = "+", *unit = "+";
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			watch_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (opt == 0x201) {
			enum sb_level l;
			if (sb_level_parse(optarg, &l) < 0) {
				fprintf(stderr, "sealctl watch: --level is community, street or district\n");
				return CTL_EXIT_USAGE;
			}
			level = optarg;
			continue;
		}
		if (opt == 0x202) {
			if (!sb_id_valid(optarg)) {
				fprintf(stderr, "sealctl watch: '%s' is not an id ([A-Za-z0-9_-], 1 to 64)\n", optarg);
				return CTL_EXIT_USAGE;
			}
			unit = optarg;
			continue;
		}
		int r = ctl_common_opt(c, opt, optarg);
		if (r == 1)
			continue;
		if (r == 0)
			watch_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (optind < argc) {
		watch_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	int rc = ctl_settle(c);
	if (rc)
		return rc;

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	char topic[CONFIG_STR_MAX + 160], err[CTL_ERR_MAX];
	snprintf(topic, sizeof topic, "%s/alert/%s/%s", c->cfg.mqtt.topic_root, level, unit);
	const char *filters[] = {topic};
	struct ctl_session *s = NULL;
	if (ctl_session_open(c, 1, &s, err) < 0 || ctl_session_subscribe(s, filters, 1, c->timeout_ms, err) < 0) {
		fprintf(stderr, "sealctl watch: %s\n", err);
		ctl_session_close(s);
		return CTL_EXIT_NO_REPLY;
	}
	fprintf(stderr, "sealctl watch: watching %s (Ctrl-C ends)\n", topic);
	while (!stop_requested) {
		struct ctl_msg *m = NULL;
		/* Short waits: a signal does not wake a condition variable. */
		if (ctl_session_next(s, 200, &m) > 0) {
			print_alert(m);
			ctl_msg_free(m);
		}
		size_t dropped = ctl_session_dropped(s);
		if (dropped)
			fprintf(stderr, "sealctl watch: %zu messages dropped (output too slow)\n", dropped);
		/* A reconnect starts a clean session: the subscription must be made again. */
		if (ctl_session_reconnected(s)) {
			if (ctl_session_subscribe(s, filters, 1, c->timeout_ms, err) < 0)
				fprintf(stderr, "sealctl watch: after reconnecting: %s\n", err);
			else
				fprintf(stderr, "sealctl watch: reconnected; alerts sent meanwhile were missed\n");
		}
	}
	ctl_session_close(s);
	return CTL_EXIT_OK;
}
