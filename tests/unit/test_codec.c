/* test_codec.c - a chunk goes through the codec as a worker sends it: good records as binary tuples, undecidable ones as text lines, bad ones to the reject hook with their column, every accepted record to the accept hook in record order, upserts with each record's index. */
#include "../../core/chunk.h"
#include "../../core/limits.h"
#include "../../stages/codec.h"
#include "../../stages/encode.h"
#include "../../stages/frame.h"
#include "../../stages/parse_ndjson.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORDS_MAX 64u
#define CHUNK_BYTES (64u << 10)

/* id int4, name text, at timestamptz, in a session whose zone is not UTC:
 * a timestamptz without an offset is left to the server. */
static struct table_column cols[3];
static struct table_info tbl;
static const struct dialect csv = {
    .format = FORMAT_CSV, .delimiter = ',', .quote = '"', .escape = '"', .null = "", .null_len = 0};

/* What the hooks saw. */
static uint32_t rejected_rec[RECORDS_MAX], accepted_rec[RECORDS_MAX];
static char rejected_col[RECORDS_MAX][64], rejected_msg[RECORDS_MAX][256];
static uint32_t nrejected, naccepted, accepted_nfields;
static int stop_at = -1; /* the accept hook says stop at this record */

static void on_reject(void *ctx, uint32_t rec, const char *column, const char *message)
{
	(void)ctx;
	rejected_rec[nrejected] = rec;
	snprintf(rejected_col[nrejected], sizeof rejected_col[0], "%s", column ? column : "");
	snprintf(rejected_msg[nrejected], sizeof rejected_msg[0], "%s", message);
	nrejected++;
}

static int on_accept(void *ctx, uint32_t rec, const struct field *fields, uint32_t nfields)
{
	(void)ctx;
	(void)fields;
	if ((int)rec == stop_at)
		return -1;
	accepted_rec[naccepted++] = rec;
	accepted_nfields = nfields;
	return 0;
}

static const struct codec_hooks hooks = {.reject = on_reject, .accept = on_accept};

static void setup_table(void)
{
	memset(cols, 0, sizeof cols);
	memset(&tbl, 0, sizeof tbl);
	strcpy(cols[0].enc.name, "id");
	cols[0].enc.kind = ENC_INT4;
	strcpy(cols[1].enc.name, "name");
	cols[1].enc.kind = ENC_TEXT;
	strcpy(cols[2].enc.name, "at");
	cols[2].enc.kind = ENC_TIMESTAMPTZ;
	cols[2].enc.typmod = -1;
	tbl.cols = cols;
	tbl.ncols = 3;
	tbl.all_binary = true;
	strcpy(tbl.sql_name, "public.t");
	strcpy(tbl.display, "public.t");
	nrejected = naccepted = accepted_nfields = 0;
	stop_at = -1;
}

