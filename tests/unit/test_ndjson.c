/* test_ndjson.c - NDJSON lines map to fields exactly as PostgreSQL 15's json_populate_record(null::table, line) maps them, and the framer cuts NDJSON into lines without counting blank ones. */
#include "../../core/chunk.h"
#include "../../core/limits.h"
#include "../../stages/frame.h"
#include "../../stages/parse_ndjson.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fields of a table (a int, t text, j json, jb jsonb, b bool, "A" text). */
enum { F_A, F_T, F_J, F_JB, F_B, F_UPPER, NF };
static const char *const names[NF] = {"a", "t", "j", "jb", "b", "A"};
static const bool json_cols[NF] = {false, false, true, true, false, false};

static struct ndjson_map map;
static struct field f[NF];
static struct buf scratch;
static char msg[256];
static uint32_t unknown;

static int parse_n(const char *s, size_t n)
{
	scratch.len = 0;
	msg[0] = '\0';
	unknown = 0;
	return ndjson_parse_record(&map, s, n, f, &scratch, &unknown, msg, sizeof msg);
}

static int parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static int field_is(int k, const char *want)
{
	return !f[k].null && f[k].len == strlen(want) && memcmp(f[k].ptr, want, f[k].len) == 0;
}

static int in_record(int k, const char *rec)
{
	return f[k].ptr >= rec && f[k].ptr < rec + strlen(rec);
}

/* Keys fill the column of exactly their name (case-sensitive), missing keys and JSON null are NULL, unknown keys are counted and values need no copy. */
static void test_keys_to_columns(void)
{
	const char *r = "{\"t\":\"hello\", \"A\":\"up\", \"zz\":1, \"T\":\"no\", \"b\":null}";
	CU_ASSERT_EQUAL_FATAL(parse(r), NF);
	CU_ASSERT(field_is(F_T, "hello"));
	CU_ASSERT(in_record(F_T, r));
	CU_ASSERT(field_is(F_UPPER, "up"));
	CU_ASSERT(f[F_A].null);
	CU_ASSERT(f[F_J].null);
	CU_ASSERT(f[F_B].null);
	CU_ASSERT_EQUAL(unknown, 2);
	CU_ASSERT_EQUAL(scratch.len, 0);
	CU_ASSERT_EQUAL(ndjson_map_find(&map, "jb", 2), F_JB);
	CU_ASSERT_EQUAL(ndjson_map_find(&map, "JB", 2), -1);
}

/* The last of duplicate keys wins, also when it is null. */
static void test_duplicates_last_wins(void)
{
	CU_ASSERT_EQUAL_FATAL(parse("{\"a\":1,\"a\":2}"), NF);
	CU_ASSERT(field_is(F_A, "2"));
	CU_ASSERT_EQUAL_FATAL(parse("{\"a\":1,\"a\":null}"), NF);
	CU_ASSERT(f[F_A].null);
	CU_ASSERT_EQUAL_FATAL(parse("{\"t\":\"x\\n\",\"t\":[1]}"), NF);
	CU_ASSERT(field_is(F_T, "[1]"));
	CU_ASSERT_EQUAL(unknown, 0);
}

/* Numbers keep their literal text, true and false are their words, nested values are their text as written, whatever the column. */
static void test_scalars_and_nested(void)
{
	CU_ASSERT_EQUAL_FATAL(parse("{\"a\":-1.50e+3,\"b\":true,\"t\":false,\"j\":[1,  {\"x\" : 2}], \"jb\":{ }}"), NF);
	CU_ASSERT(field_is(F_A, "-1.50e+3"));
	CU_ASSERT(field_is(F_B, "true"));
	CU_ASSERT(field_is(F_T, "false"));
	CU_ASSERT(field_is(F_J, "[1,  {\"x\" : 2}]"));
	CU_ASSERT(field_is(F_JB, "{ }"));
	CU_ASSERT_EQUAL_FATAL(parse("{\"t\":{\"a\":[1,{\"b\":null}],\"c\":\"\\u0041\"}}"), NF);
	CU_ASSERT(field_is(F_T, "{\"a\":[1,{\"b\":null}],\"c\":\"\\u0041\"}"));
	CU_ASSERT_EQUAL(unknown, 0); /* nested keys are not top-level keys */
}

