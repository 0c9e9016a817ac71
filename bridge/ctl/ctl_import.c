/* sealctl import: one admit (and an install when the row names a seal) per
 * CSV row, reported row by row; rows are numbered as a spreadsheet shows
 * them, the header being row 1. */
#include "ctl.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#define IMPORT_MAX_BYTES (64L * 1024 * 1024)

/* Columns besides the admit fields (which are named by their JSON keys). */
static const char *const extra_columns[] = {"device_id", "silence_after"};
#define MAX_COLUMNS 16

struct columns {
	const char *name[MAX_COLUMNS]; /* known column names */
	int at[MAX_COLUMNS];           /* index in the file, or -1 */
	size_t n;
	size_t file_count;             /* fields in the header */
};

static void import_usage(FILE *f)
{
	fputs("usage: sealctl import [common options] FILE.csv   (- reads standard input)\n"
	      "  A header row names the columns: household_id, district_id, street_id,\n"
	      "  community_id, end (required) and start, address, category, persons, device_id,\n"
	      "  silence_after (optional). Each row is admitted, then its seal installed when\n"
	      "  device_id is set. Prints 'row N household_id: ok' or '... error CODE: MESSAGE'\n"
	      "  per row (the header is row 1) and a summary; exits 1 if any row failed.\n",
	      f);
	fputs(ctl_common_help, f);
}

static int column_index(const struct columns *cols, const char *name)
{
	for (size_t i = 0; i < cols->n; i++) {
		if (strcmp(cols->name[i], name) == 0)
			return (int)i;
	}
	return -1;
}

/* The header decides the columns; anything odd in it stops the import
 * before a single command is sent. */
