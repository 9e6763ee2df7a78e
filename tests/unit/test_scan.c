/* test_scan.c - the block-at-a-time scans (the CSV parser's field search, the UTF-8 check, stages/bytescan.h) give what PostgreSQL's byte-at-a-time rules give, at every position of a 16-byte block; built twice, with the vector path and with the portable one (EDONU_SCALAR). */
#include "../../stages/bytescan.h"
#include "../../stages/parse_csv.h"
#include "../../stages/utf8.h"

#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NF 8

/* Which path this executable tests, for the log. */
#ifdef BYTESCAN_SSE2
#define PATH_NAME "sse2"
#else
#define PATH_NAME "scalar"
#endif

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: the same sequence on every run. */
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n;
}

/* A copy of s[0..n) at the very end of a heap block of its own, so that a
 * read past the record is a read past the block (AddressSanitizer). */
static char *exact_copy(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memcpy(p, s, n);
	return p;
}

/* The UTF-8 rules as Unicode's table of well-formed sequences states them
 * (what pg_utf8_islegal implements), one byte at a time, NUL refused. */
static size_t ref_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		unsigned lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			lo = c == 0xe0 ? 0xa0 : lo;
			hi = c == 0xed ? 0x9f : hi;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			lo = c == 0xf0 ? 0x90 : lo;
			hi = c == 0xf4 ? 0x8f : hi;
		} else {
			return i;
		}
		if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k < n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return i;
		i += n;
	}
	return len;
}

/* CopyReadAttributesCSV one byte at a time, as the parser was before its
 * block scans: the oracle the tests below compare with. */
static int ref_csv(const struct dialect *d, const char *rec, size_t len, struct field *fields, uint32_t fields_max,
		   struct buf *scratch, char *msg, size_t msgsz)
{
	size_t valid = ref_utf8((const unsigned char *)rec, len);
	if (valid < len) {
		utf8_error_message(rec + valid, len - valid, msg, msgsz);
		return -1;
	}
	const char *p = rec, *e = rec + len;
	if (e > p && e[-1] == '\n' && --e > p && e[-1] == '\r')
		e--;
	const char delim = d->delimiter, quote = d->quote, esc = d->escape ? d->escape : d->quote;
	struct field spill;
	uint32_t nf = 0;
	for (;;) {
		struct field *f = nf < fields_max ? &fields[nf] : &spill;
		char *out = scratch->data + scratch->len, *o = out;
		bool quoted = false;
		for (;;) {
			while (p < e && *p != delim && *p != quote) {
				if (*p == '\r' || *p == '\n') {
					snprintf(msg, msgsz, "%s",
						 *p == '\r' ? "unquoted carriage return found in data"
							    : "unquoted newline found in data");
					return -1;
				}
				*o++ = *p++;
			}
			if (p == e || *p == delim)
				break;
			quoted = true;
			p++;
			for (;;) {
				if (p >= e) {
					snprintf(msg, msgsz, "unterminated CSV quoted field");
					return -1;
				}
				char c = *p++;
				if (c == esc && p < e && (*p == esc || *p == quote)) {
					*o++ = *p++;
					continue;
				}
				if (c == quote)
					break;
				*o++ = c;
			}
		}
		size_t n = (size_t)(o - out);
		f->ptr = out;
		f->len = (uint32_t)n;
		f->null = !quoted && n == (d->null ? d->null_len : 0) && memcmp(out, d->null ? d->null : "", n) == 0;
		scratch->len += n;
		nf++;
		if (p == e)
			break;
		p++;
	}
	if (nf > fields_max) {
		snprintf(msg, msgsz, "extra data after last expected column");
		return -1;
	}
	return (int)nf;
}

static struct buf scratch_a, scratch_b;

/* Parses rec with the parser and the oracle and asserts that they agree
 * on the count, every field's bytes and NULL, and the message. Returns
 * the parser's result. */
