/* burst: many seals falling silent in the same second. Publishes one
 * heartbeat ({} at QoS 1 to R/dev/<prefix>%05d/report) to each of N reserved
 * seals (FIRST on), spread evenly over SPREAD ms, then stops: every one of
 * them reaches its silence deadline within about that span. It waits for the
 * "raised" device_silent alert of each at a subscriber of R/alert/community/#.
 *
 * The deadline of a seal is the alert's own "since" (the daemon's last_seen,
 * i.e. when it took the heartbeat in) plus the seal's silence_after (-S, as
 * in the roster); the latency of its alert is the wall-clock (CLOCK_REALTIME)
 * arrival time minus that deadline. "since" has whole milliseconds and the
 * daemon times silence on the monotonic clock, so a latency can come out a
 * little below zero; it keeps its sign. Seals whose alert has not come WAIT s
 * after the last deadline are lost. Prints one key=value line. */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

#define MAX_SEALS 100000
#define NONE INT64_MIN

struct burst {
	const char *prefix;
	int64_t first, n, silence_ms;
	int64_t *sent_wall_ms;        /* written before the publish, read by Paho's thread */
	_Atomic int64_t *lat_us;      /* NONE until the seal's alert came */
	_Atomic int64_t *since_ms;
	_Atomic int64_t *recv_ns;     /* monotonic */
	atomic_llong got, early, strays, bad_since, acked, failed;
};

static struct burst B;

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* n digits at p as a number in [min, max]; -1 if anything else. */
static int field(const char *p, int n, int min, int max)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v < min || v > max ? -1 : v;
}

/* RFC 3339 UTC with milliseconds, exactly as the daemon writes it:
 * YYYY-MM-DDTHH:MM:SS.mmmZ (n bytes at p, not NUL-terminated). 0 or -1. */
static int parse_time(const char *p, size_t n, int64_t *out_ms)
{
	if (n != 24)
		return -1;
	if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':' || p[19] != '.' ||
	    p[23] != 'Z')
		return -1;
	int y = field(p, 4, 1970, 9999), mo = field(p + 5, 2, 1, 12), d = field(p + 8, 2, 1, 31);
	int h = field(p + 11, 2, 0, 23), mi = field(p + 14, 2, 0, 59), s = field(p + 17, 2, 0, 60);
	int ms = field(p + 20, 3, 0, 999);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || ms < 0)
		return -1;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
	time_t t = timegm(&tm);
	/* timegm normalises what does not exist (Feb 30): refuse it instead. */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	*out_ms = (int64_t)t * 1000 + ms;
	return 0;
}

/* The quoted string value of "key" in the payload: start and length, or NULL. */
static const char *str_value(const char *p, size_t n, const char *key, size_t *len)
{
	char k[64];
	snprintf(k, sizeof(k), "\"%s\":\"", key);
	const char *at = bench_find(p, n, k);
	if (!at)
		return NULL;
	at += strlen(k);
	const char *end = memchr(at, '"', n - (size_t)(at - p));
	if (!end)
		return NULL;
	*len = (size_t)(end - at);
	return at;
}

static int is(const char *v, size_t len, const char *want)
{
	return v && len == strlen(want) && memcmp(v, want, len) == 0;
}

/* Index of the burst seal a raised device_silent alert is about, or -1. */
static int64_t seal_of(const char *p, size_t n)
{
	size_t len = 0, pl = strlen(B.prefix);
	const char *v = str_value(p, n, "type", &len);
	if (!is(v, len, "device_silent"))
		return -1;
	v = str_value(p, n, "state", &len);
	if (!is(v, len, "raised"))
		return -1;
	v = str_value(p, n, "device_id", &len);
	if (!v || len <= pl || len - pl > 15 || memcmp(v, B.prefix, pl) != 0)
		return -1;
	char num[16];
	memcpy(num, v + pl, len - pl);
	num[len - pl] = '\0';
	int64_t k;
	if (bench_parse_i64(num, B.first, B.first + B.n - 1, &k) < 0)
		return -1;
	return k - B.first;
}

