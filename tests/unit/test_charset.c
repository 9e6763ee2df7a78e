/* test_charset.c - input encodings: PostgreSQL's names and aliases resolve as the server resolves them, unsupported ones are refused with the list of supported ones, single-byte input converts to the UTF-8 the server makes of it (unmapped bytes and NULs refused with its messages), and the parsers and the framer see the conversion as COPY's parser does. */
#include "../../core/chunk.h"
#include "../../core/limits.h"
#include "../../stages/charset.h"
#include "../../stages/format.h"
#include "../../stages/frame.h"
#include "../../stages/parse_ndjson.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct charset *open_ok(const char *name)
{
	char msg[512] = "";
	struct charset *cs = (struct charset *)1;
	enum charset_status st = charset_open(name, &cs, msg, sizeof msg);
	if (st != CHARSET_OK)
		fprintf(stderr, "\n%s: %s\n", name, msg);
	CU_ASSERT_EQUAL_FATAL(st, CHARSET_OK);
	return cs;
}

/* Opens name expecting status st and a message holding needle. */
static void expect_refused(const char *name, enum charset_status st, const char *needle)
{
	char msg[512] = "";
	struct charset *cs = (struct charset *)1;
	enum charset_status got = charset_open(name, &cs, msg, sizeof msg);
	bool ok = got == st && cs == NULL && strstr(msg, needle) != NULL;
	if (!ok)
		fprintf(stderr, "\n%s: status %d, message: %s\n", name, got, msg);
	CU_ASSERT(ok);
}

/* Every spelling pg_char_to_encoding accepts: any case, any punctuation, the aliases. */
static void test_names(void)
{
	static const struct {
		const char *given, *name;
	} cases[] = {
	    {"latin1", "LATIN1"},        {"LATIN1", "LATIN1"},         {"ISO_8859_1", "LATIN1"},
	    {"iso-8859-1", "LATIN1"},    {"Iso8859_1", "LATIN1"},      {"latin9", "LATIN9"},
	    {"ISO-8859-15", "LATIN9"},   {"iso885916", "LATIN10"},     {"WIN1252", "WIN1252"},
	    {"windows-1252", "WIN1252"}, {"Windows_1252", "WIN1252"},  {"win1250", "WIN1250"},
	    {"windows-1250", "WIN1250"}, {"WIN1251", "WIN1251"},       {"win", "WIN1251"},
	    {"alt", "WIN866"},           {"windows-874", "WIN874"},    {"koi8", "KOI8R"},
	    {"KOI8-U", "KOI8U"},         {"tcvn", "WIN1258"},          {"ABC", "WIN1258"},
	    {"vscii", "WIN1258"},        {"iso_8859_5", "ISO_8859_5"}, {"ISO-8859-8", "ISO_8859_8"},
	    {"latin5", "LATIN5"},        {"iso-8859-9", "LATIN5"},     {"iso-8859-10", "LATIN6"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct charset *cs = open_ok(cases[i].given);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cs);
		CU_ASSERT_STRING_EQUAL(charset_name(cs), cases[i].name);
		charset_free(cs);
	}
	/* UTF-8 needs no conversion. */
	static const char *const utf8[] = {"UTF8", "utf8", "UTF-8", "utf_8", "Unicode"};
	for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++)
		CU_ASSERT_PTR_NULL(open_ok(utf8[i]));
	CU_ASSERT_STRING_EQUAL(charset_name(NULL), "UTF8");
}

/* Every single-byte encoding of the supported list opens, so the list says no more than is true. */
static void test_single_byte_all_open(void)
{
	static const char *const all[] = {"LATIN1",     "LATIN2",     "LATIN3",  "LATIN4",  "LATIN5",     "LATIN6",
					  "LATIN7",     "LATIN8",     "LATIN9",  "LATIN10", "ISO_8859_5", "ISO_8859_6",
					  "ISO_8859_7", "ISO_8859_8", "WIN866",  "WIN874",  "WIN1250",    "WIN1251",
					  "WIN1252",    "WIN1253",    "WIN1254", "WIN1255", "WIN1256",    "WIN1257",
					  "WIN1258",    "KOI8R",      "KOI8U"};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		struct charset *cs = open_ok(all[i]);
		CU_ASSERT_PTR_NOT_NULL(cs);
		CU_ASSERT_STRING_EQUAL(charset_name(cs), all[i]);
		charset_free(cs);
	}
}

