#include "check.h"
#include "config.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_path[64];

/* Writes text to a fresh temp file; the path is in tmp_path until the next call. */
static const char *write_ini(const char *text)
{
	int fd;
	size_t len = strlen(text);

	if (tmp_path[0])
		unlink(tmp_path);
	snprintf(tmp_path, sizeof tmp_path, "/tmp/sb_test_config_XXXXXX");
	fd = mkstemp(tmp_path);
	CHECK(fd >= 0);
	CHECK(write(fd, text, len) == (ssize_t)len);
	close(fd);
	return tmp_path;
}

static int load(const char *text, struct config *c, char err[CONFIG_ERR_MAX])
{
	return config_load(write_ini(text), c, err);
}

/* "FILE:LINE: " followed by needle appears in err. */
static int has_error(const char *err, int line, const char *needle)
{
	char want[256];
	const char *p;

	snprintf(want, sizeof want, "%s:%d: ", tmp_path, line);
	for (p = strstr(err, want); p; p = strstr(p + 1, want)) {
		const char *eol = strchr(p, '\n');
		const char *hit = strstr(p + strlen(want), needle);
		if (eol && hit && hit < eol)
			return 1;
	}
	return 0;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_defaults(void)
{
	struct config c;

	config_defaults(&c);
	CHECK_STR(c.mqtt.uri, "tcp://127.0.0.1:1883");
	CHECK_STR(c.mqtt.client_id, "sealbridge");
	CHECK_STR(c.mqtt.topic_root, "seal");
	CHECK_STR(c.mqtt.username, "");
	CHECK_STR(c.mqtt.password, "");
	CHECK_STR(c.mqtt.cafile, "");
	CHECK_STR(c.mqtt.certfile, "");
	CHECK_STR(c.mqtt.keyfile, "");
	CHECK(c.mqtt.keepalive == 30);
	CHECK(c.mqtt.session_expiry == 86400);
	CHECK(c.mqtt.max_inflight == 1000);
	CHECK_STR(c.store.path, "sealbridge.db");
	CHECK(c.store.keep_days == 90);
	CHECK(c.store.retention_every_ms == 3600000);
	CHECK(c.store.max_waiting_saves == 20000);
	CHECK(c.store.stop_retry_ms == 10000);
	CHECK(c.timing.silence_after_ms == 900000);
	CHECK(c.timing.unmonitored_after_ms == 3600000);
	CHECK(c.timing.battery_low == 20);
	CHECK(c.timing.stats_interval_ms == 60000);
	CHECK(c.escalation.street_after_ms == 600000);
	CHECK(c.escalation.district_after_ms == 900000);
	CHECK_STR(c.log.level, "info");
	CHECK_STR(c.log.file, "");
	CHECK(c.zigbee2mqtt.enabled == 0);
	CHECK_STR(c.zigbee2mqtt.base_topic, "zigbee2mqtt");
	CHECK(c.shelly.enabled == 0);
	CHECK(c.tasmota.enabled == 0);
	CHECK(c.tasmota.switch_closed_on == 1);
}

static void test_empty_file_gives_defaults(void)
{
	struct config c, d;
	char err[CONFIG_ERR_MAX];

	CHECK(load("", &c, err) == 0);
	CHECK_STR(err, "");
	config_defaults(&d);
	CHECK(memcmp(&c, &d, sizeof c) == 0);
}

static void test_interface_example(void)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	const char *ini = "[mqtt]\n"
			  "uri = tcp://127.0.0.1:1883        ; ssl://host:8883 for TLS\n"
			  "client_id = sealbridge\n"
			  "topic_root = seal\n"
			  "username =\n"
			  "password =\n"
			  "cafile =\n"
			  "certfile =\n"
			  "keyfile =\n"
			  "keepalive = 30\n"
			  "[store]\n"
			  "path = sealbridge.db\n"
			  "[timing]\n"
			  "silence_after = 900\n"
			  "unmonitored_after = 3600\n"
			  "battery_low = 20\n"
			  "stats_interval = 60\n"
			  "[escalation]\n"
			  "street_after = 600\n"
			  "district_after = 900\n";

	CHECK(load(ini, &c, err) == 0);
	CHECK_STR(err, "");
	CHECK_STR(c.mqtt.uri, "tcp://127.0.0.1:1883");
	CHECK_STR(c.mqtt.client_id, "sealbridge");
	CHECK_STR(c.mqtt.topic_root, "seal");
	CHECK_STR(c.mqtt.username, "");
	CHECK(c.mqtt.keepalive == 30);
	CHECK_STR(c.store.path, "sealbridge.db");
	CHECK(c.timing.silence_after_ms == 900000);
	CHECK(c.timing.unmonitored_after_ms == 3600000);
	CHECK(c.timing.battery_low == 20);
	CHECK(c.timing.stats_interval_ms == 60000);
	CHECK(c.escalation.street_after_ms == 600000);
	CHECK(c.escalation.district_after_ms == 900000);
}

