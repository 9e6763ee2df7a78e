/* metrics.h - Prometheus metrics: a snapshot of the load's counters, its text exposition, a textfile writer and an HTTP server for /metrics and the dashboard. */
#ifndef EDONU_METRICS_H
#define EDONU_METRICS_H

#include "../core/buf.h"
#include "../core/err.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * How the load uses this module. The monitor thread (awake every 250 ms)
 * fills a struct metrics_snapshot from the counters it already sums for the
 * summary, then:
 *   - metrics_server_publish(srv, &snap) on every wake-up when
 *     --metrics-listen is set (rendering is a few microseconds), and
 *   - metrics_write_textfile(path, &snap, &e) every 10 s and once at exit
 *     when --metrics-textfile is set.
 * Workers call metrics_histogram_observe() on one shared histogram after
 * each COMMIT; it is lock-free and costs three relaxed atomic adds.
 *
 * Every series carries a table="..." label when the snapshot names a table,
 * so that several loaders writing textfiles into one node_exporter
 * directory do not collide. The source label appears only on the
 * edonu_ingest_info series, because file names change from run to run and
 * would otherwise start new series every time.
 */

/* Upper bounds of the batch commit latency buckets, in seconds. A COMMIT of
 * a 20000-row chunk takes a few milliseconds on a local server and seconds
 * when the WAL disk is saturated; 30 s is where a lock wait becomes the
 * likelier story. The +Inf bucket is implicit. */
#define METRICS_HISTOGRAM_BUCKETS 12
extern const double metrics_histogram_bounds[METRICS_HISTOGRAM_BUCKETS];

/* Written by many threads at once, read by the monitor. Zero it (or
 * declare it static) before use; there is nothing to free. */
struct metrics_histogram {
	/* Per bucket, not cumulative; the last slot is above the largest bound. */
	_Atomic uint64_t counts[METRICS_HISTOGRAM_BUCKETS + 1];
	/* Nanoseconds, so that the sum is an integer atomic add: 2^64 ns is
	 * 584 years of commit time. */
	_Atomic uint64_t sum_ns;
};

/* Plain values of a histogram, as the exposition wants them. */
struct metrics_histogram_values {
	uint64_t cumulative[METRICS_HISTOGRAM_BUCKETS]; /* observations <= bound i */
	uint64_t count;                                 /* the +Inf bucket */
	double sum_seconds;
};

/* Records one observation; negative or NaN values count as 0. Lock-free
 * and safe from any number of threads. */
void metrics_histogram_observe(struct metrics_histogram *h, double seconds);

/* Reads h into v. Each bucket is read atomically but not the histogram as a
 * whole, so a concurrent observe may be in the count and not yet in the sum;
 * the next read includes it. count is computed from the buckets, so
 * cumulative[] never exceeds count. */
void metrics_histogram_read(const struct metrics_histogram *h, struct metrics_histogram_values *v);

/* What the exposition shows: plain values, filled by the monitor. The
 * strings are borrowed for the duration of a call only. */
struct metrics_snapshot {
	uint64_t records_loaded;    /* SUM(loaded) over workers */
	uint64_t records_rejected;  /* SUM(rejected) */
	uint64_t records_ignored;   /* SUM(ignored): --on-conflict ignore */
	uint64_t records_skipped;   /* sum of sources[i].skipped */
	uint64_t bytes_read;        /* ld->bytes_read */
	uint64_t batches;           /* SUM(batches): chunks committed */
	uint64_t retries;           /* SUM(retries): whole-chunk retries */
	uint64_t isolation_retries; /* SUM(isolation_retries) */
	uint64_t keys_invalidated;  /* cache_stats().keys_invalidated */
	uint64_t keys_pending;      /* cache_stats().keys_pending */
	uint64_t redis_round_trips; /* cache_stats().round_trips */
	uint64_t queue_depth;       /* chunks waiting in the workers' todo rings */
	uint32_t workers;           /* ld->nworkers */
	struct metrics_histogram_values commit_seconds;
	double start_time_seconds;   /* unix time the run started */
	double last_success_seconds; /* unix time a run last finished without error; 0 = not this run */
	bool up;                     /* true while the load runs; false in the final write */
	const char *table;           /* the table's display name, or NULL */
	const char *source;          /* the input (file name, "-"), or NULL */
};

