/* progress.h - a one-line progress display on stderr, redrawn in place. */
#ifndef EDONU_PROGRESS_H
#define EDONU_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress_state {
	uint64_t bytes;      /* input bytes read so far */
	int64_t bytes_total; /* -1 when unknown (a pipe) */
	uint64_t records;    /* records loaded + rejected + ignored */
	uint64_t rejected;
	double elapsed_s;
};

/* Draws the line (bytes, percent when known, records/s, rejects, ETA). */
void progress_draw(const struct progress_state *p);
/* Ends the line so that later output starts on a fresh one: once, after
 * the last progress_draw. */
void progress_end(void);

#endif
