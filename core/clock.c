/* clock.c - monotonic time and signal-proof sleeps. */
#include "clock.h"

#include <errno.h>
#include <time.h>

uint64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double clock_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_whole(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void clock_sleep_ms(long ms, const _Atomic bool *stop)
{
	if (stop == NULL) {
		sleep_whole(ms);
		return;
	}
	while (ms > 0 && !atomic_load(stop)) {
		long step = ms < 100 ? ms : 100;
		sleep_whole(step);
		ms -= step;
	}
}