static void test_deploy_example_is_the_defaults(void)
{
	struct config c, d;
	char err[CONFIG_ERR_MAX], path[512];
	const char *slash = strrchr(__FILE__, '/');
	int n = slash ? (int)(slash - __FILE__) : 0;

	/* __FILE__ is .../tests/unit/test_config.c */
	snprintf(path, sizeof path, "%.*s%s../../deploy/sealbridge.ini", n, __FILE__, slash ? "/" : "");
	CHECK(config_load(path, &c, err) == 0);
	config_defaults(&d);
	CHECK(memcmp(&c, &d, sizeof c) == 0);
}

static void test_values_and_decimals(void)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	const char *ini = "[mqtt]\n"
			  "uri = ssl://broker.example:8883\n"
			  "client_id = sb-1\n"
			  "topic_root = city/quarantine\n"
			  "username = bridge\n"
			  "password = s3cret;x\n"
			  "cafile = /etc/ca.pem\n"
			  "certfile = /etc/c.pem\n"
			  "keyfile = /etc/k.pem\n"
			  "keepalive = 5\n"
			  "session_expiry = 0\n"
			  "max_inflight = 65535\n"
			  "[store]\n"
			  "path = /var/lib/sb.db\n"
			  "keep_days = 0\n"
			  "retention_every = 1\n"
			  "max_waiting_saves = 100\n"
			  "stop_retry = 0\n"
			  "[timing]\n"
			  "silence_after = 0.5\n"
			  "unmonitored_after = .25\n"
			  "battery_low = 0\n"
			  "stats_interval = 0.05\n"
			  "[escalation]\n"
			  "street_after = 1.0006\n"
			  "district_after = 2592000\n"
			  "[log]\n"
			  "level = debug\n"
			  "file = /tmp/sb.log\n"
			  "[zigbee2mqtt]\n"
			  "enabled = true\n"
			  "base_topic = site/a/z2m\n"
			  "[shelly]\n"
			  "enabled = yes\n"
			  "[tasmota]\n"
			  "enabled = 1\n"
			  "switch_closed = OFF\n";

	CHECK(load(ini, &c, err) == 0);
	CHECK_STR(err, "");
	CHECK_STR(c.mqtt.uri, "ssl://broker.example:8883");
	CHECK_STR(c.mqtt.topic_root, "city/quarantine");
	CHECK_STR(c.mqtt.password, "s3cret;x");
	CHECK_STR(c.mqtt.keyfile, "/etc/k.pem");
	CHECK(c.mqtt.keepalive == 5);
	CHECK(c.mqtt.session_expiry == 0);
	CHECK(c.mqtt.max_inflight == 65535);
	CHECK_STR(c.store.path, "/var/lib/sb.db");
	CHECK(c.store.keep_days == 0 && c.store.retention_every_ms == 1000);
	CHECK(c.store.max_waiting_saves == 100 && c.store.stop_retry_ms == 0);
	CHECK(c.timing.silence_after_ms == 500);
	CHECK(c.timing.unmonitored_after_ms == 250);
	CHECK(c.timing.battery_low == 0);
	CHECK(c.timing.stats_interval_ms == 50);
	CHECK(c.escalation.street_after_ms == 1001);
	CHECK(c.escalation.district_after_ms == 2592000000LL);
	CHECK_STR(c.log.level, "debug");
	CHECK_STR(c.log.file, "/tmp/sb.log");
	CHECK(c.zigbee2mqtt.enabled == 1);
	CHECK_STR(c.zigbee2mqtt.base_topic, "site/a/z2m");
	CHECK(c.shelly.enabled == 1);
	CHECK(c.tasmota.enabled == 1);
	CHECK(c.tasmota.switch_closed_on == 0);
}

