/* test_parse.c - the CSV and text parsers and the UTF-8 check split, de-quote and refuse records exactly as PostgreSQL 15's COPY does. */
#include "../../stages/format.h"
#include "../../stages/parse_csv.h"
#include "../../stages/parse_text.h"
#include "../../stages/utf8.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NF 16

static struct field f[NF];
static struct buf scratch;
static char msg[256];

static struct dialect csv_dialect(void)
{
	struct dialect d = {
	    .format = FORMAT_CSV, .delimiter = ',', .quote = '"', .escape = '"', .null = "", .null_len = 0};
	return d;
}

static struct dialect text_dialect(void)
{
	struct dialect d = {.format = FORMAT_TEXT, .delimiter = '\t', .null = "\\N", .null_len = 2};
	return d;
}

/* Parses s (length n) with d and fields_max NF. */
static int parse_n(const struct dialect *d, const char *s, size_t n)
{
	scratch.len = 0;
	buf_reserve(&scratch, n + 1);
	msg[0] = '\0';
	if (d->format == FORMAT_TEXT)
		return text_parse_record(d, s, n, f, NF, &scratch, msg, sizeof msg);
	return csv_parse_record(d, s, n, f, NF, &scratch, msg, sizeof msg);
}

static int csv(const char *s)
{
	struct dialect d = csv_dialect();
	return parse_n(&d, s, strlen(s));
}

static int text(const char *s)
{
	struct dialect d = text_dialect();
	return parse_n(&d, s, strlen(s));
}

static int field_is(int k, const char *want)
{
	return !f[k].null && f[k].len == strlen(want) && memcmp(f[k].ptr, want, f[k].len) == 0;
}

/* Whether field k points into the record (zero-copy) rather than scratch. */
static int in_record(int k, const char *rec)
{
	return f[k].ptr >= rec && f[k].ptr < rec + strlen(rec) + 1;
}

/* Plain fields are split at the delimiter, keep surrounding whitespace and point into the record. */
static void test_csv_plain(void)
{
	const char *r = "1, two ,three\t,4";
	CU_ASSERT_EQUAL_FATAL(csv(r), 4);
	CU_ASSERT(field_is(0, "1"));
	CU_ASSERT(field_is(1, " two "));
	CU_ASSERT(field_is(2, "three\t"));
	CU_ASSERT(field_is(3, "4"));
	for (int k = 0; k < 4; k++)
		CU_ASSERT(in_record(k, r));
	CU_ASSERT_EQUAL(scratch.len, 0);
}

/* Unquoted empty fields are NULL, quoted empty fields are empty strings, also at the ends. */
static void test_csv_null_and_empty(void)
{
	CU_ASSERT_EQUAL_FATAL(csv(",\"\",,\"\""), 4);
	CU_ASSERT(f[0].null);
	CU_ASSERT(field_is(1, ""));
	CU_ASSERT(f[2].null);
	CU_ASSERT(field_is(3, ""));
	CU_ASSERT_EQUAL_FATAL(csv("a,"), 2);
	CU_ASSERT(f[1].null);
	CU_ASSERT_EQUAL_FATAL(csv(" ,a"), 2);
	CU_ASSERT(field_is(0, " "));
}

/* An empty line is one NULL field in CSV (CopyReadAttributesCSV on an empty line), with or without its end-of-line. */
static void test_csv_empty_record(void)
{
	CU_ASSERT_EQUAL_FATAL(csv(""), 1);
	CU_ASSERT(f[0].null);
	CU_ASSERT_EQUAL_FATAL(csv("\n"), 1);
	CU_ASSERT(f[0].null);
	CU_ASSERT_EQUAL_FATAL(csv("\r\n"), 1);
	CU_ASSERT(f[0].null);
}

/* A custom NULL marker makes only the unquoted marker NULL; then an unquoted empty field is an empty string. */
static void test_csv_custom_null(void)
{
	struct dialect d = csv_dialect();
	d.null = "NULL";
	d.null_len = 4;
	const char *r = "NULL,\"NULL\",,NULLx";
	CU_ASSERT_EQUAL_FATAL(parse_n(&d, r, strlen(r)), 4);
	CU_ASSERT(f[0].null);
	CU_ASSERT(field_is(1, "NULL"));
	CU_ASSERT(field_is(2, ""));
	CU_ASSERT(field_is(3, "NULLx"));
}

