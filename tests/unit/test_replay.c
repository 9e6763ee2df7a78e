/* test_replay.c - rejects read back as byte-identical raw records per header, in order, framed as they were read. */
#include "../../core/buf.h"
#include "../../core/chunk.h"
#include "../../core/limits.h"
#include "../../io/json_read.h"
#include "../../io/rejects.h"
#include "../../io/replay.h"
#include "../../stages/frame.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static int file_seq;

/* A fresh path in the test directory. */
static void new_path(char *out, size_t n)
{
	snprintf(out, n, "%s/r%d.ndjson", dir, ++file_seq);
}

static void write_file(const char *path, const char *p, size_t n)
{
	FILE *fp = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL(fwrite(p, 1, n, fp), n);
	fclose(fp);
}

/* The whole content of a group's memfd, which must be rewound and sealed. */
static char *fd_content(int fd, size_t *len)
{
	CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_CUR), 0);
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(fstat(fd, &st), 0);
	char *p = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, p + got, (size_t)st.st_size - got, (off_t)got);
		CU_ASSERT_FATAL(n > 0);
		got += (size_t)n;
	}
	p[got] = '\0';
	*len = got;
	/* Sealed: nothing can change what will be loaded. */
	CU_ASSERT_EQUAL(pwrite(fd, "x", 1, 0), -1);
	CU_ASSERT_EQUAL(errno, EPERM);
	return p;
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Opens path, expecting success. */
static void open_ok(const char *path, const struct replay_framing *fr, struct replay *r)
{
	struct err e;
	err_clear(&e);
	int rc = replay_open(path, fr, r, &e);
	if (rc != 0)
		fprintf(stderr, "\nreplay_open: %s\n", e.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
}

/* Checks group g's header and content (header line, then the records given, each with "\n"). */
static void check_group(const struct replay *r, uint32_t g, const char *header, size_t header_len, const char *body,
			size_t body_len, uint64_t records)
{
	CU_ASSERT_FATAL(g < r->ngroups);
	const struct replay_group *rg = &r->groups[g];
	if (header == NULL) {
		CU_ASSERT_PTR_NULL(rg->header);
	} else {
		CU_ASSERT_PTR_NOT_NULL_FATAL(rg->header);
		CU_ASSERT_EQUAL(rg->header_len, header_len);
		CU_ASSERT(memcmp(rg->header, header, header_len) == 0);
		CU_ASSERT_EQUAL(rg->header[header_len], '\0');
	}
	CU_ASSERT_EQUAL(rg->records, records);
	size_t len;
	char *got = fd_content(rg->fd, &len);
	size_t want = (header ? header_len + 1 : 0) + body_len;
	CU_ASSERT_EQUAL(len, want);
	CU_ASSERT_EQUAL(rg->bytes, want);
	if (len == want) {
		if (header) {
			CU_ASSERT(memcmp(got, header, header_len) == 0);
			CU_ASSERT_EQUAL(got[header_len], '\n');
		}
		CU_ASSERT(memcmp(got + (header ? header_len + 1 : 0), body, body_len) == 0);
	}
	free(got);
}

/* ------------------------------------------------------------------ round trip */

#define RT_RECORDS 3000

/* Records of any bytes at all (NUL, CR, LF, quotes, backslashes, bytes that
 * are not UTF-8, valid multi-byte characters) under two headers, one of them
 * with invalid bytes and a NUL, and none, interleaved: written by
 * io/rejects.c, read back byte for byte, grouped by header in order of first
 * appearance, each group in the order of the file. */
static void test_round_trip(void)
{
	char path[128];
	new_path(path, sizeof path);
	static const char h1[] = "id,name";
	static const char h2[] = "id,\"n\xe9\n\xc3\xa9\",\0x\xff";
	const char *headers[3] = {h1, NULL, h2};
	size_t header_lens[3] = {sizeof h1 - 1, 0, sizeof h2 - 1};
	static const char *const sources[3] = {"a.csv", "-", "b\xff.csv"};
	struct buf want[3];
	uint64_t counts[3] = {0};
	for (int k = 0; k < 3; k++)
		buf_init(&want[k], 1 << 16);
	struct err e;
	struct rejects *rj = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rj);
	rng_state = 42;
	char raw[600];
	for (int i = 0; i < RT_RECORDS; i++) {
		/* The first three records fix the order of the groups: h1, none, h2. */
		int k = i < 3 ? i : (int)(rnd() % 3);
		size_t n = rnd() % 400;
		for (size_t j = 0; j < n; j++) {
			uint64_t x = rnd();
			if (x % 4 == 0 && j + 2 <= n) {
				raw[j++] = (char)0xc3; /* é, valid UTF-8 */
				raw[j] = (char)0xa9;
			} else if (x % 4 == 1) {
				raw[j] = "\n\r\"\\,\t\0"[(x >> 8) % 7];
			} else {
				raw[j] = (char)(x >> 16);
			}
		}
		struct reject rec = {.source = sources[k],
				     .record = (uint64_t)i + 1,
				     .line = (uint64_t)i + 2,
				     .message = "m",
				     .raw = raw,
				     .raw_len = n,
				     .header = headers[k],
				     .header_len = header_lens[k]};
		CU_ASSERT_EQUAL_FATAL(rejects_write(rj, &rec, &e), 0);
		buf_put(&want[k], raw, n);
		buf_putc(&want[k], '\n');
		counts[k]++;
	}
	CU_ASSERT_EQUAL_FATAL(rejects_close(rj, &e), 0);

	struct replay r;
	open_ok(path, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.ngroups, 3);
	CU_ASSERT_EQUAL(r.records, RT_RECORDS);
	CU_ASSERT_EQUAL(r.skipped_cut, 0);
	CU_ASSERT_EQUAL(r.skipped_cr, 0);
	CU_ASSERT_EQUAL(r.groups[0].first_line, 1);
	CU_ASSERT_EQUAL(r.groups[1].first_line, 2);
	CU_ASSERT_EQUAL(r.groups[2].first_line, 3);
	for (int k = 0; k < 3; k++)
		check_group(&r, (uint32_t)k, headers[k], header_lens[k], want[k].data, want[k].len, counts[k]);
	replay_close(&r);
	CU_ASSERT_EQUAL(r.ngroups, 0);
	replay_close(&r); /* a second close does nothing */
	for (int k = 0; k < 3; k++)
		buf_free(&want[k]);
}

