/* The field-operations tables (seal_links, field_permits): their own prepared
 * statements, kept apart from store.c's. Called only by store.c, which holds
 * the transaction and reports errors. */
#ifndef SB_STORE_FIELD_H
#define SB_STORE_FIELD_H

#include <sqlite3.h>

#include "engine.h"

struct store_field;

int store_field_open(sqlite3 *db, struct store_field **out, char err[256]);
void store_field_close(struct store_field *f); /* NULL is a no-op */
/* ACT_SAVE_SEAL_LINK and ACT_SAVE_PERMIT. 0 or a SQLite error code. */
int store_field_apply(struct store_field *f, const struct action *a);
/* After devices, before alerts. 0, or non-zero with err set. */
int store_field_load(struct store_field *f, struct engine *e, char err[256]);

#endif
