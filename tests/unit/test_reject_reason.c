/* test_reject_reason.c - every kind of refusal the loader's parsers, mapping and encoders make counts under a stable key: the SQLSTATE the server gives the same message (checked against PostgreSQL 15's errcodes), or a word for a record's shape; server SQLSTATEs are their own keys; tallies merge, stay bounded and sort. The messages come from the real stages, so a reworded message that no rule knows fails here. */
#include "../../core/chunk.h"
#include "../../core/limits.h"
#include "../../stages/codec.h"
#include "../../stages/encode.h"
#include "../../stages/frame.h"
#include "../../stages/parse_ndjson.h"
#include "../../stages/reject_reason.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORDS_MAX 64u
#define CHUNK_BYTES (256u << 10)

/* A value of a column type and the key its refusal counts under. */
struct value_case {
	enum enc_kind kind;
	int32_t typmod;
	const char *value;
	const char *key;
};

static const struct value_case values[] = {
    {ENC_INT4, -1, "12x", "22P02"},
    {ENC_INT2, -1, "40000", "22003"},
    {ENC_INT8, -1, "99999999999999999999", "22003"},
    {ENC_FLOAT8, -1, "1e999", "22003"},
    {ENC_FLOAT4, -1, "abc", "22P02"},
    {ENC_NUMERIC, -1, "1.2.3", "22P02"},
    {ENC_NUMERIC, (5 << 16 | 2) + 4, "12345.6", "22003"},
    {ENC_BOOL, -1, "maybe", "22P02"},
    {ENC_VARCHAR, 3 + 4, "abcd", "22001"},
    {ENC_BPCHAR, 2 + 4, "abc", "22001"},
    {ENC_DATE, -1, "2024-13-01", "22008"},
    {ENC_TIMESTAMPTZ, -1, "2024-01-01 10:00:00+25", "22009"},
    {ENC_UUID, -1, "not-a-uuid", "22P02"},
    {ENC_JSONB, -1, "{\"a\":", "22P02"},
    {ENC_JSONB, -1, "\"\\u0000\"", "22P05"},
    {ENC_BYTEA, -1, "\\xzz", "22023"},
    {ENC_BYTEA, -1, "\\x123", "22023"},
};

/* A value refused by the encoders counts as the server counts the same
 * value refused in text COPY. */
static void test_values(void)
{
	struct enc_session sess = {.tz_utc = true};
	struct buf out;
	CU_ASSERT_EQUAL_FATAL(buf_init(&out, 256), 0);
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		const struct value_case *v = &values[i];
		struct enc_column col = {.kind = v->kind, .typmod = v->typmod};
		char msg[512] = "";
		out.len = 0;
		enum enc_status st = encode_binary(&col, &sess, v->value, strlen(v->value), &out, msg, sizeof msg);
		const char *key = reject_reason(NULL, msg);
		if (st != ENC_REJECT || strcmp(key, v->key) != 0)
			fprintf(stderr, "\n%s: status %d, message \"%s\", key %s, expected %s\n", v->value, st, msg,
				key, v->key);
		CU_ASSERT_EQUAL(st, ENC_REJECT);
		CU_ASSERT_STRING_EQUAL(key, v->key);
	}
	buf_free(&out);
}

/* What the codec refused in a chunk, by record. */
static char keys[RECORDS_MAX][REJECT_REASON_BYTES];
static char msgs[RECORDS_MAX][256];
static uint32_t nrejected;

static void on_reject(void *ctx, uint32_t rec, const char *column, const char *message)
{
	(void)ctx;
	(void)column;
	snprintf(keys[rec], sizeof keys[0], "%s", reject_reason(NULL, message));
	snprintf(msgs[rec], sizeof msgs[0], "%s", message);
	nrejected++;
}

static struct table_column cols[2];
static struct table_info tbl;

/* id int4, name text. */
static void setup_table(void)
{
	memset(cols, 0, sizeof cols);
	memset(&tbl, 0, sizeof tbl);
	strcpy(cols[0].enc.name, "id");
	cols[0].enc.kind = ENC_INT4;
	strcpy(cols[1].enc.name, "name");
	cols[1].enc.kind = ENC_TEXT;
	tbl.cols = cols;
	tbl.ncols = 2;
	tbl.all_binary = true;
	strcpy(tbl.sql_name, "public.t");
	strcpy(tbl.display, "public.t");
	memset(keys, 0, sizeof keys);
	nrejected = 0;
}

