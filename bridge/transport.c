/* MQTT v5 transport over Paho MQTTAsync. Paho's callbacks run on its own
 * threads; every piece of state they share with the caller's thread sits under
 * t->mu. We never call back into Paho (connect, subscribe, disconnect,
 * destroy) from one of its callbacks: Paho issues 698, 1311, 578, 1623. */
#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <MQTTAsync.h>

#include "log.h"

/* Paho fails a send with -12 once this many are queued; the daemon's own
 * outbox is the buffer of record, this only has to cover one burst. */
#define TRANSPORT_MAX_BUFFERED 65535
#define TRANSPORT_CONNECT_TIMEOUT_S 10
/* Unsubscribed to probe the link: never subscribed, so it only costs the
 * broker an UNSUBACK, and no consumer sees anything. */
#define TRANSPORT_PROBE_FILTER "$sealbridge/probe"
/* Connections that end this soon after they opened, this many times in a row,
 * start a fresh Paho client: Paho 1.3.11 can keep a damaged copy of an
 * in-flight publish (a use after free in MQTTAsync_send on link loss) and send
 * it again on every reconnect, which the broker answers by closing the
 * connection ("malformed packet"), for good. The daemon's own queue resends
 * whatever was not acknowledged, so Paho's copies are not needed. */
#define TRANSPORT_FLAP_MS 5000
#define TRANSPORT_FLAPS_RESET 3

/* One per publish handed to Paho: the context of its onSuccess5/onFailure5.
 * Nodes stay linked until Paho answers (or transport_free), even once we have
 * reported them failed, because Paho may still call back with the pointer. */
struct pending_pub {
	struct transport *t;
	uint64_t token;
	int reported; /* on_published already called */
	struct pending_pub *prev, *next;
};

struct transport {
	MQTTAsync client;
	struct transport_callbacks cb;
	char *uri, *client_id, *username, *password;
	char *cafile, *certfile, *keyfile;
	char *will_topic, *will_payload;
	int keepalive_s, session_expiry_s, max_inflight, use_ssl;

	pthread_mutex_t mu;
	pthread_cond_t cond; /* signalled when a disconnect completes */
	struct pending_pub *pending;
	unsigned connect_gen;     /* bumped per transport_connect */
	unsigned connect_reported; /* gen whose outcome was reported */
	unsigned disc_gen, disc_done;
	int disc_rc;
	int server_reason; /* reason code of a broker DISCONNECT, 0 if none */
	unsigned up_gen;   /* gen whose connect was reported as connected */
	unsigned lost_gen; /* gen whose loss was reported */
	atomic_llong heard_mono; /* last time anything came from the broker (CLOCK_MONOTONIC ms) */
	atomic_int probe_out;    /* a probe waits for its answer */
	int receive_max;   /* the broker's Receive Maximum from the last CONNACK */
	atomic_llong max_packet; /* the broker's Maximum Packet Size, 0 for none */
	int64_t up_mono; /* when the current connection was reported up */
	int flaps;       /* connections in a row that ended within TRANSPORT_FLAP_MS */
};

static char *dup_opt(const char *s)
{
	return (s && *s) ? strdup(s) : NULL;
}

