/* bench_stages.c - the bench's stage figures, each on one thread from the page cache: read, frame, parse, encode through the workers' own codec, invalidation keys, zstd decode. */
#include "bench_suite.h"

#include "../core/buf.h"
#include "../core/chunk.h"
#include "../core/clock.h"
#include "../core/limits.h"
#include "../io/reader.h"
#include "../stages/codec.h"
#include "../stages/frame.h"
#include "../stages/invalidate.h"
#include "../stages/parse_ndjson.h"
#include "../stages/transform.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Reads path to its end through the reader; *bytes: bytes delivered
 * (decompressed for zstd). */
static int stage_read(const char *path, bool plain, double *seconds, uint64_t *bytes, struct err *e)
{
	double t0 = clock_mono_s();
	struct reader *r = reader_open(path, e);
	if (r == NULL)
		return -1;
	if (plain)
		reader_use_plain_read(r);
	const char *data;
	long n;
	uint64_t total = 0;
	while ((n = reader_next(r, &data, e)) > 0)
		total += (uint64_t)n;
	reader_close(r);
	*seconds = clock_mono_s() - t0;
	*bytes = total;
	return n < 0 ? -1 : 0;
}

/* Reads path and frames it as d says into c, handing each chunk to fn, as
 * the loader's reader thread does. Only frame_feed and frame_finish count
 * as framing (*frame_s): the reads and fn do not. Memory stays that of one
 * chunk whatever the input's size. */
int bench_frame_file(const char *path, const struct dialect *d, struct chunk *c, chunk_fn *fn, void *ctx,
		     double *frame_s, struct err *e)
{
	*frame_s = 0;
	struct framer *fr =
	    frame_create(d, BATCH_ROWS_DEFAULT, chunk_bytes_for(BATCH_ROWS_DEFAULT), RECORD_BYTES_DEFAULT);
	struct reader *r = fr != NULL ? reader_open(path, e) : NULL;
	if (r == NULL) {
		if (fr == NULL)
			err_set(e, EXIT_SOFTWARE, "out of memory");
		frame_free(fr);
		return -1;
	}
	const char *data;
	long n = 0;
	bool ended = false;
	while (!ended && (n = reader_next(r, &data, e)) > 0) {
		double t = clock_mono_s();
		for (size_t off = 0; off < (size_t)n && !ended;) {
			size_t used = 0;
			enum frame_event ev = frame_feed(fr, c, data + off, (size_t)n - off, &used);
			off += used;
			if (ev == FRAME_CHUNK) {
				*frame_s += clock_mono_s() - t;
				fn(ctx, c);
				chunk_reset(c);
				t = clock_mono_s();
			}
			/* A record longer than a chunk (gen never writes one). */
			if (ev == FRAME_GROW && chunk_grow(c, frame_grow_bytes(fr)) < 0) {
				n = err_set(e, EXIT_SOFTWARE, "out of memory");
				ended = true;
				break;
			}
			/* "\." ends the data, as in COPY (gen never writes it). */
			ended = ev == FRAME_END;
		}
		*frame_s += clock_mono_s() - t;
	}
	reader_close(r);
	if (n >= 0) {
		double t = clock_mono_s();
		enum frame_event ev = frame_finish(fr, c);
		*frame_s += clock_mono_s() - t;
		if (ev == FRAME_CHUNK)
			fn(ctx, c);
	}
	chunk_reset(c);
	frame_free(fr);
	return n < 0 ? -1 : 0;
}

/* One pass of the CPU stages over a file: buffers allocated once. Without
 * a codec, only the parse is run (the NDJSON figure). */
struct cpu_pass {
	struct codec_source src; /* the orders table, every column */
	uint32_t ncols;
	struct chunk *c;
	struct codec *codec; /* the workers' per-chunk work */
	struct field fields[ORDERS_FIELDS_MAX];
	struct buf scratch;
	/* Invalidation keys: every record of a chunk parsed first, keeping
	 * its fields (ORDERS_FIELDS_MAX a record). */
	struct field *kept;
	int *nkept;
	struct inval_template *tp; /* INVALIDATE_TEMPLATE */
	struct inval_keyset *ks;
	double parse_s, codec_s, keys_s;
	uint64_t records, bad, deferred, rejected, keys;
};

/* Parses record i into fields with the format's own operation; -1 when
 * it does not parse. */
static int parse_one(struct cpu_pass *p, const struct chunk *c, uint32_t i, struct field *fields)
{
	char msg[256];
	uint32_t unknown = 0;
	if (c->rec_flags[i] & REC_TOO_LONG)
		return -1;
	return p->src.format->parse_record(p->src.format, &p->src.conf, c, i, fields, ORDERS_FIELDS_MAX, &p->scratch,
					   &unknown, msg, sizeof msg);
}

/* The loader's work for --invalidate, as a worker does it for each record
 * it accepts: render and deduplicate each record's key. The records are
 * parsed first, untimed, so that only the keys are timed. */
