/* Platform command payloads (codec_decode_command) for every op: the first
 * byte picks the op (modulo SB_OP_COUNT + 1; the last value is an unknown op), the
 * rest is the payload. Whatever decodes must satisfy INTERFACE.md's command
 * table and re-encode as a reply. */
#include "reply_topic.h"
#include "codec.h"
#include "fuzz_check.h"

#include <cjson/cJSON.h>

#define MAX_TIME_MS 253402300799999LL
#define MAX_SILENCE_MS (30LL * 24 * 3600 * 1000)

static int id_or_empty(const char *s)
{
	return s[0] == '\0' || sb_id_valid(s);
}

static void check_id(const char *s, int required)
{
	FUZZ_CHECK(fuzz_terminated(s, SB_ID_MAX + 1));
	FUZZ_CHECK(required ? sb_id_valid(s) : id_or_empty(s));
}

static void check_text(const char *s, size_t max)
{
	FUZZ_CHECK(fuzz_terminated(s, max + 1));
	FUZZ_CHECK(fuzz_no_control(s));
}

static void check_time(int has, int64_t ms)
{
	FUZZ_CHECK(has == 0 || has == 1);
	FUZZ_CHECK(has ? (ms >= 0 && ms <= MAX_TIME_MS) : ms == 0);
}

/* request_id and reply_to hold on success and on failure alike: the error
 * reply is addressed with them. */
static void check_reply_fields(const struct command *c)
{
	check_id(c->request_id, 0);
	FUZZ_CHECK(fuzz_terminated(c->reply_to, SB_TOPIC_MAX + 1));
	/* The codec keeps reply_to as given (a bad one must not stop the command);
	 * what reply_topic.c lets through is a plain topic name a reply may go to. */
	static struct reply_rules rules;
	static int ready;
	if (!ready) {
		reply_rules_init(&rules);
		FUZZ_CHECK(reply_rules_add_prefix(&rules, "seal/cmd/") == 0);
		ready = 1;
	}
	char why[128];
	if (c->reply_to[0] && reply_topic_check(&rules, c->reply_to, strlen(c->reply_to), why, sizeof why) == 0) {
		FUZZ_CHECK(strlen(c->reply_to) <= REPLY_TOPIC_MAX);
		FUZZ_CHECK(fuzz_no_control(c->reply_to));
		FUZZ_CHECK(strpbrk(c->reply_to, "+#") == NULL);
		FUZZ_CHECK(strncmp(c->reply_to, "seal/cmd/", 9) != 0);
	}
}

