/* MQTT v5 over Paho MQTTAsync (paho-mqtt3as). Copies every incoming topic and
 * payload into our own struct and frees Paho's at once.
 * Threading: callbacks run on Paho's threads. transport_connect/subscribe/
 * disconnect/free must be called from the main thread only, never from a
 * callback. transport_publish may be called from any thread. */
#ifndef SB_TRANSPORT_H
#define SB_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct transport_msg {
	char *topic;
	char *payload; /* NUL-terminated copy; len excludes the NUL */
	size_t len;
	int qos, retained;
	char *response_topic; /* MQTT v5 property or NULL */
	size_t response_topic_len; /* may exceed strlen: a NUL inside */
	void *corr;           /* correlation data or NULL */
	size_t corr_len;
};

struct transport_callbacks {
	/* Returns only when the message is durable: the PUBACK follows the return. */
	void (*on_message)(void *arg, const struct transport_msg *m);
	void (*on_connected)(void *arg);            /* a (re)connect completed */
	void (*on_lost)(void *arg, const char *cause);
	void (*on_subscribed)(void *arg, int ok);
	/* ok: PUBACK with a success reason code (QoS 0: written to the socket). */
	void (*on_published)(void *arg, uint64_t token, int ok, int reason_code, const char *why);
	void *arg;
};

struct transport_settings {
	const char *uri, *client_id;
	const char *username, *password; /* NULL or "" for none */
	const char *cafile, *certfile, *keyfile;
	int keepalive_s;
	int session_expiry_s;            /* persistent session: queued reports survive our downtime */
	const char *will_topic, *will_payload;
	int max_inflight;
};

struct transport;

int transport_new(const struct transport_settings *s, const struct transport_callbacks *cb,
		  struct transport **out);
void transport_free(struct transport *t); /* NULL is a no-op */
/* Starts a connect attempt; on_connected or on_lost reports the outcome. */
int transport_connect(struct transport *t);
int transport_subscribe(struct transport *t, const char *const *filters, size_t n, int qos);
/* -EBADMSG: the message itself can never be sent (empty or wildcard topic,
 * bad UTF-8); -EMSGSIZE: it is larger than the broker's Maximum Packet Size;
 * other errors: the transport is not taking messages now. */
int transport_publish(struct transport *t, const char *topic, const void *payload, size_t len, int qos,
		      int retained, const void *corr, size_t corr_len, uint64_t token);
/* Disconnects cleanly, waiting at most timeout_ms. A clean DISCONNECT suppresses
 * the will, so the caller publishes its own offline status first. */
int transport_disconnect(struct transport *t, int timeout_ms);
int transport_is_connected(struct transport *t);
/* When the broker last sent us anything (CLOCK_MONOTONIC ms): a message, an
 * ack, a probe's answer. */
int64_t transport_heard_mono(struct transport *t);
/* Asks the broker for an answer (an UNSUBACK of a filter never subscribed)
 * so that an idle link shows it is alive. At most one is out at a time. */
int transport_probe(struct transport *t);
/* The broker's Receive Maximum (QoS 1 publishes it accepts in flight) from the last connect. */
int transport_receive_maximum(struct transport *t);

#endif