/* An fd set to -1 in the group is left open by replay_close: the caller has taken it. */
static void test_fd_ownership(void)
{
	char path[128];
	new_path(path, sizeof path);
	static const char text[] = "{\"raw\":\"a\"}\n";
	write_file(path, text, sizeof text - 1);
	struct replay r;
	open_ok(path, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.ngroups, 1);
	int fd = r.groups[0].fd;
	r.groups[0].fd = -1;
	replay_close(&r);
	size_t len;
	char *got = fd_content(fd, &len);
	CU_ASSERT_EQUAL(len, 2);
	CU_ASSERT(memcmp(got, "a\n", 2) == 0);
	free(got);
	CU_ASSERT_EQUAL(close(fd), 0);
}

/* ------------------------------------------------------------------ cut lines */

/* Lines whose raw or header was cut are left out, counted, and listed with source, record and line; the rest load. */
static void test_cut_lines(void)
{
	char path[128];
	new_path(path, sizeof path);
	struct err e;
	struct rejects *rj = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rj);
	size_t big = REJECT_HEADER_BYTES_MAX + 1;
	char *long_text = malloc(big);
	memset(long_text, 'x', big);
	struct reject rec = {.source = "s.csv", .message = "m", .header = "h", .header_len = 1};
	for (uint64_t i = 1; i <= 5; i++) {
		rec.record = i;
		rec.raw = i == 2 ? long_text : "ok";
		rec.raw_len = i == 2 ? REJECT_RAW_BYTES_MAX + 1 : 2;
		rec.header = i == 4 ? long_text : "h";
		rec.header_len = i == 4 ? big : 1;
		CU_ASSERT_EQUAL_FATAL(rejects_write(rj, &rec, &e), 0);
	}
	CU_ASSERT_EQUAL_FATAL(rejects_close(rj, &e), 0);
	free(long_text);
	struct replay r;
	open_ok(path, NULL, &r);
	CU_ASSERT_EQUAL(r.skipped_cut, 2);
	CU_ASSERT_EQUAL(r.skipped_cr, 0);
	CU_ASSERT_EQUAL_FATAL(r.nskipped, 2);
	CU_ASSERT_EQUAL(r.skipped[0].why, REPLAY_SKIP_CUT);
	CU_ASSERT_STRING_EQUAL(r.skipped[0].source, "s.csv");
	CU_ASSERT_EQUAL(r.skipped[0].record, 2);
	CU_ASSERT_EQUAL(r.skipped[0].line, 2);
	CU_ASSERT_EQUAL(r.skipped[1].record, 4);
	CU_ASSERT_EQUAL(r.skipped[1].line, 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(replay_skip_reason(REPLAY_SKIP_CUT), "cut"));
	CU_ASSERT_EQUAL(r.records, 3);
	CU_ASSERT_EQUAL_FATAL(r.ngroups, 1);
	check_group(&r, 0, "h", 1, "ok\nok\nok\n", 9, 3);
	replay_close(&r);

	/* Past REPLAY_SKIPPED_LISTED_MAX the count goes on and the list stops. */
	new_path(path, sizeof path);
	struct buf b;
	buf_init(&b, 1 << 16);
	for (unsigned i = 1; i <= REPLAY_SKIPPED_LISTED_MAX + 50; i++) {
		char line[128];
		int n = snprintf(line, sizeof line, "{\"raw\":\"x\",\"raw_truncated\":true,\"record\":%u}\n", i);
		buf_put(&b, line, (size_t)n);
	}
	/* A source of null and an absent one are both no source. */
	static const char tail[] = "{\"source\":null,\"raw\":\"y\",\"header_truncated\":true,\"header\":\"h\"}\n";
	buf_put(&b, tail, sizeof tail - 1);
	write_file(path, b.data, b.len);
	buf_free(&b);
	open_ok(path, NULL, &r);
	CU_ASSERT_EQUAL(r.skipped_cut, REPLAY_SKIPPED_LISTED_MAX + 51);
	CU_ASSERT_EQUAL(r.nskipped, REPLAY_SKIPPED_LISTED_MAX);
	CU_ASSERT_PTR_NULL(r.skipped[0].source);
	CU_ASSERT_EQUAL(r.skipped[REPLAY_SKIPPED_LISTED_MAX - 1].record, REPLAY_SKIPPED_LISTED_MAX);
	CU_ASSERT_EQUAL(r.ngroups, 0);
	CU_ASSERT_EQUAL(r.records, 0);
	replay_close(&r);
}

