/* codec.c - one chunk of records to binary COPY tuples and text COPY lines, through the source's format, mapping and the encoders. */
#include "codec.h"

#include "../core/err.h"
#include "../core/limits.h"
#include "encode.h"
#include "parse_text.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Bytes of a message about one record (encoders and parsers cut theirs to
 * fit). */
#define CODEC_MSG_BYTES    512
/* A text or JSON value at least this long is sent from where it lies
 * rather than copied into the batch (struct sink_extent): one send's worth,
 * below which the copy costs less than the splice. */
#define CODEC_SPLICE_BYTES COPY_SEND_BYTES

struct codec {
	uint32_t records_max;
	size_t record_bytes_max; /* named in the message for a record too long */
	/* Start-up sizes of the buffers below, which codec_trim returns to. */
	size_t scratch_cap, bin_cap, txt_cap;
	struct buf scratch;   /* parsed fields that needed rewriting, one record at a time */
	struct buf bin;       /* binary COPY tuples, no header or trailer */
	struct buf txt;       /* text COPY lines */
	struct field *fields; /* FIELDS_MAX */
	/* records_max + 1 each: tuple k is bin[bin_off[k] .. bin_off[k+1]),
	 * from record bin_rec[k]; the same for lines. */
	uint32_t *bin_off, *bin_rec, *txt_off, *txt_rec;
	/* Values spliced into the tuples, FIELDS_MAX at most: one record's
	 * fields, or in a chunk of several records values of at least
	 * CODEC_SPLICE_BYTES in the chunk's own bytes (at most 128 of them in
	 * the largest chunk buffer). */
	struct sink_extent *ext;
	uint32_t next;
};
_Static_assert(CHUNK_BYTES_MAX / CODEC_SPLICE_BYTES <= FIELDS_MAX, "a chunk's spliced values fit the codec");

struct codec *codec_create(uint32_t records_max, size_t chunk_bytes, size_t record_bytes_max)
{
	struct codec *k = calloc(1, sizeof *k);
	if (k == NULL)
		return NULL;
	k->records_max = records_max;
	k->record_bytes_max = record_bytes_max;
	size_t offs = ((size_t)records_max + 1) * sizeof(uint32_t);
	/* Encoded tuples take about as much room as their text; start there
	 * and let a rare wide chunk grow the buffer. Deferred records are
	 * rare: their lines start small. */
	k->scratch_cap = chunk_bytes;
	k->bin_cap = chunk_bytes + chunk_bytes / 2;
	k->txt_cap = (size_t)64 << 10;
	bool ok = buf_init(&k->scratch, k->scratch_cap) == 0 && buf_init(&k->bin, k->bin_cap) == 0 &&
		  buf_init(&k->txt, k->txt_cap) == 0;
	k->fields = calloc(FIELDS_MAX, sizeof *k->fields);
	k->ext = calloc(FIELDS_MAX, sizeof *k->ext);
	k->bin_off = malloc(offs);
	k->bin_rec = malloc(offs);
	k->txt_off = malloc(offs);
	k->txt_rec = malloc(offs);
	if (!ok || !k->fields || !k->ext || !k->bin_off || !k->bin_rec || !k->txt_off || !k->txt_rec) {
		codec_free(k);
		return NULL;
	}
	return k;
}

void codec_free(struct codec *k)
{
	if (k == NULL)
		return;
	buf_free(&k->scratch);
	buf_free(&k->bin);
	buf_free(&k->txt);
	free(k->fields);
	free(k->ext);
	free(k->bin_off);
	free(k->bin_rec);
	free(k->txt_off);
	free(k->txt_rec);
	free(k);
}

/* A buffer grown past its start-up size goes back to it (emptied). */
static void trim_buf(struct buf *b, size_t cap)
{
	b->len = 0;
	if (b->cap <= cap)
		return;
	char *p = realloc(b->data, cap);
	if (p == NULL)
		return; /* it stays larger: harmless */
	b->data = p;
	b->cap = cap;
}

void codec_trim(struct codec *k)
{
	trim_buf(&k->scratch, k->scratch_cap);
	trim_buf(&k->bin, k->bin_cap);
	trim_buf(&k->txt, k->txt_cap);
}

/* Record i parsed into k->fields and its field count checked (see
 * codec_parse_record); inline in the chunk's loop. */
static inline int parse_record(struct codec *k, const struct codec_source *s, const struct chunk *c, uint32_t i,
			       uint64_t *unknown_keys, char *msg, size_t msgsz, const char **column)
{
	*column = NULL;
	if (c->rec_flags[i] & REC_TOO_LONG) {
		snprintf(msg, msgsz, "record is longer than %zu bytes (--max-record-bytes)", k->record_bytes_max);
		return -1;
	}
	k->scratch.len = 0;
	uint32_t unknown = 0;
	int nf = s->format->parse_record(s->format, &s->conf, c, i, k->fields, FIELDS_MAX, &k->scratch, &unknown, msg,
					 msgsz);
	if (nf < 0)
		return -1;
	*unknown_keys += unknown;
	if (transform_check_fields(s->map, s->table, (uint32_t)nf, msg, msgsz, column) < 0)
		return -1;
	return nf;
}

int codec_parse_record(struct codec *k, const struct codec_source *s, const struct chunk *c, uint32_t i,
		       const struct field **fields, uint64_t *unknown_keys, char *msg, size_t msgsz,
		       const char **column)
{
	*fields = k->fields;
	return parse_record(k, s, c, i, unknown_keys, msg, msgsz, column);
}

/* Appends record fields as one text COPY line (tab, \N, escapes), and the
 * record's index as a last field when rec >= 0. */
