/* Engine internals shared by engine*.c; nothing outside the engine includes this. */
#ifndef SB_ENGINE_IMPL_H
#define SB_ENGINE_IMPL_H

#include "engine.h"
#include "arena.h"
#include "hashmap.h"
#include "objmap.h"
#include "timerq.h"

enum timer_kind { TK_SILENCE = 1, TK_HOUSEHOLD, TK_ESCALATE };

/* household->flags / device->flags */
#define HF_SAVE 1u
#define HF_PUB 2u
#define HF_TOUCHED 4u
#define HF_START_PENDING 8u /* the household waits for its start (see timer_arm_household) */
#define HF_ADDR_HEAP 16u    /* its address was malloc'd (changed after loading), not from the arena */
#define DF_SAVE 1u
#define DF_TOUCHED 2u
#define DF_SEEN 4u /* last_seen moved since the seal was last written */
#define DF_SEAL 8u      /* custody changed: save it and publish the seal state */
#define DF_SEAL_PUB 16u /* publish the seal state (nothing of custody to save) */
#define DF_LINK 32u /* source, gateway, model or seq at fitting changed */

struct unit_node {
	struct unit u; /* first: a struct unit * is a struct unit_node * */
	int households, fitted, online, silent, doors_open, open_alerts;
	int published; /* stats were published with households > 0 */
	struct unit_node *parent; /* community -> street -> district, from the latest placement */
	int seals[SB_SEAL_STATE_COUNT]; /* this statistics pass: seals held (see engine_custody.c) */
	int loose[SB_SEAL_STATE_COUNT]; /* kept up to date: seals held here that are not on a door */
	int gateway_offline;
	int resolved_24h[SB_OUT_COUNT];
};

struct ptrvec {
	void **v;
	size_t n, cap;
};

struct engine {
	struct engine_settings set;
	char prefix[17]; /* short: alert ids must stay within SB_ID_MAX */
	int64_t next_alert_no;
	int64_t alert_limit;   /* numbers from here on are not reserved: they carry start_tag */
	char start_tag[17];
	int counter_dirty;
	struct objmap households, devices; /* by id; they live in the arena */
	struct hashmap units, places, alerts; /* alerts: open ones, by id */
	struct arena arena;
	struct hashmap closed;   /* id (owned) -> (state + 1) of alerts closed while we ran or loaded */
	struct timerq timers;
	int connected;
	int64_t hear_since_mono; /* from when silence may be counted */
	int heard_known;         /* engine_set_heard was called: silence needs evidence */
	int64_t heard_mono;      /* the broker was last heard then */
	int64_t next_stats_mono;
	int stats_running;       /* a statistics pass is under way */
	size_t stats_cursor;     /* where it goes on */
	int64_t wall_offset;
	size_t flush_cursor;     /* where engine_flush_liveness goes on */     /* wall - mono when wall deadlines were last put on the monotonic clock */
	struct ptrvec touched_h, touched_d, dead_alerts, unit_list;
	struct actions *out;     /* the list of the call in progress */
	struct hashmap seal_info; /* device id -> struct seal_info, for seals that have any */
	int seals_in_stock;
	/* Field operations (engine_field.c, engine_permit.c). */
	int64_t hear_since_wall; /* wall time the daemon could hear again */
	int64_t deaf_from_wall;  /* wall time it last stopped hearing (or last heard anything, at start) */
	int rearm_pending;       /* settings changed: deadlines are re-armed at the next tick */
	int64_t prev_street_ms, prev_district_ms, prev_reminder_ms; /* before that change */
	int rearm_roster;        /* silence, unmonitored or a model changed: every household and seal too */
	struct hashmap gateways; /* id -> struct gateway */
	struct ptrvec gateway_list;
	struct ptrvec model_names; /* interned model names; device->model is index + 1 */
	struct hashmap permits;  /* id -> struct fpermit */
	struct hashmap permit_targets; /* "L:target" -> first struct fpermit */
	struct resolved_rec *resolved; /* ring of resolutions of the last 24 h */
	size_t resolved_n, resolved_cap, resolved_head;
};

struct resolved_rec {
	struct unit *unit[SB_LEVEL_COUNT];
	uint8_t outcome;
	int64_t at_ms;
};

int ptrvec_push(struct ptrvec *v, void *p);