/* ------------------------------------------------------------------ the JSON reader */

/* Hand-written lines: any key order, later duplicates win, nested values of
 * other keys, every escape, surrogate pairs, \u00XX as a byte only under its
 * string's invalid_utf8 flag, escaped key names, white space and CRLF, blank
 * lines, header null as none. */
static void test_json_reader(void)
{
	char path[128];
	new_path(path, sizeof path);
	static const char text[] =
	    "\n"
	    "{\"message\":\"m\",\"raw\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\",\"source\":\"x\",\"record\":1}\n"
	    "   \t \r\n"
	    "  { \"x\" : [1, -2.5e+3, {\"raw\": 7, \"y\": [[], {}, null, true, false]}, \"s\\u0000\"] ,"
	    " \"raw\" : \"first\" , \"raw\":\"\\u00e9\\u00ff\\ud83d\\ude00\\u20ac\\u0000\" } \r\n"
	    "{\"raw_invalid_utf8\":true,\"raw\":\"\\u00e9\\u00ff\\u0080\\ud83d\\ude00\\u20ac\\u0041\"}\n"
	    "{\"r\\u0061w\":\"k\",\"header\":null,\"raw_truncated\":false,\"z\":{\"a\":{\"b\":{}}}}\n"
	    "{\"header\":\"\\u00e9\",\"raw\":\"h1\"}\n"
	    "{\"header_invalid_utf8\":true,\"header\":\"\\u00e9\",\"raw\":\"h2\"}\n"
	    "{\"header\":\"\",\"raw\":\"\"}\n"
	    "{\"raw\":\"h1b\",\"header\":\"\\u00e9\",\"header\":\"\\u00c3\\u00a9\",\"header_invalid_utf8\":true}\n";
	write_file(path, text, sizeof text - 1);
	struct replay r;
	open_ok(path, NULL, &r);
	CU_ASSERT_EQUAL(r.records, 8);
	CU_ASSERT_EQUAL_FATAL(r.ngroups, 4);
	static const char none[] = "a\"b\\c/d\b\f\n\r\te\n"
				   "\xc3\xa9\xc3\xbf\xf0\x9f\x98\x80\xe2\x82\xac\0\n"
				   "\xe9\xff\x80\xf0\x9f\x98\x80\xe2\x82\xac"
				   "A\n"
				   "k\n";
	check_group(&r, 0, NULL, 0, none, sizeof none - 1, 4);
	CU_ASSERT_EQUAL(r.groups[0].first_line, 2);
	/* "é" as a character and as the bytes c3 a9 are one header; as the byte e9 another. */
	check_group(&r, 1, "\xc3\xa9", 2, "h1\nh1b\n", 7, 2);
	CU_ASSERT_EQUAL(r.groups[1].first_line, 7);
	check_group(&r, 2, "\xe9", 1, "h2\n", 3, 1);
	check_group(&r, 3, "", 0, "\n", 1, 1);
	replay_close(&r);
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *why; /* a part of the message */
};

