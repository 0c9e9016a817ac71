/* Domain model shared by engine, store and codec.
 * The engine owns every household, device and unit; they live until engine_free().
 * Alerts are owned by the engine while open; closed alerts are freed after the
 * action list that closed them has been applied (actions carry copies). */
#ifndef SB_MODEL_H
#define SB_MODEL_H

#include <stdint.h>
#include <stddef.h>

#define SB_ID_MAX 64
#define SB_ADDRESS_MAX 128
#define SB_TEXT_MAX 512
#define SB_TOPIC_MAX 512
#define SB_REPORT_MAX 1024
#define SB_COMMAND_MAX 8192
#define SB_EVENT_ID_MAX 96

enum sb_level { SB_LEVEL_COMMUNITY, SB_LEVEL_STREET, SB_LEVEL_DISTRICT, SB_LEVEL_COUNT };
enum sb_door { SB_DOOR_UNKNOWN, SB_DOOR_CLOSED, SB_DOOR_OPEN };
enum sb_category { SB_CAT_NONE, SB_CAT_RISK_AREA_ARRIVAL, SB_CAT_CONFIRMED_CASE, SB_CAT_CLOSE_CONTACT, SB_CAT_OTHER };
enum sb_alert_type {
	SB_ALERT_DOOR_OPEN, SB_ALERT_DEVICE_SILENT, SB_ALERT_TAMPER, SB_ALERT_BATTERY_LOW,
	SB_ALERT_UNMONITORED, SB_ALERT_TYPE_COUNT
};
enum sb_alert_state { SB_AST_RAISED, SB_AST_ESCALATED, SB_AST_ACKED, SB_AST_RESOLVED, SB_AST_CLEARED };

/* Both clocks, read once per loop pass by the caller and passed down. */
struct sb_now {
	int64_t mono_ms; /* CLOCK_MONOTONIC: every deadline */
	int64_t wall_ms; /* CLOCK_REALTIME: what is stored or published */
};

/* A deadline owned by the object it is embedded in (see timerq.h). */
struct sb_timer {
	int64_t when;  /* monotonic ms */
	uint32_t idx;  /* heap slot, TIMER_IDLE (UINT32_MAX) when not queued */
	uint8_t kind;  /* engine-private */
};

struct unit {
	char *id;
	enum sb_level level;
};

struct permit {
	int64_t from_ms, until_ms; /* wall clock, inclusive */
	char *reason;              /* may be NULL */
	struct permit *next;
};

/* Where a household sits: its community, street and district. Households
 * share these (a few thousand for a city), so each holds one pointer. */
struct placement {
	struct unit *unit[SB_LEVEL_COUNT];
};

struct device;
struct alert;

/* Households and seals are sized for a million of each: small fields are
 * packed, a household has one timer (its earliest wall-clock deadline) and
 * its open alerts are a list, since most households have none. */
struct household {
	char *address; /* may be NULL */
	const struct placement *place;
	struct device *device;      /* fitted seal or NULL */
	struct alert *alerts;       /* open ones, at most one per type, linked by next_open */
	struct permit *permits;
	int64_t start_ms, end_ms;   /* wall */
	int64_t released_ms;
	int64_t unfitted_since_ms;  /* wall; when it last became active without a seal */
	int64_t changed_ms;         /* wall time of the last published change */
	struct sb_timer timer;      /* engine-private: start, end or unmonitored, whichever is first */
	int32_t persons;            /* -1: not given */
	uint8_t category;           /* enum sb_category */
	uint8_t released;
	uint16_t flags;             /* engine-private bookkeeping */
	char id[];                  /* the key in the engine's table; the address may follow it */
};

