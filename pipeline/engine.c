/* engine.c - the long-lived loader: its connections (the workers' are made in
 * engine_workers.c), the cache client, then jobs: for each, the catalog, the ledger, the sources and the cache set-up, the reader thread and
 * the workers, the monitor loop on the calling thread (progress, signals, metrics), and the
 * summary. */
#include "engine.h"
#include "../io/fingerprint.h"

#include "../core/clock.h"
#include "../stages/sink_pg.h"
#include "grants.h"
#include "intake.h"
#include "load.h"
#include "log.h"
#include "monitor.h"
#include "progress.h"
#include "sources.h"
#include "stats_load.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How often the monitor wakes to redraw progress and look for signals. */
#define MONITOR_INTERVAL_MS 250
/* After SIGINT/SIGTERM the chunks in flight may finish for this long; then
 * (or at a second signal) their statements are canceled and roll back, so
 * that a chunk stuck in the server (a lock, a stalled disk) cannot hold the
 * stop beyond what schedulers wait (Kubernetes: 30 s, systemd: 90 s). */
#define STOP_GRACE_S        10.0

/* ------------------------------------------------------------ the workers */

/* Connection attempts that will be retried are logged, so that a wrong
 * port or a server that is down is seen at once, not after the timeout. */
struct connect_note {
	enum log_format format;
	const char *what;   /* "connecting" or "reconnecting" */
	const char *option; /* the option whose time runs out */
};

static void log_connect_retry(void *ctx, const char *why, long wait_ms, double left_s)
{
	const struct connect_note *cn = ctx;
	log_event(cn->format, LOG_WARN, "connect_retry", "%s: %s; retrying in %ld ms, for %.1f s more (%s)", cn->what,
		  why, wait_ms, left_s, cn->option);
}

/* A new session for the engine, waiting for the server up to the
 * connect timeout (or, for reconnecting, the retry timeout). */
PGconn *engine_connect(const struct options *o, bool reconnect, struct err *e)
{
	struct connect_note cn = {o->log_format, reconnect ? "reconnecting" : "connecting",
				  reconnect ? "--retry-timeout" : "--connect-timeout"};
	return pg_connect(o->dsn, reconnect ? o->retry_timeout_s : o->connect_timeout_s, log_connect_retry, &cn, e);
}

int engine_open_finish(struct engine *eng, PGconn **conns, struct err *e)
{
	struct connect_note cn = {eng->o->log_format, "connecting", "--connect-timeout"};
	struct pg_opening *op = eng->opening;
	eng->opening = NULL;
	return pg_open_finish(op, conns, log_connect_retry, &cn, e);
}

/* The control connection runs the loader's own statements (catalog,
 * privileges, ledger) with search_path pg_catalog, pg_temp: no function,
 * operator or type that another role created in a schema of the user's
 * search_path can stand in for the system's there. The user's search_path
 * is kept to resolve --table with. The workers' sessions keep the user's:
 * the table's triggers and defaults run in them. */
