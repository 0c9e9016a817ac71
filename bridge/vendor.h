/* Door sensors that speak their own MQTT dialect, translated into our report:
 * Zigbee2MQTT, Shelly Door/Window gen 1 and Tasmota (switch inputs and Zigbee
 * devices behind a Tasmota bridge). No cJSON type crosses this boundary.
 *
 * A vendor message carries no seq: the caller passes its retained flag to
 * engine_report() as for a native report, so a retained replay counts for
 * nothing, and a live message is a sign of life. */
#ifndef SB_VENDOR_H
#define SB_VENDOR_H

#include <stddef.h>

#include "codec.h"
#include "config.h"
#include "model.h"

#define VENDOR_BASE_MAX 128
#define VENDOR_PAYLOAD_MAX 4096
#define VENDOR_FILTERS_MAX 8
/* Most devices one message can carry (a Tasmota ZbReceived); see vendor_decode_all. */
#define VENDOR_REPORTS_MAX 16

struct vendor_settings {
	int z2m;
	char z2m_base[VENDOR_BASE_MAX + 1]; /* "zigbee2mqtt" */
	int shelly;
	int tasmota;
	int tasmota_switch_on_closed; /* 1: "Switch1":"ON" means the door is closed */
	char z2m_gateway[SB_ID_MAX + 1]; /* the gateway id of the Zigbee2MQTT instance ("z2m") */
	char gw_prefix[VENDOR_BASE_MAX + 8]; /* "<topic_root>/gw": R/gw/<id>/status */
};

/* One device's part of a vendor message. */
struct vendor_report {
	char device_id[SB_ID_MAX + 1];
	struct report r;
	enum sb_source source;
	char gateway_id[SB_ID_MAX + 1]; /* the gateway the report came through, "" none */
	int gateway_status;             /* 0: a device report; 1 / -1: gateway_id is online / offline */
};

/* From the [zigbee2mqtt], [shelly] and [tasmota] settings. */
void vendor_settings_from_config(const struct config *c, struct vendor_settings *v);

/* Subscription filters for the enabled sources, at most max; returns how many. */
size_t vendor_filters(const struct vendor_settings *v, char out[][SB_TOPIC_MAX + 1], size_t max);

/* Decodes one message into one device's report.
 * 0: not a topic of an enabled source, or one that carries nothing for us
 *    (Z2M bridge/, /set, /get, /availability; Shelly online; Tasmota LWT Offline).
 * 1: device_id and r filled (r may be empty: a heartbeat).
 * -1: err says why (malformed payload, a name that is not a valid device id).
 * A ZbReceived naming several devices yields the first here: a caller that must
 * see them all uses vendor_decode_all. */
int vendor_decode(const struct vendor_settings *v, const char *topic, const char *payload, size_t len,
		  char device_id[SB_ID_MAX + 1], struct report *r, char err[CODEC_ERR_MAX]);

/* As vendor_decode, for every device in the message: fills out[0..max-1] and
 * returns how many devices the message carries (may exceed max: the rest are
 * not decoded), 0, or -1 with err. A message is accepted or refused whole. */
int vendor_decode_all(const struct vendor_settings *v, const char *topic, const char *payload, size_t len,
		      struct vendor_report *out, size_t max, char err[CODEC_ERR_MAX]);

#endif