/* Runs text, framed as the reader frames it, through the codec; expect[i]
 * is the key of record i, NULL when it loads. */
static void check_chunk(const struct dialect *d, const struct ndjson_map *nm, const char *text, uint32_t nrecords,
			const char *const *expect)
{
	setup_table();
	struct mapping m;
	struct err e;
	CU_ASSERT_EQUAL_FATAL(transform_map_list(&m, &tbl, NULL, &e), 0);
	struct codec_source s = {
	    .format = format_ops_for(d->format), .conf = {.dialect = d, .ndjson = nm}, .map = &m, .table = &tbl};
	struct framer *fr = frame_create(d, RECORDS_MAX, CHUNK_BYTES, RECORD_BYTES_DEFAULT);
	struct chunk *c = chunk_create(RECORDS_MAX, CHUNK_BYTES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	size_t used = 0;
	frame_feed(fr, c, text, strlen(text), &used);
	CU_ASSERT_EQUAL(used, strlen(text));
	CU_ASSERT_EQUAL(frame_finish(fr, c), FRAME_CHUNK);
	CU_ASSERT_EQUAL_FATAL(c->nrecords, nrecords);
	struct codec *k = codec_create(RECORDS_MAX, CHUNK_BYTES, RECORD_BYTES_DEFAULT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	struct sink_batch b;
	struct codec_stats st;
	CU_ASSERT_EQUAL_FATAL(codec_encode_chunk(k, &s, c, &(struct codec_hooks){.reject = on_reject}, &b, &st), 0);
	for (uint32_t i = 0; i < nrecords; i++) {
		const char *want = expect[i] ? expect[i] : "";
		if (strcmp(keys[i], want) != 0)
			fprintf(stderr, "\nrecord %u: message \"%s\", key \"%s\", expected \"%s\"\n", i, msgs[i],
				keys[i], want);
		CU_ASSERT_STRING_EQUAL(keys[i], want);
	}
	codec_free(k);
	chunk_free(c);
	frame_free(fr);
	transform_free(&m);
}

/* CSV: the field count, quotes, line ends and encoding. */
static void test_csv_records(void)
{
	const struct dialect csv = {
	    .format = FORMAT_CSV, .delimiter = ',', .quote = '"', .escape = '"', .null = "", .null_len = 0};
	const char text[] = "1,a\n"
			    "2,b,extra\n"
			    "3\n"
			    "x,c\n"
			    "4,\xff\n"
			    "5,d\r\n"
			    "6,\"open\n";
	const char *const expect[] = {NULL,    REJECT_REASON_TOO_MANY_COLUMNS, REJECT_REASON_TOO_FEW_COLUMNS, "22P02",
				      "22021", REJECT_REASON_MALFORMED,        REJECT_REASON_MALFORMED};
	check_chunk(&csv, NULL, text, 7, expect);
}

/* Text format: its own line-end and marker messages. */
static void test_text_records(void)
{
	const struct dialect txt = {.format = FORMAT_TEXT, .delimiter = '\t', .null = "\\N", .null_len = 2};
	const char text[] = "1\ta\n"
			    "2\tb\tc\n"
			    "3\tb\\.x\n"
			    "4\tb\r\n"
			    "5\t\\x00\n";
	const char *const expect[] = {NULL, REJECT_REASON_TOO_MANY_COLUMNS, REJECT_REASON_MALFORMED,
				      REJECT_REASON_MALFORMED, "22021"};
	check_chunk(&txt, NULL, text, 5, expect);
}

/* NDJSON: json_populate_record's refusals. */
static void test_ndjson_records(void)
{
	const char *names[] = {"id", "name"};
	const bool json[] = {false, false};
	struct ndjson_map nm;
	CU_ASSERT_EQUAL_FATAL(ndjson_map_init(&nm, names, json, 2), 0);
	const struct dialect nd = {.format = FORMAT_NDJSON};
	/* Nesting past the loader's depth limit. */
	size_t depth = 10001;
	char *text = malloc(4 * depth + 256);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	char *p =
	    text + sprintf(text, "{\"id\":1}\n5\n[1]\n{\"id\":\n{\"name\":\"\\u0000\"}\n{\"id\":\"x\"}\n{\"name\":");
	for (size_t i = 0; i < depth; i++)
		*p++ = '[';
	for (size_t i = 0; i < depth; i++)
		*p++ = ']';
	strcpy(p, "}\n");
	const char *const expect[] = {NULL, "22023", "22023", "22P02", "22P05", "22P02", "54001"};
	check_chunk(&nd, &nm, text, 7, expect);
	free(text);
	ndjson_map_free(&nm);
}

/* The server's SQLSTATE wins; an unknown message is "other"; a record too
 * long for a chunk has its own word. */
static void test_keys(void)
{
	CU_ASSERT_STRING_EQUAL(reject_reason("23505", "duplicate key value violates unique constraint \"t_pkey\""),
			       "23505");
	CU_ASSERT_STRING_EQUAL(reject_reason("P0001", "raised by a trigger"), "P0001");
	CU_ASSERT_STRING_EQUAL(reject_reason(NULL, "something new"), REJECT_REASON_OTHER);
	CU_ASSERT_STRING_EQUAL(reject_reason("", "invalid input syntax for type integer: \"x\""), "22P02");
	CU_ASSERT_STRING_EQUAL(reject_reason(NULL, NULL), REJECT_REASON_OTHER);
	CU_ASSERT_STRING_EQUAL(reject_reason(NULL, "record is longer than 1048576 bytes (--max-record-bytes)"),
			       REJECT_REASON_TOO_LONG);
	CU_ASSERT_STRING_EQUAL(reject_reason(NULL, "character with byte sequence 0x80 in encoding \"WIN1252\" has no "
						   "equivalent in encoding \"UTF8\""),
			       "22P05");
}

/* Counts add up per key, merge across tallies, sort by key, and past the
 * bound go to "other" without losing any. */
static void test_tally(void)
{
	struct reject_tally a = {0}, b = {0};
	reject_tally_add(&a, "too many columns", 2);
	reject_tally_add(&a, "22P02", 1);
	reject_tally_add(&a, "22P02", 2);
	reject_tally_add(&a, "23505", 0);
	reject_tally_add(&b, "22P02", 4);
	reject_tally_add(&b, "23505", 1);
	reject_tally_merge(&a, &b);
	reject_tally_sort(&a);
	CU_ASSERT_EQUAL_FATAL(a.n, 3);
	CU_ASSERT_STRING_EQUAL(a.e[0].key, "22P02");
	CU_ASSERT_EQUAL(a.e[0].count, 7);
	CU_ASSERT_STRING_EQUAL(a.e[1].key, "23505");
	CU_ASSERT_EQUAL(a.e[1].count, 1);
	CU_ASSERT_STRING_EQUAL(a.e[2].key, "too many columns");
	CU_ASSERT_EQUAL(a.e[2].count, 2);

	struct reject_tally full = {0};
	uint64_t total = 0;
	for (unsigned i = 0; i < 2 * REJECT_REASONS_MAX; i++) {
		char key[8];
		snprintf(key, sizeof key, "K%04u", i);
		reject_tally_add(&full, key, i + 1);
		total += i + 1;
	}
	CU_ASSERT_EQUAL(full.n, REJECT_REASONS_MAX);
	uint64_t sum = 0, other = 0;
	for (uint32_t i = 0; i < full.n; i++) {
		sum += full.e[i].count;
		if (strcmp(full.e[i].key, REJECT_REASON_OTHER) == 0)
			other = full.e[i].count;
	}
	CU_ASSERT_EQUAL(sum, total);
	CU_ASSERT_TRUE(other > 0);
	struct reject_tally again = full;
	reject_tally_merge(&again, &full);
	CU_ASSERT_EQUAL(again.n, REJECT_REASONS_MAX);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("reject_reason", NULL, NULL);
	CU_add_test(s, "values", test_values);
	CU_add_test(s, "csv records", test_csv_records);
	CU_add_test(s, "text records", test_text_records);
	CU_add_test(s, "ndjson records", test_ndjson_records);
	CU_add_test(s, "keys", test_keys);
	CU_add_test(s, "tally", test_tally);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