static int agree(const struct dialect *d, const char *s, size_t n)
{
	char *rec = exact_copy(s, n);
	struct field fa[NF], fb[NF];
	char ma[256] = "", mb[256] = "";
	scratch_a.len = scratch_b.len = 0;
	buf_reserve(&scratch_a, n + 1);
	buf_reserve(&scratch_b, n + 1);
	int ra = csv_parse_record(d, rec, n, fa, NF, &scratch_a, ma, sizeof ma);
	int rb = ref_csv(d, rec, n, fb, NF, &scratch_b, mb, sizeof mb);
	CU_ASSERT_EQUAL(ra, rb);
	if (ra != rb || ra < 0) {
		CU_ASSERT_STRING_EQUAL(ma, mb);
		if (ra != rb || strcmp(ma, mb) != 0)
			fprintf(stderr, "\n  [%s] %zu bytes: %d \"%s\" vs %d \"%s\"\n", PATH_NAME, n, ra, ma, rb, mb);
	} else {
		for (int k = 0; k < ra && k < NF; k++) {
			CU_ASSERT_EQUAL(fa[k].null, fb[k].null);
			CU_ASSERT_EQUAL_FATAL(fa[k].len, fb[k].len);
			CU_ASSERT(memcmp(fa[k].ptr, fb[k].ptr, fa[k].len) == 0);
		}
	}
	free(rec);
	return ra;
}

static struct dialect csv_dialect(void)
{
	struct dialect d = {
	    .format = FORMAT_CSV, .delimiter = ',', .quote = '"', .escape = '"', .null = "", .null_len = 0};
	return d;
}

/* A record of n bytes of filler with s written at offset at. */
static size_t place(char *buf, size_t n, size_t at, const char *s)
{
	memset(buf, 'x', n);
	memcpy(buf + at, s, strlen(s));
	return n;
}

/* A delimiter, quote, CR or LF at each position around the block edges
 * (14 to 18 and 30 to 34), in records that end inside a block, exactly at
 * its end, or a byte past it. */
static void test_csv_block_edges(void)
{
	struct dialect d = csv_dialect();
	static const char *marks[] = {",", "\"\"", "\"a,b\"", "\"\"\"\"", "\r", "\n", "\r\n", ",,", "\"\r\n\""};
	char buf[64];
	for (size_t n = 1; n <= 48; n++)
		for (size_t at = 0; at < n; at++)
			for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
				if (at + strlen(marks[m]) <= n)
					agree(&d, buf, place(buf, n, at, marks[m]));
	/* A field that ends at the 16th byte and one that starts there. */
	CU_ASSERT_EQUAL(agree(&d, "0123456789abcde,f", 17), 2);
	CU_ASSERT_EQUAL(agree(&d, "0123456789abcdef,g", 18), 2);
	/* A quoted field whose closing quote is byte 15 or 16. */
	CU_ASSERT_EQUAL(agree(&d, "\"123456789abcde\",x", 18), 2);
	CU_ASSERT_EQUAL(agree(&d, "\"123456789abcdef\",x", 19), 2);
	/* A doubled quote split by the block edge. */
	CU_ASSERT_EQUAL(agree(&d, "\"123456789abcd\"\"e\",x", 20), 2);
}

/* Multi-byte characters straddling the block edges, and invalid bytes at
 * each position, are refused or kept exactly as byte by byte. */
static void test_csv_non_ascii(void)
{
	struct dialect d = csv_dialect();
	static const char *marks[] = {"\xc3\xa9", "\xe2\x82\xa6", "\xf0\x9f\x98\x80", "\xc3",      "\xe2\x82", "\x80",
				      "\xff",     "\xed\xa0\x80", "\"\xe2\x80\x94\"", ",\xc3\xa9,"};
	char buf[64];
	for (size_t n = 1; n <= 40; n++)
		for (size_t at = 0; at < n; at++)
			for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++)
				if (at + strlen(marks[m]) <= n)
					agree(&d, buf, place(buf, n, at, marks[m]));
	/* A NUL byte anywhere in a long record. */
	for (size_t at = 0; at < 40; at++) {
		memset(buf, 'a', 40);
		buf[at] = '\0';
		CU_ASSERT_EQUAL(agree(&d, buf, 40), -1);
	}
}

/* Random records over the bytes that matter, in three dialects: the
 * default, ';' with ' and a distinct escape \, and '|' with a NULL marker. */