/* Each kind of bad line is refused with EXIT_DATAERR naming the file, the line and what is wrong; r stays empty. */
static void test_malformed(void)
{
	static const struct bad_case cases[] = {
	    {"[1,2]\n", 1, "not a JSON object"},
	    {"not json\n", 1, "not a JSON object"},
	    {"{\"raw\":\"a\"}\n\n{\"raw\":1}\n", 3, "\"raw\" must be a string"},
	    {"{\"source\":\"a\",\"record\":1}\n", 1, "no \"raw\" string"},
	    {"{}\n", 1, "no \"raw\" string"},
	    {"{\"raw\":\"x\"} x\n", 1, "text after the object"},
	    {"{\"raw\":\"x\"}{}\n", 1, "text after the object"},
	    {"{\"raw\":\"x\",}\n", 1, "an object key must be a string"},
	    {"{,}\n", 1, "an object key must be a string"},
	    {"{\"raw\" \"x\"}\n", 1, "':'"},
	    {"{\"raw\":\"x\" \"y\":1}\n", 1, "',' or '}'"},
	    {"{\"raw\":\"x\n", 1, "without its closing quote"},
	    {"{\"raw\":\"a\\qb\"}\n", 1, "invalid escape"},
	    {"{\"raw\":\"a\\u12\"}\n", 1, "four hex digits"},
	    {"{\"raw\":\"a\\u12g4\"}\n", 1, "four hex digits"},
	    {"{\"raw\":\"\\ud800\"}\n", 1, "high surrogate"},
	    {"{\"raw\":\"\\ud800\\u0041\"}\n", 1, "high surrogate"},
	    {"{\"raw\":\"\\udc00\"}\n", 1, "low surrogate"},
	    {"{\"raw\":\"a\tb\"}\n", 1, "control character"},
	    {"{\"raw\":\"x\",\"raw_truncated\":1}\n", 1, "true or false"},
	    {"{\"raw\":\"x\",\"raw_invalid_utf8\":\"yes\"}\n", 1, "true or false"},
	    {"{\"raw\":\"x\",\"header\":1}\n", 1, "\"header\" must be a string or null"},
	    {"{\"raw\":\"x\",\"source\":[]}\n", 1, "\"source\" must be a string or null"},
	    {"{\"raw\":\"x\",\"record\":1.5}\n", 1, "whole number"},
	    {"{\"raw\":\"x\",\"record\":-1}\n", 1, "whole number"},
	    {"{\"raw\":\"x\",\"record\":99999999999999999999}\n", 1, "whole number"},
	    {"{\"raw\":\"x\",\"record\":\"1\"}\n", 1, "whole number"},
	    {"{\"raw\":\"x\",\"y\":[1,{\"a\":}]}\n", 1, "not a JSON value"},
	    {"{\"raw\":\"x\",\"y\":[1 2]}\n", 1, "',' or ']'"},
	    {"{\"raw\":\"x\",\"y\":01}\n", 1, "',' or '}'"},
	    {"{\"raw\":\"x\",\"y\":1.}\n", 1, "decimal point"},
	    {"{\"raw\":\"x\",\"y\":1e}\n", 1, "exponent"},
	    {"{\"raw\":\"x\",\"y\":-}\n", 1, "without digits"},
	    {"{\"raw\":\"x\",\"y\":tru}\n", 1, "not a JSON value"},
	    {"{\"raw\":\"x\",\"y\":nulll}\n", 1, "',' or '}'"},
	    {"{\"raw\":\"a\"}\n{\"raw\":\"b\"}\n{\"raw\":\"c", 3, "was the file cut short?"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[128];
		new_path(path, sizeof path);
		write_file(path, cases[i].text, strlen(cases[i].text));
		struct replay r;
		struct err e;
		err_clear(&e);
		int rc = replay_open(path, NULL, &r, &e);
		char want_line[64];
		snprintf(want_line, sizeof want_line, ": line %u, byte ", cases[i].line);
		bool ok = rc == -1 && e.code == EXIT_DATAERR && strstr(e.msg, path) == e.msg &&
			  strstr(e.msg, want_line) != NULL && strstr(e.msg, cases[i].why) != NULL && r.ngroups == 0 &&
			  r.groups == NULL;
		if (!ok)
			fprintf(stderr, "\ncase %zu: rc %d, code %d, message: %s\n", i, rc, e.code, e.msg);
		CU_ASSERT(ok);
		if (rc == 0)
			replay_close(&r);
	}

	/* Nesting past JSON_READ_DEPTH_MAX in a key replay does not use. */
	struct buf b;
	buf_init(&b, 1024);
	buf_put(&b, "{\"raw\":\"x\",\"y\":", 15);
	for (unsigned i = 0; i < JSON_READ_DEPTH_MAX + 1; i++)
		buf_putc(&b, '[');
	for (unsigned i = 0; i < JSON_READ_DEPTH_MAX + 1; i++)
		buf_putc(&b, ']');
	buf_put(&b, "}\n", 2);
	char path[128];
	new_path(path, sizeof path);
	write_file(path, b.data, b.len);
	struct replay r;
	struct err e;
	CU_ASSERT_EQUAL(replay_open(path, NULL, &r, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "nested too deep"));
	/* One level less is fine. */
	b.len = 0;
	buf_put(&b, "{\"raw\":\"x\",\"y\":", 15);
	for (unsigned i = 0; i < JSON_READ_DEPTH_MAX - 1; i++)
		buf_putc(&b, '[');
	for (unsigned i = 0; i < JSON_READ_DEPTH_MAX - 1; i++)
		buf_putc(&b, ']');
	buf_put(&b, "}\n", 2);
	write_file(path, b.data, b.len);
	open_ok(path, NULL, &r);
	CU_ASSERT_EQUAL(r.records, 1);
	replay_close(&r);
	buf_free(&b);
}

/* A line longer than REJECT_LINE_BYTES_MAX is refused before it is held whole. */
static void test_line_too_long(void)
{
	char path[128];
	new_path(path, sizeof path);
	size_t n = REJECT_LINE_BYTES_MAX + 2;
	char *p = malloc(n);
	memset(p, ' ', n);
	memcpy(p, "{\"raw\":\"x\"}", 11);
	p[n - 1] = '\n';
	write_file(path, p, n);
	free(p);
	struct replay r;
	struct err e;
	CU_ASSERT_EQUAL(replay_open(path, NULL, &r, &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_DATAERR);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "line 1 is longer than"));
}

