/* codec and model: what devices and platforms send is accepted or refused with
 * a message naming the field, and what we publish parses back as documented. */
#include "check.h"
#include "test_model.h"
#include "codec.h"
#include "model.h"

#include <cjson/cJSON.h>

static char err[CODEC_ERR_MAX];
static struct report rep;
static struct command cmd;

static int report(const char *json)
{
	return codec_decode_report(json, strlen(json), &rep, err);
}

static int command(enum sb_op op, const char *json)
{
	return codec_decode_command(op, json, strlen(json), &cmd, err);
}

#define CHECK_ERR(call, text)                                                                      \
	do {                                                                                       \
		CHECK((call) == -1);                                                               \
		if (!strstr(err, (text))) {                                                        \
			fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,   \
				err, (text));                                                      \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static int64_t t(const char *s)
{
	int64_t ms = 0;
	CHECK(codec_parse_time(s, &ms) == 0);
	return ms;
}

static void test_model_names(void)
{
	CHECK_STR(sb_level_name(SB_LEVEL_COMMUNITY), "community");
	CHECK_STR(sb_level_name(SB_LEVEL_DISTRICT), "district");
	CHECK_STR(sb_door_name(SB_DOOR_UNKNOWN), "unknown");
	CHECK_STR(sb_door_name(SB_DOOR_OPEN), "open");
	CHECK_STR(sb_category_name(SB_CAT_CLOSE_CONTACT), "close_contact");
	CHECK_STR(sb_alert_type_name(SB_ALERT_UNMONITORED), "unmonitored");
	CHECK_STR(sb_alert_state_name(SB_AST_CLEARED), "cleared");
	CHECK_STR(sb_op_name(SB_OP_UNINSTALL), "uninstall");
	CHECK(sb_op_name(SB_OP_COUNT) == NULL);

	enum sb_op op;
	for (int i = 0; i < SB_OP_COUNT; i++) {
		CHECK(sb_op_parse(sb_op_name((enum sb_op)i), &op) == 0 && op == (enum sb_op)i);
	}
	CHECK(sb_op_parse("Admit", &op) == -1);
	CHECK(sb_op_parse(NULL, &op) == -1);
	enum sb_alert_type at;
	for (int i = 0; i < SB_ALERT_TYPE_COUNT; i++)
		CHECK(sb_alert_type_parse(sb_alert_type_name((enum sb_alert_type)i), &at) == 0 &&
		      at == (enum sb_alert_type)i);
	CHECK(sb_alert_type_parse("fire", &at) == -1);
	enum sb_alert_state st;
	CHECK(sb_alert_state_parse("escalated", &st) == 0 && st == SB_AST_ESCALATED);
	CHECK(sb_alert_state_parse("", &st) == -1);
	enum sb_level l;
	CHECK(sb_level_parse("street", &l) == 0 && l == SB_LEVEL_STREET);
	CHECK(sb_level_parse("city", &l) == -1);
	enum sb_category c;
	CHECK(sb_category_parse("confirmed_case", &c) == 0 && c == SB_CAT_CONFIRMED_CASE);
	CHECK(sb_category_parse("", &c) == 0 && c == SB_CAT_NONE);
	CHECK(sb_category_parse("vip", &c) == -1);
}

static void test_id_valid(void)
{
	char id[80];
	CHECK(sb_id_valid("seal-0042_A"));
	CHECK(sb_id_valid("x"));
	CHECK(!sb_id_valid(""));
	CHECK(!sb_id_valid(NULL));
	CHECK(!sb_id_valid("a/b"));
	CHECK(!sb_id_valid("a+"));
	CHECK(!sb_id_valid("#"));
	CHECK(!sb_id_valid("a b"));
	CHECK(!sb_id_valid("a\tb"));
	CHECK(!sb_id_valid("a.b"));
	CHECK(!sb_id_valid("caf\xc3\xa9"));
	memset(id, 'a', 64);
	id[64] = '\0';
	CHECK(sb_id_valid(id));
	id[64] = 'a';
	id[65] = '\0';
	CHECK(!sb_id_valid(id));
}

static void test_device_online(void)
{
	struct household h;
	struct device d;
	memset(&h, 0, sizeof h);
	memset(&d, 0, sizeof d);
	CHECK(!sb_device_online(NULL));
	d.heard = 1;
	CHECK(!sb_device_online(&d)); /* not fitted */
	d.household = &h;
	CHECK(sb_device_online(&d));
	d.silent = 1;
	CHECK(!sb_device_online(&d));
	d.silent = 0;
	d.heard = 0;
	CHECK(!sb_device_online(&d));
}

static void test_report_fields(void)
{
	CHECK(report("{}") == 0);
	CHECK(!rep.has_door && !rep.has_battery && !rep.has_tamper && !rep.has_seq && !rep.has_ts);

	CHECK(report("{\"door\":\"open\",\"battery\":87,\"tamper\":false,\"seq\":12,\"ts\":1796000000123}") == 0);
	CHECK(rep.has_door && rep.door == SB_DOOR_OPEN);
	CHECK(rep.has_battery && rep.battery == 87);
	CHECK(rep.has_tamper && rep.tamper == 0);
	CHECK(rep.has_seq && rep.seq == 12);
	CHECK(rep.has_ts && rep.ts == 1796000000123LL);

	CHECK(report(" {\"door\":\"closed\",\"tamper\":true} \n") == 0);
	CHECK(rep.door == SB_DOOR_CLOSED && rep.tamper == 1 && !rep.has_battery);

	/* unknown fields, nested or not, are ignored */
	CHECK(report("{\"fw\":\"1.2\",\"extra\":{\"a\":[1,2,{\"b\":null}]},\"seq\":1}") == 0);
	CHECK(rep.has_seq && rep.seq == 1);

	CHECK_ERR(report("{\"door\":\"ajar\"}"), "field 'door'");
	CHECK_ERR(report("{\"door\":\"OPEN\"}"), "field 'door'");
	CHECK_ERR(report("{\"door\":\"unknown\"}"), "field 'door'");
	CHECK_ERR(report("{\"door\":null}"), "got null");
	CHECK_ERR(report("{\"door\":1}"), "field 'door'");
	CHECK_ERR(report("{\"tamper\":1}"), "field 'tamper'");
	CHECK_ERR(report("{\"tamper\":\"true\"}"), "field 'tamper'");
	CHECK_ERR(report("{\"tamper\":null}"), "field 'tamper': expected true or false (got null)");
	CHECK_ERR(report("{\"seq\":-1}"), "field 'seq'");
	CHECK_ERR(report("{\"seq\":1.5}"), "field 'seq'");
	CHECK_ERR(report("{\"seq\":9007199254740992}"), "field 'seq'");
	CHECK(report("{\"seq\":9007199254740991}") == 0 && rep.seq == 9007199254740991LL);
	CHECK_ERR(report("{\"seq\":1e300}"), "field 'seq'");
	CHECK_ERR(report("{\"ts\":-5}"), "field 'ts'");
	CHECK_ERR(report("{\"ts\":\"1796000000123\"}"), "field 'ts'");
	CHECK(report("{\"ts\":0,\"seq\":0}") == 0 && rep.ts == 0 && rep.seq == 0);
}

static void test_report_battery(void)
{
	CHECK(report("{\"battery\":0}") == 0 && rep.battery == 0);
	CHECK(report("{\"battery\":100}") == 0 && rep.battery == 100);
	CHECK(report("{\"battery\":1e1}") == 0 && rep.battery == 10);
	CHECK_ERR(report("{\"battery\":101}"), "field 'battery': expected an integer 0-100");
	CHECK_ERR(report("{\"battery\":-1}"), "field 'battery': expected an integer 0-100");
	CHECK_ERR(report("{\"battery\":50.5}"), "got 50.5");
	CHECK_ERR(report("{\"battery\":\"50\"}"), "got string");
	CHECK_ERR(report("{\"battery\":null}"), "got null");
	CHECK_ERR(report("{\"battery\":true}"), "got boolean");
	CHECK_ERR(report("{\"battery\":[50]}"), "got array");
	/* would saturate valueint to INT_MAX and pass a naive check */
	CHECK_ERR(report("{\"battery\":1e20}"), "field 'battery'");
	CHECK(rep.has_battery == 0);
}

static void test_report_envelope(void)
{
	char big[2100];
	memset(big, ' ', sizeof big);
	big[0] = '{';
	big[2047] = '}';
	CHECK(codec_decode_report(big, 2048, &rep, err) == -1);
	CHECK_STR(err, "payload is 2048 bytes, limit 1024");
	/* exactly at the limit is fine */
	memset(big, ' ', sizeof big);
	big[0] = '{';
	big[1023] = '}';
	CHECK(codec_decode_report(big, 1024, &rep, err) == 0);
	CHECK(codec_decode_report(big, 1025, &rep, err) == -1);
	CHECK(strstr(err, "limit 1024") != NULL);

	CHECK_ERR(report(""), "empty payload");
	CHECK_ERR(report("[]"), "must be a JSON object (got array)");
	CHECK_ERR(report("\"open\""), "must be a JSON object (got string)");
	CHECK_ERR(report("42"), "must be a JSON object");
	CHECK_ERR(report("null"), "must be a JSON object");
	CHECK_ERR(report("{\"door\":\"open\""), "invalid JSON near byte");
	CHECK_ERR(report("{\"door\":\"open\",}"), "invalid JSON near byte");
	CHECK_ERR(report("{\"door\" \"open\"}"), "invalid JSON near byte 8");
	CHECK_ERR(report("{} {}"), "invalid JSON near byte 3");
	CHECK_ERR(report("{}x"), "invalid JSON");
	CHECK_ERR(report("{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]"), "invalid JSON");

	CHECK_ERR(report("{\"door\":\"open\",\"door\":\"closed\"}"), "duplicate key 'door'");
	CHECK_ERR(report("{\"x\":1,\"battery\":5,\"x\":2}"), "duplicate key 'x'");

	/* a NUL hidden in a string would truncate it inside cJSON */
	CHECK_ERR(report("{\"door\":\"open\\u0000x\"}"), "\\u0000");
	CHECK(codec_decode_report("{\"door\":\"open\"}\0", 16, &rep, err) == -1);
	CHECK(strstr(err, "NUL byte at byte 15") != NULL);
	CHECK_ERR(report("{\"door\":\"op\nen\"}"), "control character");
	CHECK_ERR(report("{\"note\":\"\xff\"}"), "invalid UTF-8 at byte 9");
	CHECK_ERR(report("{\"note\":\"\xc0\xaf\"}"), "invalid UTF-8");   /* overlong '/' */
	CHECK_ERR(report("{\"note\":\"\xed\xa0\x80\"}"), "invalid UTF-8"); /* surrogate */
	CHECK(report("{\"note\":\"caf\xc3\xa9 \\u00e9 \\\\u0000\"}") == 0);
	CHECK(report("{\"door\":\"closed\"}\r\n\t ") == 0);
}

static void test_time_parse(void)
{
	int64_t ms;
	CHECK(t("1970-01-01T00:00:00Z") == 0);
	CHECK(t("2026-11-29T04:00:00Z") == 1795924800000LL);
	CHECK(t("2026-11-29T04:00:00.123Z") == 1795924800123LL);
	CHECK(t("2026-11-29T04:00:00.1Z") == 1795924800100LL);
	CHECK(t("2026-11-29T04:00:00.123456789Z") == 1795924800123LL);
	CHECK(t("2026-11-29T12:00:00+08:00") == 1795924800000LL);
	CHECK(t("2026-11-28T23:30:00-04:30") == 1795924800000LL);
	CHECK(t("2026-11-29T04:00:00-00:00") == 1795924800000LL);
	CHECK(t("2026-11-29t04:00:00z") == 1795924800000LL);
	CHECK(t("2024-02-29T00:00:00Z") == 1709164800000LL);
	CHECK(t("2000-02-29T00:00:00Z") == 951782400000LL);
	CHECK(t("9999-12-31T23:59:59.999Z") == 253402300799999LL);
	CHECK(t("1969-12-31T23:59:59Z") == -1000);

	const char *bad[] = {
		"2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
		"2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
		"2026-01-01T00:00:60Z", "2026-01-01T00:00:00",  "2026-01-01 00:00:00Z",
		"2026-01-01T00:00Z",    "2026-1-01T00:00:00Z",  "2026-01-01T00:00:00.Z",
		"2026-01-01T00:00:00.1234567890Z", "2026-01-01T00:00:00+0800",
		"2026-01-01T00:00:00+08",  "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+08:60",
		"2026-01-01T00:00:00Zjunk", "2026-01-01", "", "1795924800", "+2026-01-01T00:00:00Z",
		"2026-01-01T00:00:00,5Z",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (codec_parse_time(bad[i], &ms) != -1) {
			fprintf(stderr, "accepted bad time \"%s\"\n", bad[i]);
			exit(1);
		}
	}
	CHECK(codec_parse_time(NULL, &ms) == -1);
}

static void test_time_format(void)
{
	char buf[32];
	codec_format_time(0, buf);
	CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
	codec_format_time(1795924800123LL, buf);
	CHECK_STR(buf, "2026-11-29T04:00:00.123Z");
	codec_format_time(1709164800005LL, buf);
	CHECK_STR(buf, "2024-02-29T00:00:00.005Z");
	codec_format_time(-1, buf);
	CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
	codec_format_time(INT64_MAX, buf);
	CHECK_STR(buf, "9999-12-31T23:59:59.999Z");

	/* every format parses back to the same instant */
	const int64_t samples[] = {0, 1, 999, 86399999, 951782400000LL, 1795924800123LL,
				   4102444800000LL, 253402300799999LL, 1234567890987LL};
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		codec_format_time(samples[i], buf);
		CHECK(t(buf) == samples[i]);
	}
	for (int64_t ms = 0; ms < 253402300799999LL; ms += 7777777777777LL / 1000) {
		codec_format_time(ms, buf);
		CHECK(strlen(buf) == 24 && t(buf) == ms);
	}
}