static int dup_field(const char *s, char **out)
{
	*out = dup_opt(s);
	return (s && *s && !*out) ? -ENOMEM : 0;
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Evidence that the broker is there: every packet it sends us. Paho hides
 * PINGRESP, so an idle link is probed (transport_probe). */
static void heard(struct transport *t)
{
	atomic_store(&t->heard_mono, (long long)mono_ms());
}

/* ---- incoming messages ---- */

static int copy_prop(MQTTProperties *props, enum MQTTPropertyCodes code, char **out, size_t *len)
{
	MQTTProperty *p = MQTTProperties_getProperty(props, code);

	*out = NULL;
	if (len)
		*len = 0;
	if (!p || p->value.data.len < 0 || (p->value.data.len > 0 && !p->value.data.data))
		return 0;
	*out = malloc((size_t)p->value.data.len + 1);
	if (!*out)
		return -ENOMEM;
	if (p->value.data.len > 0)
		memcpy(*out, p->value.data.data, (size_t)p->value.data.len);
	(*out)[p->value.data.len] = '\0';
	if (len)
		*len = (size_t)p->value.data.len;
	return 0;
}

static void msg_clear(struct transport_msg *m)
{
	free(m->topic);
	free(m->payload);
	free(m->response_topic);
	free(m->corr);
}

static int on_paho_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *pm)
{
	struct transport *t = ctx;
	struct transport_msg m = {0};
	size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
	char *corr = NULL;

	heard(t);
	/* MQTT forbids U+0000 in a topic; one with an embedded NUL cannot be
	 * handed on as a C string, so it is dropped rather than truncated. */
	if (topic_len > 0 && memchr(topic, '\0', tlen)) {
		log_warn("transport: dropped a message whose topic holds a NUL byte");
		goto done;
	}
	if (pm->payloadlen < 0) {
		log_warn("transport: dropped a message with a negative payload length");
		goto done;
	}
	m.topic = malloc(tlen + 1);
	m.payload = malloc((size_t)pm->payloadlen + 1);
	if (!m.topic || !m.payload)
		goto nomem;
	memcpy(m.topic, topic, tlen);
	m.topic[tlen] = '\0';
	if (pm->payloadlen > 0)
		memcpy(m.payload, pm->payload, (size_t)pm->payloadlen);
	m.payload[pm->payloadlen] = '\0';
	m.len = (size_t)pm->payloadlen;
	m.qos = pm->qos;
	m.retained = pm->retained;
	if (copy_prop(&pm->properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC, &m.response_topic, &m.response_topic_len) < 0 ||
	    copy_prop(&pm->properties, MQTTPROPERTY_CODE_CORRELATION_DATA, &corr, &m.corr_len) < 0)
		goto nomem;
	m.corr = corr;

	if (t->cb.on_message)
		t->cb.on_message(t->cb.arg, &m);
	msg_clear(&m);
done:
	MQTTAsync_freeMessage(&pm);
	MQTTAsync_free(topic);
	return 1;
nomem:
	/* Returning 0 keeps Paho's copy and makes it offer the message again,
	 * so nothing is acknowledged that we could not hand on. */
	log_error("transport: out of memory copying a message on %.*s", (int)tlen, topic);
	free(corr);
	msg_clear(&m);
	return 0;
}

/* ---- connection state ---- */

/* Marks every publish still waiting for a PUBACK as failed, so the caller gets
 * exactly one on_published per accepted publish and can requeue it. Paho may
 * still retransmit it in the resumed session; the duplicate carries the same
 * event id. */
static void fail_pending(struct transport *t, const char *why)
{
	for (;;) {
		uint64_t token = 0;
		int found = 0;

		pthread_mutex_lock(&t->mu);
		for (struct pending_pub *p = t->pending; p; p = p->next) {
			if (!p->reported) {
				p->reported = 1;
				token = p->token;
				found = 1;
				break;
			}
		}
		pthread_mutex_unlock(&t->mu);
		if (!found)
			return;
		if (t->cb.on_published)
			t->cb.on_published(t->cb.arg, token, 0, MQTTASYNC_DISCONNECTED, why);
	}
}

/* Both onSuccess5 and the connected callback may fire for one connect; the
 * caller hears of each attempt once. */
static int claim_connect_report(struct transport *t)
{
	int mine;

	pthread_mutex_lock(&t->mu);
	mine = t->connect_reported != t->connect_gen;
	t->connect_reported = t->connect_gen;
	t->server_reason = 0;
	pthread_mutex_unlock(&t->mu);
	return mine;
}

/* Paho sets no TCP_NODELAY and does not expose its socket. An alert sent on an
 * otherwise idle link then waits ~40 ms for the broker's delayed ACK (Nagle),
 * so after each connect we set it on every TCP socket of the process: the
 * daemon has no other TCP sockets than Paho's. */
