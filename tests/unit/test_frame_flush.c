/* test_frame_flush.c - a stream's chunks closed early (by time, or where committed ranges begin and end) hold only whole records, and the records, their numbers and their byte positions are those of the input however it was cut. */
#include "../../core/chunk.h"
#include "../../core/limits.h"
#include "../../core/spans.h"
#include "../../stages/frame.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECS_MAX   8192
#define CHUNKS_MAX 8192

/* One record as a run of the framer handed it over. */
struct rec {
	uint64_t number;
	uint64_t offset; /* in the input */
	size_t len;
	char *data;
};

/* One chunk's place. */
struct place {
	uint64_t first_record, byte_offset, byte_end, first_line;
	uint32_t n;
};

struct run {
	struct rec rec[RECS_MAX];
	uint32_t nrec;
	struct place ch[CHUNKS_MAX];
	uint32_t nch;
	bool header;
};

/* How a run cuts its chunks besides count and size. */
struct cutting {
	bool flush_each_block;         /* frame_flush after every block, as at each flush interval */
	const struct spans *committed; /* cut where these begin and end (NULL: none) */
};

static const struct dialect csv_header = {FORMAT_CSV, ',', '"', '"', "", 0, true, NULL};
static const struct dialect text_plain = {FORMAT_TEXT, '\t', 0, 0, "\\N", 2, false, NULL};
static const struct dialect ndjson = {FORMAT_NDJSON, ',', 0, 0, "", 0, false, NULL};

static void keep_chunk(struct run *r, const struct chunk *c, const struct cutting *how)
{
	CU_ASSERT_FATAL(r->nch < CHUNKS_MAX && r->nrec + c->nrecords <= RECS_MAX);
	CU_ASSERT_FATAL(c->nrecords > 0);
	r->ch[r->nch++] = (struct place){c->first_record, c->byte_offset, c->byte_end, c->first_line, c->nrecords};
	for (uint32_t i = 0; i < c->nrecords; i++) {
		size_t len = c->rec_off[i + 1] - c->rec_off[i];
		struct rec *x = &r->rec[r->nrec++];
		x->number = c->first_record + i;
		x->offset = c->byte_offset + c->rec_off[i];
		x->len = len;
		x->data = malloc(len + 1);
		memcpy(x->data, c->data + c->rec_off[i], len);
	}
	if (how->committed != NULL)
		CU_ASSERT_NOT_EQUAL(spans_cover(how->committed, c->first_record, c->nrecords), SPANS_PART);
}

/* Hands the chunk on (scribbled over, as a worker would use it) and takes
 * the other one; sets the next cut as the reader does. */
static struct chunk *chunk_out(struct run *r, struct framer *f, struct chunk *pair[2], struct chunk *c,
			       const struct cutting *how)
{
	keep_chunk(r, c, how);
	memset(c->data, '#', c->data_cap);
	chunk_reset(c);
	if (how->committed != NULL)
		frame_cut_after(f, spans_next_cut(how->committed, frame_records(f)));
	return c == pair[0] ? pair[1] : pair[0];
}

/* Frames in[0..len) fed in blocks of block bytes. */
static void run_framer(const struct dialect *d, uint32_t batch_rows, const char *in, size_t len, size_t block,
		       const struct cutting *how, struct run *r)
{
	memset(r, 0, sizeof *r);
	size_t chunk_bytes = 1 << 14;
	struct framer *f = frame_create(d, batch_rows, chunk_bytes, RECORD_BYTES_DEFAULT);
	struct chunk *pair[2] = {chunk_create(batch_rows, chunk_bytes), chunk_create(batch_rows, chunk_bytes)};
	CU_ASSERT_FATAL(f != NULL && pair[0] != NULL && pair[1] != NULL);
	if (how->committed != NULL)
		frame_cut_after(f, spans_next_cut(how->committed, 0));
	struct chunk *c = pair[0];
	for (size_t at = 0; at < len; at += block) {
		size_t n = len - at < block ? len - at : block, off = 0;
		while (off < n) {
			size_t used = 0;
			enum frame_event ev = frame_feed(f, c, in + at + off, n - off, &used);
			off += used;
			CU_ASSERT_FATAL(ev != FRAME_END);
			if (ev == FRAME_HEADER)
				r->header = true;
			else if (ev == FRAME_CHUNK)
				c = chunk_out(r, f, pair, c, how);
		}
		if (how->flush_each_block && frame_flush(f, c) == FRAME_CHUNK)
			c = chunk_out(r, f, pair, c, how);
	}
	if (frame_finish(f, c) == FRAME_CHUNK)
		keep_chunk(r, c, how);
	frame_free(f);
	chunk_free(pair[0]);
	chunk_free(pair[1]);
}

