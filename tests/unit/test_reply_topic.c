/* Where replies may go (reply_topic.c): the interface's "Replies never go
 * where they could do harm", at each boundary. */
#include <string.h>

#include "check.h"
#include "reply_topic.h"

static struct reply_rules R;

static int ok(const char *t)
{
	char why[160];
	return reply_topic_check(&R, t, strlen(t), why, sizeof(why)) == 0;
}

static void setup(void)
{
	reply_rules_init(&R);
	CHECK(reply_rules_add_prefix(&R, "R/cmd/") == 0);
	CHECK(reply_rules_add_prefix(&R, "R/dev/") == 0);
	CHECK(reply_rules_add_prefix(&R, "R/gw/") == 0);
	CHECK(reply_rules_add_filter(&R, "zigbee2mqtt/+") == 0);
	CHECK(reply_rules_add_filter(&R, "tele/+/SENSOR") == 0);
}

static void test_filters(void)
{
	CHECK(topic_matches_filter("a/+", "a/b"));
	CHECK(topic_matches_filter("a/+", "a/"));
	CHECK(!topic_matches_filter("a/+", "a/b/c"));
	CHECK(!topic_matches_filter("a/+", "a"));
	CHECK(topic_matches_filter("a/#", "a"));
	CHECK(topic_matches_filter("a/#", "a/b/c"));
	CHECK(topic_matches_filter("#", "x/y"));
	CHECK(!topic_matches_filter("#", "$SYS/x"));
	CHECK(!topic_matches_filter("+/x", "$SYS/x"));
	CHECK(topic_matches_filter("+/+/SENSOR", "tele/b/SENSOR"));
	CHECK(!topic_matches_filter("tele/+/SENSOR", "tele/b/STATE"));
	CHECK(!topic_matches_filter("a/b", "a/bc"));
	CHECK(!topic_matches_filter("a/bc", "a/b"));
}

static void test_reply_topics(void)
{
	setup();
	CHECK(ok("app/replies/7"));
	CHECK(ok("R/reply/app/1"));
	CHECK(ok("R/cmdx")); /* not under R/cmd/ */
	CHECK(!ok("R/cmd/release"));
	CHECK(!ok("R/cmd"));
	CHECK(!ok("R/dev/s-1/report"));
	CHECK(!ok("R/gw/g/status"));
	CHECK(!ok("zigbee2mqtt/door-1"));
	CHECK(ok("zigbee2mqtt/door-1/x")); /* only what the filter takes */
	CHECK(!ok("tele/t/SENSOR"));
	CHECK(!ok(""));
	CHECK(!ok("a/#"));
	CHECK(!ok("a/+/b"));
	CHECK(!ok("a\x01" "b"));
	CHECK(!ok("a\x7f"));
	CHECK(!ok("a\xc2\x85")); /* U+0085, a C1 control */
	CHECK(!ok("a\xc3"));     /* cut short */
	CHECK(!ok("a\xc0\xaf")); /* overlong */
	CHECK(!ok("a\xed\xa0\x80")); /* surrogate */
	CHECK(ok("caf\xc3\xa9"));
	CHECK(!ok("$SYS/x"));
	char why[160];
	CHECK(reply_topic_check(&R, "a\0b", 3, why, sizeof(why)) < 0); /* a NUL inside */
	char t[REPLY_TOPIC_MAX + 2];
	memset(t, 'a', sizeof(t));
	t[REPLY_TOPIC_MAX] = '\0';
	CHECK(ok(t)); /* 256 bytes */
	t[REPLY_TOPIC_MAX] = 'a';
	t[REPLY_TOPIC_MAX + 1] = '\0';
	CHECK(!ok(t)); /* 257 */
}

int main(void)
{
	RUN(test_filters);
	RUN(test_reply_topics);
	DONE();
}
