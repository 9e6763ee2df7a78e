/* workers.c - one thread per core: parse, map and encode each record of a chunk, then commit the
 * chunk with the worker's own PostgreSQL connection, and hand the chunk back to the reader. */
#include "../core/clock.h"
#include "load.h"

#include "../stages/codec.h"
#include "../stages/parse_text.h"
#include "../stages/sink_pg.h"
#include "../stages/utf8.h"
#include "log.h"
#include "monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void load_fail(struct load *ld, const struct err *e)
{
	pthread_mutex_lock(&ld->fatal_lock);
	if (atomic_load(&ld->fatal_code) == 0) {
		ld->fatal = *e;
		atomic_store(&ld->fatal_code, e->code ? e->code : EXIT_SOFTWARE);
	}
	pthread_mutex_unlock(&ld->fatal_lock);
	atomic_store(&ld->stop, true);
	/* Wake the reader if it waits for a chunk, and workers waiting for
	 * their turn. */
	load_wake_reader(ld);
	pthread_mutex_lock(&ld->turn_lock);
	pthread_cond_broadcast(&ld->turn_cond);
	pthread_mutex_unlock(&ld->turn_lock);
}

void load_wake_reader(struct load *ld)
{
	sem_post(&ld->free_sem);
	sem_post(&ld->big_sem);
}

void load_chunk_reset(struct load *ld, struct chunk *c)
{
	bool grown = chunk_grown(c);
	chunk_reset(c);
	if (grown)
		sem_post(&ld->big_sem);
}

/* Upserts: waits until the chunks before chunk order have committed. -1
 * when the load failed meanwhile (they never will). */
static int turn_wait(struct load *ld, uint64_t order)
{
	pthread_mutex_lock(&ld->turn_lock);
	while (ld->turn_next != order && !atomic_load(&ld->fatal_code))
		pthread_cond_wait(&ld->turn_cond, &ld->turn_lock);
	bool mine = ld->turn_next == order;
	pthread_mutex_unlock(&ld->turn_lock);
	return mine ? 0 : -1;
}

/* Chunk order is done (committed, or nothing of it touched the table):
 * the next may go, once this one's turn has come. */
static void turn_pass(struct load *ld, uint64_t order)
{
	if (turn_wait(ld, order) < 0)
		return;
	pthread_mutex_lock(&ld->turn_lock);
	ld->turn_next = order + 1;
	pthread_cond_broadcast(&ld->turn_cond);
	pthread_mutex_unlock(&ld->turn_lock);
}

/* The chunk in hand, for the codec's and the sink's hooks. */
struct chunk_job {
	struct worker *w;
	const struct chunk *c;
	const struct sink_batch *b; /* its batch, once encoded */
	size_t client_mark;         /* w->pending up to here: rejects found before the server saw the chunk */
};

/* The sink's hook before an upsert's merge: the chunk's turn. */
static int before_target(void *ctx, struct err *e)
{
	const struct chunk_job *job = ctx;
	if (turn_wait(job->w->ld, job->c->order) < 0)
		return err_set(e, EXIT_SOFTWARE, "stopped by an earlier error before its turn to merge");
	return 0;
}

/* Physical line where record rec of c starts. */
static uint64_t record_line(struct worker *w, const struct chunk *c, uint32_t rec)
{
	if (w->line_chunk != c || w->line_rec > rec) {
		w->line_chunk = c;
		w->line_rec = 0;
		w->line_no = c->first_line;
	}
	const char *p = c->data + c->rec_off[w->line_rec];
	const char *end = c->data + c->rec_off[rec];
	uint64_t n = w->line_no;
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	w->line_rec = rec;
	w->line_no = n;
	return n;
}

/* A reject waiting in w->pending for its chunk's outcome: written to the
 * rejects file only once the chunk has committed, so a chunk that is retried
 * or rolled back leaves no lines behind, and a rerun never repeats one. */
struct pending_reject {
	uint32_t rec;
	uint16_t column_len; /* 0: no column */
	uint16_t message_len;
	char sqlstate[6]; /* "" when the server did not say */
			  /* column and message bytes follow */
};

/* Bytes of an entry in w->pending, padding to the next header included. */
static size_t pending_size(const struct pending_reject *p)
{
	size_t a = alignof(struct pending_reject);
	size_t sz = sizeof *p + p->column_len + p->message_len;
	return (sz + a - 1) / a * a;
}

