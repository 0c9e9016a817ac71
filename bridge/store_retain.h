/* Retention: rows older than the kept window are deleted in small batches,
 * each its own short transaction, so that the caller can let go of its lock
 * between batches. What goes (docs/storage.md):
 * - audit rows written before the cutoff;
 * - alerts closed (resolved, cleared) before it;
 * - households released before it that have no open alert, with their permits (a seal
 *   still fitted on one is detached and stays);
 * - permits that lapsed before it. */
#ifndef SB_STORE_RETAIN_H
#define SB_STORE_RETAIN_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum store_gone { STORE_GONE_ALERT, STORE_GONE_HOUSEHOLD, STORE_GONE_PERMITS };

/* Told of every closed alert and household about to be deleted, and of every
 * household whose lapsed permits are: returns 0 to go ahead, non-zero to keep
 * that one (memory still uses it). */
typedef int (*store_gone_fn)(void *arg, enum store_gone what, const char *id);

struct store_retained {
	size_t audit, alerts, households, permits;
};

/* One batch of at most `batch` rows of each kind, in one transaction.
 * 1 when more may be left, 0 when done, -1 on failure (rolled back). */
int store_retain_step(struct store *s, int64_t cutoff_ms, size_t batch, store_gone_fn fn, void *arg,
		      struct store_retained *n);

#endif
