/* stats.h - the live dashboard's figures: a history of rates sampled by the monitor, and the JSON served on /stats. */
#ifndef EDONU_STATS_H
#define EDONU_STATS_H

#include "../core/buf.h"
#include "metrics.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * The monitor keeps one struct stats_history and, on every wake-up while
 * --metrics-listen is set, adds a sample (at most one a second) and renders
 * a struct stats_view with stats_render_json. The page served on / polls
 * that JSON once a second and draws it; everything it shows is computed
 * here, so that the page holds no arithmetic a test could not see.
 */

/* One sample a second, ten minutes of them: the page's records/s chart.
 * 600 samples of 40 bytes and a JSON body of about 20 KiB. */
#define STATS_HISTORY_SAMPLES   600u
#define STATS_SAMPLE_INTERVAL_S 1.0
/* The current rates (records/s, bytes/s, hence every ETA) are taken over
 * the last few seconds: one sample alone jumps with each commit. */
#define STATS_RATE_WINDOW_S     10.0
/* Inputs listed per job: the one being read and those around it. A load
 * of ten thousand files lists 64 of them and counts the rest, so that a
 * poll stays small. */
#define STATS_FILES_MAX         64u
/* Spool files a run lists once filed under done/ or failed/: the last ones. */
#define STATS_RUN_RECENT        16u
#define STATS_NAME_BYTES        256u

struct stats_sample {
	double t;              /* monotonic seconds */
	uint64_t records;      /* loaded + rejected + ignored, over the whole command */
	uint64_t bytes;        /* input bytes read */
	uint64_t commits;      /* batches whose commit was timed */
	double commit_seconds; /* their total commit time */
};

/* A ring of samples; zero it before use. Written and read by the monitor
 * thread only. */
struct stats_history {
	struct stats_sample s[STATS_HISTORY_SAMPLES];
	uint32_t head; /* where the next sample goes */
	uint32_t n;    /* samples held */
};

/* Adds a sample taken at monotonic time t when the last one is at least
 * STATS_SAMPLE_INTERVAL_S old (or there is none) or when force is set;
 * returns whether it did. The oldest sample goes when the ring is full. */
bool stats_history_add(struct stats_history *h, double t, uint64_t records, uint64_t bytes,
		       const struct metrics_histogram_values *commit, bool force);

/* Records/s and bytes/s between the newest sample and the oldest one at
 * most window_s older than it; 0 with fewer than two samples. */
void stats_history_rates(const struct stats_history *h, double window_s, double *records_per_s, double *bytes_per_s);

/* The latency below which a fraction q (0..1) of the observations fall,
 * interpolated within its bucket as Prometheus's histogram_quantile does;
 * 0 with no observations, the largest bound when it is in the +Inf bucket. */
double stats_histogram_quantile(const struct metrics_histogram_values *v, double q);

/* Where an input of the running job is. */
enum stats_file_state {
	STATS_FILE_WAITING, /* not opened yet */
	STATS_FILE_READING, /* the reader is in it */
	STATS_FILE_READ,    /* read to its end (its last chunks may still be committing) */
	STATS_FILE_SKIPPED, /* the ledger says an earlier run loaded it whole */
};

struct stats_file {
	const char *name;
	uint64_t bytes; /* read so far */
	int64_t size;   /* -1 when unknown (a pipe) */
	enum stats_file_state state;
};

struct stats_worker {
	uint64_t queue_depth; /* chunks waiting in its ring */
	uint64_t loaded;      /* records it loaded */
	uint64_t batches;     /* chunks it committed */
};

/* What has become of a spool file (the run command). */
enum stats_run_outcome { STATS_RUN_DONE, STATS_RUN_FAILED, STATS_RUN_LEFT };

struct stats_run_file {
	char name[STATS_NAME_BYTES];
	enum stats_run_outcome outcome;
	uint64_t loaded, rejected;
};

/* The run command's files: counts and the last few filed. */
struct stats_run {
	uint64_t total;                                 /* files the run took on */
	uint64_t done, failed, left;                    /* filed under done/, failed/, or left in place */
	char current[STATS_NAME_BYTES];                 /* the one loading now, "" between files */
	struct stats_run_file recent[STATS_RUN_RECENT]; /* a ring, newest at recent_head - 1 */
	uint32_t recent_head, nrecent;
};

/* Everything /stats shows. Pointers are borrowed for the call. */
struct stats_view {
	const struct metrics_snapshot *snap; /* the same totals as /metrics */
	const char *command;                 /* "load" or "run" */
	double now_unix;
	/* The running job, when there is one (job false between a run's files
	 * and after the end). */
	bool job;
	uint64_t job_bytes;      /* read by this job */
	int64_t job_bytes_total; /* of its inputs, -1 unknown */
	const struct stats_file *files;
	uint32_t nfiles;                    /* listed */
	uint32_t files_first;               /* the index of files[0] among the job's inputs */
	uint32_t files_total;               /* the job's inputs */
	const struct stats_worker *workers; /* snap->workers of them, or NULL */
	const struct stats_run *run;        /* NULL for load */
};

/* Appends the JSON object (one line) to out; the fields are listed in the
 * README (Observability). Strings are escaped as io/rejects.h's
 * json_put_string does, so a file name that is not UTF-8 still gives valid
 * JSON. */
void stats_render_json(const struct stats_view *v, const struct stats_history *h, struct buf *out);

/* Notes a spool file's outcome in r's counts and recent list. */
void stats_run_note(struct stats_run *r, const char *name, enum stats_run_outcome outcome, uint64_t loaded,
		    uint64_t rejected);

#endif