static void add_reject(struct worker *w, uint32_t rec, const char *column, const char *sqlstate, const char *message)
{
	struct pending_reject p = {.rec = rec};
	size_t cl = column ? strlen(column) : 0;
	size_t ml = strlen(message);
	p.column_len = (uint16_t)(cl < 63 ? cl : 63);
	p.message_len = (uint16_t)(ml < 1024 ? ml : 1024);
	if (sqlstate)
		snprintf(p.sqlstate, sizeof p.sqlstate, "%s", sqlstate);
	size_t start = w->pending.len;
	buf_put(&w->pending, &p, sizeof p);
	buf_put(&w->pending, column ? column : "", p.column_len);
	buf_put(&w->pending, message, p.message_len);
	/* Keep entries aligned for the next header. */
	size_t end = start + pending_size(&p);
	buf_reserve(&w->pending, end - w->pending.len);
	w->pending.len = end;
}

/* Walks the chunk's pending rejects: each is filled into *r in turn (its
 * column and message strings live in the iterator). False at the end. */
struct pending_iter {
	size_t off;
	char col[64];
	char msg[1025];
};

static bool next_reject(struct worker *w, const struct chunk *c, struct pending_iter *it, struct reject *r)
{
	if (it->off >= w->pending.len)
		return false;
	const struct pending_reject *p = (const void *)(w->pending.data + it->off);
	const char *column = (const char *)(p + 1);
	const char *message = column + p->column_len;
	memcpy(it->col, column, p->column_len);
	it->col[p->column_len] = '\0';
	memcpy(it->msg, message, p->message_len);
	it->msg[p->message_len] = '\0';
	uint32_t rec = p->rec;
	const char *raw = c->data + c->rec_off[rec];
	size_t raw_len = c->rec_off[rec + 1] - c->rec_off[rec];
	if (!(c->rec_flags[rec] & REC_CUT)) {
		/* An NDJSON record may carry blank lines after its own
		 * (stages/frame.h): it is its first line. */
		const char *nl = c->src->dialect.format == FORMAT_NDJSON ? memchr(raw, '\n', raw_len) : NULL;
		if (nl != NULL)
			raw_len = (size_t)(nl - raw) + 1;
		/* The end-of-line is not part of the record. */
		if (raw_len > 0 && raw[raw_len - 1] == '\n')
			raw_len--;
		if (raw_len > 0 && raw[raw_len - 1] == '\r')
			raw_len--;
	}
	*r = (struct reject){
	    .source = c->src->name,
	    .record = c->first_record + rec,
	    .line = record_line(w, c, rec),
	    .byte_offset = c->byte_offset + c->rec_off[rec],
	    .column = p->column_len ? it->col : NULL,
	    .sqlstate = p->sqlstate[0] ? p->sqlstate : NULL,
	    .message = it->msg,
	    .raw = raw,
	    .raw_len = raw_len,
	    .header = c->src->header,
	    .header_len = c->src->header_len,
	};
	it->off += pending_size(p);
	return true;
}

/* Without a rejects file, the job's first few rejects go to the log as
 * they commit (several workers: in the order they commit, not by line). */
static void show_reject(struct load *ld, const struct reject *r)
{
	/* Loaded first, so that the counter stops short of wrapping around. */
	if (atomic_load_explicit(&ld->rejects_shown, memory_order_relaxed) >= REJECTS_SHOWN_MAX ||
	    atomic_fetch_add_explicit(&ld->rejects_shown, 1, memory_order_relaxed) >= REJECTS_SHOWN_MAX)
		return;
	log_event(ld->o->log_format, LOG_WARN, "reject", "%s:%llu: %s%s%s%s%s%s%s",
		  strcmp(r->source, "-") == 0 ? "stdin" : r->source, (unsigned long long)r->line,
		  r->column ? "column " : "", r->column ? r->column : "", r->column ? ": " : "", r->message,
		  r->sqlstate ? " (SQLSTATE " : "", r->sqlstate ? r->sqlstate : "", r->sqlstate ? ")" : "");
}

