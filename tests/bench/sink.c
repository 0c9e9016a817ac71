/* sink: a bare MQTT v5 subscriber (QoS 1) that only counts. With the default
 * filter it is the ceiling the daemon is compared with: the same broker, the
 * same Paho receive path, no work per message. With -m it waits for messages
 * whose payload contains a string (e.g. the alert of a marker seal).
 * Writes READY_FILE once subscribed; prints one key=value line. Exit 0 when
 * N messages arrived, 3 on timeout. */
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

struct sink {
	const char *match;
	int live_only;
	atomic_llong count;
	atomic_llong first_ns, last_ns;
};

static int arrived(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	struct sink *s = ctx;
	int64_t t = bench_now_ns();
	int take = !(s->live_only && m->retained) &&
		   (!s->match || bench_find(m->payload, (size_t)m->payloadlen, s->match));
	(void)topic_len;
	if (take) {
		long long zero = 0;
		atomic_compare_exchange_strong(&s->first_ns, &zero, t);
		atomic_store(&s->last_ns, t);
		atomic_fetch_add(&s->count, 1);
	}
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: sink -u URI -n N [-t FILTER] [-m MATCH] [-l] [-T TIMEOUT_S] [-r READY_FILE] [-N]\n"
			"  -l: ignore retained messages   -N: set TCP_NODELAY on our socket\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *uri = NULL, *filter = "seal/dev/+/report", *ready = NULL;
	int64_t n = -1, timeout_s = 600;
	int nodelay = 0, o;
	struct sink s = {.match = NULL};
	while ((o = getopt(argc, argv, "u:n:t:m:lT:r:N")) != -1) {
		switch (o) {
		case 'u': uri = optarg; break;
		case 'n': n = bench_arg_i64("sink", "-n", optarg, 1, INT64_MAX / 2); break;
		case 't': filter = optarg; break;
		case 'm': s.match = optarg; break;
		case 'l': s.live_only = 1; break;
		case 'T': timeout_s = bench_arg_i64("sink", "-T", optarg, 1, 86400); break;
		case 'r': ready = optarg; break;
		case 'N': nodelay = 1; break;
		default: usage();
		}
	}
	if (!uri || n < 0 || optind != argc)
		usage();
	char id[64];
	bench_client_id(id, sizeof(id), "sink");
	MQTTAsync c;
	if (bench_connect(&c, uri, id, 100, arrived, &s, 10000) < 0)
		return 1;
	if (nodelay)
		bench_nodelay(uri);
	if (bench_subscribe(c, filter, 10000) < 0) {
		bench_close(c, 1000);
		return 1;
	}
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (!f || fclose(f) != 0) {
			perror(ready);
			bench_close(c, 1000);
			return 1;
		}
	}
	int64_t deadline = bench_now_ns() + timeout_s * 1000000000;
	while (atomic_load(&s.count) < n && bench_now_ns() < deadline)
		bench_sleep_until(bench_now_ns() + 2000000);
	long long got = atomic_load(&s.count), f0 = atomic_load(&s.first_ns), f1 = atomic_load(&s.last_ns);
	double el = (double)(f1 - f0) / 1e9;
	printf("sink received=%lld first_ns=%lld last_ns=%lld elapsed_s=%.3f rate=%.0f\n", got, f0, f1, el,
	       el > 0 ? (double)got / el : 0.0);
	fflush(stdout);
	bench_close(c, 1000);
	return got >= n ? 0 : 3;
}