static void check_decoded(enum sb_op op, const struct command *c)
{
	int admit = op == SB_OP_ADMIT, ackish = op == SB_OP_ACK || op == SB_OP_RESOLVE;
	int custody = op == SB_OP_REGISTER || op == SB_OP_ALLOCATE || op == SB_OP_INSPECT;
	int dev = op == SB_OP_INSTALL || op == SB_OP_UNINSTALL || custody || op == SB_OP_SWAP;

	FUZZ_CHECK(c->op == op);
	check_id(c->household_id, op != SB_OP_UNINSTALL && !ackish && !custody);
	if (custody)
		FUZZ_CHECK(c->household_id[0] == '\0');
	check_id(c->model, 0);
	check_id(c->batch, 0);
	if (op != SB_OP_REGISTER)
		FUZZ_CHECK(c->model[0] == '\0' && c->batch[0] == '\0');
	FUZZ_CHECK(op == SB_OP_INSPECT ? c->result != SB_INSPECT_NONE : c->result == SB_INSPECT_NONE);
	for (int l = 0; l < SB_LEVEL_COUNT; l++)
		check_id(c->unit_id[l], admit);
	if (!admit && op != SB_OP_ALLOCATE)
		for (int l = 0; l < SB_LEVEL_COUNT; l++)
			FUZZ_CHECK(c->unit_id[l][0] == '\0');
	check_id(c->device_id, dev);
	check_id(c->alert_id, ackish);
	check_id(c->by, ackish);
	check_text(c->address, SB_ADDRESS_MAX);
	check_text(c->reason, SB_TEXT_MAX);
	check_text(c->note, SB_TEXT_MAX);
	FUZZ_CHECK(c->category >= SB_CAT_NONE && c->category <= SB_CAT_OTHER);
	FUZZ_CHECK(c->persons >= -1 && c->persons <= 10000);
	check_time(c->has_start, c->start_ms);
	check_time(c->has_end, c->end_ms);
	check_time(c->has_from, c->from_ms);
	check_time(c->has_until, c->until_ms);
	FUZZ_CHECK(c->has_silence_after == 0 || c->has_silence_after == 1);
	FUZZ_CHECK(c->has_silence_after ? (c->silence_after_ms > 0 && c->silence_after_ms <= MAX_SILENCE_MS)
					: c->silence_after_ms == 0);
	/* Required times per op, and nothing decoded that the op does not take. */
	if (admit)
		FUZZ_CHECK(c->has_end);
	else
		FUZZ_CHECK(!c->has_start && !c->has_end && c->address[0] == '\0' &&
			   c->category == SB_CAT_NONE && c->persons == -1);
	if (op == SB_OP_PERMIT)
		FUZZ_CHECK(c->has_until);
	else
		FUZZ_CHECK(!c->has_from && !c->has_until);
	if (op != SB_OP_INSTALL)
		FUZZ_CHECK(!c->has_silence_after);
	if (op != SB_OP_RELEASE && op != SB_OP_PERMIT)
		FUZZ_CHECK(c->reason[0] == '\0');
	if (!ackish && op != SB_OP_REGISTER && op != SB_OP_INSPECT)
		FUZZ_CHECK(c->note[0] == '\0');
}

/* A reply must be a JSON object naming the op and echoing request_id. */
static void check_reply(char *json, enum sb_op op, const struct command *c, int ok)
{
	FUZZ_CHECK(json != NULL);
	cJSON *o = cJSON_Parse(json);
	FUZZ_CHECK(cJSON_IsObject(o));
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "op");
	FUZZ_CHECK(cJSON_IsString(v) && strcmp(v->valuestring, sb_op_name(op)) == 0);
	v = cJSON_GetObjectItemCaseSensitive(o, "ok");
	FUZZ_CHECK(ok ? cJSON_IsTrue(v) : cJSON_IsFalse(v));
	v = cJSON_GetObjectItemCaseSensitive(o, "request_id");
	if (c->request_id[0])
		FUZZ_CHECK(cJSON_IsString(v) && strcmp(v->valuestring, c->request_id) == 0);
	else
		FUZZ_CHECK(cJSON_IsNull(v));
	cJSON_Delete(o);
	free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum sb_op op = (enum sb_op)(data[0] % (SB_OP_COUNT + 1));
	struct command c;
	struct cmd_result r;
	char err[CODEC_ERR_MAX];

	int rc = codec_decode_command(op, (const char *)data + 1, size - 1, &c, err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(fuzz_terminated(err, CODEC_ERR_MAX));
	check_reply_fields(&c);
	if (op == SB_OP_COUNT) {
		FUZZ_CHECK(rc == -1);
		return 0;
	}
	memset(&r, 0, sizeof r);
	if (rc < 0) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(fuzz_printable(err));
		/* As the service answers a bad command. */
		check_reply(codec_encode_error_reply(c.request_id[0] ? c.request_id : NULL, sb_op_name(op),
						     "bad_request", err),
			    op, &c, 0);
		r.ok = 0;
		r.error = "bad_request";
		snprintf(r.message, sizeof r.message, "%s", err);
		check_reply(codec_encode_reply(&c, op, &r), op, &c, 0);
		return 0;
	}
	FUZZ_CHECK(size - 1 <= SB_COMMAND_MAX);
	check_decoded(op, &c);
	r.ok = 1;
	r.changed = 1;
	check_reply(codec_encode_reply(&c, op, &r), op, &c, 1);
	return 0;
}