static const char *admit_ok =
	"{\"request_id\":\"r-1\",\"reply_to\":\"platform/replies/7\",\"household_id\":\"hh-1\","
	"\"district_id\":\"d1\",\"street_id\":\"s1\",\"community_id\":\"c1\","
	"\"end\":\"2026-12-13T04:00:00Z\",\"start\":1795924800,\"address\":\"3-2-1502\","
	"\"category\":\"close_contact\",\"persons\":3,\"unknown\":{\"x\":1}}";

static void test_cmd_admit(void)
{
	CHECK(command(SB_OP_ADMIT, admit_ok) == 0);
	CHECK(cmd.op == SB_OP_ADMIT);
	CHECK_STR(cmd.request_id, "r-1");
	CHECK_STR(cmd.reply_to, "platform/replies/7");
	CHECK_STR(cmd.household_id, "hh-1");
	CHECK_STR(cmd.unit_id[SB_LEVEL_DISTRICT], "d1");
	CHECK_STR(cmd.unit_id[SB_LEVEL_STREET], "s1");
	CHECK_STR(cmd.unit_id[SB_LEVEL_COMMUNITY], "c1");
	CHECK(cmd.has_end && cmd.end_ms == t("2026-12-13T04:00:00Z"));
	CHECK(cmd.has_start && cmd.start_ms == 1795924800000LL);
	CHECK_STR(cmd.address, "3-2-1502");
	CHECK(cmd.category == SB_CAT_CLOSE_CONTACT);
	CHECK(cmd.persons == 3);

	/* minimal: defaults for the optional fields */
	CHECK(command(SB_OP_ADMIT, "{\"household_id\":\"h\",\"district_id\":\"d\",\"street_id\":\"s\","
				   "\"community_id\":\"c\",\"end\":1795924800}") == 0);
	CHECK(!cmd.has_start && cmd.persons == -1 && cmd.category == SB_CAT_NONE);
	CHECK(cmd.address[0] == '\0' && cmd.request_id[0] == '\0' && cmd.reply_to[0] == '\0');

	const char *base = "\"household_id\":\"h\",\"district_id\":\"d\",\"street_id\":\"s\","
			   "\"community_id\":\"c\",\"end\":1795924800";
	char buf[1200];
#define ADMIT(extra) (snprintf(buf, sizeof buf, "{%s%s}", base, extra), command(SB_OP_ADMIT, buf))
	CHECK_ERR(command(SB_OP_ADMIT, "{\"district_id\":\"d\",\"street_id\":\"s\",\"community_id\":\"c\","
				       "\"end\":1795924800}"),
		  "missing field 'household_id'");
	CHECK_ERR(command(SB_OP_ADMIT, "{\"household_id\":\"h\",\"district_id\":\"d\",\"street_id\":\"s\","
				       "\"community_id\":\"c\"}"),
		  "missing field 'end'");
	CHECK_ERR(command(SB_OP_ADMIT, "{\"household_id\":\"h\",\"district_id\":\"d\",\"community_id\":\"c\","
				       "\"end\":1}"),
		  "missing field 'street_id'");
	CHECK_ERR(ADMIT(",\"persons\":10001"), "field 'persons'");
	CHECK_ERR(ADMIT(",\"persons\":-1"), "field 'persons'");
	CHECK_ERR(ADMIT(",\"persons\":2.5"), "field 'persons'");
	CHECK_ERR(ADMIT(",\"persons\":null"), "field 'persons'");
	CHECK(ADMIT(",\"persons\":10000") == 0 && cmd.persons == 10000);
	CHECK(ADMIT(",\"persons\":0") == 0 && cmd.persons == 0);
	CHECK_ERR(ADMIT(",\"category\":\"vip\""), "field 'category'");
	CHECK_ERR(ADMIT(",\"category\":\"\""), "field 'category'");
	CHECK_ERR(ADMIT(",\"category\":null"), "field 'category'");
	CHECK(ADMIT(",\"category\":\"risk_area_arrival\"") == 0 && cmd.category == SB_CAT_RISK_AREA_ARRIVAL);
	CHECK(ADMIT(",\"category\":\"other\"") == 0 && cmd.category == SB_CAT_OTHER);
	CHECK_ERR(ADMIT(",\"address\":\"a\\nb\""), "field 'address': control characters");
	CHECK_ERR(ADMIT(",\"address\":\"a\\u001fb\""), "field 'address'");
	CHECK_ERR(ADMIT(",\"address\":\"a\x7f\""), "field 'address': control characters");
	CHECK_ERR(ADMIT(",\"address\":7"), "field 'address': expected a string (got number)");
	CHECK(ADMIT(",\"address\":\"\\u5317\\u4eac 3-2\"") == 0);
	CHECK_STR(cmd.address, "\xe5\x8c\x97\xe4\xba\xac 3-2");
	char addr[160];
	snprintf(addr, sizeof addr, ",\"address\":\"%0128d\"", 0); /* the limit */
	CHECK(ADMIT(addr) == 0 && strlen(cmd.address) == 128);
	char addr2[160];
	snprintf(addr2, sizeof addr2, ",\"address\":\"%0129d\"", 0);
	CHECK_ERR(ADMIT(addr2), "field 'address': 129 bytes, limit 128");
	CHECK_ERR(ADMIT(",\"start\":\"tomorrow\""), "field 'start': invalid RFC 3339 time");
	CHECK_ERR(ADMIT(",\"start\":1.5"), "field 'start'");
	CHECK_ERR(ADMIT(",\"start\":-1"), "field 'start'");
	CHECK_ERR(ADMIT(",\"start\":253402300800"), "field 'start'");
	CHECK(ADMIT(",\"start\":253402300799") == 0 && cmd.start_ms == 253402300799000LL);
	CHECK_ERR(ADMIT(",\"start\":\"1969-12-31T23:59:59Z\""), "field 'start': time before 1970");
	CHECK_ERR(ADMIT(",\"start\":null"), "field 'start'");
	CHECK_ERR(ADMIT(",\"start\":false"), "got boolean");
	CHECK_ERR(ADMIT(",\"end\":1"), "duplicate key 'end'");
	CHECK_ERR(ADMIT(",\"district_id\":\"d/2\""), "duplicate key 'district_id'");
#undef ADMIT
	CHECK_ERR(command(SB_OP_ADMIT, "{\"household_id\":\"h\",\"district_id\":\"d/1\",\"street_id\":\"s\","
				       "\"community_id\":\"c\",\"end\":1}"),
		  "field 'district_id': invalid id (allowed: A-Z a-z 0-9 _ -, 1-64 characters)");
	CHECK_ERR(command(SB_OP_ADMIT, "{\"household_id\":\"h\",\"district_id\":\"d\",\"street_id\":\"s\","
				       "\"community_id\":\"c\",\"end\":null}"),
		  "field 'end'");
}