/* Writes the chunk's pending rejects to the rejects file (or shows the
 * job's first few) and counts them by reason; returns how many. A write
 * that fails is remembered by the rejects file and reported at the end:
 * the rejects are safe in the ledger, and the source stays incomplete
 * until a run writes them. */
static uint64_t flush_rejects(struct worker *w, const struct chunk *c)
{
	uint64_t n = 0;
	struct pending_iter it = {0};
	struct reject r;
	bool shown = w->ld->o->rejects == NULL;
	while (next_reject(w, c, &it, &r)) {
		struct err e;
		rejects_write(w->ld->rejects, &r, &e);
		reject_tally_add(&w->reasons, reject_reason(r.sqlstate, r.message), 1);
		if (shown)
			show_reject(w->ld, &r);
		n++;
	}
	w->pending.len = 0;
	if (n > 0 && rejects_enabled(w->ld->rejects))
		load_note_rejects_written(w->ld, c->src, c->seq);
	return n;
}

/* Appends s as a text COPY value, bytes that are not UTF-8 replaced by '?'
 * (messages quote input, and a cut message may end inside a character). */
static void put_text_utf8(struct buf *out, const char *s)
{
	size_t len = strlen(s);
	char tmp[1025];
	if (len >= sizeof tmp)
		len = sizeof tmp - 1;
	memcpy(tmp, s, len);
	size_t ok;
	while ((ok = utf8_valid_prefix(tmp, len)) < len)
		tmp[ok] = '?';
	text_escape_value('\t', tmp, len, out);
}

/* Appends p as a bytea value in text COPY: \\x and hex digits. */
static void put_text_bytea(struct buf *out, const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	buf_reserve(out, 3 + 2 * len);
	buf_put(out, "\\\\x", 3);
	char *o = out->data + out->len;
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)p[i];
		*o++ = hex[b >> 4];
		*o++ = hex[b & 15];
	}
	out->len += 2 * len;
}

/* The chunk's rejects into edonu_ingest.rejects, in its transaction: they
 * commit with its rows or not at all. Raw records keep a few bytes past what
 * a rejects line holds, so that the line still says it was cut. */
static int record_rejects(struct worker *w, const struct chunk *c, struct err *e)
{
	const struct source *src = c->src;
	struct buf *o = &w->ledger_rows;
	o->len = 0;
	struct pending_iter it = {0};
	struct reject r;
	char num[96];
	while (next_reject(w, c, &it, &r)) {
		text_escape_value('\t', src->ledger.source_id, strlen(src->ledger.source_id), o);
		buf_putc(o, '\t');
		text_escape_value('\t', src->ledger.target, strlen(src->ledger.target), o);
		int n = snprintf(num, sizeof num, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t", c->seq,
				 r.record, r.line, r.byte_offset);
		buf_put(o, num, (size_t)n);
		if (r.column)
			put_text_utf8(o, r.column);
		else
			buf_put(o, "\\N", 2);
		buf_putc(o, '\t');
		if (r.sqlstate)
			put_text_utf8(o, r.sqlstate);
		else
			buf_put(o, "\\N", 2);
		buf_putc(o, '\t');
		put_text_utf8(o, r.message);
		buf_putc(o, '\t');
		put_text_bytea(o, r.raw, r.raw_len < REJECT_RAW_BYTES_MAX + 4 ? r.raw_len : REJECT_RAW_BYTES_MAX + 4);
		buf_putc(o, '\t');
		if (src->header != NULL)
			put_text_bytea(o, src->header, src->header_len);
		else
			buf_put(o, "\\N", 2);
		buf_putc(o, '\n');
	}
	if (o->len == 0)
		return 0;
	return pg_copy_text(pgsink_conn(w->sink), LEDGER_REJECTS_COPY, o->data, o->len, e);
}

static void on_server_reject(void *ctx, uint32_t rec, const char *sqlstate, const char *message, const char *column)
{
	add_reject(ctx, rec, column, sqlstate, message);
}

static void on_client_reject(void *ctx, uint32_t rec, const char *column, const char *message)
{
	const struct chunk_job *job = ctx;
	add_reject(job->w, rec, column, NULL, message);
}

/* Adds the cache keys of a record; a key that cannot be rendered exactly
 * stops the load (a missing invalidation is a stale cache). */
