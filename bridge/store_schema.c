/* Store schema: PRAGMA user_version names the version; each migration takes the
 * database one version forward inside its own transaction, so a crash leaves
 * either the old or the new version, never half of one. */
#include "store_schema.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* STRICT tables: a value of the wrong type is an error, not a silent conversion.
 * Foreign keys are deferred so the order of saves inside one transaction does not matter. */
static const char schema_v1[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
	"CREATE TABLE households("
	" id TEXT PRIMARY KEY, address TEXT, district_id TEXT NOT NULL, street_id TEXT NOT NULL,"
	" community_id TEXT NOT NULL, category TEXT, persons INTEGER, start_ms INTEGER NOT NULL,"
	" end_ms INTEGER NOT NULL, released INTEGER NOT NULL, released_ms INTEGER,"
	" unfitted_since_ms INTEGER, changed_ms INTEGER) STRICT;"
	"CREATE TABLE permits("
	" household_id TEXT NOT NULL REFERENCES households(id) DEFERRABLE INITIALLY DEFERRED,"
	" from_ms INTEGER NOT NULL, until_ms INTEGER NOT NULL, reason TEXT) STRICT;"
	"CREATE INDEX permits_household ON permits(household_id);"
	"CREATE TABLE devices("
	" id TEXT PRIMARY KEY,"
	" household_id TEXT REFERENCES households(id) DEFERRABLE INITIALLY DEFERRED,"
	" silence_after_ms INTEGER NOT NULL, fitted_ms INTEGER, door TEXT NOT NULL, battery INTEGER,"
	" tamper INTEGER, seq INTEGER, last_seen_ms INTEGER, heard INTEGER NOT NULL,"
	" silent INTEGER NOT NULL) STRICT;"
	"CREATE INDEX devices_household ON devices(household_id);"
	"CREATE TABLE alerts("
	" id TEXT PRIMARY KEY, type TEXT NOT NULL, state TEXT NOT NULL, level TEXT NOT NULL,"
	" household_id TEXT NOT NULL, device_id TEXT, since_ms INTEGER NOT NULL,"
	" raised_ms INTEGER NOT NULL, count INTEGER NOT NULL, msg_seq INTEGER NOT NULL,"
	" due_ms INTEGER NOT NULL, \"by\" TEXT, note TEXT, updated_ms INTEGER NOT NULL) STRICT;"
	"CREATE INDEX alerts_state ON alerts(state);"
	"CREATE TABLE outbox("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload BLOB NOT NULL,"
	" qos INTEGER NOT NULL, retained INTEGER NOT NULL, corr BLOB) STRICT;"
	"CREATE TABLE audit("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,"
	" household_id TEXT, device_id TEXT, alert_id TEXT, detail TEXT) STRICT;"
	"CREATE INDEX audit_at ON audit(at_ms);";

/* v2: retained household states no longer go through the outbox. A seal's
 * row says when its state last changed, so that after a crash the states
 * changed since the last confirmed one can be published again. */
static const char schema_v2[] = "ALTER TABLE devices ADD COLUMN state_ms INTEGER;";

/* Retention (store_retain.c): each kind of old row is found through an index
 * on its age, so an hourly batch that finds nothing is a probe, not a scan.
 * An alert's updated_ms is when it was last saved: for a closed one, when it closed. */
static const char schema_retention[] =
	"CREATE INDEX IF NOT EXISTS alerts_closed_at ON alerts(updated_ms) WHERE state IN ('resolved', 'cleared');"
	"CREATE INDEX IF NOT EXISTS households_released_at ON households(released_ms) WHERE released = 1;"
	"CREATE INDEX IF NOT EXISTS permits_until ON permits(until_ms);";
/* Seal custody: where every seal is. A seal known before is fitted when it is
 * on the door of an active household, awaiting collection on a released
 * one's, and collected when it is on no door; each door counts one fitting. */
static const char schema_custody[] =
	"ALTER TABLE devices ADD COLUMN custody TEXT;"
	"ALTER TABLE devices ADD COLUMN model TEXT;"
	"ALTER TABLE devices ADD COLUMN batch TEXT;"
	"ALTER TABLE devices ADD COLUMN note TEXT;"
	"ALTER TABLE devices ADD COLUMN unit_level TEXT;"
	"ALTER TABLE devices ADD COLUMN unit_id TEXT;"
	"ALTER TABLE devices ADD COLUMN fittings INTEGER NOT NULL DEFAULT 0;"
	"UPDATE devices SET"
	" custody = CASE WHEN household_id IS NULL THEN 'collected'"
	"  WHEN (SELECT released FROM households WHERE id = devices.household_id) = 1 THEN 'awaiting_collection'"
	"  ELSE 'fitted' END,"
	" fittings = CASE WHEN household_id IS NULL THEN 0 ELSE 1 END;";
/* Field operations (issue 12) and the seal's own seq (issue 10): the units an
 * alert reached (its closing messages go there), gateway alerts, outcomes and
 * when an alert closed (resolved_24h); a seal's source, gateway, model and seq
 * at fitting; permits with an id (household or area, maybe daily). */
static const char schema_field[] =
	"ALTER TABLE alerts ADD COLUMN unit_community TEXT;"
	"ALTER TABLE alerts ADD COLUMN unit_street TEXT;"
	"ALTER TABLE alerts ADD COLUMN unit_district TEXT;"
	"ALTER TABLE alerts ADD COLUMN gateway_id TEXT;"
	"ALTER TABLE alerts ADD COLUMN households INTEGER;"
	"ALTER TABLE alerts ADD COLUMN outcome TEXT;"
	"ALTER TABLE alerts ADD COLUMN closed_ms INTEGER;"
	"CREATE TABLE seal_links("
	" device_id TEXT PRIMARY KEY, source TEXT, gateway_id TEXT, gateway_learned INTEGER NOT NULL,"
	" model TEXT, fit_seq INTEGER) STRICT;"
	"CREATE TABLE field_permits("
	" id TEXT PRIMARY KEY, level TEXT NOT NULL, target TEXT NOT NULL, from_ms INTEGER NOT NULL,"
	" until_ms INTEGER NOT NULL, daily_from INTEGER, daily_until INTEGER, reason TEXT) STRICT;";

/* The instance id outlives restarts and keeps alert ids of a re-created database apart. */
static int seed_instance(sqlite3 *db, char err[256])
{
	unsigned char rnd[4];
	size_t got = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, 256, "/dev/urandom: %s", strerror(errno));
		return -1;
	}
	while (got < sizeof rnd) {
		ssize_t n = read(fd, rnd + got, sizeof rnd - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, 256, "/dev/urandom: %s", n < 0 ? strerror(errno) : "short read");
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);

	char hex[2 * sizeof rnd + 1];
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);

	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO meta(key, value) VALUES('instance', ?1)", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, hex, -1, SQLITE_TRANSIENT);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	if (rc != SQLITE_OK)
		snprintf(err, 256, "create instance id: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -1;
}

