/* Local clock times for daily permits (timing.timezone, an IANA zone from the
 * system's tzdata). The zone is set once for the process (TZ, then tzset), at
 * start-up and on SIGHUP, before any thread reads the local time; the engine
 * only calls tzwin_ms_of_day() with the wall time it was given, so it stays
 * free of clock reads. Log lines use UTC and do not depend on it. */
#ifndef SB_TZWIN_H
#define SB_TZWIN_H

#include <stdint.h>

/* 0 when zone names an installed IANA zone ("UTC" always does), else -1 and err. */
int tzwin_check(const char *zone, char err[256]);
/* Makes zone the process's local zone. 0, or -1 and err (nothing changed). */
int tzwin_use(const char *zone, char err[256]);
/* Milliseconds since local midnight (0 .. 86399999) at wall_ms. */
int64_t tzwin_ms_of_day(int64_t wall_ms);
/* "HH:MM" (00:00-23:59) to minutes of the day; -1 when malformed. */
int tzwin_parse_hhmm(const char *s);
/* Inside a daily window [from, until] (minutes, inclusive; from > until crosses midnight). */
int tzwin_in_window(int64_t wall_ms, int from_min, int until_min);

#endif