static void set_nodelay_everywhere(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd < 0 || fd > INT_MAX || fd == dirfd(d))
			continue;
		int type = 0, one = 1;
		socklen_t len = sizeof(type);
		if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
			continue;
		struct sockaddr_storage sa;
		len = sizeof(sa);
		if (getsockname((int)fd, (struct sockaddr *)&sa, &len) < 0 ||
		    (sa.ss_family != AF_INET && sa.ss_family != AF_INET6))
			continue;
		if (setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
			log_debug("transport: TCP_NODELAY on fd %ld: %s", fd, strerror(errno));
	}
	closedir(d);
}

static void report_connected(struct transport *t)
{
	set_nodelay_everywhere();
	heard(t);
	if (!claim_connect_report(t))
		return;
	pthread_mutex_lock(&t->mu);
	t->up_gen = t->connect_gen;
	t->up_mono = mono_ms();
	pthread_mutex_unlock(&t->mu);
	if (t->cb.on_connected)
		t->cb.on_connected(t->cb.arg);
}

/* A connection ends once for the caller, however Paho tells of it (a broker
 * DISCONNECT, connectionLost, or both), and a late word about an older
 * connection is not taken for the current one. */
static int claim_lost_report(struct transport *t, int *server_rc)
{
	int mine;

	pthread_mutex_lock(&t->mu);
	mine = t->up_gen == t->connect_gen && t->lost_gen != t->connect_gen;
	if (mine)
		t->lost_gen = t->connect_gen;
	*server_rc = t->server_reason;
	t->server_reason = 0;
	pthread_mutex_unlock(&t->mu);
	return mine;
}

static void report_lost(struct transport *t, const char *cause)
{
	char why[160];
	int rc;

	if (!claim_lost_report(t, &rc))
		return;
	pthread_mutex_lock(&t->mu);
	t->flaps = mono_ms() - t->up_mono < TRANSPORT_FLAP_MS ? t->flaps + 1 : 0;
	pthread_mutex_unlock(&t->mu);
	atomic_store(&t->probe_out, 0);
	/* Paho's cause is always NULL today; a broker DISCONNECT says more. */
	if (rc) {
		unsigned code = rc < 0 ? 0u : (unsigned)rc;
		snprintf(why, sizeof why, "connection lost: broker sent DISCONNECT 0x%02x %s", code,
			 MQTTReasonCode_toString((enum MQTTReasonCodes)code));
	}
	else
		snprintf(why, sizeof why, "connection lost%s%s", cause ? ": " : "", cause ? cause : "");
	log_warn("transport: %s", why);
	fail_pending(t, why);
	if (t->cb.on_lost)
		t->cb.on_lost(t->cb.arg, why);
}

static void on_connect_ok(void *ctx, MQTTAsync_successData5 *r)
{
	struct transport *t = ctx;

	heard(t);
	/* Sending more QoS 1 messages than the broker's Receive Maximum leaves the
	 * rest waiting inside Paho; with Mosquitto's default (20) they were seen to
	 * stall there for good. The caller keeps its window within this. */
	int rm = r ? MQTTProperties_getNumericValue(&r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM) : -1;
	/* A publish over the broker's Maximum Packet Size makes it disconnect us
	 * (0x95), and Paho would send it again on the resumed session: such a
	 * message is refused before it is sent. */
	int mp = r ? MQTTProperties_getNumericValue(&r->properties, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE) : -1;
	atomic_store(&t->max_packet, mp > 0 ? (long long)(unsigned)mp : 0);
	pthread_mutex_lock(&t->mu);
	t->receive_max = rm > 0 && rm <= 65535 ? rm : 65535;
	pthread_mutex_unlock(&t->mu);
	log_info("transport: connected to %s (session %s, receive maximum %d)", t->uri,
		 r && r->alt.connect.sessionPresent ? "resumed" : "new", rm > 0 ? rm : 65535);
	report_connected(t);
}