static void free_run(struct run *r)
{
	for (uint32_t i = 0; i < r->nrec; i++)
		free(r->rec[i].data);
}

/* The physical line (1-based) where byte off of an LF input begins. */
static uint64_t line_at(const char *in, uint64_t off)
{
	uint64_t line = 1;
	for (uint64_t i = 0; i < off; i++)
		line += in[i] == '\n';
	return line;
}

/* A record's own bytes. An NDJSON record keeps the blank lines after it
 * when they come in the same chunk (they are not records); where a chunk
 * closes before them they are dropped instead, so its line is what counts. */
static size_t record_len(const struct dialect *d, const struct rec *x)
{
	if (d->format != FORMAT_NDJSON)
		return x->len;
	const char *nl = memchr(x->data, '\n', x->len);
	return nl ? (size_t)(nl - x->data) + 1 : x->len;
}

/* Cut every way, the records are those of the input framed whole: same
 * numbers, bytes and offsets; each chunk starts on its first record's
 * line and ends where its last record ends. */
static void check_same_records(const struct dialect *d, const char *in, size_t len, const struct cutting *how)
{
	struct run *want = malloc(sizeof *want), *got = malloc(sizeof *got);
	const struct cutting whole = {false, NULL};
	run_framer(d, RECS_MAX, in, len, len, &whole, want);
	CU_ASSERT_TRUE(want->nrec > 50);
	static const size_t blocks[] = {1, 2, 3, 7, 64, 1000};
	static const uint32_t batches[] = {1, 5, 40, RECS_MAX};
	for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
		for (size_t k = 0; k < sizeof batches / sizeof batches[0]; k++) {
			run_framer(d, batches[k], in, len, blocks[b], how, got);
			CU_ASSERT_EQUAL_FATAL(got->nrec, want->nrec);
			for (uint32_t i = 0; i < want->nrec; i++) {
				CU_ASSERT_EQUAL(got->rec[i].number, i + 1);
				CU_ASSERT_EQUAL(got->rec[i].offset, want->rec[i].offset);
				size_t n = record_len(d, &want->rec[i]);
				CU_ASSERT_EQUAL_FATAL(record_len(d, &got->rec[i]), n);
				CU_ASSERT_EQUAL(memcmp(got->rec[i].data, want->rec[i].data, n), 0);
			}
			for (uint32_t i = 0; i < got->nch; i++) {
				const struct place *p = &got->ch[i];
				const struct rec *last = &want->rec[p->first_record + p->n - 2];
				CU_ASSERT_EQUAL(p->byte_offset, want->rec[p->first_record - 1].offset);
				CU_ASSERT_EQUAL(p->first_line, line_at(in, p->byte_offset));
				if (d->format != FORMAT_NDJSON)
					CU_ASSERT_EQUAL(p->byte_end, last->offset + last->len);
				CU_ASSERT_TRUE(i == 0 || p->byte_offset >= got->ch[i - 1].byte_end);
			}
			/* A flush after each small block closes more chunks than count alone. */
			if (how->flush_each_block && blocks[b] <= 64 && batches[k] == RECS_MAX)
				CU_ASSERT_TRUE(got->nch > 10);
			free_run(got);
		}
	}
	free_run(want);
	free(want);
	free(got);
}

/* A deterministic mix for a format: quoted newlines and doubled quotes in
 * CSV, backslashes in text, blank lines and nested values in NDJSON. */
