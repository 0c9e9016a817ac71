/* Settings files (config_load): arbitrary bytes as the INI file. The bytes go
 * into one memfd, opened by path through /proc/self/fd, since config_load
 * takes a path. A loaded config must hold only documented values. */
#define _GNU_SOURCE /* memfd_create */
#include "config.h"
#include "fuzz_check.h"

#include <sys/mman.h>
#include <unistd.h>

#define DAY_MS (24LL * 3600 * 1000)

static int fd = -1;
static char path[64];

static void check_str(const char *s, size_t min, size_t max)
{
	FUZZ_CHECK(fuzz_terminated(s, CONFIG_STR_MAX));
	FUZZ_CHECK(strlen(s) >= min && strlen(s) <= max);
}

static void check_duration(int64_t ms, int64_t min)
{
	FUZZ_CHECK(ms >= min && ms <= 30 * DAY_MS);
}

static int uri_ok(const char *u)
{
	static const char *const schemes[] = {"tcp://", "ssl://", "mqtt://", "mqtts://", "ws://", "wss://"};
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		if (strncmp(u, schemes[i], strlen(schemes[i])) == 0 && u[strlen(schemes[i])])
			return 1;
	return 0;
}

static void check_loaded(const struct config *c)
{
	check_str(c->mqtt.uri, 1, CONFIG_STR_MAX - 1);
	FUZZ_CHECK(uri_ok(c->mqtt.uri));
	check_str(c->mqtt.client_id, 1, 64);
	FUZZ_CHECK(!strpbrk(c->mqtt.client_id, "/+#") && fuzz_no_control(c->mqtt.client_id));
	const char *t = c->mqtt.topic_root;
	check_str(t, 1, 128);
	FUZZ_CHECK(!strpbrk(t, "+#") && fuzz_no_control(t) && t[0] != '/' && t[0] != '$' &&
		   t[strlen(t) - 1] != '/' && !strstr(t, "//"));
	check_str(c->mqtt.username, 0, CONFIG_STR_MAX - 1);
	check_str(c->mqtt.password, 0, CONFIG_STR_MAX - 1);
	check_str(c->mqtt.cafile, 0, CONFIG_STR_MAX - 1);
	check_str(c->mqtt.certfile, 0, CONFIG_STR_MAX - 1);
	check_str(c->mqtt.keyfile, 0, CONFIG_STR_MAX - 1);
	FUZZ_CHECK(!c->mqtt.certfile[0] == !c->mqtt.keyfile[0]);
	if (c->mqtt.cafile[0] || c->mqtt.certfile[0])
		FUZZ_CHECK(!strncmp(c->mqtt.uri, "ssl://", 6) || !strncmp(c->mqtt.uri, "mqtts://", 8) ||
			   !strncmp(c->mqtt.uri, "wss://", 6));
	FUZZ_CHECK(c->mqtt.keepalive >= 5 && c->mqtt.keepalive <= 3600);
	FUZZ_CHECK(c->mqtt.session_expiry >= 0 && c->mqtt.session_expiry <= 2592000);
	FUZZ_CHECK(c->mqtt.max_inflight >= 1 && c->mqtt.max_inflight <= 65535);
	check_str(c->store.path, 1, CONFIG_STR_MAX - 1);
	check_duration(c->timing.silence_after_ms, 10);
	check_duration(c->timing.unmonitored_after_ms, 10);
	check_duration(c->timing.stats_interval_ms, 50);
	FUZZ_CHECK(c->timing.battery_low >= 0 && c->timing.battery_low <= 100);
	check_duration(c->escalation.street_after_ms, 10);
	check_duration(c->escalation.district_after_ms, 10);
	FUZZ_CHECK(fuzz_terminated(c->log.level, sizeof c->log.level));
	FUZZ_CHECK(!strcmp(c->log.level, "debug") || !strcmp(c->log.level, "info") ||
		   !strcmp(c->log.level, "warning") || !strcmp(c->log.level, "error"));
	check_str(c->log.file, 0, CONFIG_STR_MAX - 1);
	/* vendor sources: flags are flags, the Zigbee2MQTT base a topic root like ours */
	FUZZ_CHECK(c->zigbee2mqtt.enabled == 0 || c->zigbee2mqtt.enabled == 1);
	FUZZ_CHECK(c->shelly.enabled == 0 || c->shelly.enabled == 1);
	FUZZ_CHECK(c->tasmota.enabled == 0 || c->tasmota.enabled == 1);
	FUZZ_CHECK(c->tasmota.switch_closed_on == 0 || c->tasmota.switch_closed_on == 1);
	const char *b = c->zigbee2mqtt.base_topic;
	check_str(b, 1, 128);
	FUZZ_CHECK(!strpbrk(b, "+#") && fuzz_no_control(b) && b[strlen(b) - 1] != '/');
	/* The sections other branches add ([store] keep_days, [timing] timezone and
	 * status_interval, [escalation] reminder_after, [model.<name>], [cluster])
	 * are in the dictionary and seeds; their bounds go here after the merge. */
}

/* Every error line is "path:line: message" or "path: message", whole lines only. */
static void check_errors(const char *err)
{
	size_t plen = strlen(path);
	FUZZ_CHECK(fuzz_terminated(err, CONFIG_ERR_MAX));
	FUZZ_CHECK(err[0] != '\0');
	FUZZ_CHECK(err[strlen(err) - 1] == '\n');
	for (const char *line = err; *line;) {
		const char *nl = strchr(line, '\n');
		FUZZ_CHECK(nl != NULL);
		FUZZ_CHECK(strncmp(line, path, plen) == 0 || strncmp(line, "(more errors", 12) == 0);
		line = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		fd = memfd_create("fuzz_config.ini", 0);
		FUZZ_CHECK(fd >= 0);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);

	struct config c;
	char err[CONFIG_ERR_MAX];
	int rc = config_load(path, &c, err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0)
		check_loaded(&c);
	else
		check_errors(err);
	return 0;
}
