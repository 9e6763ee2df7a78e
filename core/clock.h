/* clock.h - monotonic time, sleeps that survive signals, and the one backoff policy every retry loop follows. */
#ifndef EDONU_CLOCK_H
#define EDONU_CLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Monotonic time, for intervals only. */
uint64_t clock_mono_ns(void);
double clock_mono_s(void);

/* Sleeps ms milliseconds, resuming after signal handlers. When stop is not
 * NULL the sleep is taken in steps of at most 100 ms and ends early once
 * *stop is true. */
void clock_sleep_ms(long ms, const _Atomic bool *stop);

/* Retries wait 100 ms, doubling up to 5 s: quick after a blip, and a server
 * that is down for a minute is asked about a dozen times, not thousands. */
#define BACKOFF_MS_MIN 100
#define BACKOFF_MS_MAX 5000

/* The wait after one of ms. */
static inline long backoff_next_ms(long ms)
{
	return ms * 2 > BACKOFF_MS_MAX ? BACKOFF_MS_MAX : ms * 2;
}

#endif