static void on_connected_cb(void *ctx, char *cause)
{
	(void)cause;
	report_connected(ctx);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	struct transport *t = ctx;
	char why[256];

	/* Paho reports a refused v5 CONNACK through code, not reasonCode. */
	int refused = !r ? 0 : r->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR ? (int)r->reasonCode
			 : r->code >= 0x80 && r->code <= 0xA2                   ? r->code
										: 0;
	if (refused)
		snprintf(why, sizeof why, "connect to %s refused by the broker: 0x%02x %s", t->uri, (unsigned)refused,
			 MQTTReasonCode_toString((enum MQTTReasonCodes)refused));
	else
		snprintf(why, sizeof why, "connect to %s failed: code %d%s%s", t->uri, r ? r->code : 0,
			 r && r->message ? ": " : "", r && r->message ? r->message : "");
	if (!claim_connect_report(t))
		return;
	log_warn("transport: %s", why);
	if (t->cb.on_lost)
		t->cb.on_lost(t->cb.arg, why);
}

/* Paho 1.3 clears its connected flag on a broker DISCONNECT before it would
 * call connectionLost, so connectionLost never comes: this is the end of the
 * connection. */
static void on_server_disconnect(void *ctx, MQTTProperties *props, enum MQTTReasonCodes rc)
{
	struct transport *t = ctx;

	(void)props;
	pthread_mutex_lock(&t->mu);
	t->server_reason = rc ? (int)rc : -1;
	pthread_mutex_unlock(&t->mu);
	report_lost(t, "broker sent DISCONNECT");
}

static void on_connection_lost(void *ctx, char *cause)
{
	report_lost(ctx, cause);
}

/* ---- lifecycle ---- */

void transport_free(struct transport *t)
{
	if (!t)
		return;
	if (t->client) {
		if (MQTTAsync_isConnected(t->client))
			transport_disconnect(t, 1000);
		MQTTAsync_destroy(&t->client);
	}
	while (t->pending) {
		struct pending_pub *p = t->pending;
		t->pending = p->next;
		free(p);
	}
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->mu);
	free(t->uri);
	free(t->client_id);
	free(t->username);
	free(t->password);
	free(t->cafile);
	free(t->certfile);
	free(t->keyfile);
	free(t->will_topic);
	free(t->will_payload);
	free(t);
}

static int init_sync(struct transport *t)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_mutex_init(&t->mu, NULL) != 0)
		return -ENOMEM;
	if (pthread_condattr_init(&ca) != 0) {
		pthread_mutex_destroy(&t->mu);
		return -ENOMEM;
	}
	/* Disconnect waits are deadlines: monotonic, immune to wall-clock steps. */
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0) {
		pthread_mutex_destroy(&t->mu);
		return -rc;
	}
	return 0;
}

/* Paho's client for t's URI and client id, with our callbacks. */
static int make_client(struct transport *t)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
	int rc;
	/* The daemon keeps its own outbox, so Paho must neither queue while
	 * offline nor silently drop the oldest when full. */
	co.sendWhileDisconnected = 0;
	co.maxBufferedMessages = TRANSPORT_MAX_BUFFERED;
	co.deleteOldestMessages = 0;
	co.restoreMessages = 0;
	co.persistQoS0 = 0;
	rc = MQTTAsync_createWithOptions(&t->client, t->uri, t->client_id, MQTTCLIENT_PERSISTENCE_NONE,
					 NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		log_error("transport: cannot create an MQTT client for %s: code %d", t->uri, rc);
		t->client = NULL;
		return rc < 0 ? rc : -EINVAL;
	}
	rc = MQTTAsync_setCallbacks(t->client, t, on_connection_lost, on_paho_message, NULL);
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_setConnected(t->client, t, on_connected_cb);
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_setDisconnected(t->client, t, on_server_disconnect);
	if (rc != MQTTASYNC_SUCCESS) {
		log_error("transport: cannot set MQTT callbacks: code %d", rc);
		return rc < 0 ? rc : -EINVAL;
	}
	return 0;
}

/* A fresh Paho client in place of one that keeps failing right after it
 * connects (see TRANSPORT_FLAP_MS). Main thread, not connected. */
