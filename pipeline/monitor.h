/* monitor.h - what the main thread does while a load runs: Prometheus metrics (textfile and HTTP) over the whole process. */
#ifndef EDONU_MONITOR_H
#define EDONU_MONITOR_H

#include "../core/err.h"
#include "metrics.h"
#include "options.h"
#include "summary.h"

#include <stdbool.h>

/* Commit latency of every batch of the process, observed by the workers. */
extern struct metrics_histogram monitor_commit_seconds;

/* The figures of the load running now, read by the monitor every tick. */
struct monitor_live {
	uint64_t loaded, rejected, ignored, skipped, bytes, batches, retries, isolation_retries;
	uint64_t keys_invalidated, keys_pending, redis_round_trips, queue_depth;
	uint32_t workers;
	const char *table;
	const char *source;
};

/* Starts the HTTP endpoint (--metrics-listen) once per process; later calls
 * do nothing. EXIT_CONFIG when it cannot listen. */
int monitor_start(const struct options *o, struct err *e);
/* Publishes the process's totals plus the live load's figures; writes the
 * textfile when it is due (every 10 s) or when final. */
void monitor_tick(const struct options *o, const struct monitor_live *live, bool final);
/* A load finished: its figures join the process totals; success stamps
 * edonu_ingest_last_success_timestamp_seconds. */
void monitor_load_done(const struct summary *s, bool success);
/* Last textfile write (up = 0) and the endpoint stopped. */
void monitor_stop(const struct options *o);

#endif