static void test_vendor_switches(void)
{
	static const struct {
		const char *text;
		int enabled, closed_on;
	} cases[] = {
		{"[tasmota]\nenabled = false\nswitch_closed = on\n", 0, 1},
		{"[tasmota]\nenabled = no\nswitch_closed = off\n", 0, 0},
		{"[tasmota]\nenabled = on\n", 1, 1},
		{"[tasmota]\nenabled = 0\n", 0, 1},
	};
	struct config c;
	char err[CONFIG_ERR_MAX];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK(load(cases[i].text, &c, err) == 0);
		CHECK(c.tasmota.enabled == cases[i].enabled);
		CHECK(c.tasmota.switch_closed_on == cases[i].closed_on);
	}
}

static void test_indented_and_crlf(void)
{
	struct config c;
	char err[CONFIG_ERR_MAX];

	/* An indented line is its own setting, not a continuation of the one above. */
	CHECK(load("[mqtt]\r\n  client_id = a\r\n  keepalive = 60\r\n", &c, err) == 0);
	CHECK_STR(c.mqtt.client_id, "a");
	CHECK(c.mqtt.keepalive == 60);
}

struct bad_case {
	const char *line; /* goes on line 2, after a header on line 1 */
	const char *section;
	const char *msg;
};

static void test_each_bad_value(void)
{
	static const struct bad_case cases[] = {
		{"keepalive = 4", "mqtt", "mqtt.keepalive: must be an integer from 5 to 3600"},
		{"keepalive = 3601", "mqtt", "mqtt.keepalive"},
		{"keepalive = 30s", "mqtt", "mqtt.keepalive"},
		{"keepalive = 0x1e", "mqtt", "mqtt.keepalive"},
		{"keepalive = 1.5", "mqtt", "mqtt.keepalive"},
		{"keepalive =", "mqtt", "mqtt.keepalive"},
		{"keepalive = 99999999999999999999", "mqtt", "mqtt.keepalive"},
		{"session_expiry = -1", "mqtt", "mqtt.session_expiry"},
		{"session_expiry = 2592001", "mqtt", "mqtt.session_expiry"},
		{"max_inflight = 0", "mqtt", "mqtt.max_inflight"},
		{"max_inflight = 65536", "mqtt", "mqtt.max_inflight"},
		{"uri = http://x:80", "mqtt", "mqtt.uri: must start with tcp://"},
		{"uri = tcp://", "mqtt", "mqtt.uri"},
		{"uri =", "mqtt", "mqtt.uri"},
		{"client_id =", "mqtt", "mqtt.client_id"},
		{"client_id = a/b", "mqtt", "mqtt.client_id"},
		{"client_id = a+b", "mqtt", "mqtt.client_id"},
		{"client_id = a#b", "mqtt", "mqtt.client_id"},
		{"client_id = a\tb", "mqtt", "mqtt.client_id"},
		{"client_id = 0123456789012345678901234567890123456789012345678901234567890123x", "mqtt",
		 "mqtt.client_id"},
		{"topic_root =", "mqtt", "mqtt.topic_root"},
		{"topic_root = /seal", "mqtt", "mqtt.topic_root"},
		{"topic_root = seal/", "mqtt", "mqtt.topic_root"},
		{"topic_root = a//b", "mqtt", "mqtt.topic_root"},
		{"topic_root = se+al", "mqtt", "mqtt.topic_root"},
		{"topic_root = seal/#", "mqtt", "mqtt.topic_root"},
		{"topic_root = $SYS", "mqtt", "mqtt.topic_root"},
		{"path =", "store", "store.path"},
		{"keep_days = -1", "store", "store.keep_days: must be an integer from 0 to 3650"},
		{"keep_days = 3651", "store", "store.keep_days"},
		{"keep_days = 1.5", "store", "store.keep_days"},
		{"keep_days = 90d", "store", "store.keep_days"},
		{"retention_every = 0.5", "store", "store.retention_every"},
		{"retention_every = 604801", "store", "store.retention_every"},
		{"max_waiting_saves = 99", "store", "store.max_waiting_saves"},
		{"max_waiting_saves = 1000001", "store", "store.max_waiting_saves"},
		{"stop_retry = -1", "store", "store.stop_retry"},
		{"stop_retry = 300.001", "store", "store.stop_retry"},
		{"silence_after = 0", "timing", "timing.silence_after"},
		{"silence_after = 0.009", "timing", "timing.silence_after"},
		{"silence_after = 2592000.001", "timing", "timing.silence_after"},
		{"silence_after = -5", "timing", "timing.silence_after"},
		{"silence_after = 15m", "timing", "timing.silence_after"},
		{"silence_after = inf", "timing", "timing.silence_after"},
		{"unmonitored_after = nan", "timing", "timing.unmonitored_after"},
		{"stats_interval = 0.04", "timing", "timing.stats_interval"},
		{"battery_low = 101", "timing", "timing.battery_low"},
		{"battery_low = -1", "timing", "timing.battery_low"},
		{"street_after = 0.001", "escalation", "escalation.street_after"},
		{"district_after = 1e9", "escalation", "escalation.district_after"},
		{"level = warn", "log", "log.level: must be debug, info, warning or error"},
		{"level = INFO", "log", "log.level"},
		{"enabled = maybe", "zigbee2mqtt", "zigbee2mqtt.enabled: must be true or false"},
		{"enabled = TRUE", "zigbee2mqtt", "zigbee2mqtt.enabled"},
		{"enabled =", "shelly", "shelly.enabled"},
		{"enabled = 2", "tasmota", "tasmota.enabled"},
		{"base_topic =", "zigbee2mqtt", "zigbee2mqtt.base_topic"},
		{"base_topic = zigbee2mqtt/", "zigbee2mqtt", "zigbee2mqtt.base_topic"},
		{"base_topic = z2m/#", "zigbee2mqtt", "zigbee2mqtt.base_topic"},
		{"base_topic = $SYS", "zigbee2mqtt", "zigbee2mqtt.base_topic"},
		{"switch_closed = 1", "tasmota", "tasmota.switch_closed: must be ON or OFF"},
		{"switch_closed = closed", "tasmota", "tasmota.switch_closed"},
		{"base_topic = x", "shelly", "unknown setting \"base_topic\" in [shelly]"},
		{"bogus = 1", "mqtt", "unknown setting \"bogus\" in [mqtt]"},
		{"uri = tcp://x:1", "store", "unknown setting \"uri\" in [store]"},
		{"just some words", "mqtt", "expected \"key = value\""},
		{"[mqtt", "mqtt", "section header has no ']'"},
		{"[nosuch]", "mqtt", "unknown section [nosuch]"},
	};
	char text[512], err[CONFIG_ERR_MAX];
	struct config c;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "[%s]\n%s\n", cases[i].section, cases[i].line);
		int rc = load(text, &c, err);
		if (rc != -1 || !has_error(err, 2, cases[i].msg) || count_lines(err) != 1)
			fprintf(stderr, "case %zu \"%s\": rc %d, err:\n%s", i, cases[i].line, rc, err);
		CHECK(rc == -1);
		CHECK(has_error(err, 2, cases[i].msg));
		CHECK(count_lines(err) == 1);
	}
}

