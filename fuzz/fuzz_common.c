/* fuzz_common.c - the fuzz targets' table model and their load of one input through framer, parsers, mapping and encoders. */
#include "fuzz_common.h"

#include "../core/chunk.h"
#include "../core/pgtype.h"
#include "../core/table.h"
#include "../stages/charset.h"
#include "../stages/codec.h"
#include "../stages/encode.h"
#include "../stages/frame.h"
#include "../stages/parse_csv.h"
#include "../stages/parse_ndjson.h"
#include "../stages/parse_text.h"
#include "../stages/transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A column of every type the encoders know, with typmods that bite, and
 * one (interval) that has none: with it the table loads as text. */
static const struct {
	const char *name;
	uint32_t oid;
	int32_t typmod;
} columns[] = {
    {"i2", OID_INT2, -1},
    {"i4", OID_INT4, -1},
    {"i8", OID_INT8, -1},
    {"f4", OID_FLOAT4, -1},
    {"f8", OID_FLOAT8, -1},
    {"n", OID_NUMERIC, ((10 << 16) | 2) + VARHDRSZ},
    {"nn", OID_NUMERIC, -1},
    {"b", OID_BOOL, -1},
    {"t", OID_TEXT, -1},
    {"vc", OID_VARCHAR, 5 + VARHDRSZ},
    {"bp", OID_BPCHAR, 3 + VARHDRSZ},
    {"d", OID_DATE, -1},
    {"ts", OID_TIMESTAMP, -1},
    {"ts3", OID_TIMESTAMP, 3},
    {"tz", OID_TIMESTAMPTZ, -1},
    {"u", OID_UUID, -1},
    {"j", OID_JSON, -1},
    {"jb", OID_JSONB, -1},
    {"by", OID_BYTEA, -1},
    {"iv", OID_INTERVAL, -1},
};
#define NCOLS (sizeof columns / sizeof columns[0])
_Static_assert(NCOLS == FUZZ_COLUMNS, "FUZZ_COLUMNS counts the table's columns");

void fuzz_table(struct table_info *t, struct table_column *cols, const struct fuzz_flags *fl)
{
	memset(t, 0, sizeof *t);
	memset(cols, 0, NCOLS * sizeof *cols);
	t->ncols = fl->text_only ? NCOLS : NCOLS - 1;
	t->all_binary = true;
	for (uint32_t i = 0; i < t->ncols; i++) {
		struct enc_column *c = &cols[i].enc;
		snprintf(c->name, sizeof c->name, "%s", columns[i].name);
		c->type_oid = columns[i].oid;
		c->typmod = columns[i].typmod;
		c->kind = encode_kind_for(c->type_oid);
		if (c->kind == ENC_NONE)
			t->all_binary = false;
	}
	t->cols = cols;
	t->session.tz_utc = fl->tz_utc;
	snprintf(t->sql_name, sizeof t->sql_name, "\"public\".\"fuzz\"");
	snprintf(t->display, sizeof t->display, "public.fuzz");
}

bool fuzz_flags_take(const uint8_t **data, size_t *size, struct fuzz_flags *fl)
{
	if (*size < 2)
		return false;
	uint8_t a = (*data)[0], b = (*data)[1];
	fl->header = a & 1;
	fl->tz_utc = (a >> 1) & 1;
	fl->text_only = (a >> 2) & 1;
	fl->variant = (a >> 3) & 3;
	fl->encoding = (a >> 5) & 3;
	*data += 2;
	*size -= 2;
	fl->split = *size > 0 ? b % (*size + 1) : 0;
	return true;
}

static void check_open(bool ok, const char *msg)
{
	if (!ok) {
		fprintf(stderr, "fuzz set-up: %s\n", msg);
		abort();
	}
}

const struct charset *fuzz_charset(const struct fuzz_flags *fl)
{
	static const char *const names[4] = {"UTF8", "LATIN1", "WIN1252", "KOI8R"};
	static struct charset *open[4];
	static bool tried[4];
	unsigned i = fl->encoding & 3;
	if (!tried[i]) {
		char msg[256];
		tried[i] = true;
		check_open(charset_open(names[i], &open[i], msg, sizeof msg) == CHARSET_OK, msg);
	}
	return open[i];
}

/* What one load holds. */
struct fuzz_load {
	const struct dialect *d;
	struct table_info *t;
	struct mapping map;
	struct ndjson_map nd;
	bool mapped, nd_made, failed;
	struct codec_source src;
	struct codec *codec;
};

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz invariant broken: %s\n", what);
		abort();
	}
}

static int32_t be32_at(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (int32_t)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3]);
}

/* A binary COPY tuple: int16 field count, then per field an int32 length
 * (-1: NULL) and that many bytes, ending exactly at its end. */
static void check_tuple(const char *p, size_t n, uint32_t nfields)
{
	check(n >= 2, "a tuple holds its field count");
	check((uint32_t)((unsigned char)p[0] << 8 | (unsigned char)p[1]) == nfields, "a tuple has every field");
	size_t off = 2;
	for (uint32_t i = 0; i < nfields; i++) {
		check(off + 4 <= n, "a field's length is inside its tuple");
		int32_t len = be32_at(p + off);
		off += 4;
		check(len >= -1, "a field's length is -1 or more");
		if (len > 0) {
			check((size_t)len <= n - off, "a field's bytes are inside its tuple");
			off += (size_t)len;
		}
	}
	check(off == n, "a tuple ends with its last field");
}

