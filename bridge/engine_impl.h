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

struct unit_node {
	struct unit u; /* first: a struct unit * is a struct unit_node * */
	int households, fitted, online, silent, doors_open, open_alerts;
	int published; /* stats were published with households > 0 */
};

struct ptrvec {
	void **v;
	size_t n, cap;
};

struct engine {
	struct engine_settings set;
	char prefix[17]; /* short: alert ids must stay within SB_ID_MAX */
	int64_t next_alert_no;
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

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