/* Appends the snapshot in the Prometheus text exposition format 0.0.4 to
 * out. Label values are escaped, and bytes that are not UTF-8 become
 * U+FFFD since the format requires UTF-8. Returns 0; the buffer grows as
 * needed (buf_grow aborts on out-of-memory). */
int metrics_render(const struct metrics_snapshot *s, struct buf *out);

/* Writes the exposition for node_exporter's textfile collector: to
 * "<path>.tmp.<pid>" in the same directory, then renamed over path, so a
 * scrape sees the old file or the new one, never a part. (No fsync: a crash
 * may lose the latest write, which the next write repairs; the rename is
 * what makes it atomic for readers.) When s->last_success_seconds is 0 the
 * value in the existing file, if any, is kept, so a failing run does not
 * erase the last success that alerts are based on. Returns 0, or -1 with e
 * set (EXIT_CONFIG, naming the path) and path unchanged. */
int metrics_write_textfile(const char *path, const struct metrics_snapshot *s, struct err *e);

/* Reads edonu_ingest_last_success_timestamp_seconds from an existing
 * textfile. Returns the value, or 0 when the file or the line is missing
 * or unreadable. */
double metrics_textfile_last_success(const char *path);

/* The HTTP server: one thread, poll(2), at most METRICS_HTTP_CONNECTIONS
 * clients; each request must arrive within METRICS_HTTP_TIMEOUT_MS and fit
 * in METRICS_HTTP_REQUEST_BYTES. GET or HEAD of /metrics (the exposition),
 * /stats (the dashboard's JSON, see stats.h) or / (the dashboard's page,
 * dashboard.h) is 200, other paths 404, other methods 405, an oversized
 * request 431, a client beyond the connection limit 503; every response
 * closes the connection. Before their first publish, /metrics and /stats
 * answer 503. */
#define METRICS_HTTP_CONNECTIONS   8    /* a Prometheus pair plus a few curls */
#define METRICS_HTTP_REQUEST_BYTES 8192 /* a scrape's request is ~300 bytes */
#define METRICS_HTTP_TIMEOUT_MS    5000 /* per connection, request and response */

struct metrics_server;

/* Binds host_port and starts the thread. host_port is "HOST:PORT",
 * "[IPV6]:PORT", or ":PORT" and "PORT", which listen on 127.0.0.1 only
 * (every interface is "0.0.0.0:PORT", or "[::]:PORT" for IPv6 and IPv4);
 * HOST may be a name, in which case its first address that binds is used. PORT 0 picks a free port (see
 * metrics_server_port). Returns NULL with e set to EXIT_CONFIG for a bad
 * address, an address in use or one not available, EXIT_SOFTWARE when the
 * thread or memory cannot be had. */
struct metrics_server *metrics_server_start(const char *host_port, struct err *e);

/* The port actually bound. */
uint16_t metrics_server_port(const struct metrics_server *m);

/* Renders s and makes it the body of later scrapes. Rendering happens
 * outside the lock, the swap under it. Call from one thread at a time (the
 * monitor). */
void metrics_server_publish(struct metrics_server *m, const struct metrics_snapshot *s);

/* Makes json[0..len) the body of later GET /stats (copied). Call from
 * the same thread as metrics_server_publish. */
void metrics_server_publish_stats(struct metrics_server *m, const char *json, size_t len);

/* Closes the listener and open connections, joins the thread, frees m.
 * Returns promptly even with idle clients connected. NULL is ignored. */
void metrics_server_stop(struct metrics_server *m);

#endif
