/* Where command replies may go (see reply_topic.h), from the daemon's own
 * topics and the subscriptions it makes. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "service_impl.h"

void service_reply_rules(struct service *s)
{
	struct reply_rules *r = &s->reply_rules;
	const char *root = s->cfg.mqtt.topic_root;
	/* Inputs (cmd, dev, gw) and the daemon's own outputs: a reply there would
	 * be a command, a seal's report, or pose as an alert or a state. Replies
	 * for accounts of deploy/acl go under <root>/reply/, which stays open. */
	static const char *const own[] = {"cmd", "dev", "gw", "alert", "state", "stats", "bridge"};
	char t[REPLY_RULE_LEN];
	int ok = 1;
	reply_rules_init(r);
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		snprintf(t, sizeof(t), "%s/%s/", root, own[i]);
		ok &= reply_rules_add_prefix(r, t) == 0;
	}
	/* Every enabled vendor source: all of its tree, not only what we
	 * subscribe to today (its bridge listens there too). */
	if (s->vendors.z2m && s->vendors.z2m_base[0]) {
		snprintf(t, sizeof(t), "%s/", s->vendors.z2m_base);
		ok &= reply_rules_add_prefix(r, t) == 0;
	}
	if (s->vendors.shelly)
		ok &= reply_rules_add_prefix(r, "shellies/") == 0;
	if (s->vendors.tasmota) {
		ok &= reply_rules_add_prefix(r, "tele/") == 0;
		ok &= reply_rules_add_prefix(r, "cmnd/") == 0;
	}
	/* And whatever the daemon actually subscribes to. */
	char vf[VENDOR_FILTERS_MAX][SB_TOPIC_MAX + 1];
	size_t n = vendor_filters(&s->vendors, vf, VENDOR_FILTERS_MAX);
	snprintf(t, sizeof(t), "%s/dev/+/report", root);
	ok &= reply_rules_add_filter(r, t) == 0;
	snprintf(t, sizeof(t), "%s/cmd/+", root);
	ok &= reply_rules_add_filter(r, t) == 0;
	for (size_t i = 0; i < n; i++)
		ok &= reply_rules_add_filter(r, vf[i]) == 0;
	if (!ok)
		log_error("reply topics: too many rules; some of the daemon's topics are not protected");
}

const char *service_reply_topic(struct service *s, const struct transport_msg *m, const struct command *c)
{
	const char *to;
	size_t len;
	if (c->reply_to_given) {
		to = c->reply_to;
		len = strlen(to);
	} else if (m->response_topic) {
		to = m->response_topic;
		len = m->response_topic_len;
	} else {
		return NULL;
	}
	char why[160];
	if (reply_topic_check(&s->reply_rules, to, len, why, sizeof(why)) == 0)
		return to;
	/* The command itself is still carried out; only its reply is not published. */
	service_reject(s, m->topic, "bad_reply_topic", why, clock_now().wall_ms);
	return NULL;
}

int service_outbox_topic_ok(const struct service *s, const char *topic, char *why, size_t wl)
{
	static const char *const outputs[] = {"alert", "state", "stats", "bridge"};
	const char *root = s->cfg.mqtt.topic_root;
	size_t rl = strlen(root), len = strlen(topic);
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		size_t ol = strlen(outputs[i]);
		if (len > rl + ol + 2 && memcmp(topic, root, rl) == 0 && topic[rl] == '/' &&
		    memcmp(topic + rl + 1, outputs[i], ol) == 0 && topic[rl + 1 + ol] == '/' &&
		    !strpbrk(topic, "+#"))
			return 0;
	}
	return reply_topic_check(&s->reply_rules, topic, len, why, wl);
}