static size_t mixed_input(enum input_format fmt, char *in, size_t cap)
{
	size_t len = 0;
	uint32_t x = 4242;
	if (fmt == FORMAT_CSV)
		len += (size_t)snprintf(in, cap, "id,note\n");
	for (int i = 1; len < cap - 200; i++) {
		x = x * 1103515245u + 12345u;
		unsigned kind = (x >> 16) % 4;
		char *p = in + len;
		size_t room = cap - len;
		if (fmt == FORMAT_CSV)
			len += (size_t)(kind == 0   ? snprintf(p, room, "%d,\"two\nlines \"\"q\"\"\"\n", i)
					: kind == 1 ? snprintf(p, room, "%d,\"\"\n", i)
						    : snprintf(p, room, "%d,plain %u\n", i, x));
		else if (fmt == FORMAT_TEXT)
			len += (size_t)(kind == 0 ? snprintf(p, room, "%d\tescaped\\\nnewline\n", i)
						  : snprintf(p, room, "%d\tback\\\\slash %u\n", i, x));
		else
			len += (size_t)(kind == 0   ? snprintf(p, room, "\n  \n{\"id\":%d}\n", i)
					: kind == 1 ? snprintf(p, room, "{\"id\":%d,\"n\":{\"a\":[1,2]}}\r\n", i)
						    : snprintf(p, room, "{\"id\":%d,\"s\":\"x %u\"}\n", i, x));
	}
	return len;
}

/* A flush closes the chunk with its whole records only: the record being
 * read, cut inside its quotes, goes whole into the next chunk. */
static void test_flush_keeps_partial_record(void)
{
	struct framer *f = frame_create(&csv_header, 100, 1 << 14, RECORD_BYTES_DEFAULT);
	struct chunk *c = chunk_create(100, 1 << 14), *c2 = chunk_create(100, 1 << 14);
	CU_ASSERT_FATAL(f != NULL && c != NULL && c2 != NULL);
	size_t used;
	const char *a = "id,note\n", *b = "1,x\n2,\"half", *rest = " and\nrest\"\n3,y\n";
	CU_ASSERT_EQUAL(frame_feed(f, c, a, strlen(a), &used), FRAME_HEADER);
	/* Nothing complete yet: nothing to flush. */
	CU_ASSERT_EQUAL(frame_flush(f, c), FRAME_MORE);
	CU_ASSERT_EQUAL(frame_feed(f, c, b, strlen(b), &used), FRAME_MORE);
	CU_ASSERT_EQUAL(frame_flush(f, c), FRAME_CHUNK);
	CU_ASSERT_EQUAL(c->nrecords, 1);
	CU_ASSERT_EQUAL(c->first_record, 1);
	CU_ASSERT_EQUAL(c->byte_offset, 8);
	CU_ASSERT_EQUAL(c->byte_end, 12);
	CU_ASSERT_EQUAL(c->data_len, 4);
	CU_ASSERT_EQUAL(memcmp(c->data, "1,x\n", 4), 0);
	/* Flushing again with only the partial record left does nothing. */
	CU_ASSERT_EQUAL(frame_flush(f, c2), FRAME_MORE);
	CU_ASSERT_EQUAL(frame_feed(f, c2, rest, strlen(rest), &used), FRAME_MORE);
	CU_ASSERT_EQUAL(frame_finish(f, c2), FRAME_CHUNK);
	CU_ASSERT_EQUAL(c2->nrecords, 2);
	CU_ASSERT_EQUAL(c2->first_record, 2);
	CU_ASSERT_EQUAL(c2->first_line, 3);
	CU_ASSERT_EQUAL(c2->byte_offset, 12);
	CU_ASSERT_EQUAL(c2->byte_end, 12 + strlen("2,\"half and\nrest\"\n3,y\n"));
	const char *want = "2,\"half and\nrest\"\n";
	CU_ASSERT_EQUAL(c2->rec_off[1], strlen(want));
	CU_ASSERT_EQUAL(memcmp(c2->data, want, strlen(want)), 0);
	CU_ASSERT_EQUAL(frame_records(f), 3);
	frame_free(f);
	chunk_free(c);
	chunk_free(c2);
}

/* A bare CR may end a record or not (the next byte decides, as in COPY):
 * a flush leaves it with the record until then. */
