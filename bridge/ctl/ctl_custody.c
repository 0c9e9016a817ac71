/* sealctl's seal custody verbs: register (one seal, or a stock intake from
 * CSV), allocate, inspect, swap (plain commands, through ctl_request.c's
 * table), and two views of the retained seal states: seals (a table) and
 * collect-list (a community worker's collection round). */
#include "ctl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "model.h"

const struct ctl_field ctl_register_fields[] = {
	{"device", "device_id", CTL_STR, 1, "ID"},
	{"model", "model", CTL_STR, 0, "MODEL"},
	{"batch", "batch", CTL_STR, 0, "ID"},
	{"note", "note", CTL_STR, 0, "TEXT"},
	{NULL, NULL, CTL_STR, 0, NULL},
};
const struct ctl_field ctl_allocate_fields[] = {
	{"device", "device_id", CTL_STR, 1, "ID"},
	{"community", "community_id", CTL_STR, 0, "ID"},
	{"street", "street_id", CTL_STR, 0, "ID"},
	{NULL, NULL, CTL_STR, 0, NULL},
};
const struct ctl_field ctl_inspect_fields[] = {
	{"device", "device_id", CTL_STR, 1, "ID"},
	{"result", "result", CTL_STR, 1, "ok|faulty|lost"},
	{"note", "note", CTL_STR, 0, "TEXT"},
	{NULL, NULL, CTL_STR, 0, NULL},
};
const struct ctl_field ctl_swap_fields[] = {
	{"household", "household_id", CTL_STR, 1, "ID"},
	{"device", "device_id", CTL_STR, 1, "ID"},
	{NULL, NULL, CTL_STR, 0, NULL},
};

/* Retained states come in one burst after the SUBACK; this much quiet ends it. */
#define QUIET_MS 500
#define CSV_MAX_BYTES (16L * 1024 * 1024)

static const char *str_of(const cJSON *o, const char *key, const char *none)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : none;
}

/* ---- register --csv */

static void register_csv_usage(FILE *f)
{
	fputs("usage: sealctl register --csv FILE [common options]   (- reads standard input)\n"
	      "  Stock intake: one register per row. A header row names the columns: device_id\n"
	      "  (required) and model, batch, note (optional). Prints 'row N device_id: ok' or\n"
	      "  '... error CODE: MESSAGE' per row (the header is row 1) and a summary; exits 1\n"
	      "  if any row failed. Registering a known seal again only updates those fields.\n",
	      f);
	fputs(ctl_common_help, f);
}

#define NCOLS 4 /* the register fields, in ctl_register_fields order */