static void reset_client(struct transport *t)
{
	log_warn("transport: %d connections in a row ended within %d s of opening; starting a fresh MQTT client "
		 "(what Paho still held is sent again from the daemon's own queue)",
		 t->flaps, TRANSPORT_FLAP_MS / 1000);
	fail_pending(t, "MQTT client reset");
	MQTTAsync_destroy(&t->client);
	/* Paho will not answer for the old client: its publish contexts go now. */
	pthread_mutex_lock(&t->mu);
	while (t->pending) {
		struct pending_pub *p = t->pending;
		t->pending = p->next;
		free(p);
	}
	t->flaps = 0;
	pthread_mutex_unlock(&t->mu);
	if (make_client(t) < 0)
		t->client = NULL;
}

int transport_new(const struct transport_settings *s, const struct transport_callbacks *cb,
		  struct transport **out)
{
	struct transport *t;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!s || !cb || !s->uri || !*s->uri || !s->client_id || !*s->client_id)
		return -EINVAL;
	if (s->keepalive_s < 0 || s->keepalive_s > 65535 || s->session_expiry_s < 0 ||
	    s->max_inflight < 0 || s->max_inflight > 65535)
		return -EINVAL;
	if (s->will_topic && *s->will_topic && !s->will_payload)
		return -EINVAL;

	t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	rc = init_sync(t);
	if (rc < 0) {
		free(t);
		return rc;
	}
	t->cb = *cb;
	t->keepalive_s = s->keepalive_s;
	t->session_expiry_s = s->session_expiry_s;
	t->max_inflight = s->max_inflight > 0 ? s->max_inflight : 10;
	/* wss:// is TLS too: without SSL options Paho cannot open it at all. */
	t->use_ssl = starts_with(s->uri, "ssl://") || starts_with(s->uri, "mqtts://") || starts_with(s->uri, "wss://");
	if ((rc = dup_field(s->uri, &t->uri)) < 0 || (rc = dup_field(s->client_id, &t->client_id)) < 0 ||
	    (rc = dup_field(s->username, &t->username)) < 0 ||
	    (rc = dup_field(s->password, &t->password)) < 0 ||
	    (rc = dup_field(s->cafile, &t->cafile)) < 0 ||
	    (rc = dup_field(s->certfile, &t->certfile)) < 0 ||
	    (rc = dup_field(s->keyfile, &t->keyfile)) < 0 ||
	    (rc = dup_field(s->will_topic, &t->will_topic)) < 0)
		goto fail;
	/* An empty will payload is legal (it would clear a retained status). */
	if (t->will_topic && !(t->will_payload = strdup(s->will_payload))) {
		rc = -ENOMEM;
		goto fail;
	}

	if ((rc = make_client(t)) < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	transport_free(t);
	return rc;
}