static void test_many_errors_at_once(void)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	const char *ini = "; comment\n"              /* 1 */
			  "orphan = 1\n"             /* 2 */
			  "[mqtt]\n"                 /* 3 */
			  "keepalive = 1\n"          /* 4 */
			  "client_id = ok\n"         /* 5 */
			  "[other]\n"                /* 6 */
			  "x = 1\n"                  /* 7: inside an unknown section, not reported again */
			  "[timing]\n"               /* 8 */
			  "battery_low = lots\n"     /* 9 */
			  "silence_after = 10\n"     /* 10 */
			  "silence_after = 20\n"     /* 11 */
			  "[log]\n"                  /* 12 */
			  "level = loud\n";          /* 13 */

	CHECK(load(ini, &c, err) == -1);
	CHECK(has_error(err, 2, "\"orphan\" is not in a [section]"));
	CHECK(has_error(err, 4, "mqtt.keepalive"));
	CHECK(has_error(err, 6, "unknown section [other]"));
	CHECK(has_error(err, 9, "timing.battery_low"));
	CHECK(has_error(err, 11, "timing.silence_after: already set on line 10"));
	CHECK(has_error(err, 13, "log.level"));
	CHECK(count_lines(err) == 6);
	/* good values around the bad ones still apply */
	CHECK_STR(c.mqtt.client_id, "ok");
}

static void test_tls_files(void)
{
	struct config c;
	char err[CONFIG_ERR_MAX];

	CHECK(load("[mqtt]\nuri = ssl://h:8883\ncertfile = /c.pem\n", &c, err) == -1);
	CHECK(has_error(err, 3, "certfile and mqtt.keyfile must be set together"));
	CHECK(load("[mqtt]\nuri = ssl://h:8883\nkeyfile = /k.pem\n", &c, err) == -1);
	CHECK(has_error(err, 3, "certfile and mqtt.keyfile must be set together"));
	CHECK(load("[mqtt]\nuri = tcp://h:1883\ncafile = /ca.pem\n", &c, err) == -1);
	CHECK(has_error(err, 2, "need a TLS uri"));
	CHECK(load("[mqtt]\nuri = mqtts://h:8883\ncafile = /ca.pem\n", &c, err) == 0);
}