/* A missing or unreadable file is EXIT_NOINPUT naming it; empty and blank files give no groups. */
static void test_missing_and_empty(void)
{
	struct replay r;
	struct err e;
	char path[128];
	snprintf(path, sizeof path, "%s/does-not-exist.ndjson", dir);
	CU_ASSERT_EQUAL(replay_open(path, NULL, &r, &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_NOINPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, path));
	CU_ASSERT_EQUAL(replay_open(dir, NULL, &r, &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_NOINPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, dir));
	new_path(path, sizeof path);
	write_file(path, "", 0);
	open_ok(path, NULL, &r);
	CU_ASSERT_EQUAL(r.ngroups, 0);
	CU_ASSERT_EQUAL(r.records, 0);
	replay_close(&r);
	write_file(path, "\n \n\t\r\n  ", 8);
	open_ok(path, NULL, &r);
	CU_ASSERT_EQUAL(r.ngroups, 0);
	replay_close(&r);
}

/* ------------------------------------------------------------------ framing */

/* Writes lines {"raw":...,"header":...} for the records given, header NULL: none. */
static void write_lines(const char *path, const char *const *raws, const char *const *headers, int n)
{
	struct err e;
	struct rejects *rj = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rj);
	for (int i = 0; i < n; i++) {
		struct reject rec = {.source = "s",
				     .record = (uint64_t)i + 1,
				     .message = "m",
				     .raw = raws[i],
				     .raw_len = strlen(raws[i]),
				     .header = headers[i],
				     .header_len = headers[i] ? strlen(headers[i]) : 0};
		CU_ASSERT_EQUAL_FATAL(rejects_write(rj, &rec, &e), 0);
	}
	CU_ASSERT_EQUAL_FATAL(rejects_close(rj, &e), 0);
}

/* Replays raws under one header h (or none) with framing fr; checks the
 * records per group and the records skipped for a CR, by index. */
static void replay_counts(const struct replay_framing *fr, const char *const *raws, const char *h, int n,
			  const uint64_t *want, uint32_t nwant, const int *cr, int ncr)
{
	const char *headers[8];
	for (int i = 0; i < n; i++)
		headers[i] = h;
	char path[128];
	new_path(path, sizeof path);
	write_lines(path, raws, headers, n);
	struct replay r;
	open_ok(path, fr, &r);
	CU_ASSERT_EQUAL(r.ngroups, nwant);
	for (uint32_t g = 0; g < r.ngroups && g < nwant; g++)
		CU_ASSERT_EQUAL(r.groups[g].records, want[g]);
	CU_ASSERT_EQUAL(r.skipped_cr, (uint64_t)ncr);
	CU_ASSERT_EQUAL_FATAL(r.nskipped, (uint32_t)ncr);
	for (int i = 0; i < ncr; i++) {
		CU_ASSERT_EQUAL(r.skipped[i].why, REPLAY_SKIP_CR);
		CU_ASSERT_EQUAL(r.skipped[i].record, (uint64_t)cr[i] + 1);
		CU_ASSERT_STRING_EQUAL(r.skipped[i].source, "s");
	}
	replay_close(&r);
}

/* A record that ends inside quotes, or after an unpaired backslash in text,
 * ends its group, and the next record with that header opens another; a
 * record with a CR outside quotes is not replayed; NDJSON lines are never
 * either. */
