/* loadgen: publishes N QoS 1 seal reports to R/dev/<prefix><%06d>/report,
 * round robin over S seals, as fast as the broker acknowledges them (a window
 * of W unacknowledged messages, paced by the PUBACK callbacks) or at R/s.
 * Optionally ends with a door opening of a marker seal, sent once every
 * report before it is acknowledged: its alert tells when a daemon has
 * processed the whole stream. Prints one key=value line. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

enum mode { MODE_HB, MODE_HBSEQ, MODE_STATE, MODE_OPEN, MODE_DOOR };

struct gen {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t acked, failed;
	int64_t last_ack_ns;
	int waiting;
};

static void on_ack(void *ctx, MQTTAsync_successData5 *r)
{
	struct gen *g = ctx;
	int64_t t = bench_now_ns();
	pthread_mutex_lock(&g->mu);
	/* Mosquitto PUBACKs with a failure code for e.g. an ACL denial under v5. */
	if (r && r->reasonCode >= 0x80)
		g->failed++;
	else
		g->acked++;
	g->last_ack_ns = t;
	if (g->waiting)
		pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void on_nack(void *ctx, MQTTAsync_failureData5 *r)
{
	struct gen *g = ctx;
	(void)r;
	pthread_mutex_lock(&g->mu);
	g->failed++;
	if (g->waiting)
		pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* Waits until at most `limit` messages are unacknowledged; 0, or -1 at the deadline. */
static int wait_window(struct gen *g, int64_t sent, int64_t limit, int64_t deadline_ns)
{
	pthread_mutex_lock(&g->mu);
	while (sent - g->acked - g->failed > limit) {
		int64_t now = bench_now_ns();
		if (now >= deadline_ns) {
			pthread_mutex_unlock(&g->mu);
			return -1;
		}
		int64_t until = now + 100000000 < deadline_ns ? now + 100000000 : deadline_ns;
		struct timespec ts = {(time_t)(until / 1000000000), (long)(until % 1000000000)};
		g->waiting = 1;
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
		g->waiting = 0;
	}
	pthread_mutex_unlock(&g->mu);
	return 0;
}

static int publish(MQTTAsync c, struct gen *g, const char *topic, const char *payload, int64_t deadline_ns)
{
	MQTTAsync_message m = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	m.payload = (void *)payload;
	m.payloadlen = (int)strlen(payload);
	m.qos = 1;
	ro.onSuccess5 = on_ack;
	ro.onFailure5 = on_nack;
	ro.context = g;
	for (;;) {
		int rc = MQTTAsync_sendMessage(c, topic, &m, &ro);
		if (rc == MQTTASYNC_SUCCESS)
			return 0;
		/* Paho's own buffer is full: let it drain. */
		if (rc != MQTTASYNC_MAX_BUFFERED_MESSAGES || bench_now_ns() > deadline_ns) {
			fprintf(stderr, "loadgen: publish %s: %d\n", topic, rc);
			return -1;
		}
		bench_sleep_until(bench_now_ns() + 1000000);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen -u URI -n N [-s SEALS] [-m hb|hbseq|state|open|door] [-r RATE/s] [-w WINDOW]\n"
		"               [-p PREFIX] [-o FIRST] [-d DEVICE] [-k MARK_DEVICE] [-R ROOT] [-b BASE]\n"
		"               [-T TIMEOUT_S] [-N]\n"
		"  message i goes to seal FIRST + (BASE+i) %% SEALS, in pass (BASE+i) / SEALS\n"
		"  hb: {}   hbseq: {\"seq\":BASE+i}   state: door closed, battery 81/80 alternating per pass\n"
		"  door: door open/closed alternating per pass (a state change each)\n"
		"  open: {\"door\":\"open\"} (to DEVICE when given)   -N: set TCP_NODELAY on our socket\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *uri = NULL, *prefix = "seal-", *device = NULL, *mark = NULL, *root = "seal";
	int64_t n = -1, seals = 1000, rate = 0, window = 1000, first = 0, base = 0, timeout_s = 600;
	enum mode mode = MODE_HB;
	int nodelay = 0, o;
	while ((o = getopt(argc, argv, "u:n:s:m:r:w:p:o:d:k:R:b:T:N")) != -1) {
		switch (o) {
		case 'u': uri = optarg; break;
		case 'n': n = bench_arg_i64("loadgen", "-n", optarg, 0, INT64_MAX / 2); break;
		case 's': seals = bench_arg_i64("loadgen", "-s", optarg, 1, 100000000); break;
		case 'r': rate = bench_arg_i64("loadgen", "-r", optarg, 0, 10000000); break;
		case 'w': window = bench_arg_i64("loadgen", "-w", optarg, 1, 65535); break;
		case 'o': first = bench_arg_i64("loadgen", "-o", optarg, 0, 100000000); break;
		case 'b': base = bench_arg_i64("loadgen", "-b", optarg, 0, INT64_MAX / 4); break;
		case 'T': timeout_s = bench_arg_i64("loadgen", "-T", optarg, 1, 86400); break;
		case 'p': prefix = optarg; break;
		case 'd': device = optarg; break;
		case 'k': mark = optarg; break;
		case 'R': root = optarg; break;
		case 'N': nodelay = 1; break;
		case 'm':
			if (strcmp(optarg, "hb") == 0) mode = MODE_HB;
			else if (strcmp(optarg, "hbseq") == 0) mode = MODE_HBSEQ;
			else if (strcmp(optarg, "state") == 0) mode = MODE_STATE;
			else if (strcmp(optarg, "open") == 0) mode = MODE_OPEN;
			else if (strcmp(optarg, "door") == 0) mode = MODE_DOOR;
			else usage();
			break;
		default: usage();
		}
	}
	if (!uri || n < 0 || optind != argc || strlen(root) > 200 || strlen(prefix) > 40 ||
	    (device && strlen(device) > 64) || (mark && strlen(mark) > 64))
		usage();

	struct gen g = {.acked = 0};
	pthread_mutex_init(&g.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g.cv, &ca);

	char id[64];
	bench_client_id(id, sizeof(id), "loadgen");
	MQTTAsync c;
	if (bench_connect(&c, uri, id, (int)window, NULL, NULL, 10000) < 0)
		return 1;
	if (nodelay)
		bench_nodelay(uri);

	int64_t deadline = bench_now_ns() + timeout_s * 1000000000;
	char topic[320], payload[96];
	int64_t t0 = bench_now_ns(), sent = 0, mark_ns = 0;
	int err = 0;
	for (int64_t i = 0; i < n && !err; i++) {
		if (rate > 0)
			bench_sleep_until(t0 + (int64_t)((double)i * 1e9 / (double)rate));
		if (wait_window(&g, sent, window - 1, deadline) < 0) {
			fprintf(stderr, "loadgen: timed out with %lld unacknowledged\n", (long long)(sent - g.acked));
			err = 1;
			break;
		}
		/* Position in the stream of all runs: a run started with -b where the last
		 * one ended goes on with the same round robin and the same alternation. */
		int64_t at = base + i, k = first + at % seals, pass = at / seals;
		if (device && mode == MODE_OPEN)
			snprintf(topic, sizeof(topic), "%s/dev/%s/report", root, device);
		else
			snprintf(topic, sizeof(topic), "%s/dev/%s%06lld/report", root, prefix, (long long)k);
		switch (mode) {
		case MODE_HB: snprintf(payload, sizeof(payload), "{}"); break;
		case MODE_HBSEQ: snprintf(payload, sizeof(payload), "{\"seq\":%lld}", (long long)at); break;
		/* The roster stores battery 80: every pass changes it, none raises an alert. */
		case MODE_STATE:
			snprintf(payload, sizeof(payload), "{\"door\":\"closed\",\"battery\":%d}", pass % 2 ? 80 : 81);
			break;
		case MODE_OPEN: snprintf(payload, sizeof(payload), "{\"door\":\"open\"}"); break;
		/* Inside a permit every flip is a state change with an audit row, and no alert. */
		case MODE_DOOR:
			snprintf(payload, sizeof(payload), "{\"door\":\"%s\"}", pass % 2 ? "closed" : "open");
			break;
		}
		if (publish(c, &g, topic, payload, deadline) < 0)
			err = 1;
		else
			sent++;
	}
	int64_t last_send = bench_now_ns();
	if (wait_window(&g, sent, 0, deadline) < 0) {
		fprintf(stderr, "loadgen: timed out waiting for the last acknowledgements\n");
		err = 1;
	}
	pthread_mutex_lock(&g.mu);
	int64_t acked = g.acked, failed = g.failed, last_ack = g.last_ack_ns;
	pthread_mutex_unlock(&g.mu);
	if (mark && !err) {
		snprintf(topic, sizeof(topic), "%s/dev/%s/report", root, mark);
		mark_ns = bench_now_ns();
		if (publish(c, &g, topic, "{\"door\":\"open\"}", deadline) < 0 ||
		    wait_window(&g, sent + 1, 0, deadline) < 0)
			err = 1;
	}
	double el = (double)((last_ack ? last_ack : last_send) - t0) / 1e9;
	printf("loadgen mode=%s sent=%lld acked=%lld failed=%lld first_ns=%lld last_ack_ns=%lld mark_ns=%lld"
	       " elapsed_s=%.3f rate=%.0f\n",
	       mode == MODE_HB ? "hb" : mode == MODE_HBSEQ ? "hbseq" : mode == MODE_STATE ? "state" : mode == MODE_DOOR ? "door" : "open",
	       (long long)sent, (long long)acked, (long long)failed, (long long)t0, (long long)last_ack,
	       (long long)mark_ns, el, el > 0 ? (double)acked / el : 0.0);
	fflush(stdout);
	bench_close(c, 2000);
	return err || failed ? 1 : 0;
}
