/* echo: the ceiling for commands. A bare Paho client that answers every
 * R/cmd/<op> as fast as it can with the least any responder must publish: a
 * QoS 1 reply to reply_to, from the receive callback (so each command's PUBACK
 * follows its reply, as in the daemon). With -S it also publishes a retained
 * household state for every command (the daemon merges a household's states
 * that have not gone out yet, so it publishes fewer). No store, no JSON
 * library, no roster. Runs until SIGTERM or -T seconds; prints one key=value line. */
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

static MQTTAsync client;
static char root[128] = "seal";
static atomic_llong answered, failed;
static volatile sig_atomic_t stop;
static int with_states;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* The string value of "key":"..." in p (no escapes: ours never have any). */
static int field(const char *p, size_t n, const char *key, char *out, size_t size)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":\"", key);
	const char *v = bench_find(p, n, pat);
	if (!v)
		return -1;
	v += strlen(pat);
	const char *e = memchr(v, '"', (size_t)(p + n - v));
	if (!e || (size_t)(e - v) >= size)
		return -1;
	memcpy(out, v, (size_t)(e - v));
	out[e - v] = '\0';
	return 0;
}

static void publish(const char *topic, const char *payload, int retained)
{
	MQTTAsync_message m = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	m.payload = (void *)payload;
	m.payloadlen = (int)strlen(payload);
	m.qos = 1;
	m.retained = retained;
	if (MQTTAsync_sendMessage(client, topic, &m, &ro) != MQTTASYNC_SUCCESS)
		atomic_fetch_add(&failed, 1);
}

static int arrived(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	(void)ctx, (void)topic_len;
	char reply_to[300], rid[80], hh[80], t[400], body[600];
	const char *p = m->payload;
	size_t n = (size_t)m->payloadlen;
	const char *op = strrchr(topic, '/');
	if (field(p, n, "reply_to", reply_to, sizeof reply_to) == 0) {
		if (field(p, n, "request_id", rid, sizeof rid) < 0)
			rid[0] = '\0';
		snprintf(body, sizeof body, "{\"request_id\":\"%s\",\"op\":\"%s\",\"ok\":true}", rid, op ? op + 1 : "");
		publish(reply_to, body, 0);
		if (with_states && field(p, n, "household_id", hh, sizeof hh) == 0) {
			snprintf(t, sizeof t, "%s/state/household/%s", root, hh);
			snprintf(body, sizeof body,
				 "{\"household_id\":\"%s\",\"door\":\"unknown\",\"online\":false,\"open_alerts\":[]}", hh);
			publish(t, body, 1);
		}
		atomic_fetch_add(&answered, 1);
	}
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

int main(int argc, char **argv)
{
	const char *uri = NULL, *ready = NULL;
	int64_t timeout_s = 3600;
	int o;
	while ((o = getopt(argc, argv, "u:R:r:T:S")) != -1) {
		switch (o) {
		case 'S': with_states = 1; break;
		case 'u': uri = optarg; break;
		case 'R': snprintf(root, sizeof root, "%s", optarg); break;
		case 'r': ready = optarg; break;
		case 'T': timeout_s = bench_arg_i64("echo", "-T", optarg, 1, 86400); break;
		default:
			fprintf(stderr, "usage: echo -u URI [-R ROOT] [-r READY_FILE] [-T TIMEOUT_S] [-S]\n");
			return 2;
		}
	}
	if (!uri)
		return 2;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	char id[64], filter[160];
	bench_client_id(id, sizeof id, "echo");
	snprintf(filter, sizeof filter, "%s/cmd/+", root);
	if (bench_connect(&client, uri, id, 1000, arrived, NULL, 10000) < 0 || bench_subscribe(client, filter, 10000) < 0)
		return 1;
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f)
			fclose(f);
	}
	int64_t until = bench_now_ns() + timeout_s * 1000000000;
	while (!stop && bench_now_ns() < until)
		bench_sleep_until(bench_now_ns() + 50000000);
	printf("echo answered=%lld failed=%lld\n", (long long)atomic_load(&answered), (long long)atomic_load(&failed));
	fflush(stdout);
	bench_close(client, 2000);
	return 0;
}