struct device {
	struct household *household; /* NULL when not fitted */
	int64_t silence_after_ms;    /* 0: the setting */
	int64_t fitted_ms;           /* wall */
	int64_t seq;                 /* -1: none accepted since fitted */
	int64_t last_seen_ms;        /* wall, 0 never */
	int64_t last_seen_mono;      /* monotonic, meaningful only while heard this run */
	struct sb_timer silence_timer;
	int8_t door;                 /* enum sb_door, since fitted */
	int8_t battery;              /* -1 unknown */
	int8_t tamper;               /* -1 unknown, 0, 1 */
	uint8_t heard;               /* a sign of life since it was fitted */
	uint8_t silent;              /* device_silent condition holds */
	uint8_t flags;               /* engine-private bookkeeping */
	char id[];                   /* the key in the engine's table */
};

struct alert {
	char id[SB_ID_MAX + 1];
	enum sb_alert_type type;
	enum sb_alert_state state;
	enum sb_level level;         /* highest level reached */
	char household_id[SB_ID_MAX + 1];
	char device_id[SB_ID_MAX + 1]; /* "" when none */
	int64_t since_ms, raised_ms;   /* wall */
	int count;
	int msg_seq;                   /* messages published so far; next event id uses msg_seq+1 */
	int64_t due_ms;                /* wall time of the next escalation, 0 none */
	int64_t due_mono;              /* the same on the monotonic clock */
	char by[SB_ID_MAX + 1];
	char note[SB_TEXT_MAX + 1];
	struct sb_timer esc_timer;     /* engine-private; meaningless in copies */
	struct alert *next_open;       /* engine-private: the household's list */
};

/* A device report, decoded. */
struct report {
	int has_door, has_battery, has_tamper, has_seq, has_ts;
	enum sb_door door;
	int battery;
	int tamper;
	int64_t seq;
	int64_t ts;
};

enum sb_op { SB_OP_ADMIT, SB_OP_RELEASE, SB_OP_INSTALL, SB_OP_UNINSTALL, SB_OP_PERMIT, SB_OP_ACK, SB_OP_RESOLVE, SB_OP_COUNT };

/* A platform command, decoded. Absent optional strings are "". */
struct command {
	enum sb_op op;
	char request_id[SB_ID_MAX + 1];
	char reply_to[SB_TOPIC_MAX + 1];
	int reply_to_given; /* reply_to was a string, even "" (then it is judged, not ignored) */
	char household_id[SB_ID_MAX + 1];
	char unit_id[SB_LEVEL_COUNT][SB_ID_MAX + 1];
	char device_id[SB_ID_MAX + 1];
	char alert_id[SB_ID_MAX + 1];
	char by[SB_ID_MAX + 1];
	char address[SB_ADDRESS_MAX + 1];
	char reason[SB_TEXT_MAX + 1];
	char note[SB_TEXT_MAX + 1];
	enum sb_category category;
	int persons; /* -1: not given */
	int has_start, has_end, has_from, has_until, has_silence_after;
	int64_t start_ms, end_ms, from_ms, until_ms; /* wall */
	int64_t silence_after_ms;
};

const char *sb_level_name(enum sb_level l);
const char *sb_door_name(enum sb_door d);
const char *sb_category_name(enum sb_category c);
const char *sb_alert_type_name(enum sb_alert_type t);
const char *sb_alert_state_name(enum sb_alert_state s);
const char *sb_op_name(enum sb_op op);
/* Return 0 and set *out, or -1 when the name is not known. */
int sb_category_parse(const char *s, enum sb_category *out);
int sb_alert_type_parse(const char *s, enum sb_alert_type *out);
int sb_alert_state_parse(const char *s, enum sb_alert_state *out);
int sb_op_parse(const char *s, enum sb_op *out);
int sb_level_parse(const char *s, enum sb_level *out);
/* A fitted seal counts as online once heard since fitting and while not silent. */
int sb_device_online(const struct device *d);
/* The household's open alert of this type, or NULL. */
struct alert *sb_household_alert(const struct household *h, enum sb_alert_type t);
/* The household's unit at this level, or NULL. */
const struct unit *sb_household_unit(const struct household *h, enum sb_level l);
/* ^[A-Za-z0-9_-]{1,64}$ */
int sb_id_valid(const char *s);

#endif
