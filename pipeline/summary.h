/* summary.h - the end-of-run account: a short table on stderr and, with --summary, a JSON object. */
#ifndef EDONU_SUMMARY_H
#define EDONU_SUMMARY_H

#include "../stages/reject_reason.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct summary {
	char table[160];
	uint64_t records_read;
	uint64_t loaded;
	uint64_t rejected;
	uint64_t ignored; /* --on-conflict ignore: records whose key was there already */
	uint64_t skipped;
	uint64_t rejected_earlier;     /* of the skipped: rejected by the earlier run that committed them */
	struct reject_tally by_reason; /* this run's rejects (they add up to rejected) by SQLSTATE or reason */
	uint64_t deferred;
	uint64_t bytes;
	double seconds;
	uint64_t batches;
	uint64_t retries;           /* whole-chunk retries after transient failures */
	uint64_t isolation_retries; /* statements rerun to isolate refused records */
	uint64_t statements;
	uint64_t keys_invalidated;
	uint64_t keys_pending;
	uint64_t redis_round_trips;
	uint64_t ndjson_unknown_keys; /* NDJSON keys that named no mapped column, in records that parsed */
	uint32_t workers;
	uint32_t files;
	double read_s;  /* reader thread: read, decode, frame */
	double parse_s; /* workers: parse, map, encode */
	double sink_s;  /* workers: COPY and COMMIT */
	int exit_code;
	char error[1024]; /* why the run did not load everything, or "" */
	bool started;     /* the load got as far as reading input */
	bool dry_run;     /* --dry-run: nothing was written, "loaded" would have loaded */
};

/* Adds b's counts into a (a run over several files); times add up too. */
void summary_add(struct summary *a, const struct summary *b);

/* Records loaded, rejected or ignored per minute over the whole run (skipped ones excluded). */
double summary_records_per_minute(const struct summary *s);

/* The table on stderr (a human's view). */
void summary_print(FILE *out, const struct summary *s);

/* The JSON object to path ("-": stdout), written to a temporary file and
 * renamed so that readers never see half of it. Returns 0 or -1 (errno). */
int summary_write_json(const char *path, const struct summary *s);

#endif
