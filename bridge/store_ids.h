/* Ids that never repeat, whatever a fault loses (docs/storage.md).
 * Alert numbers are reserved in blocks: the reserved mark is committed in its
 * own transaction before any number under it is handed out, and a start goes
 * on after the mark. An event id is <alert_id>-<k>: after a stop that may have
 * lost saves, every open alert's k moves on by STORE_SEQ_SKIP (more messages
 * than an alert can have), committed before anything is published. */
#ifndef SB_STORE_IDS_H
#define SB_STORE_IDS_H

#include <stdint.h>

#include "store.h"

#define STORE_SEQ_SKIP 100

/* At start, before store_load, in one transaction: after an unclean stop the
 * open alerts' k is moved on; the clean-stop mark is cleared; numbers
 * [*from, *limit) are reserved. *was_clean says how the last run ended.
 * Each skip leaves an audit row (kind "ids") naming the numbers skipped. */
int store_ids_start(struct store *s, int64_t block, int64_t now_ms, int64_t *from, int64_t *limit, int *was_clean,
		    int *moved); /* moved: open alerts whose event numbers moved on (may be NULL) */
/* Reserves [from, from + block) in its own transaction (no transaction may be open). */
int store_ids_reserve(struct store *s, int64_t from, int64_t block, int64_t *limit);
/* 1 when no transaction is open, so that a reservation can be its own. */
int store_ids_can_reserve(struct store *s);
/* At the end of a stop that left nothing unsaved. */
int store_ids_clean_stop(struct store *s);

#endif
