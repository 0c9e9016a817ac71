/* SQLite store: roster, devices, alerts, permits, outbox and audit trail.
 * One writer (this daemon). Schema versioned with PRAGMA user_version and
 * migrated forward at open. WAL; prepared statements live in the struct.
 * The caller serialises all calls (one mutex in the service). */
#ifndef SB_STORE_H
#define SB_STORE_H

#include "engine.h"

struct store;

/* Creates the file mode 0600 when missing. On failure *out is NULL and err says why. */
int store_open(const char *path, struct store **out, char err[256]);
void store_close(struct store *s); /* NULL is a no-op */

/* Random id made when the database was created, stable for its life ([0-9a-f]{8}). */
const char *store_instance(const struct store *s);

/* Loads households, permits, devices, open alerts and the alert counter into e. */
int store_load(struct store *s, struct engine *e);

int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* Persists ACT_SAVE_* and ACT_AUDIT actions; other kinds are ignored (return 0). */
int store_apply(struct store *s, const struct action *a);

/* Outbox: messages not yet confirmed by a successful PUBACK. */
int store_outbox_add(struct store *s, const char *topic, const void *payload, size_t len, int qos,
		     int retained, const void *corr, size_t corr_len, int64_t *id_out);
int store_outbox_delete(struct store *s, const int64_t *ids, size_t n);
typedef int (*store_outbox_fn)(void *arg, int64_t id, const char *topic, const void *payload, size_t len,
			       int qos, int retained, const void *corr, size_t corr_len);
/* In id order; stops when fn returns non-zero and returns that value. */
int store_outbox_each(struct store *s, store_outbox_fn fn, void *arg);

/* Household states are published from memory, not through the outbox: the
 * daemon records up to when every state it made was confirmed (wall ms), and
 * after a crash publishes again the households changed since then. */
int store_set_states_confirmed(struct store *s, int64_t ms);
/* *out = -1 when never recorded. */
int store_states_confirmed(struct store *s, int64_t *out);
/* Each household whose row, seal or alerts changed at or after since_ms. Stops when fn returns non-zero. */
int store_changed_since(struct store *s, int64_t since_ms, int (*fn)(void *arg, const char *household_id),
			void *arg);

/* Each seal whose row changed at or after since_ms (its state may not have reached the broker). */
int store_seals_changed_since(struct store *s, int64_t since_ms, int (*fn)(void *arg, const char *device_id),
			      void *arg);

/* PRAGMA journal_size_limit: a rewound WAL is trimmed back to this many bytes. */
int store_set_wal_limit(struct store *s, int64_t bytes);
/* Passive WAL checkpoint, for the main thread when idle. */
int store_checkpoint(struct store *s);
/* Last SQLite error text. */
const char *store_errmsg(const struct store *s);
/* Non-zero when the last failure was SQLITE_FULL or an I/O error. */
int store_disk_fault(const struct store *s);

#endif
