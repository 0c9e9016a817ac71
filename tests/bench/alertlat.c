/* alertlat: alert latency. Every INTERVAL ms it opens the door of the next
 * reserved seal (<prefix>%05d from FIRST on, each used once, because an open
 * door_open alert folds further openings without a message) and times the
 * publish until the "raised" alert for that seal reaches a subscriber of
 * R/alert/community/#. Both our sockets get TCP_NODELAY (Paho sets none; we
 * set it on Paho's socket behind its back), so what remains is the broker's
 * and the daemon's. Prints one key=value line with p50/p90/p99/max in ms. */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

#define MAX_PROBES 100000

struct lat {
	const char *prefix;
	int64_t first, n;
	int64_t *sent_ns;          /* written before the publish, read by Paho's thread */
	_Atomic int64_t *recv_ns;
	atomic_llong got, strays;
};

static struct lat L;

/* Index of the probe the alert is about, or -1. */
static int64_t probe_of(const char *p, size_t n)
{
	const char *k = "\"device_id\":\"";
	const char *at = bench_find(p, n, k);
	if (!at || !bench_find(p, n, "\"state\":\"raised\""))
		return -1;
	at += strlen(k);
	size_t rest = n - (size_t)(at - p), pl = strlen(L.prefix);
	if (rest < pl + 1 || memcmp(at, L.prefix, pl) != 0)
		return -1;
	char num[16];
	size_t i = 0;
	for (at += pl, rest -= pl; i < rest && i < sizeof(num) - 1 && at[i] != '"'; i++)
		num[i] = at[i];
	num[i] = '\0';
	int64_t v;
	if (bench_parse_i64(num, L.first, L.first + L.n - 1, &v) < 0)
		return -1;
	return v - L.first;
}

static int arrived(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	int64_t t = bench_now_ns();
	(void)ctx;
	(void)topic_len;
	int64_t k = m->retained ? -1 : probe_of(m->payload, (size_t)m->payloadlen);
	if (k >= 0) {
		int64_t zero = 0;
		if (atomic_compare_exchange_strong(&L.recv_ns[k], &zero, t))
			atomic_fetch_add(&L.got, 1);
	} else {
		atomic_fetch_add(&L.strays, 1);
	}
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(const int64_t *v, int64_t n, double p)
{
	int64_t i = (int64_t)(p * (double)(n - 1) + 0.5);
	return n ? (double)v[i] / 1e6 : 0.0;
}

static void on_ok(void *ctx, MQTTAsync_successData5 *r)
{
	(void)ctx;
	(void)r;
}

static void on_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	(void)ctx;
	fprintf(stderr, "alertlat: a probe publish failed (%d)\n", r ? r->code : -1);
}

static void usage(void)
{
	fprintf(stderr, "usage: alertlat -u URI [-n PROBES] [-o FIRST] [-i INTERVAL_MS] [-p PREFIX] [-R ROOT] [-W WAIT_S]\n"
			"                [-v SAMPLES_FILE (probe, sent at ms, latency ms)]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *uri = NULL, *root = "seal", *dump = NULL;
	int64_t interval_ms = 50, wait_s = 10;
	int o;
	L.prefix = "lat-";
	L.n = 200;
	while ((o = getopt(argc, argv, "u:n:o:i:p:R:W:v:")) != -1) {
		switch (o) {
		case 'u': uri = optarg; break;
		case 'n': L.n = bench_arg_i64("alertlat", "-n", optarg, 1, MAX_PROBES); break;
		case 'o': L.first = bench_arg_i64("alertlat", "-o", optarg, 0, 99999); break;
		case 'i': interval_ms = bench_arg_i64("alertlat", "-i", optarg, 1, 60000); break;
		case 'W': wait_s = bench_arg_i64("alertlat", "-W", optarg, 1, 3600); break;
		case 'p': L.prefix = optarg; break;
		case 'R': root = optarg; break;
		case 'v': dump = optarg; break;
		default: usage();
		}
	}
	if (!uri || optind != argc || strlen(root) > 200 || strlen(L.prefix) > 40)
		usage();
	L.sent_ns = calloc((size_t)L.n, sizeof(*L.sent_ns));
	L.recv_ns = calloc((size_t)L.n, sizeof(*L.recv_ns));
	int64_t *lat = calloc((size_t)L.n, sizeof(*lat));
	if (!L.sent_ns || !L.recv_ns || !lat)
		return 1;

	char id[64], filter[256], topic[320];
	MQTTAsync sub, pub;
	bench_client_id(id, sizeof(id), "alertlat-sub");
	snprintf(filter, sizeof(filter), "%s/alert/community/#", root);
	if (bench_connect(&sub, uri, id, 100, arrived, NULL, 10000) < 0 || bench_subscribe(sub, filter, 10000) < 0)
		return 1;
	bench_client_id(id, sizeof(id), "alertlat-pub");
	if (bench_connect(&pub, uri, id, 100, NULL, NULL, 10000) < 0)
		return 1;
	int nodelay = bench_nodelay(uri);

	int64_t t0 = bench_now_ns();
	for (int64_t i = 0; i < L.n; i++) {
		bench_sleep_until(t0 + i * interval_ms * 1000000);
		snprintf(topic, sizeof(topic), "%s/dev/%s%05lld/report", root, L.prefix, (long long)(L.first + i));
		MQTTAsync_message m = MQTTAsync_message_initializer;
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		m.payload = (void *)"{\"door\":\"open\"}";
		m.payloadlen = (int)strlen(m.payload);
		m.qos = 1;
		ro.onSuccess5 = on_ok;
		ro.onFailure5 = on_fail;
		L.sent_ns[i] = bench_now_ns();
		int rc = MQTTAsync_sendMessage(pub, topic, &m, &ro);
		if (rc != MQTTASYNC_SUCCESS)
			fprintf(stderr, "alertlat: publish %s: %d\n", topic, rc);
	}
	int64_t deadline = bench_now_ns() + wait_s * 1000000000;
	while (atomic_load(&L.got) < L.n && bench_now_ns() < deadline)
		bench_sleep_until(bench_now_ns() + 5000000);

	FILE *df = dump ? fopen(dump, "w") : NULL;
	if (dump && !df)
		perror(dump);
	int64_t k = 0;
	for (int64_t i = 0; i < L.n; i++) {
		int64_t r = atomic_load(&L.recv_ns[i]);
		if (r)
			lat[k++] = r - L.sent_ns[i];
		if (df)
			fprintf(df, "%lld %.1f %.3f\n", (long long)(L.first + i), (double)(L.sent_ns[i] - t0) / 1e6,
				r ? (double)(r - L.sent_ns[i]) / 1e6 : -1.0);
	}
	if (df && fclose(df) != 0)
		perror(dump);
	qsort(lat, (size_t)k, sizeof(*lat), cmp_i64);
	printf("alertlat probes=%lld received=%lld lost=%lld strays=%lld nodelay_sockets=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f"
	       " max_ms=%.3f\n",
	       (long long)L.n, (long long)k, (long long)(L.n - k), (long long)atomic_load(&L.strays), nodelay, pct(lat, k, 0.50), pct(lat, k, 0.90),
	       pct(lat, k, 0.99), k ? (double)lat[k - 1] / 1e6 : 0.0);
	fflush(stdout);
	bench_close(pub, 1000);
	bench_close(sub, 1000);
	free(L.sent_ns);
	free(L.recv_ns);
	free(lat);
	return k == L.n ? 0 : 3;
}
