/* The quarantine and escalation state machine: pure, no I/O, no clock reads.
 * Every input carries `now`; every effect comes back as an action list that the
 * caller applies (store, then publish) before the next call. */
#ifndef SB_ENGINE_H
#define SB_ENGINE_H

#include "model.h"

#define ENGINE_MODELS_MAX 32

struct engine_settings {
	int64_t silence_after_ms;
	int64_t unmonitored_after_ms;
	int64_t street_after_ms;
	int64_t district_after_ms;
	int64_t stats_interval_ms;
	int battery_low;
	int64_t reminder_after_ms; /* 0: off */
	/* [model.<name>] sections: 0 / -1 = the model does not set it. */
	struct engine_model {
		char name[SB_ID_MAX + 1];
		int64_t silence_after_ms;
		int battery_low;
	} models[ENGINE_MODELS_MAX];
	int n_models;
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
	ACT_AUDIT,           /* u.audit */
	ACT_SAVE_SEAL,       /* u.seal: persist a seal's custody (after its ACT_SAVE_DEVICE) */
	ACT_PUB_SEAL,        /* u.seal: retained seal state */
	ACT_SAVE_SEAL_LINK,  /* u.device: its source, gateway, model and seq at fitting */
	ACT_SAVE_PERMIT      /* u.permit: a permit with an id (saved or, when gone, deleted) */
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
	int gateway_offline;                /* fitted seals behind an offline gateway */
	int resolved_24h[SB_OUT_COUNT];     /* alerts of the unit resolved in the last 24 h, by outcome */
	int64_t at_ms;
	int seals[SB_SEAL_STATE_COUNT]; /* held by the unit; in_stock (-1: left out) only for districts */
};

/* A seal's custody, by value: saves may wait (disk full) while the seal changes on. */
struct seal_rec {
	char device_id[SB_ID_MAX + 1];
	enum sb_seal_state state;
	char model[SB_ID_MAX + 1], batch[SB_ID_MAX + 1]; /* "" none */
	char note[SB_TEXT_MAX + 1];
	int has_unit;                   /* held by a unit while not on a door (allocated, collected, ...) */
	enum sb_level unit_level;
	char unit_id[SB_ID_MAX + 1];
	/* Published only: where it is (the door's units when on one) and how it is. */
	char street_id[SB_ID_MAX + 1], community_id[SB_ID_MAX + 1], household_id[SB_ID_MAX + 1];
	char address[SB_ADDRESS_MAX + 1];
	int64_t released_ms;            /* awaiting_collection: when its household was released */
	int battery;                    /* -1 unknown */
	int64_t last_seen_ms;           /* 0 never */
	int fittings;
	int64_t at_ms;
};

/* A permit with an id: for one household or a whole unit, maybe daily. */
struct permit_rec {
	char id[SB_ID_MAX + 1];
	int level;                          /* -1: household target, else enum sb_level */
	char target[SB_ID_MAX + 1];         /* household or unit id */
	int64_t from_ms, until_ms;          /* wall, inclusive */
	int daily_from, daily_until;        /* minutes of the local day; -1: not daily */
	int gone;                           /* revoked or lapsed: delete it */
	char reason[SB_TEXT_MAX + 1];
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
		struct seal_rec seal;
		struct permit_rec permit;
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
	REPORT_UNKNOWN_DEVICE, /* no seal with that id is fitted */
	REPORT_WRONG_SOURCE,   /* the seal speaks through another source */
	REPORT_RESTARTED       /* applied; the seal restarted its seq (reboot, new battery) */
};

