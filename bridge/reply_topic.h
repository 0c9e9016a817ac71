/* Where a reply may go: the interface's "Replies never go where they could
 * do harm". A reply topic comes from outside (reply_to, the v5 response
 * topic); published unchecked it could be a command or a seal report to the
 * daemon itself, a wildcard the broker answers with a DISCONNECT, or a topic
 * cut short somewhere else. */
#ifndef SB_REPLY_TOPIC_H
#define SB_REPLY_TOPIC_H

#include <stddef.h>

#define REPLY_TOPIC_MAX 256
#define REPLY_RULES_MAX 24
#define REPLY_RULE_LEN 600

struct reply_rules {
	/* Topics under these (each ends in '/') are refused. */
	char prefix[REPLY_RULES_MAX][REPLY_RULE_LEN];
	size_t nprefix;
	/* Topics matching these subscription filters (the daemon's own inputs) are refused. */
	char filter[REPLY_RULES_MAX][REPLY_RULE_LEN];
	size_t nfilter;
};

void reply_rules_init(struct reply_rules *r);
/* 0, or -1 when there is no room (a rule not added is a bug: the caller logs it). */
int reply_rules_add_prefix(struct reply_rules *r, const char *prefix_with_slash);
int reply_rules_add_filter(struct reply_rules *r, const char *filter);

/* 1 when topic (a topic name) matches the MQTT subscription filter. */
int topic_matches_filter(const char *filter, const char *topic);

/* 0 when a reply may be published to topic (len bytes, which may hold a NUL);
 * else -1 with why filled in. */
int reply_topic_check(const struct reply_rules *r, const char *topic, size_t len, char *why, size_t why_len);

#endif
