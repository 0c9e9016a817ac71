/* sealctl export: the daemon's audit trail as CSV, read straight from its
 * database. Read-only, so it can run beside the daemon (WAL lets both). */
#include "ctl.h"

#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "csv.h"
#include "model.h"

static void export_usage(FILE *f)
{
	fputs("usage: sealctl export --since TIME [--until TIME] [--db PATH] [common options]\n"
	      "  Writes the audit records with since <= at < until (default: no end) as CSV:\n"
	      "  at, kind, household_id, device_id, alert_id, detail. Times, inside detail too,\n"
	      "  are RFC 3339 UTC; a cell a spreadsheet would run as a formula (=, +, -, @ first)\n"
	      "  starts with an apostrophe. The database defaults to the settings file's [store] path.\n",
	      f);
	fputs(ctl_common_help, f);
}

/* Epoch milliseconds from 2000 to 2200: what the daemon's audit details carry
 * ("admit until 1797512676711", "permit 1797...000..1797...000"). */
#define EXPORT_MS_MIN 946684800000LL
#define EXPORT_MS_MAX 7258118400000LL

static int is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The detail with every epoch-ms time in it written as RFC 3339, like every
 * other time sealctl shows. Done here rather than in the daemon so that the
 * rows already in a database come out the same way. Ids are never rewritten:
 * a number inside a word (hh-1797512676711) is not a time. */
static void export_detail_times(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; in[i] && o + 1 < cap;) {
		size_t j = i;
		while (in[j] >= '0' && in[j] <= '9')
			j++;
		int standalone = j > i && (i == 0 || (!is_alnum(in[i - 1]) && in[i - 1] != '-' && in[i - 1] != '_')) &&
				 !is_alnum(in[j]) && in[j] != '-' && in[j] != '_';
		if (standalone && j - i >= 12 && j - i <= 13) {
			long long v = 0;
			for (size_t k = i; k < j; k++)
				v = v * 10 + (in[k] - '0');
			if (v >= EXPORT_MS_MIN && v < EXPORT_MS_MAX) {
				char t[32];
				codec_format_time(v, t);
				size_t n = strlen(t);
				if (o + n >= cap)
					break;
				memcpy(out + o, t, n);
				o += n;
				i = j;
				continue;
			}
		}
		if (j == i)
			j = i + 1;
		while (i < j && o + 1 < cap)
			out[o++] = in[i++];
	}
	out[o] = '\0';
}

static int write_row(sqlite3_stmt *st)
{
	char at[32], detail[2 * SB_TEXT_MAX + 64];
	codec_format_time(sqlite3_column_int64(st, 0), at);
	int bad = fputs(at, stdout) < 0;
	for (int i = 1; i <= 5; i++) {
		const char *v = (const char *)sqlite3_column_text(st, i);
		if (i == 5 && v) {
			export_detail_times(v, detail, sizeof detail);
			v = detail;
		}
		bad |= putchar(',') == EOF;
		bad |= csv_write_cell(stdout, v) < 0;
	}
	bad |= putchar('\n') == EOF;
	return bad ? -1 : 0;
}

int ctl_cmd_export(struct ctl *c, int argc, char **argv)
{
	static const struct option longopts[] = {CTL_COMMON_OPTS,
						 {"since", required_argument, NULL, 0x201},
						 {"until", required_argument, NULL, 0x202},
						 {"db", required_argument, NULL, 0x203},
						 {0, 0, 0, 0}};
	const char *since = NULL, *until = NULL, *db_path = NULL;
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			export_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (opt == 0x201 || opt == 0x202 || opt == 0x203) {
			*(opt == 0x201 ? &since : opt == 0x202 ? &until : &db_path) = optarg;
			continue;
		}
		int r = ctl_common_opt(c, opt, optarg);
		if (r == 1)
			continue;
		if (r == 0)
			export_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (optind < argc || !since) {
		if (!since)
			fprintf(stderr, "sealctl export: --since is required\n");
		export_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	int rc = ctl_settle(c);
	if (rc)
		return rc;

	int64_t now = ctl_wall_ms();
	struct ctl_time from, to = {.ms = now};
	char err[CTL_ERR_MAX];
	if (ctl_time_parse(since, now, &from, err) < 0 || (until && ctl_time_parse(until, now, &to, err) < 0)) {
		fprintf(stderr, "sealctl export: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	if (!until)
		to.ms = INT64_MAX; /* "until now" would miss what the daemon writes meanwhile */
	if (!db_path)
		db_path = c->cfg.store.path;

	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int sq = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
	if (sq == SQLITE_OK)
		sq = sqlite3_busy_timeout(db, (int)(c->timeout_ms > 60000 ? 60000 : c->timeout_ms));
	if (sq == SQLITE_OK)
		sq = sqlite3_prepare_v2(db,
					"SELECT at_ms, kind, household_id, device_id, alert_id, detail FROM audit"
					" WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, id",
					-1, &st, NULL);
	if (sq == SQLITE_OK)
		sq = sqlite3_bind_int64(st, 1, from.ms);
	if (sq == SQLITE_OK)
		sq = sqlite3_bind_int64(st, 2, to.ms);
	if (sq != SQLITE_OK) {
		fprintf(stderr, "sealctl export: %s: %s\n", db_path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_finalize(st);
		sqlite3_close(db);
		return CTL_EXIT_NO_REPLY;
	}
	int io_bad = fputs("at,kind,household_id,device_id,alert_id,detail\n", stdout) < 0;
	while (!io_bad && (sq = sqlite3_step(st)) == SQLITE_ROW)
		io_bad = write_row(st) < 0;
	int ok = !io_bad && sq == SQLITE_DONE;
	if (!io_bad && sq != SQLITE_DONE)
		fprintf(stderr, "sealctl export: %s: %s\n", db_path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (fflush(stdout) != 0 || io_bad) {
		perror("sealctl export: standard output");
		return CTL_EXIT_NO_REPLY;
	}
	return ok ? CTL_EXIT_OK : CTL_EXIT_NO_REPLY;
}