int transport_connect(struct transport *t)
{
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	MQTTProperty expiry = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};
	int rc;

	if (!t)
		return -EINVAL;
	if (t->client && t->flaps >= TRANSPORT_FLAPS_RESET && !MQTTAsync_isConnected(t->client))
		reset_client(t);
	if (!t->client && make_client(t) < 0)
		return -ENOMEM;
	if (MQTTAsync_isConnected(t->client))
		return -EISCONN;

	/* cleanstart 0 plus an expiry: the broker keeps our subscriptions and
	 * queues QoS 1 reports while the daemon is away. */
	o.cleanstart = 0;
	if (t->session_expiry_s > 0) {
		expiry.value.integer4 = (unsigned)t->session_expiry_s;
		if (MQTTProperties_add(&props, &expiry) != 0)
			return -ENOMEM;
		o.connectProperties = &props;
	}
	o.keepAliveInterval = t->keepalive_s;
	o.maxInflight = t->max_inflight;
	o.connectTimeout = TRANSPORT_CONNECT_TIMEOUT_S;
	/* The main thread reconnects by calling us again; Paho's own loop would
	 * hide outages from our silence accounting. */
	o.automaticReconnect = 0;
	o.username = t->username;
	o.password = t->password;
	if (t->will_topic) {
		will.topicName = t->will_topic;
		will.payload.data = t->will_payload;
		will.payload.len = (int)strlen(t->will_payload);
		will.retained = 1;
		will.qos = 1;
		o.will = &will;
	}
	if (t->use_ssl) {
		ssl.trustStore = t->cafile;
		ssl.keyStore = t->certfile;
		ssl.privateKey = t->keyfile;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1; /* Paho defaults the host-name check off */
		ssl.sslVersion = MQTT_SSL_VERSION_DEFAULT;
		o.ssl = &ssl;
	}
	o.onSuccess5 = on_connect_ok;
	o.onFailure5 = on_connect_fail;
	o.context = t;

	pthread_mutex_lock(&t->mu);
	t->connect_gen++;
	t->server_reason = 0;
	pthread_mutex_unlock(&t->mu);
	/* Paho copies the options, properties and will before returning. */
	rc = MQTTAsync_connect(t->client, &o);
	MQTTProperties_free(&props);
	if (rc != MQTTASYNC_SUCCESS) {
		log_warn("transport: connect to %s not started: code %d", t->uri, rc);
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

/* ---- subscribe ---- */

static int reason_ok(int rc)
{
	return rc >= 0 && rc < MQTTREASONCODE_UNSPECIFIED_ERROR;
}

static void sub_report(struct transport *t, int ok)
{
	heard(t);
	if (!ok)
		log_warn("transport: the broker refused a subscription");
	if (t->cb.on_subscribed)
		t->cb.on_subscribed(t->cb.arg, ok);
}

/* Paho fills alt.sub only when several filters were sent; for a single one
 * the granted code is reasonCode and alt holds something else. */
static void on_sub_ok_one(void *ctx, MQTTAsync_successData5 *r)
{
	sub_report(ctx, r && reason_ok((int)r->reasonCode));
}

static void on_sub_ok_many(void *ctx, MQTTAsync_successData5 *r)
{
	int ok = r && reason_ok((int)r->reasonCode) && r->alt.sub.reasonCodes;

	for (int i = 0; ok && i < r->alt.sub.reasonCodeCount; i++)
		ok = reason_ok((int)r->alt.sub.reasonCodes[i]);
	sub_report(ctx, ok);
}

static void on_sub_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	struct transport *t = ctx;

	log_warn("transport: subscribe failed: code %d reason 0x%02x%s%s", r ? r->code : 0,
		 r ? (unsigned)r->reasonCode : 0u, r && r->message ? ": " : "",
		 r && r->message ? r->message : "");
	if (t->cb.on_subscribed)
		t->cb.on_subscribed(t->cb.arg, 0);
}

