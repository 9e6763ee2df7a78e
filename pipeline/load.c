/* load.c - the load command: checks inputs, reads the catalog, starts the workers, runs the reader
 * thread (read -> decode -> frame -> hand chunks to workers) and, on the main thread, the monitor
 * (progress, signals), then writes the summary. */
#include "load.h"
#include "../core/clock.h"

#include "../io/fingerprint.h"
#include "../io/reader.h"
#include "../stages/frame.h"
#include "../stages/parse_csv.h"
#include "../stages/parse_ndjson.h"
#include "../stages/parse_text.h"
#include "../stages/sink_pg.h"
#include "log.h"
#include "monitor.h"
#include "progress.h"
#include "summary.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
	got_signal = sig;
	signals_seen = signals_seen + 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* --format auto: by the name's extension once .zst is stripped. FORMAT_AUTO
 * when the name does not tell. */
static int format_from_name(const char *name)
{
	size_t n = strlen(name);
	if (ends_with(name, n, ".zst"))
		n -= 4;
	if (ends_with(name, n, ".csv"))
		return FORMAT_CSV;
	if (ends_with(name, n, ".tsv") || ends_with(name, n, ".tab") || ends_with(name, n, ".txt") ||
	    ends_with(name, n, ".copy"))
		return FORMAT_TEXT;
	if (ends_with(name, n, ".ndjson") || ends_with(name, n, ".jsonl") || ends_with(name, n, ".json"))
		return FORMAT_NDJSON;
	return FORMAT_AUTO;
}

/* By content: a first line that starts with '{' is NDJSON; one with tabs
 * and no commas is text format. */
static enum input_format format_from_content(const char *p, size_t n)
{
	size_t i = 0;
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < n && p[i] == '{')
		return FORMAT_NDJSON;
	const char *nl = memchr(p, '\n', n);
	size_t len = nl ? (size_t)(nl - p) : n;
	bool tab = memchr(p, '\t', len) != NULL;
	bool comma = memchr(p, ',', len) != NULL;
	return tab && !comma ? FORMAT_TEXT : FORMAT_CSV;
}

/* Takes a free chunk from any worker; waits while there is none. NULL when
 * the load is stopping. */
static struct chunk *acquire_chunk(struct load *ld, uint32_t *rr)
{
	for (;;) {
		if (atomic_load(&ld->stop))
			return NULL;
		/* Time spent waiting for a worker is not the reader's work. */
		double w0 = clock_mono_s();
		while (sem_wait(&ld->free_sem) < 0 && errno == EINTR)
			;
		ld->reader_wait_s += clock_mono_s() - w0;
		if (atomic_load(&ld->stop))
			return NULL;
		for (uint32_t k = 0; k < ld->nworkers; k++) {
			uint32_t i = (*rr + k) % ld->nworkers;
			struct chunk *c = ring_pop(ld->workers[i].done);
			if (c != NULL) {
				*rr = (i + 1) % ld->nworkers;
				return c;
			}
		}
	}
}

/* A chunk taken but not filled goes back to its owner. */
static void release_chunk(struct load *ld, struct chunk *c)
{
	chunk_reset(c);
	ASSERT(ring_push(ld->workers[c->owner].done, c));
	sem_post(&ld->free_sem);
}

static void emit_chunk(struct load *ld, struct chunk *c, const struct source *s)
{
	c->src = s;
	c->order = ld->emitted++;
	struct worker *w = &ld->workers[c->owner];
	ASSERT(ring_push(w->todo, c));
	sem_post(&w->todo_sem);
}

/* Completes a mapping: upsert statements when asked, and the statements
 * the workers run for this source. */
static int finish_mapping(struct load *ld, struct source *s, struct err *e)
{
	const struct options *o = ld->o;
	if (o->on_conflict != CONFLICT_ERROR &&
	    transform_set_upsert(&s->map, &ld->table, o->key, o->on_conflict == CONFLICT_UPDATE, e) < 0)
		return -1;
	if (ld->cache != NULL && cache_compile(ld->cache, &ld->table, &s->map, &s->templates, e) < 0)
		return -1;
	s->statements = (struct sink_statements){
	    .copy_bin = s->map.copy_bin_sql,
	    .copy_txt = s->map.copy_txt_sql,
	    .stage = s->map.stage_sql,
	    .merge = s->map.merge_sql,
	};
	s->mapped = true;
	return 0;
}

/* NDJSON: the lookup from key to field, once per source. The mapping is
 * every column that is not generated, in table order, or --columns. */