static double keys_chunk(struct cpu_pass *p, const struct chunk *c)
{
	p->scratch.len = 0;
	/* Room for every record's rewritten fields: they must not move. */
	buf_reserve(&p->scratch, c->data_len + c->nrecords + 1);
	for (uint32_t i = 0; i < c->nrecords; i++)
		p->nkept[i] = parse_one(p, c, i, p->kept + (size_t)i * ORDERS_FIELDS_MAX);
	double t0 = clock_mono_s();
	struct err e;
	err_clear(&e);
	inval_keyset_clear(p->ks);
	for (uint32_t i = 0; i < c->nrecords; i++) {
		if (p->nkept[i] != (int)p->ncols)
			continue;
		const struct field *f = p->kept + (size_t)i * ORDERS_FIELDS_MAX;
		if (inval_keyset_add_record_deferred(p->ks, &p->tp, 1, p->src.table, f, &e) < 0)
			p->bad++;
	}
	if (inval_keyset_settle(p->ks) < 0)
		p->bad++;
	double s = clock_mono_s() - t0;
	p->keys += inval_keyset_count(p->ks);
	return s;
}

/* One chunk: parse alone (one record at a time into one set of fields, as
 * the codec parses), then the codec on the same records to a null sink,
 * then the keys; each timed on its own. */
static void cpu_chunk(void *ctx, const struct chunk *c)
{
	struct cpu_pass *p = ctx;
	double t0 = clock_mono_s();
	for (uint32_t i = 0; i < c->nrecords; i++) {
		p->scratch.len = 0;
		p->bad += parse_one(p, c, i, p->fields) != (int)p->ncols;
	}
	double t1 = clock_mono_s();
	p->parse_s += t1 - t0;
	p->records += c->nrecords;
	if (p->codec == NULL)
		return;
	static const struct codec_hooks no_hooks;
	struct sink_batch b;
	struct codec_stats st;
	ASSERT(codec_encode_chunk(p->codec, &p->src, c, &no_hooks, &b, &st) == 0);
	p->codec_s += clock_mono_s() - t1;
	p->deferred += b.ntxt;
	p->rejected += st.rejected;
	p->keys_s += keys_chunk(p, c);
}

/* Runs the pass over path once; *frame_s is its framing time. */
static int cpu_pass_run(struct cpu_pass *p, const char *path, double *frame_s, struct err *e)
{
	p->parse_s = p->codec_s = p->keys_s = 0;
	p->records = p->bad = p->deferred = p->rejected = p->keys = 0;
	return bench_frame_file(path, p->src.conf.dialect, p->c, cpu_chunk, p, frame_s, e);
}

/* Buffers of a pass over the orders table in dialect d; with_codec: the
 * full CSV pass (codec and keys), else parse only. */