/* Unknown names, SQL_ASCII and the multi-byte encodings are refused, naming what is supported. */
static void test_refused(void)
{
	expect_refused("bogus", CHARSET_UNKNOWN, "\"bogus\" is not an encoding PostgreSQL knows; supported: UTF8");
	expect_refused("", CHARSET_UNKNOWN, "not an encoding PostgreSQL knows");
	expect_refused("cp1252", CHARSET_UNKNOWN, "(PostgreSQL calls it WIN1252)");
	expect_refused("CP-1250", CHARSET_UNKNOWN, "(PostgreSQL calls it WIN1250)");
	expect_refused("ascii", CHARSET_UNKNOWN, "(PostgreSQL calls it UTF8)");
	/* PostgreSQL knows no name of NAMEDATALEN bytes or more. */
	char longname[80];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	memcpy(longname, "latin1", 6);
	expect_refused(longname, CHARSET_UNKNOWN, "not an encoding PostgreSQL knows");
	expect_refused("SQL_ASCII", CHARSET_UNSUPPORTED, "neither converted nor checked");
	static const char *const multi[] = {
	    "SJIS",    "Shift_JIS", "win932", "mskanji", "BIG5",   "GBK",          "windows-936",    "UHC",
	    "GB18030", "JOHAB",     "EUC_JP", "euc-kr",  "EUC_TW", "EUC_JIS_2004", "SHIFT_JIS_2004", "MULE_INTERNAL"};
	for (size_t i = 0; i < sizeof multi / sizeof multi[0]; i++)
		expect_refused(multi[i], CHARSET_UNSUPPORTED,
			       "of the multi-byte encodings only UTF8 is (convert the input to UTF-8 first");
	expect_refused("sjis", CHARSET_UNSUPPORTED,
		       "supported: UTF8, LATIN1 to LATIN10, ISO_8859_5 to ISO_8859_8, "
		       "WIN866, WIN874, WIN1250 to WIN1258, KOI8R, KOI8U");
}

/* Converts src (n bytes) expecting UTF-8 want, through both calls. */
static void expect_utf8(const struct charset *cs, const char *src, size_t n, const char *want)
{
	char msg[256] = "";
	long len = charset_utf8_len(cs, src, n, msg, sizeof msg);
	if (len < 0)
		fprintf(stderr, "\n%s\n", msg);
	CU_ASSERT_EQUAL_FATAL(len, (long)strlen(want));
	char *out = malloc((size_t)len + 1);
	CU_ASSERT_EQUAL(charset_to_utf8(cs, src, n, out), (size_t)len);
	CU_ASSERT(memcmp(out, want, (size_t)len) == 0);
	free(out);
}

/* src is a string literal. */
#define EXPECT_UTF8(cs, src, want) expect_utf8(cs, src, sizeof src - 1, want)

static void expect_refusal(const struct charset *cs, const char *src, size_t n, const char *want)
{
	char msg[256] = "";
	CU_ASSERT_EQUAL(charset_utf8_len(cs, src, n, msg, sizeof msg), -1);
	CU_ASSERT_STRING_EQUAL(msg, want);
}

