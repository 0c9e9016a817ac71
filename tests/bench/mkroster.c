/* mkroster: writes a roster of fitted seals straight into a sealbridge
 * database, in one transaction, so that a million seals take seconds rather
 * than a million admit/install commands. The schema is the daemon's own:
 * store_open creates (or checks) it first.
 *
 * Bench seals <prefix>%06d (0..S-1) live in households h-%06d, 500 to a
 * community, 5 communities to a street, 20 streets to a district. Reserved
 * seals lat-%05d (latency probes) and mark-%04d (end-of-stream markers) each
 * have a household of their own in community c-probe, so every door opening
 * of one raises exactly one alert. All households are admitted from a day ago
 * to a year ahead, without permits; every seal was heard a minute ago with
 * its door closed and battery 80.
 *
 * Burst seals burst-%05d (-b, for the "seals fall silent in the same second"
 * phase) each have a household of their own in community c-burst and their
 * own silence_after (-S ms; every other seal has 0, the daemon's default).
 * They are stored as silent already (their device_silent alert long closed):
 * the daemon then arms no silence timer for them at start-up, so they cannot
 * go silent during the phases before the burst. A heartbeat brings each back
 * (it stays silent until one) and starts its silence_after from that moment. */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "store.h"

struct ins {
	sqlite3 *db;
	sqlite3_stmt *hh, *dev;
	int64_t now_ms;
	int64_t silence_after_ms; /* per seal: 0 is the daemon's default */
	int silent;
};