static void test_framing(void)
{
	const struct replay_framing csv = {REPLAY_CSV, 0, 0};
	const struct replay_framing csv_bs = {REPLAY_CSV, '"', '\\'};
	const struct replay_framing csv_sq = {REPLAY_CSV, '\'', 0};
	const struct replay_framing text = {REPLAY_TEXT, 0, 0};
	const struct replay_framing lines = {REPLAY_LINES, 0, 0};
	const char *open_quote[] = {"1,a", "2,\"b\nc", "3,d"};
	replay_counts(&csv, open_quote, "id,v", 3, (uint64_t[]){2, 1}, 2, NULL, 0);
	replay_counts(NULL, open_quote, "id,v", 3, (uint64_t[]){3}, 1, NULL, 0);
	replay_counts(&csv_sq, open_quote, "id,v", 3, (uint64_t[]){3}, 1, NULL, 0);
	const char *closed_quote[] = {"1,\"a\"\"b\"", "2,\"b\nc\"", "3,d"};
	replay_counts(&csv, closed_quote, "id,v", 3, (uint64_t[]){3}, 1, NULL, 0);
	/* With escape \, "a\" is still open; with the quote as escape it is closed. */
	const char *escaped[] = {"1,\"a\\\"", "2"};
	replay_counts(&csv_bs, escaped, "id,v", 2, (uint64_t[]){1, 1}, 2, NULL, 0);
	replay_counts(&csv, escaped, "id,v", 2, (uint64_t[]){2}, 1, NULL, 0);
	const char *escaped_bs[] = {"1,\"a\\\\\"", "2"};
	replay_counts(&csv_bs, escaped_bs, "id,v", 2, (uint64_t[]){2}, 1, NULL, 0);
	const char *backslash[] = {"1\ta\\", "2\tb\\\\", "3\tc"};
	replay_counts(&text, backslash, NULL, 3, (uint64_t[]){1, 2}, 2, NULL, 0);
	/* A CR outside quotes, with a header or without, first or not. */
	const char *cr[] = {"1,a\rb", "2,c", "3,\"e\rf\"", "4,g\r"};
	replay_counts(&csv, cr, NULL, 4, (uint64_t[]){2}, 1, (int[]){0, 3}, 2);
	replay_counts(&csv, cr, "id,v", 4, (uint64_t[]){2}, 1, (int[]){0, 3}, 2);
	replay_counts(&lines, cr, NULL, 4, (uint64_t[]){4}, 1, NULL, 0);
	/* In text an escaped CR is data. */
	const char *cr_text[] = {"1\\\ra", "2\ra", "3\tb"};
	replay_counts(&text, cr_text, NULL, 3, (uint64_t[]){2}, 1, (int[]){1}, 1);
	/* A record both open and with a CR is not replayed, and ends nothing. */
	const char *both[] = {"1,a\r\"b", "2,c"};
	replay_counts(&csv, both, "id,v", 2, (uint64_t[]){1}, 1, (int[]){0}, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(replay_skip_reason(REPLAY_SKIP_CR), "carriage return"));
}

/* A framed record list. */
struct recs {
	char **p;
	size_t *len;
	size_t n, cap;
};

static void recs_add(struct recs *rs, const char *p, size_t len)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 64;
		rs->p = realloc(rs->p, rs->cap * sizeof *rs->p);
		rs->len = realloc(rs->len, rs->cap * sizeof *rs->len);
	}
	rs->p[rs->n] = malloc(len + 1);
	memcpy(rs->p[rs->n], p, len);
	rs->len[rs->n++] = len;
}

static void recs_free(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->p[i]);
	free(rs->p);
	free(rs->len);
	memset(rs, 0, sizeof *rs);
}

#define FR_CHUNK_BYTES ((size_t)4 << 20)
#define FR_BATCH_ROWS  100000u

/* Frames in with stages/frame.c; records with their end-of-line into out,
 * the header (if the dialect has one) into hdr; returns the input's eol. */
static uint8_t frame_all(const struct dialect *d, const char *in, size_t len, struct recs *out, struct recs *hdr)
{
	/* Sized to the input, so that framing many small inputs stays cheap. */
	size_t chunk_bytes = len + 1 > FR_CHUNK_BYTES ? FR_CHUNK_BYTES : len + 1;
	uint32_t rows = len + 1 > FR_BATCH_ROWS ? FR_BATCH_ROWS : (uint32_t)len + 1;
	struct framer *f = frame_create(d, rows, chunk_bytes, RECORD_BYTES_DEFAULT);
	struct chunk *c = chunk_create(rows, chunk_bytes);
	CU_ASSERT_FATAL(f != NULL && c != NULL);
	uint8_t eol = FRAME_EOL_UNKNOWN;
	size_t off = 0;
	bool ended = false, last = false;
	while (!last) {
		enum frame_event ev;
		if (off < len && !ended) {
			size_t used = 0;
			ev = frame_feed(f, c, in + off, len - off, &used);
			off += used;
		} else {
			ev = frame_finish(f, c);
			last = true;
		}
		if (ev == FRAME_HEADER) {
			const char *h;
			size_t hl;
			frame_header(f, &h, &hl);
			recs_add(hdr, h, hl);
		} else if (ev == FRAME_CHUNK) {
			eol = c->eol;
			for (uint32_t i = 0; i < c->nrecords; i++) {
				CU_ASSERT_EQUAL(c->rec_flags[i], 0);
				recs_add(out, c->data + c->rec_off[i], c->rec_off[i + 1] - c->rec_off[i]);
			}
			chunk_reset(c);
		} else if (ev == FRAME_END) {
			ended = true;
		}
	}
	frame_free(f);
	chunk_free(c);
	return eol;
}