static void test_cmd_ids(void)
{
	const char *bad[] = {"\"a/b\"", "\"a+b\"", "\"#\"", "\"\"", "\"a\\tb\"", "\"a\\u0001\"", "\"a b\"",
			     "\"\\u00e9\"", "null", "5", "[\"a\"]",
			     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""};
	char buf[300];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(buf, sizeof buf, "{\"device_id\":%s}", bad[i]);
		if (command(SB_OP_UNINSTALL, buf) != -1 || !strstr(err, "field 'device_id'")) {
			fprintf(stderr, "device_id %s: rc/err \"%s\"\n", bad[i], err);
			exit(1);
		}
	}
	CHECK(command(SB_OP_UNINSTALL,
		      "{\"device_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}") == 0);
	CHECK(strlen(cmd.device_id) == 64);
	CHECK_ERR(command(SB_OP_UNINSTALL, "{}"), "missing field 'device_id'");
	CHECK_ERR(command(SB_OP_UNINSTALL, "{\"device_id\":\"x\",\"request_id\":\"bad id\"}"),
		  "field 'request_id': invalid id");
	CHECK_ERR(command(SB_OP_UNINSTALL, "{\"device_id\":\"x\",\"request_id\":7}"), "field 'request_id'");
}

static void test_cmd_reply_fields_first(void)
{
	/* the body is wrong, but the error can still be answered */
	CHECK_ERR(command(SB_OP_INSTALL, "{\"request_id\":\"q9\",\"reply_to\":\"app/r\",\"device_id\":\"a/b\"}"),
		  "field 'device_id'");
	CHECK_STR(cmd.request_id, "q9");
	CHECK_STR(cmd.reply_to, "app/r");
	CHECK_ERR(command(SB_OP_INSTALL, "{\"device_id\":\"x\",\"device_id\":\"y\",\"request_id\":\"q8\"}"),
		  "duplicate key 'device_id'");
	CHECK_STR(cmd.request_id, "q8");
	CHECK_ERR(command(SB_OP_RELEASE, "{\"request_id\":\"q7\",\"reply_to\":\"app/r\"}"),
		  "missing field 'household_id'");
	CHECK_STR(cmd.request_id, "q7");
	CHECK_STR(cmd.reply_to, "app/r");
	/* a bad reply_to does not lose a good request_id, and vice versa */
	CHECK_ERR(command(SB_OP_RELEASE, "{\"request_id\":\"q6\",\"reply_to\":7,\"household_id\":\"h\"}"),
		  "field 'reply_to'");
	CHECK_STR(cmd.request_id, "q6");
	CHECK(cmd.reply_to[0] == '\0' && !cmd.reply_to_given);
	/* a string reply_to is kept as it is: the service judges it and the command still runs */
	CHECK(command(SB_OP_RELEASE, "{\"request_id\":\"q5\",\"reply_to\":\"app/+\",\"household_id\":\"h\"}") == 0);
	CHECK_STR(cmd.reply_to, "app/+");
	CHECK(cmd.reply_to_given);
	CHECK(command(SB_OP_RELEASE, "{\"reply_to\":\"\",\"household_id\":\"h\"}") == 0);
	CHECK(cmd.reply_to[0] == '\0' && cmd.reply_to_given);
	CHECK_ERR(command(SB_OP_RELEASE, "{\"request_id\":\"q 6\",\"reply_to\":\"app/r\",\"household_id\":\"h\"}"),
		  "field 'request_id'");
	CHECK(cmd.request_id[0] == '\0');
	CHECK_STR(cmd.reply_to, "app/r");
	CHECK_ERR(command(SB_OP_RELEASE, "{\"request_id\":\"a\",\"request_id\":\"b\",\"household_id\":\"h\"}"),
		  "duplicate key 'request_id'");
	CHECK(cmd.request_id[0] == '\0');

	/* A string reply_to is the service's to judge (reply_topic.c): the
	 * command decodes, and a longer one than the buffer stays too long. */
	CHECK(command(SB_OP_RELEASE, "{\"reply_to\":\"a/#\",\"household_id\":\"h\"}") == 0);
	CHECK_STR(cmd.reply_to, "a/#");
	CHECK(command(SB_OP_RELEASE, "{\"reply_to\":\"a\\u0007\",\"household_id\":\"h\"}") == 0);
	CHECK_STR(cmd.reply_to, "a\a");
	CHECK_ERR(command(SB_OP_RELEASE, "{\"reply_to\":null,\"household_id\":\"h\"}"), "field 'reply_to'");
	char buf[700];
	snprintf(buf, sizeof buf, "{\"reply_to\":\"%0512d\",\"household_id\":\"h\"}", 0);
	CHECK(command(SB_OP_RELEASE, buf) == 0 && strlen(cmd.reply_to) == 512);
	snprintf(buf, sizeof buf, "{\"reply_to\":\"%0513d\",\"household_id\":\"h\"}", 0);
	CHECK(command(SB_OP_RELEASE, buf) == 0 && strlen(cmd.reply_to) == 512);

	/* no JSON at all: nothing can be filled */
	CHECK_ERR(command(SB_OP_RELEASE, "{\"request_id\":\"q5\""), "invalid JSON");
	CHECK(cmd.request_id[0] == '\0');
}