static void put_text_line(struct buf *out, const struct field *f, uint32_t n, int64_t rec)
{
	for (uint32_t j = 0; j < n; j++) {
		if (j > 0)
			buf_putc(out, '\t');
		if (f[j].null)
			buf_put(out, "\\N", 2);
		else
			text_escape_value('\t', f[j].ptr, f[j].len, out);
	}
	if (rec >= 0) {
		char num[24];
		int len = snprintf(num, sizeof num, "\t%lld", (long long)rec);
		buf_put(out, num, (size_t)len);
	}
	buf_putc(out, '\n');
}

enum record_outcome {
	RECORD_BINARY,   /* its tuple is in k->bin (less the upsert's index) */
	RECORD_DEFERRED, /* the server decides: it goes as a text line */
	RECORD_REJECTED, /* msg and *column say why */
};

/* Whether field f of a record of c is sent from where it lies: a long value
 * whose bytes stay as they are until the batch is done. The chunk's own
 * bytes do; the parse's scratch holds one record at a time, so only when c
 * holds that record alone (a record longer than a chunk); parsing it again
 * (workers.c, rebuild_keys) writes the same bytes to the same place. */
static inline bool splice_field(const struct chunk *c, const struct field *f)
{
	return f->len >= CODEC_SPLICE_BYTES &&
	       (c->nrecords == 1 || (f->ptr >= c->data && f->ptr + f->len <= c->data + c->data_len));
}

/* Encodes a parsed record's fields as a binary COPY tuple of nf fields, plus
 * one for the upsert's index when staged. Every field is tried, so that a
 * certain reject wins over a deferral of an earlier field; only a binary
 * record leaves bytes in k->bin, and extents in k->ext for its long text
 * and JSON values. */
static enum record_outcome encode_record(struct codec *k, const struct codec_source *s, const struct chunk *c,
					 const struct field *f, int nf, bool staged, char *msg, size_t msgsz,
					 const char **column)
{
	if (!s->map->all_binary)
		return RECORD_DEFERRED;
	/* Locals, so that the loop keeps them in registers across the
	 * encoder's call. */
	struct buf *bin = &k->bin;
	const uint32_t *to_col = s->map->col;
	const struct table_column *cols = s->table->cols;
	const struct enc_session *sess = &s->table->session;
	size_t start = bin->len;
	uint32_t ext0 = k->next;
	encode_tuple_begin(bin, (uint16_t)(nf + staged));
	bool defer = false;
	for (const struct field *end = f + nf; f < end; f++, to_col++) {
		if (f->null) {
			if (!defer)
				encode_null(bin);
			continue;
		}
		const struct enc_column *col = &cols[*to_col].enc;
		size_t before = bin->len, tail = 0;
		enum enc_status st = splice_field(c, f)
					 ? encode_binary_head(col, sess, f->ptr, f->len, bin, &tail, msg, msgsz)
					 : encode_binary(col, sess, f->ptr, f->len, bin, msg, msgsz);
		if (st != ENC_OK || defer) {
			if (st == ENC_REJECT) {
				bin->len = start;
				k->next = ext0;
				*column = col->name;
				return RECORD_REJECTED;
			}
			defer = true;
			bin->len = before;
		} else if (tail > 0) {
			ASSERT(k->next < FIELDS_MAX);
			k->ext[k->next++] = (struct sink_extent){.at = (uint32_t)bin->len, .p = f->ptr, .len = tail};
		}
	}
	if (defer) {
		bin->len = start;
		k->next = ext0;
		return RECORD_DEFERRED;
	}
	return RECORD_BINARY;
}

int codec_encode_chunk(struct codec *k, const struct codec_source *s, const struct chunk *c,
		       const struct codec_hooks *h, struct sink_batch *b, struct codec_stats *st)
{
	/* Upserts: each tuple ends with its record's index (see transform.h). */
	bool staged = s->map->stage_sql != NULL;
	ASSERT(c->nrecords <= k->records_max);
	char msg[CODEC_MSG_BYTES];
	uint32_t nbin = 0, ntxt = 0;
	k->bin.len = 0;
	k->txt.len = 0;
	k->next = 0;
	k->bin_off[0] = 0;
	k->txt_off[0] = 0;
	*st = (struct codec_stats){0};
	for (uint32_t i = 0; i < c->nrecords; i++) {
		const struct field *f = k->fields;
		const char *column;
		int nf = parse_record(k, s, c, i, &st->unknown_keys, msg, sizeof msg, &column);
		enum record_outcome out =
		    nf < 0 ? RECORD_REJECTED : encode_record(k, s, c, f, nf, staged, msg, sizeof msg, &column);
		if (out == RECORD_REJECTED) {
			if (h->reject != NULL)
				h->reject(h->ctx, i, column, msg);
			st->rejected++;
			continue;
		}
		if (h->accept != NULL && h->accept(h->ctx, i, f, (uint32_t)nf) < 0)
			return -1;
		if (out == RECORD_BINARY) {
			if (staged)
				encode_int4(&k->bin, (int32_t)i);
			k->bin_rec[nbin] = i;
			k->bin_off[++nbin] = (uint32_t)k->bin.len;
		} else {
			put_text_line(&k->txt, f, (uint32_t)nf, staged ? (int64_t)i : -1);
			k->txt_rec[ntxt] = i;
			k->txt_off[++ntxt] = (uint32_t)k->txt.len;
		}
	}
	*b = (struct sink_batch){
	    .bin = &k->bin,
	    .bin_off = k->bin_off,
	    .bin_rec = k->bin_rec,
	    .nbin = nbin,
	    .ext = k->ext,
	    .next = k->next,
	    .txt = &k->txt,
	    .txt_off = k->txt_off,
	    .txt_rec = k->txt_rec,
	    .ntxt = ntxt,
	};
	return 0;
}