static int header_columns(const struct csv_record *h, int at[NCOLS])
{
	int bad = 0;
	for (int k = 0; k < NCOLS; k++)
		at[k] = -1;
	for (size_t i = 0; i < h->count; i++) {
		int k = 0;
		while (k < NCOLS && strcmp(ctl_register_fields[k].key, h->fields[i]) != 0)
			k++;
		if (k == NCOLS) {
			fprintf(stderr, "sealctl register: header: unknown column '%s' (device_id, model, batch, note)\n",
				h->fields[i]);
			bad = 1;
		} else if (at[k] >= 0) {
			fprintf(stderr, "sealctl register: header: column '%s' appears twice\n", h->fields[i]);
			bad = 1;
		} else {
			at[k] = (int)i;
		}
	}
	if (at[0] < 0) {
		fprintf(stderr, "sealctl register: header: required column 'device_id' is missing\n");
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* 0 ok, 1 refused, 3 no reply; out says what for the row's line. */
static int register_row(struct ctl_session *s, const struct ctl *c, const struct csv_record *r, const int at[NCOLS],
			char out[CTL_ERR_MAX + 128])
{
	char err[CTL_ERR_MAX];
	cJSON *body = cJSON_CreateObject();
	if (!body) {
		snprintf(out, CTL_ERR_MAX + 128, "error internal: out of memory");
		return 1;
	}
	for (int k = 0; k < NCOLS; k++) {
		const char *v = at[k] >= 0 ? r->fields[at[k]] : "";
		if (!v[0])
			continue;
		if (ctl_field_set(body, &ctl_register_fields[k], v, 0, err) < 0) {
			snprintf(out, CTL_ERR_MAX + 128, "error bad_request: %s", err);
			cJSON_Delete(body);
			return 1;
		}
	}
	struct ctl_reply reply;
	int rc = ctl_request(s, c, "register", body, &reply, err);
	cJSON_Delete(body);
	if (rc < 0) {
		snprintf(out, CTL_ERR_MAX + 128, "error no_reply: %s", err);
		return 3;
	}
	if (!reply.ok) {
		snprintf(out, CTL_ERR_MAX + 128, "error %s: %s", reply.error, reply.message);
		return 1;
	}
	snprintf(out, CTL_ERR_MAX + 128, "ok");
	return 0;
}

static int cmd_register_csv(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {CTL_COMMON_OPTS, {"csv", required_argument, NULL, 0x201}, {0, 0, 0, 0}};
	const char *path = NULL;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			register_csv_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (opt == 0x201) {
			path = optarg;
			continue;
		}
		int r = ctl_common_opt(c, opt, optarg);
		if (r == 1)
			continue;
		if (r == 0)
			register_csv_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (optind < argc || !path) {
		register_csv_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	int rc = ctl_settle(c);
	if (rc)
		return rc;
	char *buf;
	size_t len;
	if (csv_read_file("register", path, CSV_MAX_BYTES, &buf, &len) < 0)
		return CTL_EXIT_USAGE;
	struct csv_parser p;
	struct csv_record rec = {0};
	char err[CTL_ERR_MAX], line[CTL_ERR_MAX + 128];
	int at[NCOLS];
	csv_parser_init(&p, buf, len);
	int got = csv_next(&p, &rec, line);
	if (got != 1 || header_columns(&rec, at) < 0) {
		if (got == 0)
			fprintf(stderr, "sealctl register: %s is empty: a header row is required\n", path);
		else if (got < 0)
			fprintf(stderr, "sealctl register: header: %s\n", got == -2 ? "out of memory" : line);
		csv_record_release(&rec);
		free(buf);
		return CTL_EXIT_USAGE;
	}
	size_t header_fields = rec.count;
	struct ctl_session *s = NULL;
	if (ctl_session_open(c, 0, &s, err) < 0 || ctl_request_begin(s, c, err) < 0) {
		fprintf(stderr, "sealctl register: %s\n", err);
		ctl_session_close(s);
		csv_record_release(&rec);
		free(buf);
		return CTL_EXIT_NO_REPLY;
	}
	size_t rows = 0, ok = 0, failed = 0;
	int stopped = 0, oom = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!stopped && (got = csv_next(&p, &rec, err)) != 0) {
		if (got == -2) {
			oom = 1;
			break;
		}
		if (got == 1 && csv_record_blank(&rec))
			continue;
		rows++;
		const char *dev = "-";
		int res = 1;
		if (got < 0) {
			snprintf(line, sizeof line, "error bad_csv: %s", err);
		} else if (rec.count != header_fields) {
			snprintf(line, sizeof line, "error bad_csv: %zu fields where the header has %zu", rec.count,
				 header_fields);
		} else {
			if (rec.fields[at[0]][0])
				dev = rec.fields[at[0]];
			if (!rec.fields[at[0]][0])
				snprintf(line, sizeof line, "error bad_request: device_id is empty");
			else
				res = register_row(s, c, &rec, at, line);
		}
		printf("row %zu %s: %s\n", rec.record, dev, line);
		if (res == 0)
			ok++;
		else
			failed++;
		stopped = res == 3;
	}
	int exit_code = ctl_rows_summary(rec.record, rows, ok, failed, stopped, oom);
	ctl_session_close(s);
	csv_record_release(&rec);
	free(buf);
	return exit_code;
}

/* ---- the retained seal states */

struct seal_row {
	char id[SB_ID_MAX + 1];
	cJSON *state; /* NULL: cleared */
};

struct seal_rows {
	struct seal_row *v;
	size_t n, cap;
};

static void seal_rows_free(struct seal_rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		cJSON_Delete(r->v[i].state);
	free(r->v);
}

/* The latest state of each seal wins. */
static int seal_rows_put(struct seal_rows *r, const char *id, cJSON *state)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id, id) == 0) {
			cJSON_Delete(r->v[i].state);
			r->v[i].state = state;
			return 0;
		}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct seal_row *v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	snprintf(r->v[r->n].id, sizeof r->v[r->n].id, "%s", id);
	r->v[r->n++].state = state;
	return 0;
}

