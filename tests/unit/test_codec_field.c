/* Decoding and encoding of the field-operations fields (issue 10 item 7, issue 12). */
#include "check.h"
#include "codec.h"
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int dec(enum sb_op op, const char *json, struct command *c, char *err)
{
	return codec_decode_command(op, json, strlen(json), c, err);
}

static void test_install_fields(void)
{
	struct command c;
	char err[CODEC_ERR_MAX];
	CHECK(dec(SB_OP_INSTALL, "{\"device_id\":\"s1\",\"household_id\":\"h1\",\"source\":\"tasmota\",\"gateway_id\":\"tas-1\","
				 "\"model\":\"ds100\"}", &c, err) == 0);
	CHECK(c.source == SB_SRC_TASMOTA);
	CHECK_STR(c.gateway_id, "tas-1");
	CHECK_STR(c.model, "ds100");
	CHECK(dec(SB_OP_INSTALL, "{\"device_id\":\"s1\",\"household_id\":\"h1\"}", &c, err) == 0);
	CHECK(c.source == SB_SRC_NONE && !c.gateway_id[0] && !c.model[0]);
	CHECK(dec(SB_OP_INSTALL, "{\"device_id\":\"s1\",\"household_id\":\"h1\",\"source\":\"lora\"}", &c, err) < 0);
	CHECK(strstr(err, "source") != NULL);
	CHECK(dec(SB_OP_INSTALL, "{\"device_id\":\"s1\",\"household_id\":\"h1\",\"source\":\"\"}", &c, err) < 0);
	CHECK(dec(SB_OP_INSTALL, "{\"device_id\":\"s1\",\"household_id\":\"h1\",\"gateway_id\":\"a/b\"}", &c, err) < 0);
	CHECK(dec(SB_OP_INSTALL, "{\"device_id\":\"s1\",\"household_id\":\"h1\",\"model\":7}", &c, err) < 0);
}

static void test_permit_targets_and_daily(void)
{
	struct command c;
	char err[CODEC_ERR_MAX];
	CHECK(dec(SB_OP_PERMIT, "{\"community_id\":\"c-7\",\"until\":1796529600,\"daily\":{\"from\":\"16:00\",\"until\":\"16:10\"}}",
		  &c, err) == 0);
	CHECK(c.area == 1 + SB_LEVEL_COMMUNITY && c.has_daily && c.daily_from == 960 && c.daily_until == 970);
	CHECK(dec(SB_OP_PERMIT, "{\"household_id\":\"h1\",\"until\":1796529600}", &c, err) == 0);
	CHECK(c.area == 0 && !c.has_daily);
	CHECK(dec(SB_OP_PERMIT, "{\"district_id\":\"d1\",\"until\":1796529600,\"daily\":{\"from\":\"23:30\",\"until\":\"00:15\"}}",
		  &c, err) == 0);
	CHECK(c.area == 1 + SB_LEVEL_DISTRICT && c.daily_from == 1410 && c.daily_until == 15);
	static const char *const bad[] = {
		"{\"until\":1796529600}",
		"{\"household_id\":\"h1\",\"street_id\":\"s1\",\"until\":1796529600}",
		"{\"household_id\":\"h1\",\"until\":1796529600,\"daily\":{\"from\":\"24:00\",\"until\":\"01:00\"}}",
		"{\"household_id\":\"h1\",\"until\":1796529600,\"daily\":{\"from\":\"16:00\"}}",
		"{\"household_id\":\"h1\",\"until\":1796529600,\"daily\":{\"from\":\"16:00\",\"until\":\"16:00\"}}",
		"{\"household_id\":\"h1\",\"until\":1796529600,\"daily\":{\"from\":\"16:00\",\"until\":\"16:10\",\"x\":1}}",
		"{\"household_id\":\"h1\",\"until\":1796529600,\"daily\":\"16:00-16:10\"}",
		"{\"household_id\":\"h1\",\"until\":1796529600,\"daily\":{\"from\":\"4:00\",\"until\":\"16:10\"}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (dec(SB_OP_PERMIT, bad[i], &c, err) == 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK(dec(SB_OP_PERMIT, bad[i], &c, err) < 0);
	}
}

