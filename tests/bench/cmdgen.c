/* cmdgen: builds a roster the way a platform does, through the command topics:
 * for each of N households an admit, an install of its seal and (-P 1) a
 * permit until 2100, each QoS 1 with reply_to, and waits for every reply. At
 * most W commands wait for their reply at a time. Prints one key=value line;
 * the rate runs from the first publish to the last reply.
 *
 * Household i is <HH>%0*d with seal <DEV>%0*d (width -D). Communities hold 500
 * households, 5 communities a street, 20 streets a district, as in mkroster,
 * unless -C names one community (street and district s-/d- of its name).
 * Exit 0 when every reply said ok. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

struct gen {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t replies, ok, failed, pub_failed;
	int64_t last_ns;
	char first_error[200];
};

static int arrived(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	struct gen *g = ctx;
	int64_t t = bench_now_ns();
	(void)topic_len;
	int ok = bench_find(m->payload, (size_t)m->payloadlen, "\"ok\":true") != NULL;
	pthread_mutex_lock(&g->mu);
	g->replies++;
	if (ok)
		g->ok++;
	else {
		if (!g->failed)
			snprintf(g->first_error, sizeof g->first_error, "%.*s",
				 m->payloadlen < 190 ? m->payloadlen : 190, (const char *)m->payload);
		g->failed++;
	}
	g->last_ns = t;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void on_nack(void *ctx, MQTTAsync_failureData5 *r)
{
	struct gen *g = ctx;
	(void)r;
	pthread_mutex_lock(&g->mu);
	g->pub_failed++;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* Waits until at most limit commands wait for a reply; 0, or -1 at the deadline. */
