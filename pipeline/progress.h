/* progress.h - a one-line progress display on stderr, redrawn in place. */
#ifndef EDONU_PROGRESS_H
#define EDONU_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress_state {
	uint64_t bytes;      /* input bytes read so far */
	int64_t bytes_total; /* -1 when unknown (a pipe) */
	uint64_t records;    /* records loaded + rejected + ignored */
	uint64_t loaded;
	uint64_t rejected;
	double elapsed_s;
	double recent_per_s; /* records/s over the last PROGRESS_RATE_WINDOW_S (progress_rate) */
};

/* Draws the line. With a known size: bytes, percent, records/s since the
 * start, rejects, ETA. A stream (size unknown): records loaded, records/s
 * of the last seconds (a stream's own pace, which pauses in it would blur
 * over the whole run), rejects, bytes. */
void progress_draw(const struct progress_state *p);
/* Ends the line so that later output starts on a fresh one: once, after
 * the last progress_draw. */
void progress_end(void);

/* The records/s of the last few seconds, from samples of a running count:
 * a ring of the last PROGRESS_RATE_SAMPLES samples, the rate between the
 * oldest one inside the window and the newest. */
#define PROGRESS_RATE_WINDOW_S 5.0
#define PROGRESS_RATE_SAMPLES  64
struct progress_rate {
	double t[PROGRESS_RATE_SAMPLES];
	uint64_t n[PROGRESS_RATE_SAMPLES];
	uint32_t head; /* next slot to write */
	uint32_t count;
};
/* Records that the count was n at time t_s (seconds, non-decreasing);
 * returns the records/s over the window ending at t_s (0 until a second
 * sample). */
double progress_rate_add(struct progress_rate *r, double t_s, uint64_t n);

#endif