static int add_keys(struct worker *w, const struct chunk *c, const struct field *fields)
{
	struct err e;
	err_clear(&e);
	if (cache_worker_add(w->cache, &c->src->templates, &w->ld->table, fields, &e) < 0) {
		load_fail(w->ld, &e);
		return -1;
	}
	return 0;
}

/* The codec's hook for each accepted record: its cache keys. */
static int on_accept(void *ctx, uint32_t rec, const struct field *fields, uint32_t nfields)
{
	const struct chunk_job *job = ctx;
	return add_keys(job->w, job->c, fields);
}

/* Rebuilds the chunk's key set from the records sent to the server, less
 * those it refused in this attempt: keys of rejected records are never
 * invalidated. Parses those records again; refusals are rare. */
static int rebuild_keys(struct worker *w, const struct chunk *c, const struct sink_batch *b)
{
	cache_worker_begin(w->cache);
	char msg[512];
	const char *column;
	const struct field *fields;
	uint64_t unknown_keys = 0; /* the chunk's were counted by its first parse */
	for (int pass = 0; pass < 2; pass++) {
		const uint32_t *rec = pass == 0 ? b->bin_rec : b->txt_rec;
		uint32_t n = pass == 0 ? b->nbin : b->ntxt;
		for (uint32_t k = 0; k < n; k++) {
			if (w->refused[rec[k]])
				continue;
			/* These records parsed once already. */
			ASSERT(codec_parse_record(w->codec, &w->codec_src, c, rec[k], &fields, &unknown_keys, msg,
						  sizeof msg, &column) >= 0);
			if (add_keys(w, c, fields) < 0)
				return -1;
		}
	}
	return 0;
}

/* The sink's hook before COMMIT: the chunk's rejects go to the ledger, and
 * its cache keys, as they stand after the server's refusals, to the
 * journal. */
static int before_commit(void *ctx, struct err *e)
{
	const struct chunk_job *job = ctx;
	struct worker *w = job->w;
	const struct chunk *c = job->c;
	if (c->src->ledger.source_id[0] && record_rejects(w, c, e) < 0)
		return -1;
	if (w->cache == NULL)
		return 0;
	bool refusals = w->pending.len > job->client_mark;
	bool changed = refusals || w->keys_partial;
	if (changed) {
		memset(w->refused, 0, c->nrecords);
		for (size_t off = job->client_mark; off < w->pending.len;) {
			const struct pending_reject *p = (const void *)(w->pending.data + off);
			w->refused[p->rec] = 1;
			off += pending_size(p);
		}
		if (rebuild_keys(w, c, job->b) < 0)
			return err_set(e, EXIT_CONFIG, "cache keys could not be rendered");
		w->keys_partial = refusals;
	}
	return cache_worker_journal(w->cache, changed, e);
}

/* The cancel handle of the worker's current connection. */
void worker_renew_cancel(struct worker *w)
{
	PGcancel *c = PQgetCancel(pgsink_conn(w->sink));
	pthread_mutex_lock(&w->cancel_lock);
	PQfreeCancel(w->cancel);
	w->cancel = c;
	pthread_mutex_unlock(&w->cancel_lock);
}

void workers_cancel(struct load *ld)
{
	atomic_store(&ld->cancelled, true);
	for (uint32_t i = 0; i < ld->nworkers; i++) {
		struct worker *w = &ld->workers[i];
		char why[256];
		pthread_mutex_lock(&w->cancel_lock);
		if (w->cancel != NULL)
			PQcancel(w->cancel, why, sizeof why);
		pthread_mutex_unlock(&w->cancel_lock);
	}
}

/* A chunk that failed after the stop signal's grace period: it is not
 * retried, and the run ends 75 (it loads on the next run). */
static long chunk_cancelled(struct worker *w, const struct chunk *c)
{
	struct err f;
	err_set(&f, EXIT_TEMPFAIL,
		"%s: chunk %llu: canceled after the stop signal; it rolled back and loads on the next run",
		c->src->name, (unsigned long long)c->seq);
	load_fail(w->ld, &f);
	return -1;
}

/* Commits the batch, retrying transient failures (lost connection, server
 * restart, deadlock) with capped exponential backoff for --retry-timeout.
 * After a lost connection the ledger says whether the COMMIT happened
 * before the connection went; then the chunk is not sent again. Returns
 * the records committed, or -1 after a fatal error (reported). */