int transport_subscribe(struct transport *t, const char *const *filters, size_t n, int qos)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTSubscribe_options def = MQTTSubscribe_options_initializer;
	MQTTSubscribe_options *opts;
	int *qoss;
	int rc;

	if (!t || !filters || n == 0 || n > INT_MAX / sizeof(int) || qos < 0 || qos > 2)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!filters[i] || !*filters[i])
			return -EINVAL;
	qoss = malloc(n * sizeof *qoss);
	opts = malloc(n * sizeof *opts);
	if (!qoss || !opts) {
		free(qoss);
		free(opts);
		return -ENOMEM;
	}
	/* retainAsPublished stays 0: a retained flag on delivery must mean
	 * "re-delivered at subscribe", which the engine treats as no sign of life. */
	for (size_t i = 0; i < n; i++) {
		qoss[i] = qos;
		opts[i] = def;
	}
	ro.onSuccess5 = n == 1 ? on_sub_ok_one : on_sub_ok_many;
	ro.onFailure5 = on_sub_fail;
	ro.context = t;
	ro.subscribeOptions = def;
	ro.subscribeOptionsCount = (int)n;
	ro.subscribeOptionsList = opts;
	rc = MQTTAsync_subscribeMany(t->client, (int)n, (char *const *)filters, qoss, &ro);
	free(qoss);
	free(opts);
	if (rc != MQTTASYNC_SUCCESS) {
		log_warn("transport: subscribe not sent: code %d", rc);
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

/* ---- publish ---- */

static void pending_unlink(struct transport *t, struct pending_pub *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		t->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

/* Takes the node out; returns 1 if the caller still has to be told. */
static int pending_finish(struct pending_pub *p)
{
	struct transport *t = p->t;
	int report;

	pthread_mutex_lock(&t->mu);
	pending_unlink(t, p);
	report = !p->reported;
	pthread_mutex_unlock(&t->mu);
	return report;
}

static void on_pub_ok(void *ctx, MQTTAsync_successData5 *r)
{
	struct pending_pub *p = ctx;
	struct transport *t = p->t;
	uint64_t token = p->token;
	int code = r ? (int)r->reasonCode : 0;

	heard(t);
	/* Under v5 Mosquitto answers an ACL-denied publish with PUBACK 0x87,
	 * which Paho may still route here. */
	int ok = reason_ok(code);

	if (pending_finish(p) && t->cb.on_published)
		t->cb.on_published(t->cb.arg, token, ok, code,
				   ok ? NULL : MQTTReasonCode_toString((enum MQTTReasonCodes)code));
	free(p);
}

static void on_pub_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	struct pending_pub *p = ctx;
	struct transport *t = p->t;
	uint64_t token = p->token;
	int code = MQTTASYNC_FAILURE;
	const char *why = "publish failed";

	if (r && r->reasonCode >= MQTTREASONCODE_UNSPECIFIED_ERROR) {
		heard(t); /* the broker's own answer */
		code = (int)r->reasonCode;
		why = r->message ? r->message : MQTTReasonCode_toString(r->reasonCode);
	} else if (r) {
		code = r->code;
		if (r->message)
			why = r->message;
	}
	if (pending_finish(p) && t->cb.on_published)
		t->cb.on_published(t->cb.arg, token, 0, code, why);
	free(p);
}

int transport_publish(struct transport *t, const char *topic, const void *payload, size_t len, int qos,
		      int retained, const void *corr, size_t corr_len, uint64_t token)
{
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTProperty cd = {.identifier = MQTTPROPERTY_CODE_CORRELATION_DATA};
	struct pending_pub *p;
	int rc;

	if (!t)
		return -EINVAL;
	if (!topic || !*topic || strlen(topic) > 65535 || strpbrk(topic, "+#") || (len > 0 && !payload) ||
	    len > INT_MAX || qos < 0 || qos > 2 || (corr && corr_len > 65535))
		return -EBADMSG;
	long long maxp = atomic_load(&t->max_packet);
	/* Fixed header (5), topic (2 + n), packet id (2), properties (4 + the correlation data's 3 + n). */
	if (maxp > 0 && (long long)(5 + 2 + strlen(topic) + 2 + 4 + (corr ? 3 + corr_len : 0) + len) > maxp) {
		log_debug("transport: publish to %s: larger than the broker's maximum packet size %lld", topic, maxp);
		return -EMSGSIZE;
	}
	p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->t = t;
	p->token = token;

	msg.payload = (void *)payload;
	msg.payloadlen = (int)len;
	msg.qos = qos;
	msg.retained = retained ? 1 : 0;
	if (corr) {
		cd.value.data.data = (char *)corr;
		cd.value.data.len = (int)corr_len;
		if (MQTTProperties_add(&msg.properties, &cd) != 0) {
			free(p);
			return -ENOMEM;
		}
	}
	ro.onSuccess5 = on_pub_ok;
	ro.onFailure5 = on_pub_fail;
	ro.context = p;

	/* Linked before the send: Paho may answer before sendMessage returns. */
	pthread_mutex_lock(&t->mu);
	p->next = t->pending;
	if (p->next)
		p->next->prev = p;
	t->pending = p;
	pthread_mutex_unlock(&t->mu);

	/* Paho copies topic, payload and properties before returning. */
	rc = MQTTAsync_sendMessage(t->client, topic, &msg, &ro);
	MQTTProperties_free(&msg.properties);
	if (rc != MQTTASYNC_SUCCESS) {
		/* Paho will not call back for a send it refused. */
		pthread_mutex_lock(&t->mu);
		pending_unlink(t, p);
		int reported = p->reported;
		pthread_mutex_unlock(&t->mu);
		free(p);
		/* The link went while we sent, and fail_pending already reported
		 * this publish: that report is its one outcome. Failing it here too
		 * would hand the message back twice (a freed volatile one, an
		 * in-flight count taken twice). */
		if (reported)
			return 0;
		log_debug("transport: publish to %s refused: code %d", topic, rc);
		/* Errors of this message itself: sending it again can never work. */
		if (rc == MQTTASYNC_BAD_UTF8_STRING || rc == MQTTASYNC_NULL_PARAMETER ||
		    rc == MQTTASYNC_TOPICNAME_TRUNCATED || rc == MQTTASYNC_BAD_QOS || rc == MQTTASYNC_BAD_STRUCTURE)
			return -EBADMSG;
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

/* ---- disconnect ---- */

static void disc_complete(struct transport *t, int rc)
{
	pthread_mutex_lock(&t->mu);
	t->disc_done = t->disc_gen;
	t->disc_rc = rc;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->mu);
}

static void on_disc_ok(void *ctx, MQTTAsync_successData5 *r)
{
	(void)r;
	disc_complete(ctx, 0);
}

static void on_disc_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	disc_complete(ctx, r && r->code < 0 ? r->code : MQTTASYNC_FAILURE);
}

int transport_disconnect(struct transport *t, int timeout_ms)
{
	MQTTAsync_disconnectOptions o = MQTTAsync_disconnectOptions_initializer5;
	struct timespec deadline;
	unsigned gen;
	int rc, waited = 0;

	if (!t || timeout_ms < 0)
		return -EINVAL;
	/* Half the budget for Paho to drain in-flight acks, so its own answer
	 * can still arrive before our deadline. */
	o.timeout = timeout_ms / 2;
	o.onSuccess5 = on_disc_ok;
	o.onFailure5 = on_disc_fail;
	o.context = t;

	pthread_mutex_lock(&t->mu);
	gen = ++t->disc_gen;
	pthread_mutex_unlock(&t->mu);

	rc = MQTTAsync_disconnect(t->client, &o);
	if (rc == MQTTASYNC_DISCONNECTED)
		return 0; /* nothing to close */
	if (rc != MQTTASYNC_SUCCESS) {
		log_warn("transport: disconnect not started: code %d", rc);
		return rc < 0 ? rc : -EIO;
	}

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&t->mu);
	while (t->disc_done != gen && waited == 0)
		waited = pthread_cond_timedwait(&t->cond, &t->mu, &deadline);
	rc = t->disc_done == gen ? t->disc_rc : -ETIMEDOUT;
	pthread_mutex_unlock(&t->mu);
	if (rc < 0)
		log_warn("transport: disconnect did not complete cleanly: code %d", rc);
	return rc;
}