/* Collects R/state/seal/+ until the retained burst is over. Exit code or 0. */
static int collect_seals(struct ctl *c, const char *verb, struct seal_rows *rows)
{
	char topic[CONFIG_STR_MAX + 32], status_topic[CONFIG_STR_MAX + 32], err[CTL_ERR_MAX];
	const char *root = c->cfg.mqtt.topic_root;
	snprintf(topic, sizeof topic, "%s/state/seal/+", root);
	snprintf(status_topic, sizeof status_topic, "%s/bridge/status", root);
	const char *filters[] = {topic, status_topic};
	struct ctl_session *s = NULL;
	if (ctl_session_open(c, 0, &s, err) < 0 || ctl_session_subscribe(s, filters, 2, c->timeout_ms, err) < 0) {
		fprintf(stderr, "sealctl %s: %s\n", verb, err);
		ctl_session_close(s);
		return CTL_EXIT_NO_REPLY;
	}
	size_t prefix = strlen(root) + strlen("/state/seal/");
	int64_t end = ctl_mono_ms() + c->timeout_ms;
	int lost = 0, oom = 0, offline = 0;
	for (;;) {
		int64_t left = end - ctl_mono_ms();
		if (left <= 0)
			break;
		struct ctl_msg *m = NULL;
		int got = ctl_session_next(s, left < QUIET_MS ? left : QUIET_MS, &m);
		if (got <= 0) {
			lost = got < 0;
			break;
		}
		if (strcmp(m->topic, status_topic) == 0) {
			cJSON *st = cJSON_ParseWithLength(m->payload, m->len);
			offline = !st || strcmp(str_of(st, "state", ""), "online") != 0;
			cJSON_Delete(st);
		} else if (strlen(m->topic) > prefix && sb_id_valid(m->topic + prefix)) {
			cJSON *st = m->len ? cJSON_ParseWithLength(m->payload, m->len) : NULL;
			if (m->len && !cJSON_IsObject(st)) {
				fprintf(stderr, "sealctl %s: %s: not a JSON object, skipped\n", verb, m->topic);
				cJSON_Delete(st);
			} else if (seal_rows_put(rows, m->topic + prefix, st) < 0) {
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
		fprintf(stderr, "sealctl %s: %s\n", verb, oom ? "out of memory" : "connection to the broker lost");
		return CTL_EXIT_NO_REPLY;
	}
	if (offline)
		fprintf(stderr, "sealctl %s: warning: the daemon is offline; these states may be stale\n", verb);
	return 0;
}

static void print_table(const char *const *title, int ncols, const char *const *cells, size_t nrows)
{
	size_t width[16];
	for (int k = 0; k < ncols; k++) {
		width[k] = strlen(title[k]);
		for (size_t i = 0; i < nrows; i++) {
			size_t w = strlen(cells[i * (size_t)ncols + (size_t)k]);
			if (w > width[k])
				width[k] = w;
		}
	}
	for (size_t i = 0; i <= nrows; i++)
		for (int k = 0; k < ncols; k++) {
			const char *s = i == 0 ? title[k] : cells[(i - 1) * (size_t)ncols + (size_t)k];
			if (k + 1 == ncols)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)width[k], s);
		}
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct seal_row *)a)->id, ((const struct seal_row *)b)->id);
}

static void seals_usage(FILE *f)
{
	fputs("usage: sealctl seals [--community ID | --street ID] [--state STATE] [common options]\n"
	      "  A table of the seals the daemon knows, from their retained states: device,\n"
	      "  state, model, batch, street, community, household, battery, last seen, fittings.\n"
	      "  STATE: in_stock, allocated, fitted, awaiting_collection, collected, faulty, lost.\n",
	      f);
	fputs(ctl_common_help, f);
}

enum { S_DEV, S_STATE, S_MODEL, S_BATCH, S_STREET, S_COMM, S_HH, S_BATT, S_SEEN, S_FIT, S_NCOLS };