/* The records of text, framed as the reader frames them. */
static struct chunk *frame_all(const struct dialect *d, const char *text)
{
	struct framer *fr = frame_create(d, RECORDS_MAX, CHUNK_BYTES, RECORD_BYTES_DEFAULT);
	struct chunk *c = chunk_create(RECORDS_MAX, CHUNK_BYTES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	size_t used = 0;
	CU_ASSERT_EQUAL(frame_feed(fr, c, text, strlen(text), &used), FRAME_MORE);
	CU_ASSERT_EQUAL(used, strlen(text));
	CU_ASSERT_EQUAL(frame_finish(fr, c), FRAME_CHUNK);
	frame_free(fr);
	return c;
}

static const char orders[] = "1,alpha,2024-01-01 10:00:00+00\n"
			     "x,beta,2024-01-01 10:00:00+00\n"
			     "3,\"ga,mma\",2024-01-01 10:00:00\n"
			     "4,delta\n"
			     "5,,2024-01-01 10:00:00+00\n";

static uint16_t be16_at(const struct buf *b, size_t off)
{
	return (uint16_t)((unsigned char)b->data[off] << 8 | (unsigned char)b->data[off + 1]);
}

/* Binary, deferred and rejected records land where a worker expects them. */
static void test_csv_chunk(void)
{
	setup_table();
	struct mapping m;
	struct err e;
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, NULL, &e), 0);
	struct codec_source s = {
	    .format = format_ops_for(FORMAT_CSV), .conf = {.dialect = &csv}, .map = &m, .table = &tbl};
	struct chunk *c = frame_all(&csv, orders);
	struct codec *k = codec_create(RECORDS_MAX, CHUNK_BYTES, RECORD_BYTES_DEFAULT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	struct sink_batch b;
	struct codec_stats st;
	CU_ASSERT_EQUAL_FATAL(codec_encode_chunk(k, &s, c, &hooks, &b, &st), 0);
	CU_ASSERT_EQUAL(st.rejected, 2);
	CU_ASSERT_EQUAL(nrejected, 2);
	CU_ASSERT_EQUAL(rejected_rec[0], 1);
	CU_ASSERT_STRING_EQUAL(rejected_col[0], "id");
	CU_ASSERT_STRING_EQUAL(rejected_msg[0], "invalid input syntax for type integer: \"x\"");
	CU_ASSERT_EQUAL(rejected_rec[1], 3);
	CU_ASSERT_STRING_EQUAL(rejected_col[1], "at");
	CU_ASSERT_STRING_EQUAL(rejected_msg[1], "missing data for column \"at\"");
	/* Accepted in record order, binary and deferred alike. */
	CU_ASSERT_EQUAL(naccepted, 3);
	CU_ASSERT_EQUAL(accepted_rec[0], 0);
	CU_ASSERT_EQUAL(accepted_rec[1], 2);
	CU_ASSERT_EQUAL(accepted_rec[2], 4);
	CU_ASSERT_EQUAL(accepted_nfields, 3);
	CU_ASSERT_EQUAL_FATAL(b.nbin, 2);
	CU_ASSERT_EQUAL(b.bin_rec[0], 0);
	CU_ASSERT_EQUAL(b.bin_rec[1], 4);
	CU_ASSERT_EQUAL(be16_at(b.bin, b.bin_off[0]), 3);
	CU_ASSERT_EQUAL(be16_at(b.bin, b.bin_off[1]), 3);
	CU_ASSERT_EQUAL(b.bin_off[2], b.bin->len);
	CU_ASSERT_EQUAL_FATAL(b.ntxt, 1);
	CU_ASSERT_EQUAL(b.txt_rec[0], 2);
	CU_ASSERT_EQUAL(b.txt->len, strlen("3\tga,mma\t2024-01-01 10:00:00\n"));
	CU_ASSERT_NSTRING_EQUAL(b.txt->data, "3\tga,mma\t2024-01-01 10:00:00\n", b.txt->len);
	CU_ASSERT_PTR_NULL(b.before_commit);
	CU_ASSERT_PTR_NULL(b.ledger_source_id);
	/* A record parses again the same way, for the keys of a retry. */
	const struct field *f;
	uint64_t unknown = 0;
	char msg[256];
	const char *column;
	CU_ASSERT_EQUAL(codec_parse_record(k, &s, c, 2, &f, &unknown, msg, sizeof msg, &column), 3);
	CU_ASSERT_EQUAL(f[1].len, 6);
	CU_ASSERT_NSTRING_EQUAL(f[1].ptr, "ga,mma", 6);
	CU_ASSERT_EQUAL(codec_parse_record(k, &s, c, 3, &f, &unknown, msg, sizeof msg, &column), -1);
	CU_ASSERT_STRING_EQUAL(column, "at");
	codec_free(k);
	chunk_free(c);
	transform_free(&m);
}

/* Upserts: each tuple and line ends with its record's index; the accept
 * hook's stop ends the chunk. */
static void test_upsert_and_stop(void)
{
	setup_table();
	struct mapping m;
	struct err e;
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, NULL, &e), 0);
	char *stage_sql = m.stage_sql;
	m.stage_sql = "CREATE TEMP TABLE s ()"; /* only its presence matters here */
	struct codec_source s = {
	    .format = format_ops_for(FORMAT_CSV), .conf = {.dialect = &csv}, .map = &m, .table = &tbl};
	struct chunk *c = frame_all(&csv, orders);
	struct codec *k = codec_create(RECORDS_MAX, CHUNK_BYTES, RECORD_BYTES_DEFAULT);
	struct sink_batch b;
	struct codec_stats st;
	CU_ASSERT_EQUAL_FATAL(codec_encode_chunk(k, &s, c, &hooks, &b, &st), 0);
	CU_ASSERT_EQUAL_FATAL(b.nbin, 2);
	size_t end = b.bin_off[2];
	CU_ASSERT_EQUAL(be16_at(b.bin, b.bin_off[1]), 4);
	/* int4 field: length 4, then 4 (the record's index). */
	CU_ASSERT_EQUAL(memcmp(b.bin->data + end - 8, "\0\0\0\4\0\0\0\4", 8), 0);
	CU_ASSERT_NSTRING_EQUAL(b.txt->data, "3\tga,mma\t2024-01-01 10:00:00\t2\n", b.txt->len);
	setup_table();
	stop_at = 2;
	CU_ASSERT_EQUAL(codec_encode_chunk(k, &s, c, &hooks, &b, &st), -1);
	CU_ASSERT_EQUAL(naccepted, 1);
	m.stage_sql = stage_sql;
	codec_free(k);
	chunk_free(c);
	transform_free(&m);
}