static void test_long_line_and_truncation(void)
{
	struct config c;
	char err[CONFIG_ERR_MAX], text[8192];
	size_t off = 0;

	/* A line too long for inih is reported, not silently split in two. */
	off = (size_t)snprintf(text, sizeof text, "[store]\npath = /");
	memset(text + off, 'a', 300);
	off += 300;
	memcpy(text + off, "\n", 2);
	CHECK(load(text, &c, err) == -1);
	CHECK(has_error(err, 2, "line is longer than"));
	CHECK(count_lines(err) == 1);

	/* 200 bad lines: err holds whole lines and says some are left out. */
	off = (size_t)snprintf(text, sizeof text, "[mqtt]\n");
	for (int i = 0; i < 200; i++)
		off += (size_t)snprintf(text + off, sizeof text - off, "k%d = 1\n", i);
	CHECK(load(text, &c, err) == -1);
	CHECK(strlen(err) < CONFIG_ERR_MAX);
	CHECK(has_error(err, 2, "unknown setting \"k0\""));
	CHECK(err[strlen(err) - 1] == '\n');
	CHECK(strstr(err, "(more errors not shown)\n") != NULL);
}

static void test_missing_file(void)
{
	struct config c;
	char err[CONFIG_ERR_MAX];

	CHECK(config_load("/nonexistent/sealbridge.ini", &c, err) == -1);
	CHECK_STR(err, "/nonexistent/sealbridge.ini: cannot open: No such file or directory\n");
}

static void test_parse_seconds(void)
{
	int64_t ms = -7;
	const int64_t max = 30LL * 24 * 3600 * 1000;

	CHECK(config_parse_seconds("900", 10, max, &ms) == 0 && ms == 900000);
	CHECK(config_parse_seconds("0.5", 10, max, &ms) == 0 && ms == 500);
	CHECK(config_parse_seconds("1e3", 10, max, &ms) == 0 && ms == 1000000);
	CHECK(config_parse_seconds("0.0016", 0, max, &ms) == 0 && ms == 2); /* rounds to ms */
	CHECK(config_parse_seconds("0.0004", 0, max, &ms) == 0 && ms == 0);
	ms = -7;
	CHECK(config_parse_seconds("0.0004", 10, max, &ms) == -1);
	CHECK(config_parse_seconds("nan", 0, max, &ms) == -1);
	CHECK(config_parse_seconds("inf", 0, max, &ms) == -1);
	CHECK(config_parse_seconds("1e400", 0, max, &ms) == -1);
	CHECK(config_parse_seconds("-1", 0, max, &ms) == -1);
	CHECK(config_parse_seconds("-0", 0, max, &ms) == -1);
	CHECK(config_parse_seconds("", 0, max, &ms) == -1);
	CHECK(config_parse_seconds("12abc", 0, max, &ms) == -1);
	CHECK(config_parse_seconds(" 12", 0, max, &ms) == -1);
	CHECK(config_parse_seconds("0x10", 0, max, &ms) == -1);
	CHECK(config_parse_seconds(".", 0, max, &ms) == -1);
	CHECK(config_parse_seconds("2592000.0006", 0, max, &ms) == -1);
	CHECK(ms == -7); /* failures leave the output alone */
	CHECK(config_parse_seconds(NULL, 0, max, &ms) == -1);
}

static void test_log_level_parse(void)
{
	enum log_level l = LOG_LEVEL_ERROR;

	CHECK(log_level_parse("debug", &l) == 0 && l == LOG_LEVEL_DEBUG);
	CHECK(log_level_parse("info", &l) == 0 && l == LOG_LEVEL_INFO);
	CHECK(log_level_parse("warning", &l) == 0 && l == LOG_LEVEL_WARNING);
	CHECK(log_level_parse("error", &l) == 0 && l == LOG_LEVEL_ERROR);
	CHECK(log_level_parse("", &l) == -1);
	CHECK(log_level_parse("Error", &l) == -1);
	CHECK(log_level_parse("info ", &l) == -1);
	CHECK(log_level_parse(NULL, &l) == -1);
	CHECK(l == LOG_LEVEL_ERROR);
}

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;

	REQUIRE(f != NULL);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* "2026-11-29T06:04:45.123Z sealbridge[PID] " then level ": " */