static int arrived(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	int64_t t = wall_ns(), mono = bench_now_ns();
	(void)ctx;
	(void)topic_len;
	const char *p = m->payload;
	size_t n = (size_t)m->payloadlen, len = 0;
	int64_t k = m->retained ? -1 : seal_of(p, n), since = 0;
	const char *v;
	if (k < 0) {
		atomic_fetch_add(&B.strays, 1);
	} else if (B.sent_wall_ms[k] == 0) {
		/* Silent before we even sent its heartbeat: not the burst's alert. */
		atomic_fetch_add(&B.early, 1);
	} else if (!(v = str_value(p, n, "since", &len)) || parse_time(v, len, &since) < 0) {
		atomic_fetch_add(&B.bad_since, 1);
	} else {
		/* Microseconds: the arrival has them, the deadline whole ms. */
		int64_t lat = t / 1000 - (since + B.silence_ms) * 1000, none = NONE;
		if (atomic_compare_exchange_strong(&B.lat_us[k], &none, lat)) {
			atomic_store(&B.since_ms[k], since);
			atomic_store(&B.recv_ns[k], mono);
			atomic_fetch_add(&B.got, 1);
		} else {
			atomic_fetch_add(&B.strays, 1); /* a second raise for the same seal */
		}
	}
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void on_ack(void *ctx, MQTTAsync_successData5 *r)
{
	(void)ctx;
	atomic_fetch_add(r && r->reasonCode >= 0x80 ? &B.failed : &B.acked, 1);
}

static void on_nack(void *ctx, MQTTAsync_failureData5 *r)
{
	(void)ctx;
	(void)r;
	atomic_fetch_add(&B.failed, 1);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Percentile of n sorted microsecond values, in ms. */
static double pct(const int64_t *v, int64_t n, double p)
{
	return n ? (double)v[(int64_t)(p * (double)(n - 1) + 0.5)] / 1e3 : 0.0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: burst -u URI [-n SEALS] [-o FIRST] [-p PREFIX] [-S SILENCE_AFTER_MS] [-d SPREAD_MS]\n"
		"             [-W WAIT_S] [-R ROOT] [-v SAMPLES_FILE]\n"
		"  one heartbeat to each of <PREFIX>%%05d FIRST..FIRST+SEALS-1 over SPREAD ms (default 1000),\n"
		"  then the device_silent alert of each, timed from since + SILENCE_AFTER_MS (as in the roster)\n"
		"  samples: seal, heartbeat sent at ms (from the first), since - sent ms, latency ms (-1: lost)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *uri = NULL, *root = "seal", *dump = NULL;
	int64_t spread_ms = 1000, wait_s = 15;
	int o;
	B.prefix = "burst-";
	B.n = 10000;
	B.silence_ms = 15000;
	while ((o = getopt(argc, argv, "u:n:o:p:S:d:W:R:v:")) != -1) {
		switch (o) {
		case 'u': uri = optarg; break;
		case 'n': B.n = bench_arg_i64("burst", "-n", optarg, 1, MAX_SEALS); break;
		case 'o': B.first = bench_arg_i64("burst", "-o", optarg, 0, 99999); break;
		case 'S': B.silence_ms = bench_arg_i64("burst", "-S", optarg, 1, 2592000000); break;
		case 'd': spread_ms = bench_arg_i64("burst", "-d", optarg, 0, 3600000); break;
		case 'W': wait_s = bench_arg_i64("burst", "-W", optarg, 1, 3600); break;
		case 'p': B.prefix = optarg; break;
		case 'R': root = optarg; break;
		case 'v': dump = optarg; break;
		default: usage();
		}
	}
	if (!uri || optind != argc || strlen(root) > 200 || strlen(B.prefix) > 40 || B.first + B.n > 100000)
		usage();
	B.sent_wall_ms = calloc((size_t)B.n, sizeof(*B.sent_wall_ms));
	B.lat_us = calloc((size_t)B.n, sizeof(*B.lat_us));
	B.since_ms = calloc((size_t)B.n, sizeof(*B.since_ms));
	B.recv_ns = calloc((size_t)B.n, sizeof(*B.recv_ns));
	int64_t *lat = calloc((size_t)B.n, sizeof(*lat)), *lag = calloc((size_t)B.n, sizeof(*lag));
	if (!B.sent_wall_ms || !B.lat_us || !B.since_ms || !B.recv_ns || !lat || !lag)
		return 1;
	for (int64_t i = 0; i < B.n; i++)
		atomic_init(&B.lat_us[i], NONE);

	char id[64], filter[256], topic[320];
	MQTTAsync sub, pub;
	bench_client_id(id, sizeof(id), "burst-sub");
	snprintf(filter, sizeof(filter), "%s/alert/community/#", root);
	if (bench_connect(&sub, uri, id, 100, arrived, NULL, 10000) < 0 || bench_subscribe(sub, filter, 10000) < 0)
		return 1;
	bench_client_id(id, sizeof(id), "burst-pub");
	if (bench_connect(&pub, uri, id, 1000, NULL, NULL, 10000) < 0)
		return 1;
	int nodelay = bench_nodelay(uri);

	int64_t t0 = bench_now_ns(), t0_wall_ms = wall_ns() / 1000000;
	for (int64_t i = 0; i < B.n; i++) {
		bench_sleep_until(t0 + (int64_t)((double)i * (double)spread_ms * 1e6 / (double)B.n));
		snprintf(topic, sizeof(topic), "%s/dev/%s%05lld/report", root, B.prefix, (long long)(B.first + i));
		MQTTAsync_message m = MQTTAsync_message_initializer;
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		m.payload = (void *)"{}";
		m.payloadlen = 2;
		m.qos = 1;
		ro.onSuccess5 = on_ack;
		ro.onFailure5 = on_nack;
		B.sent_wall_ms[i] = wall_ns() / 1000000;
		int rc = MQTTAsync_sendMessage(pub, topic, &m, &ro);
		if (rc != MQTTASYNC_SUCCESS) {
			fprintf(stderr, "burst: publish %s: %d\n", topic, rc);
			atomic_fetch_add(&B.failed, 1);
		}
	}
	int64_t sent_ms = (bench_now_ns() - t0) / 1000000;
	/* The last deadline is the last heartbeat plus silence_after (plus the
	 * daemon's delay in taking it in, which the wait covers too). */
	int64_t until = bench_now_ns() + (B.silence_ms + wait_s * 1000) * 1000000;
	while (atomic_load(&B.got) < B.n && bench_now_ns() < until)
		bench_sleep_until(bench_now_ns() + 5000000);
	bench_close(pub, 1000);
	bench_close(sub, 1000);

	FILE *df = dump ? fopen(dump, "w") : NULL;
	if (dump && !df)
		perror(dump);
	int64_t k = 0, first_recv = INT64_MAX, last_recv = 0;
	for (int64_t i = 0; i < B.n; i++) {
		int64_t l = atomic_load(&B.lat_us[i]), since = atomic_load(&B.since_ms[i]);
		int64_t r = atomic_load(&B.recv_ns[i]);
		if (l != NONE && since && r) {
			lag[k] = (since - B.sent_wall_ms[i]) * 1000;
			lat[k++] = l;
			first_recv = r < first_recv ? r : first_recv;
			last_recv = r > last_recv ? r : last_recv;
		}
		if (df)
			fprintf(df, "%lld %lld %lld %.3f\n", (long long)(B.first + i),
				(long long)(B.sent_wall_ms[i] - t0_wall_ms),
				(long long)(l != NONE && since ? since - B.sent_wall_ms[i] : -1),
				l != NONE ? (double)l / 1e3 : -1.0);
	}
	if (df && fclose(df) != 0)
		perror(dump);
	qsort(lat, (size_t)k, sizeof(*lat), cmp_i64);
	qsort(lag, (size_t)k, sizeof(*lag), cmp_i64);
	/* first_ms: the smallest latency, the head of the burst; span_ms: first to
	 * last alert; hb_lag: since minus our publish, how late the daemon took the
	 * heartbeats in (the deadlines spread over SPREAD ms plus that). */
	printf("burst n=%lld got=%lld lost=%lld early=%lld strays=%lld bad_since=%lld acked=%lld failed=%lld"
	       " silence_ms=%lld sent_ms=%lld nodelay_sockets=%d first_ms=%.3f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f"
	       " max_ms=%.3f span_ms=%.1f hb_lag_p99_ms=%.3f hb_lag_max_ms=%.3f\n",
	       (long long)B.n, (long long)k, (long long)(B.n - k), (long long)atomic_load(&B.early),
	       (long long)atomic_load(&B.strays), (long long)atomic_load(&B.bad_since), (long long)atomic_load(&B.acked),
	       (long long)atomic_load(&B.failed), (long long)B.silence_ms, (long long)sent_ms, nodelay,
	       k ? (double)lat[0] / 1e3 : 0.0, pct(lat, k, 0.50), pct(lat, k, 0.90), pct(lat, k, 0.99),
	       k ? (double)lat[k - 1] / 1e3 : 0.0, k ? (double)(last_recv - first_recv) / 1e6 : 0.0,
	       pct(lag, k, 0.99), k ? (double)lag[k - 1] / 1e3 : 0.0);
	fflush(stdout);
	free(B.sent_wall_ms);
	free(B.lat_us);
	free(B.since_ms);
	free(B.recv_ns);
	free(lat);
	free(lag);
	return k == B.n ? 0 : 3;
}