/* NDJSON goes through its own format: keys naming no column are counted,
 * a malformed line is rejected, and so is a record too long for a chunk. */
static void test_ndjson_chunk(void)
{
	setup_table();
	struct mapping m;
	struct err e;
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, NULL, &e), 0);
	const char *names[] = {"id", "name", "at"};
	const bool json[] = {false, false, false};
	struct ndjson_map nm;
	CU_ASSERT_EQUAL_FATAL(ndjson_map_init(&nm, names, json, 3), 0);
	const struct dialect nd = {.format = FORMAT_NDJSON};
	struct codec_source s = {
	    .format = format_ops_for(FORMAT_NDJSON), .conf = {.dialect = &nd, .ndjson = &nm}, .map = &m, .table = &tbl};
	CU_ASSERT_STRING_EQUAL(s.format->name, "ndjson");
	struct chunk *c = frame_all(&nd, "{\"id\":1,\"x\":2,\"y\":3}\n\n{\"id\":\n{\"id\":7}\n");
	CU_ASSERT_EQUAL_FATAL(c->nrecords, 3);
	c->rec_flags[2] |= REC_TOO_LONG;
	struct codec *k = codec_create(RECORDS_MAX, CHUNK_BYTES, RECORD_BYTES_DEFAULT);
	struct sink_batch b;
	struct codec_stats st;
	CU_ASSERT_EQUAL_FATAL(codec_encode_chunk(k, &s, c, &hooks, &b, &st), 0);
	CU_ASSERT_EQUAL(st.unknown_keys, 2);
	CU_ASSERT_EQUAL(b.nbin, 1);
	CU_ASSERT_EQUAL_FATAL(nrejected, 2);
	CU_ASSERT_STRING_EQUAL(rejected_msg[0], "invalid input syntax for type json");
	CU_ASSERT_STRING_EQUAL(rejected_msg[1], "record is longer than 268435456 bytes (--max-record-bytes)");
	codec_free(k);
	chunk_free(c);
	ndjson_map_free(&nm);
	transform_free(&m);
}

/* The bytes binary tuples [0, b->nbin) put on the wire, extents spliced in as sink_pg.h says; malloc'd, length in
 * *len. */
static char *wire_tuples(const struct sink_batch *b, size_t *len)
{
	size_t at = b->bin_off[0], end = b->bin_off[b->nbin], n = 0, total = end - at;
	for (uint32_t x = 0; x < b->next; x++)
		total += b->ext[x].len;
	char *out = malloc(total + 1);
	for (uint32_t x = 0; x < b->next; x++) {
		const struct sink_extent *ex = &b->ext[x];
		CU_ASSERT(ex->at > at);
		CU_ASSERT(ex->at <= end);
		memcpy(out + n, b->bin->data + at, ex->at - at);
		n += ex->at - at;
		memcpy(out + n, ex->p, ex->len);
		n += ex->len;
		at = ex->at;
	}
	memcpy(out + n, b->bin->data + at, end - at);
	*len = n + end - at;
	return out;
}

/* Appends the tuple the encoders make of one record's id, name and at to out. */
static void expect_tuple(struct buf *out, const char *id, const char *name, size_t name_len, const char *at)
{
	char msg[256];
	encode_tuple_begin(out, 3);
	CU_ASSERT_EQUAL(encode_binary(&cols[0].enc, &tbl.session, id, strlen(id), out, msg, sizeof msg), ENC_OK);
	CU_ASSERT_EQUAL(encode_binary(&cols[1].enc, &tbl.session, name, name_len, out, msg, sizeof msg), ENC_OK);
	CU_ASSERT_EQUAL(encode_binary(&cols[2].enc, &tbl.session, at, strlen(at), out, msg, sizeof msg), ENC_OK);
}

#define BIG_VALUE_BYTES ((size_t)300 << 10)

/* Long text values are sent from where they lie, and the bytes on the wire are the encoders' own: in a chunk of
 * several records from the chunk's bytes only (a value the parse rewrote is copied, and deferred or rejected records
 * leave no extent); in a chunk of one record also from the parse's scratch, which a second parse of the record (the
 * keys of a retry) leaves as it was. */