/* Strings are de-escaped into scratch, surrogate pairs combined into one UTF-8 character. */
static void test_string_escapes(void)
{
	CU_ASSERT_EQUAL_FATAL(parse("{\"t\":\"q\\\"b\\\\s\\/n\\nt\\tr\\rb\\bf\\f\\u00e9\\ud83d\\ude00\\u0041\"}"), NF);
	CU_ASSERT(field_is(F_T, "q\"b\\s/n\nt\tr\rb\bf\f\xc3\xa9\xf0\x9f\x98\x80"
				"A"));
	CU_ASSERT(!in_record(F_T, "x"));
	CU_ASSERT(scratch.len > 0);
	/* Escaped keys name columns by their de-escaped text. */
	CU_ASSERT_EQUAL_FATAL(parse("{\"\\u0061\":5,\"\\u0041\":\"x\"}"), NF);
	CU_ASSERT(field_is(F_A, "5"));
	CU_ASSERT(field_is(F_UPPER, "x"));
}

/* A string into a json or jsonb column stays a JSON string, re-escaped as the server's escape_json writes it. */
static void test_json_column_strings(void)
{
	const char *r = "{\"j\":\"plain é\",\"jb\":\"x\\u00e9\\/\\n\\u001F\\u0022\\ud83d\\ude00\"}";
	CU_ASSERT_EQUAL_FATAL(parse(r), NF);
	CU_ASSERT(field_is(F_J, "\"plain é\""));
	CU_ASSERT(in_record(F_J, r));
	CU_ASSERT(field_is(F_JB, "\"x\xc3\xa9/\\n\\u001f\\\"\xf0\x9f\x98\x80\""));
}

