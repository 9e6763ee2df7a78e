/* test_frame.c - the framer finds record ends as PostgreSQL's COPY does and numbers chunks the same however the input is split. */
#include "../../core/chunk.h"
#include "../../core/limits.h"
#include "../../stages/frame.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAPS_MAX 65536

/* A copy of one chunk as the framer handed it over. */
struct snap {
	uint64_t seq, first_record, first_line, byte_offset;
	uint32_t n;
	uint32_t *off;
	uint8_t *flags;
	char *data;
	size_t len;
};

/* Everything a framer run produced. */
struct result {
	struct snap ch[SNAPS_MAX];
	int nchunks;
	bool has_header;
	char *header;
	size_t header_len;
	bool ended;
	uint64_t records;
	uint64_t bytes;
};

static const struct dialect csv_dialect = {FORMAT_CSV, ',', '"', '"', "", 0, false, NULL};
static const struct dialect csv_header_dialect = {FORMAT_CSV, ',', '"', '"', "", 0, true, NULL};
static const struct dialect text_dialect = {FORMAT_TEXT, '\t', 0, 0, "\\N", 2, false, NULL};

static void take_snap(struct result *res, const struct chunk *c)
{
	CU_ASSERT_FATAL(res->nchunks < SNAPS_MAX);
	struct snap *s = &res->ch[res->nchunks++];
	s->seq = c->seq;
	s->first_record = c->first_record;
	s->first_line = c->first_line;
	s->byte_offset = c->byte_offset;
	s->n = c->nrecords;
	s->off = malloc((c->nrecords + 1) * sizeof *s->off);
	s->flags = malloc(c->nrecords + 1);
	s->data = malloc(c->data_len + 1);
	memcpy(s->off, c->rec_off, (c->nrecords + 1) * sizeof *s->off);
	memcpy(s->flags, c->rec_flags, c->nrecords);
	memcpy(s->data, c->data, c->data_len);
	s->len = c->data_len;
	CU_ASSERT_EQUAL(c->rec_off[0], 0);
	CU_ASSERT_EQUAL(c->rec_off[c->nrecords], c->data_len);
}

/* Hands a full chunk away: its memory is scribbled over, as a worker would,
 * and the framer gets the other chunk of the pair. */
static struct chunk *swap_chunk(struct chunk *pair[2], struct chunk *c)
{
	memset(c->data, '#', c->data_cap);
	chunk_reset(c);
	return c == pair[0] ? pair[1] : pair[0];
}

/* Runs a framer over in, fed in blocks of block bytes (0: all at once). */
static void run_framer(const struct dialect *d, uint32_t batch_rows, size_t chunk_bytes, const char *in, size_t len,
		       size_t block, struct result *res)
{
	memset(res, 0, sizeof *res);
	struct framer *f = frame_create(d, batch_rows, chunk_bytes);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	struct chunk *pair[2] = {chunk_create(batch_rows, chunk_bytes), chunk_create(batch_rows, chunk_bytes)};
	CU_ASSERT_FATAL(pair[0] != NULL && pair[1] != NULL);
	struct chunk *c = pair[0];
	if (block == 0)
		block = len ? len : 1;
	/* Each block lives in its own allocation, so reading past it is caught by ASan. */
	for (size_t at = 0; at < len && !res->ended; at += block) {
		size_t n = len - at < block ? len - at : block;
		char *b = malloc(n);
		memcpy(b, in + at, n);
		size_t off = 0;
		while (off < n && !res->ended) {
			size_t used = 0;
			enum frame_event ev = frame_feed(f, c, b + off, n - off, &used);
			CU_ASSERT(used <= n - off);
			off += used;
			if (ev == FRAME_HEADER) {
				const char *h;
				frame_header(f, &h, &res->header_len);
				res->header = malloc(res->header_len + 1);
				memcpy(res->header, h, res->header_len);
				res->has_header = true;
			} else if (ev == FRAME_CHUNK) {
				take_snap(res, c);
				c = swap_chunk(pair, c);
			} else if (ev == FRAME_END) {
				res->ended = true;
			} else {
				CU_ASSERT_EQUAL(off, n);
			}
		}
		free(b);
	}
	enum frame_event ev = frame_finish(f, c);
	if (ev == FRAME_HEADER) {
		const char *h;
		frame_header(f, &h, &res->header_len);
		res->header = malloc(res->header_len + 1);
		memcpy(res->header, h, res->header_len);
		res->has_header = true;
	} else if (ev == FRAME_CHUNK) {
		take_snap(res, c);
	}
	res->records = frame_records(f);
	res->bytes = frame_bytes(f);
	frame_free(f);
	chunk_free(pair[0]);
	chunk_free(pair[1]);
}