static int cmd_seals(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {CTL_COMMON_OPTS,
						 {"community", required_argument, NULL, 0x201},
						 {"street", required_argument, NULL, 0x202},
						 {"state", required_argument, NULL, 0x203},
						 {0, 0, 0, 0}};
	const char *filter = NULL, *filter_val = NULL, *state = NULL;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			seals_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (opt == 0x201 || opt == 0x202) {
			if (filter) {
				fprintf(stderr, "sealctl seals: give at most one of --community, --street\n");
				return CTL_EXIT_USAGE;
			}
			if (!sb_id_valid(optarg)) {
				fprintf(stderr, "sealctl seals: '%s' is not an id ([A-Za-z0-9_-], 1 to 64)\n", optarg);
				return CTL_EXIT_USAGE;
			}
			filter = opt == 0x201 ? "community_id" : "street_id";
			filter_val = optarg;
			continue;
		}
		if (opt == 0x203) {
			enum sb_seal_state st;
			if (sb_seal_state_parse(optarg, &st) < 0) {
				fprintf(stderr, "sealctl seals: --state '%s': one of in_stock, allocated, fitted, "
						"awaiting_collection, collected, faulty, lost\n",
					optarg);
				return CTL_EXIT_USAGE;
			}
			state = optarg;
			continue;
		}
		int r = ctl_common_opt(c, opt, optarg);
		if (r == 1)
			continue;
		if (r == 0)
			seals_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (optind < argc) {
		seals_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	int rc = ctl_settle(c);
	if (rc)
		return rc;
	struct seal_rows rows = {0};
	if ((rc = collect_seals(c, "seals", &rows)) != 0) {
		seal_rows_free(&rows);
		return rc;
	}
	qsort(rows.v, rows.n, sizeof *rows.v, row_cmp);
	static const char *const title[S_NCOLS] = {"DEVICE", "STATE", "MODEL", "BATCH", "STREET", "COMMUNITY",
						  "HOUSEHOLD", "BATTERY", "LAST SEEN", "FITTINGS"};
	const char **cells = calloc(rows.n * S_NCOLS + 1, sizeof *cells);
	char (*num)[2][16] = calloc(rows.n + 1, sizeof *num);
	if (!cells || !num) {
		fprintf(stderr, "sealctl seals: out of memory\n");
		free(cells);
		free(num);
		seal_rows_free(&rows);
		return CTL_EXIT_NO_REPLY;
	}
	size_t shown = 0;
	for (size_t i = 0; i < rows.n; i++) {
		const cJSON *st = rows.v[i].state;
		if (!st || (filter && strcmp(str_of(st, filter, ""), filter_val) != 0) ||
		    (state && strcmp(str_of(st, "state", ""), state) != 0))
			continue;
		const char **row = cells + shown * S_NCOLS;
		row[S_DEV] = rows.v[i].id;
		row[S_STATE] = str_of(st, "state", "-");
		row[S_MODEL] = str_of(st, "model", "-");
		row[S_BATCH] = str_of(st, "batch", "-");
		row[S_STREET] = str_of(st, "street_id", "-");
		row[S_COMM] = str_of(st, "community_id", "-");
		row[S_HH] = str_of(st, "household_id", "-");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(st, "battery");
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(st, "fittings");
		snprintf(num[shown][0], 16, cJSON_IsNumber(b) ? "%.0f%%" : "-", cJSON_IsNumber(b) ? b->valuedouble : 0);
		snprintf(num[shown][1], 16, cJSON_IsNumber(f) ? "%.0f" : "-", cJSON_IsNumber(f) ? f->valuedouble : 0);
		row[S_BATT] = num[shown][0];
		row[S_SEEN] = str_of(st, "last_seen", "-");
		row[S_FIT] = num[shown][1];
		shown++;
	}
	print_table(title, S_NCOLS, cells, shown);
	if (!shown)
		fprintf(stderr, "sealctl seals: no seal%s\n", filter || state ? " matches" : " is known");
	free(cells);
	free(num);
	seal_rows_free(&rows);
	return CTL_EXIT_OK;
}

/* ---- collect-list */

static void collect_usage(FILE *f)
{
	fputs("usage: sealctl collect-list --community ID [common options]\n"
	      "  The collection round: released households of the community whose seal is\n"
	      "  still on the door (awaiting_collection), longest waiting first: household,\n"
	      "  address, device, released, days since release.\n",
	      f);
	fputs(ctl_common_help, f);
}

struct pending {
	const cJSON *st;
	const char *device;
	int64_t released_ms;
};

static int pending_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->released_ms != y->released_ms)
		return x->released_ms < y->released_ms ? -1 : 1;
	return strcmp(x->device, y->device);
}

