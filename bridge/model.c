/* Wire names of the model's enums and the id syntax shared by every module. */
#include "model.h"

#include <string.h>

static const char *const level_names[SB_LEVEL_COUNT] = {"community", "street", "district"};
static const char *const door_names[] = {"unknown", "closed", "open"};
/* SB_CAT_NONE is "" rather than NULL so that it is always safe to print or
 * bind; the codec writes it as JSON null. */
static const char *const category_names[] = {"", "risk_area_arrival", "confirmed_case",
					     "close_contact", "other"};
static const char *const alert_type_names[SB_ALERT_TYPE_COUNT] = {
	"door_open", "device_silent", "tamper", "battery_low", "unmonitored", "gateway_offline"};
static const char *const alert_state_names[] = {"raised", "escalated", "acked", "resolved",
						"cleared", "reminded"};
static const char *const source_names[SB_SRC_COUNT] = {"", "native", "zigbee2mqtt", "shelly", "tasmota"};
static const char *const outcome_names[SB_OUT_COUNT] = {"other", "false_alarm", "errand", "violation",
							"device_fault"};
static const char *const op_names[SB_OP_COUNT] = {"admit",  "release", "install", "uninstall",
						  "permit", "ack",     "resolve",
						  "register", "allocate", "inspect", "swap", "revoke"};
static const char *const seal_state_names[SB_SEAL_STATE_COUNT] = {
	"in_stock", "allocated", "fitted", "awaiting_collection", "collected", "faulty", "lost"};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Out-of-range values are programming errors; NULL makes them visible as JSON null. */
static const char *name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n)
		return NULL;
	return names[v];
}

static int index_of(const char *const *names, size_t n, const char *s)
{
	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *sb_level_name(enum sb_level l)
{
	return name_of(level_names, COUNT_OF(level_names), (int)l);
}

const char *sb_door_name(enum sb_door d)
{
	return name_of(door_names, COUNT_OF(door_names), (int)d);
}

const char *sb_category_name(enum sb_category c)
{
	return name_of(category_names, COUNT_OF(category_names), (int)c);
}

const char *sb_alert_type_name(enum sb_alert_type t)
{
	return name_of(alert_type_names, COUNT_OF(alert_type_names), (int)t);
}

const char *sb_alert_state_name(enum sb_alert_state s)
{
	return name_of(alert_state_names, COUNT_OF(alert_state_names), (int)s);
}

const char *sb_op_name(enum sb_op op)
{
	return name_of(op_names, COUNT_OF(op_names), (int)op);
}

/* NULL and "" give SB_CAT_NONE so that a stored "no category" reads back;
 * the command decoder refuses an empty category itself. */
int sb_category_parse(const char *s, enum sb_category *out)
{
	if (!s || !*s) {
		*out = SB_CAT_NONE;
		return 0;
	}
	int i = index_of(category_names, COUNT_OF(category_names), s);
	if (i < 0)
		return -1;
	*out = (enum sb_category)i;
	return 0;
}

int sb_alert_type_parse(const char *s, enum sb_alert_type *out)
{
	int i = index_of(alert_type_names, COUNT_OF(alert_type_names), s);
	if (i < 0)
		return -1;
	*out = (enum sb_alert_type)i;
	return 0;
}

int sb_alert_state_parse(const char *s, enum sb_alert_state *out)
{
	int i = index_of(alert_state_names, COUNT_OF(alert_state_names), s);
	if (i < 0)
		return -1;
	*out = (enum sb_alert_state)i;
	return 0;
}

int sb_op_parse(const char *s, enum sb_op *out)
{
	int i = index_of(op_names, COUNT_OF(op_names), s);
	if (i < 0)
		return -1;
	*out = (enum sb_op)i;
	return 0;
}

int sb_level_parse(const char *s, enum sb_level *out)
{
	int i = index_of(level_names, COUNT_OF(level_names), s);
	if (i < 0)
		return -1;
	*out = (enum sb_level)i;
	return 0;
}

const char *sb_source_name(enum sb_source s)
{
	return name_of(source_names, COUNT_OF(source_names), (int)s);
}

int sb_source_parse(const char *s, enum sb_source *out)
{
	int i = s && *s ? index_of(source_names, COUNT_OF(source_names), s) : -1;
	if (i < 0)
		return -1;
	*out = (enum sb_source)i;
	return 0;
}

const char *sb_outcome_name(enum sb_outcome o)
{
	return name_of(outcome_names, COUNT_OF(outcome_names), (int)o);
}

int sb_outcome_parse(const char *s, enum sb_outcome *out)
{
	int i = index_of(outcome_names, COUNT_OF(outcome_names), s);
	if (i < 0)
		return -1;
	*out = (enum sb_outcome)i;
	return 0;
}

int sb_device_online(const struct device *d)
{
	return d && d->household && d->heard && !d->silent;
}

/* Ids end up in topic levels and ACL patterns: '/', '+', '#' and control
 * characters would let one id address another's topics. */
int sb_id_valid(const char *s)
{
	if (!s)
		return 0;
	size_t n = 0;
	for (; s[n]; n++) {
		char ch = s[n];
		if (n >= SB_ID_MAX)
			return 0;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-'))
			return 0;
	}
	return n > 0;
}

struct alert *sb_household_alert(const struct household *h, enum sb_alert_type t)
{
	for (struct alert *a = h->alerts; a; a = a->next_open)
		if (a->type == t)
			return a;
	return NULL;
}

const struct unit *sb_household_unit(const struct household *h, enum sb_level l)
{
	return h && h->place ? h->place->unit[l] : NULL;
}

const char *sb_seal_state_name(enum sb_seal_state s)
{
	return name_of(seal_state_names, COUNT_OF(seal_state_names), (int)s);
}

int sb_seal_state_parse(const char *s, enum sb_seal_state *out)
{
	int i = index_of(seal_state_names, COUNT_OF(seal_state_names), s);
	if (i < 0)
		return -1;
	*out = (enum sb_seal_state)i;
	return 0;
}