static long commit_with_retry(struct worker *w, const struct chunk *c, const struct sink_batch *b, size_t client_mark)
{
	const struct options *o = w->ld->o;
	uint64_t deadline = clock_mono_ns() + (uint64_t)o->retry_timeout_s * 1000000000u;
	long backoff = BACKOFF_MS_MIN;
	for (;;) {
		/* Rejects of a failed attempt are recomputed by the next one. */
		w->pending.len = client_mark;
		struct err e;
		err_clear(&e);
		long committed = pgsink_commit(w->sink, b, on_server_reject, w, &e);
		if (committed >= 0) {
			w->merged = pgsink_merged(w->sink);
			return committed;
		}
		if (atomic_load(&w->ld->cancelled))
			return chunk_cancelled(w, c);
		if (!e.retryable || atomic_load(&w->ld->fatal_code)) {
			load_fail(w->ld, &e);
			return -1;
		}
		for (;;) {
			if (atomic_load(&w->ld->cancelled))
				return chunk_cancelled(w, c);
			if (clock_mono_ns() + (uint64_t)backoff * 1000000u > deadline) {
				struct err f;
				err_set(&f, EXIT_UNAVAILABLE, "%s: chunk %llu: gave up after %u s: %s", c->src->name,
					(unsigned long long)c->seq, o->retry_timeout_s, e.msg);
				load_fail(w->ld, &f);
				return -1;
			}
			log_event(o->log_format, LOG_WARN, "chunk_retry",
				  "%s: chunk %llu: retrying in %ld ms after: %s", c->src->name,
				  (unsigned long long)c->seq, backoff, e.msg);
			atomic_fetch_add_explicit(&w->n.retries, 1, memory_order_relaxed);
			clock_sleep_ms(backoff, &w->ld->cancelled); /* a cancel is seen within 100 ms */
			backoff = backoff_next_ms(backoff);
			if (PQstatus(pgsink_conn(w->sink)) == CONNECTION_OK)
				break;
			PGconn *conn = pg_connect(o->dsn, 1, NULL, NULL, &e);
			if (conn == NULL)
				continue;
			pgsink_set_conn(w->sink, conn);
			worker_renew_cancel(w);
			if (b->ledger_source_id == NULL)
				break;
			uint64_t loaded = 0;
			int done =
			    ledger_chunk_committed(conn, b->ledger_source_id, b->ledger_target, b->chunk, &loaded, &e);
			if (done < 0)
				continue;
			if (done == 1)
				return (long)loaded; /* committed before the connection went: w->merged unknown */
			break;
		}
	}
}

/* Parses, maps and encodes every record of the chunk into *b; the codec's
 * rejects wait in w->pending, and each accepted record's cache keys go to
 * the key set. -1 when a key could not be rendered (the load is failed). */
static int encode_chunk(struct worker *w, struct chunk_job *job, struct sink_batch *b)
{
	const struct source *src = job->c->src;
	if (w->cur_src != src) {
		pgsink_set_statements(w->sink, &src->statements);
		w->codec_src = (struct codec_source){
		    .format = format_ops_for(src->dialect.format),
		    .conf = {.dialect = &src->dialect, .ndjson = &src->ndjson},
		    .map = &src->map,
		    .table = &w->ld->table,
		};
		ASSERT(w->codec_src.format != NULL);
		w->cur_src = src;
	}
	if (w->cache)
		cache_worker_begin(w->cache);
	w->keys_partial = false;
	struct codec_hooks h = {.reject = on_client_reject, .accept = w->cache ? on_accept : NULL, .ctx = job};
	struct codec_stats st;
	if (codec_encode_chunk(w->codec, &w->codec_src, job->c, &h, b, &st) < 0)
		return -1;
	w->chunk_unknown_keys = st.unknown_keys;
	atomic_fetch_add_explicit(&w->n.deferred, b->ntxt, memory_order_relaxed);
	return 0;
}

/* A committed chunk: its rejects to the rejects file, the counters, and
 * --max-rejects. */