/* Quoted fields keep delimiters, line breaks and CRs; doubled quotes become one; a simple quoted field is zero-copy. */
static void test_csv_quoted(void)
{
	const char *r = "\"a,b\",\"x\"\"y\",\"l1\nl2\r\nl3\",\"\"\"\"";
	CU_ASSERT_EQUAL_FATAL(csv(r), 4);
	CU_ASSERT(field_is(0, "a,b"));
	CU_ASSERT(in_record(0, r));
	CU_ASSERT(field_is(1, "x\"y"));
	CU_ASSERT(!in_record(1, r));
	CU_ASSERT(field_is(2, "l1\nl2\r\nl3"));
	CU_ASSERT(field_is(3, "\""));
}

/* Quotes may open and close anywhere inside a field: a"b,c"d is the one field ab,cd. */
static void test_csv_quote_inside_field(void)
{
	CU_ASSERT_EQUAL_FATAL(csv("a\"b,c\"d,e"), 2);
	CU_ASSERT(field_is(0, "ab,cd"));
	CU_ASSERT(field_is(1, "e"));
	CU_ASSERT_EQUAL_FATAL(csv("\"a\"b"), 1);
	CU_ASSERT(field_is(0, "ab"));
	CU_ASSERT_EQUAL_FATAL(csv("\"a\" "), 1);
	CU_ASSERT(field_is(0, "a "));
	CU_ASSERT_EQUAL_FATAL(csv("\"a\"\"\""), 1);
	CU_ASSERT(field_is(0, "a\""));
	CU_ASSERT_EQUAL_FATAL(csv("\"\"\"\"x"), 1);
	CU_ASSERT(field_is(0, "\"x"));
}