static PGconn *control_connect(struct engine *eng, bool reconnect, struct err *e)
{
	PGconn *c = engine_connect(eng->o, reconnect, e);
	if (c == NULL)
		return NULL;
	PGresult *r = PQexec(c, "SELECT pg_catalog.current_setting('search_path')");
	bool ok = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK;
	if (ok) {
		free(eng->search_path);
		eng->search_path = strdup(PQgetvalue(r, 0, 0));
		ok = eng->search_path != NULL;
	}
	PQclear(r);
	if (ok) {
		r = PQexec(c, "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)");
		ok = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
	}
	if (!ok) {
		err_set(e, PQstatus(c) == CONNECTION_OK ? EXIT_SOFTWARE : EXIT_UNAVAILABLE,
			"setting the control connection's search_path: %.200s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* ------------------------------------------------------------- the engine */

struct engine *engine_create(const struct options *o, struct monitor *mon, struct err *e)
{
	struct engine *eng = calloc(1, sizeof *eng);
	if (eng == NULL) {
		err_set(e, EXIT_SOFTWARE, "out of memory");
		return NULL;
	}
	eng->o = o;
	eng->mon = mon;
	pthread_mutex_init(&eng->jobs_lock, NULL);
	pthread_cond_init(&eng->jobs_cond, NULL);
	cpu_set_t cpus;
	eng->nworkers = o->workers ? o->workers : workers_cpus(&cpus);
	if (eng->nworkers > WORKERS_MAX)
		eng->nworkers = WORKERS_MAX;
	eng->batch_rows = o->batch_rows;
	eng->chunk_bytes = chunk_bytes_for(o->batch_rows);
	/* The control connection first: a login the server refuses is refused
	 * once (and logged once there), not once per worker. The workers'
	 * sessions are then started side by side, and come up while the first
	 * job reads the catalog (workers_attach waits for them). */
	eng->control = control_connect(eng, false, e);
	if (eng->control == NULL ||
	    (eng->opening = pg_open_start(o->dsn, eng->nworkers, o->connect_timeout_s, e)) == NULL ||
	    workers_create(eng, e) < 0)
		goto fail;
	load_catch_signals();
	return eng;
fail:
	engine_free(eng);
	return NULL;
}

static void engine_cache_close(struct engine *eng)
{
	for (uint32_t i = 0; eng->workers != NULL && i < eng->nworkers; i++) {
		cache_worker_free(eng->workers[i].cache_part);
		eng->workers[i].cache_part = NULL;
	}
	cache_close(eng->cache);
	eng->cache = NULL;
}

/* The cache client outlives jobs as the connections do: opened by the first
 * job that invalidates, with the engine's options, kept while the jobs load
 * the same table, and grown when a job's chunks hold more records. Keys left
 * pending by an earlier run are sent first, whatever this job loads. */
static int engine_cache(struct load *ld, struct err *e)
{
	struct engine *eng = ld->eng;
	if (eng->cache != NULL && eng->cache_table != ld->table.oid)
		engine_cache_close(eng);
	if (eng->cache == NULL) {
		if (cache_open(&eng->cache, eng->o, &ld->table, eng->batch_rows, e) < 0)
			return -1;
		eng->cache_table = ld->table.oid;
	}
	ld->cache = eng->cache;
	if (ld->cache != NULL) {
		cache_stats(ld->cache, &ld->cache_base);
		cache_replay(ld->cache);
	}
	return 0;
}

/* The cache's figures since the job began. */
static void job_cache_stats(const struct load *ld, struct cache_stats *cs)
{
	cache_stats(ld->cache, cs);
	cs->keys_invalidated -= ld->cache_base.keys_invalidated;
	cs->round_trips -= ld->cache_base.round_trips;
	cs->failures -= ld->cache_base.failures;
}

void engine_free(struct engine *eng)
{
	if (eng == NULL)
		return;
	workers_stop(eng);
	engine_cache_close(eng);
	workers_destroy(eng);
	pg_open_abandon(eng->opening);
	PQfinish(eng->control);
	pthread_mutex_destroy(&eng->jobs_lock);
	pthread_cond_destroy(&eng->jobs_cond);
	free(eng->search_path);
	free(eng);
}

/* The control connection may have gone with a server restart that the
 * workers rode out (libpq notices only when it is used): reconnect it
 * (when reconnect; a job that failed or was stopped does not wait for the
 * server) and take the job's sources' locks again. */
static int control_check(struct load *ld, bool reconnect, struct err *e)
{
	struct engine *eng = ld->eng;
	PGresult *r = PQexec(eng->control, "SELECT 1");
	bool ok = r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	if (ok)
		return 0;
	if (PQstatus(eng->control) == CONNECTION_OK)
		return err_set(e, EXIT_SOFTWARE, "control connection: %s", PQerrorMessage(eng->control));
	if (!reconnect)
		return err_set(e, EXIT_UNAVAILABLE, "the control connection to PostgreSQL is lost");
	PGconn *c = control_connect(eng, true, e);
	if (c == NULL)
		return -1;
	PQfinish(eng->control);
	eng->control = c;
	for (uint32_t i = 0; i < ld->nsources; i++)
		if (ld->sources[i].ledger.source_id[0] && ledger_relock(c, &ld->sources[i].ledger, e) < 0)
			return -1;
	log_event(ld->o->log_format, LOG_INFO, "reconnected", "control connection to PostgreSQL restored");
	return 0;
}

/* The privileges a load of o into t needs. */
static int check_grants(PGconn *c, const struct table_info *t, const struct options *o, struct err *e)
{
	struct grants_who w;
	return grants_who(c, &w, e) < 0 ? -1 : grants_target(c, &w, t, o, e);
}

int engine_check(struct engine *eng, const struct options *o, struct err *e)
{
	struct table_info t;
	memset(&t, 0, sizeof t);
	if (catalog_read(eng->control, o->table, eng->search_path, &t, e) < 0)
		return -1;
	int rc = 0;
	if (!o->dry_run && (check_grants(eng->control, &t, o, e) < 0 || ledger_setup(eng->control, e) < 0))
		rc = -1;
	catalog_free(&t);
	return rc;
}

/* ------------------------------------------------------------------ a job */

static struct load *job_create(struct engine *eng, const struct options *o)
{
	struct load *ld = calloc(1, sizeof *ld);
	if (ld == NULL)
		return NULL;
	ld->eng = eng;
	ld->o = o;
	ld->ordered = o->on_conflict != CONFLICT_ERROR && !o->dry_run;
	pthread_mutex_init(&ld->fatal_lock, NULL);
	pthread_mutex_init(&ld->turn_lock, NULL);
	pthread_mutex_init(&ld->written_lock, NULL);
	pthread_cond_init(&ld->turn_cond, NULL);
	return ld;
}

static void job_free(struct load *ld)
{
	workers_detach(ld);
	for (uint32_t i = 0; i < ld->nsources; i++) {
		struct source *s = &ld->sources[i];
		ledger_end(ld->eng->control, &s->ledger);
		transform_free(&s->map);
		free(s->header);
		ndjson_map_free(&s->ndjson);
		cache_templates_free(&s->templates);
	}
	if (ld->prints != ld->o->file_prints)
		fingerprint_set_free(ld->prints);
	free(ld->print_fds);
	free(ld->print_names);
	replay_close(&ld->replay);
	if (ld->own_fds != NULL)
		sources_close_inputs(ld->own_fds, ld->o->nfiles);
	free(ld->own_fds);
	if (ld->rejects)
		rejects_close(ld->rejects, NULL);
	free(ld->sources);
	catalog_free(&ld->table);
	pthread_mutex_destroy(&ld->fatal_lock);
	pthread_mutex_destroy(&ld->turn_lock);
	pthread_mutex_destroy(&ld->written_lock);
	pthread_cond_destroy(&ld->turn_cond);
	free(ld->written);
	free(ld);
}

/* A regular file's size (the dashboard's percent and ETA), else -1. */
static int64_t source_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
}

/* --from-rejects: the rejects file's records, one source per group of
 * records that share a header line. */
static int job_replay_sources(struct load *ld, struct err *e)
{
	const struct options *o = ld->o;
	struct stat a, b;
	if (o->rejects != NULL && stat(o->rejects, &a) == 0 && stat(o->from_rejects, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return err_set(e, EXIT_USAGE, "--rejects %s is the file --from-rejects reads: write to another",
			       o->rejects);
	struct dialect d;
	options_dialect(o, o->format, &d);
	struct replay_framing fr = {d.format == FORMAT_CSV    ? REPLAY_CSV
				    : d.format == FORMAT_TEXT ? REPLAY_TEXT
							      : REPLAY_LINES,
				    d.quote, d.escape};
	if (replay_open(o->from_rejects, &fr, &ld->replay, e) < 0)
		return -1;
	const struct replay *rp = &ld->replay;
	for (uint32_t i = 0; i < rp->nskipped; i++)
		log_event(o->log_format, LOG_WARN, "replay_skipped",
			  "%s: line %llu (record %llu of %s) is not replayed: %s", o->from_rejects,
			  (unsigned long long)rp->skipped[i].line, (unsigned long long)rp->skipped[i].record,
			  rp->skipped[i].source ? rp->skipped[i].source : "?", replay_skip_reason(rp->skipped[i].why));
	log_event(o->log_format, LOG_INFO, "replay", "%s: replaying %llu records in %u groups (%llu not replayable)",
		  o->from_rejects, (unsigned long long)rp->records, rp->ngroups,
		  (unsigned long long)(rp->skipped_cut + rp->skipped_cr));
	ld->sources = calloc(rp->ngroups ? rp->ngroups : 1, sizeof *ld->sources);
	if (ld->sources == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	ld->nsources = rp->ngroups;
	for (uint32_t i = 0; i < rp->ngroups; i++) {
		struct source *s = &ld->sources[i];
		s->name = s->path = o->from_rejects;
		s->fd = rp->groups[i].fd;
		s->header_forced = rp->groups[i].header != NULL;
		s->size = source_size(s->path);
	}
	return 0;
}

static int job_file_sources(struct load *ld, struct err *e)
{
	static const char *stdin_name[] = {"-"};
	const struct options *o = ld->o;
	const char **files = o->nfiles > 0 ? o->files : stdin_name;
	uint32_t n = o->nfiles > 0 ? (uint32_t)o->nfiles : 1;
	const int *fds = o->file_fds;
	if (fds == NULL && o->nfiles > 0) {
		/* Not opened by the command: opened here, once, for this job. */
		ld->own_fds = calloc((size_t)o->nfiles, sizeof *ld->own_fds);
		if (ld->own_fds == NULL)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		if (sources_open_inputs(o, ld->own_fds, &ld->total_bytes, e) < 0) {
			free(ld->own_fds);
			ld->own_fds = NULL;
			return -1;
		}
		fds = ld->own_fds;
	} else {
		ld->total_bytes = o->nfiles > 0 ? 0 : -1;
		for (uint32_t i = 0; i < (uint32_t)o->nfiles && ld->total_bytes >= 0; i++) {
			struct stat st;
			if (fds[i] < 0 || fstat(fds[i], &st) < 0)
				ld->total_bytes = -1;
			else
				ld->total_bytes += st.st_size;
		}
	}
	ld->sources = calloc(n, sizeof *ld->sources);
	if (ld->sources == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	ld->nsources = n;
	for (uint32_t i = 0; i < n; i++) {
		ld->sources[i].name = ld->sources[i].path = files[i];
		ld->sources[i].fd = o->nfiles > 0 ? fds[i] : -1;
		ld->sources[i].header_forced = -1;
		ld->sources[i].size = strcmp(files[i], "-") == 0 ? -1 : source_size(files[i]);
	}
	return 0;
}

/* The sources' identities are hashed from now on, while the job checks the
 * connection, the catalog, the privileges and the ledger. */
static int job_fingerprints(struct load *ld, struct err *e)
{
	if (ld->o->file_prints != NULL && ld->o->from_rejects == NULL) {
		ld->prints = ld->o->file_prints;
		return 0;
	}
	ld->print_fds = calloc(ld->nsources ? ld->nsources : 1, sizeof *ld->print_fds);
	ld->print_names = calloc(ld->nsources ? ld->nsources : 1, sizeof *ld->print_names);
	if (ld->print_fds == NULL || ld->print_names == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	for (uint32_t i = 0; i < ld->nsources; i++) {
		ld->print_fds[i] = ld->sources[i].fd;
		ld->print_names[i] = ld->sources[i].name;
	}
	ld->prints = fingerprint_set_start(ld->print_fds, ld->print_names, ld->nsources, e);
	return ld->prints == NULL ? -1 : 0;
}

/* Everything before the threads start: inputs, rejects file, catalog,
 * ledger, cache, the sources' ledger state, the workers attached. */
static int job_setup(struct load *ld, struct err *e)
{
	const struct options *o = ld->o;
	if ((o->from_rejects ? job_replay_sources(ld, e) : job_file_sources(ld, e)) < 0)
		return -1;
	if (!o->dry_run && job_fingerprints(ld, e) < 0)
		return -1;
	ld->rejects = rejects_open(o->rejects, e);
	if (ld->rejects == NULL || control_check(ld, true, e) < 0)
		return -1;
	PGconn *conn = ld->eng->control;
	if (catalog_read(conn, o->table, ld->eng->search_path, &ld->table, e) < 0)
		return -1;
	if (!o->dry_run && (check_grants(conn, &ld->table, o, e) < 0 || ledger_setup(conn, e) < 0))
		return -1;
	/* Cache invalidation: templates checked, journal opened. */
	if (!o->dry_run && engine_cache(ld, e) < 0)
		return -1;
	uint32_t batch_rows = o->batch_rows;
	for (uint32_t i = 0; i < ld->nsources; i++) {
		struct source *src = &ld->sources[i];
		src->batch_rows = o->batch_rows;
		if (sources_begin(ld, conn, src, e) < 0 || sources_rewrite_rejects(ld, conn, src, e) < 0)
			return -1;
		/* Skipped whole: counted from the start, as the reader counts
		 * the committed chunks it skips in a resumed one. */
		if (src->ledger.complete)
			atomic_fetch_add(&ld->skipped_total, src->skipped);
		if (src->batch_rows > batch_rows)
			batch_rows = src->batch_rows;
	}
	if (workers_reserve(ld->eng, batch_rows, e) < 0 ||
	    (ld->cache != NULL && cache_reserve(ld->cache, ld->eng->batch_rows, e) < 0))
		return -1;
	return workers_attach(ld, e);
}

static uint64_t sum_counter(const struct load *ld, size_t offset)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < ld->nworkers; i++)
		v += atomic_load((_Atomic uint64_t *)(void *)((char *)&ld->workers[i].n + offset));
	return v;
}
#define SUM(ld, field) sum_counter((ld), offsetof(struct worker_counters, field))

/* A stop signal: stop reading; past the grace period (or at a second
 * signal) cancel the statements in flight. */
static void watch_signals(struct load *ld, double *stop_at)
{
	int sig = load_signal();
	if (sig && !atomic_load(&ld->stop)) {
		log_event(ld->o->log_format, LOG_WARN, "signal",
			  "%s received: finishing the chunks in flight, then stopping",
			  sig == SIGINT ? "SIGINT" : "SIGTERM");
		atomic_store(&ld->stop, true);
		load_wake_reader(ld);
		*stop_at = clock_mono_s();
	}
	int seen = load_signals_seen();
	if (*stop_at > 0 && (seen > 1 || clock_mono_s() - *stop_at >= STOP_GRACE_S)) {
		if (!atomic_load(&ld->cancelled))
			log_event(ld->o->log_format, LOG_WARN, "cancel",
				  "%s: canceling the chunks still in flight; they roll back and load on the next run",
				  seen > 1 ? "a second signal" : "still running after the grace period");
		workers_cancel(ld);
	}
}

/* One look at the running job: metrics and the progress line (rate: the
 * recent records/s, NULL when no progress is shown). */
static void watch_tick(struct load *ld, struct progress_rate *rate, double t_start)
{
	struct cache_stats cs;
	job_cache_stats(ld, &cs);
	uint64_t depth = 0;
	for (uint32_t i = 0; i < ld->nworkers; i++)
		depth += ring_count(ld->workers[i].todo);
	struct monitor_live live = {
	    .loaded = SUM(ld, loaded),
	    .rejected = SUM(ld, rejected),
	    .ignored = SUM(ld, ignored),
	    .skipped = atomic_load(&ld->skipped_total),
	    .bytes = atomic_load(&ld->bytes_read),
	    .batches = SUM(ld, batches),
	    .retries = SUM(ld, retries),
	    .isolation_retries = SUM(ld, isolation_retries),
	    .keys_invalidated = cs.keys_invalidated,
	    .keys_pending = cs.keys_pending,
	    .redis_round_trips = cs.round_trips,
	    .queue_depth = depth,
	    .workers = ld->nworkers,
	    .table = ld->table.display,
	    .source = ld->nsources ? ld->sources[atomic_load(&ld->cur_source)].name : "",
	};
	struct stats_worker per_worker[WORKERS_MAX];
	struct stats_file files[STATS_FILES_MAX];
	stats_load_collect(ld, &live, per_worker, files);
	monitor_tick(ld->eng->mon, &live, false);
	if (rate != NULL) {
		double now = clock_mono_s();
		struct progress_state p = {
		    .bytes = atomic_load(&ld->bytes_read),
		    .bytes_total = ld->total_bytes,
		    .records = live.loaded + live.rejected + live.ignored,
		    .loaded = live.loaded,
		    .rejected = live.rejected,
		    .elapsed_s = now - t_start,
		};
		p.recent_per_s = progress_rate_add(rate, now, p.records);
		progress_draw(&p);
	}
}

/* Starts the workers and the reader thread and watches them until the
 * workers have ended. -1 with e when a thread could not start. */
static int job_execute(struct load *ld, double t_start, struct err *e)
{
	const struct options *o = ld->o;
	if (workers_start(ld, e) < 0) {
		load_fail(ld, e);
		workers_join(ld);
		return -1;
	}
	pthread_t reader;
	int prc = pthread_create(&reader, NULL, intake_main, ld);
	if (prc != 0) {
		err_set(e, EXIT_SOFTWARE, "cannot start reader thread: %s", strerror(prc));
		load_fail(ld, e);
		workers_join(ld);
		return -1;
	}
	bool show = o->progress == PROGRESS_ALWAYS || (o->progress == PROGRESS_AUTO && isatty(STDERR_FILENO));
	double stop_at = 0;
	struct progress_rate rate = {0};
	for (;;) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += MONITOR_INTERVAL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		watch_signals(ld, &stop_at);
		watch_tick(ld, show ? &rate : NULL, t_start);
		/* Workers end only after the reader said it was done. */
		if (atomic_load(&ld->workers_alive) == 0) {
			pthread_join(reader, NULL);
			break;
		}
		while (sem_timedwait(&ld->finished_sem, &ts) < 0 && errno == EINTR && !load_interrupted())
			;
	}
	workers_join(ld);
	if (show)
		progress_end();
	return 0;
}

/* --analyze: fresh statistics so that the ERP's queries plan well on the new rows. */
static void analyze_table(struct load *ld)
{
	char sql[sizeof ld->table.sql_name + 16];
	snprintf(sql, sizeof sql, "ANALYZE %s", ld->table.sql_name);
	struct err e;
	if (pg_exec(ld->eng->control, sql, &e) < 0)
		log_event(ld->o->log_format, LOG_WARN, "analyze_failed", "%s", e.msg);
	else
		log_event(ld->o->log_format, LOG_INFO, "analyzed", "%s", ld->table.display);
}

/* The job's figures, summed over its sources and workers. */
static void job_figures(struct load *ld, double t_start, struct summary *s)
{
	memset(s, 0, sizeof *s);
	for (uint32_t i = 0; i < ld->nsources; i++) {
		s->records_read += ld->sources[i].records;
		s->skipped += ld->sources[i].skipped;
		s->rejected_earlier += ld->sources[i].rejected_earlier;
		s->bytes += ld->sources[i].bytes;
	}
	s->loaded = SUM(ld, loaded);
	s->rejected = SUM(ld, rejected);
	s->ignored = SUM(ld, ignored);
	s->deferred = SUM(ld, deferred);
	s->seconds = clock_mono_s() - t_start;
	s->batches = SUM(ld, batches);
	s->retries = SUM(ld, retries);
	s->isolation_retries = SUM(ld, isolation_retries);
	s->statements = SUM(ld, statements);
	s->ndjson_unknown_keys = SUM(ld, unknown_keys);
	s->workers = ld->nworkers;
	s->files = ld->o->from_rejects ? 1 : ld->o->nfiles > 0 ? (uint32_t)ld->o->nfiles : 1;
	s->read_s = (double)atomic_load(&ld->read_ns) / 1e9 - ld->reader_wait_s;
	s->parse_s = (double)SUM(ld, parse_ns) / 1e9;
	s->sink_s = (double)SUM(ld, sink_ns) / 1e9;
	s->started = true;
	s->dry_run = ld->o->dry_run;
	for (uint32_t i = 0; i < ld->nworkers; i++)
		reject_tally_merge(&s->by_reason, &ld->workers[i].reasons);
	snprintf(s->table, sizeof s->table, "%s", ld->table.display);
}

/* Without --rejects the log showed the first few rejects as they
 * committed: the end says how many there were and how to keep them all. */
static void hint_rejects(struct load *ld, const struct summary *s)
{
	const struct options *o = ld->o;
	if (o->rejects != NULL || s->rejected == 0)
		return;
	/* Rejects committed with a ledger row a rerun finds can be written
	 * without loading anything again. */
	bool in_ledger = true;
	for (uint32_t i = 0; i < ld->nsources; i++)
		if (!sources_known_later(&ld->sources[i]))
			in_ledger = false;
	char shown[64];
	if (s->rejected <= REJECTS_SHOWN_MAX)
		snprintf(shown, sizeof shown, "all shown above");
	else
		snprintf(shown, sizeof shown, "the first %u shown above", REJECTS_SHOWN_MAX);
	log_event(o->log_format, LOG_WARN, "rejects_not_kept", "%llu records rejected, %s; %s",
		  (unsigned long long)s->rejected, shown,
		  in_ledger ? "they are kept in the ledger: the same command with --rejects FILE writes them all to "
			      "FILE and loads nothing twice"
			    : "add --rejects FILE to keep them all");
}

/* The job's exit code, its error line in the summary, and the log line. */
static int job_outcome(struct load *ld, bool rejects_ok, const struct err *rej_err, struct summary *s)
{
	int code = atomic_load(&ld->fatal_code);
	if (code != 0) {
		snprintf(s->error, sizeof s->error, "%s", ld->fatal.msg);
		log_event(ld->o->log_format, LOG_ERROR, "load_failed", "%s", ld->fatal.msg);
	} else if (load_interrupted()) {
		code = EXIT_TEMPFAIL;
		snprintf(s->error, sizeof s->error, "interrupted by a signal; run again to finish");
	} else if (!rejects_ok) {
		code = EXIT_TEMPFAIL;
		snprintf(
		    s->error, sizeof s->error,
		    "%.900s; the rejects are kept in the ledger and a rerun with a writable --rejects file writes them",
		    rej_err->msg);
	} else if (s->keys_pending > 0) {
		code = EXIT_TEMPFAIL;
		snprintf(s->error, sizeof s->error,
			 "%llu cache keys still pending: Redis did not take them; a rerun sends them",
			 (unsigned long long)s->keys_pending);
		log_event(ld->o->log_format, LOG_ERROR, "invalidation_pending", "%s", s->error);
	} else if (s->rejected > 0 || s->rejected_earlier > 0 || ld->replay.skipped_cut + ld->replay.skipped_cr > 0) {
		code = EXIT_DATAERR;
	}
	if (code == EXIT_OK || (code == EXIT_DATAERR && atomic_load(&ld->fatal_code) == 0))
		ASSERT(s->records_read == s->loaded + s->rejected + s->ignored + s->skipped);
	/* A failure that rejects_sync saw is reported already. */
	struct err e;
	if (ld->rejects && rejects_close(ld->rejects, &e) < 0 && rejects_ok) {
		log_event(ld->o->log_format, LOG_ERROR, "rejects_failed", "%s", e.msg);
		snprintf(s->error, sizeof s->error, "%s", e.msg);
		if (code == EXIT_OK || code == EXIT_DATAERR)
			code = EXIT_SOFTWARE;
	}
	ld->rejects = NULL;
	return code;
}

/* After the threads: rejects and sources finished in the ledger, ANALYZE,
 * the cache's last sends, the figures and the exit code. */
static int job_finish(struct load *ld, double t_start, struct summary *s)
{
	const struct options *o = ld->o;
	struct err e, rej_err;
	err_clear(&rej_err);
	bool interrupted = load_interrupted();
	bool rejects_ok = true;
	if (!o->dry_run) {
		bool ended_well = !interrupted && atomic_load(&ld->fatal_code) == 0;
		if (control_check(ld, ended_well, &e) < 0) {
			/* The rejects stay unmarked in the ledger: a rerun finds
			 * those already in the file. */
			if (ended_well)
				load_fail(ld, &e);
		} else {
			rejects_ok = sources_finish(ld, ld->eng->control, interrupted, SUM(ld, batches) > 0, &rej_err);
		}
	}
	job_figures(ld, t_start, s);
	if (o->analyze && s->loaded > 0 && !o->dry_run && atomic_load(&ld->fatal_code) == 0 && !interrupted)
		analyze_table(ld);
	s->keys_pending = ld->cache ? cache_finish(ld->cache) : 0;
	struct cache_stats cs;
	job_cache_stats(ld, &cs);
	s->keys_invalidated = cs.keys_invalidated;
	s->redis_round_trips = cs.round_trips;
	hint_rejects(ld, s);
	int code = job_outcome(ld, rejects_ok, &rej_err, s);
	s->exit_code = code;
	monitor_load_done(ld->eng->mon, s,
			  code == EXIT_OK || (code == EXIT_DATAERR && atomic_load(&ld->fatal_code) == 0));
	monitor_tick(ld->eng->mon, NULL, true);
	return code;
}

int engine_run(struct engine *eng, const struct options *o, struct summary *out)
{
	struct err e;
	err_clear(&e);
	memset(out, 0, sizeof *out);
	double t_start = clock_mono_s();
	struct load *ld = job_create(eng, o);
	if (ld == NULL) {
		log_event(o->log_format, LOG_ERROR, "load_failed", "out of memory");
		return out->exit_code = EXIT_SOFTWARE;
	}
	int code;
	if (job_setup(ld, &e) < 0) {
		log_event(o->log_format, LOG_ERROR, "load_failed", "%s", e.msg);
		code = out->exit_code = e.code ? e.code : EXIT_SOFTWARE;
		snprintf(out->error, sizeof out->error, "%s", e.msg);
		snprintf(out->table, sizeof out->table, "%s", ld->table.display[0] ? ld->table.display : o->table);
	} else {
		job_execute(ld, t_start, &e);
		code = job_finish(ld, t_start, out);
	}
	job_free(ld);
	return code;
}