static void test_cmd_install(void)
{
	CHECK(command(SB_OP_INSTALL, "{\"device_id\":\"seal-1\",\"household_id\":\"hh-1\"}") == 0);
	CHECK_STR(cmd.device_id, "seal-1");
	CHECK_STR(cmd.household_id, "hh-1");
	CHECK(!cmd.has_silence_after);
	CHECK_ERR(command(SB_OP_INSTALL, "{\"device_id\":\"seal-1\"}"), "missing field 'household_id'");

	const char *base = "{\"device_id\":\"d\",\"household_id\":\"h\",\"silence_after\":";
	char buf[200];
#define SIL(v) (snprintf(buf, sizeof buf, "%s%s}", base, v), command(SB_OP_INSTALL, buf))
	CHECK(SIL("600") == 0 && cmd.has_silence_after && cmd.silence_after_ms == 600000);
	CHECK(SIL("0.5") == 0 && cmd.silence_after_ms == 500);
	CHECK(SIL("0.0015") == 0 && cmd.silence_after_ms == 2);
	CHECK(SIL("0.001") == 0 && cmd.silence_after_ms == 1);
	CHECK(SIL("2592000") == 0 && cmd.silence_after_ms == 2592000000LL);
	CHECK_ERR(SIL("2592000.5"), "field 'silence_after'");
	CHECK_ERR(SIL("0"), "field 'silence_after'");
	CHECK_ERR(SIL("-3"), "field 'silence_after'");
	CHECK_ERR(SIL("0.0004"), "field 'silence_after': 0.0004 seconds is less than 1 ms");
	CHECK_ERR(SIL("\"600\""), "got string");
	CHECK_ERR(SIL("null"), "got null");
	CHECK_ERR(SIL("1e400"), "field 'silence_after'");
#undef SIL
}

