/* sealctl's MQTT session. Paho runs callbacks on its own threads; they only
 * copy what arrived into our queue or record an outcome, and the caller's
 * thread waits on a condition variable with a monotonic deadline. */
#include "ctl.h"

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Plenty for a roster's retained states; bounds memory if we fall behind. */
#define QUEUE_MAX 200000
/* Outcomes of recent calls, by token: a late outcome of a call we gave up on
 * must not be taken for the outcome of the next one. */
#define DONE_SLOTS 8

struct done {
	MQTTAsync_token token;
	int used, failed;
	char err[200];
};

struct ctl_session {
	MQTTAsync client;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int connect_done, connect_failed, connected, lost, reconnect, reconnected, disconnected;
	char connect_err[200];
	struct done done[DONE_SLOTS];
	unsigned next_slot;
	struct ctl_msg *head, *tail;
	size_t queued, dropped;
	int sub_many; /* the subscribe in flight has several filters */
};

static void seterr(char err[CTL_ERR_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void seterr(char err[CTL_ERR_MAX], const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, CTL_ERR_MAX, fmt, ap);
	va_end(ap);
}

void ctl_msg_free(struct ctl_msg *m)
{
	if (!m)
		return;
	free(m->topic);
	free(m->payload);
	free(m->corr);
	free(m);
}

static void deadline_at(struct timespec *ts, int64_t wait_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(wait_ms / 1000);
	ts->tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void describe_failure(const MQTTAsync_failureData5 *r, char out[200])
{
	if (!r) {
		snprintf(out, 200, "failed");
	} else if (r->reasonCode >= 0x80) {
		snprintf(out, 200, "refused by the broker: %s (0x%02x)", MQTTReasonCode_toString(r->reasonCode),
			 (unsigned)r->reasonCode);
	} else if (r->code >= 0x80 && r->code <= 0xA2) {
		/* Paho reports a refused v5 CONNACK through code, not reasonCode. */
		snprintf(out, 200, "refused by the broker: %s (0x%02x)", MQTTReasonCode_toString(r->code),
			 (unsigned)r->code);
	} else if (r->message) {
		snprintf(out, 200, "%s (code %d)", r->message, r->code);
	} else {
		snprintf(out, 200, "%s (code %d)", MQTTAsync_strerror(r->code), r->code);
	}
}

/* ---- callbacks (Paho's threads) */

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	struct ctl_session *s = ctx;
	struct ctl_msg *q = calloc(1, sizeof *q);
	size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
	size_t plen = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;
	if (q) {
		q->topic = malloc(tlen + 1);
		q->payload = malloc(plen + 1);
		q->len = plen;
		q->retained = m->retained;
		if (MQTTProperties_hasProperty(&m->properties, MQTTPROPERTY_CODE_CORRELATION_DATA)) {
			MQTTProperty *p = MQTTProperties_getProperty(&m->properties,
								      MQTTPROPERTY_CODE_CORRELATION_DATA);
			if (p && p->value.data.len > 0) {
				q->corr = malloc((size_t)p->value.data.len);
				if (q->corr) {
					memcpy(q->corr, p->value.data.data, (size_t)p->value.data.len);
					q->corr_len = (size_t)p->value.data.len;
				}
			}
		}
		if (q->topic && q->payload) {
			memcpy(q->topic, topic, tlen);
			q->topic[tlen] = '\0';
			if (plen)
				memcpy(q->payload, m->payload, plen);
			q->payload[plen] = '\0';
		} else {
			ctl_msg_free(q);
			q = NULL;
		}
	}
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);

	pthread_mutex_lock(&s->mu);
	if (!q || s->queued >= QUEUE_MAX) {
		s->dropped++;
		ctl_msg_free(q);
	} else {
		if (s->tail)
			s->tail->next = q;
		else
			s->head = q;
		s->tail = q;
		s->queued++;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 1;
}

static void on_lost(void *ctx, char *cause)
{
	struct ctl_session *s = ctx;
	(void)cause;
	pthread_mutex_lock(&s->mu);
	s->connected = 0;
	s->lost = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void on_connected(void *ctx, char *cause)
{
	struct ctl_session *s = ctx;
	(void)cause;
	pthread_mutex_lock(&s->mu);
	if (s->lost) /* a reconnect; Paho calls this for the first connect too */
		s->reconnected = 1;
	s->connected = 1;
	s->lost = 0;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void on_connect_ok(void *ctx, MQTTAsync_successData5 *r)
{
	struct ctl_session *s = ctx;
	(void)r;
	pthread_mutex_lock(&s->mu);
	s->connect_done = 1;
	s->connected = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	struct ctl_session *s = ctx;
	pthread_mutex_lock(&s->mu);
	describe_failure(r, s->connect_err);
	s->connect_done = 1;
	s->connect_failed = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void record(struct ctl_session *s, MQTTAsync_token token, int failed, const char *err)
{
	pthread_mutex_lock(&s->mu);
	struct done *d = &s->done[s->next_slot++ % DONE_SLOTS];
	d->token = token;
	d->used = 1;
	d->failed = failed;
	snprintf(d->err, sizeof d->err, "%s", err ? err : "");
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* An MQTT v5 PUBACK or SUBACK can refuse while the call "succeeds". */
static void on_pub_ok(void *ctx, MQTTAsync_successData5 *r)
{
	char err[200] = "";
	if (r->reasonCode >= 0x80)
		snprintf(err, sizeof err, "refused by the broker: %s (0x%02x)",
			 MQTTReasonCode_toString(r->reasonCode), (unsigned)r->reasonCode);
	record(ctx, r->token, err[0] != '\0', err);
}

/* Paho fills alt.sub only for a subscribe of several filters; with one it
 * leaves it uninitialised and gives the reason code alone. */
static void on_sub_ok(void *ctx, MQTTAsync_successData5 *r)
{
	struct ctl_session *s = ctx;
	pthread_mutex_lock(&s->mu);
	int many = s->sub_many;
	pthread_mutex_unlock(&s->mu);
	enum MQTTReasonCodes bad = r->reasonCode >= 0x80 ? r->reasonCode : MQTTREASONCODE_SUCCESS;
	for (int i = 0; many && !bad && r->alt.sub.reasonCodes && i < r->alt.sub.reasonCodeCount; i++) {
		if (r->alt.sub.reasonCodes[i] >= 0x80)
			bad = r->alt.sub.reasonCodes[i];
	}
	char err[200] = "";
	if (bad)
		snprintf(err, sizeof err, "refused by the broker: %s (0x%02x)", MQTTReasonCode_toString(bad),
			 (unsigned)bad);
	record(ctx, r->token, bad != MQTTREASONCODE_SUCCESS, err);
}

static void on_op_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	char err[200];
	describe_failure(r, err);
	record(ctx, r ? r->token : 0, 1, err);
}

static void on_disconnected(void *ctx, MQTTAsync_successData5 *r)
{
	struct ctl_session *s = ctx;
	(void)r;
	pthread_mutex_lock(&s->mu);
	s->disconnected = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void on_disconnect_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	(void)r;
	on_disconnected(ctx, NULL);
}

/* ---- the caller's side */

/* Waits for the outcome of the call with token; 0, or -1 with err set. */
static int wait_op(struct ctl_session *s, MQTTAsync_token token, int64_t timeout_ms, const char *what,
		   char err[CTL_ERR_MAX])
{
	struct timespec until;
	deadline_at(&until, timeout_ms);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		for (int i = 0; i < DONE_SLOTS; i++) {
			struct done *d = &s->done[i];
			if (d->used && (d->token == token || d->token == 0)) {
				int failed = d->failed;
				if (failed)
					seterr(err, "%s: %s", what, d->err);
				d->used = 0;
				pthread_mutex_unlock(&s->mu);
				return failed ? -1 : 0;
			}
		}
		if (s->lost && !s->reconnect) {
			pthread_mutex_unlock(&s->mu);
			seterr(err, "%s: connection to the broker lost", what);
			return -1;
		}
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0) {
			pthread_mutex_unlock(&s->mu);
			seterr(err, "%s: no answer from the broker within %lld ms", what, (long long)timeout_ms);
			return -1;
		}
	}
}

int ctl_session_open(const struct ctl *c, int reconnect, struct ctl_session **out, char err[CTL_ERR_MAX])
{
	const struct config *cfg = &c->cfg;
	*out = NULL;
	struct ctl_session *s = calloc(1, sizeof *s);
	if (!s) {
		seterr(err, "out of memory");
		return -1;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->mu, NULL);
	s->reconnect = reconnect;

	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
	int rc = MQTTAsync_createWithOptions(&s->client, cfg->mqtt.uri, c->tag, MQTTCLIENT_PERSISTENCE_NONE,
					     NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		seterr(err, "%s: %s", cfg->mqtt.uri, MQTTAsync_strerror(rc));
		s->client = NULL;
		ctl_session_close(s);
		return -1;
	}
	MQTTAsync_setCallbacks(s->client, s, on_lost, on_message, NULL);
	MQTTAsync_setConnected(s->client, s, on_connected);

	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	o.keepAliveInterval = cfg->mqtt.keepalive > 0 ? cfg->mqtt.keepalive : 30;
	o.cleanstart = 1;
	int64_t secs = (c->timeout_ms + 999) / 1000;
	o.connectTimeout = secs < 1 ? 1 : secs > 3600 ? 3600 : (int)secs;
	o.onSuccess5 = on_connect_ok;
	o.onFailure5 = on_connect_fail;
	o.context = s;
	if (cfg->mqtt.username[0])
		o.username = cfg->mqtt.username;
	if (cfg->mqtt.password[0])
		o.password = cfg->mqtt.password;
	if (reconnect) {
		o.automaticReconnect = 1;
		o.minRetryInterval = 1;
		o.maxRetryInterval = 10;
	}
	if (strncmp(cfg->mqtt.uri, "ssl://", 6) == 0 || strncmp(cfg->mqtt.uri, "mqtts://", 8) == 0) {
		ssl.trustStore = cfg->mqtt.cafile[0] ? cfg->mqtt.cafile : NULL;
		ssl.keyStore = cfg->mqtt.certfile[0] ? cfg->mqtt.certfile : NULL;
		ssl.privateKey = cfg->mqtt.keyfile[0] ? cfg->mqtt.keyfile : NULL;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1; /* Paho leaves the host-name check off by default */
		o.ssl = &ssl;
	}
	rc = MQTTAsync_connect(s->client, &o);
	if (rc != MQTTASYNC_SUCCESS) {
		seterr(err, "cannot connect to %s: %s", cfg->mqtt.uri, MQTTAsync_strerror(rc));
		ctl_session_close(s);
		return -1;
	}
	struct timespec until;
	deadline_at(&until, c->timeout_ms);
	pthread_mutex_lock(&s->mu);
	while (!s->connect_done) {
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0)
			break;
	}
	int ok = s->connect_done && !s->connect_failed;
	if (!ok) {
		if (s->connect_done)
			seterr(err, "cannot connect to %s: %s", cfg->mqtt.uri, s->connect_err);
		else
			seterr(err, "cannot connect to %s within %lld ms", cfg->mqtt.uri,
			       (long long)c->timeout_ms);
	}
	pthread_mutex_unlock(&s->mu);
	if (!ok) {
		ctl_session_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void ctl_session_close(struct ctl_session *s)
{
	if (!s)
		return;
	if (s->client) {
		pthread_mutex_lock(&s->mu);
		int connected = s->connected;
		pthread_mutex_unlock(&s->mu);
		if (connected) {
			MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
			d.timeout = 1000;
			d.onSuccess5 = on_disconnected;
			d.onFailure5 = on_disconnect_fail;
			d.context = s;
			if (MQTTAsync_disconnect(s->client, &d) == MQTTASYNC_SUCCESS) {
				struct timespec until;
				deadline_at(&until, 2000);
				pthread_mutex_lock(&s->mu);
				while (!s->disconnected && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
					;
				pthread_mutex_unlock(&s->mu);
			}
		}
		MQTTAsync_destroy(&s->client);
	}
	while (s->head) {
		struct ctl_msg *m = s->head;
		s->head = m->next;
		ctl_msg_free(m);
	}
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int ctl_session_subscribe(struct ctl_session *s, const char *const *filters, int n, int64_t timeout_ms,
			  char err[CTL_ERR_MAX])
{
	int qos[16];
	if (n < 1 || n > 16) {
		seterr(err, "subscribe: %d filters", n);
		return -1;
	}
	for (int i = 0; i < n; i++)
		qos[i] = 1;
	pthread_mutex_lock(&s->mu);
	s->sub_many = n > 1;
	pthread_mutex_unlock(&s->mu);
	MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
	r.onSuccess5 = on_sub_ok;
	r.onFailure5 = on_op_fail;
	r.context = s;
	int rc = MQTTAsync_subscribeMany(s->client, n, (char *const *)filters, qos, &r);
	if (rc != MQTTASYNC_SUCCESS) {
		seterr(err, "subscribe to %s: %s", filters[0], MQTTAsync_strerror(rc));
		return -1;
	}
	char what[300];
	snprintf(what, sizeof what, "subscribe to %s", filters[0]);
	return wait_op(s, r.token, timeout_ms, what, err);
}

int ctl_session_publish(struct ctl_session *s, const char *topic, const char *payload,
			const char *response_topic, const void *corr, size_t corr_len, int64_t timeout_ms,
			char err[CTL_ERR_MAX])
{
	MQTTAsync_message m = MQTTAsync_message_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	size_t plen = strlen(payload);
	if (plen > 1024 * 1024 || corr_len > 65535) {
		seterr(err, "publish to %s: message too large", topic);
		return -1;
	}
	m.payload = (void *)payload;
	m.payloadlen = (int)plen;
	m.qos = 1;
	if (response_topic) {
		MQTTProperty p = {.identifier = MQTTPROPERTY_CODE_RESPONSE_TOPIC};
		p.value.data.data = (char *)response_topic;
		p.value.data.len = (int)strlen(response_topic);
		int ok = MQTTProperties_add(&props, &p) == 0;
		if (ok && corr) {
			MQTTProperty q = {.identifier = MQTTPROPERTY_CODE_CORRELATION_DATA};
			q.value.data.data = (char *)corr;
			q.value.data.len = (int)corr_len;
			ok = MQTTProperties_add(&props, &q) == 0;
		}
		if (!ok) {
			MQTTProperties_free(&props);
			seterr(err, "publish to %s: cannot set the response properties", topic);
			return -1;
		}
		m.properties = props;
	}
	MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
	r.onSuccess5 = on_pub_ok;
	r.onFailure5 = on_op_fail;
	r.context = s;
	int rc = MQTTAsync_sendMessage(s->client, topic, &m, &r);
	MQTTProperties_free(&props); /* Paho has taken its own copy */
	if (rc != MQTTASYNC_SUCCESS) {
		seterr(err, "publish to %s: %s", topic, MQTTAsync_strerror(rc));
		return -1;
	}
	char what[300];
	snprintf(what, sizeof what, "publish to %s", topic);
	return wait_op(s, r.token, timeout_ms, what, err);
}

int ctl_session_next(struct ctl_session *s, int64_t wait_ms, struct ctl_msg **out)
{
	struct timespec until;
	deadline_at(&until, wait_ms < 0 ? 0 : wait_ms);
	*out = NULL;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (s->head) {
			struct ctl_msg *m = s->head;
			s->head = m->next;
			if (!s->head)
				s->tail = NULL;
			s->queued--;
			m->next = NULL;
			pthread_mutex_unlock(&s->mu);
			*out = m;
			return 1;
		}
		if (s->lost && !s->reconnect) {
			pthread_mutex_unlock(&s->mu);
			return -1;
		}
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) != 0) {
			pthread_mutex_unlock(&s->mu);
			return 0;
		}
	}
}

int ctl_session_reconnected(struct ctl_session *s)
{
	pthread_mutex_lock(&s->mu);
	int r = s->reconnected;
	s->reconnected = 0;
	pthread_mutex_unlock(&s->mu);
	return r;
}

size_t ctl_session_dropped(struct ctl_session *s)
{
	pthread_mutex_lock(&s->mu);
	size_t n = s->dropped;
	s->dropped = 0;
	pthread_mutex_unlock(&s->mu);
	return n;
}