/* The characters ERP exports carry, byte by byte, as the server converts them. */
static void test_convert(void)
{
	struct charset *l1 = open_ok("LATIN1"), *l9 = open_ok("LATIN9"), *w52 = open_ok("WIN1252"),
		       *w50 = open_ok("WIN1250");
	EXPECT_UTF8(l1, "M\xfcller, Jos\xe9, \xc6r\xf8", "Müller, José, Ærø");
	EXPECT_UTF8(l1, "\x80\x9f\xa0\xff", "\xc2\x80\xc2\x9f\xc2\xa0\xc3\xbf");
	EXPECT_UTF8(l9, "\xa4 \xbc\xbd \xa6\xa8", "€ Œœ Šš");
	EXPECT_UTF8(w52, "\x80 \x8c\x9c \x8a\x9a \x9f \x84\x93\x94 \x96\x97 \x99", "€ Œœ Šš Ÿ „“” –— ™");
	EXPECT_UTF8(w52, "\xfc\xe9\xa0", "üé\xc2\xa0");
	EXPECT_UTF8(w50, "\x8a\x8d\x8e \xb9\xe8\xf8 \x80", "ŠŤŽ ąčř €");
	EXPECT_UTF8(w52, "", "");
	/* WIN1252 leaves five bytes without a character; WIN1250 five others. */
	static const unsigned char holes52[] = {0x81, 0x8d, 0x8f, 0x90, 0x9d};
	for (size_t i = 0; i < sizeof holes52; i++) {
		char in[4] = {'a', 'b', (char)holes52[i], 'c'}, want[128];
		snprintf(want, sizeof want,
			 "character with byte sequence 0x%02x in encoding \"WIN1252\" has no equivalent in encoding "
			 "\"UTF8\"",
			 holes52[i]);
		expect_refusal(w52, in, sizeof in, want);
	}
	static const unsigned char holes50[] = {0x81, 0x83, 0x88, 0x90, 0x98};
	for (size_t i = 0; i < sizeof holes50; i++) {
		char in[1] = {(char)holes50[i]};
		CU_ASSERT_EQUAL(charset_utf8_len(w50, in, 1, (char[128]){0}, 128), -1);
	}
	/* The first offending byte is reported; a NUL is an invalid byte. */
	expect_refusal(w52, "x\x00\x81", 3, "invalid byte sequence for encoding \"WIN1252\": 0x00");
	expect_refusal(l1, "abcdefghijk\x00", 12, "invalid byte sequence for encoding \"LATIN1\": 0x00");
	expect_refusal(w52, "abcdefgh\x81\x00", 10,
		       "character with byte sequence 0x81 in encoding \"WIN1252\" has no equivalent in encoding "
		       "\"UTF8\"");
	charset_free(l1);
	charset_free(l9);
	charset_free(w52);
	charset_free(w50);
}

/* LATIN1 is Unicode's first 256 code points: random strings, high bytes at every offset of the 8-byte ASCII steps, convert to exactly that. */
static void test_convert_random_latin1(void)
{
	struct charset *l1 = open_ok("LATIN1");
	unsigned seed = 7;
	char src[300], want[600], out[600], msg[128];
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand_r(&seed) % 300), w = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned r = (unsigned)rand_r(&seed);
			unsigned char c =
			    (r & 7) == 0 ? (unsigned char)(0x80 + (r >> 3) % 128) : (unsigned char)(1 + (r >> 3) % 127);
			src[i] = (char)c;
			if (c < 0x80) {
				want[w++] = (char)c;
			} else {
				want[w++] = (char)(0xc0 | (c >> 6));
				want[w++] = (char)(0x80 | (c & 0x3f));
			}
		}
		CU_ASSERT_EQUAL_FATAL(charset_utf8_len(l1, src, n, msg, sizeof msg), (long)w);
		CU_ASSERT_EQUAL_FATAL(charset_to_utf8(l1, src, n, out), w);
		CU_ASSERT_FATAL(memcmp(out, want, w) == 0);
	}
	charset_free(l1);
}

