#include "ctl.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"

/* The codec accepts up to the year 9999; so do we. */
#define MAX_EPOCH_S 253402300799LL

int64_t ctl_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ctl_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Digits only, at most max; -1 when not a number or out of range. */
static int64_t digits(const char *s, size_t n, int64_t max)
{
	int64_t v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -1;
	}
	return v;
}

int ctl_time_parse(const char *s, int64_t now_ms, struct ctl_time *out, char err[CTL_ERR_MAX])
{
	size_t n = strlen(s);
	memset(out, 0, sizeof *out);
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		static const struct {
			char unit;
			int64_t ms;
		} units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}};
		int64_t unit_ms = 0;
		for (size_t i = 0; n > 2 && i < sizeof units / sizeof units[0]; i++) {
			if (s[n - 1] == units[i].unit)
				unit_ms = units[i].ms;
		}
		/* Up to ten years either way keeps every sum far from overflow. */
		int64_t v = unit_ms ? digits(s + 1, n - 2, 3660LL * 86400000 / unit_ms) : -1;
		if (v < 0) {
			snprintf(err, CTL_ERR_MAX,
				 "'%s': a relative time is +N or -N with s, m, h or d, e.g. +2h, +14d "
				 "(at most ten years)", s);
			return -1;
		}
		out->ms = now_ms + (s[0] == '-' ? -v : v) * unit_ms;
		codec_format_time(out->ms, out->text);
		return 0;
	}
	int64_t secs = digits(s, n, MAX_EPOCH_S);
	if (secs >= 0) {
		out->is_seconds = 1;
		out->seconds = secs;
		out->ms = secs * 1000;
		snprintf(out->text, sizeof out->text, "%s", s);
		return 0;
	}
	int64_t ms;
	if (n < sizeof out->text && codec_parse_time(s, &ms) == 0) {
		out->ms = ms;
		memcpy(out->text, s, n + 1); /* passed through as given */
		return 0;
	}
	snprintf(err, CTL_ERR_MAX,
		 "'%s' is not a time: use RFC 3339 (2026-11-29T04:00:00Z), integer seconds since the "
		 "epoch, or +N/-N with s, m, h or d (+2h)", s);
	return -1;
}

void ctl_random(void *buf, size_t n)
{
	unsigned char *b = buf;
	size_t got = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if (f) {
		got = fread(b, 1, n, f);
		fclose(f);
	}
	/* Only ids and correlation data come from here, not secrets: uniqueness is enough. */
	uint64_t x = (uint64_t)ctl_wall_ms() * 6364136223846793005ULL ^ (uint64_t)ctl_mono_ms() ^
		     ((uint64_t)getpid() << 32);
	for (; got < n; got++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[got] = (unsigned char)x;
	}
}