/* Outcome of a command; error is NULL on success or one of the interface codes. */
struct cmd_result {
	int ok;
	const char *error;
	char message[256];
	char alert_id[SB_ID_MAX + 1]; /* for ack/resolve */
	char permit_id[SB_ID_MAX + 1]; /* for permit/revoke */
	int changed;                  /* 0 when the command was a no-op repeat */
	const char *seal_state;       /* custody commands: the seal's state afterwards, else NULL */
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

/* Alert ids never repeat (see docs/storage.md). The caller reserves alert
 * numbers [from, limit) durably before the engine may hand them out; the
 * engine continues at from when that is ahead. A number handed out past limit
 * (the store failed for a whole block) carries the start tag, a random value
 * made at every start, so it cannot meet an id of any other start.
 * By default there is no limit (unit tests). */
void engine_set_alert_numbers(struct engine *e, int64_t from, int64_t limit);
/* How many reserved numbers are left, and the first one not yet handed out. */
int64_t engine_alert_numbers_left(const struct engine *e);
int64_t engine_next_alert_no(const struct engine *e);
/* [0-9a-f]{1,16}; copied. */
void engine_set_start_tag(struct engine *e, const char *tag);

/* Retention (engine_retain.c): what the store deleted leaves memory too.
 * Forgets a closed alert's id: 0, or -1 when it is not a closed alert. */
int engine_forget_closed_alert(struct engine *e, const char *id);
/* Forgets a released household that has no open alert, with its permits; a
 * seal still fitted on it is detached (and stays known). 0; -1 when not known;
 * -2 when it is still in use. Its bytes in the arena come back at the next start. */
int engine_forget_household(struct engine *e, const char *id);
/* Drops the household's permits that lapsed before wall_ms (their rows went). */
void engine_forget_lapsed_permits(struct engine *e, const char *household_id, int64_t wall_ms);
/* Active permits a household may hold; one more is refused (too_many_permits). */
#define SB_PERMITS_MAX 32
/* A loaded seal's custody (after engine_load_device). has_state 0: a row from
 * before custody was kept; the state is derived from its door. unit_id NULL: none. */
int engine_load_seal(struct engine *e, const char *id, int has_state, enum sb_seal_state state,
		     const char *model, const char *batch, const char *note, enum sb_level unit_level,
		     const char *unit_id, int fittings);
void engine_loaded(struct engine *e, struct sb_now now);

/* The daemon could (connected=1) or could not (0) hear the broker from now on. */
void engine_set_connected(struct engine *e, int connected, struct sb_now now);
/* The broker was last heard at heard_mono. From the first call on, a silence
 * deadline fires only once the broker was heard at or after it (a link may be
 * dead before anyone notices); until then it is checked again shortly. */
void engine_set_heard(struct engine *e, int64_t heard_mono);

enum report_result engine_report(struct engine *e, const char *device_id, const struct report *r,
				 int retained, struct sb_now now, struct actions *out);
/* The same, from a source (SB_SRC_NONE: the caller does not say) and through
 * a vendor's gateway (NULL: none), e.g. Zigbee2MQTT's or a Tasmota bridge. */
enum report_result engine_report_from(struct engine *e, const char *device_id, enum sb_source src,
				      const char *gateway_id, const struct report *r, int retained,
				      struct sb_now now, struct actions *out);
/* A gateway's status: online (1) or offline (0). */
void engine_gateway_status(struct engine *e, const char *gateway_id, int online, struct sb_now now,
			   struct actions *out);
const struct gateway *engine_gateway(const struct engine *e, const char *id);

/* Loading what the field-operations tables hold (after households and devices, before alerts). */
int engine_load_seal_link(struct engine *e, const char *device_id, enum sb_source src, const char *gateway_id,
			  int gateway_learned, const char *model, int64_t fit_seq);
int engine_load_permit_rec(struct engine *e, const struct permit_rec *p);
/* A resolved alert of the last 24 h, for resolved_24h in the statistics. */
int engine_load_resolved(struct engine *e, const char *const unit_ids[SB_LEVEL_COUNT], enum sb_outcome o,
			 int64_t closed_ms);
/* The model's name, or NULL. */
const char *engine_model_name(const struct engine *e, const struct device *d);
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
/* The same for a seal's state. 0, or -1 when the seal is not known. */
int engine_republish_seal(struct engine *e, const char *device_id, struct sb_now now, struct actions *out);


size_t engine_household_count(const struct engine *e);
size_t engine_device_count(const struct engine *e);
const struct household *engine_household(const struct engine *e, const char *id);
const struct device *engine_device(const struct engine *e, const char *id);
const struct alert *engine_alert(const struct engine *e, const char *id);

#endif
