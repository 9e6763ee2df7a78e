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
	size_t cap_max; /* the largest data buffer a chunk was grown to (0: none grown) */
	int grows;      /* FRAME_GROW events */
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

/* Runs a framer over in, fed in blocks of block bytes (0: all at once), with
 * records bounded by record_max; a chunk is grown when the framer asks. */
static void run_framer_max(const struct dialect *d, uint32_t batch_rows, size_t chunk_bytes, size_t record_max,
			   const char *in, size_t len, size_t block, struct result *res)
{
	memset(res, 0, sizeof *res);
	struct framer *f = frame_create(d, batch_rows, chunk_bytes, record_max);
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
			} else if (ev == FRAME_GROW) {
				size_t cap = frame_grow_bytes(f);
				CU_ASSERT_FATAL(cap > c->data_cap);
				CU_ASSERT_FATAL(chunk_grow(c, cap) == 0);
				res->grows++;
				if (cap > res->cap_max)
					res->cap_max = cap;
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

/* The same with the loader's default bound, far above these inputs. */
static void run_framer(const struct dialect *d, uint32_t batch_rows, size_t chunk_bytes, const char *in, size_t len,
		       size_t block, struct result *res)
{
	run_framer_max(d, batch_rows, chunk_bytes, RECORD_BYTES_DEFAULT, in, len, block, res);
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
static void check_split_invariant_max(const struct dialect *d, uint32_t batch_rows, size_t chunk_bytes,
				      size_t record_max, const char *in, size_t len, struct result *whole)
{
	static const size_t blocks[] = {1, 2, 3, 7, 4096};
	run_framer_max(d, batch_rows, chunk_bytes, record_max, in, len, 0, whole);
	for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
		struct result *r = malloc(sizeof *r);
		run_framer_max(d, batch_rows, chunk_bytes, record_max, in, len, blocks[i], r);
		if (!same_results(whole, r))
			fprintf(stderr, "\nsplit into blocks of %zu bytes changed the chunks\n", blocks[i]);
		CU_ASSERT_TRUE(same_results(whole, r));
		free_result(r);
		free(r);
	}
}

static void check_split_invariant(const struct dialect *d, uint32_t batch_rows, size_t chunk_bytes, const char *in,
				  size_t len, struct result *whole)
{
	check_split_invariant_max(d, batch_rows, chunk_bytes, RECORD_BYTES_DEFAULT, in, len, whole);
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
	struct framer *f = frame_create(d, 100, 1 << 16, RECORD_BYTES_DEFAULT);
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

/* "1,a\n2,\"<big bytes, a newline every 1000>\"\n3,b\n4,c\n" in a fresh
 * allocation; *big_start is where record 2 starts. */
static char *big_input(size_t big, size_t *len, size_t *big_start)
{
	char *in = malloc(big + 1000);
	size_t n = (size_t)sprintf(in, "1,a\n2,\"");
	*big_start = 4;
	for (size_t i = 0; i < big; i++)
		in[n++] = i % 1000 == 999 ? '\n' : 'x';
	n += (size_t)sprintf(in + n, "\"\n3,b\n4,c\n");
	*len = n;
	return in;
}

/* Runs in whole and in blocks of a read buffer, 4096 and 7 bytes, asserts
 * the runs agree, and returns the whole run. */
static struct result *run_split(uint32_t batch_rows, size_t chunk_bytes, size_t record_max, const char *in, size_t len)
{
	static const size_t blocks[] = {READ_BUF_BYTES, 4096, 7};
	struct result *whole = malloc(sizeof *whole);
	struct result *r = malloc(sizeof *r);
	run_framer_max(&csv_dialect, batch_rows, chunk_bytes, record_max, in, len, 0, whole);
	for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
		run_framer_max(&csv_dialect, batch_rows, chunk_bytes, record_max, in, len, blocks[b], r);
		CU_ASSERT_TRUE(same_results(whole, r));
		free_result(r);
	}
	free(r);
	return whole;
}

/* A record larger than a read buffer and than a chunk, and within the bound, gets a chunk of its own whose buffer
 * grows to hold it whole; the records around it keep their chunks, numbers, lines and offsets. */
static void test_record_longer_than_chunk(void)
{
	size_t big = READ_BUF_BYTES * 2 + 12345, len, big_start;
	size_t chunk_bytes = CHUNK_BYTES_MIN;
	char *in = big_input(big, &len, &big_start);
	struct result *r = run_split(2, chunk_bytes, RECORD_BYTES_DEFAULT, in, len);
	CU_ASSERT_EQUAL(r->records, 4);
	CU_ASSERT_EQUAL_FATAL(r->nchunks, 3);
	/* It does not fit after "1,a": that chunk closes; it fills the next alone. */
	CU_ASSERT_EQUAL(r->ch[0].n, 1);
	CU_ASSERT_EQUAL(r->ch[1].n, 1);
	CU_ASSERT_EQUAL(r->ch[1].first_record, 2);
	CU_ASSERT_EQUAL(r->ch[1].byte_offset, big_start);
	CU_ASSERT_EQUAL(r->ch[1].flags[0], 0);
	CU_ASSERT_EQUAL(r->ch[1].len, big + 5);
	CU_ASSERT_EQUAL(memcmp(r->ch[1].data, in + big_start, big + 5), 0);
	/* Grown by doubling, never past what the record needed twice over. */
	CU_ASSERT_TRUE(r->grows >= 1 && r->grows <= 3);
	CU_ASSERT_TRUE(r->cap_max >= big + 5 && r->cap_max <= 2 * (big + 5));
	CU_ASSERT_EQUAL(r->ch[2].n, 2);
	CU_ASSERT_EQUAL(r->ch[2].first_record, 3);
	CU_ASSERT_EQUAL(r->ch[2].first_line, 2 + big / 1000 + 1);
	CU_ASSERT_EQUAL(r->ch[2].byte_offset, len - 8);
	free_result(r);
	free(r);
	free(in);
}

/* A record over the bound and longer than a chunk is kept as its first RECORD_CUT_BYTES, flagged too long and cut,
 * alone in its chunk, and the chunks around it are those of a load that takes it whole. */
static void test_record_over_bound(void)
{
	size_t big = READ_BUF_BYTES * 2 + 12345, len, big_start;
	char *in = big_input(big, &len, &big_start);
	struct result *r = run_split(2, CHUNK_BYTES_MIN, 4096, in, len);
	CU_ASSERT_EQUAL(r->records, 4);
	CU_ASSERT_EQUAL_FATAL(r->nchunks, 3);
	CU_ASSERT_EQUAL(r->ch[1].n, 1);
	CU_ASSERT_EQUAL(r->ch[1].first_record, 2);
	CU_ASSERT_EQUAL(r->ch[1].byte_offset, big_start);
	CU_ASSERT_EQUAL(r->ch[1].flags[0], REC_TOO_LONG | REC_CUT);
	CU_ASSERT_EQUAL(r->ch[1].len, RECORD_CUT_BYTES);
	CU_ASSERT_EQUAL(memcmp(r->ch[1].data, in + big_start, RECORD_CUT_BYTES), 0);
	/* Nothing grew: the bound is below a chunk. */
	CU_ASSERT_EQUAL(r->grows, 0);
	uint8_t fl = 1;
	CU_ASSERT_STRING_EQUAL(rec(r, 2, &fl), "3,b\n");
	CU_ASSERT_EQUAL(fl, 0);
	CU_ASSERT_EQUAL(r->ch[2].first_record, 3);
	CU_ASSERT_EQUAL(r->ch[2].first_line, 2 + big / 1000 + 1);
	CU_ASSERT_EQUAL(r->ch[2].byte_offset, len - 8);
	free_result(r);
	free(r);
	/* Bounded above a chunk but below the record: it grows up to the bound, then is cut. */
	r = run_split(2, CHUNK_BYTES_MIN, READ_BUF_BYTES + READ_BUF_BYTES / 2, in, len);
	CU_ASSERT_EQUAL_FATAL(r->nchunks, 3);
	CU_ASSERT_EQUAL(r->ch[1].flags[0], REC_TOO_LONG | REC_CUT);
	CU_ASSERT_EQUAL(r->ch[1].len, RECORD_CUT_BYTES);
	CU_ASSERT_TRUE(r->cap_max <= READ_BUF_BYTES + READ_BUF_BYTES / 2 + 2);
	CU_ASSERT_EQUAL(r->ch[2].byte_offset, len - 8);
	free_result(r);
	free(r);
	free(in);
}

/* Flags of the records of one framer run, in order, as a string: '.' loads, 'L' too long (whole), 'C' too long and
 * cut; and the data length of each in lens. */
static void flag_string(const struct result *r, char *out, size_t *lens)
{
	size_t k = 0;
	for (int c = 0; c < r->nchunks; c++)
		for (uint32_t i = 0; i < r->ch[c].n; i++) {
			uint8_t f = r->ch[c].flags[i];
			out[k] = f == 0 ? '.' : f == REC_TOO_LONG ? 'L' : f == (REC_TOO_LONG | REC_CUT) ? 'C' : '?';
			lens[k++] = r->ch[c].off[i + 1] - r->ch[c].off[i];
		}
	out[k] = '\0';
}

/* n bytes of 'a' + k, then end, into in at *len. */
static void put_record(char *in, size_t *len, size_t n, int k, const char *end)
{
	memset(in + *len, 'a' + k, n);
	*len += n;
	*len += (size_t)sprintf(in + *len, "%s", end);
}

/* The bound counts a record's bytes without its line end (LF, CRLF, or none at the end of the input): exactly at
 * the bound loads, one byte more is too long, kept whole while it fits the bound plus a line end and cut past it;
 * for records longer than a chunk (grown) and for records that share one. */
static void test_record_bound_edges(void)
{
	static const struct {
		size_t chunk_bytes, max;
	} cases[] = {{64, 100}, {1 << 16, 100}};
	for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
		size_t max = cases[t].max, chunk_bytes = cases[t].chunk_bytes, len = 0;
		char in[2048];
		put_record(in, &len, 3, 0, "\n");
		put_record(in, &len, max, 1, "\n");
		put_record(in, &len, max + 1, 2, "\n");
		put_record(in, &len, max + 2, 3, "\n");
		put_record(in, &len, 5, 4, "\n");
		put_record(in, &len, max, 5, "");
		struct result *r = malloc(sizeof *r);
		check_split_invariant_max(&csv_dialect, 100, chunk_bytes, max, in, len, r);
		char flags[16];
		size_t lens[16];
		flag_string(r, flags, lens);
		/* Cut only when it is also longer than a chunk. */
		CU_ASSERT_STRING_EQUAL(flags, chunk_bytes < max ? "..LC.." : "..LL..");
		CU_ASSERT_EQUAL(lens[1], max + 1);
		CU_ASSERT_EQUAL(lens[2], max + 2);
		CU_ASSERT_EQUAL(lens[3], chunk_bytes < max ? chunk_bytes : max + 3);
		CU_ASSERT_EQUAL(lens[5], max);
		CU_ASSERT_EQUAL(r->records, 6);
		if (chunk_bytes < max) {
			/* Each record longer than a chunk is alone in its own. */
			CU_ASSERT_EQUAL(r->nchunks, 6);
			CU_ASSERT_TRUE(r->cap_max <= max + 2);
		} else {
			CU_ASSERT_EQUAL(r->nchunks, 1);
			CU_ASSERT_EQUAL(r->grows, 0);
		}
		free_result(r);
		/* CRLF: both bytes are the line end. */
		len = 0;
		put_record(in, &len, max, 1, "\r\n");
		put_record(in, &len, max + 1, 2, "\r\n");
		put_record(in, &len, 2, 3, "\r\n");
		check_split_invariant_max(&csv_dialect, 100, chunk_bytes, max, in, len, r);
		flag_string(r, flags, lens);
		CU_ASSERT_STRING_EQUAL(flags, chunk_bytes < max ? ".C." : ".L.");
		CU_ASSERT_EQUAL(lens[0], max + 2);
		free_result(r);
		free(r);
	}
}