static void free_result(struct result *res)
{
	for (int i = 0; i < res->nchunks; i++) {
		free(res->ch[i].off);
		free(res->ch[i].flags);
		free(res->ch[i].data);
	}
	free(res->header);
}

/* Record i of the whole run, across chunks, as a NUL-terminated copy in a static buffer. */
static const char *rec(const struct result *res, uint64_t i, uint8_t *flags)
{
	static char out[1 << 17];
	for (int k = 0; k < res->nchunks; k++) {
		const struct snap *s = &res->ch[k];
		if (i < s->n) {
			size_t len = s->off[i + 1] - s->off[i];
			if (len >= sizeof out)
				len = sizeof out - 1;
			memcpy(out, s->data + s->off[i], len);
			out[len] = '\0';
			if (flags)
				*flags = s->flags[i];
			return out;
		}
		i -= s->n;
	}
	return "<missing>";
}

static uint64_t total_records(const struct result *res)
{
	uint64_t n = 0;
	for (int k = 0; k < res->nchunks; k++)
		n += res->ch[k].n;
	return n;
}

static bool same_results(const struct result *a, const struct result *b)
{
	if (a->nchunks != b->nchunks || a->has_header != b->has_header || a->ended != b->ended ||
	    a->records != b->records)
		return false;
	if (a->has_header && (a->header_len != b->header_len || memcmp(a->header, b->header, a->header_len) != 0))
		return false;
	for (int k = 0; k < a->nchunks; k++) {
		const struct snap *x = &a->ch[k], *y = &b->ch[k];
		if (x->seq != y->seq || x->first_record != y->first_record || x->first_line != y->first_line ||
		    x->byte_offset != y->byte_offset || x->n != y->n || x->len != y->len)
			return false;
		if (memcmp(x->off, y->off, (x->n + 1) * sizeof *x->off) != 0 || memcmp(x->flags, y->flags, x->n) != 0 ||
		    memcmp(x->data, y->data, x->len) != 0)
			return false;
	}
	return true;
}

/* Runs the input whole and in blocks of 1, 2, 3, 7 and 4096 bytes and asserts every run matches the whole one. */
static void check_split_invariant(const struct dialect *d, uint32_t batch_rows, size_t chunk_bytes, const char *in,
				  size_t len, struct result *whole)
{
	static const size_t blocks[] = {1, 2, 3, 7, 4096};
	run_framer(d, batch_rows, chunk_bytes, in, len, 0, whole);
	for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
		struct result *r = malloc(sizeof *r);
		run_framer(d, batch_rows, chunk_bytes, in, len, blocks[i], r);
		if (!same_results(whole, r))
			fprintf(stderr, "\nsplit into blocks of %zu bytes changed the chunks\n", blocks[i]);
		CU_ASSERT_TRUE(same_results(whole, r));
		free_result(r);
		free(r);
	}
}

#define S(lit) lit, sizeof lit - 1

