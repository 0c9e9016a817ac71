/* WAL checkpoints on a thread and connection of their own. A checkpoint ends
 * in an fsync and, after a burst, copies many pages: run under the service
 * lock it would stall message processing and alerts for that long. */
#ifndef SB_STORE_CKPT_H
#define SB_STORE_CKPT_H

struct store_ckpt;

/* Checkpoints (PASSIVE) path's WAL every interval_ms. 0 or -1 with err set. */
int store_ckpt_start(const char *path, int interval_ms, struct store_ckpt **out, char err[256]);
void store_ckpt_stop(struct store_ckpt *c); /* NULL is a no-op; joins the thread */

#endif