static int64_t parse_time_ms(const char *s)
{
	struct ctl_time t;
	char err[CTL_ERR_MAX];
	return s && ctl_time_parse(s, 0, &t, err) == 0 ? t.ms : -1;
}

static int cmd_collect_list(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {CTL_COMMON_OPTS, {"community", required_argument, NULL, 0x201},
						 {0, 0, 0, 0}};
	const char *community = NULL;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			collect_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (opt == 0x201) {
			if (!sb_id_valid(optarg)) {
				fprintf(stderr, "sealctl collect-list: '%s' is not an id ([A-Za-z0-9_-], 1 to 64)\n",
					optarg);
				return CTL_EXIT_USAGE;
			}
			community = optarg;
			continue;
		}
		int r = ctl_common_opt(c, opt, optarg);
		if (r == 1)
			continue;
		if (r == 0)
			collect_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (optind < argc || !community) {
		if (!community)
			fprintf(stderr, "sealctl collect-list: --community is required\n");
		collect_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	int rc = ctl_settle(c);
	if (rc)
		return rc;
	struct seal_rows rows = {0};
	if ((rc = collect_seals(c, "collect-list", &rows)) != 0) {
		seal_rows_free(&rows);
		return rc;
	}
	struct pending *p = calloc(rows.n + 1, sizeof *p);
	const char **cells = calloc(rows.n * 5 + 1, sizeof *cells);
	char (*days)[24] = calloc(rows.n + 1, sizeof *days);
	if (!p || !cells || !days) {
		fprintf(stderr, "sealctl collect-list: out of memory\n");
		free(p);
		free(cells);
		free(days);
		seal_rows_free(&rows);
		return CTL_EXIT_NO_REPLY;
	}
	size_t n = 0;
	for (size_t i = 0; i < rows.n; i++) {
		const cJSON *st = rows.v[i].state;
		if (!st || strcmp(str_of(st, "state", ""), "awaiting_collection") != 0 ||
		    strcmp(str_of(st, "community_id", ""), community) != 0)
			continue;
		p[n].st = st;
		p[n].device = rows.v[i].id;
		p[n].released_ms = parse_time_ms(str_of(st, "released", NULL));
		n++;
	}
	qsort(p, n, sizeof *p, pending_cmp);
	int64_t now = ctl_wall_ms();
	for (size_t i = 0; i < n; i++) {
		const char **row = cells + i * 5;
		row[0] = str_of(p[i].st, "household_id", "-");
		row[1] = str_of(p[i].st, "address", "-");
		row[2] = p[i].device;
		row[3] = str_of(p[i].st, "released", "-");
		if (p[i].released_ms >= 0)
			snprintf(days[i], sizeof days[i], "%.1f", (double)(now - p[i].released_ms) / 86400000.0);
		else
			snprintf(days[i], sizeof days[i], "-");
		row[4] = days[i];
	}
	static const char *const title[5] = {"HOUSEHOLD", "ADDRESS", "DEVICE", "RELEASED", "DAYS"};
	print_table(title, 5, cells, n);
	fprintf(stderr, "sealctl collect-list: %zu seal%s to collect in %s\n", n, n == 1 ? "" : "s", community);
	free(p);
	free(cells);
	free(days);
	seal_rows_free(&rows);
	return CTL_EXIT_OK;
}

int ctl_custody_dispatch(struct ctl *c, int argc, char **argv, int *rc)
{
	const char *cmd = argv[0];
	if (strcmp(cmd, "register") == 0) {
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--csv") == 0 || strncmp(argv[i], "--csv=", 6) == 0) {
				*rc = cmd_register_csv(c, argc, argv);
				return 1;
			}
		return 0; /* one seal: a plain command */
	}
	if (strcmp(cmd, "seals") == 0) {
		*rc = cmd_seals(c, argc, argv);
		return 1;
	}
	if (strcmp(cmd, "collect-list") == 0) {
		*rc = cmd_collect_list(c, argc, argv);
		return 1;
	}
	return 0;
}