/* LF and CRLF both end CSV records, and each record keeps its own end-of-line bytes. */
static void test_crlf(void)
{
	struct result *r = malloc(sizeof *r);
	check_split_invariant(&csv_dialect, 100, 1 << 16, S("a,b\r\nc,d\r\n\"e\r\nf\",g\r\n"), r);
	CU_ASSERT_EQUAL(total_records(r), 3);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "a,b\r\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 1, NULL), "c,d\r\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 2, NULL), "\"e\r\nf\",g\r\n");
	CU_ASSERT_EQUAL(r->bytes, sizeof "a,b\r\nc,d\r\n\"e\r\nf\",g\r\n" - 1);
	free_result(r);
	run_framer(&csv_dialect, 100, 1 << 16, S("a\nb\rc\n"), 0, r);
	/* An LF file with a stray CR: the CR stays in its record for the parser to reject. */
	CU_ASSERT_EQUAL(total_records(r), 2);
	CU_ASSERT_STRING_EQUAL(rec(r, 1, NULL), "b\rc\n");
	free_result(r);
	/* A file whose first line ends with a bare CR uses CR as its line end, as COPY decides. */
	check_split_invariant(&csv_dialect, 100, 1 << 16, S("a\rb\r\"c\rd\"\r"), r);
	CU_ASSERT_EQUAL(total_records(r), 3);
	CU_ASSERT_STRING_EQUAL(rec(r, 2, NULL), "\"c\rd\"\r");
	CU_ASSERT_EQUAL(r->ch[0].first_line, 1);
	free_result(r);
	free(r);
}

/* Frames in into one chunk and returns it (the caller frees it). */
static struct chunk *frame_one(const struct dialect *d, const char *in, size_t len)
{
	struct framer *f = frame_create(d, 100, 1 << 16);
	struct chunk *c = chunk_create(100, 1 << 16);
	CU_ASSERT_FATAL(f != NULL && c != NULL);
	size_t used = 0;
	CU_ASSERT_EQUAL(frame_feed(f, c, in, len, &used), FRAME_MORE);
	frame_finish(f, c);
	frame_free(f);
	return c;
}

