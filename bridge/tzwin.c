/* Local time of day through the C library and the system's tzdata. */
#include "tzwin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ZONEINFO "/usr/share/zoneinfo/"

/* glibc silently treats an unknown TZ as UTC, so the zone file is checked
 * here: it must exist under zoneinfo and be a TZif file. */
int tzwin_check(const char *zone, char err[256])
{
	if (!zone || !*zone || strlen(zone) > 128) {
		snprintf(err, 256, "timezone must be an IANA name such as Asia/Shanghai");
		return -1;
	}
	if (strcmp(zone, "UTC") == 0)
		return 0;
	/* Names are Area/Location: no leading '/', no "..", nothing but these bytes. */
	if (zone[0] == '/' || strstr(zone, "..") ||
	    strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != strlen(zone)) {
		snprintf(err, 256, "timezone '%.64s' is not an IANA zone name", zone);
		return -1;
	}
	char path[256];
	snprintf(path, sizeof path, ZONEINFO "%s", zone);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, 256, "timezone '%.64s': %s (is the tzdata package installed?)", zone,
			 errno == ENOENT ? "no such zone" : strerror(errno));
		return -1;
	}
	char magic[4];
	ssize_t n = read(fd, magic, sizeof magic);
	close(fd);
	if (n != 4 || memcmp(magic, "TZif", 4) != 0) {
		snprintf(err, 256, "timezone '%.64s' is not a zone file", zone);
		return -1;
	}
	return 0;
}

int tzwin_use(const char *zone, char err[256])
{
	if (tzwin_check(zone, err) < 0)
		return -1;
	if (setenv("TZ", strcmp(zone, "UTC") == 0 ? "UTC0" : zone, 1) < 0) {
		snprintf(err, 256, "setenv TZ: %s", strerror(errno));
		return -1;
	}
	tzset();
	return 0;
}

int64_t tzwin_ms_of_day(int64_t wall_ms)
{
	int64_t ms = ((wall_ms % 1000) + 1000) % 1000;
	time_t secs = (time_t)((wall_ms - ms) / 1000);
	struct tm tm;
	if (!localtime_r(&secs, &tm))
		return ((wall_ms % 86400000) + 86400000) % 86400000;
	return ((int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec) * 1000 + ms;
}

int tzwin_parse_hhmm(const char *s)
{
	if (!s || strlen(s) != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	return h * 60 + m;
}

int tzwin_in_window(int64_t wall_ms, int from_min, int until_min)
{
	int64_t t = tzwin_ms_of_day(wall_ms), lo = (int64_t)from_min * 60000, hi = (int64_t)until_min * 60000;
	if (from_min <= until_min)
		return lo <= t && t <= hi;
	return t >= lo || t <= hi; /* across midnight */
}
