#include "reply_topic.h"

#include <stdio.h>
#include <string.h>

void reply_rules_init(struct reply_rules *r)
{
	memset(r, 0, sizeof(*r));
}

static int add(char (*v)[REPLY_RULE_LEN], size_t *n, const char *s)
{
	if (*n >= REPLY_RULES_MAX || strlen(s) >= REPLY_RULE_LEN)
		return -1;
	memcpy(v[*n], s, strlen(s) + 1);
	(*n)++;
	return 0;
}

int reply_rules_add_prefix(struct reply_rules *r, const char *prefix)
{
	return add(r->prefix, &r->nprefix, prefix);
}

int reply_rules_add_filter(struct reply_rules *r, const char *filter)
{
	return add(r->filter, &r->nfilter, filter);
}

int topic_matches_filter(const char *f, const char *t)
{
	/* Topics starting with '$' are never matched by a leading wildcard. */
	if (*t == '$' && (*f == '+' || *f == '#'))
		return 0;
	for (;;) {
		if (f[0] == '#' && f[1] == '\0')
			return 1; /* also matches the parent level: "a/#" matches "a" */
		size_t fl = strcspn(f, "/"), tl = strcspn(t, "/");
		if (!(fl == 1 && f[0] == '+') && (fl != tl || memcmp(f, t, fl) != 0))
			return 0;
		f += fl;
		t += tl;
		if (!*f && !*t)
			return 1;
		if (!*t)
			return f[0] == '/' && f[1] == '#' && f[2] == '\0';
		if (!*f)
			return 0;
		f++;
		t++;
	}
}

/* Length of the UTF-8 sequence at p (well-formed, shortest form, no
 * surrogates, at most U+10FFFF), or 0. Sets *cp. */
static size_t utf8_seq(const unsigned char *p, size_t avail, unsigned *cp)
{
	unsigned c = p[0];
	size_t n;
	unsigned min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		n = 2, min = 0x80, c &= 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3, min = 0x800, c &= 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

int reply_topic_check(const struct reply_rules *r, const char *topic, size_t len, char *why, size_t wl)
{
	if (!topic || len == 0 || len > REPLY_TOPIC_MAX) {
		snprintf(why, wl, "reply topic must be 1-%d bytes (got %zu)", REPLY_TOPIC_MAX, topic ? len : 0);
		return -1;
	}
	const unsigned char *p = (const unsigned char *)topic;
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t n = utf8_seq(p + i, len - i, &cp);
		if (!n) {
			snprintf(why, wl, "reply topic is not valid UTF-8 (byte %zu)", i);
			return -1;
		}
		if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
			snprintf(why, wl, "reply topic holds a control character (byte %zu)", i);
			return -1;
		}
		if (cp == '+' || cp == '#') {
			snprintf(why, wl, "reply topic holds the wildcard '%c'", (char)cp);
			return -1;
		}
		i += n;
	}
	if (topic[0] == '$') {
		snprintf(why, wl, "reply topic starts with '$' (the broker's own topics)");
		return -1;
	}
	for (size_t i = 0; i < r->nprefix; i++) {
		size_t pl = strlen(r->prefix[i]);
		/* "R/cmd" itself is as much the daemon's as "R/cmd/x". */
		if ((len >= pl && memcmp(topic, r->prefix[i], pl) == 0) ||
		    (len == pl - 1 && memcmp(topic, r->prefix[i], len) == 0)) {
			snprintf(why, wl, "reply topic is under %.*s, the daemon's own topics", (int)(pl - 1),
				 r->prefix[i]);
			return -1;
		}
	}
	for (size_t i = 0; i < r->nfilter; i++) {
		if (topic_matches_filter(r->filter[i], topic)) {
			snprintf(why, wl, "reply topic is one of the daemon's inputs (%s)", r->filter[i]);
			return -1;
		}
	}
	return 0;
}