/* The first line's ending sets the input's style, as COPY decides: a record ending otherwise is refused with COPY's message, or keeps its CR for the parser to refuse. */
static void test_record_data_eol(void)
{
	char msg[128];
	size_t n = 0;
	/* LF input: a CRLF record keeps its CR. */
	struct chunk *c = frame_one(&csv_dialect, S("a,b\nc,d\r\ne"));
	CU_ASSERT_EQUAL_FATAL(c->nrecords, 3);
	CU_ASSERT_EQUAL(frame_record_data(c, 0, true, &n, msg, sizeof msg), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(frame_record_data(c, 1, true, &n, msg, sizeof msg), 0);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(frame_record_data(c, 2, true, &n, msg, sizeof msg), 0);
	CU_ASSERT_EQUAL(n, 1);
	chunk_free(c);
	/* CRLF input: both bytes go; a bare LF is refused. */
	c = frame_one(&csv_dialect, S("a,b\r\nc,d\ne,f\r\n"));
	CU_ASSERT_EQUAL_FATAL(c->nrecords, 3);
	CU_ASSERT_EQUAL(frame_record_data(c, 0, true, &n, msg, sizeof msg), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(frame_record_data(c, 1, true, &n, msg, sizeof msg), -1);
	CU_ASSERT_STRING_EQUAL(msg, "unquoted newline found in data");
	CU_ASSERT_EQUAL(frame_record_data(c, 2, true, &n, msg, sizeof msg), 0);
	CU_ASSERT_EQUAL(n, 3);
	chunk_free(c);
	/* CR input, text format: an LF ends a record only to be refused. */
	c = frame_one(&text_dialect, S("a\rb\nc\r"));
	CU_ASSERT_EQUAL_FATAL(c->nrecords, 3);
	CU_ASSERT_EQUAL(frame_record_data(c, 0, false, &n, msg, sizeof msg), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(frame_record_data(c, 1, false, &n, msg, sizeof msg), -1);
	CU_ASSERT_STRING_EQUAL(msg, "literal newline found in data");
	CU_ASSERT_EQUAL(frame_record_data(c, 2, false, &n, msg, sizeof msg), 0);
	CU_ASSERT_EQUAL(n, 1);
	chunk_free(c);
}

/* Newlines inside quotes belong to the record and advance the physical line number of later records. */
static void test_quoted_newlines(void)
{
	struct result *r = malloc(sizeof *r);
	check_split_invariant(&csv_dialect, 1, 1 << 16, S("1,\"x\ny\nz\"\n2,\"a\"\"\nb\"\n3,c\n"), r);
	CU_ASSERT_EQUAL(r->nchunks, 3);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "1,\"x\ny\nz\"\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 1, NULL), "2,\"a\"\"\nb\"\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 2, NULL), "3,c\n");
	CU_ASSERT_EQUAL(r->ch[0].first_line, 1);
	CU_ASSERT_EQUAL(r->ch[1].first_line, 4);
	CU_ASSERT_EQUAL(r->ch[2].first_line, 6);
	CU_ASSERT_EQUAL(r->ch[2].first_record, 3);
	CU_ASSERT_EQUAL(r->ch[2].byte_offset, strlen("1,\"x\ny\nz\"\n2,\"a\"\"\nb\"\n"));
	free_result(r);
	/* A quote opening in the middle of a field still protects the newline, as in COPY. */
	run_framer(&csv_dialect, 10, 1 << 16, S("ab\"c\nd\"e,f\ng\n"), 0, r);
	CU_ASSERT_EQUAL(total_records(r), 2);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "ab\"c\nd\"e,f\n");
	free_result(r);
	free(r);
}

/* With an escape other than the quote, an escaped quote does not close the quoted field. */
static void test_escape_char(void)
{
	static const struct dialect d = {FORMAT_CSV, ',', '"', '\\', "", 0, false, NULL};
	struct result *r = malloc(sizeof *r);
	check_split_invariant(&d, 10, 1 << 16, S("1,\"a\\\"\nb\"\n2,\"c\\\\\"\n3,x\\\"y\n"), r);
	CU_ASSERT_EQUAL(total_records(r), 3);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "1,\"a\\\"\nb\"\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 1, NULL), "2,\"c\\\\\"\n");
	/* Outside quotes the escape is an ordinary byte and the quote opens a quoted section. */
	CU_ASSERT_STRING_EQUAL(rec(r, 2, NULL), "3,x\\\"y\n");
	free_result(r);
	free(r);
}

/* Chunk boundaries that fall inside quoted newlines move the whole record to the next chunk, and numbering stays right. */
static void test_boundary_inside_quotes(void)
{
	/* Records of 11 bytes with a quoted newline in the middle; 40-byte chunks fit three. */
	char in[11 * 20 + 1];
	for (int i = 0; i < 20; i++)
		snprintf(in + 11 * i, 12, "%02d,\"ab\ncd\"\n", i);
	struct result *r = malloc(sizeof *r);
	check_split_invariant(&csv_dialect, 100, 40, in, 11 * 20, r);
	CU_ASSERT_EQUAL(total_records(r), 20);
	CU_ASSERT_EQUAL(r->nchunks, 7);
	for (int k = 0; k < r->nchunks; k++) {
		CU_ASSERT_EQUAL(r->ch[k].seq, (uint64_t)k);
		CU_ASSERT_EQUAL(r->ch[k].first_record, (uint64_t)(3 * k + 1));
		CU_ASSERT_EQUAL(r->ch[k].first_line, (uint64_t)(6 * k + 1));
		CU_ASSERT_EQUAL(r->ch[k].byte_offset, (uint64_t)(33 * k));
	}
	for (int i = 0; i < 20; i++) {
		char want[13];
		snprintf(want, sizeof want, "%02d,\"ab\ncd\"\n", i);
		CU_ASSERT_STRING_EQUAL(rec(r, (uint64_t)i, NULL), want);
	}
	free_result(r);
	/* The same by record count: batches of 4 records. */
	check_split_invariant(&csv_dialect, 4, 1 << 16, in, 11 * 20, r);
	CU_ASSERT_EQUAL(r->nchunks, 5);
	CU_ASSERT_EQUAL(r->ch[4].first_record, 17);
	CU_ASSERT_EQUAL(r->ch[4].first_line, 33);
	free_result(r);
	free(r);
}

/* A last record without an end-of-line is completed by frame_finish, in CSV and text. */
static void test_no_final_newline(void)
{
	struct result *r = malloc(sizeof *r);
	check_split_invariant(&csv_dialect, 10, 1 << 16, S("a,b\nc,\"d\ne\""), r);
	CU_ASSERT_EQUAL(total_records(r), 2);
	CU_ASSERT_STRING_EQUAL(rec(r, 1, NULL), "c,\"d\ne\"");
	free_result(r);
	check_split_invariant(&text_dialect, 10, 1 << 16, S("a\tb\nc\\"), r);
	CU_ASSERT_EQUAL(total_records(r), 2);
	CU_ASSERT_STRING_EQUAL(rec(r, 1, NULL), "c\\");
	free_result(r);
	/* Empty input makes no chunk. */
	run_framer(&csv_dialect, 10, 1 << 16, "", 0, 0, r);
	CU_ASSERT_EQUAL(r->nchunks, 0);
	CU_ASSERT_EQUAL(r->records, 0);
	free_result(r);
	/* A final CR on a CR-terminated file is that record's end-of-line. */
	run_framer(&csv_dialect, 10, 1 << 16, S("a\r"), 0, r);
	CU_ASSERT_EQUAL(total_records(r), 1);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "a\r");
	free_result(r);
	free(r);
}