static int step(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "mkroster: %s: %s\n", what, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int add_seal(struct ins *x, const char *dev, const char *hh, const char *community, const char *street,
		    const char *district, const char *address)
{
	int64_t day = 86400000;
	sqlite3_stmt *h = x->hh, *d = x->dev;
	sqlite3_bind_text(h, 1, hh, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(h, 2, address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(h, 3, district, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(h, 4, street, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(h, 5, community, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(h, 6, x->now_ms - day);
	sqlite3_bind_int64(h, 7, x->now_ms + 365 * day);
	sqlite3_bind_int64(h, 8, x->now_ms - day);
	if (step(x->db, h, "insert household") < 0)
		return -1;
	sqlite3_bind_text(d, 1, dev, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(d, 2, hh, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(d, 3, x->now_ms - day);
	sqlite3_bind_int64(d, 4, x->now_ms - 60000);
	sqlite3_bind_int64(d, 5, x->silence_after_ms);
	sqlite3_bind_int(d, 6, x->silent);
	return step(x->db, d, "insert device");
}

static void usage(void)
{
	fprintf(stderr, "usage: mkroster -f DB -s SEALS [-p PREFIX] [-l LATENCY_SEALS] [-k MARK_SEALS]\n"
			"                [-b BURST_SEALS] [-S BURST_SILENCE_AFTER_MS]\n"
			"  DB must not exist yet (or be an empty sealbridge database)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *prefix = "seal-";
	int64_t seals = -1, lat = 1000, marks = 100, burst = 0, burst_silence_ms = 15000;
	int o;
	while ((o = getopt(argc, argv, "f:s:p:l:k:b:S:")) != -1) {
		switch (o) {
		case 'f': path = optarg; break;
		case 's': seals = bench_arg_i64("mkroster", "-s", optarg, 0, 99999999); break;
		case 'p': prefix = optarg; break;
		case 'l': lat = bench_arg_i64("mkroster", "-l", optarg, 0, 99999); break;
		case 'k': marks = bench_arg_i64("mkroster", "-k", optarg, 0, 9999); break;
		case 'b': burst = bench_arg_i64("mkroster", "-b", optarg, 0, 100000); break;
		case 'S': burst_silence_ms = bench_arg_i64("mkroster", "-S", optarg, 1, 2592000000); break;
		default: usage();
		}
	}
	if (!path || seals < 0 || optind != argc || strlen(prefix) > 40)
		usage();
	int64_t t0 = bench_now_ns();

	struct store *st = NULL;
	char err[256];
	if (store_open(path, &st, err) < 0) {
		fprintf(stderr, "mkroster: %s\n", err);
		return 1;
	}
	store_close(st);

	struct ins x = {.db = NULL};
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	x.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (sqlite3_open_v2(path, &x.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "mkroster: %s: %s\n", path, sqlite3_errmsg(x.db));
		return 1;
	}
	/* A scratch roster: losing it to a crash costs nothing, so no syncs. */
	int rc = sqlite3_exec(x.db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -200000; BEGIN IMMEDIATE", NULL,
			      NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(x.db,
					"INSERT INTO households(id, address, district_id, street_id, community_id,"
					" category, persons, start_ms, end_ms, released, changed_ms)"
					" VALUES(?1, ?2, ?3, ?4, ?5, 'close_contact', 2, ?6, ?7, 0, ?8)",
					-1, &x.hh, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(x.db,
					"INSERT INTO devices(id, household_id, silence_after_ms, fitted_ms, door,"
					" battery, tamper, last_seen_ms, heard, silent)"
					" VALUES(?1, ?2, ?5, ?3, 'closed', 80, 0, ?4, 1, ?6)",
					-1, &x.dev, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "mkroster: %s\n", sqlite3_errmsg(x.db));
		return 1;
	}
	char dev[80], hh[32], com[32], street[32], district[32], addr[48];
	int fail = 0;
	for (int64_t i = 0; i < seals && !fail; i++) {
		int64_t c = i / 500;
		snprintf(dev, sizeof(dev), "%s%06lld", prefix, (long long)i);
		snprintf(hh, sizeof(hh), "h-%06lld", (long long)i);
		snprintf(com, sizeof(com), "c-%05lld", (long long)c);
		snprintf(street, sizeof(street), "s-%04lld", (long long)(c / 5));
		snprintf(district, sizeof(district), "d-%03lld", (long long)(c / 100));
		snprintf(addr, sizeof(addr), "%lld-%lld-%lld", (long long)(c % 100), (long long)(i % 500 / 20),
			 (long long)(i % 20 + 101));
		fail = add_seal(&x, dev, hh, com, street, district, addr) < 0;
	}
	for (int64_t i = 0; i < lat && !fail; i++) {
		snprintf(dev, sizeof(dev), "lat-%05lld", (long long)i);
		snprintf(hh, sizeof(hh), "hl-%05lld", (long long)i);
		snprintf(addr, sizeof(addr), "9-1-%lld", (long long)i);
		fail = add_seal(&x, dev, hh, "c-probe", "s-probe", "d-probe", addr) < 0;
	}
	for (int64_t i = 0; i < marks && !fail; i++) {
		snprintf(dev, sizeof(dev), "mark-%04lld", (long long)i);
		snprintf(hh, sizeof(hh), "hm-%04lld", (long long)i);
		snprintf(addr, sizeof(addr), "9-2-%lld", (long long)i);
		fail = add_seal(&x, dev, hh, "c-probe", "s-probe", "d-probe", addr) < 0;
	}
	x.silence_after_ms = burst_silence_ms;
	x.silent = 1;
	for (int64_t i = 0; i < burst && !fail; i++) {
		snprintf(dev, sizeof(dev), "burst-%05lld", (long long)i);
		snprintf(hh, sizeof(hh), "hb-%05lld", (long long)i);
		snprintf(addr, sizeof(addr), "9-3-%lld", (long long)i);
		fail = add_seal(&x, dev, hh, "c-burst", "s-burst", "d-burst", addr) < 0;
	}
	sqlite3_finalize(x.hh);
	sqlite3_finalize(x.dev);
	if (!fail && sqlite3_exec(x.db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "mkroster: commit: %s\n", sqlite3_errmsg(x.db));
		fail = 1;
	}
	sqlite3_close(x.db);
	if (fail)
		return 1;
	printf("mkroster seals=%lld latency_seals=%lld mark_seals=%lld burst_seals=%lld burst_silence_ms=%lld"
	       " elapsed_s=%.3f\n",
	       (long long)seals, (long long)lat, (long long)marks, (long long)burst, (long long)burst_silence_ms,
	       (double)(bench_now_ns() - t0) / 1e9);
	return 0;
}