static void on_probe_ok(void *ctx, MQTTAsync_successData5 *r)
{
	struct transport *t = ctx;

	(void)r;
	heard(t);
	atomic_store(&t->probe_out, 0);
}

static void on_probe_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	struct transport *t = ctx;

	/* An UNSUBACK with "no subscription existed" is still the broker's answer. */
	if (r && r->reasonCode != MQTTREASONCODE_SUCCESS && r->code != MQTTASYNC_DISCONNECTED)
		heard(t);
	atomic_store(&t->probe_out, 0);
}

int transport_probe(struct transport *t)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int rc;

	if (!t)
		return -EINVAL;
	if (atomic_exchange(&t->probe_out, 1))
		return 0; /* one at a time: its answer is what we wait for */
	ro.onSuccess5 = on_probe_ok;
	ro.onFailure5 = on_probe_fail;
	ro.context = t;
	rc = MQTTAsync_unsubscribe(t->client, TRANSPORT_PROBE_FILTER, &ro);
	if (rc != MQTTASYNC_SUCCESS) {
		atomic_store(&t->probe_out, 0);
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

int64_t transport_heard_mono(struct transport *t)
{
	return t ? (int64_t)atomic_load(&t->heard_mono) : 0;
}

int transport_receive_maximum(struct transport *t)
{
	pthread_mutex_lock(&t->mu);
	int rm = t->receive_max > 0 ? t->receive_max : 65535;
	pthread_mutex_unlock(&t->mu);
	return rm;
}

int transport_is_connected(struct transport *t)
{
	return t && MQTTAsync_isConnected(t->client) ? 1 : 0;
}