static void test_cmd_permit_release_ack(void)
{
	CHECK(command(SB_OP_PERMIT, "{\"household_id\":\"h\",\"until\":\"2026-11-29T05:00:00Z\","
				    "\"from\":\"2026-11-29T04:30:00+00:00\",\"reason\":\"hospital visit\"}") == 0);
	CHECK(cmd.has_until && cmd.until_ms == t("2026-11-29T05:00:00Z"));
	CHECK(cmd.has_from && cmd.from_ms == t("2026-11-29T04:30:00Z"));
	CHECK_STR(cmd.reason, "hospital visit");
	CHECK(command(SB_OP_PERMIT, "{\"household_id\":\"h\",\"until\":1795928400}") == 0);
	CHECK(!cmd.has_from && cmd.until_ms == 1795928400000LL && cmd.reason[0] == '\0');
	CHECK_ERR(command(SB_OP_PERMIT, "{\"household_id\":\"h\"}"), "missing field 'until'");
	CHECK_ERR(command(SB_OP_PERMIT, "{\"household_id\":\"h\",\"until\":\"2026-02-30T00:00:00Z\"}"),
		  "field 'until'");
	CHECK_ERR(command(SB_OP_PERMIT, "{\"household_id\":\"h\",\"until\":1,\"reason\":false}"),
		  "field 'reason'");

	CHECK(command(SB_OP_RELEASE, "{\"household_id\":\"h\",\"reason\":\"negative test\"}") == 0);
	CHECK_STR(cmd.reason, "negative test");
	char buf[700];
	snprintf(buf, sizeof buf, "{\"household_id\":\"h\",\"reason\":\"%0512d\"}", 0);
	CHECK(command(SB_OP_RELEASE, buf) == 0 && strlen(cmd.reason) == 512);
	snprintf(buf, sizeof buf, "{\"household_id\":\"h\",\"reason\":\"%0513d\"}", 0);
	CHECK_ERR(command(SB_OP_RELEASE, buf), "field 'reason': 513 bytes, limit 512");

	CHECK(command(SB_OP_ACK, "{\"alert_id\":\"A-17\",\"by\":\"officer_9\",\"note\":\"on my way\"}") == 0);
	CHECK_STR(cmd.alert_id, "A-17");
	CHECK_STR(cmd.by, "officer_9");
	CHECK_STR(cmd.note, "on my way");
	CHECK(command(SB_OP_RESOLVE, "{\"alert_id\":\"A-17\",\"by\":\"officer_9\"}") == 0);
	CHECK(cmd.op == SB_OP_RESOLVE && cmd.note[0] == '\0');
	CHECK_ERR(command(SB_OP_RESOLVE, "{\"alert_id\":\"A-17\"}"), "missing field 'by'");
	CHECK_ERR(command(SB_OP_ACK, "{\"alert_id\":\"A-17\",\"by\":\"Li Wei\"}"), "field 'by': invalid id");
	snprintf(buf, sizeof buf, "{\"alert_id\":\"a\",\"by\":\"b\",\"note\":\"%0513d\"}", 0);
	CHECK_ERR(command(SB_OP_ACK, buf), "field 'note'");

	/* fields of other ops are unknown here, so ignored */
	CHECK(command(SB_OP_UNINSTALL, "{\"device_id\":\"d\",\"household_id\":\"a/b\"}") == 0);
	CHECK(cmd.household_id[0] == '\0');
}

