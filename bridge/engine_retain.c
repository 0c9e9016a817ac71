/* Retention: what the store deletes as too old leaves the engine's memory too.
 * Only objects nothing else points at may go: a closed alert is an id in the
 * `closed` map; a released household without an open alert is referenced by
 * nothing but its table slot and the seal left on it, which is detached. */
#include <stdint.h>
#include <stdlib.h>

#include "engine_impl.h"

int engine_forget_closed_alert(struct engine *e, const char *id)
{
	const char *key;
	if (!hashmap_take(&e->closed, id, &key))
		return -1;
	free((char *)key);
	return 0;
}

int engine_forget_household(struct engine *e, const char *id)
{
	struct household *h = objmap_get(&e->households, id);
	if (!h)
		return -1;
	if (!h->released || h->alerts || (h->flags & HF_TOUCHED))
		return -2;
	if (h->device) {
		/* Left on the door since the release: the seal stays, unfitted. */
		timerq_cancel(&e->timers, &h->device->silence_timer);
		h->device->household = NULL;
		h->device->silent = 0;
		h->device = NULL;
	}
	timerq_cancel(&e->timers, &h->timer);
	objmap_del(&e->households, id);
	engine_prune_permits(h, INT64_MAX);
	if (h->flags & HF_ADDR_HEAP)
		free(h->address);
	h->address = NULL;
	h->flags = 0;
	return 0;
}

void engine_forget_lapsed_permits(struct engine *e, const char *household_id, int64_t wall_ms)
{
	struct household *h = objmap_get(&e->households, household_id);
	if (h)
		engine_prune_permits(h, wall_ms);
}