/* A long record starts and ends anywhere in a chunk's bytes: quoted newlines (CSV), escaped newlines (text), an
 * NDJSON line and white-space lines longer than a chunk; every record's bytes are the input's, every chunk's offset
 * and line right, for any split. */
static void test_long_records_formats(void)
{
	static const struct dialect nd = {FORMAT_NDJSON, 0, 0, 0, "", 0, false, NULL};
	size_t cap = 1 << 16, len = 0;
	char *in = malloc(cap);
	/* CSV: short records, a 300-byte quoted record with newlines, short ones. */
	for (int i = 0; i < 3; i++)
		len += (size_t)sprintf(in + len, "%d,short\n", i);
	len += (size_t)sprintf(in + len, "9,\"");
	for (int k = 0; k < 300; k++)
		in[len++] = k % 40 == 39 ? '\n' : k % 7 == 0 ? ',' : 'q';
	len += (size_t)sprintf(in + len, "\"\"x\"\n7,end\n");
	struct result *r = malloc(sizeof *r);
	check_split_invariant_max(&csv_dialect, 100, 32, 4096, in, len, r);
	CU_ASSERT_EQUAL(r->records, 5);
	size_t at = 0;
	uint64_t line = 1, recs = 1;
	for (int k = 0; k < r->nchunks; k++) {
		CU_ASSERT_EQUAL(r->ch[k].byte_offset, at);
		CU_ASSERT_EQUAL(r->ch[k].first_line, line);
		CU_ASSERT_EQUAL(r->ch[k].first_record, recs);
		CU_ASSERT_EQUAL(memcmp(r->ch[k].data, in + at, r->ch[k].len), 0);
		for (size_t i = 0; i < r->ch[k].len; i++)
			line += r->ch[k].data[i] == '\n';
		at += r->ch[k].len;
		recs += r->ch[k].n;
	}
	CU_ASSERT_EQUAL(at, len);
	free_result(r);
	/* Text: backslash-newline inside a 200-byte record. */
	len = 0;
	len += (size_t)sprintf(in, "a\tb\n");
	for (int k = 0; k < 100; k++)
		len += (size_t)sprintf(in + len, "%s", k % 10 == 9 ? "\\\n" : "xy");
	len += (size_t)sprintf(in + len, "\nc\td\n");
	check_split_invariant_max(&text_dialect, 100, 16, 4096, in, len, r);
	CU_ASSERT_EQUAL(r->records, 3);
	CU_ASSERT_EQUAL_FATAL(r->nchunks, 3);
	CU_ASSERT_EQUAL(r->ch[1].n, 1);
	CU_ASSERT_EQUAL(r->ch[1].flags[0], 0);
	CU_ASSERT_EQUAL(r->ch[2].first_line, 2 + 10 + 1);
	free_result(r);
	/* NDJSON: a 500-byte line, white space lines of 100 bytes before and after it. */
	len = 0;
	len += (size_t)sprintf(in, "{\"a\":1}\n");
	memset(in + len, ' ', 100);
	len += 100;
	in[len++] = '\n';
	len += (size_t)sprintf(in + len, "{\"a\":\"");
	memset(in + len, 'z', 500);
	len += 500;
	len += (size_t)sprintf(in + len, "\"}\n");
	memset(in + len, '\t', 100);
	len += 100;
	len += (size_t)sprintf(in + len, "\n{\"a\":3}\n");
	check_split_invariant_max(&nd, 100, 64, 4096, in, len, r);
	CU_ASSERT_EQUAL(r->records, 3);
	CU_ASSERT_EQUAL_FATAL(r->nchunks, 3);
	CU_ASSERT_EQUAL(r->ch[1].n, 1);
	CU_ASSERT_EQUAL(r->ch[1].flags[0], 0);
	CU_ASSERT_EQUAL(r->ch[1].first_line, 3);
	CU_ASSERT_EQUAL(r->ch[1].byte_offset, 8 + 101);
	CU_ASSERT_EQUAL(r->ch[2].first_line, 5);
	CU_ASSERT_EQUAL(r->ch[2].first_record, 3);
	CU_ASSERT_STRING_EQUAL(rec(r, 2, NULL), "{\"a\":3}\n");
	free_result(r);
	/* A white space line over the bound is a record too long, as the long line is. */
	check_split_invariant_max(&nd, 100, 64, 80, in, len, r);
	CU_ASSERT_EQUAL(r->records, 5);
	char flags[16];
	size_t lens[16];
	flag_string(r, flags, lens);
	CU_ASSERT_STRING_EQUAL(flags, ".CCC.");
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
	/* Bounded below some records: those longer than a chunk are cut, others too long are kept whole. */
	check_split_invariant_max(&csv_header_dialect, 7, 512, 400, in, len, r);
	CU_ASSERT_TRUE(r->nchunks > 100);
	bool any_long = false, any_cut = false;
	for (int k = 0; k < r->nchunks; k++)
		for (uint32_t i = 0; i < r->ch[k].n; i++) {
			any_long |= r->ch[k].flags[i] == REC_TOO_LONG;
			any_cut |= r->ch[k].flags[i] == (REC_TOO_LONG | REC_CUT);
		}
	CU_ASSERT_TRUE(any_long && any_cut);
	free_result(r);
	/* Records end to end are the input without BOM and header, for chunks of any size, long records grown. */
	static const size_t chunk_sizes[] = {1 << 16, 512};
	for (size_t t = 0; t < 2; t++) {
		check_split_invariant(&csv_header_dialect, t == 0 ? 1000 : 7, chunk_sizes[t], in, len, r);
		size_t at = 3 + strlen("id,name,note\r\n");
		for (int k = 0; k < r->nchunks; k++) {
			CU_ASSERT_EQUAL(r->ch[k].byte_offset, at);
			CU_ASSERT_EQUAL(memcmp(r->ch[k].data, in + at, r->ch[k].len), 0);
			for (uint32_t i = 0; i < r->ch[k].n; i++)
				CU_ASSERT_EQUAL(r->ch[k].flags[i], 0);
			at += r->ch[k].len;
		}
		CU_ASSERT_EQUAL(at, len);
		CU_ASSERT_TRUE(t == 0 || r->cap_max > 512);
		free_result(r);
	}
	check_split_invariant_max(&text_dialect, 5, 300, 200, in, len, r);
	CU_ASSERT_TRUE(r->nchunks > 100);
	free_result(r);
	free(r);
	free(in);
}