static void test_cmd_envelope(void)
{
	static char big[SB_COMMAND_MAX + 10];
	memset(big, ' ', sizeof big);
	memcpy(big, "{\"device_id\":\"d\"", 16);
	big[SB_COMMAND_MAX - 1] = '}';
	CHECK(codec_decode_command(SB_OP_UNINSTALL, big, SB_COMMAND_MAX, &cmd, err) == 0);
	big[SB_COMMAND_MAX] = '}';
	CHECK(codec_decode_command(SB_OP_UNINSTALL, big, SB_COMMAND_MAX + 1, &cmd, err) == -1);
	CHECK_STR(err, "payload is 8193 bytes, limit 8192");
	CHECK_ERR(command(SB_OP_UNINSTALL, "[{\"device_id\":\"d\"}]"), "must be a JSON object");
	CHECK_ERR(command(SB_OP_UNINSTALL, "{\"device_id\":\"d\",\"x\":{\"y\":[1,2,}}"), "invalid JSON");
	/* deep nesting beyond cJSON's limit fails cleanly */
	memset(big, '[', SB_COMMAND_MAX);
	big[0] = '{';
	memcpy(big + 1, "\"a\":", 4);
	CHECK(codec_decode_command(SB_OP_UNINSTALL, big, SB_COMMAND_MAX, &cmd, err) == -1);
	CHECK(codec_decode_command(SB_OP_COUNT, "{}", 2, &cmd, err) == -1);
}

static cJSON *parse(char *s)
{
	REQUIRE(s != NULL);
	cJSON *j = cJSON_Parse(s);
	free(s);
	REQUIRE(j != NULL);
	return j;
}

static const char *jstr(const cJSON *j, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	CHECK(cJSON_IsString(v));
	return v->valuestring;
}

static int jnull(const cJSON *j, const char *name)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, name));
}

static double jnum(const cJSON *j, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
	CHECK(cJSON_IsNumber(v));
	return v->valuedouble;
}

static int has(const cJSON *j, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(j, name) != NULL;
}

static struct unit u_c = {"c1", SB_LEVEL_COMMUNITY}, u_s = {"s1", SB_LEVEL_STREET},
		   u_d = {"d1", SB_LEVEL_DISTRICT};
static const struct placement place = {{&u_c, &u_s, &u_d}};


static void make_household(struct household *h, struct device *d)
{
	memset(h, 0, sizeof *h);
	strcpy(h->id, "hh-1");
	h->address = "3-2-1502";
	h->place = &place;
	h->category = SB_CAT_CONFIRMED_CASE;
	h->persons = 2;
	h->start_ms = 1795924800000LL;
	h->end_ms = 1797134400000LL;
	if (d) {
		memset(d, 0, sizeof *d);
		strcpy(d->id, "seal-1");
		d->household = h;
		d->door = SB_DOOR_CLOSED;
		d->battery = 64;
		d->tamper = 0;
		d->last_seen_ms = 1795924860500LL;
		d->heard = 1;
		h->device = d;
	}
}