/* The trailing LF or CRLF is not data; a bare CR or LF outside quotes is refused with PostgreSQL's words. */
static void test_csv_line_ends(void)
{
	CU_ASSERT_EQUAL_FATAL(csv("a,b\n"), 2);
	CU_ASSERT(field_is(1, "b"));
	CU_ASSERT_EQUAL_FATAL(csv("a,b\r\n"), 2);
	CU_ASSERT(field_is(1, "b"));
	CU_ASSERT_EQUAL_FATAL(csv("a,\"b\"\r\n"), 2);
	CU_ASSERT(field_is(1, "b"));
	CU_ASSERT_EQUAL(csv("a\rb,c\n"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unquoted carriage return found in data");
	CU_ASSERT_EQUAL(csv("a,b\r"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unquoted carriage return found in data");
	CU_ASSERT_EQUAL(csv("\"a\"\rb"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unquoted carriage return found in data");
	CU_ASSERT_EQUAL(csv("a\nb"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unquoted newline found in data");
	CU_ASSERT_EQUAL_FATAL(csv("\"a\rb\"\n"), 1);
	CU_ASSERT(field_is(0, "a\rb"));
}

/* A quote left open to the end of the record is an unterminated CSV quoted field, also when its end is an escaped quote. */
static void test_csv_unterminated(void)
{
	CU_ASSERT_EQUAL(csv("a,\"bc\n"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unterminated CSV quoted field");
	CU_ASSERT_EQUAL(csv("\""), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unterminated CSV quoted field");
	CU_ASSERT_EQUAL(csv("\"a\"\""), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unterminated CSV quoted field");
	CU_ASSERT_EQUAL(csv("a\"b"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unterminated CSV quoted field");
}

/* Custom delimiter, quote and a distinct escape: the escape only escapes itself or the quote inside quotes. */
static void test_csv_custom_dialect(void)
{
	struct dialect d = csv_dialect();
	d.delimiter = ';';
	d.quote = '\'';
	d.escape = '\\';
	const char *r = "'a;b';'it\\'s';'c:\\\\';'x\\y';a\\'b'c;'a''b';";
	CU_ASSERT_EQUAL_FATAL(parse_n(&d, r, strlen(r)), 7);
	CU_ASSERT(field_is(0, "a;b"));
	CU_ASSERT(field_is(1, "it's"));
	CU_ASSERT(field_is(2, "c:\\"));
	CU_ASSERT(field_is(3, "x\\y"));
	CU_ASSERT(field_is(4, "a\\bc"));
	CU_ASSERT(field_is(5, "ab"));
	CU_ASSERT(f[6].null);
	/* A delimiter of '|' leaves commas alone. */
	d = csv_dialect();
	d.delimiter = '|';
	r = "a,b|\"c|d\"";
	CU_ASSERT_EQUAL_FATAL(parse_n(&d, r, strlen(r)), 2);
	CU_ASSERT(field_is(0, "a,b"));
	CU_ASSERT(field_is(1, "c|d"));
}

/* fields_max fields are accepted, one more is extra data after last expected column; zero columns accept only an empty line. */
static void test_csv_fields_max(void)
{
	struct dialect d = csv_dialect();
	scratch.len = 0;
	CU_ASSERT_EQUAL(csv_parse_record(&d, "a,b,c", 5, f, 3, &scratch, msg, sizeof msg), 3);
	CU_ASSERT_EQUAL(csv_parse_record(&d, "a,b,c,", 6, f, 3, &scratch, msg, sizeof msg), -1);
	CU_ASSERT_STRING_EQUAL(msg, "extra data after last expected column");
	/* Fields past the limit are still parsed, so a worse error wins as in PostgreSQL. */
	CU_ASSERT_EQUAL(csv_parse_record(&d, "a,b,c,\"d", 8, f, 3, &scratch, msg, sizeof msg), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unterminated CSV quoted field");
	CU_ASSERT_EQUAL(csv_parse_record(&d, "\n", 1, f, 0, &scratch, msg, sizeof msg), 0);
	CU_ASSERT_EQUAL(csv_parse_record(&d, "a\n", 2, f, 0, &scratch, msg, sizeof msg), -1);
	CU_ASSERT_STRING_EQUAL(msg, "extra data after last expected column");
	struct dialect t = text_dialect();
	CU_ASSERT_EQUAL(text_parse_record(&t, "a\tb", 3, f, 1, &scratch, msg, sizeof msg), -1);
	CU_ASSERT_STRING_EQUAL(msg, "extra data after last expected column");
	CU_ASSERT_EQUAL(text_parse_record(&t, "a\tb", 3, f, 2, &scratch, msg, sizeof msg), 2);
}

/* Invalid UTF-8 or a NUL byte anywhere in a CSV record, quoted or not, is refused with PostgreSQL's byte listing. */
static void test_csv_encoding(void)
{
	struct dialect d = csv_dialect();
	CU_ASSERT_EQUAL(parse_n(&d, "a,b\0c", 5), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0x00");
	CU_ASSERT_EQUAL(csv("a,\"caf\xc3(\"\n"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0xc3 0x28");
	CU_ASSERT_EQUAL(csv("x,caf\xe9\n"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0xe9 0x0a");
	CU_ASSERT_EQUAL(csv("x,caf\xe9"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0xe9");
	CU_ASSERT_EQUAL_FATAL(csv("caf\xc3\xa9,\"\xe2\x82\xa6\",\xe6\x97\xa5\xe6\x9c\xac,\xf0\x9f\x98\x80"), 4);
	CU_ASSERT(field_is(0, "caf\xc3\xa9"));
	CU_ASSERT(field_is(1, "\xe2\x82\xa6"));
	CU_ASSERT(field_is(2, "\xe6\x97\xa5\xe6\x9c\xac"));
	CU_ASSERT(field_is(3, "\xf0\x9f\x98\x80"));
}

/* The UTF-8 check accepts every well-formed sequence up to 4 bytes and refuses overlongs, surrogates, out-of-range code points, stray continuation bytes, truncation and NUL. */
static void test_utf8_rules(void)
{
	static const char *good[] = {
	    "",
	    "plain ascii text longer than eight bytes",
	    "\x7f",
	    "\xc2\x80",
	    "\xdf\xbf",
	    "\xe0\xa0\x80",
	    "\xed\x9f\xbf",
	    "\xee\x80\x80",
	    "\xef\xbf\xbf",
	    "\xf0\x90\x80\x80",
	    "\xf4\x8f\xbf\xbf",
	    "12345678\xc3\xa9"
	    "12345678",
	    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		CU_ASSERT_EQUAL(utf8_valid_prefix(good[i], strlen(good[i])), strlen(good[i]));
	static const struct {
		const char *s;
		size_t bad;
		const char *listing;
	} bad[] = {
	    {"\xc0\xaf", 0, "0xc0 0xaf"},                   /* overlong '/' */
	    {"\xc1\xbf", 0, "0xc1 0xbf"},                   /* overlong */
	    {"\xe0\x80\xaf", 0, "0xe0 0x80 0xaf"},          /* overlong 3-byte */
	    {"\xf0\x80\x80\xaf", 0, "0xf0 0x80 0x80 0xaf"}, /* overlong 4-byte */
	    {"ab\xed\xa0\x80", 2, "0xed 0xa0 0x80"},        /* surrogate U+D800 */
	    {"\xed\xbf\xbf", 0, "0xed 0xbf 0xbf"},          /* surrogate U+DFFF */
	    {"\xf4\x90\x80\x80", 0, "0xf4 0x90 0x80 0x80"}, /* above U+10FFFF */
	    {"\xf5\x80\x80\x80", 0, "0xf5 0x80 0x80 0x80"}, /* invalid lead, listed as 4 bytes like pg_utf_mblen */
	    {"\xf8\x88\x80\x80\x80", 0, "0xf8"},            /* 5-byte form */
	    {"abcdefgh\x80", 8, "0x80"},                    /* stray continuation after the fast path */
	    {"abc\xe2\x82", 3, "0xe2 0x82"},                /* truncated */
	    {"\xe2\x28\xa1", 0, "0xe2 0x28 0xa1"},          /* bad continuation */
	    {"abcdefghijklmno\xff", 15, "0xff"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n = strlen(bad[i].s);
		size_t at = utf8_valid_prefix(bad[i].s, n);
		CU_ASSERT_EQUAL(at, bad[i].bad);
		char want[128];
		snprintf(want, sizeof want, "invalid byte sequence for encoding \"UTF8\": %s", bad[i].listing);
		utf8_error_message(bad[i].s + at, n - at, msg, sizeof msg);
		CU_ASSERT_STRING_EQUAL(msg, want);
	}
	/* NUL in the middle of an 8-byte block is found by the fast path. */
	CU_ASSERT_EQUAL(utf8_valid_prefix("abc\0efghijk", 11), 3);
	/* The listing stops at 8 bytes and at the available bytes. */
	utf8_error_message("\xf0\x80", 2, msg, sizeof msg);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0xf0 0x80");
}

/* A multi-byte character that straddles every position of an 8-byte block is accepted; a cut one is refused there. */
static void test_utf8_boundaries(void)
{
	char s[32];
	for (int pos = 0; pos < 12; pos++) {
		memset(s, 'a', sizeof s);
		memcpy(s + pos, "\xf0\x9f\x98\x80", 4);
		CU_ASSERT_EQUAL(utf8_valid_prefix(s, 20), 20);
		CU_ASSERT_EQUAL(utf8_valid_prefix(s, (size_t)pos + 3), (size_t)pos);
		s[pos + 2] = 'a';
		CU_ASSERT_EQUAL(utf8_valid_prefix(s, 20), (size_t)pos);
	}
}

/* Text format: tab-split, \N raw is NULL, an empty field is an empty string, an empty line is one empty field. */
static void test_text_plain(void)
{
	const char *r = "1\t\\N\t\t x \n";
	CU_ASSERT_EQUAL_FATAL(text(r), 4);
	CU_ASSERT(field_is(0, "1"));
	CU_ASSERT(f[1].null);
	CU_ASSERT(field_is(2, ""));
	CU_ASSERT(field_is(3, " x "));
	CU_ASSERT(in_record(3, r));
	CU_ASSERT_EQUAL_FATAL(text("\n"), 1);
	CU_ASSERT(field_is(0, ""));
	CU_ASSERT_EQUAL_FATAL(text("a\r\n"), 1);
	CU_ASSERT(field_is(0, "a"));
}

/* Backslash escapes decode as CopyReadAttributesText does: C escapes, octal up to three digits, \x with one or two hex digits, anything else literally. */
static void test_text_escapes(void)
{
	CU_ASSERT_EQUAL_FATAL(text("\\b\\f\\n\\r\\t\\v\t\\\\\t\\a\\N\\,\t\\\t"), 4);
	CU_ASSERT(field_is(0, "\b\f\n\r\t\v"));
	CU_ASSERT(field_is(1, "\\"));
	CU_ASSERT(field_is(2, "aN,"));
	CU_ASSERT(field_is(3, "\t"));
	CU_ASSERT_EQUAL_FATAL(text("\\101\\1018\\7\\0618\t\\x41\\x4\\x4g\\xg\\x414"), 2);
	CU_ASSERT(field_is(0, "AA8\a18"));
	CU_ASSERT(field_is(1, "A\x04\x04gxgA4"));
	/* \400 keeps the low 8 bits, as PostgreSQL's val & 0377. */
	CU_ASSERT_EQUAL_FATAL(text("\\501"), 1);
	CU_ASSERT(field_is(0, "A"));
}

/* A backslash-period inside a line is COPY's corrupt end-of-data marker and refuses the record; an escaped backslash before a period does not. */
static void test_text_eod_marker(void)
{
	CU_ASSERT_EQUAL(text("a\\.b"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "end-of-copy marker corrupt");
	CU_ASSERT_EQUAL(text("x\t\\."), -1);
	CU_ASSERT_EQUAL_FATAL(text("a\\\\.b"), 1);
	CU_ASSERT(field_is(0, "a\\.b"));
}

/* The NULL marker is compared with the raw text: \N is NULL, \\N is the string \N, a custom marker with escapes too. */
static void test_text_null(void)
{
	CU_ASSERT_EQUAL_FATAL(text("\\\\N\tx\\N"), 2);
	CU_ASSERT(field_is(0, "\\N"));
	CU_ASSERT(field_is(1, "xN"));
	struct dialect d = text_dialect();
	d.null = "";
	d.null_len = 0;
	d.delimiter = ',';
	const char *r = "a,,\\,";
	CU_ASSERT_EQUAL_FATAL(parse_n(&d, r, strlen(r)), 3);
	CU_ASSERT(field_is(0, "a"));
	CU_ASSERT(f[1].null);
	CU_ASSERT(field_is(2, ","));
}

/* Decoded bytes are checked: an escape producing NUL or invalid UTF-8 is refused, valid escaped UTF-8 passes, a NULL field is not checked. */
static void test_text_decoded_encoding(void)
{
	CU_ASSERT_EQUAL(text("a\t\\0"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0x00");
	CU_ASSERT_EQUAL(text("a\tx\\xc3("), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0xc3 0x28");
	CU_ASSERT_EQUAL_FATAL(text("caf\\xc3\\xa9\t\\303\\251"), 2);
	CU_ASSERT(field_is(0, "caf\xc3\xa9"));
	CU_ASSERT(field_is(1, "\xc3\xa9"));
	CU_ASSERT_EQUAL(text("raw\xff"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0xff");
	struct dialect d = text_dialect();
	d.null = "\\0";
	d.null_len = 2;
	CU_ASSERT_EQUAL_FATAL(parse_n(&d, "\\0\tb", 4), 2);
	CU_ASSERT(f[0].null);
}

/* Raw line breaks are refused in text format; escaped ones are data; a lone trailing backslash is dropped. */
static void test_text_line_breaks(void)
{
	CU_ASSERT_EQUAL(text("a\rb"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "literal carriage return found in data");
	CU_ASSERT_EQUAL(text("a\\tb\nc"), -1);
	CU_ASSERT_STRING_EQUAL(msg, "literal newline found in data");
	CU_ASSERT_EQUAL_FATAL(text("a\\\rb\\\nc\n"), 1);
	CU_ASSERT(field_is(0, "a\rb\nc"));
	CU_ASSERT_EQUAL_FATAL(text("ab\\"), 1);
	CU_ASSERT(field_is(0, "ab"));
}

/* text_escape_value escapes what CopyAttributeOutText escapes, and parsing its output gives the value back. */
static void test_text_escape_roundtrip(void)
{
	struct buf out;
	CU_ASSERT_EQUAL_FATAL(buf_init(&out, 4), 0);
	const char v[] = "a\\b\tc\nd\re\bf\fg\vh\x01i,j\xc3\xa9";
	text_escape_value('\t', v, sizeof v - 1, &out);
	const char want[] = "a\\\\b\\tc\\nd\\re\\bf\\fg\\vh\x01i,j\xc3\xa9";
	CU_ASSERT_EQUAL(out.len, sizeof want - 1);
	CU_ASSERT(memcmp(out.data, want, sizeof want - 1) == 0);
	struct dialect d = text_dialect();
	CU_ASSERT_EQUAL_FATAL(parse_n(&d, out.data, out.len), 1);
	CU_ASSERT_EQUAL(f[0].len, sizeof v - 1);
	CU_ASSERT(memcmp(f[0].ptr, v, sizeof v - 1) == 0);
	/* A comma delimiter is escaped, and so is a control-character delimiter. */
	out.len = 0;
	text_escape_value(',', "a,b", 3, &out);
	CU_ASSERT(out.len == 4 && memcmp(out.data, "a\\,b", 4) == 0);
	out.len = 0;
	text_escape_value('\x01',
			  "a\x01"
			  "b",
			  3, &out);
	CU_ASSERT(out.len == 4 && memcmp(out.data,
					 "a\\\x01"
					 "b",
					 4) == 0);
	d.delimiter = '\x01';
	CU_ASSERT_EQUAL_FATAL(parse_n(&d, out.data, out.len), 1);
	CU_ASSERT(field_is(0, "a\x01"
			      "b"));
	buf_free(&out);
}

/* Parses a buffer of typical order records to report throughput; asserts only that every record parses. */
/* --format auto decides by the first line when the name does not: an empty
 * input (standard input closed at once: no block at all, data NULL) is CSV
 * without touching the bytes that are not there. */
static void test_format_guess(void)
{
	CU_ASSERT_EQUAL(format_guess(NULL, 0), FORMAT_CSV);
	CU_ASSERT_EQUAL(format_guess("", 0), FORMAT_CSV);
	CU_ASSERT_EQUAL(format_guess("{\"a\":1}\n", 8), FORMAT_NDJSON);
	CU_ASSERT_EQUAL(format_guess("\xef\xbb\xbf {\"a\":1}", 11), FORMAT_NDJSON);
	CU_ASSERT_EQUAL(format_guess("a\tb\n1\t2,5\n", 12), FORMAT_TEXT);
	CU_ASSERT_EQUAL(format_guess("a\tb,c\n", 7), FORMAT_CSV);
	CU_ASSERT_EQUAL(format_guess("a,b\n", 4), FORMAT_CSV);
	/* Only the first line counts, and only as far as n says. */
	CU_ASSERT_EQUAL(format_guess("a\tb\nc,d\n", 4), FORMAT_TEXT);
}

static void test_parse_speed(void)
{
	const char *rec = "17,1000004711,734512,SKU-004711,3,129.90,EUR,shipped,2026-03-14T09:26:53.123+01:00,"
			  "\"Deliver to dock 3, ask for \"\"Frank\"\"\"\n";
	size_t n = strlen(rec);
	struct dialect d = csv_dialect();
	const int iters = 1000000;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int ok = 0;
	for (int i = 0; i < iters; i++)
		ok += parse_n(&d, rec, n) == 10;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CU_ASSERT_EQUAL(ok, iters);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "\n  csv parse: %.0f records/s, %.0f MB/s\n", iters / s, iters * (double)n / s / 1e6);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (buf_init(&scratch, 64) < 0)
		return 1;
	CU_pSuite s = CU_add_suite("parse", NULL, NULL);
	CU_add_test(s, "csv plain", test_csv_plain);
	CU_add_test(s, "csv null and empty", test_csv_null_and_empty);
	CU_add_test(s, "csv empty record", test_csv_empty_record);
	CU_add_test(s, "csv custom null", test_csv_custom_null);
	CU_add_test(s, "csv quoted", test_csv_quoted);
	CU_add_test(s, "csv quote inside field", test_csv_quote_inside_field);
	CU_add_test(s, "csv line ends", test_csv_line_ends);
	CU_add_test(s, "csv unterminated", test_csv_unterminated);
	CU_add_test(s, "csv custom dialect", test_csv_custom_dialect);
	CU_add_test(s, "csv fields_max", test_csv_fields_max);
	CU_add_test(s, "csv encoding", test_csv_encoding);
	CU_add_test(s, "utf8 rules", test_utf8_rules);
	CU_add_test(s, "utf8 boundaries", test_utf8_boundaries);
	CU_add_test(s, "text plain", test_text_plain);
	CU_add_test(s, "text escapes", test_text_escapes);
	CU_add_test(s, "text end-of-data marker", test_text_eod_marker);
	CU_add_test(s, "text null", test_text_null);
	CU_add_test(s, "text decoded encoding", test_text_decoded_encoding);
	CU_add_test(s, "text line breaks", test_text_line_breaks);
	CU_add_test(s, "text escape roundtrip", test_text_escape_roundtrip);
	CU_add_test(s, "format guessed from content", test_format_guess);
	CU_add_test(s, "parse speed", test_parse_speed);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	buf_free(&scratch);
	return failed ? 1 : 0;
}