static void test_flush_waits_for_undecided_line_end(void)
{
	const struct dialect csv = {FORMAT_CSV, ',', '"', '"', "", 0, false, NULL};
	struct framer *f = frame_create(&csv, 100, 1 << 14, RECORD_BYTES_DEFAULT);
	struct chunk *c = chunk_create(100, 1 << 14);
	CU_ASSERT_FATAL(f != NULL && c != NULL);
	size_t used;
	CU_ASSERT_EQUAL(frame_feed(f, c, "a,b\r", 4, &used), FRAME_MORE);
	CU_ASSERT_EQUAL(frame_flush(f, c), FRAME_MORE);
	CU_ASSERT_EQUAL(frame_feed(f, c, "\nc,d\r\n", 6, &used), FRAME_MORE);
	CU_ASSERT_EQUAL(frame_flush(f, c), FRAME_CHUNK);
	CU_ASSERT_EQUAL(c->nrecords, 2);
	CU_ASSERT_EQUAL(c->eol, FRAME_EOL_CRLF);
	CU_ASSERT_EQUAL(c->byte_end, 10);
	frame_free(f);
	chunk_free(c);
}

/* A cut closes the chunk at the record asked for, before batch_rows. */
static void test_cut_after(void)
{
	struct framer *f = frame_create(&text_plain, 100, 1 << 14, RECORD_BYTES_DEFAULT);
	struct chunk *c = chunk_create(100, 1 << 14);
	CU_ASSERT_FATAL(f != NULL && c != NULL);
	const char *in = "1\n2\n3\n4\n5\n";
	size_t used;
	frame_cut_after(f, 3);
	CU_ASSERT_EQUAL(frame_feed(f, c, in, strlen(in), &used), FRAME_CHUNK);
	CU_ASSERT_EQUAL(used, 6);
	CU_ASSERT_EQUAL(c->nrecords, 3);
	CU_ASSERT_EQUAL(c->byte_end, 6);
	chunk_reset(c);
	frame_cut_after(f, UINT64_MAX);
	CU_ASSERT_EQUAL(frame_feed(f, c, in + used, strlen(in) - used, &used), FRAME_MORE);
	CU_ASSERT_EQUAL(frame_finish(f, c), FRAME_CHUNK);
	CU_ASSERT_EQUAL(c->first_record, 4);
	CU_ASSERT_EQUAL(c->nrecords, 2);
	CU_ASSERT_EQUAL(c->byte_offset, 6);
	frame_free(f);
	chunk_free(c);
}

static void test_flush_same_records(void)
{
	static const struct dialect *const dialects[] = {&csv_header, &text_plain, &ndjson};
	size_t cap = 6000;
	char *in = malloc(cap);
	const struct cutting flush = {true, NULL};
	for (size_t i = 0; i < 3; i++) {
		size_t len = mixed_input(dialects[i]->format, in, cap);
		check_same_records(dialects[i], in, len, &flush);
	}
	free(in);
}

/* Committed ranges as a resumed run meets them: every chunk lies wholly
 * inside or outside them (keep_chunk checks), with and without flushes,
 * and the records are the same. */
static void test_cuts_same_records(void)
{
	struct spans committed = {0};
	/* Touching and overlapping ranges merge; single records count too. */
	CU_ASSERT_EQUAL(spans_add(&committed, 3, 4, 0, 0), 0);
	CU_ASSERT_EQUAL(spans_add(&committed, 7, 2, 0, 0), 0);
	CU_ASSERT_EQUAL(spans_add(&committed, 20, 1, 0, 0), 0);
	CU_ASSERT_EQUAL(spans_add(&committed, 41, 30, 0, 0), 0);
	CU_ASSERT_EQUAL(spans_add(&committed, 60, 15, 0, 0), 0);
	spans_merge(&committed);
	size_t cap = 6000;
	char *in = malloc(cap);
	size_t len = mixed_input(FORMAT_CSV, in, cap);
	const struct cutting cuts = {false, &committed}, both = {true, &committed};
	check_same_records(&csv_header, in, len, &cuts);
	check_same_records(&csv_header, in, len, &both);
	len = mixed_input(FORMAT_NDJSON, in, cap);
	check_same_records(&ndjson, in, len, &both);
	free(in);
	spans_free(&committed);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("frame_flush", NULL, NULL);
	if (s == NULL)
		return 1;
	CU_add_test(s, "flush keeps the partial record", test_flush_keeps_partial_record);
	CU_add_test(s, "flush waits for an undecided line end", test_flush_waits_for_undecided_line_end);
	CU_add_test(s, "cut after a record", test_cut_after);
	CU_add_test(s, "flushes keep records, numbers and offsets", test_flush_same_records);
	CU_add_test(s, "cuts at committed ranges keep records", test_cuts_same_records);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