/* A worker's raw: the end-of-line (LF, then a CR before it) stripped. */
static size_t strip_eol(const char *p, size_t len)
{
	if (len > 0 && p[len - 1] == '\n')
		len--;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return len;
}

#define FR_SOURCES 24

/* Random inputs (quotes or backslashes, CR, LF, NUL, bytes that are not
 * UTF-8) are framed by stages/frame.c; their records, interleaved as workers
 * would write them, go through the rejects file and back; framing each
 * group's file again gives exactly the same records under the same header,
 * in the same order within each header, but for the records with a CR
 * outside quotes, which are counted instead. Inputs may end inside a quoted
 * field or after a backslash. */
static void frame_round_trip(enum input_format format, uint64_t seed)
{
	bool csv = format == FORMAT_CSV;
	static const char *const csv_headers[2] = {"id,name", "id,\"na\nme\""};
	static const char *const text_headers[2] = {"id\tname", "id\tna\\\nme"};
	const char *const *hs = csv ? csv_headers : text_headers;
	const char *alphabet = csv ? "aaaaab,,,\"\"\n\n\r\\ \0\xff\xc3" : "aaaaabN\t\t\t\\\\\n\n\r \0\xff\xc3";
	size_t alen = csv ? 19 : 19;
	rng_state = seed;
	/* Per source: its header (index into hs, or -1) and its raw records. */
	int src_header[FR_SOURCES];
	struct recs src_raw[FR_SOURCES];
	memset(src_raw, 0, sizeof src_raw);
	struct buf in;
	buf_init(&in, 1 << 14);
	for (int s = 0; s < FR_SOURCES; s++) {
		src_header[s] = (int)(rnd() % 3) - 1;
		struct dialect d = {format,           csv ? ',' : '\t', csv ? '"' : 0,      csv ? '"' : 0,
				    csv ? "" : "\\N", csv ? 0 : 2,      src_header[s] >= 0, NULL};
		in.len = 0;
		/* A clean first line fixes LF as the input's end-of-line. */
		const char *first = src_header[s] >= 0 ? hs[src_header[s]] : csv ? "0,0" : "0\t0";
		buf_put(&in, first, strlen(first));
		buf_putc(&in, '\n');
		size_t n = 200 + rnd() % 1500;
		for (size_t j = 0; j < n; j++) {
			char ch = alphabet[rnd() % alen];
			buf_putc(&in, ch);
			if (ch == '\xc3')
				buf_putc(&in, '\xa9');
		}
		struct recs framed = {0}, hdr = {0};
		uint8_t eol = frame_all(&d, in.data, in.len, &framed, &hdr);
		CU_ASSERT_EQUAL(eol, FRAME_EOL_LF);
		CU_ASSERT_EQUAL(hdr.n, src_header[s] >= 0 ? 1u : 0u);
		for (size_t i = 0; i < framed.n; i++)
			recs_add(&src_raw[s], framed.p[i], strip_eol(framed.p[i], framed.len[i]));
		recs_free(&framed);
		recs_free(&hdr);
	}
	buf_free(&in);

	/* Interleave the sources' records into the rejects file, each source in
	 * its own order, and note the order per header (3: none). */
	char path[128];
	new_path(path, sizeof path);
	struct err e;
	struct rejects *rj = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rj);
	struct recs want[3] = {{0}};
	size_t next[FR_SOURCES] = {0};
	uint64_t want_cr = 0;
	const struct dialect d_none = {format,           csv ? ',' : '\t', csv ? '"' : 0, csv ? '"' : 0,
				       csv ? "" : "\\N", csv ? 0 : 2,      false,         NULL};
	for (;;) {
		int left = 0;
		for (int s = 0; s < FR_SOURCES; s++)
			left += next[s] < src_raw[s].n;
		if (left == 0)
			break;
		int pick = (int)(rnd() % (uint64_t)left);
		int s = 0;
		for (;; s++)
			if (next[s] < src_raw[s].n && pick-- == 0)
				break;
		size_t i = next[s]++;
		const char *h = src_header[s] >= 0 ? hs[src_header[s]] : NULL;
		struct reject rec = {.source = "src",
				     .record = i + 1,
				     .message = "m",
				     .raw = src_raw[s].p[i],
				     .raw_len = src_raw[s].len[i],
				     .header = h,
				     .header_len = h ? strlen(h) : 0};
		CU_ASSERT_EQUAL_FATAL(rejects_write(rj, &rec, &e), 0);
		/* The framer itself says whether the record holds a CR outside
		 * quotes: alone, it makes the framer take CR as the end-of-line. */
		struct recs alone = {0}, no_header = {0};
		struct buf one;
		buf_init(&one, src_raw[s].len[i] + 1);
		buf_put(&one, src_raw[s].p[i], src_raw[s].len[i]);
		buf_putc(&one, '\n');
		uint8_t eol = frame_all(&d_none, one.data, one.len, &alone, &no_header);
		if (eol == FRAME_EOL_CR || eol == FRAME_EOL_CRLF)
			want_cr++;
		else
			recs_add(&want[src_header[s] >= 0 ? src_header[s] : 2], src_raw[s].p[i], src_raw[s].len[i]);
		buf_free(&one);
		recs_free(&alone);
		recs_free(&no_header);
	}
	CU_ASSERT_EQUAL_FATAL(rejects_close(rj, &e), 0);

	struct replay_framing fr = {csv ? REPLAY_CSV : REPLAY_TEXT, 0, 0};
	struct replay r;
	open_ok(path, &fr, &r);
	size_t at[3] = {0};
	uint32_t groups_of[3] = {0};
	for (uint32_t g = 0; g < r.ngroups; g++) {
		const struct replay_group *rg = &r.groups[g];
		int k = 2;
		if (rg->header != NULL)
			k = strcmp(rg->header, hs[0]) == 0 ? 0 : 1;
		groups_of[k]++;
		struct dialect d = {format,           csv ? ',' : '\t', csv ? '"' : 0,      csv ? '"' : 0,
				    csv ? "" : "\\N", csv ? 0 : 2,      rg->header != NULL, NULL};
		size_t len;
		char *content = fd_content(rg->fd, &len);
		struct recs framed = {0}, hdr = {0};
		uint8_t eol = frame_all(&d, content, len, &framed, &hdr);
		if (rg->header != NULL) {
			CU_ASSERT_EQUAL(hdr.n, 1);
			CU_ASSERT(hdr.n == 1 && hdr.len[0] == rg->header_len &&
				  memcmp(hdr.p[0], rg->header, rg->header_len) == 0);
		}
		CU_ASSERT(eol == FRAME_EOL_LF || eol == FRAME_EOL_UNKNOWN);
		CU_ASSERT_EQUAL(framed.n, rg->records);
		for (size_t i = 0; i < framed.n; i++, at[k]++) {
			bool same = at[k] < want[k].n && framed.len[i] == want[k].len[at[k]] + 1 &&
				    memcmp(framed.p[i], want[k].p[at[k]], want[k].len[at[k]]) == 0 &&
				    framed.p[i][framed.len[i] - 1] == '\n';
			CU_ASSERT(same);
		}
		recs_free(&framed);
		recs_free(&hdr);
		free(content);
	}
	for (int k = 0; k < 3; k++) {
		CU_ASSERT_EQUAL(at[k], want[k].n);
		recs_free(&want[k]);
	}
	CU_ASSERT_EQUAL(r.skipped_cr, want_cr);
	CU_ASSERT_EQUAL(r.skipped_cut, 0);
	/* Something was exercised: several headers, and some groups split. */
	CU_ASSERT(r.ngroups >= 3);
	replay_close(&r);
	for (int s = 0; s < FR_SOURCES; s++)
		recs_free(&src_raw[s]);
}

static void test_frame_round_trip_csv(void)
{
	for (uint64_t seed = 1; seed <= 20; seed++)
		frame_round_trip(FORMAT_CSV, seed * 7919);
}

static void test_frame_round_trip_text(void)
{
	for (uint64_t seed = 1; seed <= 20; seed++)
		frame_round_trip(FORMAT_TEXT, seed * 104729);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_replay.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("replay", NULL, NULL);
	CU_add_test(s, "round trip", test_round_trip);
	CU_add_test(s, "fd ownership", test_fd_ownership);
	CU_add_test(s, "cut lines", test_cut_lines);
	CU_add_test(s, "json reader", test_json_reader);
	CU_add_test(s, "malformed", test_malformed);
	CU_add_test(s, "line too long", test_line_too_long);
	CU_add_test(s, "missing and empty", test_missing_and_empty);
	CU_add_test(s, "framing", test_framing);
	CU_add_test(s, "frame round trip csv", test_frame_round_trip_csv);
	CU_add_test(s, "frame round trip text", test_frame_round_trip_text);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		failed++;
	return failed ? 1 : 0;
}