static void test_csv_random(void)
{
	static const char alphabet[] = {'a', 'b', ',', ';', '|', '"', '\'', '\\', '\r', '\n', ' ', 'N'};
	struct dialect ds[3] = {csv_dialect(), csv_dialect(), csv_dialect()};
	ds[1].delimiter = ';';
	ds[1].quote = '\'';
	ds[1].escape = '\\';
	ds[2].delimiter = '|';
	ds[2].null = "N";
	ds[2].null_len = 1;
	char buf[96];
	int parsed = 0;
	for (int iter = 0; iter < 60000; iter++) {
		size_t n = rnd(80);
		for (size_t i = 0; i < n; i++) {
			uint32_t r = rnd(100);
			/* Mostly plain bytes, so that runs cross block edges. */
			buf[i] = r < 60   ? (char)('c' + rnd(20))
				 : r < 62 ? (char)(0xc3 + rnd(2))
					  : alphabet[rnd(sizeof alphabet)];
		}
		parsed += agree(&ds[iter % 3], buf, n) >= 0;
	}
	/* Both outcomes occur: the comparison covered fields and refusals. */
	CU_ASSERT(parsed > 1000 && parsed < 59000);
}

/* Random byte strings, mostly ASCII with multi-byte and invalid sequences
 * and NULs sprinkled in, at every alignment: the check stops where the
 * byte-at-a-time rules stop. */
static void test_utf8_random(void)
{
	static const unsigned char seq[][4] = {
	    {0xc3, 0xa9}, {0xe2, 0x82, 0xac}, {0xf0, 0x9f, 0x98, 0x80}, {0xed, 0x9f, 0xbf}, {0xf4, 0x8f, 0xbf, 0xbf}};
	static const unsigned char bad[] = {0x80, 0xbf, 0xc0, 0xc1, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff, 0x00};
	unsigned char buf[160];
	for (int iter = 0; iter < 100000; iter++) {
		size_t n = rnd(140), i = 0;
		while (i < n) {
			uint32_t r = rnd(1000);
			if (r < 20 && i + 4 <= n) {
				const unsigned char *s = seq[rnd(5)];
				size_t k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
				memcpy(buf + i, s, k);
				i += k;
			} else if (r < 24) {
				buf[i++] = bad[rnd(sizeof bad)];
			} else {
				buf[i++] = (unsigned char)(' ' + rnd(95));
			}
		}
		char *p = exact_copy((const char *)buf, n);
		size_t want = ref_utf8(buf, n);
		size_t got = utf8_valid_prefix(p, n);
		CU_ASSERT_EQUAL(got, want);
		if (got != want)
			fprintf(stderr, "\n  [%s] %zu bytes: %zu vs %zu\n", PATH_NAME, n, got, want);
		free(p);
	}
}

/* byteset_find and byteset_mask_upto find every byte of the set at every
 * position of records of every length up to 40, and nothing else. */
static void test_byteset(void)
{
	struct byteset s;
	byteset_init(&s, ',', '"', '\r', '\n');
	char buf[40];
	for (size_t n = 0; n <= sizeof buf; n++) {
		for (size_t at = 0; at <= n; at++) {
			memset(buf, 'x', sizeof buf);
			if (at < n)
				buf[at] = "\",\r\n"[at % 4];
			char *rec = exact_copy(buf, n);
			CU_ASSERT_EQUAL(byteset_find(&s, rec, rec + n) - rec, (ptrdiff_t)at);
			for (size_t from = 0; from <= n; from++) {
				uint32_t m = byteset_mask_upto(&s, rec, rec + from, rec + n);
				uint32_t want =
				    at >= from && at < n && at - from < BYTESCAN_BLOCK ? 1u << (at - from) : 0;
				CU_ASSERT_EQUAL(m, want);
			}
			free(rec);
		}
	}
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (buf_init(&scratch_a, 64) < 0 || buf_init(&scratch_b, 64) < 0)
		return 1;
	CU_pSuite s = CU_add_suite("scan (" PATH_NAME ")", NULL, NULL);
	CU_add_test(s, "byteset", test_byteset);
	CU_add_test(s, "csv block edges", test_csv_block_edges);
	CU_add_test(s, "csv non-ascii", test_csv_non_ascii);
	CU_add_test(s, "csv random", test_csv_random);
	CU_add_test(s, "utf8 random", test_utf8_random);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	buf_free(&scratch_a);
	buf_free(&scratch_b);
	return failed ? 1 : 0;
}