/* A shaped input: the first chunks hold batch_rows/4 and /2 records, then
 * batch_rows; near the end a chunk takes at most what is left divided by the
 * workers (at least FRAME_SHAPE_BYTES_MIN), so the last chunks shrink; every
 * record is framed once, in order. Unshaped, the same input is cut at
 * batch_rows. */
static void test_shape(void)
{
	const uint32_t batch_rows = 100000, workers = 2;
	const size_t line = 10, n = 1000000, chunk_bytes = 2u << 20;
	char *in = malloc(n * line + 1); /* snprintf ends the last line with a NUL */
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	for (size_t i = 0; i < n; i++)
		snprintf(in + i * line, line + 1, "%09zu\n", i);
	for (int shaped = 0; shaped < 2; shaped++) {
		struct framer *f = frame_create(&csv_dialect, batch_rows, chunk_bytes, RECORD_BYTES_DEFAULT);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		if (shaped)
			frame_shape(f, n * line, workers);
		struct chunk *c = chunk_create(batch_rows, chunk_bytes);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		uint32_t sizes[64];
		size_t nchunks = 0, at = 0, total = 0;
		bool in_order = true;
		while (nchunks < 64) {
			size_t used = 0;
			enum frame_event ev =
			    at < n * line ? frame_feed(f, c, in + at, n * line - at, &used) : frame_finish(f, c);
			bool fed = at < n * line;
			at += used;
			if (ev == FRAME_MORE && fed)
				continue; /* all fed: frame_finish next */
			if (ev != FRAME_CHUNK)
				break;
			/* Record k of the input is the number k. */
			in_order = in_order && c->first_record == total + 1 && strtoull(c->data, NULL, 10) == total;
			size_t left = n * line - (size_t)c->byte_offset;
			size_t bound = left / workers > FRAME_SHAPE_BYTES_MIN ? left / workers : FRAME_SHAPE_BYTES_MIN;
			if (shaped)
				CU_ASSERT(c->data_len <= bound + line);
			sizes[nchunks++] = c->nrecords;
			total += c->nrecords;
			chunk_reset(c);
		}
		CU_ASSERT_EQUAL(total, n);
		CU_ASSERT_TRUE(in_order);
		if (shaped) {
			CU_ASSERT_EQUAL(sizes[0], batch_rows / 4);
			CU_ASSERT_EQUAL(sizes[1], batch_rows / 2);
			CU_ASSERT_EQUAL(sizes[2], batch_rows);
			/* The end shrinks: the last chunks are smaller than full. */
			CU_ASSERT(nchunks > 12);
			CU_ASSERT(sizes[nchunks - 1] < batch_rows / 2 && sizes[nchunks - 2] < batch_rows / 2);
		} else {
			CU_ASSERT_EQUAL(nchunks, n / batch_rows);
			for (size_t k = 0; k < nchunks; k++)
				CU_ASSERT_EQUAL(sizes[k], batch_rows);
		}
		chunk_free(c);
		frame_free(f);
	}
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
	CU_add_test(s, "record_longer_than_chunk", test_record_longer_than_chunk);
	CU_add_test(s, "record_over_bound", test_record_over_bound);
	CU_add_test(s, "record_bound_edges", test_record_bound_edges);
	CU_add_test(s, "long_records_formats", test_long_records_formats);
	CU_add_test(s, "split_invariance", test_split_invariance);
	CU_add_test(s, "shape", test_shape);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
