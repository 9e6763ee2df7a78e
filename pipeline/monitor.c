/* monitor.c - a command's metrics: totals of finished jobs plus the running one, written to the
 * textfile every 10 s and served on /metrics, with the dashboard's /stats beside them. */
#include "monitor.h"
#include "../core/clock.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* node_exporter reads the textfile when scraped; 10 s keeps it fresh
 * without rewriting it on every tick. */
#define TEXTFILE_INTERVAL_S 10.0

struct monitor {
	const struct options *o;
	struct metrics_server *server;
	double start;         /* unix time of the start */
	double last_textfile; /* monotonic time of the last write */
	double last_success;
	struct summary done;  /* finished jobs */
	bool textfile_failed; /* logged once */
	struct metrics_histogram commit_seconds;
	/* The dashboard, with --metrics-listen only. */
	struct stats_history *history;
	struct stats_run run; /* the run command's files */
	struct buf stats;     /* the JSON being rendered */
};

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(const struct monitor *mon, struct metrics_snapshot *s, const struct monitor_live *live, bool up)
{
	memset(s, 0, sizeof *s);
	s->records_loaded = mon->done.loaded + (live ? live->loaded : 0);
	s->records_rejected = mon->done.rejected + (live ? live->rejected : 0);
	s->records_ignored = mon->done.ignored + (live ? live->ignored : 0);
	s->records_skipped = mon->done.skipped + (live ? live->skipped : 0);
	s->bytes_read = mon->done.bytes + (live ? live->bytes : 0);
	s->batches = mon->done.batches + (live ? live->batches : 0);
	s->retries = mon->done.retries + (live ? live->retries : 0);
	s->isolation_retries = mon->done.isolation_retries + (live ? live->isolation_retries : 0);
	s->keys_invalidated = mon->done.keys_invalidated + (live ? live->keys_invalidated : 0);
	s->keys_pending = live ? live->keys_pending : mon->done.keys_pending;
	s->redis_round_trips = mon->done.redis_round_trips + (live ? live->redis_round_trips : 0);
	s->queue_depth = live ? live->queue_depth : 0;
	s->workers = live ? live->workers : mon->done.workers;
	metrics_histogram_read(&mon->commit_seconds, &s->commit_seconds);
	s->start_time_seconds = mon->start;
	s->last_success_seconds = mon->last_success;
	s->up = up;
	s->table = live ? live->table : (mon->done.table[0] ? mon->done.table : NULL);
	s->source = live ? live->source : NULL;
}

/* Renders /stats from s (and the live job's figures) and hands it to the
 * endpoint; a sample joins the history first when one is due. */
static void publish(struct monitor *mon, const struct metrics_snapshot *s, const struct monitor_live *live,
		    bool force_sample)
{
	metrics_server_publish(mon->server, s);
	stats_history_add(mon->history, clock_mono_s(), s->records_loaded + s->records_rejected + s->records_ignored,
			  s->bytes_read, &s->commit_seconds, force_sample);
	struct stats_view v = {
	    .snap = s,
	    .command = mon->o->cmd == CMD_RUN ? "run" : "load",
	    .now_unix = wall_s(),
	    .run = mon->o->cmd == CMD_RUN ? &mon->run : NULL,
	};
	if (live != NULL) {
		v.job = true;
		v.job_bytes = live->bytes;
		v.job_bytes_total = live->bytes_total;
		v.files = live->files;
		v.nfiles = live->nfiles;
		v.files_first = live->files_first;
		v.files_total = live->files_total;
		v.workers = live->per_worker;
	}
	mon->stats.len = 0;
	stats_render_json(&v, mon->history, &mon->stats);
	metrics_server_publish_stats(mon->server, mon->stats.data, mon->stats.len);
}

static void monitor_destroy(struct monitor *mon)
{
	metrics_server_stop(mon->server);
	buf_free(&mon->stats);
	free(mon->history);
	free(mon);
}

struct monitor *monitor_create(const struct options *o, struct err *e)
{
	struct monitor *mon = calloc(1, sizeof *mon);
	if (mon == NULL) {
		err_set(e, EXIT_SOFTWARE, "out of memory");
		return NULL;
	}
	mon->o = o;
	mon->start = wall_s();
	if (o->metrics_listen == NULL)
		return mon;
	mon->server = metrics_server_start(o->metrics_listen, e);
	if (mon->server == NULL) {
		free(mon);
		return NULL;
	}
	mon->history = calloc(1, sizeof *mon->history);
	if (mon->history == NULL || buf_init(&mon->stats, 1 << 14) < 0) {
		err_set(e, EXIT_SOFTWARE, "out of memory");
		monitor_destroy(mon);
		return NULL;
	}
	log_event(o->log_format, LOG_INFO, "metrics_listen",
		  "serving /metrics, /stats and the dashboard / on %s (port %u)", o->metrics_listen,
		  (unsigned)metrics_server_port(mon->server));
	/* Scrapes get the figures from the start, not a 503 while the load
	 * connects and reads the catalog. */
	struct metrics_snapshot s;
	fill(mon, &s, NULL, true);
	publish(mon, &s, NULL, true);
	return mon;
}

struct metrics_histogram *monitor_commit_histogram(struct monitor *mon)
{
	return &mon->commit_seconds;
}

static void write_textfile(struct monitor *mon, const char *path, const struct metrics_snapshot *s)
{
	struct err e;
	if (metrics_write_textfile(path, s, &e) < 0) {
		if (!mon->textfile_failed)
			log_event(mon->o->log_format, LOG_WARN, "metrics_textfile_failed", "%s", e.msg);
		mon->textfile_failed = true;
	}
	mon->last_textfile = clock_mono_s();
}

void monitor_tick(struct monitor *mon, const struct monitor_live *live, bool final)
{
	const struct options *o = mon->o;
	if (mon->server == NULL && o->metrics_textfile == NULL)
		return;
	struct metrics_snapshot s;
	fill(mon, &s, live, true);
	if (mon->server)
		publish(mon, &s, live, final);
	if (o->metrics_textfile && (final || clock_mono_s() - mon->last_textfile >= TEXTFILE_INTERVAL_S))
		write_textfile(mon, o->metrics_textfile, &s);
}

void monitor_load_done(struct monitor *mon, const struct summary *s, bool success)
{
	summary_add(&mon->done, s);
	mon->done.keys_pending = s->keys_pending;
	if (success)
		mon->last_success = wall_s();
}

void monitor_run_begin(struct monitor *mon, size_t files)
{
	mon->run.total = files;
}

void monitor_run_file_start(struct monitor *mon, const char *name)
{
	snprintf(mon->run.current, sizeof mon->run.current, "%s", name);
}

void monitor_run_file_end(struct monitor *mon, const char *name, enum stats_run_outcome outcome,
			  const struct summary *s)
{
	stats_run_note(&mon->run, name, outcome, s->loaded, s->rejected);
	/* Seen at once, not at the next file's first tick. */
	monitor_tick(mon, NULL, false);
}

void monitor_free(struct monitor *mon)
{
	if (mon == NULL)
		return;
	struct metrics_snapshot s;
	fill(mon, &s, NULL, false);
	if (mon->server)
		publish(mon, &s, NULL, true);
	if (mon->o->metrics_textfile)
		write_textfile(mon, mon->o->metrics_textfile, &s);
	monitor_destroy(mon);
}
