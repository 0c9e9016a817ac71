#include "clock.h"

#include <time.h>

static int64_t to_ms(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for these two clocks on Linux; zero rather than garbage if it ever does. */
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sb_now clock_now(void)
{
	struct sb_now now;

	now.mono_ms = to_ms(CLOCK_MONOTONIC);
	now.wall_ms = to_ms(CLOCK_REALTIME);
	return now;
}
