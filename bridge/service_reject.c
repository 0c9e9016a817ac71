/* How rejected inputs are told: every one is a R/bridge/rejected event, but
 * a flood of them (a misconfigured fleet, an attacker) must not flood the log
 * at warning, and a retained report the broker delivers again at every
 * reconnect is rejected once, not once per reconnect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "service_impl.h"

#define REJECT_LOG_WINDOW_MS 10000
#define REJECT_LOG_PER_WINDOW 20
#define RETAINED_SEEN_MAX 4096

void service_log_rejected(struct service *s, const char *topic, const char *reason, const char *detail)
{
	int64_t now = clock_now().mono_ms;
	if (now - s->reject_window_mono >= REJECT_LOG_WINDOW_MS) {
		if (s->reject_suppressed)
			log_warn("%zu more rejected inputs in the last %.0f s not logged at warning (each is on "
				 "%s/bridge/rejected; all are logged at debug)",
				 s->reject_suppressed, (double)(now - s->reject_window_mono) / 1000.0,
				 s->cfg.mqtt.topic_root);
		s->reject_window_mono = now;
		s->reject_logged = 0;
		s->reject_suppressed = 0;
	}
	if (s->reject_logged < REJECT_LOG_PER_WINDOW) {
		s->reject_logged++;
		log_warn("rejected %s: %s: %s", topic, reason, detail);
	} else {
		s->reject_suppressed++;
		log_debug("rejected %s: %s: %s", topic, reason, detail);
	}
}

struct seen {
	char *topic;
	uint64_t hash;
};

static uint64_t payload_hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static void free_seen(const char *key, void *value, void *arg)
{
	(void)key;
	(void)arg;
	struct seen *x = value;
	free(x->topic);
	free(x);
}

int service_retained_rejected_before(struct service *s, const char *topic, const char *payload, size_t len,
				     int retained)
{
	uint64_t h = payload_hash(payload, len);
	struct seen *x = hashmap_get(&s->retained_rejected, topic);
	/* A live message is always rejected; it is remembered, for a retained
	 * copy of it (the same payload) comes again at the next subscribe. */
	if (retained && x && x->hash == h)
		return 1;
	if (x) {
		x->hash = h; /* a new retained message on that topic: rejected once more */
		return 0;
	}
	if (hashmap_size(&s->retained_rejected) >= RETAINED_SEEN_MAX) {
		/* Bounded: forgetting only means one more rejection each. */
		hashmap_each(&s->retained_rejected, free_seen, NULL);
		hashmap_free(&s->retained_rejected);
	}
	x = calloc(1, sizeof(*x));
	if (!x || !(x->topic = strdup(topic)) || hashmap_put(&s->retained_rejected, x->topic, x) < 0) {
		if (x)
			free(x->topic);
		free(x);
		return 0;
	}
	x->hash = h;
	return 0;
}

void service_reject_free(struct service *s)
{
	hashmap_each(&s->retained_rejected, free_seen, NULL);
	hashmap_free(&s->retained_rejected);
}
