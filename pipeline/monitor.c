/* monitor.c - process-wide metrics: totals of finished loads plus the running one, written to
 * the textfile every 10 s and served on /metrics. */
#include "monitor.h"
#include "../core/clock.h"

#include "log.h"

#include <string.h>
#include <time.h>

/* node_exporter reads the textfile when scraped; 10 s keeps it fresh
 * without rewriting it on every tick. */
#define TEXTFILE_INTERVAL_S 10.0

struct metrics_histogram monitor_commit_seconds;

static struct {
	struct metrics_server *server;
	double start;         /* unix time of the first load */
	double last_textfile; /* monotonic time of the last write */
	double last_success;
	struct summary done;  /* finished loads */
	bool textfile_failed; /* logged once */
} mon;

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(struct metrics_snapshot *s, const struct monitor_live *live, bool up)
{
	memset(s, 0, sizeof *s);
	s->records_loaded = mon.done.loaded + (live ? live->loaded : 0);
	s->records_rejected = mon.done.rejected + (live ? live->rejected : 0);
	s->records_ignored = mon.done.ignored + (live ? live->ignored : 0);
	s->records_skipped = mon.done.skipped + (live ? live->skipped : 0);
	s->bytes_read = mon.done.bytes + (live ? live->bytes : 0);
	s->batches = mon.done.batches + (live ? live->batches : 0);
	s->retries = mon.done.retries + (live ? live->retries : 0);
	s->isolation_retries = mon.done.isolation_retries + (live ? live->isolation_retries : 0);
	s->keys_invalidated = mon.done.keys_invalidated + (live ? live->keys_invalidated : 0);
	s->keys_pending = live ? live->keys_pending : mon.done.keys_pending;
	s->redis_round_trips = mon.done.redis_round_trips + (live ? live->redis_round_trips : 0);
	s->queue_depth = live ? live->queue_depth : 0;
	s->workers = live ? live->workers : mon.done.workers;
	metrics_histogram_read(&monitor_commit_seconds, &s->commit_seconds);
	s->start_time_seconds = mon.start;
	s->last_success_seconds = mon.last_success;
	s->up = up;
	s->table = live ? live->table : (mon.done.table[0] ? mon.done.table : NULL);
	s->source = live ? live->source : NULL;
}

int monitor_start(const struct options *o, struct err *e)
{
	if (mon.start == 0)
		mon.start = wall_s();
	if (o->metrics_listen == NULL || mon.server != NULL)
		return 0;
	mon.server = metrics_server_start(o->metrics_listen, e);
	if (mon.server == NULL)
		return -1;
	log_event(LOG_INFO, "metrics_listen", "serving /metrics on %s (port %u)", o->metrics_listen,
		  (unsigned)metrics_server_port(mon.server));
	/* Scrapes get the process's figures from the start, not a 503 while
	 * the load connects and reads the catalog. */
	struct metrics_snapshot s;
	fill(&s, NULL, true);
	metrics_server_publish(mon.server, &s);
	return 0;
}

static void write_textfile(const char *path, const struct metrics_snapshot *s)
{
	struct err e;
	if (metrics_write_textfile(path, s, &e) < 0) {
		if (!mon.textfile_failed)
			log_event(LOG_WARN, "metrics_textfile_failed", "%s", e.msg);
		mon.textfile_failed = true;
	}
	mon.last_textfile = clock_mono_s();
}

void monitor_tick(const struct options *o, const struct monitor_live *live, bool final)
{
	if (mon.server == NULL && o->metrics_textfile == NULL)
		return;
	struct metrics_snapshot s;
	fill(&s, live, true);
	if (mon.server)
		metrics_server_publish(mon.server, &s);
	if (o->metrics_textfile && (final || clock_mono_s() - mon.last_textfile >= TEXTFILE_INTERVAL_S))
		write_textfile(o->metrics_textfile, &s);
}

void monitor_load_done(const struct summary *s, bool success)
{
	summary_add(&mon.done, s);
	mon.done.keys_pending = s->keys_pending;
	if (success)
		mon.last_success = wall_s();
}

void monitor_stop(const struct options *o)
{
	struct metrics_snapshot s;
	fill(&s, NULL, false);
	if (mon.server)
		metrics_server_publish(mon.server, &s);
	if (o->metrics_textfile)
		write_textfile(o->metrics_textfile, &s);
	metrics_server_stop(mon.server);
	mon.server = NULL;
}