static void test_encode_alert(void)
{
	union test_household hu;
	union test_device du;
	struct household *h = &hu.o;
	struct device *d = &du.o;
	make_household(h, d);
	struct alert_msg m;
	memset(&m, 0, sizeof m);
	strcpy(m.alert.id, "A-7");
	m.alert.type = SB_ALERT_DOOR_OPEN;
	m.alert.state = SB_AST_ESCALATED;
	strcpy(m.alert.household_id, "hh-1");
	strcpy(m.alert.device_id, "seal-1");
	m.alert.since_ms = 1795924800123LL;
	m.alert.count = 3;
	strcpy(m.alert.by, "officer");
	m.household = h;
	m.to_level = SB_LEVEL_STREET;
	strcpy(m.event_id, "A-7.2");
	m.at_ms = 1795925400000LL;

	cJSON *j = parse(codec_encode_alert(&m));
	CHECK_STR(jstr(j, "event_id"), "A-7.2");
	CHECK_STR(jstr(j, "alert_id"), "A-7");
	CHECK_STR(jstr(j, "type"), "door_open");
	CHECK_STR(jstr(j, "state"), "escalated");
	CHECK_STR(jstr(j, "level"), "street");
	CHECK_STR(jstr(j, "household_id"), "hh-1");
	CHECK_STR(jstr(j, "address"), "3-2-1502");
	CHECK_STR(jstr(j, "device_id"), "seal-1");
	CHECK_STR(jstr(j, "community_id"), "c1");
	CHECK_STR(jstr(j, "street_id"), "s1");
	CHECK_STR(jstr(j, "district_id"), "d1");
	CHECK_STR(jstr(j, "since"), "2026-11-29T04:00:00.123Z");
	CHECK_STR(jstr(j, "at"), "2026-11-29T04:10:00.000Z");
	CHECK(jnum(j, "count") == 3);
	CHECK_STR(jstr(j, "category"), "confirmed_case");
	CHECK(!has(j, "by") && !has(j, "note")); /* only for acked/resolved */
	cJSON_Delete(j);

	m.alert.type = SB_ALERT_UNMONITORED;
	m.alert.state = SB_AST_ACKED;
	m.alert.device_id[0] = '\0';
	h->address = NULL;
	h->category = SB_CAT_NONE;
	j = parse(codec_encode_alert(&m));
	CHECK_STR(jstr(j, "type"), "unmonitored");
	CHECK(jnull(j, "device_id"));
	CHECK(jnull(j, "address"));
	CHECK(jnull(j, "category"));
	CHECK_STR(jstr(j, "by"), "officer");
	CHECK(jnull(j, "note"));
	cJSON_Delete(j);

	m.alert.state = SB_AST_RESOLVED;
	strcpy(m.alert.note, "false alarm \"wind\"");
	j = parse(codec_encode_alert(&m));
	CHECK_STR(jstr(j, "state"), "resolved");
	CHECK_STR(jstr(j, "note"), "false alarm \"wind\"");
	cJSON_Delete(j);
}

static void test_encode_state(void)
{
	union test_household hu;
	union test_device du;
	struct household *h = &hu.o;
	struct device *d = &du.o;
	struct alert a1, a2;
	make_household(h, d);
	memset(&a1, 0, sizeof a1);
	memset(&a2, 0, sizeof a2);
	strcpy(a1.id, "A-1");
	strcpy(a2.id, "A-2");
	a1.type = SB_ALERT_DOOR_OPEN;
	a2.type = SB_ALERT_BATTERY_LOW;
	/* Listed newest first; the state lists them in type order. */
	h->alerts = &a2;
	a2.next_open = &a1;

	cJSON *j = parse(codec_encode_state(h, 1795924900000LL));
	CHECK_STR(jstr(j, "household_id"), "hh-1");
	CHECK_STR(jstr(j, "district_id"), "d1");
	CHECK_STR(jstr(j, "street_id"), "s1");
	CHECK_STR(jstr(j, "community_id"), "c1");
	CHECK_STR(jstr(j, "address"), "3-2-1502");
	CHECK_STR(jstr(j, "category"), "confirmed_case");
	CHECK(jnum(j, "persons") == 2);
	CHECK_STR(jstr(j, "start"), "2026-11-29T04:00:00.000Z");
	CHECK_STR(jstr(j, "end"), "2026-12-13T04:00:00.000Z");
	CHECK_STR(jstr(j, "device_id"), "seal-1");
	CHECK_STR(jstr(j, "door"), "closed");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "online")));
	CHECK_STR(jstr(j, "last_seen"), "2026-11-29T04:01:00.500Z");
	CHECK(jnum(j, "battery") == 64);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "tamper")));
	const cJSON *oa = cJSON_GetObjectItemCaseSensitive(j, "open_alerts");
	CHECK(cJSON_IsArray(oa) && cJSON_GetArraySize(oa) == 2);
	CHECK_STR(cJSON_GetArrayItem(oa, 0)->valuestring, "A-1"); /* type order */
	CHECK_STR(cJSON_GetArrayItem(oa, 1)->valuestring, "A-2");
	CHECK_STR(jstr(j, "at"), "2026-11-29T04:01:40.000Z");
	cJSON_Delete(j);

	/* a fitted seal never heard, silent, unknown values */
	d->heard = 0;
	d->battery = -1;
	d->tamper = -1;
	d->last_seen_ms = 0;
	d->door = SB_DOOR_UNKNOWN;
	j = parse(codec_encode_state(h, 0));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "online")));
	CHECK(jnull(j, "battery") && jnull(j, "tamper") && jnull(j, "last_seen"));
	CHECK_STR(jstr(j, "door"), "unknown");
	cJSON_Delete(j);
	d->heard = 1;
	d->tamper = 1;
	d->door = SB_DOOR_OPEN;
	j = parse(codec_encode_state(h, 0));
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "tamper")));
	CHECK_STR(jstr(j, "door"), "open");
	cJSON_Delete(j);

	/* no seal, no address, no category, no persons, no alerts */
	make_household(h, NULL);
	h->address = NULL;
	h->category = SB_CAT_NONE;
	h->persons = -1;
	j = parse(codec_encode_state(h, 0));
	CHECK(jnull(j, "device_id") && jnull(j, "address") && jnull(j, "category") && jnull(j, "persons"));
	CHECK(jnull(j, "battery") && jnull(j, "tamper") && jnull(j, "last_seen"));
	CHECK_STR(jstr(j, "door"), "unknown");
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "online")));
	oa = cJSON_GetObjectItemCaseSensitive(j, "open_alerts");
	CHECK(cJSON_IsArray(oa) && cJSON_GetArraySize(oa) == 0);
	cJSON_Delete(j);
}