static int cpu_pass_init(struct cpu_pass *p, const struct bench *b, const struct dialect *d, bool with_codec,
			 struct err *e)
{
	size_t chunk_bytes = chunk_bytes_for(BATCH_ROWS_DEFAULT);
	p->src.format = format_ops_for(d->format);
	p->src.conf.dialect = d;
	p->src.table = &b->table;
	p->ncols = b->table.ncols;
	p->c = chunk_create(BATCH_ROWS_DEFAULT, chunk_bytes);
	if (p->c == NULL || buf_init(&p->scratch, chunk_bytes) < 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	if (!with_codec)
		return 0;
	p->codec = codec_create(BATCH_ROWS_DEFAULT, chunk_bytes, RECORD_BYTES_DEFAULT);
	p->kept = calloc((size_t)BATCH_ROWS_DEFAULT * ORDERS_FIELDS_MAX, sizeof *p->kept);
	p->nkept = calloc(BATCH_ROWS_DEFAULT, sizeof *p->nkept);
	p->ks = inval_keyset_create(BATCH_ROWS_DEFAULT, 64);
	if (p->codec == NULL || p->kept == NULL || p->nkept == NULL || p->ks == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	return inval_compile(INVALIDATE_TEMPLATE, &b->table, p->src.map, INVAL_UNLINK, &p->tp, e);
}

static void cpu_pass_free(struct cpu_pass *p)
{
	inval_template_free(p->tp);
	inval_keyset_free(p->ks);
	free(p->nkept);
	free(p->kept);
	codec_free(p->codec);
	buf_free(&p->scratch);
	if (p->c != NULL)
		chunk_free(p->c);
}

/* The figures of one CSV pass. The encode figure is the codec's time less
 * the parse alone: what mapping and encoding add to a worker's parse. */
static int csv_figures(struct bench *b, const struct cpu_pass *p, double frame_s, struct err *e)
{
	if (p->records != b->rows)
		return err_set(e, EXIT_SOFTWARE, "framed %" PRIu64 " records, not %" PRIu64, p->records, b->rows);
	if (p->bad > 0)
		return err_set(e, EXIT_SOFTWARE, "%" PRIu64 " generated records did not parse", p->bad);
	if (p->keys != b->rows)
		return err_set(e, EXIT_SOFTWARE, "%" PRIu64 " invalidation keys, not %" PRIu64, p->keys, b->rows);
	bench_figure_add(&b->stage[ST_FRAME], frame_s);
	bench_figure_add(&b->stage[ST_PARSE], p->parse_s);
	bench_figure_add(&b->stage[ST_ENCODE], p->codec_s - p->parse_s);
	bench_figure_add(&b->stage[ST_KEYS], p->keys_s);
	b->encode_deferred = p->deferred;
	b->encode_rejected = p->rejected;
	return 0;
}

/* Frame, parse, encode and keys: one pass over the CSV per run. */
static int stages_csv(struct bench *b, struct err *e)
{
	const struct dialect d = {
	    .format = FORMAT_CSV, .delimiter = ',', .quote = '"', .escape = '"', .null = "", .header = true};
	struct mapping all;
	if (transform_map_list(&all, &b->table, NULL, e) < 0)
		return -1;
	struct cpu_pass p = {.src.map = &all};
	int rc = cpu_pass_init(&p, b, &d, true, e);
	for (uint32_t run = 0; rc == 0 && run < b->runs; run++) {
		double frame_s;
		rc = cpu_pass_run(&p, b->csv, &frame_s, e);
		if (rc == 0)
			rc = csv_figures(b, &p, frame_s, e);
	}
	cpu_pass_free(&p);
	transform_free(&all);
	return rc;
}

/* NDJSON parse: the same records as JSON lines, framed, then each parsed
 * into the orders columns; only the parse is timed. */
static int stage_parse_ndjson(struct bench *b, double *secs, struct err *e)
{
	const char *names[ORDERS_FIELDS_MAX];
	bool json[ORDERS_FIELDS_MAX];
	uint32_t n = b->table.ncols < ORDERS_FIELDS_MAX ? b->table.ncols : ORDERS_FIELDS_MAX;
	for (uint32_t k = 0; k < n; k++) {
		names[k] = b->table.cols[k].enc.name;
		json[k] = false;
	}
	struct ndjson_map m;
	if (ndjson_map_init(&m, names, json, n) < 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	const struct dialect d = {.format = FORMAT_NDJSON};
	struct cpu_pass p = {.src.conf.ndjson = &m};
	double frame_s;
	int rc = cpu_pass_init(&p, b, &d, false, e);
	if (rc == 0)
		rc = cpu_pass_run(&p, b->ndjson, &frame_s, e);
	if (rc == 0 && (p.records != b->rows || p.bad > 0))
		rc = err_set(e, EXIT_SOFTWARE, "ndjson: %" PRIu64 " records, %" PRIu64 " did not parse", p.records,
			     p.bad);
	*secs = p.parse_s;
	cpu_pass_free(&p);
	ndjson_map_free(&m);
	return rc;
}

/* The reads, zstd and NDJSON figures, run by run. */
static int stages_io(struct bench *b, struct err *e)
{
	for (uint32_t run = 0; run < b->runs; run++) {
		double s;
		uint64_t bytes;
		if (stage_read(b->csv, false, &s, &bytes, e) < 0)
			return -1;
		bench_figure_add(&b->stage[ST_READ_URING], s);
		if (stage_read(b->csv, true, &s, &bytes, e) < 0)
			return -1;
		bench_figure_add(&b->stage[ST_READ_PLAIN], s);
		if (stage_read(b->zst, false, &s, &bytes, e) < 0)
			return -1;
		if (bytes != b->csv_bytes)
			return err_set(e, EXIT_SOFTWARE, "zstd decode gave %" PRIu64 " bytes, not %" PRIu64, bytes,
				       b->csv_bytes);
		bench_figure_add(&b->stage[ST_ZSTD], s);
		if (stage_parse_ndjson(b, &s, e) < 0)
			return -1;
		bench_figure_add(&b->stage[ST_PARSE_NDJSON], s);
	}
	return 0;
}

int bench_stages(struct bench *b, struct err *e)
{
	static const struct {
		enum stage_id id;
		const char *key, *label;
	} names[ST_COUNT] = {
	    {ST_READ_URING, "read_io_uring", "read, io_uring"},
	    {ST_READ_PLAIN, "read_plain", "read, read(2)"},
	    {ST_FRAME, "frame", "frame into chunks"},
	    {ST_PARSE, "parse", "parse csv"},
	    {ST_PARSE_NDJSON, "parse_ndjson", "parse ndjson"},
	    {ST_ENCODE, "encode", "encode binary COPY (null sink)"},
	    {ST_KEYS, "invalidation_keys", "invalidation keys (render, dedupe)"},
	    {ST_ZSTD, "zstd_decode", "zstd decode (io_uring read)"},
	};
	for (int i = 0; i < ST_COUNT; i++) {
		struct figure *f = &b->stage[names[i].id];
		f->key = names[i].key;
		f->label = names[i].label;
		f->records = b->rows;
		f->bytes = names[i].id == ST_PARSE_NDJSON ? b->ndjson_bytes : b->csv_bytes;
	}
	if (stages_io(b, e) < 0)
		return -1;
	return stages_csv(b, e);
}