/* A UTF-8 BOM at the start is skipped but counted in byte offsets; one elsewhere, or a BOM look-alike, is data. */
static void test_bom(void)
{
	struct result *r = malloc(sizeof *r);
	check_split_invariant(&csv_dialect, 1, 1 << 16,
			      S("\xef\xbb\xbf"
				"a,b\n\xef\xbb\xbf"
				"c\n"),
			      r);
	CU_ASSERT_EQUAL(r->nchunks, 2);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "a,b\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 1, NULL), "\xef\xbb\xbf"
						"c\n");
	CU_ASSERT_EQUAL(r->ch[0].byte_offset, 3);
	CU_ASSERT_EQUAL(r->ch[1].byte_offset, 7);
	CU_ASSERT_EQUAL(r->bytes, 12);
	free_result(r);
	check_split_invariant(&csv_dialect, 10, 1 << 16,
			      S("\xef\xbb"
				"x\n"),
			      r);
	CU_ASSERT_EQUAL(total_records(r), 1);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "\xef\xbb"
						"x\n");
	free_result(r);
	run_framer(&csv_dialect, 10, 1 << 16, S("\xef\xbb"), 1, r);
	CU_ASSERT_EQUAL(total_records(r), 1);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "\xef\xbb");
	free_result(r);
	/* A BOM alone is no record. */
	run_framer(&csv_dialect, 10, 1 << 16, S("\xef\xbb\xbf"), 1, r);
	CU_ASSERT_EQUAL(r->nchunks, 0);
	free_result(r);
	free(r);
}