static void test_encode_stats_status_rejected(void)
{
	struct stats_msg s = {.unit = &u_s, .households = 10, .fitted = 9, .online = 8, .silent = 1, .doors_open = 2, .open_alerts = 3, .at_ms = 1795924800000LL,
			  .seals = {-1, 2, 3, 4, 5, 6, 7}};
	cJSON *j = parse(codec_encode_stats(&s));
	CHECK_STR(jstr(j, "level"), "street");
	CHECK_STR(jstr(j, "unit_id"), "s1");
	CHECK(jnum(j, "households") == 10 && jnum(j, "fitted") == 9 && jnum(j, "online") == 8);
	CHECK(jnum(j, "silent") == 1 && jnum(j, "doors_open") == 2 && jnum(j, "open_alerts") == 3);
	CHECK_STR(jstr(j, "at"), "2026-11-29T04:00:00.000Z");
	CHECK(jnum(cJSON_GetObjectItemCaseSensitive(j, "seals"), "fitted") == 3);
	CHECK(!has(cJSON_GetObjectItemCaseSensitive(j, "seals"), "in_stock")); /* a district's only */
	cJSON_Delete(j);

	j = parse(codec_encode_status("online", "0.1.0", 1795924800000LL, NULL));
	CHECK_STR(jstr(j, "state"), "online");
	CHECK_STR(jstr(j, "version"), "0.1.0");
	CHECK_STR(jstr(j, "at"), "2026-11-29T04:00:00.000Z");
	CHECK(!has(j, "error"));
	cJSON_Delete(j);
	j = parse(codec_encode_status("offline", "0.1.0", 0, "store unavailable"));
	CHECK_STR(jstr(j, "state"), "offline");
	CHECK_STR(jstr(j, "error"), "store unavailable");
	cJSON_Delete(j);

	j = parse(codec_encode_rejected("seal/dev/x/report", "unknown_device", "no seal 'x' is fitted",
					1795924800000LL));
	CHECK_STR(jstr(j, "topic"), "seal/dev/x/report");
	CHECK_STR(jstr(j, "reason"), "unknown_device");
	CHECK_STR(jstr(j, "message"), "no seal 'x' is fitted");
	CHECK_STR(jstr(j, "at"), "2026-11-29T04:00:00.000Z");
	cJSON_Delete(j);
	j = parse(codec_encode_rejected("seal/x\x01", "bad_topic", NULL, 0));
	CHECK_STR(jstr(j, "topic"), "seal/x\x01");
	CHECK(jnull(j, "message"));
	cJSON_Delete(j);
}

static void test_encode_replies(void)
{
	struct cmd_result r;
	memset(&r, 0, sizeof r);
	CHECK(command(SB_OP_INSTALL, "{\"request_id\":\"q1\",\"device_id\":\"seal-1\",\"household_id\":\"hh-1\"}") == 0);
	r.ok = 1;
	cJSON *j = parse(codec_encode_reply(&cmd, SB_OP_INSTALL, &r));
	CHECK_STR(jstr(j, "request_id"), "q1");
	CHECK_STR(jstr(j, "op"), "install");
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
	CHECK_STR(jstr(j, "device_id"), "seal-1");
	CHECK_STR(jstr(j, "household_id"), "hh-1");
	CHECK(!has(j, "error") && !has(j, "alert_id"));
	cJSON_Delete(j);

	r.ok = 0;
	r.error = "device_in_use";
	strcpy(r.message, "seal 'seal-1' is fitted on household 'hh-0'");
	j = parse(codec_encode_reply(&cmd, SB_OP_INSTALL, &r));
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "ok")));
	CHECK_STR(jstr(j, "error"), "device_in_use");
	CHECK_STR(jstr(j, "message"), "seal 'seal-1' is fitted on household 'hh-0'");
	cJSON_Delete(j);

	CHECK(command(SB_OP_ACK, "{\"alert_id\":\"A-3\",\"by\":\"o\"}") == 0);
	memset(&r, 0, sizeof r);
	r.ok = 1;
	j = parse(codec_encode_reply(&cmd, SB_OP_ACK, &r));
	CHECK(jnull(j, "request_id"));
	CHECK_STR(jstr(j, "op"), "ack");
	CHECK_STR(jstr(j, "alert_id"), "A-3");
	cJSON_Delete(j);
	strcpy(r.alert_id, "A-4");
	j = parse(codec_encode_reply(&cmd, SB_OP_ACK, &r));
	CHECK_STR(jstr(j, "alert_id"), "A-4");
	cJSON_Delete(j);

	j = parse(codec_encode_error_reply("q2", "frobnicate", "bad_request", "unknown op 'frobnicate'"));
	CHECK_STR(jstr(j, "request_id"), "q2");
	CHECK_STR(jstr(j, "op"), "frobnicate");
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "ok")));
	CHECK_STR(jstr(j, "error"), "bad_request");
	CHECK_STR(jstr(j, "message"), "unknown op 'frobnicate'");
	cJSON_Delete(j);
	j = parse(codec_encode_error_reply(NULL, "admit", "bad_request", "missing field 'end'"));
	CHECK(jnull(j, "request_id"));
	cJSON_Delete(j);
	j = parse(codec_encode_error_reply("", "admit", "bad_request", "x"));
	CHECK(jnull(j, "request_id"));
	cJSON_Delete(j);
}

int main(void)
{
	RUN(test_model_names);
	RUN(test_id_valid);
	RUN(test_device_online);
	RUN(test_report_fields);
	RUN(test_report_battery);
	RUN(test_report_envelope);
	RUN(test_time_parse);
	RUN(test_time_format);
	RUN(test_cmd_admit);
	RUN(test_cmd_ids);
	RUN(test_cmd_reply_fields_first);
	RUN(test_cmd_install);
	RUN(test_cmd_permit_release_ack);
	RUN(test_cmd_envelope);
	RUN(test_encode_alert);
	RUN(test_encode_state);
	RUN(test_encode_stats_status_rejected);
	RUN(test_encode_replies);
	DONE();
}