/* Parses one line with a format in dialect d (whose charset is cs). */
static int parse_line(enum input_format fmt, struct charset *cs, const char *line, size_t len, struct field *f,
		      struct buf *scratch, char *msg, size_t msgsz)
{
	struct dialect d = {.format = fmt,
			    .delimiter = fmt == FORMAT_CSV ? ',' : '\t',
			    .quote = fmt == FORMAT_CSV ? '"' : 0,
			    .escape = fmt == FORMAT_CSV ? '"' : 0,
			    .null = fmt == FORMAT_CSV ? "" : "\\N",
			    .null_len = fmt == FORMAT_CSV ? 0 : 2,
			    .charset = cs};
	scratch->len = 0;
	return format_line_parse(format_ops_for(fmt), &d, line, len, f, 8, scratch, msg, msgsz);
}

static bool field_is(const struct field *f, const char *s)
{
	return !f->null && f->len == strlen(s) && memcmp(f->ptr, s, f->len) == 0;
}

/* COPY converts a line before it splits it: fields come out UTF-8; text escapes make bytes of UTF-8, not of the input's encoding; a conversion error wins over a malformed line. */
static void test_parse_converted(void)
{
	struct charset *l1 = open_ok("LATIN1"), *w52 = open_ok("WIN1252");
	struct buf scratch;
	CU_ASSERT_EQUAL_FATAL(buf_init(&scratch, 16), 0);
	struct field f[8];
	char msg[256];
	const char csv[] = "1,\"caf\xe9, \"\"\x80\"\"\",\xd6l,\n";
	CU_ASSERT_EQUAL_FATAL(parse_line(FORMAT_CSV, w52, csv, sizeof csv - 1, f, &scratch, msg, sizeof msg), 4);
	CU_ASSERT(field_is(&f[0], "1"));
	CU_ASSERT(field_is(&f[1], "café, \"€\""));
	CU_ASSERT(field_is(&f[2], "Öl"));
	CU_ASSERT(f[3].null);
	const char text[] = "\xe9t\xe9\t\\303\\251\t\\N\tx\\\xe9y\n";
	CU_ASSERT_EQUAL_FATAL(parse_line(FORMAT_TEXT, l1, text, sizeof text - 1, f, &scratch, msg, sizeof msg), 4);
	CU_ASSERT(field_is(&f[0], "été"));
	CU_ASSERT(field_is(&f[1], "é"));
	CU_ASSERT(f[2].null);
	CU_ASSERT(field_is(&f[3], "xéy"));
	/* \xe9 is the byte 0xe9 of the server's encoding, not LATIN1's é. */
	const char esc[] = "a\t\\xe9\n";
	CU_ASSERT_EQUAL(parse_line(FORMAT_TEXT, l1, esc, sizeof esc - 1, f, &scratch, msg, sizeof msg), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0xe9");
	const char open_quote[] = "a,\"b\x81";
	CU_ASSERT_EQUAL(parse_line(FORMAT_CSV, w52, open_quote, sizeof open_quote - 1, f, &scratch, msg, sizeof msg),
			-1);
	CU_ASSERT_STRING_EQUAL(msg, "character with byte sequence 0x81 in encoding \"WIN1252\" has no equivalent in "
				    "encoding \"UTF8\"");
	/* Without a charset, the same bytes are invalid UTF-8. */
	const char raw[] = "1,caf\xe9";
	CU_ASSERT_EQUAL(parse_line(FORMAT_CSV, NULL, raw, sizeof raw - 1, f, &scratch, msg, sizeof msg), -1);
	CU_ASSERT_STRING_EQUAL(msg, "invalid byte sequence for encoding \"UTF8\": 0xe9");
	/* A record longer than the scratch buffer's start grows it once. */
	char big[5000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = i % 2 ? ',' : '\x80';
	CU_ASSERT_EQUAL(parse_line(FORMAT_CSV, w52, big, sizeof big, f, &scratch, msg, sizeof msg), -1);
	CU_ASSERT_STRING_EQUAL(msg, "extra data after last expected column");
	CU_ASSERT_EQUAL(parse_line(FORMAT_CSV, w52, big, 7, f, &scratch, msg, sizeof msg), 4);
	CU_ASSERT(field_is(&f[3], "€"));
	buf_free(&scratch);
	charset_free(l1);
	charset_free(w52);
}

/* Frames input whole into *cp (which the fields may point into: the caller
 * frees it) and parses its record with the format's codec operation. */
static int frame_parse(const struct dialect *d, const struct ndjson_map *m, const char *in, size_t n, struct field *f,
		       uint32_t fields_max, struct buf *scratch, char *msg, size_t msgsz, struct chunk **cp)
{
	struct framer *fr = frame_create(d, 4, 4096, RECORD_BYTES_DEFAULT);
	struct chunk *c = chunk_create(4, 4096);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	size_t used;
	CU_ASSERT_EQUAL(frame_feed(fr, c, in, n, &used), FRAME_MORE);
	CU_ASSERT_EQUAL(frame_finish(fr, c), FRAME_CHUNK);
	CU_ASSERT_EQUAL_FATAL(c->nrecords, 1);
	const struct format_ops *ops = format_ops_for(d->format);
	const struct format_conf conf = {.dialect = d, .ndjson = m};
	uint32_t unknown = 0;
	scratch->len = 0;
	int nf = ops->parse_record(ops, &conf, c, 0, f, fields_max, scratch, &unknown, msg, msgsz);
	frame_free(fr);
	*cp = c;
	return nf;
}

/* A UTF-8 byte order mark is skipped in UTF-8 input only: in LATIN1 its bytes are the characters the server stores; NDJSON lines are converted too. */
static void test_bom_and_ndjson(void)
{
	struct charset *l1 = open_ok("LATIN1");
	struct buf scratch;
	CU_ASSERT_EQUAL_FATAL(buf_init(&scratch, 16), 0);
	struct field f[8];
	char msg[256];
	struct chunk *c;
	struct dialect csv = {.format = FORMAT_CSV, .delimiter = ',', .quote = '"', .escape = '"', .null = ""};
	const char in[] = "\xef\xbb\xbf\x61,b\n";
	CU_ASSERT_EQUAL_FATAL(frame_parse(&csv, NULL, in, sizeof in - 1, f, 8, &scratch, msg, sizeof msg, &c), 2);
	CU_ASSERT(field_is(&f[0], "a"));
	chunk_free(c);
	csv.charset = l1;
	CU_ASSERT_EQUAL_FATAL(frame_parse(&csv, NULL, in, sizeof in - 1, f, 8, &scratch, msg, sizeof msg, &c), 2);
	CU_ASSERT(field_is(&f[0], "ï»¿a"));
	chunk_free(c);

	const char *names[] = {"a", "b"};
	const bool json[] = {false, true};
	struct ndjson_map m;
	CU_ASSERT_EQUAL_FATAL(ndjson_map_init(&m, names, json, 2), 0);
	struct dialect nd = {.format = FORMAT_NDJSON, .null = "", .charset = l1};
	const char line[] = "{\"a\": \"Gr\xfc\xdf"
			    "e\", \"b\": \"\xe0\"}\n";
	CU_ASSERT_EQUAL_FATAL(frame_parse(&nd, &m, line, sizeof line - 1, f, 8, &scratch, msg, sizeof msg, &c), 2);
	CU_ASSERT(field_is(&f[0], "Grüße"));
	CU_ASSERT(field_is(&f[1], "\"à\""));
	chunk_free(c);
	ndjson_map_free(&m);
	buf_free(&scratch);
	charset_free(l1);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("charset", NULL, NULL);
	CU_add_test(s, "names and aliases", test_names);
	CU_add_test(s, "every single-byte encoding opens", test_single_byte_all_open);
	CU_add_test(s, "refused encodings", test_refused);
	CU_add_test(s, "conversion", test_convert);
	CU_add_test(s, "random LATIN1", test_convert_random_latin1);
	CU_add_test(s, "parsers see UTF-8", test_parse_converted);
	CU_add_test(s, "BOM and NDJSON", test_bom_and_ndjson);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
