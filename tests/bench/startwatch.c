/* startwatch: measures a daemon's start-up, from exec to its live (not
 * retained) R/bridge/status "online" message.
 *   startwatch -u URI -o RESULT_FILE [-R ROOT] [-T TIMEOUT_S] -- COMMAND ARGS...
 * The process itself becomes COMMAND (so a shell's $! is the daemon's pid);
 * a forked child subscribes first, then lets the parent exec, and writes
 * "startwatch startup_ms=..." (or "startwatch error=...") to RESULT_FILE.
 * The fork comes before any thread exists, as Paho needs. */
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"

static atomic_llong online_ns;

static int arrived(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	(void)ctx;
	(void)topic_len;
	if (!m->retained && bench_find(m->payload, (size_t)m->payloadlen, "\"state\":\"online\"")) {
		long long zero = 0;
		atomic_compare_exchange_strong(&online_ns, &zero, bench_now_ns());
	}
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void result(const char *path, const char *line)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		perror(path);
}

static int full_io(int fd, void *buf, size_t n, int writing)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = writing ? write(fd, (char *)buf + done, n - done) : read(fd, (char *)buf + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static int watch(const char *uri, const char *root, const char *out, int64_t timeout_s, int to_parent, int from_parent)
{
	pid_t daemon = getppid();
	char id[64], filter[256];
	bench_client_id(id, sizeof(id), "startwatch");
	snprintf(filter, sizeof(filter), "%s/bridge/status", root);
	MQTTAsync c;
	char go = 1;
	int64_t t0;
	if (bench_connect(&c, uri, id, 10, arrived, NULL, 10000) < 0 || bench_subscribe(c, filter, 10000) < 0) {
		go = 0;
		full_io(to_parent, &go, 1, 1);
		result(out, "startwatch error=cannot_subscribe");
		return 1;
	}
	if (full_io(to_parent, &go, 1, 1) < 0 || full_io(from_parent, &t0, sizeof(t0), 0) < 0) {
		result(out, "startwatch error=exec_failed");
		bench_close(c, 1000);
		return 1;
	}
	int64_t deadline = bench_now_ns() + timeout_s * 1000000000;
	while (!atomic_load(&online_ns) && bench_now_ns() < deadline && getppid() == daemon)
		bench_sleep_until(bench_now_ns() + 1000000);
	long long t = atomic_load(&online_ns);
	char line[128];
	if (t)
		snprintf(line, sizeof(line), "startwatch startup_ms=%.1f", (double)(t - t0) / 1e6);
	else
		snprintf(line, sizeof(line), "startwatch error=%s", getppid() == daemon ? "timeout" : "daemon_exited");
	result(out, line);
	bench_close(c, 1000);
	return t ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: startwatch -u URI -o RESULT_FILE [-R ROOT] [-T TIMEOUT_S] -- COMMAND ARGS...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *uri = NULL, *out = NULL, *root = "seal";
	int64_t timeout_s = 120;
	int o;
	while ((o = getopt(argc, argv, "u:o:R:T:")) != -1) {
		switch (o) {
		case 'u': uri = optarg; break;
		case 'o': out = optarg; break;
		case 'R': root = optarg; break;
		case 'T': timeout_s = bench_arg_i64("startwatch", "-T", optarg, 1, 86400); break;
		default: usage();
		}
	}
	if (!uri || !out || optind >= argc || strlen(root) > 200 || strlen(out) > 4000)
		usage();
	int up[2], down[2];
	if (pipe(up) < 0 || pipe(down) < 0) {
		perror("pipe");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		_exit(watch(uri, root, out, timeout_s, up[1], down[0]));
	}
	close(up[1]);
	close(down[0]);
	char go = 0;
	if (full_io(up[0], &go, 1, 0) < 0 || !go) {
		fprintf(stderr, "startwatch: the watcher could not subscribe\n");
		return 1;
	}
	int64_t t0 = bench_now_ns();
	if (full_io(down[1], &t0, sizeof(t0), 1) < 0)
		return 1;
	close(up[0]);
	close(down[1]);
	execvp(argv[optind], argv + optind);
	perror(argv[optind]);
	return 127;
}