static void test_long_values_spliced(void)
{
	setup_table();
	struct mapping m;
	struct err e;
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, NULL, &e), 0);
	struct codec_source s = {
	    .format = format_ops_for(FORMAT_CSV), .conf = {.dialect = &csv}, .map = &m, .table = &tbl};
	size_t big = BIG_VALUE_BYTES, cap = 8 * big;
	char *plain = malloc(big), *quoted = malloc(big);
	memset(plain, 'p', big);
	for (size_t i = 0; i < big; i++)
		quoted[i] = i % 100 == 0 ? '"' : 'q';
	char *in = malloc(cap);
	const char *ts = "2024-01-01 10:00:00+00";
	size_t n = (size_t)sprintf(in, "1,");
	memcpy(in + n, plain, big);
	n += big;
	n += (size_t)sprintf(in + n, ",%s\n2,\"", ts);
	for (size_t i = 0; i < big; i++) {
		in[n++] = quoted[i];
		if (quoted[i] == '"')
			in[n++] = '"';
	}
	n += (size_t)sprintf(in + n, "\",%s\n3,", ts);
	memcpy(in + n, plain, big);
	n += big;
	n += (size_t)sprintf(in + n, ",2024-01-01 10:00:00\nx,");
	memcpy(in + n, plain, big);
	n += big;
	n += (size_t)sprintf(in + n, ",%s\n5,small,%s\n", ts, ts);
	struct framer *fr = frame_create(&csv, RECORDS_MAX, cap, RECORD_BYTES_DEFAULT);
	struct chunk *c = chunk_create(RECORDS_MAX, cap);
	size_t used;
	CU_ASSERT_EQUAL(frame_feed(fr, c, in, n, &used), FRAME_MORE);
	CU_ASSERT_EQUAL_FATAL(frame_finish(fr, c), FRAME_CHUNK);
	frame_free(fr);
	CU_ASSERT_EQUAL_FATAL(c->nrecords, 5);
	struct codec *k = codec_create(RECORDS_MAX, cap, RECORD_BYTES_DEFAULT);
	struct sink_batch b;
	struct codec_stats st;
	CU_ASSERT_EQUAL_FATAL(codec_encode_chunk(k, &s, c, &hooks, &b, &st), 0);
	CU_ASSERT_EQUAL(b.nbin, 3);
	CU_ASSERT_EQUAL(b.ntxt, 1);
	CU_ASSERT_EQUAL(st.rejected, 1);
	CU_ASSERT_EQUAL_FATAL(b.next, 1);
	CU_ASSERT(b.ext[0].p >= c->data && b.ext[0].p < c->data + c->data_len);
	CU_ASSERT_EQUAL(b.ext[0].len, big);
	/* Only the quoted value was copied into the tuples. */
	CU_ASSERT(b.bin->len < 2 * big);
	struct buf want;
	CU_ASSERT_EQUAL_FATAL(buf_init(&want, 4 * big), 0);
	expect_tuple(&want, "1", plain, big, ts);
	expect_tuple(&want, "2", quoted, big, ts);
	expect_tuple(&want, "5", "small", 5, ts);
	size_t wire_len;
	char *wire = wire_tuples(&b, &wire_len);
	CU_ASSERT_EQUAL(wire_len, want.len);
	CU_ASSERT(wire_len == want.len && memcmp(wire, want.data, want.len) == 0);
	free(wire);
	chunk_free(c);

	/* The quoted record alone in its chunk: its value is spliced from the scratch. */
	fr = frame_create(&csv, RECORDS_MAX, cap, RECORD_BYTES_DEFAULT);
	c = chunk_create(RECORDS_MAX, cap);
	size_t second = (size_t)(strstr(in, "\n2,") - in) + 1, third = (size_t)(strstr(in, "\n3,") - in) + 1;
	CU_ASSERT_EQUAL(frame_feed(fr, c, in + second, third - second, &used), FRAME_MORE);
	CU_ASSERT_EQUAL_FATAL(frame_finish(fr, c), FRAME_CHUNK);
	frame_free(fr);
	CU_ASSERT_EQUAL_FATAL(codec_encode_chunk(k, &s, c, &hooks, &b, &st), 0);
	CU_ASSERT_EQUAL_FATAL(b.next, 1);
	CU_ASSERT(b.ext[0].p < c->data || b.ext[0].p >= c->data + c->data_len);
	want.len = 0;
	expect_tuple(&want, "2", quoted, big, ts);
	const struct field *f;
	uint64_t unknown = 0;
	char msg[256];
	const char *column;
	CU_ASSERT_EQUAL(codec_parse_record(k, &s, c, 0, &f, &unknown, msg, sizeof msg, &column), 3);
	wire = wire_tuples(&b, &wire_len);
	CU_ASSERT(wire_len == want.len && memcmp(wire, want.data, want.len) == 0);
	free(wire);
	buf_free(&want);
	codec_free(k);
	chunk_free(c);
	free(in);
	free(plain);
	free(quoted);
	transform_free(&m);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("codec", NULL, NULL);
	CU_add_test(s, "csv chunk", test_csv_chunk);
	CU_add_test(s, "upsert and stop", test_upsert_and_stop);
	CU_add_test(s, "ndjson chunk", test_ndjson_chunk);
	CU_add_test(s, "long values spliced", test_long_values_spliced);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