static void chunk_done(struct worker *w, const struct chunk *c, long committed, uint64_t encode_ns, uint64_t sink_ns)
{
	struct load *ld = w->ld;
	uint64_t nrej = flush_rejects(w, c);
	atomic_fetch_add_explicit(&w->n.rejected, nrej, memory_order_relaxed);
	/* With ON CONFLICT DO NOTHING the merge wrote only the records whose
	 * key was new (and the first of a key repeated in the chunk). */
	uint64_t ignored = 0;
	if (ld->o->on_conflict == CONFLICT_IGNORE && w->merged >= 0 && w->merged <= committed)
		ignored = (uint64_t)(committed - w->merged);
	atomic_fetch_add_explicit(&w->n.loaded, (uint64_t)committed - ignored, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.ignored, ignored, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.unknown_keys, w->chunk_unknown_keys, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.parse_ns, encode_ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.sink_ns, sink_ns, memory_order_relaxed);
	if (!ld->o->dry_run)
		metrics_histogram_observe(monitor_commit_histogram(ld->eng->mon), (double)sink_ns / 1e9);
	atomic_store_explicit(&w->n.statements, pgsink_statements(w->sink), memory_order_relaxed);
	atomic_store_explicit(&w->n.isolation_retries, pgsink_isolation_retries(w->sink), memory_order_relaxed);
	if (nrej > 0) {
		uint64_t total = atomic_fetch_add(&ld->rejected_total, nrej) + nrej;
		if (total > ld->o->max_rejects) {
			struct err e;
			err_set(&e, EXIT_DATAERR,
				"more than %llu records rejected (--max-rejects): stopped; what was committed stays",
				(unsigned long long)ld->o->max_rejects);
			load_fail(ld, &e);
		}
	}
}

static void process_chunk(struct worker *w, struct chunk *c)
{
	struct load *ld = w->ld;
	const struct source *src = c->src;
	uint64_t t0 = clock_mono_ns();
	struct sink_batch b;
	struct chunk_job job = {.w = w, .c = c, .b = &b};
	w->pending.len = 0;
	if (encode_chunk(w, &job, &b) < 0)
		return;
	job.client_mark = w->pending.len;
	if (w->cache && !ld->o->dry_run) {
		struct err e;
		err_clear(&e);
		if (cache_worker_stage(w->cache, &e) < 0) {
			load_fail(ld, &e);
			return;
		}
	}
	b.before_commit = before_commit;
	if (ld->ordered)
		b.before_target = before_target;
	b.before_commit_ctx = &job;
	uint64_t t1 = clock_mono_ns();
	long committed;
	w->merged = -1;
	if (ld->o->dry_run) {
		committed = (long)b.nbin + (long)b.ntxt;
	} else {
		if (src->ledger.source_id[0]) {
			b.ledger_source_id = src->ledger.source_id;
			b.ledger_target = src->ledger.target;
			b.chunk = c->seq;
			b.first_record = c->first_record;
			b.byte_offset = c->byte_offset;
			b.byte_end = c->byte_end;
		}
		b.records = c->nrecords;
		/* A chunk whose records were all rejected still gets its
		 * ledger row, so that a rerun does not reject them again. */
		committed = commit_with_retry(w, c, &b, job.client_mark);
	}
	uint64_t t2 = clock_mono_ns();
	if (ld->ordered)
		turn_pass(ld, c->order);
	if (committed < 0)
		return;
	if (w->cache && !ld->o->dry_run)
		cache_worker_send(w->cache);
	chunk_done(w, c, committed, t1 - t0, t2 - t1);
}

/* One job's chunks, until the reader is done and the todo ring is empty. */
static void worker_job(struct worker *w)
{
	struct load *ld = w->ld;
	for (;;) {
		/* No chunk waiting (a stream that pauses, the reader behind):
		 * take the replies of the keys in flight now, so that they are
		 * not shown pending until the next chunk comes. */
		if (w->cache == NULL || sem_trywait(&w->todo_sem) < 0) {
			if (w->cache != NULL)
				cache_worker_flush(w->cache);
			while (sem_wait(&w->todo_sem) < 0 && errno == EINTR)
				;
		}
		struct chunk *c = ring_pop(w->todo);
		if (c == NULL) {
			if (atomic_load(&ld->reader_done))
				break;
			continue;
		}
		/* After a fatal error chunks are handed back unprocessed so the
		 * reader can notice the stop and end. */
		if (!atomic_load(&ld->fatal_code))
			process_chunk(w, c);
		/* A record longer than a chunk leaves no memory behind: its
		 * chunk's buffer and the codec's copies of it go now. */
		if (chunk_grown(c))
			codec_trim(w->codec);
		load_chunk_reset(ld, c);
		ASSERT(ring_push(w->done, c));
		sem_post(&ld->free_sem);
	}
	if (w->cache)
		cache_worker_flush(w->cache);
	struct engine *eng = ld->eng;
	if (atomic_fetch_sub(&ld->workers_alive, 1) == 1) {
		sem_post(&ld->finished_sem);
		pthread_mutex_lock(&eng->jobs_lock);
		pthread_cond_broadcast(&eng->jobs_cond);
		pthread_mutex_unlock(&eng->jobs_lock);
	}
}