/* The header record is handed over without its end-of-line, is not counted, and numbering starts after it. */
static void test_header(void)
{
	struct result *r = malloc(sizeof *r);
	check_split_invariant(&csv_header_dialect, 2, 1 << 16,
			      S("\xef\xbb\xbf"
				"id,\"na\nme\"\r\n1,a\r\n2,b\r\n3,c\r\n"),
			      r);
	CU_ASSERT_TRUE(r->has_header);
	CU_ASSERT_EQUAL(r->header_len, strlen("id,\"na\nme\""));
	CU_ASSERT_NSTRING_EQUAL(r->header, "id,\"na\nme\"", r->header_len);
	CU_ASSERT_EQUAL(r->records, 3);
	CU_ASSERT_EQUAL(r->nchunks, 2);
	CU_ASSERT_EQUAL(r->ch[0].first_record, 1);
	CU_ASSERT_EQUAL(r->ch[0].first_line, 3);
	CU_ASSERT_EQUAL(r->ch[0].byte_offset, 3 + strlen("id,\"na\nme\"\r\n"));
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "1,a\r\n");
	CU_ASSERT_EQUAL(r->ch[1].first_record, 3);
	free_result(r);
	/* A file that is only a header, without an end-of-line, still yields the header. */
	run_framer(&csv_header_dialect, 2, 1 << 16, S("a,b"), 0, r);
	CU_ASSERT_TRUE(r->has_header);
	CU_ASSERT_EQUAL(r->header_len, 3);
	CU_ASSERT_EQUAL(r->nchunks, 0);
	CU_ASSERT_EQUAL(r->records, 0);
	free_result(r);
	free(r);
}

/* A line "\." ends the data in both formats; in CSV only alone on its line and outside quotes. */
static void test_end_marker(void)
{
	struct result *r = malloc(sizeof *r);
	check_split_invariant(&csv_dialect, 10, 1 << 16, S("a\n\\.\nb\n"), r);
	CU_ASSERT_TRUE(r->ended);
	CU_ASSERT_EQUAL(total_records(r), 1);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "a\n");
	free_result(r);
	check_split_invariant(&csv_dialect, 10, 1 << 16, S("a\r\n\\.\r\nb\r\n"), r);
	CU_ASSERT_TRUE(r->ended);
	CU_ASSERT_EQUAL(total_records(r), 1);
	free_result(r);
	/* At the very end of the input the marker needs no end-of-line; frame_finish drops it. */
	check_split_invariant(&csv_dialect, 10, 1 << 16, S("a\n\\."), r);
	CU_ASSERT_EQUAL(total_records(r), 1);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "a\n");
	free_result(r);
	/* In quotes, after other bytes, or followed by more bytes, it is CSV data. */
	check_split_invariant(&csv_dialect, 10, 1 << 16, S("\"a\n\\.\n\"\nx\\.\n\\.y\n\\\n"), r);
	CU_ASSERT_FALSE(r->ended);
	CU_ASSERT_EQUAL(total_records(r), 4);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "\"a\n\\.\n\"\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 2, NULL), "\\.y\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 3, NULL), "\\\n");
	free_result(r);
	/* Text format: the marker ends the data, and records before it stay in the chunk. */
	check_split_invariant(&text_dialect, 10, 1 << 16, S("a\tb\n\\.\nc\n"), r);
	CU_ASSERT_TRUE(r->ended);
	CU_ASSERT_EQUAL(total_records(r), 1);
	free_result(r);
	/* Text format, as PostgreSQL 15: "\." after data on a line ends the data, the bytes before it are the last record. */
	check_split_invariant(&text_dialect, 10, 1 << 16, S("a\nbc\\.\nd\n"), r);
	CU_ASSERT_TRUE(r->ended);
	CU_ASSERT_EQUAL(total_records(r), 2);
	CU_ASSERT_STRING_EQUAL(rec(r, 1, NULL), "bc");
	free_result(r);
	/* An escaped backslash before a dot is data. */
	check_split_invariant(&text_dialect, 10, 1 << 16, S("\\\\.\n"), r);
	CU_ASSERT_FALSE(r->ended);
	CU_ASSERT_EQUAL(total_records(r), 1);
	free_result(r);
	/* The marker with the batch full exactly before it: the caller's frame_finish hands the chunk over. */
	check_split_invariant(&csv_dialect, 2, 1 << 16, S("a\nb\n\\.\n"), r);
	CU_ASSERT_TRUE(r->ended);
	CU_ASSERT_EQUAL(total_records(r), 2);
	free_result(r);
	free(r);
}

