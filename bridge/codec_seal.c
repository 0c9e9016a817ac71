/* Seal custody payloads: the retained seal state and the statistics' seals. */
#include "codec_seal.h"

#include <stdlib.h>

#include "codec.h"

static void put(cJSON *o, const char *name, cJSON *item, int *ok)
{
	if (!item || !cJSON_AddItemToObject(o, name, item)) {
		cJSON_Delete(item);
		*ok = 0;
	}
}

/* "" is absent in our fixed buffers: JSON null. */
static void put_str(cJSON *o, const char *name, const char *v, int *ok)
{
	put(o, name, v && *v ? cJSON_CreateString(v) : cJSON_CreateNull(), ok);
}

static void put_time(cJSON *o, const char *name, int64_t ms, int *ok)
{
	char t[32];
	if (ms <= 0) {
		put(o, name, cJSON_CreateNull(), ok);
		return;
	}
	codec_format_time(ms, t);
	put(o, name, cJSON_CreateString(t), ok);
}

void codec_add_seals(cJSON *o, const int seals[SB_SEAL_STATE_COUNT], int *ok)
{
	cJSON *s = cJSON_CreateObject();
	for (int i = 0; s && i < SB_SEAL_STATE_COUNT; i++)
		if (seals[i] >= 0)
			put(s, sb_seal_state_name((enum sb_seal_state)i), cJSON_CreateNumber(seals[i]), ok);
	put(o, "seals", s, ok);
}

char *codec_encode_seal(const struct seal_rec *r)
{
	int ok = 1;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	put_str(o, "device_id", r->device_id, &ok);
	put_str(o, "state", sb_seal_state_name(r->state), &ok);
	put_str(o, "model", r->model, &ok);
	put_str(o, "batch", r->batch, &ok);
	put_str(o, "street_id", r->street_id, &ok);
	put_str(o, "community_id", r->community_id, &ok);
	put_str(o, "household_id", r->household_id, &ok);
	/* Beyond the interface: what a collection round needs (sealctl collect-list). */
	put_str(o, "address", r->address, &ok);
	put_time(o, "released", r->released_ms, &ok);
	put(o, "battery", r->battery >= 0 ? cJSON_CreateNumber(r->battery) : cJSON_CreateNull(), &ok);
	put_time(o, "last_seen", r->last_seen_ms, &ok);
	put(o, "fittings", cJSON_CreateNumber(r->fittings), &ok);
	put_time(o, "at", r->at_ms, &ok);
	char *s = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}