static void encode_chunk(struct fuzz_load *l, const struct chunk *c)
{
	struct sink_batch b;
	struct codec_stats st;
	struct codec_hooks h = {0};
	check(codec_encode_chunk(l->codec, &l->src, c, &h, &b, &st) == 0, "the codec takes the chunk");
	check(b.next == 0, "no value is left in place in inputs this short");
	check(st.rejected + b.nbin + b.ntxt == c->nrecords, "each record is rejected, binary or text");
	for (uint32_t i = 0; i < b.nbin; i++) {
		check(b.bin_off[i] <= b.bin_off[i + 1] && b.bin_off[i + 1] <= b.bin->len, "tuple offsets in order");
		check_tuple(b.bin->data + b.bin_off[i], b.bin_off[i + 1] - b.bin_off[i], l->map.nfields);
	}
	for (uint32_t i = 0; i < b.ntxt; i++) {
		const char *end = b.txt->data + b.txt_off[i + 1];
		check(b.txt_off[i] < b.txt_off[i + 1] && end[-1] == '\n', "a text line ends with its newline");
	}
}

/* The codec's view of the source, once its mapping is known. */
static void source_ready(struct fuzz_load *l)
{
	if (l->d->format == FORMAT_NDJSON) {
		const char *names[FUZZ_FIELDS_MAX];
		bool json[FUZZ_FIELDS_MAX];
		for (uint32_t k = 0; k < l->map.nfields; k++) {
			const struct enc_column *col = &l->t->cols[l->map.col[k]].enc;
			names[k] = col->name;
			json[k] = col->type_oid == OID_JSON || col->type_oid == OID_JSONB;
		}
		check(ndjson_map_init(&l->nd, names, json, l->map.nfields) == 0, "memory for the NDJSON keys");
		l->nd_made = true;
	}
	l->src = (struct codec_source){
	    .format = format_ops_for(l->d->format),
	    .conf = {.dialect = l->d, .ndjson = l->nd_made ? &l->nd : NULL},
	    .map = &l->map,
	    .table = l->t,
	};
	l->mapped = true;
}

/* The header's names to columns; a header that names no column of the
 * table ends the load, as it does the loader's. */
static void map_header(struct fuzz_load *l, const struct framer *f)
{
	const char *p;
	size_t len;
	frame_header(f, &p, &len);
	struct field names[FUZZ_FIELDS_MAX];
	struct buf scratch;
	check(buf_init(&scratch, len + 1) == 0, "memory for the header");
	char msg[256];
	struct err e;
	int n = l->d->format == FORMAT_TEXT
		    ? text_parse_record(l->d, p, len, names, FUZZ_FIELDS_MAX, &scratch, msg, sizeof msg)
		    : csv_parse_record(l->d, p, len, names, FUZZ_FIELDS_MAX, &scratch, msg, sizeof msg);
	if (n < 0 || transform_map_header(&l->map, l->t, names, (uint32_t)n, "fuzz", &e) < 0)
		l->failed = true;
	else
		source_ready(l);
	buf_free(&scratch);
}

/* Frames p[0..n) into c; encodes each chunk. Returns false at the end of
 * the data ("\." alone on a line) or when the load stops. */
static bool feed(struct fuzz_load *l, struct framer *f, struct chunk *c, const char *p, size_t n)
{
	size_t off = 0;
	while (off < n && !l->failed) {
		size_t used = 0;
		enum frame_event ev = frame_feed(f, c, p + off, n - off, &used);
		off += used;
		if (ev == FRAME_HEADER)
			map_header(l, f);
		if (ev == FRAME_GROW)
			check(chunk_grow(c, frame_grow_bytes(f)) == 0, "memory for a record longer than a chunk");
		if (ev == FRAME_CHUNK) {
			check(l->mapped, "a chunk comes after the mapping");
			encode_chunk(l, c);
			/* As a worker does: a grown chunk's memory goes with it. */
			chunk_reset(c);
			codec_trim(l->codec);
		}
		if (ev == FRAME_END)
			return false;
	}
	return !l->failed;
}

void fuzz_load(const struct dialect *d, const struct fuzz_flags *fl, const uint8_t *data, size_t size)
{
	struct table_column cols[NCOLS];
	struct table_info t;
	fuzz_table(&t, cols, fl);
	struct fuzz_load l = {.d = d, .t = &t};
	struct err e;
	struct framer *f = frame_create(d, FUZZ_BATCH_ROWS, FUZZ_CHUNK_BYTES, FUZZ_RECORD_BYTES_MAX);
	struct chunk *c = chunk_create(FUZZ_BATCH_ROWS, FUZZ_CHUNK_BYTES);
	l.codec = codec_create(FUZZ_BATCH_ROWS, FUZZ_CHUNK_BYTES, FUZZ_RECORD_BYTES_MAX);
	check(f != NULL && c != NULL && l.codec != NULL, "memory for the framer, chunk and codec");
	if (!d->header) {
		check(transform_map_list(&l.map, &t, NULL, &e) == 0, "every column maps");
		source_ready(&l);
	}
	const char *p = (const char *)data;
	if (feed(&l, f, c, p, fl->split) && feed(&l, f, c, p + fl->split, size - fl->split)) {
		enum frame_event ev = frame_finish(f, c);
		if (ev == FRAME_HEADER)
			map_header(&l, f);
		else if (ev == FRAME_CHUNK && l.mapped)
			encode_chunk(&l, c);
	}
	if (l.nd_made)
		ndjson_map_free(&l.nd);
	transform_free(&l.map);
	codec_free(l.codec);
	chunk_free(c);
	frame_free(f);
}

int fuzz_line_format(const struct dialect variants[4], const uint8_t *data, size_t size)
{
	struct fuzz_flags fl;
	if (!fuzz_flags_take(&data, &size, &fl))
		return 0;
	struct dialect d = variants[fl.variant];
	d.header = fl.header;
	d.charset = fuzz_charset(&fl);
	fuzz_load(&d, &fl, data, size);
	return 0;
}
