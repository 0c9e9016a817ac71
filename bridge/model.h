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
	SB_ALERT_UNMONITORED, SB_ALERT_GATEWAY_OFFLINE, SB_ALERT_TYPE_COUNT
};
/* reminded: acked, still open, published again (escalation.reminder_after). */
enum sb_alert_state { SB_AST_RAISED, SB_AST_ESCALATED, SB_AST_ACKED, SB_AST_RESOLVED, SB_AST_CLEARED, SB_AST_REMINDED };
/* Where a seal's reports come from (INTERFACE "A seal speaks through one source"). NONE: not yet known. */
enum sb_source { SB_SRC_NONE, SB_SRC_NATIVE, SB_SRC_ZIGBEE2MQTT, SB_SRC_SHELLY, SB_SRC_TASMOTA, SB_SRC_COUNT };
/* How a person closed an alert (resolve ... outcome). */
enum sb_outcome { SB_OUT_OTHER, SB_OUT_FALSE_ALARM, SB_OUT_ERRAND, SB_OUT_VIOLATION, SB_OUT_DEVICE_FAULT, SB_OUT_COUNT };

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

/* A gateway (Zigbee coordinator, Tasmota bridge, NB-IoT connector) that seals
 * reach the broker through. Lives as long as the engine. */
struct gateway {
	struct alert *alert;        /* its open gateway_offline alert, or NULL */
	struct device **devs;       /* seals fitted behind it */
	size_t ndevs, capdevs;
	int64_t back_mono;          /* when it came back online (monotonic); silence counts from here */
	int64_t changed_ms;         /* wall time of its last status change */
	uint8_t offline;            /* a status said offline; never heard counts as online */
	char id[];
};

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
	uint8_t custody;             /* enum sb_seal_state; changed only by custody_set_state() */
	int8_t custody_battery;      /* battery in the last published seal state (engine_custody.c) */
	uint16_t fittings;           /* doors served, saturating at 65535 */
	uint8_t source;              /* enum sb_source it speaks through; NONE until heard (or set by install) */
	uint8_t gateway_learned;     /* the gateway came from a vendor source, not from install */
	const char *model;           /* model name (interned by the engine), NULL: none */
	int64_t fit_seq;             /* seq when fitted (-1 none): retained reports at or below it are older */
	int64_t judged_ms;           /* wall time the last report was judged at (queued reports) */
	struct gateway *gateway;     /* NULL: reaches the broker directly */
	char id[];                   /* the key in the engine's table */
};

/* Where a seal is (INTERFACE.md "Seal custody"). Stored by wire name. */
enum sb_seal_state {
	SB_SEAL_IN_STOCK, SB_SEAL_ALLOCATED, SB_SEAL_FITTED, SB_SEAL_AWAITING_COLLECTION,
	SB_SEAL_COLLECTED, SB_SEAL_FAULTY, SB_SEAL_LOST, SB_SEAL_STATE_COUNT
};
enum sb_inspect_result { SB_INSPECT_NONE, SB_INSPECT_OK, SB_INSPECT_FAULTY, SB_INSPECT_LOST };

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
	/* The units each level's messages went to: closing messages go to the same
	 * ones even if the household has moved since. "" = not reached yet. */
	char unit_id[SB_LEVEL_COUNT][SB_ID_MAX + 1];
	char gateway_id[SB_ID_MAX + 1]; /* gateway_offline only */
	int households;                 /* gateway_offline: active households behind the gateway */
	uint8_t outcome;                /* enum sb_outcome, when resolved */
	int64_t closed_ms;              /* wall time it was resolved or cleared, 0 open */
	struct sb_timer esc_timer;     /* engine-private: escalation, or the next reminder; meaningless in copies */
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

enum sb_op { SB_OP_ADMIT, SB_OP_RELEASE, SB_OP_INSTALL, SB_OP_UNINSTALL, SB_OP_PERMIT, SB_OP_ACK, SB_OP_RESOLVE,
	SB_OP_REGISTER, SB_OP_ALLOCATE, SB_OP_INSPECT, SB_OP_SWAP, SB_OP_REVOKE, SB_OP_COUNT };

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
	/* Seal custody: register (model, batch, note), inspect (result, note). */
	char model[SB_ID_MAX + 1];       /* register, install */
	char batch[SB_ID_MAX + 1];
	enum sb_inspect_result result;
	/* Field operations (INTERFACE.md). */
	enum sb_source source;          /* install: NONE when not given */
	char gateway_id[SB_ID_MAX + 1]; /* install */
	char permit_id[SB_ID_MAX + 1];  /* revoke */
	int area;                       /* permit: 0 a household, else 1 + the enum sb_level of unit_id[] */
	int has_daily;                  /* permit: daily_from/daily_until in minutes of the local day */
	int daily_from, daily_until;
	int has_outcome;
	enum sb_outcome outcome;        /* resolve */
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
const char *sb_seal_state_name(enum sb_seal_state s);
int sb_seal_state_parse(const char *s, enum sb_seal_state *out);
const char *sb_source_name(enum sb_source s);
int sb_source_parse(const char *s, enum sb_source *out);
const char *sb_outcome_name(enum sb_outcome o);
int sb_outcome_parse(const char *s, enum sb_outcome *out);
/* A fitted seal counts as online once heard since fitting and while not silent. */
int sb_device_online(const struct device *d);
/* The household's open alert of this type, or NULL. */
struct alert *sb_household_alert(const struct household *h, enum sb_alert_type t);
/* The household's unit at this level, or NULL. */
const struct unit *sb_household_unit(const struct household *h, enum sb_level l);
/* ^[A-Za-z0-9_-]{1,64}$ */
int sb_id_valid(const char *s);

#endif
