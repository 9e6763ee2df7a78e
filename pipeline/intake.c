/* intake.c - the reader thread of a job: reads each source (io/reader.c), decodes and frames it into
 * chunks of whole records, maps the header to columns, skips the records an earlier run committed,
 * closes a stream's chunks when its flush interval passes, and hands the chunks to the workers in
 * turn. */
#include "intake.h"

#include "../core/ascii.h"
#include "../core/clock.h"
#include "../io/reader.h"
#include "../stages/dialect.h"
#include "../stages/format.h"
#include "../stages/frame.h"
#include "../stages/parse_ndjson.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* --format auto: by the name's extension once .zst is stripped. FORMAT_AUTO
 * when the name does not tell. */
int intake_format_from_name(const char *name)
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
	load_chunk_reset(ld, c);
	ASSERT(ring_push(ld->workers[c->owner].done, c));
	sem_post(&ld->free_sem);
}

static void emit_chunk(struct load *ld, struct chunk *c, struct source *s)
{
	/* The framer numbers chunks as it cuts them; the ledger's number is
	 * one no earlier run of the source committed (see ledger.h). */
	c->seq = ledger_chunk_number(&s->ledger, &s->next_chunk);
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

/* A header that names no column and is one field holding a likely
 * delimiter (';', '|', a tab, or a comma when another delimiter is set):
 * the file is most likely split on that character. The hint goes at the end
 * of e's message, which is shortened if need be to keep it. */
static void hint_delimiter(const struct source *s, const struct field *names, int n, struct err *e)
{
	if (n != 1 || names[0].null || strstr(e->msg, "does not exist") == NULL)
		return;
	static const char likely[] = {';', '|', '\t', ','};
	char hint[160] = "";
	for (size_t i = 0; i < sizeof likely && hint[0] == '\0'; i++) {
		char c = likely[i];
		if (c == s->dialect.delimiter || memchr(names[0].ptr, c, names[0].len) == NULL)
			continue;
		if (c == '\t')
			snprintf(hint, sizeof hint,
				 "; the header is one field with a tab in it: is the file tab-separated? try "
				 "--delimiter '\\t'");
		else if (c == ',' && s->dialect.format == FORMAT_TEXT)
			snprintf(hint, sizeof hint,
				 "; the header is one field with ',' in it: is the file CSV? try --format csv");
		else
			snprintf(hint, sizeof hint,
				 "; the header is one field with '%c' in it: is the file '%c'-separated? try "
				 "--delimiter '%c'",
				 c, c, c);
	}
	size_t len = strlen(e->msg), hl = strlen(hint);
	if (hl == 0)
		return;
	if (len + hl >= sizeof e->msg) {
		len = sizeof e->msg - hl - 4;
		memcpy(e->msg + len, "...", 3);
		len += 3;
	}
	memcpy(e->msg + len, hint, hl + 1);
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
	/* The names are in the input's encoding, like its records. */
	int n = format_line_parse(format_ops_for(s->dialect.format), &s->dialect, p, len, names, FIELDS_MAX, &scratch,
				  msg, sizeof msg);
	int rc;
	if (n < 0)
		rc = err_set(e, EXIT_DATAERR, "%s: cannot read the header line: %s", s->name, msg);
	else if ((rc = transform_map_header(&s->map, &ld->table, names, (uint32_t)n, s->name, e)) < 0)
		hint_delimiter(s, names, n, e);
	if (rc == 0)
		rc = finish_mapping(ld, s, e);
	free(names);
	buf_free(&scratch);
	return rc;
}

/* A source read without a header whose first line names, field by field,
 * the columns it loads into (the text format has no header unless --header,
 * and COPY takes that line as a record): the line is loaded or rejected as
 * a record, as COPY would, and the log says what it looks like. */
static void hint_header_line(struct load *ld, const struct source *s, const char *data, long n)
{
	const char *nl = n > 0 ? memchr(data, '\n', (size_t)n) : NULL;
	if (s->dialect.header || s->dialect.format == FORMAT_NDJSON || nl == NULL || s->map.nfields == 0)
		return;
	size_t len = (size_t)(nl - data);
	if (len > 0 && data[len - 1] == '\r')
		len--;
	struct buf scratch;
	struct field *f = calloc(FIELDS_MAX, sizeof *f);
	if (f == NULL || buf_init(&scratch, len + 1) < 0) {
		free(f);
		return;
	}
	char msg[256];
	int nf = format_line_parse(format_ops_for(s->dialect.format), &s->dialect, data, len, f, FIELDS_MAX, &scratch,
				   msg, sizeof msg);
	bool names = nf == (int)s->map.nfields;
	for (int i = 0; names && i < nf; i++) {
		const char *col = ld->table.cols[s->map.col[i]].enc.name;
		names = !f[i].null && f[i].len == strlen(col) && ascii_icase_equal_n(f[i].ptr, col, f[i].len);
	}
	if (names)
		log_event(ld->o->log_format, LOG_WARN, "header_suspected",
			  "%s: its first line looks like a header (its fields name the columns it loads into), but "
			  "it is read as a record: %s",
			  s->name,
			  s->dialect.format == FORMAT_TEXT ? "the text format has a header line only with --header"
							   : "--no-header says the file has none");
	buf_free(&scratch);
	free(f);
}

/* The source's dialect (--format auto: by name, then by the first bytes
 * read) and, when no header line will tell, its mapping. */
static int prepare_source(struct load *ld, struct source *s, const char *data, long n, struct err *e)
{
	const struct options *o = ld->o;
	enum input_format fmt = o->format;
	if (fmt == FORMAT_AUTO) {
		int by_name = strcmp(s->name, "-") == 0 ? FORMAT_AUTO : intake_format_from_name(s->name);
		fmt = by_name != FORMAT_AUTO ? (enum input_format)by_name : format_guess(data, n > 0 ? (size_t)n : 0);
	}
	options_dialect(o, fmt, &s->dialect);
	/* A named format's dialect was checked with the options. */
	if (o->format == FORMAT_AUTO && dialect_check(&s->dialect, e) < 0)
		return -1;
	/* A replayed group has a header line exactly when its records had one. */
	if (s->header_forced >= 0)
		s->dialect.header = s->header_forced;
	if (!s->dialect.header || o->columns != NULL) {
		if (transform_map_list(&s->map, &ld->table, o->columns, e) < 0 || finish_mapping(ld, s, e) < 0)
			return -1;
	}
	if (s->dialect.format == FORMAT_NDJSON && map_ndjson(ld, s, e) < 0)
		return -1;
	hint_header_line(ld, s, data, n);
	return 0;
}

/* A chunk the ledger places at other bytes than this input does: not the
 * input the source id committed before. */
static int other_input(const struct load *ld, const struct source *s, const char *what, uint64_t rec, uint64_t then,
		       uint64_t now, struct err *e)
{
	return err_set(e, EXIT_CONFIG,
		       "%s: not the input that source %s committed into %s earlier: record %llu %s at byte %llu then, "
		       "at byte %llu now; give other data another --source-id, or --force to load this input again "
		       "whole as a new load",
		       s->name, s->ledger.source_id, ld->table.display, (unsigned long long)rec, what,
		       (unsigned long long)then, (unsigned long long)now);
}

/* Whether an earlier run committed the records of chunk c: 1 yes, 0 no,
 * -1 (e set) when the ledger places them elsewhere in the input. By
 * position; by number for a source whose earlier chunks have none. */
static int committed_earlier(const struct load *ld, const struct source *s, const struct chunk *c, struct err *e)
{
	const struct ledger_source *ls = &s->ledger;
	if (ls->by_number)
		return ledger_chunk_done(ls, c->seq);
	enum spans_cover cover = spans_cover(&ls->committed, c->first_record, c->nrecords);
	/* Chunks are cut where committed spans begin and end. */
	ASSERT(cover != SPANS_PART);
	if (cover == SPANS_NONE)
		return 0;
	uint64_t last = c->first_record + c->nrecords - 1;
	const struct span *sp = spans_starting_at(&ls->committed, c->first_record);
	if (sp != NULL && sp->byte_first != c->byte_offset)
		return other_input(ld, s, "began", c->first_record, sp->byte_first, c->byte_offset, e);
	sp = spans_ending_at(&ls->committed, last);
	if (sp != NULL && sp->byte_end != c->byte_end)
		return other_input(ld, s, "ended", last, sp->byte_end, c->byte_end, e);
	return 1;
}

/* The next chunk closes where the next committed span begins or ends. */
static void cut_next(const struct source *s, struct framer *f)
{
	const struct ledger_source *ls = &s->ledger;
	frame_cut_after(f, ls->by_number ? UINT64_MAX : spans_next_cut(&ls->committed, frame_records(f)));
}

/* A chunk an earlier run committed: its records count as skipped. */
static void skip_chunk(struct load *ld, struct source *s, const struct chunk *c)
{
	s->skipped += c->nrecords;
	atomic_fetch_add(&ld->skipped_total, c->nrecords);
}

/* A framed chunk: handed to a worker, or passed over when an earlier run
 * committed it. Returns the chunk to fill next (NULL when stopping). */
static struct chunk *chunk_framed(struct load *ld, struct source *s, struct framer *f, struct chunk *c, uint32_t *rr)
{
	cut_next(s, f);
	struct err e;
	int done = committed_earlier(ld, s, c, &e);
	if (done < 0) {
		release_chunk(ld, c);
		load_fail(ld, &e);
		return NULL;
	}
	if (done) {
		skip_chunk(ld, s, c);
		load_chunk_reset(ld, c);
		return c;
	}
	emit_chunk(ld, c, s);
	return acquire_chunk(ld, rr);
}

/* A record longer than its chunk's buffer: the chunk gets a buffer of its
 * own, of cap bytes. One chunk at a time holds one (ld->big_sem), so that
 * memory stays the fixed budget plus about twice the largest record: the
 * reader waits here until the chunk that holds the last one is committed
 * and reset. -1 when the load stops meanwhile (e not set), or out of
 * memory. */
static int grow_chunk(struct load *ld, struct chunk *c, size_t cap, struct err *e)
{
	if (!chunk_grown(c)) {
		double w0 = clock_mono_s();
		while (sem_wait(&ld->big_sem) < 0 && errno == EINTR)
			;
		ld->reader_wait_s += clock_mono_s() - w0;
		if (atomic_load(&ld->stop)) {
			sem_post(&ld->big_sem);
			return -1;
		}
	}
	if (chunk_grow(c, cap) == 0)
		return 0;
	if (!chunk_grown(c))
		sem_post(&ld->big_sem);
	return err_set(e, EXIT_SOFTWARE, "out of memory for a record of more than %zu bytes (--max-record-bytes %zu)",
		       c->data_len, ld->o->max_record_bytes);
}

/* A stream's chunk closes when the flush interval has passed since its
 * first record was framed (due_ns; 0: it holds none). */
struct flush_clock {
	uint64_t interval_ns; /* 0: chunks close only when full */
	uint64_t due_ns;
	uint64_t first_record; /* of the chunk due_ns is for */
};

/* Closes the chunk being filled with its whole records once it is due.
 * Returns the chunk to fill next (NULL when stopping). */
static struct chunk *flush_when_due(struct load *ld, struct source *s, struct framer *f, struct chunk *c, uint32_t *rr,
				    struct flush_clock *fc)
{
	if (c->nrecords == 0) {
		fc->due_ns = 0;
		return c;
	}
	uint64_t now = clock_mono_ns();
	if (fc->due_ns == 0 || c->first_record != fc->first_record) {
		fc->due_ns = now + fc->interval_ns;
		fc->first_record = c->first_record;
	}
	if (now < fc->due_ns)
		return c;
	fc->due_ns = 0;
	if (frame_flush(f, c) != FRAME_CHUNK)
		return c;
	return chunk_framed(ld, s, f, c, rr);
}

/* Frames one block of input into chunks. Returns -1 (e set) on a bad
 * header or no memory for a long record (e not set when the load stops
 * while a long record waits for its buffer), 1 at an end-of-data line, else
 * 0; *cp is the chunk being filled (NULL when the load stops). */
static int feed_block(struct load *ld, struct source *s, struct framer *f, const char *data, size_t n,
		      struct chunk **cp, uint32_t *rr, struct err *e)
{
	size_t off = 0;
	while (off < n && *cp != NULL) {
		size_t used = 0;
		enum frame_event ev = frame_feed(f, *cp, data + off, n - off, &used);
		off += used;
		if (ev == FRAME_HEADER && map_header(ld, s, f, e) < 0)
			return -1;
		if (ev == FRAME_CHUNK)
			*cp = chunk_framed(ld, s, f, *cp, rr);
		if (ev == FRAME_GROW && grow_chunk(ld, *cp, frame_grow_bytes(f), e) < 0)
			return -1;
		if (ev == FRAME_END)
			return 1;
	}
	return 0;
}

/* The end of the input: the last chunk or a header-only input. */
static int finish_source(struct load *ld, struct source *s, struct framer *f, struct chunk **cp, struct err *e)
{
	struct chunk *c = *cp;
	enum frame_event ev = frame_finish(f, c);
	if (ev == FRAME_HEADER)
		return map_header(ld, s, f, e);
	if (ev != FRAME_CHUNK)
		return 0;
	int done = committed_earlier(ld, s, c, e);
	if (done < 0)
		return -1;
	if (done) {
		skip_chunk(ld, s, c);
	} else {
		emit_chunk(ld, c, s);
		*cp = NULL;
	}
	return 0;
}

/* A stream's chunks also close by time (--flush-interval), unless the
 * source resumes by chunk numbers: those need chunks cut by count and size
 * alone, as the run that numbered them cut them. 0: never by time. */
static uint64_t flush_interval_ns(const struct load *ld, const struct source *s, const struct reader *r)
{
	if (!reader_is_stream(r) || ld->o->flush_interval_ms == 0)
		return 0;
	if (s->ledger.by_number) {
		log_event(ld->o->log_format, LOG_INFO, "flush_interval_off",
			  "%s: resuming chunks that an older edonu-ingest committed and numbered: its chunks close "
			  "only when full",
			  s->name);
		return 0;
	}
	return (uint64_t)ld->o->flush_interval_ms * 1000000u;
}

/* Reads one input to its end and hands its chunks to the workers. */
static int read_source(struct load *ld, struct source *s, uint32_t *rr, struct err *e)
{
	struct reader *r = s->fd >= 0 ? reader_open_fd(s->fd, s->name, e) : reader_open(s->path, e);
	if (r == NULL)
		return -1;
	/* ld->bytes_read counts every input: the earlier ones (intake_main
	 * stored their sum) plus this one so far. */
	uint64_t before = atomic_load(&ld->bytes_read);
	reader_watch_stop(r, &ld->stop);
	const char *data = NULL; /* no block at all from an empty input */
	long n = reader_next(r, &data, e);
	if (n < 0 || prepare_source(ld, s, data, n, e) < 0) {
		reader_close(r);
		return -1;
	}
	/* The source's own batch_rows and chunk size: with them its chunk
	 * numbers are those of every earlier run. */
	struct framer *f =
	    frame_create(&s->dialect, s->batch_rows, chunk_bytes_for(s->batch_rows), ld->o->max_record_bytes);
	if (f == NULL) {
		reader_close(r);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	cut_next(s, f);
	/* A source resumed by chunk numbers is cut as the run that numbered
	 * it cut it: by count and size alone. */
	int64_t size = reader_size(r);
	if (!reader_is_stream(r) && !reader_is_zstd(r) && size >= (int64_t)FRAME_SHAPE_MIN_BYTES &&
	    !s->ledger.by_number)
		frame_shape(f, (uint64_t)size, ld->nworkers);
	struct flush_clock fc = {.interval_ns = flush_interval_ns(ld, s, r)};
	int rc = 0;
	bool ended = false; /* an end-of-data line: the rest is not data */
	struct chunk *c = acquire_chunk(ld, rr);
	uint64_t t0 = clock_mono_ns();
	while (c != NULL && (n > 0 || n == READER_WAITING)) {
		if (n > 0)
			rc = feed_block(ld, s, f, data, (size_t)n, &c, rr, e);
		if (rc == 1) {
			ended = true;
			rc = 0;
		}
		if (rc == 0 && c != NULL && !ended && fc.interval_ns > 0)
			c = flush_when_due(ld, s, f, c, rr, &fc);
		/* Reading and framing count; waits for free chunks are taken out
		 * at the end (reader_wait_s). */
		uint64_t t1 = clock_mono_ns();
		atomic_fetch_add(&ld->read_ns, t1 - t0);
		t0 = t1;
		atomic_store(&ld->bytes_read, before + reader_bytes_read(r));
		if (rc != 0 || c == NULL || ended || atomic_load(&ld->stop))
			break;
		/* A stream's wait ends when its chunk is due, to close it. */
		n = reader_next_until(r, &data, fc.due_ns, e);
		if (n == -1)
			rc = -1;
	}
	if (rc == 0 && c != NULL && !atomic_load(&ld->stop)) {
		rc = finish_source(ld, s, f, &c, e);
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

void *intake_main(void *arg)
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
