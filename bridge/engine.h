/* The quarantine and escalation state machine: pure, no I/O, no clock reads.
 * Every input carries `now`; every effect comes back as an action list that the
 * caller applies (store, then publish) before the next call. */
#ifndef SB_ENGINE_H
#define SB_ENGINE_H

#include "model.h"

struct engine_settings {
	int64_t silence_after_ms;
	int64_t unmonitored_after_ms;
	int64_t street_after_ms;
	int64_t district_after_ms;
	int64_t stats_interval_ms;
	int battery_low;
};

enum action_kind {
	ACT_SAVE_HOUSEHOLD,  /* u.household: persist roster row and its permits */
	ACT_SAVE_DEVICE,     /* u.device: persist device row */
	ACT_SAVE_SEEN,       /* u.device: persist only its last_seen (cheap) */
	ACT_SAVE_ALERT,      /* u.alert: persist alert row (a copy) */
	ACT_SAVE_COUNTER,    /* u.counter: next alert number */
	ACT_PUB_ALERT,       /* u.alert_msg: one alert message to one level */
	ACT_PUB_STATE,       /* u.household: retained household state */
	ACT_PUB_CLEAR_STATE, /* u.household: empty retained message */
	ACT_PUB_STATS,       /* u.stats */
	ACT_AUDIT            /* u.audit */
};

struct alert_msg {
	struct alert alert;           /* snapshot at the time of the message */
	const struct household *household;
	enum sb_level to_level;       /* level of this message (topic and payload) */
	char event_id[SB_EVENT_ID_MAX + 1];
	int64_t at_ms;
};

struct stats_msg {
	const struct unit *unit;
	int households, fitted, online, silent, doors_open, open_alerts;
	int64_t at_ms;
};

struct audit_rec {
	const char *kind;             /* static string: "door", "report", "alert", "release", ... */
	char household_id[SB_ID_MAX + 1];
	char device_id[SB_ID_MAX + 1];
	char alert_id[SB_ID_MAX + 1];
	char detail[SB_TEXT_MAX + 1];
	int64_t at_ms;
};

struct action {
	enum action_kind kind;
	union {
		const struct household *household;
		const struct device *device;
		struct alert alert;
		int64_t counter;
		struct alert_msg alert_msg;
		struct stats_msg stats;
		struct audit_rec audit;
	} u;
};

/* Growable list; engine_* append to it, the caller empties it with actions_clear(). */
struct actions {
	struct action *v;
	size_t n, cap;
	int oom; /* an append failed: the list is incomplete */
};
void actions_init(struct actions *a);
void actions_clear(struct actions *a);
void actions_free(struct actions *a);

enum report_result {
	REPORT_APPLIED,        /* accepted (state change or sign of life) */
	REPORT_DUPLICATE,      /* seq not above the last accepted one */
	REPORT_STALE_RETAINED, /* retained re-delivery, not newer than stored state */
	REPORT_UNKNOWN_DEVICE  /* no seal with that id is fitted */
};

/* Outcome of a command; error is NULL on success or one of the interface codes. */
struct cmd_result {
	int ok;
	const char *error;
	char message[256];
	char alert_id[SB_ID_MAX + 1]; /* for ack/resolve */
	int changed;                  /* 0 when the command was a no-op repeat */
};

struct engine;

/* alert_prefix: stable per database, keeps alert ids unique across re-created stores. */
struct engine *engine_new(const struct engine_settings *s, const char *alert_prefix);
void engine_free(struct engine *e); /* NULL is a no-op */
void engine_set_settings(struct engine *e, const struct engine_settings *s);

/* Start-up: load what the store holds, then engine_loaded(). The engine copies
 * everything it needs; loaders return 0 or a negative code (bad reference, OOM). */
int engine_load_household(struct engine *e, const char *id, const char *address,
			  const char *const unit_ids[SB_LEVEL_COUNT], enum sb_category cat, int persons,
			  int64_t start_ms, int64_t end_ms, int released, int64_t released_ms,
			  int64_t unfitted_since_ms, int64_t changed_ms);
int engine_load_permit(struct engine *e, const char *household_id, int64_t from_ms, int64_t until_ms,
		       const char *reason);
int engine_load_device(struct engine *e, const char *id, const struct device *d, const char *household_id);
int engine_load_alert(struct engine *e, const struct alert *a);
void engine_load_counter(struct engine *e, int64_t next_alert_no);
void engine_loaded(struct engine *e, struct sb_now now);

/* The daemon could (connected=1) or could not (0) hear the broker from now on. */
void engine_set_connected(struct engine *e, int connected, struct sb_now now);
/* The broker was last heard at heard_mono. From the first call on, a silence
 * deadline fires only once the broker was heard at or after it (a link may be
 * dead before anyone notices); until then it is checked again shortly. */
void engine_set_heard(struct engine *e, int64_t heard_mono);

enum report_result engine_report(struct engine *e, const char *device_id, const struct report *r,
				 int retained, struct sb_now now, struct actions *out);
void engine_command(struct engine *e, const struct command *c, struct sb_now now,
		    struct cmd_result *res, struct actions *out);
/* Fire every deadline at or before now. */
void engine_tick(struct engine *e, struct sb_now now, struct actions *out);
/* The same, at most max deadlines; returns 1 when more are due. Lets the
 * caller publish the first alerts of a burst (10,000 seals silent in the same
 * second) while the rest are still being made. */
int engine_tick_some(struct engine *e, struct sb_now now, size_t max, struct actions *out);
/* Monotonic ms of the next deadline, or INT64_MAX. */
int64_t engine_next_deadline(const struct engine *e);

/* Emit ACT_SAVE_DEVICE for devices whose last_seen is newer than what was last
 * saved (liveness is not committed per heartbeat), looking at about `slots`
 * of them from where the previous call stopped. Returns 1 when this call
 * finished a pass over all devices. */
int engine_flush_liveness(struct engine *e, size_t slots, struct actions *out);
/* Publishes a household's state again (after a crash lost it on the way).
 * 0, or -1 when the household is not known. */
int engine_republish(struct engine *e, const char *household_id, struct sb_now now, struct actions *out);


size_t engine_household_count(const struct engine *e);
size_t engine_device_count(const struct engine *e);
const struct household *engine_household(const struct engine *e, const char *id);
const struct device *engine_device(const struct engine *e, const char *id);
const struct alert *engine_alert(const struct engine *e, const char *id);

#endif