/* engine.c */
struct action *engine_emit(struct engine *e, enum action_kind kind);
void engine_touch_household(struct engine *e, struct household *h, unsigned what);
void engine_touch_device(struct engine *e, struct device *d);
void engine_audit(struct engine *e, const char *kind, const struct household *h, const char *device_id,
		  const char *alert_id, struct sb_now now, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
void engine_begin(struct engine *e, struct actions *out);
void engine_end(struct engine *e, struct sb_now now);
int engine_household_active(const struct household *h, struct sb_now now);
int64_t engine_wall_to_mono(struct sb_now now, int64_t wall_ms);

struct unit *engine_unit(struct engine *e, enum sb_level level, const char *id);
const struct placement *engine_place(struct engine *e, struct unit *const u[SB_LEVEL_COUNT]);
struct household *engine_new_household(struct engine *e, const char *id, const char *address);
struct device *engine_new_device(struct engine *e, const char *id);
int engine_set_address(struct household *h, const char *address);

/* engine_alert.c */
struct alert *alert_raise(struct engine *e, struct household *h, enum sb_alert_type type,
			  const char *device_id, int64_t since_ms, struct sb_now now);
/* The one place an alert changes state. by/note may be NULL. */
void alert_set_state(struct engine *e, struct alert *a, enum sb_alert_state to, const char *by,
		     const char *note, struct sb_now now);
void alert_clear(struct engine *e, struct household *h, enum sb_alert_type type, struct sb_now now);
void alert_escalate_due(struct engine *e, struct alert *a, struct sb_now now);
void alert_free_dead(struct engine *e);
void household_unlink_alert(struct household *h, struct alert *a);

/* engine_timer.c */
void timer_arm_silence(struct engine *e, struct device *d, struct sb_now now);
void timer_arm_household(struct engine *e, struct household *h, struct sb_now now);
void timer_fire(struct engine *e, struct sb_timer *t, struct sb_now now);
/* Counts up to `slots` table slots of households; 1 when the pass is done and its statistics were emitted. */
int stats_step(struct engine *e, struct sb_now now, size_t slots);
#define STATS_SLICE 65536

/* engine_input.c */
int engine_permitted(struct household *h, int64_t wall_ms);
void engine_prune_permits(struct household *h, int64_t wall_ms);
void household_release(struct engine *e, struct household *h, const char *by, const char *reason,
		       struct sb_now now);
/* starting: a quarantine begins now (admit of a new or released household, or its start). */
void household_activate(struct engine *e, struct household *h, int starting, struct sb_now now);

/* engine_custody.c: seal custody. custody_set_state() is the one place a
 * seal's custody state changes. */
/* unit: who holds it while not on a door (NULL: nobody, e.g. in stock); door: the
 * household its history row names (NULL: none). */
void custody_set_state(struct engine *e, struct device *d, enum sb_seal_state to, struct unit *unit,
		       const struct household *door, struct sb_now now, const char *why);
void custody_new_seal(struct engine *e, struct device *d, struct sb_now now, const char *why);
/* install/swap: 0 when the seal may be fitted, else -1 with res failed (device_unavailable). */
int custody_check_fit(const struct device *d, struct cmd_result *res);
void custody_fitted(struct engine *e, struct device *d, struct sb_now now);
/* The seal comes off its door (uninstall, swap): collected, held by the door's community. */
void custody_taken_off(struct engine *e, struct device *d, struct household *h, struct sb_now now,
		       const char *why);
void custody_household_changed(struct engine *e, struct household *h, struct sb_now now);
void custody_loaded_device(struct engine *e, struct device *d);
enum report_result custody_report(struct engine *e, struct device *d, const struct report *r, int retained,
				  struct sb_now now, struct actions *out);
void custody_end_device(struct engine *e, struct device *d, struct sb_now now);
void custody_place(struct unit *const u[SB_LEVEL_COUNT]);
void custody_count_household(const struct household *h);
void custody_stats_rollup(struct engine *e);
/* Seals the unit holds (any state but in_stock), as of the last pass. */
int custody_held(const struct unit_node *u);
void custody_stats_fill(const struct engine *e, const struct unit_node *u, struct stats_msg *m);
void custody_command(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res);
void custody_free(struct engine *e);
/* engine_command.c: fits d on h's door (both free) as install does. */
void engine_fit(struct engine *e, struct device *d, struct household *h, int64_t silence_after_ms,
		struct sb_now now);
/* engine_field.c: sources, gateways, models, queued reports, settings changes */
int64_t field_silence_after(const struct engine *e, const struct device *d);
int field_battery_low(const struct engine *e, const struct device *d);
/* A [model.<name>] is configured. */
int field_model_known(const struct engine *e, const char *name);
const char *custody_registered_model(const struct engine *e, const struct device *d);
/* 0, or -1 with res failed: install's source/gateway/model can be applied. */
int field_install_check(struct engine *e, const struct command *c, struct cmd_result *res);
void field_fitted(struct engine *e, struct device *d, const struct command *c, struct sb_now now);
void field_unfitted(struct engine *e, struct device *d, struct sb_now now);
void field_after_fit(struct engine *e, struct device *d, struct sb_now now);
void gateway_attach(struct engine *e, struct device *d, struct gateway *g);
void gateway_detach(struct engine *e, struct device *d);
struct gateway *gateway_get(struct engine *e, const char *id, int create);
void gateway_alert_closed(struct engine *e, struct alert *a);
void field_rearm(struct engine *e, struct sb_now now);
void field_free(struct engine *e);
void field_loaded(struct engine *e, struct sb_now now);
int engine_load_gateway_alert(struct engine *e, const struct alert *src);
void field_refit(struct engine *e, struct device *d, const struct command *c, struct sb_now now);
void field_note_resolved(struct engine *e, const struct alert *a, struct sb_now now);
void field_count_stats(struct engine *e, struct sb_now now);
int64_t field_judge_time(const struct engine *e, const struct device *d, const struct report *r, struct sb_now now);

/* engine_alert.c: the next id from the durable counter, "<prefix>-<infix><n>[_<tag>]". */
void engine_take_id(struct engine *e, const char *infix, char *out, size_t n);

/* engine_permit.c */
void cmd_permit(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res);
void cmd_revoke(struct engine *e, const struct command *c, struct sb_now now, struct cmd_result *res);
/* The id of a permit that covers this household at wall_ms, or NULL. */
const char *permit_covers(struct engine *e, const struct household *h, int64_t wall_ms);
void permit_prune(struct engine *e, struct sb_now now);
void permit_drop_household(struct engine *e, const struct household *h);
void permit_free_all(struct engine *e);

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
