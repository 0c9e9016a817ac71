/* For the store's own modules (store_ids.c, store_retain.c, store_permits.c):
 * the connection, statements prepared on first use, and the error record.
 * Nothing outside bridge/store*.c includes this. */
#ifndef SB_STORE_PRIV_H
#define SB_STORE_PRIV_H

#include <sqlite3.h>

#include "store.h"

/* One slot per statement of those modules; prepared once, kept for the store's life. */
enum store_ext_stmt {
	SX_PERMITS_OF, SX_PERMIT_DEL_ROW, SX_PERMIT_ADD,
	SX_META_GET, SX_META_SET, SX_ALERT_SEQ_SKIP, SX_ALERT_SEQ_AUDIT,
	SX_AUDIT_OLD, SX_ALERTS_OLD, SX_ALERT_DEL, SX_HOUSEHOLDS_OLD, SX_HOUSEHOLD_DEL, SX_PERMITS_OF_DEL, SX_DEVICE_DETACH,
	SX_PERMITS_LAPSED, SX_PERMITS_LAPSED_DEL,
	SX_COUNT
};

sqlite3 *store_db(struct store *s);
/* The statement in slot, prepared from sql the first time; NULL on failure (error recorded). */
sqlite3_stmt *store_stmt(struct store *s, enum store_ext_stmt slot, const char *sql);
/* Records a SQLite failure (rc) under what, as the store's own errors are; returns -1. */
int store_fail(struct store *s, int rc, const char *what);
/* Resets and clears the bindings of st. */
void store_stmt_done(sqlite3_stmt *st);

/* store_permits.c: the household's permit rows made equal to its list in
 * memory, writing only the rows that differ. Inside the caller's savepoint. */
int store_permits_sync(struct store *s, const struct household *h);

#endif
