/* The daemon's core: engine, store and outgoing queue behind one mutex, fed by
 * the transport's thread (messages) and the main loop (timers, publishing,
 * connection state). main.c owns the process; this owns the work. */
#ifndef SB_SERVICE_H
#define SB_SERVICE_H

#include <signal.h>

#include "config.h"

struct service;

/* Opens the store, loads the roster and prepares the transport. 0 or -1 (logged). */
int service_new(const struct config *cfg, struct service **out);
void service_free(struct service *s); /* NULL is a no-op */

/* The exit code of a stop that could not write every save (the store kept failing). */
#define SERVICE_EXIT_LOST 3

/* Runs until *stop is set; *reload asks for settings to be re-read from cfg_path.
 * Returns 0 after a clean shutdown (status offline published when possible),
 * SERVICE_EXIT_LOST when saves were lost (logged). */
int service_run(struct service *s, const char *cfg_path, volatile sig_atomic_t *stop,
		volatile sig_atomic_t *reload);

/* Wakes the loop; async-signal-safe (for signal handlers). */
void service_wake(struct service *s);

#endif