struct migration {
	const char *sql;
	int (*after)(sqlite3 *db, char err[256]); /* may be NULL */
};

/* migrations[v] takes version v to v + 1. Append only; never edit a shipped step. */
static const struct migration migrations[STORE_SCHEMA_VERSION] = {
	{ schema_v1, seed_instance },
	{ schema_v2, NULL },
	{ schema_retention, NULL },
	{ schema_custody, NULL },
	{ schema_field, NULL },
};

static int exec(sqlite3 *db, const char *sql, char err[256], const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, 256, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/* One integer from a constant query (a PRAGMA or a count). */
static int query_int(sqlite3 *db, const char *sql, int *out, char err[256])
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK)
		snprintf(err, 256, "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Runs under the write lock, so two daemons on one file cannot migrate twice. */
static int migrate_step(sqlite3 *db, int *done, char err[256])
{
	int v, tables;
	*done = 0;
	if (query_int(db, "PRAGMA user_version", &v, err) < 0)
		return -1;
	if (v < 0 || v > STORE_SCHEMA_VERSION) {
		snprintf(err, 256,
			 "database schema version %d is newer than this sealbridge knows (%d); refusing to open it",
			 v, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (v == STORE_SCHEMA_VERSION) {
		*done = 1;
		return 0;
	}
	if (v == 0) {
		if (query_int(db, "SELECT count(*) FROM sqlite_schema", &tables, err) < 0)
			return -1;
		if (tables > 0) {
			snprintf(err, 256, "not a sealbridge database (it has tables but no schema version)");
			return -1;
		}
	}
	if (exec(db, migrations[v].sql, err, "schema migration") < 0)
		return -1;
	if (migrations[v].after && migrations[v].after(db, err) < 0)
		return -1;
	/* PRAGMA takes no parameters; the value is our own constant, not data. */
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
	return exec(db, sql, err, "set schema version");
}

int store_schema_migrate(sqlite3 *db, char err[256])
{
	for (;;) {
		int done;
		if (exec(db, "BEGIN IMMEDIATE", err, "begin migration") < 0)
			return -1;
		if (migrate_step(db, &done, err) < 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (exec(db, "COMMIT", err, "commit migration") < 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (done)
			return 0;
	}
}

/* SQLite would create a missing file with 0644 less umask; a roster of
 * quarantined homes is nobody else's business. -wal and -shm inherit the mode. */
static int create_private(const char *path, char err[256])
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		snprintf(err, 256, "%s", strerror(errno));
		return -1;
	}
	/* umask could have taken away our own write bit. */
	int ret = fchmod(fd, 0600);
	if (ret < 0)
		snprintf(err, 256, "chmod: %s", strerror(errno));
	close(fd);
	return ret < 0 ? -1 : 0;
}

static int set_pragmas(sqlite3 *db, char err[256])
{
	sqlite3_stmt *st = NULL;
	int wal = 0;
	/* Also the first read of the file: a file that is not a database fails here. */
	/* For a new file only (an existing one keeps its own): a state change
	 * writes one page to the WAL, and 1 KiB pages cost less to write than 4. */
	if (exec(db, "PRAGMA page_size = 1024", err, "page size") < 0)
		return -1;
	int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		wal = mode && strcmp(mode, "wal") == 0;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		snprintf(err, 256, "%s", sqlite3_errmsg(db));
	else if (!wal)
		snprintf(err, 256, "cannot switch the database to WAL mode");
	sqlite3_finalize(st);
	if (rc != SQLITE_OK || !wal)
		return -1;

	/* NORMAL is durable in WAL mode except for the last commits on power loss.
	 * No automatic checkpoints: the daemon checkpoints off the message path. */
	return exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
		    err, "set pragmas");
}

int store_schema_open(const char *path, sqlite3 **out, char err[256])
{
	char why[256] = "";
	sqlite3 *db = NULL;
	*out = NULL;
	if (create_private(path, why) == 0) {
		int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
		if (rc != SQLITE_OK) {
			snprintf(why, sizeof why, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		} else {
			sqlite3_extended_result_codes(db, 1);
			sqlite3_busy_timeout(db, 5000);
			if (set_pragmas(db, why) == 0)
				store_schema_migrate(db, why);
		}
	}
	if (why[0]) {
		snprintf(err, 256, "%s: %.200s", path, why);
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}