/* In text format a backslash escapes the next byte, so backslash-newline does not end a record (but counts a line). */
static void test_text_backslash_newline(void)
{
	struct result *r = malloc(sizeof *r);
	check_split_invariant(&text_dialect, 1, 1 << 16, S("a\\\nb\tc\n\\\\\nd\r\ne\\\r\nf\r\n"), r);
	CU_ASSERT_EQUAL(total_records(r), 5);
	CU_ASSERT_STRING_EQUAL(rec(r, 0, NULL), "a\\\nb\tc\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 1, NULL), "\\\\\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 2, NULL), "d\r\n");
	/* An escaped CR is data, and the LF after it still ends the record, as in COPY. */
	CU_ASSERT_STRING_EQUAL(rec(r, 3, NULL), "e\\\r\n");
	CU_ASSERT_STRING_EQUAL(rec(r, 4, NULL), "f\r\n");
	CU_ASSERT_EQUAL(r->ch[1].first_line, 3);
	CU_ASSERT_EQUAL(r->ch[3].first_line, 5);
	/* Quotes mean nothing in text format. */
	free_result(r);
	run_framer(&text_dialect, 10, 1 << 16, S("\"a\nb\"\n"), 0, r);
	CU_ASSERT_EQUAL(total_records(r), 2);
	free_result(r);
	free(r);
}

/* A record larger than a read buffer and than a chunk is stored as its first bytes, flagged, and later records keep their numbers and lines. */
static void test_record_too_long(void)
{
	size_t big = READ_BUF_BYTES * 2 + 12345;
	size_t chunk_bytes = CHUNK_BYTES_MIN;
	size_t len = 0;
	char *in = malloc(big + 1000);
	len += (size_t)sprintf(in + len, "1,a\n2,\"");
	size_t big_start = 4;
	for (size_t i = 0; i < big; i++)
		in[len++] = i % 1000 == 999 ? '\n' : 'x';
	len += (size_t)sprintf(in + len, "\"\n3,b\n4,c\n");
	struct result *r = malloc(sizeof *r);
	static const size_t blocks[] = {0, READ_BUF_BYTES, 4096, 7};
	struct result *whole = malloc(sizeof *whole);
	run_framer(&csv_dialect, 2, chunk_bytes, in, len, 0, whole);
	for (size_t b = 1; b < sizeof blocks / sizeof blocks[0]; b++) {
		run_framer(&csv_dialect, 2, chunk_bytes, in, len, blocks[b], r);
		CU_ASSERT_TRUE(same_results(whole, r));
		free_result(r);
	}
	free(r);
	r = whole;
	CU_ASSERT_EQUAL(r->records, 4);
	CU_ASSERT_EQUAL(r->nchunks, 3);
	/* The long record does not fit after "1,a": it opens a chunk of its own. */
	CU_ASSERT_EQUAL(r->ch[0].n, 1);
	CU_ASSERT_EQUAL(r->ch[1].n, 2);
	CU_ASSERT_EQUAL(r->ch[1].first_record, 2);
	CU_ASSERT_EQUAL(r->ch[1].byte_offset, big_start);
	CU_ASSERT_EQUAL(r->ch[1].flags[0], REC_TOO_LONG);
	CU_ASSERT_EQUAL(r->ch[1].flags[1], 0);
	CU_ASSERT_EQUAL(r->ch[1].off[1], REJECT_RAW_BYTES_MAX);
	CU_ASSERT_EQUAL(memcmp(r->ch[1].data, in + big_start, REJECT_RAW_BYTES_MAX), 0);
	uint8_t fl = 1;
	CU_ASSERT_STRING_EQUAL(rec(r, 2, &fl), "3,b\n");
	CU_ASSERT_EQUAL(fl, 0);
	CU_ASSERT_EQUAL(r->ch[2].first_record, 4);
	CU_ASSERT_EQUAL(r->ch[2].first_line, 2 + big / 1000 + 2);
	CU_ASSERT_EQUAL(r->ch[2].byte_offset, len - 4);
	free_result(r);
	free(r);
	free(in);
}