/* \u0000 anywhere is "unsupported Unicode escape sequence" and unpaired surrogates are invalid json, even in keys the table does not have. */
static void test_unicode_escape_errors(void)
{
	CU_ASSERT_EQUAL(parse("{\"t\":\"a\\u0000b\"}"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unsupported Unicode escape sequence");
	CU_ASSERT_EQUAL(parse("{\"zz\":{\"q\":\"\\u0000\"}}"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unsupported Unicode escape sequence");
	const char *bad[] = {"{\"t\":\"\\ud83d\"}",    "{\"t\":\"\\ude00\"}",        "{\"t\":\"\\ud83dx\"}",
			     "{\"t\":\"\\ud83d\\n\"}", "{\"t\":\"\\ud83d\\ud83d\"}", "{\"zz\":[\"\\ud83d\"]}",
			     "{\"\\ud83d\":1}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CU_ASSERT_EQUAL(parse(bad[i]), -1);
		CU_ASSERT_STRING_EQUAL(msg, "invalid input syntax for type json");
	}
	CU_ASSERT_EQUAL(unknown, 0);
}

/* A line that is not an object is refused with json_populate_record's message, but a syntax error anywhere wins, as json_in runs first. */
static void test_not_an_object(void)
{
	const char *scalars[] = {"1", "null", "\"s\"", "true", " 1.5 "};
	for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
		CU_ASSERT_EQUAL(parse(scalars[i]), -1);
		CU_ASSERT_STRING_EQUAL(msg, "cannot call populate_composite on a scalar");
	}
	CU_ASSERT_EQUAL(parse("[1,\"\\u0000\"]"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "cannot call populate_composite on an array");
	CU_ASSERT_EQUAL(parse("[]"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "cannot call populate_composite on an array");
	/* The lexer meets \u0000 in the first token before the scalar is seen. */
	CU_ASSERT_EQUAL(parse("\"\\u0000\""), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unsupported Unicode escape sequence");
	CU_ASSERT_EQUAL(parse("{\"a\":\"\\u0000\", \"b\":[}"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid input syntax for type json");
	CU_ASSERT_EQUAL(parse("[1] x"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid input syntax for type json");
}

/* Malformed JSON is refused as json_in refuses it: trailing garbage, bad numbers, bad escapes, raw control characters, bad literals, unclosed containers. */
static void test_syntax_errors(void)
{
	const char *bad[] = {"{\"a\":1}x",
			     "{\"a\":01}",
			     "{\"a\":+1}",
			     "{\"a\":.5}",
			     "{\"a\":1.}",
			     "{\"a\":1e}",
			     "{\"a\":NaN}",
			     "{\"a\":\"\\x41\"}",
			     "{\"a\":\"\\u12\"}",
			     "{\"a\":\"tab\there\"}",
			     "{a:1}",
			     "{\"a\":1,}",
			     "{\"a\":[1,]}",
			     "{\"a\":tru}",
			     "{\"a\":True}",
			     "{\"a\":1",
			     "{\"a\":[1}",
			     "{\"a\" 1}",
			     "{,}",
			     "",
			     "   ",
			     "{\"a\":1}{\"a\":2}",
			     "{'a':1}",
			     "{\"a\":1x}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CU_ASSERT_EQUAL(parse(bad[i]), -1);
		CU_ASSERT_STRING_EQUAL(msg, "invalid input syntax for type json");
	}
	/* JSON white space around tokens, CR included, is fine. */
	CU_ASSERT_EQUAL(parse(" \t{ \"a\" :\t1 }\r"), NF);
	CU_ASSERT(field_is(F_A, "1"));
}

/* Invalid UTF-8 and NUL bytes are refused with COPY's encoding message before any parsing. */
static void test_encoding(void)
{
	CU_ASSERT_EQUAL(parse("{\"t\":\"bad \xff\"}"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0xff");
	CU_ASSERT_EQUAL(parse_n("{\"t\":\"\0\"}", 9), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0x00");
}

/* Nesting is followed to NDJSON_DEPTH_MAX levels, the line's object included; deeper is refused with the server's stack message. */
static void test_depth(void)
{
	size_t n = NDJSON_DEPTH_MAX; /* the object is one level */
	char *s = malloc(2 * n + 16);
	size_t len = 0;
	len += (size_t)sprintf(s, "{\"t\":");
	for (size_t i = 0; i < n - 1; i++)
		s[len++] = '[';
	for (size_t i = 0; i < n - 1; i++)
		s[len++] = ']';
	s[len++] = '}';
	CU_ASSERT_EQUAL(parse_n(s, len), NF);
	CU_ASSERT_EQUAL(f[F_T].len, 2 * (n - 1));
	len = 0;
	len += (size_t)sprintf(s, "{\"t\":");
	for (size_t i = 0; i < n; i++)
		s[len++] = '[';
	for (size_t i = 0; i < n; i++)
		s[len++] = ']';
	s[len++] = '}';
	CU_ASSERT_EQUAL(parse_n(s, len), -1);
	CU_ASSERT_STRING_EQUAL(msg, "stack depth limit exceeded");
	free(s);
}

/* Keys of 64 bytes or more never match a column and count as unknown; a map with no fields takes any object. */
static void test_long_keys_and_empty_map(void)
{
	char r[128];
	snprintf(r, sizeof r, "{\"%s\":1}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CU_ASSERT_EQUAL(parse(r), NF);
	CU_ASSERT_EQUAL(unknown, 1);
	struct ndjson_map empty;
	CU_ASSERT_EQUAL_FATAL(ndjson_map_init(&empty, NULL, NULL, 0), 0);
	uint32_t u = 0;
	scratch.len = 0;
	CU_ASSERT_EQUAL(ndjson_parse_record(&empty, "{\"a\":1}", 7, f, &scratch, &u, msg, sizeof msg), 0);
	CU_ASSERT_EQUAL(u, 1);
	ndjson_map_free(&empty);
}

/* Runs the NDJSON framer over s in pieces of step bytes with batch_rows 3;
 * returns the records framed and fills what the first chunk held. */
static uint64_t frame_all(const char *s, size_t step, uint64_t *first_line, uint64_t *byte_offset, uint32_t *nrec0,
			  char *first_rec, size_t first_cap)
{
	static const struct dialect nd = {FORMAT_NDJSON, 0, 0, 0, "", 0, false, NULL};
	struct framer *fr = frame_create(&nd, 3, 4096, RECORD_BYTES_DEFAULT);
	struct chunk *c = chunk_create(3, 4096);
	CU_ASSERT_FATAL(fr != NULL && c != NULL);
	size_t len = strlen(s), off = 0;
	int nchunks = 0;
	*nrec0 = 0;
	for (;;) {
		enum frame_event ev;
		if (off < len) {
			size_t used = 0, n = len - off < step ? len - off : step;
			ev = frame_feed(fr, c, s + off, n, &used);
			off += used;
		} else {
			ev = frame_finish(fr, c);
		}
		if (ev == FRAME_CHUNK) {
			if (nchunks++ == 0) {
				*first_line = c->first_line;
				*byte_offset = c->byte_offset;
				*nrec0 = c->nrecords;
				size_t n = c->rec_off[1] - c->rec_off[0];
				if (n >= first_cap)
					n = first_cap - 1;
				memcpy(first_rec, c->data, n);
				first_rec[n] = '\0';
			}
			chunk_reset(c);
		}
		if (off >= len && ev != FRAME_CHUNK)
			break;
	}
	uint64_t n = frame_records(fr);
	chunk_free(c);
	frame_free(fr);
	return n;
}

/* The framer ends NDJSON records at LF only, ignores backslashes, quotes and "\.", and does not count blank lines, which stay behind the record before them or are dropped at a chunk's start. */
static void test_frame_ndjson(void)
{
	const char *s = "\n  \r\n{\"a\":\"x\\\"y\\\\\"}\r\n\t\n{\"a\":2}\n\\.\n{\"a\":\"\\\n\"}\n\n";
	for (size_t step = 1; step <= strlen(s); step++) {
		uint64_t line = 0, off = 0;
		uint32_t n0 = 0;
		char first[256];
		uint64_t n = frame_all(s, step, &line, &off, &n0, first, sizeof first);
		CU_ASSERT_EQUAL(n, 5);
		CU_ASSERT_EQUAL(n0, 3);
		CU_ASSERT_EQUAL(line, 3);
		CU_ASSERT_EQUAL(off, 5);
		CU_ASSERT_STRING_EQUAL(first, "{\"a\":\"x\\\"y\\\\\"}\r\n\t\n");
	}
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (ndjson_map_init(&map, names, json_cols, NF) < 0 || buf_init(&scratch, 64) < 0)
		return 1;
	CU_pSuite s = CU_add_suite("ndjson", NULL, NULL);
	CU_add_test(s, "keys to columns", test_keys_to_columns);
	CU_add_test(s, "duplicates: last wins", test_duplicates_last_wins);
	CU_add_test(s, "scalars and nested values", test_scalars_and_nested);
	CU_add_test(s, "string escapes", test_string_escapes);
	CU_add_test(s, "json column strings", test_json_column_strings);
	CU_add_test(s, "unicode escape errors", test_unicode_escape_errors);
	CU_add_test(s, "not an object", test_not_an_object);
	CU_add_test(s, "syntax errors", test_syntax_errors);
	CU_add_test(s, "encoding", test_encoding);
	CU_add_test(s, "depth", test_depth);
	CU_add_test(s, "long keys and empty map", test_long_keys_and_empty_map);
	CU_add_test(s, "frame ndjson", test_frame_ndjson);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	ndjson_map_free(&map);
	buf_free(&scratch);
	return failed ? 1 : 0;
}