static int read_header(const struct csv_record *h, struct columns *cols)
{
	cols->n = 0;
	for (const struct ctl_field *f = ctl_admit_fields; f->key; f++)
		cols->name[cols->n++] = f->key;
	for (size_t i = 0; i < sizeof extra_columns / sizeof extra_columns[0]; i++)
		cols->name[cols->n++] = extra_columns[i];
	for (size_t i = 0; i < cols->n; i++)
		cols->at[i] = -1;
	cols->file_count = h->count;

	int bad = 0;
	for (size_t i = 0; i < h->count; i++) {
		int k = column_index(cols, h->fields[i]);
		if (k < 0) {
			fprintf(stderr, "sealctl import: header: unknown column '%s'\n", h->fields[i]);
			bad = 1;
		} else if (cols->at[k] >= 0) {
			fprintf(stderr, "sealctl import: header: column '%s' appears twice\n", h->fields[i]);
			bad = 1;
		} else {
			cols->at[k] = (int)i;
		}
	}
	for (const struct ctl_field *f = ctl_admit_fields; f->key; f++) {
		if (f->required && cols->at[column_index(cols, f->key)] < 0) {
			fprintf(stderr, "sealctl import: header: required column '%s' is missing\n", f->key);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static const char *value_of(const struct columns *cols, const struct csv_record *r, const char *name)
{
	int k = column_index(cols, name);
	if (k < 0 || cols->at[k] < 0)
		return "";
	return r->fields[cols->at[k]];
}

/* Fills body from the row for the given fields; empty optional cells are left out.
 * 0, or -1 with err set. */
static int build(cJSON *body, const struct ctl_field *fields, const struct columns *cols,
		 const struct csv_record *r, int64_t now, char err[CTL_ERR_MAX])
{
	for (const struct ctl_field *f = fields; f->key; f++) {
		const char *v = value_of(cols, r, f->key);
		if (!v[0]) {
			if (f->required) {
				snprintf(err, CTL_ERR_MAX, "%s is empty", f->key);
				return -1;
			}
			continue;
		}
		if (ctl_field_set(body, f, v, now, err) < 0)
			return -1;
	}
	return 0;
}

enum row_result { ROW_OK, ROW_FAILED, ROW_NO_REPLY };

static enum row_result import_row(struct ctl_session *s, const struct ctl *c, const struct columns *cols,
				  const struct csv_record *r, char out[CTL_ERR_MAX + 128])
{
	char err[CTL_ERR_MAX];
	struct ctl_reply reply;
	int64_t now = ctl_wall_ms();
	const char *device = value_of(cols, r, "device_id");

	cJSON *body = cJSON_CreateObject();
	if (!body || build(body, ctl_admit_fields, cols, r, now, err) < 0) {
		snprintf(out, CTL_ERR_MAX + 128, "error bad_request: %s", body ? err : "out of memory");
		cJSON_Delete(body);
		return ROW_FAILED;
	}
	cJSON *inst = NULL;
	if (device[0]) {
		inst = cJSON_CreateObject();
		if (!inst || build(inst, ctl_install_fields, cols, r, now, err) < 0) {
			snprintf(out, CTL_ERR_MAX + 128, "error bad_request: %s", inst ? err : "out of memory");
			cJSON_Delete(body);
			cJSON_Delete(inst);
			return ROW_FAILED;
		}
	}
	int rc = ctl_request(s, c, "admit", body, &reply, err);
	cJSON_Delete(body);
	if (rc == 0 && reply.ok && inst) {
		rc = ctl_request(s, c, "install", inst, &reply, err);
		if (rc == 0 && !reply.ok) {
			char m[sizeof reply.message];
			snprintf(m, sizeof m, "install %s: %.400s", device, reply.message);
			memcpy(reply.message, m, sizeof m);
		}
	}
	cJSON_Delete(inst);
	if (rc < 0) {
		snprintf(out, CTL_ERR_MAX + 128, "error no_reply: %s", err);
		return ROW_NO_REPLY;
	}
	if (!reply.ok) {
		snprintf(out, CTL_ERR_MAX + 128, "error %s: %s", reply.error, reply.message);
		return ROW_FAILED;
	}
	snprintf(out, CTL_ERR_MAX + 128, "ok");
	return ROW_OK;
}

int ctl_cmd_import(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {CTL_COMMON_OPTS, {0, 0, 0, 0}};
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			import_usage(stdout);
			return CTL_EXIT_OK;
		}
		int r = ctl_common_opt(c, opt, optarg);
		if (r == 1)
			continue;
		if (r == 0)
			import_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (argc - optind != 1) {
		import_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	const char *path = argv[optind];
	int rc = ctl_settle(c);
	if (rc)
		return rc;

	char *buf;
	size_t len;
	if (csv_read_file("import", path, IMPORT_MAX_BYTES, &buf, &len) < 0)
		return CTL_EXIT_USAGE;

	struct csv_parser p;
	struct csv_record rec = {0};
	struct columns cols;
	char err[CTL_ERR_MAX], line[CTL_ERR_MAX + 128];
	csv_parser_init(&p, buf, len);
	int got = csv_next(&p, &rec, line);
	if (got != 1 || read_header(&rec, &cols) < 0) {
		if (got == 0)
			fprintf(stderr, "sealctl import: %s is empty: a header row is required\n", path);
		else if (got < 0)
			fprintf(stderr, "sealctl import: header: %s\n", got == -2 ? "out of memory" : line);
		csv_record_release(&rec);
		free(buf);
		return CTL_EXIT_USAGE;
	}

	struct ctl_session *s = NULL;
	if (ctl_session_open(c, 0, &s, err) < 0 || ctl_request_begin(s, c, err) < 0) {
		fprintf(stderr, "sealctl import: %s\n", err);
		ctl_session_close(s);
		csv_record_release(&rec);
		free(buf);
		return CTL_EXIT_NO_REPLY;
	}

	size_t rows = 0, ok = 0, failed = 0;
	int stopped = 0, oom = 0;
	setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows as it happens */
	while (!stopped && (got = csv_next(&p, &rec, err)) != 0) {
		if (got == -2) {
			oom = 1;
			break;
		}
		if (got == 1 && csv_record_blank(&rec))
			continue;
		rows++;
		const char *hh = "-";
		enum row_result res = ROW_FAILED;
		if (got < 0) {
			snprintf(line, sizeof line, "error bad_csv: %s", err);
		} else {
			const char *v = value_of(&cols, &rec, "household_id");
			if (rec.count == cols.file_count && v[0])
				hh = v;
			if (rec.count != cols.file_count)
				snprintf(line, sizeof line, "error bad_csv: %zu fields where the header has %zu",
					 rec.count, cols.file_count);
			else
				res = import_row(s, c, &cols, &rec, line);
		}
		printf("row %zu %s: %s\n", rec.record, hh, line);
		if (res == ROW_OK)
			ok++;
		else
			failed++;
		if (res == ROW_NO_REPLY)
			stopped = 1;
	}
	int exit_code = ctl_rows_summary(rec.record, rows, ok, failed, stopped, oom);
	ctl_session_close(s);
	csv_record_release(&rec);
	free(buf);
	return exit_code;
}

int ctl_rows_summary(size_t last_row, size_t rows, size_t ok, size_t failed, int stopped, int oom)
{
	if (stopped)
		printf("stopped after row %zu: the daemon does not answer\n", last_row);
	if (oom)
		printf("stopped after row %zu: out of memory\n", last_row);
	printf("%zu rows: %zu ok, %zu failed\n", rows, ok, failed);
	if (stopped || oom)
		return CTL_EXIT_NO_REPLY;
	return failed ? CTL_EXIT_REFUSED : CTL_EXIT_OK;
}
