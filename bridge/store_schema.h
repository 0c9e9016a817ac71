/* Store schema: versions and forward migrations. Private to store.c. */
#ifndef SB_STORE_SCHEMA_H
#define SB_STORE_SCHEMA_H

#include <sqlite3.h>

/* The PRAGMA user_version this code writes and understands. */
#define STORE_SCHEMA_VERSION 5

/* Opens path, creating it mode 0600 when missing, in WAL mode with the
 * connection settings the store relies on, migrated to STORE_SCHEMA_VERSION.
 * 0, or -1 with err set ("path: why") and *out NULL. */
int store_schema_open(const char *path, sqlite3 **out, char err[256]);

/* Brings db up to STORE_SCHEMA_VERSION, one transaction per step. Refuses a
 * database newer than this code or one that holds foreign tables. 0 or -1 with err set. */
int store_schema_migrate(sqlite3 *db, char err[256]);

#endif
