/* Helpers shared by the benchmark tools; see bench_common.h. */
#include "bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_sleep_until(int64_t t_ns)
{
	struct timespec ts = {(time_t)(t_ns / 1000000000), (long)(t_ns % 1000000000)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int bench_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int64_t bench_arg_i64(const char *prog, const char *name, const char *s, int64_t min, int64_t max)
{
	int64_t v;
	if (bench_parse_i64(s, min, max, &v) < 0) {
		fprintf(stderr, "%s: bad %s '%s' (want an integer %lld..%lld)\n", prog, name, s ? s : "",
			(long long)min, (long long)max);
		exit(2);
	}
	return v;
}

const char *bench_find(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	if (k == 0)
		return hay;
	for (size_t i = 0; i + k <= n; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, k) == 0)
			return hay + i;
	return NULL;
}

void bench_client_id(char *buf, size_t n, const char *prefix)
{
	static int seq;
	snprintf(buf, n, "%s-%ld-%d", prefix, (long)getpid(), seq++);
}

/* A one-shot completion that a Paho thread signals and the caller waits for.
 * Heap-allocated and leaked on timeout: Paho may still call back later. */
struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, ok, rc;
};

static struct waiter *waiter_new(void)
{
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &a);
	pthread_condattr_destroy(&a);
	pthread_mutex_init(&w->mu, NULL);
	return w;
}

static void waiter_signal(struct waiter *w, int ok, int rc)
{
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	w->ok = ok;
	w->rc = rc;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* 1 ok, 0 failed, -1 timed out (w then must not be freed). */
static int waiter_wait(struct waiter *w, int timeout_ms, int *rc)
{
	int64_t until = bench_now_ns() + (int64_t)timeout_ms * 1000000;
	struct timespec ts = {(time_t)(until / 1000000000), (long)(until % 1000000000)};
	pthread_mutex_lock(&w->mu);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
			break;
	int r = w->done ? w->ok : -1;
	if (rc)
		*rc = w->rc;
	pthread_mutex_unlock(&w->mu);
	return r;
}

static void waiter_free(struct waiter *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

static void on_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	/* A SUBACK carries the granted QoS or a failure code (>= 0x80). */
	int rc = r ? (int)r->reasonCode : 0;
	waiter_signal(ctx, rc < 0x80, rc);
}

static void on_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	waiter_signal(ctx, 0, r ? (r->reasonCode ? (int)r->reasonCode : r->code) : -1);
}

/* Paho insists on a message callback even for a client that subscribes to nothing. */
static int drop_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	(void)ctx;
	(void)topic_len;
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void on_lost(void *ctx, char *cause)
{
	(void)ctx;
	fprintf(stderr, "bench: connection lost: %s\n", cause ? cause : "unknown");
}

int bench_connect(MQTTAsync *out, const char *uri, const char *client_id, int max_inflight,
		  MQTTAsync_messageArrived *arrived, void *ctx, int timeout_ms)
{
	MQTTAsync c = NULL;
	*out = NULL;
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
	co.sendWhileDisconnected = 0;
	co.maxBufferedMessages = 1000000;
	int rc = MQTTAsync_createWithOptions(&c, uri, client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "bench: MQTTAsync_create %s: %d\n", uri, rc);
		return -1;
	}
	rc = MQTTAsync_setCallbacks(c, ctx, on_lost, arrived ? arrived : drop_message, NULL);
	struct waiter *w = waiter_new();
	if (rc != MQTTASYNC_SUCCESS || !w) {
		fprintf(stderr, "bench: setting up %s failed\n", client_id);
		MQTTAsync_destroy(&c);
		free(w);
		return -1;
	}
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer5;
	o.cleanstart = 1;
	o.keepAliveInterval = 60;
	o.maxInflight = max_inflight > 0 ? max_inflight : 10;
	o.connectTimeout = (timeout_ms + 999) / 1000;
	o.onSuccess5 = on_ok5;
	o.onFailure5 = on_fail5;
	o.context = w;
	rc = MQTTAsync_connect(c, &o);
	int ok = rc == MQTTASYNC_SUCCESS ? waiter_wait(w, timeout_ms, &rc) : 0;
	if (ok != 1) {
		fprintf(stderr, "bench: connect %s to %s: %s (%d)\n", client_id, uri,
			ok < 0 ? "timed out" : "failed", rc);
		if (ok >= 0)
			waiter_free(w);
		MQTTAsync_destroy(&c);
		return -1;
	}
	waiter_free(w);
	*out = c;
	return 0;
}

int bench_subscribe(MQTTAsync c, const char *filter, int timeout_ms)
{
	struct waiter *w = waiter_new();
	if (!w)
		return -1;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	ro.onSuccess5 = on_ok5;
	ro.onFailure5 = on_fail5;
	ro.context = w;
	int rc = MQTTAsync_subscribe(c, filter, 1, &ro);
	int ok = rc == MQTTASYNC_SUCCESS ? waiter_wait(w, timeout_ms, &rc) : 0;
	if (ok >= 0)
		waiter_free(w);
	if (ok != 1) {
		fprintf(stderr, "bench: subscribe %s: %s (%d)\n", filter, ok < 0 ? "timed out" : "refused", rc);
		return -1;
	}
	return 0;
}

void bench_close(MQTTAsync c, int timeout_ms)
{
	if (!c)
		return;
	if (MQTTAsync_isConnected(c)) {
		MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
		d.timeout = timeout_ms;
		if (MQTTAsync_disconnect(c, &d) == MQTTASYNC_SUCCESS) {
			int64_t until = bench_now_ns() + (int64_t)timeout_ms * 1000000;
			while (MQTTAsync_isConnected(c) && bench_now_ns() < until)
				bench_sleep_until(bench_now_ns() + 5000000);
		}
	}
	MQTTAsync_destroy(&c);
}

static int uri_port(const char *uri)
{
	const char *p = strrchr(uri, ':');
	int64_t v;
	if (!p || bench_parse_i64(p + 1, 1, 65535, &v) < 0)
		return -1;
	return (int)v;
}

int bench_nodelay(const char *uri)
{
	int port = uri_port(uri), n = 0;
	if (port < 0)
		return 0;
	for (int fd = 0; fd < 4096; fd++) {
		int type = 0;
		socklen_t tl = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM)
			continue;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
			continue;
		int peer = -1;
		if (ss.ss_family == AF_INET)
			peer = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			peer = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		int one = 1;
		if (peer == port && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
			n++;
	}
	return n;
}