static int map_ndjson(struct load *ld, struct source *s, struct err *e)
{
	uint32_t n = s->map.nfields;
	const char **names = calloc(n ? n : 1, sizeof *names);
	bool *json = calloc(n ? n : 1, sizeof *json);
	int rc = 0;
	if (names == NULL || json == NULL) {
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
	} else {
		for (uint32_t k = 0; k < n; k++) {
			const struct enc_column *col = &ld->table.cols[s->map.col[k]].enc;
			names[k] = col->name;
			/* json_populate_record keeps a string a JSON string for
			 * exactly these two types (populate_scalar). */
			json[k] = col->type_oid == OID_JSON || col->type_oid == OID_JSONB;
		}
		if (ndjson_map_init(&s->ndjson, names, json, n) < 0)
			rc = err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	free(names);
	free(json);
	return rc;
}

/* Maps the header record's names to columns. */
static int map_header(struct load *ld, struct source *s, struct framer *f, struct err *e)
{
	if (s->mapped)
		return 0; /* --columns given: the header is only skipped, as COPY does */
	const char *p;
	size_t len;
	frame_header(f, &p, &len);
	free(s->header);
	s->header = malloc(len ? len : 1);
	if (s->header == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	memcpy(s->header, p, len);
	s->header_len = len;
	struct buf scratch;
	if (buf_init(&scratch, len + 1) < 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	struct field *names = calloc(FIELDS_MAX, sizeof *names);
	if (names == NULL) {
		buf_free(&scratch);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	char msg[512];
	int n = s->dialect.format == FORMAT_TEXT
		    ? text_parse_record(&s->dialect, p, len, names, FIELDS_MAX, &scratch, msg, sizeof msg)
		    : csv_parse_record(&s->dialect, p, len, names, FIELDS_MAX, &scratch, msg, sizeof msg);
	int rc;
	if (n < 0)
		rc = err_set(e, EXIT_DATAERR, "%s: cannot read the header line: %s", s->name, msg);
	else
		rc = transform_map_header(&s->map, &ld->table, names, (uint32_t)n, s->name, e);
	if (rc == 0)
		rc = finish_mapping(ld, s, e);
	free(names);
	buf_free(&scratch);
	return rc;
}

/* Reads one input to its end and hands its chunks to the workers. */
static int read_source(struct load *ld, struct source *s, uint32_t *rr, struct err *e)
{
	const struct options *o = ld->o;
	struct reader *r = reader_open(s->name, e);
	if (r == NULL)
		return -1;
	reader_watch_stop(r, &ld->stop);
	const char *data;
	long n = reader_next(r, &data, e);
	if (n < 0) {
		reader_close(r);
		return -1;
	}
	enum input_format fmt = o->format;
	if (fmt == FORMAT_AUTO) {
		int by_name = strcmp(s->name, "-") == 0 ? FORMAT_AUTO : format_from_name(s->name);
		fmt = by_name != FORMAT_AUTO ? (enum input_format)by_name
					     : format_from_content(data, n > 0 ? (size_t)n : 0);
	}
	options_dialect(o, fmt, &s->dialect);
	if (!s->dialect.header || o->columns != NULL) {
		if (transform_map_list(&s->map, &ld->table, o->columns, e) < 0 || finish_mapping(ld, s, e) < 0) {
			reader_close(r);
			return -1;
		}
	}
	if (s->dialect.format == FORMAT_NDJSON && map_ndjson(ld, s, e) < 0) {
		reader_close(r);
		return -1;
	}
	/* The source's own batch_rows and chunk size: with them its chunk
	 * numbers are those of every earlier run. */
	struct framer *f = frame_create(&s->dialect, s->batch_rows, chunk_bytes_for(s->batch_rows));
	if (f == NULL) {
		reader_close(r);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	int rc = 0;
	struct chunk *c = acquire_chunk(ld, rr);
	bool ended = false;
	uint64_t t0 = (uint64_t)(clock_mono_s() * 1e9);
	while (c != NULL && n > 0 && !ended) {
		size_t off = 0;
		while (off < (size_t)n && c != NULL) {
			size_t used = 0;
			enum frame_event ev = frame_feed(f, c, data + off, (size_t)n - off, &used);
			off += used;
			if (ev == FRAME_HEADER) {
				if (map_header(ld, s, f, e) < 0) {
					rc = -1;
					break;
				}
			} else if (ev == FRAME_CHUNK) {
				if (ledger_chunk_done(&s->ledger, c->seq)) {
					/* Committed on an earlier run. */
					s->skipped += c->nrecords;
					atomic_fetch_add(&ld->skipped_total, c->nrecords);
					chunk_reset(c);
				} else {
					emit_chunk(ld, c, s);
					c = acquire_chunk(ld, rr);
				}
			} else if (ev == FRAME_END) {
				ended = true;
				break;
			}
		}
		/* Reading and framing count; waits for free chunks are taken out
		 * at the end (reader_wait_s). */
		uint64_t t1 = (uint64_t)(clock_mono_s() * 1e9);
		atomic_fetch_add(&ld->read_ns, t1 - t0);
		t0 = t1;
		atomic_store(&ld->bytes_read, reader_bytes_read(r));
		if (rc < 0 || c == NULL || ended)
			break;
		if (atomic_load(&ld->stop))
			break;
		n = reader_next(r, &data, e);
		if (n < 0)
			rc = -1;
	}
	if (rc == 0 && c != NULL && !atomic_load(&ld->stop)) {
		enum frame_event ev = frame_finish(f, c);
		if (ev == FRAME_HEADER)
			rc = map_header(ld, s, f, e);
		else if (ev == FRAME_CHUNK && ledger_chunk_done(&s->ledger, c->seq)) {
			s->skipped += c->nrecords;
			atomic_fetch_add(&ld->skipped_total, c->nrecords);
		} else if (ev == FRAME_CHUNK) {
			emit_chunk(ld, c, s);
			c = NULL;
		}
		s->read_whole = rc == 0;
	} else if (rc == 0 && ended) {
		s->read_whole = true;
	}
	if (c != NULL)
		release_chunk(ld, c);
	s->records = frame_records(f);
	s->bytes = reader_bytes_read(r);
	frame_free(f);
	reader_close(r);
	return rc;
}

static void *reader_main(void *arg)
{
	struct load *ld = arg;
	uint32_t rr = 0;
	uint64_t bytes_before = 0;
	for (uint32_t i = 0; i < ld->nsources && !atomic_load(&ld->stop); i++) {
		atomic_store(&ld->cur_source, i);
		if (ld->sources[i].ledger.complete)
			continue;
		struct err e;
		err_clear(&e);
		/* A read cut short by a stop (a signal, or another thread's
		 * fatal error) is reported by what stopped it. */
		if (read_source(ld, &ld->sources[i], &rr, &e) < 0 && !atomic_load(&ld->stop))
			load_fail(ld, &e);
		bytes_before += ld->sources[i].bytes;
		atomic_store(&ld->bytes_read, bytes_before);
	}
	/* No more chunks: the workers drain their rings and end now, not when
	 * the main thread next looks (a run ends when its work ends). */
	atomic_store(&ld->reader_done, true);
	for (uint32_t i = 0; i < ld->nworkers; i++)
		sem_post(&ld->workers[i].todo_sem);
	return NULL;
}

/* Inputs must exist and be readable before anything is loaded. */
static int check_inputs(const struct options *o, int64_t *total, struct err *e)
{
	*total = 0;
	for (int i = 0; i < o->nfiles; i++) {
		const char *p = o->files[i];
		if (strcmp(p, "-") == 0) {
			*total = -1;
			continue;
		}
		struct stat st;
		if (stat(p, &st) < 0)
			return err_set(e, EXIT_NOINPUT, "cannot open %s: %s", p, strerror(errno));
		if (S_ISDIR(st.st_mode))
			return err_set(e, EXIT_NOINPUT, "%s: is a directory", p);
		if (access(p, R_OK) < 0)
			return err_set(e, EXIT_NOINPUT, "cannot read %s: %s", p, strerror(errno));
		if (S_ISREG(st.st_mode) && *total >= 0)
			*total += st.st_size;
		else
			*total = -1;
	}
	return 0;
}

/* What decides what a load of name stores, as text (see ledger.h): a
 * rerun with other settings is not the same load. --format auto is taken
 * as the name's extension says, when it does. */
static void load_settings(const struct options *o, const char *name, char *out, size_t outsz)
{
	static const char *const formats[] = {
	    [FORMAT_AUTO] = "auto", [FORMAT_CSV] = "csv", [FORMAT_TEXT] = "text", [FORMAT_NDJSON] = "ndjson"};
	static const char *const conflicts[] = {
	    [CONFLICT_ERROR] = "error", [CONFLICT_IGNORE] = "ignore", [CONFLICT_UPDATE] = "update"};
	int fmt = o->format;
	if (fmt == FORMAT_AUTO && strcmp(name, "-") != 0)
		fmt = format_from_name(name);
	snprintf(out, outsz,
		 "format=%s header=%s delimiter=%s quote=%s escape=%s null=%s columns=%s on-conflict=%s key=%s",
		 formats[fmt],
		 o->header < 0 ? "default"
		 : o->header   ? "yes"
			       : "no",
		 o->delimiter ? o->delimiter : "", o->quote ? o->quote : "", o->escape ? o->escape : "",
		 o->null ? o->null : "", o->columns ? o->columns : "", conflicts[o->on_conflict], o->key ? o->key : "");
}

/* Finds the source's ledger identity and what of it is committed. Files are
 * known by their content; standard input and pipes by --source-id, or, without
 * it, by an identity of this run alone (the ledger then still guards a retried
 * commit, but a rerun cannot resume). A source loaded before with other
 * settings is loaded again whole when this run upserts (it cannot store a
 * key twice), and refused otherwise (--force decides). */
static int begin_source(struct load *ld, PGconn *conn, struct source *s, struct err *e)
{
	const struct options *o = ld->o;
	if (o->dry_run)
		return 0;
	char id[96];
	int fp = strcmp(s->name, "-") == 0 ? 0 : fingerprint_file(s->name, id + 5, sizeof id - 5, e);
	if (fp < 0)
		return -1;
	if (fp == 1) {
		memcpy(id, "file:", 5);
	} else if (o->source_id != NULL) {
		snprintf(id, sizeof id, "id:%s", o->source_id);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(id, sizeof id, "run:%lld.%09ld:%ld", (long long)ts.tv_sec, ts.tv_nsec, (long)getpid());
	}
	char settings[LEDGER_SETTINGS_MAX];
	load_settings(o, s->name, settings, sizeof settings);
	struct ledger_source *ls = &s->ledger;
	if (ledger_begin(conn, id, ld->table.display, s->name, o->batch_rows, settings, o->force != 0, ls, e) < 0)
		return -1;
	bool earlier = ls->complete || ls->ndone > 0;
	if (earlier && ls->settings[0] && strcmp(ls->settings, settings) != 0) {
		if (o->on_conflict == CONFLICT_ERROR)
			return err_set(e, EXIT_CONFIG,
				       "%s: %s into %s with other settings (%s; now %s): loading it again could store "
				       "its records twice or differently; --force loads it again whole as a new load, "
				       "and --on-conflict update|ignore --key does so without duplicate keys",
				       s->name, ls->complete ? "loaded" : "partly loaded", ld->table.display,
				       ls->settings, settings);
		log_event(LOG_INFO, "source_reloaded",
			  "%s: %s into %s with other settings (%s); loading it again whole as an upsert (%s)", s->name,
			  ls->complete ? "loaded" : "partly loaded", ld->table.display, ls->settings, settings);
		ledger_end(conn, ls);
		if (ledger_begin(conn, id, ld->table.display, s->name, o->batch_rows, settings, true, ls, e) < 0)
			return -1;
	}
	s->batch_rows = ls->batch_rows;
	s->rejected_earlier = ls->rejected;
	if (ls->complete) {
		s->records = ls->records;
		s->skipped = ls->records;
		log_event(LOG_INFO, "source_skipped",
			  "%s: already loaded into %s on %s: %llu records, %llu loaded, %llu rejected, %llu ignored; "
			  "%s--force loads it again",
			  s->name, ld->table.display, ls->finished_at, (unsigned long long)ls->records,
			  (unsigned long long)ls->loaded, (unsigned long long)ls->rejected,
			  (unsigned long long)ls->ignored,
			  ls->rejected ? "--rejects FILE writes its rejects again, load --from-rejects FILE loads just "
					 "them once their cause is fixed; "
				       : "");
	} else if (ls->ndone > 0) {
		log_event(LOG_INFO, "source_resumed",
			  "%s: resuming: %u chunks of %u records committed earlier, with %llu records rejected",
			  s->name, ls->ndone, s->batch_rows, (unsigned long long)ls->rejected);
	}
	return 0;
}

void load_note_rejects_written(struct load *ld, const struct source *src, uint64_t chunk)
{
	if (!src->ledger.source_id[0])
		return;
	pthread_mutex_lock(&ld->written_lock);
	if (ld->nwritten == ld->written_cap) {
		size_t cap = ld->written_cap ? ld->written_cap * 2 : 64;
		struct written_chunk *p = realloc(ld->written, cap * sizeof *p);
		if (p != NULL) {
			ld->written = p;
			ld->written_cap = cap;
		}
	}
	/* Without room the chunk stays unwritten in the ledger: a rerun finds
	 * its lines in the file and does not write them twice. */
	if (ld->nwritten < ld->written_cap)
		ld->written[ld->nwritten++] = (struct written_chunk){(uint32_t)(src - ld->sources), chunk};
	pthread_mutex_unlock(&ld->written_lock);
}

/* Writing recorded rejects to the rejects file: those already there (by
 * record number) are passed over. */
struct rewrite {
	struct load *ld;
	struct source *src;
	const uint64_t *have;
	size_t nhave;
	uint64_t written;
	uint64_t last_chunk;
	bool any_chunk;
};

static int rewrite_one(void *ctx, const struct ledger_reject *lr, struct err *e)
{
	struct rewrite *rw = ctx;
	if (!rw->any_chunk || lr->chunk != rw->last_chunk) {
		load_note_rejects_written(rw->ld, rw->src, lr->chunk);
		rw->last_chunk = lr->chunk;
		rw->any_chunk = true;
	}
	if (rw->nhave > 0 && bsearch(&lr->record, rw->have, rw->nhave, sizeof *rw->have, cmp_u64) != NULL)
		return 0;
	struct reject r = {
	    .source = rw->src->name,
	    .record = lr->record,
	    .line = lr->line,
	    .byte_offset = lr->byte_offset,
	    .column = lr->column,
	    .sqlstate = lr->sqlstate,
	    .message = lr->message ? lr->message : "",
	    .raw = lr->raw,
	    .raw_len = lr->raw_len,
	    .header = lr->header,
	    .header_len = lr->header_len,
	};
	rejects_write(rw->ld->rejects, &r, e);
	rw->written++;
	return 0;
}

/* Rejects that the ledger holds and the rejects file may not: of a complete
 * source all of them (a rerun writes them again), else those of chunks an
 * earlier run committed but did not see to the file. */
static int rewrite_rejects(struct load *ld, PGconn *conn, struct source *s, struct err *e)
{
	struct ledger_source *ls = &s->ledger;
	if (!rejects_enabled(ld->rejects) || !ls->source_id[0] || (!ls->complete && ls->ndone == 0) ||
	    ls->rejected == 0)
		return 0;
	struct rewrite rw = {.ld = ld, .src = s};
	uint64_t *have;
	if (rejects_recorded(ld->rejects, s->name, &have, &rw.nhave, e) < 0)
		return -1;
	rw.have = have;
	long n = ledger_rejects_read(conn, ls, !ls->complete, rewrite_one, &rw, e);
	free(have);
	if (n < 0)
		return -1;
	if (rw.written > 0)
		log_event(LOG_INFO, "rejects_rewritten", "%s: %llu rejected records written to %s from the ledger",
			  s->name, (unsigned long long)rw.written, ld->o->rejects);
	return 0;
}

/* The control connection may have gone with a server restart that the
 * workers rode out: reconnect it and take the sources' locks again. */
static int control_reconnect(struct load *ld, PGconn **conn, struct err *e)
{
	if (PQstatus(*conn) == CONNECTION_OK)
		return 0;
	PGconn *c = pg_connect(ld->o->dsn, ld->o->retry_timeout_s, e);
	if (c == NULL)
		return -1;
	PQfinish(*conn);
	*conn = c;
	for (uint32_t i = 0; i < ld->nsources; i++)
		if (ld->sources[i].ledger.source_id[0] && ledger_relock(c, &ld->sources[i].ledger, e) < 0)
			return -1;
	log_event(LOG_INFO, "reconnected", "control connection to PostgreSQL restored");
	return 0;
}

/* --analyze: fresh statistics so that the ERP's queries plan well on the new rows. */
static void analyze_table(struct load *ld, PGconn *conn)
{
	char sql[sizeof ld->table.sql_name + 16];
	snprintf(sql, sizeof sql, "ANALYZE %s", ld->table.sql_name);
	struct err e;
	if (pg_exec(conn, sql, &e) < 0)
		log_event(LOG_WARN, "analyze_failed", "%s", e.msg);
	else
		log_event(LOG_INFO, "analyzed", "%s", ld->table.display);
}

static uint64_t sum_counter(const struct load *ld, size_t offset)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < ld->nworkers; i++)
		v += atomic_load((_Atomic uint64_t *)(void *)((char *)&ld->workers[i].n + offset));
	return v;
}
#define SUM(ld, field) sum_counter((ld), offsetof(struct worker_counters, field))

int load_run(const struct options *o, struct summary *out)
{
	static const char *stdin_name[] = {"-"};
	struct err e;
	err_clear(&e);
	memset(out, 0, sizeof *out);
	double t_start = clock_mono_s();
	log_set_format(o->log_format);

	struct load *ld = calloc(1, sizeof *ld);
	if (ld == NULL) {
		log_event(LOG_ERROR, "load_failed", "out of memory");
		return EXIT_SOFTWARE;
	}
	ld->o = o;
	ld->ordered = o->on_conflict != CONFLICT_ERROR && !o->dry_run;
	pthread_mutex_init(&ld->fatal_lock, NULL);
	pthread_mutex_init(&ld->turn_lock, NULL);
	pthread_mutex_init(&ld->written_lock, NULL);
	pthread_cond_init(&ld->turn_cond, NULL);
	const char **files = o->nfiles > 0 ? o->files : stdin_name;
	uint32_t nfiles = o->nfiles > 0 ? (uint32_t)o->nfiles : 1;
	int64_t total_bytes = 0;
	int code = EXIT_OK;
	PGconn *conn = NULL;
	bool rejects_ok = true;
	struct err rej_err;
	err_clear(&rej_err);

	if (monitor_start(o, &e) < 0)
		goto fail;
	if (check_inputs(o, &total_bytes, &e) < 0)
		goto fail;
	ld->rejects = rejects_open(o->rejects, &e);
	if (ld->rejects == NULL)
		goto fail;
	conn = pg_connect(o->dsn, o->connect_timeout_s, &e);
	if (conn == NULL)
		goto fail;
	if (catalog_read(conn, o->table, &ld->table, &e) < 0)
		goto fail;
	/* conn stays open as the control connection: it holds the sources'
	 * ledger locks for the whole run. */
	if (!o->dry_run && ledger_setup(conn, &e) < 0)
		goto fail;
	/* Cache invalidation: templates checked, journal opened, and keys left
	 * pending by an earlier run sent first, whatever this run loads. */
	if (!o->dry_run && cache_open(&ld->cache, o, &ld->table, o->batch_rows, &e) < 0)
		goto fail;
	if (ld->cache != NULL)
		cache_replay(ld->cache);

	cpu_set_t cpus;
	ld->nworkers = o->workers ? o->workers : workers_cpus(&cpus);
	if (ld->nworkers > WORKERS_MAX)
		ld->nworkers = WORKERS_MAX;
	ld->sources = calloc(nfiles, sizeof *ld->sources);
	if (ld->sources == NULL) {
		err_set(&e, EXIT_SOFTWARE, "out of memory");
		goto fail;
	}
	ld->nsources = nfiles;
	ld->batch_rows = o->batch_rows;
	for (uint32_t i = 0; i < nfiles; i++) {
		struct source *src = &ld->sources[i];
		src->name = files[i];
		src->batch_rows = o->batch_rows;
		if (begin_source(ld, conn, src, &e) < 0)
			goto fail;
		if (src->batch_rows > ld->batch_rows)
			ld->batch_rows = src->batch_rows;
		if (rewrite_rejects(ld, conn, src, &e) < 0)
			goto fail;
	}
	ld->chunk_bytes = chunk_bytes_for(ld->batch_rows);
	if (workers_create(ld, &e) < 0)
		goto fail;

	load_catch_signals();

	if (workers_start(ld, &e) < 0) {
		load_fail(ld, &e);
		workers_join(ld);
		goto fail_started;
	}
	pthread_t reader;
	int prc = pthread_create(&reader, NULL, reader_main, ld);
	if (prc != 0) {
		err_set(&e, EXIT_SOFTWARE, "cannot start reader thread: %s", strerror(prc));
		load_fail(ld, &e);
		workers_join(ld);
		goto fail_started;
	}

	bool show = o->progress == PROGRESS_ALWAYS || (o->progress == PROGRESS_AUTO && isatty(STDERR_FILENO));
	double stop_at = 0;
	for (;;) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += MONITOR_INTERVAL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (got_signal && !atomic_load(&ld->stop)) {
			log_event(LOG_WARN, "signal", "%s received: finishing the chunks in flight, then stopping",
				  got_signal == SIGINT ? "SIGINT" : "SIGTERM");
			atomic_store(&ld->stop, true);
			sem_post(&ld->free_sem);
			stop_at = clock_mono_s();
		}
		if (stop_at > 0 && (signals_seen > 1 || clock_mono_s() - stop_at >= STOP_GRACE_S)) {
			if (!atomic_load(&ld->cancelled))
				log_event(LOG_WARN, "cancel",
					  "%s: canceling the chunks still in flight; they roll back and load on the "
					  "next run",
					  signals_seen > 1 ? "a second signal"
							   : "still running after the grace period");
			workers_cancel(ld);
		}
		struct cache_stats cs;
		cache_stats(ld->cache, &cs);
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
		    .source = ld->sources[atomic_load(&ld->cur_source)].name,
		};
		monitor_tick(o, &live, false);
		if (show) {
			struct progress_state p = {
			    .bytes = atomic_load(&ld->bytes_read),
			    .bytes_total = total_bytes,
			    .records = SUM(ld, loaded) + SUM(ld, rejected) + SUM(ld, ignored),
			    .rejected = SUM(ld, rejected),
			    .elapsed_s = clock_mono_s() - t_start,
			};
			progress_draw(&p);
		}
		/* Workers end only after the reader said it was done. */
		if (atomic_load(&ld->workers_alive) == 0) {
			pthread_join(reader, NULL);
			break;
		}
		while (sem_timedwait(&ld->finished_sem, &ts) < 0 && errno == EINTR && !got_signal)
			;
	}
	workers_join(ld);
	if (show)
		progress_end();
	/* The rejects written this run are durable before the ledger says so;
	 * a source whose rejects did not reach the file is not complete (a
	 * rerun writes them from the ledger). */
	rejects_ok = rejects_sync(ld->rejects, &rej_err) == 0;
	if (!rejects_ok)
		log_event(LOG_ERROR, "rejects_failed", "%s", rej_err.msg);
	for (uint32_t i = 0; i < ld->nsources; i++) {
		struct source *src = &ld->sources[i];
		src->rejects_unwritten = false;
		uint64_t *chunks = NULL;
		uint32_t n = 0;
		for (size_t k = 0; k < ld->nwritten; k++) {
			if (ld->written[k].source != i)
				continue;
			src->rejects_unwritten = true;
			if (!rejects_ok)
				continue;
			uint64_t *p = realloc(chunks, (n + 1) * sizeof *p);
			if (p == NULL)
				break;
			chunks = p;
			chunks[n++] = ld->written[k].chunk;
		}
		if (rejects_ok && n > 0) {
			int rc = ledger_rejects_written(conn, &src->ledger, chunks, n, &e);
			if (rc < 0 && e.retryable && control_reconnect(ld, &conn, &e) == 0)
				rc = ledger_rejects_written(conn, &src->ledger, chunks, n, &e);
			/* Not fatal: a rerun finds these lines in the file. */
			if (rc < 0)
				log_event(LOG_WARN, "ledger_failed", "%s", e.msg);
		}
		if (rejects_ok)
			src->rejects_unwritten = false;
		free(chunks);
	}
	/* Sources read whole in a run that did not fail are complete. */
	for (uint32_t i = 0; i < ld->nsources; i++) {
		struct source *src = &ld->sources[i];
		if (!src->read_whole || src->ledger.complete || !src->ledger.source_id[0] ||
		    atomic_load(&ld->fatal_code) || got_signal || src->rejects_unwritten)
			continue;
		/* libpq notices a connection that a restart closed only when it is
		 * used: one failed attempt, then a reconnect and the second. */
		bool ignore = o->on_conflict == CONFLICT_IGNORE;
		int rc = ledger_finish(conn, &src->ledger, ignore, &e);
		if (rc < 0 && e.retryable && control_reconnect(ld, &conn, &e) == 0)
			rc = ledger_finish(conn, &src->ledger, ignore, &e);
		if (rc < 0)
			load_fail(ld, &e);
	}

fail_started:;
	uint64_t records = 0, bytes = 0, skipped = 0, rejected_earlier = 0;
	for (uint32_t i = 0; i < ld->nsources; i++) {
		records += ld->sources[i].records;
		skipped += ld->sources[i].skipped;
		rejected_earlier += ld->sources[i].rejected_earlier;
		bytes += ld->sources[i].bytes;
	}
	struct summary s = {
	    .records_read = records,
	    .loaded = SUM(ld, loaded),
	    .rejected = SUM(ld, rejected),
	    .ignored = SUM(ld, ignored),
	    .skipped = skipped,
	    .rejected_earlier = rejected_earlier,
	    .deferred = SUM(ld, deferred),
	    .bytes = bytes,
	    .seconds = clock_mono_s() - t_start,
	    .batches = SUM(ld, batches),
	    .retries = SUM(ld, retries),
	    .isolation_retries = SUM(ld, isolation_retries),
	    .statements = SUM(ld, statements),
	    .ndjson_unknown_keys = SUM(ld, unknown_keys),
	    .workers = ld->nworkers,
	    .files = nfiles,
	    .read_s = (double)atomic_load(&ld->read_ns) / 1e9 - ld->reader_wait_s,
	    .parse_s = (double)SUM(ld, parse_ns) / 1e9,
	    .sink_s = (double)SUM(ld, sink_ns) / 1e9,
	    .started = true,
	};
	snprintf(s.table, sizeof s.table, "%s", ld->table.display);
	if (o->analyze && s.loaded > 0 && !o->dry_run && atomic_load(&ld->fatal_code) == 0 && !got_signal &&
	    control_reconnect(ld, &conn, &e) == 0)
		analyze_table(ld, conn);
	uint64_t keys_pending = ld->cache ? cache_finish(ld->cache) : 0;
	struct cache_stats cs;
	cache_stats(ld->cache, &cs);
	s.keys_invalidated = cs.keys_invalidated;
	s.keys_pending = keys_pending;
	s.redis_round_trips = cs.round_trips;
	code = atomic_load(&ld->fatal_code);
	if (code != 0) {
		e = ld->fatal;
		snprintf(s.error, sizeof s.error, "%s", e.msg);
		log_event(LOG_ERROR, "load_failed", "%s", e.msg);
	} else if (got_signal) {
		code = EXIT_TEMPFAIL;
		snprintf(s.error, sizeof s.error, "interrupted by a signal; run again to finish");
	} else if (!rejects_ok) {
		code = EXIT_TEMPFAIL;
		snprintf(
		    s.error, sizeof s.error,
		    "%.900s; the rejects are kept in the ledger and a rerun with a writable --rejects file writes them",
		    rej_err.msg);
	} else if (keys_pending > 0) {
		code = EXIT_TEMPFAIL;
		snprintf(s.error, sizeof s.error,
			 "%llu cache keys still pending: Redis did not take them; a rerun sends them",
			 (unsigned long long)keys_pending);
		log_event(LOG_ERROR, "invalidation_pending", "%s", s.error);
	} else if (s.rejected > 0 || s.rejected_earlier > 0) {
		code = EXIT_DATAERR;
	}
	if (code == EXIT_OK || (code == EXIT_DATAERR && atomic_load(&ld->fatal_code) == 0))
		ASSERT(s.records_read == s.loaded + s.rejected + s.ignored + s.skipped);
	/* A failure that rejects_sync saw is reported already. */
	if (ld->rejects && rejects_close(ld->rejects, &e) < 0 && rejects_ok) {
		log_event(LOG_ERROR, "rejects_failed", "%s", e.msg);
		snprintf(s.error, sizeof s.error, "%s", e.msg);
		if (code == EXIT_OK || code == EXIT_DATAERR)
			code = EXIT_SOFTWARE;
	}
	ld->rejects = NULL;
	s.exit_code = code;
	*out = s;
	monitor_load_done(&s, code == EXIT_OK || (code == EXIT_DATAERR && atomic_load(&ld->fatal_code) == 0));
	monitor_tick(o, NULL, true);
	goto done;

fail:
	log_event(LOG_ERROR, "load_failed", "%s", e.msg);
	code = e.code ? e.code : EXIT_SOFTWARE;
	out->exit_code = code;
	snprintf(out->error, sizeof out->error, "%s", e.msg);
	snprintf(out->table, sizeof out->table, "%s", ld->table.display[0] ? ld->table.display : o->table);
	if (ld->rejects)
		rejects_close(ld->rejects, NULL);
	ld->rejects = NULL;
done:
	workers_destroy(ld);
	for (uint32_t i = 0; i < ld->nsources; i++)
		ledger_end(conn, &ld->sources[i].ledger);
	PQfinish(conn);
	for (uint32_t i = 0; i < ld->nsources; i++) {
		transform_free(&ld->sources[i].map);
		free(ld->sources[i].header);
		ndjson_map_free(&ld->sources[i].ndjson);
		cache_templates_free(&ld->sources[i].templates);
	}
	cache_close(ld->cache);
	free(ld->sources);
	catalog_free(&ld->table);
	pthread_mutex_destroy(&ld->fatal_lock);
	pthread_mutex_destroy(&ld->turn_lock);
	pthread_mutex_destroy(&ld->written_lock);
	free(ld->written);
	pthread_cond_destroy(&ld->turn_cond);
	free(ld);
	return code;
}

int load_main(const struct options *o)
{
	struct summary s;
	int code = load_run(o, &s);
	monitor_stop(o);
	if (s.started)
		summary_print(stderr, &s);
	if (o->summary && summary_write_json(o->summary, &s) < 0) {
		log_event(LOG_ERROR, "summary_failed", "cannot write the summary to %s: %s", o->summary,
			  strerror(errno));
		if (code == EXIT_OK)
			code = EXIT_NOINPUT;
	}
	return code;
}

void load_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool load_interrupted(void)
{
	return got_signal != 0;
}