static void test_resolve_revoke(void)
{
	struct command c;
	char err[CODEC_ERR_MAX];
	CHECK(dec(SB_OP_RESOLVE, "{\"alert_id\":\"a-1\",\"by\":\"w\",\"outcome\":\"device_fault\"}", &c, err) == 0);
	CHECK(c.has_outcome && c.outcome == SB_OUT_DEVICE_FAULT);
	CHECK(dec(SB_OP_RESOLVE, "{\"alert_id\":\"a-1\",\"by\":\"w\",\"outcome\":\"oops\"}", &c, err) < 0);
	CHECK(dec(SB_OP_REVOKE, "{\"permit_id\":\"x-p1\"}", &c, err) == 0);
	CHECK_STR(c.permit_id, "x-p1");
	CHECK(dec(SB_OP_REVOKE, "{}", &c, err) < 0 && strstr(err, "permit_id"));
	enum sb_op op;
	CHECK(sb_op_parse("revoke", &op) == 0 && op == SB_OP_REVOKE);
}

static void test_config_field_settings(void)
{
	char path[] = "/tmp/sb-field-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("[timing]\ntimezone = Europe/Berlin\nstatus_interval = 5\n[escalation]\nreminder_after = 3600\n"
	      "[zigbee2mqtt]\ngateway_id = coord-1\n[model.ds100]\nsilence_after = 120\nbattery_low = 30\n"
	      "[model.quiet]\nbattery_low = 10\n",
	      f);
	fclose(f);
	struct config c;
	char err[CONFIG_ERR_MAX];
	CHECK(config_load(path, &c, err) == 0);
	CHECK_STR(c.timing.timezone, "Europe/Berlin");
	CHECK(c.timing.status_interval_ms == 5000 && c.escalation.reminder_after_ms == 3600000);
	CHECK_STR(c.zigbee2mqtt.gateway_id, "coord-1");
	CHECK(c.n_models == 2);
	CHECK_STR(c.models[0].name, "ds100");
	CHECK(c.models[0].silence_after_ms == 120000 && c.models[0].battery_low == 30);
	CHECK(c.models[1].silence_after_ms == 0 && c.models[1].battery_low == 10);

	f = fopen(path, "w");
	fputs("[timing]\ntimezone = Mars/Olympus\nstatus_interval = 0\n[escalation]\nreminder_after = -1\n"
	      "[model.a/b]\nsilence_after = 1\n[model.x]\nbattery_low = 101\nsilence_after = 0\ncolour = red\n"
	      "[model.x]\n",
	      f);
	fclose(f);
	CHECK(config_load(path, &c, err) < 0);
	CHECK(strstr(err, ":2: timing.timezone") && strstr(err, "no such zone"));
	CHECK(strstr(err, ":3: timing.status_interval"));
	CHECK(strstr(err, ":5: escalation.reminder_after"));
	CHECK(strstr(err, ":6: [model.a/b]"));
	CHECK(strstr(err, ":9: model.x.battery_low"));
	CHECK(strstr(err, ":10: model.x.silence_after"));
	CHECK(strstr(err, ":11: unknown setting \"colour\""));
	CHECK(strstr(err, ":12: [model.x]: already defined on line 8"));
	config_defaults(&c);
	CHECK_STR(c.timing.timezone, "UTC");
	CHECK(c.escalation.reminder_after_ms == 0 && c.timing.status_interval_ms == 60000 && c.n_models == 0);
	CHECK_STR(c.zigbee2mqtt.gateway_id, "z2m");
	unlink(path);
}

int main(void)
{
	RUN(test_install_fields);
	RUN(test_permit_targets_and_daily);
	RUN(test_resolve_revoke);
	RUN(test_config_field_settings);
	DONE();
}
