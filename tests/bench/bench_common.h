/* Shared by the benchmark tools: clocks, strict option parsing, a blocking
 * MQTT v5 connect and subscribe over Paho MQTTAsync, and TCP_NODELAY on
 * Paho's own sockets (Paho has no option for it). Tools print key=value
 * lines that scripts/bench.sh reads; every time is CLOCK_MONOTONIC ns, which
 * all processes on the machine share. */
#ifndef SB_BENCH_COMMON_H
#define SB_BENCH_COMMON_H

#include <MQTTAsync.h>
#include <stddef.h>
#include <stdint.h>

int64_t bench_now_ns(void);
/* Sleeps until the monotonic time t_ns (returns at once when it has passed). */
void bench_sleep_until(int64_t t_ns);

/* Whole decimal number in [min, max]; 0 or -1. */
int bench_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Like bench_parse_i64 but prints "prog: bad NAME" and exits 2. */
int64_t bench_arg_i64(const char *prog, const char *name, const char *s, int64_t min, int64_t max);

/* Finds needle in the first n bytes of hay. */
const char *bench_find(const char *hay, size_t n, const char *needle);

/* Creates and connects (clean start, MQTT v5) within timeout_ms. arrived may be
 * NULL for a publisher. max_inflight bounds our own QoS 1 publishes in flight.
 * 0, or -1 with a message on stderr (*out NULL). */
int bench_connect(MQTTAsync *out, const char *uri, const char *client_id, int max_inflight,
		  MQTTAsync_messageArrived *arrived, void *ctx, int timeout_ms);
/* Subscribes to one filter at QoS 1 and waits for the SUBACK. 0 or -1. */
int bench_subscribe(MQTTAsync c, const char *filter, int timeout_ms);
/* Disconnects (waiting at most timeout_ms) and destroys; NULL is a no-op. */
void bench_close(MQTTAsync c, int timeout_ms);

/* Sets TCP_NODELAY on every TCP socket of this process connected to the port
 * in uri (Paho creates them without it). Returns how many it set. */
int bench_nodelay(const char *uri);

/* Generates a unique-enough client id "<prefix>-<pid>-<n>". */
void bench_client_id(char *buf, size_t n, const char *prefix);

#endif
