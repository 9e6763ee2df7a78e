/* monitor.h - what the main thread does while a load runs: Prometheus metrics (textfile and HTTP) and the live dashboard's /stats over the whole process. */
#ifndef EDONU_MONITOR_H
#define EDONU_MONITOR_H

#include "../core/err.h"
#include "metrics.h"
#include "options.h"
#include "stats.h"
#include "summary.h"

#include <stdbool.h>

struct monitor;

/* The figures of the load running now, read by the monitor every tick. */
struct monitor_live {
	uint64_t loaded, rejected, ignored, skipped, bytes, batches, retries, isolation_retries;
	uint64_t keys_invalidated, keys_pending, redis_round_trips, queue_depth;
	uint32_t workers;
	const char *table;
	const char *source;
	/* For the dashboard (/stats), borrowed for the call: per worker
	 * (workers of them, or NULL), and the inputs files[0..nfiles) that are
	 * the job's files_first.. of files_total; bytes_total -1 unknown. */
	const struct stats_worker *per_worker;
	const struct stats_file *files;
	uint32_t nfiles, files_first, files_total;
	int64_t bytes_total;
};

/* A command's metrics (o: its options, which must outlive it): starts the
 * HTTP endpoint for --metrics-listen. NULL with e (EXIT_CONFIG when it
 * cannot listen). */
struct monitor *monitor_create(const struct options *o, struct err *e);
/* Commit latency of every batch, observed by the workers. */
struct metrics_histogram *monitor_commit_histogram(struct monitor *mon);
/* Publishes the totals plus the live job's figures; writes the textfile
 * when it is due (every 10 s) or when final. */
void monitor_tick(struct monitor *mon, const struct monitor_live *live, bool final);
/* A job finished: its figures join the totals; success stamps
 * edonu_ingest_last_success_timestamp_seconds. */
void monitor_load_done(struct monitor *mon, const struct summary *s, bool success);
/* The run command's spool files, for the dashboard: how many it took on,
 * the one it loads now, and where each one went. */
void monitor_run_begin(struct monitor *mon, size_t files);
void monitor_run_file_start(struct monitor *mon, const char *name);
void monitor_run_file_end(struct monitor *mon, const char *name, enum stats_run_outcome outcome,
			  const struct summary *s);
/* Last textfile write (up = 0), the endpoint stopped, freed. */
void monitor_free(struct monitor *mon);

#endif
