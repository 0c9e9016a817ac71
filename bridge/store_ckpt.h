/* WAL checkpoints on a thread and connection of their own. A checkpoint ends
 * in an fsync and, after a burst, copies many pages: run under the service
 * lock it would stall message processing and alerts for that long.
 *
 * Two traps make a naive checkpointer do nothing, silently:
 * - a connection that never read the database has not opened the WAL, and
 *   sqlite3_wal_checkpoint_v2() on it returns SQLITE_OK with both frame
 *   counts -1 (SQLite 3.40). The connection reads once at open, and a -1 is
 *   reported as a fault, never taken for "nothing to do";
 * - a PASSIVE checkpoint never blocks writers, so under a steady stream of
 *   commits the WAL is never fully copied at the moment the next writer
 *   starts, and SQLite never rewinds it: it grows for ever. Past a bound the
 *   checkpointer escalates to RESTART, which blocks writers only for the
 *   frames that came after the passive pass (and an fsync), with a bounded
 *   busy timeout so that it gives up rather than stall them for long. */
#ifndef SB_STORE_CKPT_H
#define SB_STORE_CKPT_H

#include <stddef.h>
#include <stdint.h>

struct store_ckpt;

struct store_ckpt_opts {
	int interval_ms;         /* between passes; <= 0: 250 */
	int64_t wal_limit_bytes; /* frames in the WAL past which a pass escalates; <= 0: 16 MiB */
	int restart_busy_ms;     /* most a RESTART waits for the writer or a reader; <= 0: 100 */
};

/* What one pass did (for tests and the benchmark). */
struct store_ckpt_pass {
	int rc;            /* SQLite result of the last checkpoint call */
	int log, done;     /* frames in the WAL and copied, after the pass */
	int escalated;     /* a RESTART was tried */
	int64_t wal_bytes; /* the WAL's frames in bytes, before the pass */
};

/* Opens the checkpoint connection (and reads once, see above). No thread. */
int store_ckpt_open(const char *path, const struct store_ckpt_opts *o, struct store_ckpt **out, char err[256]);
/* One checkpoint pass now, on the calling thread (tests; the thread runs these). */
int store_ckpt_pass(struct store_ckpt *c, struct store_ckpt_pass *out);
/* Opens and runs passes every interval on a thread of its own. 0 or -1 with err set. */
int store_ckpt_start(const char *path, const struct store_ckpt_opts *o, struct store_ckpt **out, char err[256]);
/* Copies the current fault into buf ("" when none); returns non-zero when there is one. Any thread. */
int store_ckpt_fault(struct store_ckpt *c, char *buf, size_t n);
void store_ckpt_stop(struct store_ckpt *c); /* NULL is a no-op; joins the thread if one runs */

/* The decision of one pass, pure (unit-tested at its boundaries). */
enum store_ckpt_verdict {
	CKPT_OK,       /* nothing more to do */
	CKPT_ESCALATE, /* the WAL is past its bound: RESTART */
	CKPT_NOOP,     /* SQLITE_OK with log < 0: the checkpoint did nothing (fault) */
	CKPT_FAILED,   /* an error other than busy (fault) */
};
enum store_ckpt_verdict store_ckpt_judge(int rc, int log, int64_t frame_bytes, int64_t limit_bytes);

#endif