/* Filling a chunk by record count or by bytes gives the same chunks for any split, for a messy input in CSV and text. */
static void test_split_invariance(void)
{
	/* A deterministic mix: quoted fields with newlines and doubled quotes, CRLF
	 * and LF, empty lines, long records (some longer than a chunk), no final newline. */
	size_t cap = 1 << 18, len = 0;
	char *in = malloc(cap);
	len += (size_t)sprintf(in, "\xef\xbb\xbfid,name,note\r\n");
	uint32_t x = 12345;
	for (int i = 0; len < cap - 4000; i++) {
		x = x * 1103515245u + 12345u;
		unsigned kind = (x >> 16) % 8;
		if (kind == 0)
			len += (size_t)sprintf(in + len, "%d,\"multi\nline \"\"q\"\"\r\n\",x\n", i);
		else if (kind == 1)
			len += (size_t)sprintf(in + len, "%d,plain,crlf\r\n", i);
		else if (kind == 2)
			len += (size_t)sprintf(in + len, "\n");
		else if (kind == 3) {
			int n = (int)((x >> 8) % 700);
			len += (size_t)sprintf(in + len, "%d,\"", i);
			for (int k = 0; k < n; k++)
				in[len++] = k % 50 == 49 ? '\n' : (char)('a' + k % 26);
			len += (size_t)sprintf(in + len, "\",long\n");
		} else if (kind == 4)
			len += (size_t)sprintf(in + len, "%d,back\\slash\\\\.\n", i);
		else
			len += (size_t)sprintf(in + len, "%d,name %u,note\n", i, x);
	}
	len += (size_t)sprintf(in + len, "last,no,newline");
	struct result *r = malloc(sizeof *r);
	check_split_invariant(&csv_header_dialect, 7, 512, in, len, r);
	CU_ASSERT_TRUE(r->nchunks > 100);
	/* Records end to end are the input without BOM, header and the cut tails of long records. */
	bool any_long = false;
	for (int k = 0; k < r->nchunks; k++)
		for (uint32_t i = 0; i < r->ch[k].n; i++)
			any_long |= r->ch[k].flags[i] == REC_TOO_LONG;
	CU_ASSERT_TRUE(any_long);
	free_result(r);
	check_split_invariant(&csv_header_dialect, 1000, 1 << 16, in, len, r);
	size_t at = 3 + strlen("id,name,note\r\n");
	for (int k = 0; k < r->nchunks; k++) {
		CU_ASSERT_EQUAL(r->ch[k].byte_offset, at);
		CU_ASSERT_EQUAL(memcmp(r->ch[k].data, in + at, r->ch[k].len), 0);
		at += r->ch[k].len;
	}
	CU_ASSERT_EQUAL(at, len);
	free_result(r);
	check_split_invariant(&text_dialect, 5, 300, in, len, r);
	CU_ASSERT_TRUE(r->nchunks > 100);
	free_result(r);
	free(r);
	free(in);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("frame", NULL, NULL);
	if (s == NULL)
		return 1;
	CU_add_test(s, "record data and line-ending style", test_record_data_eol);
	CU_add_test(s, "crlf", test_crlf);
	CU_add_test(s, "quoted_newlines", test_quoted_newlines);
	CU_add_test(s, "escape_char", test_escape_char);
	CU_add_test(s, "boundary_inside_quotes", test_boundary_inside_quotes);
	CU_add_test(s, "no_final_newline", test_no_final_newline);
	CU_add_test(s, "bom", test_bom);
	CU_add_test(s, "header", test_header);
	CU_add_test(s, "end_marker", test_end_marker);
	CU_add_test(s, "text_backslash_newline", test_text_backslash_newline);
	CU_add_test(s, "record_too_long", test_record_too_long);
	CU_add_test(s, "split_invariance", test_split_invariance);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