static int line_shape_ok(const char *line, const char *level)
{
	char want[64];
	int y, mo, d, h, mi, sec, ms, pid, n = 0;

	if (sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ sealbridge[%d] %n", &y, &mo, &d, &h, &mi, &sec,
		   &ms, &pid, &n) != 8 || n == 0)
		return 0;
	snprintf(want, sizeof want, "%s: ", level);
	return line[10] == 'T' && line[19] == '.' && line[23] == 'Z' && pid == (int)getpid() &&
	       y >= 2024 && strncmp(line + n, want, strlen(want)) == 0;
}

static void test_log_file(void)
{
	char path[64], rotated[80];
	struct stat st;
	int fd;

	snprintf(path, sizeof path, "/tmp/sb_test_log_XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(rotated, sizeof rotated, "%s.1", path);

	CHECK(log_open(path, LOG_LEVEL_INFO) == 0);
	CHECK(stat(path, &st) == 0);
	CHECK((st.st_mode & 0777 & ~0640) == 0); /* never readable by others */
	log_debug("hidden %d", 1);
	errno = EACCES;
	log_info("device %s says\nhello", "d1");
	CHECK(errno == EACCES);
	log_warn("w");
	log_set_level(LOG_LEVEL_ERROR);
	log_warn("also hidden");
	log_error("e %d", 42);
	log_set_level(LOG_LEVEL_INFO);

	const char *text = slurp(path);
	CHECK(count_lines(text) == 3);
	CHECK(strstr(text, "hidden") == NULL);
	CHECK(line_shape_ok(text, "info"));
	CHECK(strstr(text, "info: device d1 says?hello\n") != NULL); /* one message, one line */
	CHECK(line_shape_ok(strchr(text, '\n') + 1, "warning"));
	CHECK(strstr(text, "error: e 42\n") != NULL);

	/* logrotate: rename, then reopen makes a new file; nothing more goes to the old one */
	CHECK(rename(path, rotated) == 0);
	CHECK(log_reopen() == 0);
	log_info("after rotate");
	CHECK(strstr(slurp(path), "info: after rotate\n") != NULL);
	CHECK(count_lines(slurp(rotated)) == 3);

	log_close();
	unlink(path);
	unlink(rotated);
	CHECK(log_open("/nonexistent/dir/x.log", LOG_LEVEL_INFO) == -1);
	CHECK(errno == ENOENT);
}

#define LOG_THREADS 4
#define LOG_PER_THREAD 500

static void *log_worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < LOG_PER_THREAD; i++)
		log_info("thread %d line %d %s", id, i, "padding-padding-padding-padding-padding");
	return NULL;
}

static void test_log_threads(void)
{
	char path[64];
	pthread_t t[LOG_THREADS];
	int fd, seen[LOG_THREADS] = {0};

	snprintf(path, sizeof path, "/tmp/sb_test_log_XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK(log_open(path, LOG_LEVEL_INFO) == 0);
	for (int i = 0; i < LOG_THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, log_worker, (void *)(intptr_t)i) == 0);
	for (int i = 0; i < LOG_THREADS; i++)
		pthread_join(t[i], NULL);
	log_close();

	/* every line whole and in order per thread */
	FILE *f = fopen(path, "r");
	char line[256];
	REQUIRE(f != NULL);
	while (fgets(line, sizeof line, f)) {
		int id, n;
		const char *p = strstr(line, "info: thread ");
		CHECK(line_shape_ok(line, "info") && p);
		CHECK(sscanf(p, "info: thread %d line %d", &id, &n) == 2);
		CHECK(id >= 0 && id < LOG_THREADS && n == seen[id]);
		CHECK(strstr(p, "padding-padding-padding-padding-padding\n") != NULL);
		seen[id]++;
	}
	fclose(f);
	unlink(path);
	for (int i = 0; i < LOG_THREADS; i++)
		CHECK(seen[i] == LOG_PER_THREAD);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_empty_file_gives_defaults);
	RUN(test_interface_example);
	RUN(test_deploy_example_is_the_defaults);
	RUN(test_values_and_decimals);
	RUN(test_vendor_switches);
	RUN(test_indented_and_crlf);
	RUN(test_each_bad_value);
	RUN(test_many_errors_at_once);
	RUN(test_tls_files);
	RUN(test_long_line_and_truncation);
	RUN(test_missing_file);
	RUN(test_parse_seconds);
	RUN(test_log_level_parse);
	RUN(test_log_file);
	RUN(test_log_threads);
	if (tmp_path[0])
		unlink(tmp_path);
	DONE();
}