static int wait_replies(struct gen *g, int64_t sent, int64_t limit, int64_t deadline_ns)
{
	pthread_mutex_lock(&g->mu);
	while (sent - g->replies - g->pub_failed > limit) {
		int64_t now = bench_now_ns();
		if (now >= deadline_ns) {
			pthread_mutex_unlock(&g->mu);
			return -1;
		}
		int64_t until = now + 100000000 < deadline_ns ? now + 100000000 : deadline_ns;
		struct timespec ts = {(time_t)(until / 1000000000), (long)(until % 1000000000)};
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
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
	ro.onFailure5 = on_nack;
	ro.context = g;
	for (;;) {
		int rc = MQTTAsync_sendMessage(c, topic, &m, &ro);
		if (rc == MQTTASYNC_SUCCESS)
			return 0;
		if (rc != MQTTASYNC_MAX_BUFFERED_MESSAGES || bench_now_ns() > deadline_ns) {
			fprintf(stderr, "cmdgen: publish %s: %d\n", topic, rc);
			return -1;
		}
		bench_sleep_until(bench_now_ns() + 1000000);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: cmdgen -u URI -n N [-o FIRST] [-H HH_PREFIX] [-d DEV_PREFIX] [-D DIGITS]\n"
			"              [-C COMMUNITY] [-P 0|1] [-w WINDOW] [-R ROOT] [-T TIMEOUT_S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *uri = NULL, *hh_prefix = "h-", *dev_prefix = "seal-", *community = NULL, *root = "seal";
	int64_t n = -1, first = 0, digits = 6, permit = 1, window = 1000, timeout_s = 600;
	int o;
	while ((o = getopt(argc, argv, "u:n:o:H:d:D:C:P:w:R:T:")) != -1) {
		switch (o) {
		case 'u': uri = optarg; break;
		case 'n': n = bench_arg_i64("cmdgen", "-n", optarg, 0, 100000000); break;
		case 'o': first = bench_arg_i64("cmdgen", "-o", optarg, 0, 100000000); break;
		case 'D': digits = bench_arg_i64("cmdgen", "-D", optarg, 1, 9); break;
		case 'P': permit = bench_arg_i64("cmdgen", "-P", optarg, 0, 1); break;
		case 'w': window = bench_arg_i64("cmdgen", "-w", optarg, 1, 60000); break;
		case 'T': timeout_s = bench_arg_i64("cmdgen", "-T", optarg, 1, 86400); break;
		case 'H': hh_prefix = optarg; break;
		case 'd': dev_prefix = optarg; break;
		case 'C': community = optarg; break;
		case 'R': root = optarg; break;
		default: usage();
		}
	}
	if (!uri || n < 0 || optind != argc || strlen(root) > 100 || strlen(hh_prefix) > 40 ||
	    strlen(dev_prefix) > 40 || (community && strlen(community) > 40))
		usage();

	struct gen g = {.replies = 0};
	pthread_mutex_init(&g.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g.cv, &ca);

	char id[64], reply_to[128], filter[140];
	bench_client_id(id, sizeof(id), "cmdgen");
	snprintf(reply_to, sizeof(reply_to), "bench/reply/%s", id);
	snprintf(filter, sizeof(filter), "%s/#", reply_to);
	MQTTAsync c;
	if (bench_connect(&c, uri, id, (int)(window < 65535 ? window : 65535), arrived, &g, 10000) < 0 ||
	    bench_subscribe(c, reply_to, 10000) < 0)
		return 1;

	int64_t deadline = bench_now_ns() + timeout_s * 1000000000;
	char topic[3][160], payload[600], hh[64], dev[64], com[64], street[64], district[64];
	snprintf(topic[0], sizeof topic[0], "%s/cmd/admit", root);
	snprintf(topic[1], sizeof topic[1], "%s/cmd/install", root);
	snprintf(topic[2], sizeof topic[2], "%s/cmd/permit", root);
	int64_t t0 = bench_now_ns(), sent = 0, year = (int64_t)time(NULL) + 365 * 86400;
	int err = 0;
	for (int64_t i = first; i < first + n && !err; i++) {
		snprintf(hh, sizeof hh, "%s%0*lld", hh_prefix, (int)digits, (long long)i);
		snprintf(dev, sizeof dev, "%s%0*lld", dev_prefix, (int)digits, (long long)i);
		if (community) {
			snprintf(com, sizeof com, "%s", community);
			snprintf(street, sizeof street, "s-%s", community);
			snprintf(district, sizeof district, "d-%s", community);
		} else {
			int64_t k = i / 500;
			snprintf(com, sizeof com, "c-%05lld", (long long)k);
			snprintf(street, sizeof street, "s-%04lld", (long long)(k / 5));
			snprintf(district, sizeof district, "d-%03lld", (long long)(k / 100));
		}
		for (int op = 0; op < (permit ? 3 : 2) && !err; op++) {
			if (op == 0)
				snprintf(payload, sizeof payload,
					 "{\"household_id\":\"%s\",\"district_id\":\"%s\",\"street_id\":\"%s\","
					 "\"community_id\":\"%s\",\"category\":\"close_contact\",\"persons\":2,"
					 "\"end\":%lld,\"address\":\"%lld-%lld-%lld\",\"request_id\":\"a%lld\","
					 "\"reply_to\":\"%s\"}",
					 hh, district, street, com, (long long)year, (long long)(i / 500 % 100),
					 (long long)(i % 500 / 20), (long long)(i % 20 + 101), (long long)i, reply_to);
			else if (op == 1)
				snprintf(payload, sizeof payload,
					 "{\"household_id\":\"%s\",\"device_id\":\"%s\",\"request_id\":\"i%lld\","
					 "\"reply_to\":\"%s\"}",
					 hh, dev, (long long)i, reply_to);
			else
				snprintf(payload, sizeof payload,
					 "{\"household_id\":\"%s\",\"until\":4102444800,\"reason\":\"bench\","
					 "\"request_id\":\"p%lld\",\"reply_to\":\"%s\"}",
					 hh, (long long)i, reply_to);
			if (wait_replies(&g, sent, window - 1, deadline) < 0) {
				fprintf(stderr, "cmdgen: timed out with %lld replies missing\n",
					(long long)(sent - g.replies));
				err = 1;
			} else if (publish(c, &g, topic[op], payload, deadline) < 0) {
				err = 1;
			} else {
				sent++;
			}
		}
	}
	if (!err && wait_replies(&g, sent, 0, deadline) < 0) {
		fprintf(stderr, "cmdgen: timed out waiting for the last %lld replies\n", (long long)(sent - g.replies));
		err = 1;
	}
	pthread_mutex_lock(&g.mu);
	int64_t replies = g.replies, ok = g.ok, failed = g.failed + g.pub_failed, last = g.last_ns;
	pthread_mutex_unlock(&g.mu);
	double el = (double)((last ? last : bench_now_ns()) - t0) / 1e9;
	printf("cmdgen sent=%lld replies=%lld ok=%lld failed=%lld first_ns=%lld last_ns=%lld elapsed_s=%.3f rate=%.0f\n",
	       (long long)sent, (long long)replies, (long long)ok, (long long)failed, (long long)t0, (long long)last, el,
	       el > 0 ? (double)replies / el : 0.0);
	if (failed)
		fprintf(stderr, "cmdgen: %lld commands failed; first: %s\n", (long long)failed, g.first_error);
	fflush(stdout);
	bench_close(c, 2000);
	return err || failed ? 1 : 0;
}