/* A worker thread lives as long as its engine: it waits for a job, loads
 * its chunks, and waits for the next, until the engine closes. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct engine *eng = w->eng;
	for (;;) {
		pthread_mutex_lock(&eng->jobs_lock);
		while (!eng->closing && w->job_seen == eng->job_gen)
			pthread_cond_wait(&eng->jobs_cond, &eng->jobs_lock);
		bool closing = eng->closing;
		w->job_seen = eng->job_gen;
		pthread_mutex_unlock(&eng->jobs_lock);
		if (closing)
			return NULL;
		worker_job(w);
	}
}

uint32_t workers_cpus(cpu_set_t *set)
{
	CPU_ZERO(set);
	if (sched_getaffinity(0, sizeof *set, set) == 0 && CPU_COUNT(set) > 0)
		return (uint32_t)CPU_COUNT(set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	CPU_ZERO(set);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET((int)i, set);
	return n > 0 ? (uint32_t)(n < CPU_SETSIZE ? n : CPU_SETSIZE) : 1;
}

/* One worker per core: pinning keeps each worker's buffers in its core's
 * cache. Worker i goes to the (i mod n)-th allowed CPU. A failure to pin is
 * harmless. */
static void worker_pin(struct worker *w, const cpu_set_t *allowed, uint32_t ncpu)
{
	if (ncpu <= 1)
		return;
	uint32_t want = w->id % ncpu;
	int cpu = 0;
	for (uint32_t seen = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, allowed) && seen++ == want)
			break;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(w->thread, sizeof set, &set);
}

/* The threads start with the engine's first job and wait between jobs. */
static int workers_spawn(struct engine *eng, struct err *e)
{
	cpu_set_t allowed;
	uint32_t ncpu = workers_cpus(&allowed);
	while (eng->threads < eng->nworkers) {
		struct worker *w = &eng->workers[eng->threads];
		w->eng = eng;
		w->job_seen = eng->job_gen;
		int rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc != 0)
			return err_set(e, EXIT_SOFTWARE, "cannot start worker thread: %s", strerror(rc));
		eng->threads++;
		worker_pin(w, &allowed, ncpu);
	}
	return 0;
}

int workers_start(struct load *ld, struct err *e)
{
	struct engine *eng = ld->eng;
	if (workers_spawn(eng, e) < 0)
		return -1;
	atomic_store(&ld->workers_alive, ld->nworkers);
	pthread_mutex_lock(&eng->jobs_lock);
	eng->job_gen++;
	pthread_cond_broadcast(&eng->jobs_cond);
	pthread_mutex_unlock(&eng->jobs_lock);
	return 0;
}

void workers_join(struct load *ld)
{
	struct engine *eng = ld->eng;
	atomic_store(&ld->reader_done, true);
	for (uint32_t i = 0; i < ld->nworkers; i++)
		sem_post(&ld->workers[i].todo_sem);
	pthread_mutex_lock(&eng->jobs_lock);
	while (atomic_load(&ld->workers_alive) > 0)
		pthread_cond_wait(&eng->jobs_cond, &eng->jobs_lock);
	pthread_mutex_unlock(&eng->jobs_lock);
}

void workers_stop(struct engine *eng)
{
	pthread_mutex_lock(&eng->jobs_lock);
	eng->closing = true;
	pthread_cond_broadcast(&eng->jobs_cond);
	pthread_mutex_unlock(&eng->jobs_lock);
	for (uint32_t i = 0; i < eng->threads; i++)
		pthread_join(eng->workers[i].thread, NULL);
	eng->threads = 0;
}
