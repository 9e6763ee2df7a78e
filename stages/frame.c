/* frame.c - cuts the decoded input into numbered chunks of whole records, finding record ends as PostgreSQL's COPY FROM does. */
#include "frame.h"

#include "../core/buf.h"
#include "../core/limits.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The end-of-line style, decided by the first record end as CopyReadLineText
 * decides it: a CR then decides whether later CRs end records. */
enum { EOL_UNKNOWN = FRAME_EOL_UNKNOWN, EOL_NL = FRAME_EOL_LF, EOL_CR = FRAME_EOL_CR, EOL_CRNL = FRAME_EOL_CRLF };

/* Progress of a possible end-of-data marker "\." (PostgreSQL recognises it
 * anywhere after an unescaped backslash in text format, and in CSV only as
 * the first bytes of a line). */
enum { EOD_NONE = 0, EOD_BACKSLASH, EOD_DOT, EOD_DOT_CR };

/* Everything the scanner changes while it walks the input. It is a value so
 * that frame_feed can take a copy at each record boundary and return to it
 * when a chunk fills up in the middle of a record: the bytes after that copy
 * are then scanned again into the next chunk, which keeps chunk contents
 * independent of how the input was cut into blocks. */
struct scan {
	uint64_t off;        /* stream offset of the next byte */
	uint64_t line;       /* physical line (1-based) of the next byte */
	uint64_t rec_len;    /* bytes of the current record seen so far, kept or not */
	uint64_t rec_off0;   /* stream offset where the current record began */
	uint64_t rec_line0;  /* line where the current record began */
	uint64_t bs_rec_len; /* rec_len before the backslash of a possible "\." */
	uint8_t eol;
	uint8_t eod;
	bool in_quote;     /* csv: inside a quoted section */
	bool last_was_esc; /* csv: the previous byte was an escape inside quotes */
	bool bs_pending;   /* text: the previous byte was a backslash, this one is escaped */
	bool cr_pending;   /* a CR that may end the record: the next byte decides */
	bool skipping;     /* the record outgrew its bound: its remaining bytes are dropped */
};

struct framer {
	bool csv;
	bool ndjson; /* lines end at LF and nothing else is special; blank lines are not records */
	char quote;
	int escape; /* -1 when it equals quote: then a quote simply toggles, as in PostgreSQL */
	uint32_t batch_rows;
	size_t chunk_bytes;
	size_t record_bytes_max; /* longer records are flagged REC_TOO_LONG */
	size_t hold_bytes;       /* the longest record kept whole: chunk_bytes, or the bound plus a line end */
	size_t grow_bytes;       /* after FRAME_GROW: the capacity the chunk needs */
	bool special[256];       /* bytes the scanner must look at; all others are copied as they are */

	struct scan st;
	uint64_t records;  /* records completed, header excluded */
	uint64_t seq;      /* number of the next chunk */
	uint64_t cut;      /* the chunk being filled closes once this record is complete (frame_cut_after) */
	unsigned bom_held; /* bytes of a possible BOM seen at the very start */
	bool bom_done;
	bool header_pending;
	bool ended;
	bool chunk_open; /* the chunk passed in is the one being filled */
	/* frame_shape: the input's size and the workers sharing it (0: the
	 * chunks are not shaped), the chunks opened so far, and the bounds of
	 * the chunk being filled. */
	uint64_t shape_total;
	uint32_t shape_workers;
	uint64_t opened;
	uint32_t rows_limit;
	size_t bytes_limit;

	/* The partial record of a chunk that filled up, moved here because the
	 * full chunk leaves for a worker at once. chunk_bytes long. */
	char *carry;
	size_t carry_len;
	/* The header record without its end-of-line. */
	char *header;
	size_t header_len;
};

struct framer *frame_create(const struct dialect *d, uint32_t batch_rows, size_t chunk_bytes, size_t record_bytes_max)
{
	ASSERT(d->format == FORMAT_CSV || d->format == FORMAT_TEXT || d->format == FORMAT_NDJSON);
	ASSERT(batch_rows > 0 && chunk_bytes > 0);
	ASSERT(record_bytes_max > 0 && record_bytes_max <= RECORD_BYTES_LIMIT);
	struct framer *f = calloc(1, sizeof *f);
	if (f == NULL)
		return NULL;
	f->csv = d->format == FORMAT_CSV;
	f->ndjson = d->format == FORMAT_NDJSON;
	f->quote = d->quote ? d->quote : '"';
	char esc = d->escape ? d->escape : f->quote;
	f->escape = esc == f->quote ? -1 : (unsigned char)esc;
	f->batch_rows = batch_rows;
	f->chunk_bytes = chunk_bytes;
	f->record_bytes_max = record_bytes_max;
	/* Two bytes more for a CRLF, which the bound does not count. */
	f->hold_bytes = record_bytes_max + 2 > chunk_bytes ? record_bytes_max + 2 : chunk_bytes;
	f->special['\n'] = true;
	f->special['\r'] = true;
	if (f->csv) {
		f->special[(unsigned char)f->quote] = true;
		if (f->escape >= 0)
			f->special[f->escape] = true;
	} else if (!f->ndjson) {
		f->special['\\'] = true;
	}
	f->st.line = 1;
	/* A raw newline cannot occur inside a JSON string, so an LF always
	 * ends an NDJSON line; a CR before it is JSON white space. */
	if (f->ndjson)
		f->st.eol = EOL_NL;
	f->st.rec_line0 = 1;
	f->header_pending = d->header;
	/* A UTF-8 byte order mark means nothing in another encoding: there its
	 * bytes are characters, which the server stores as such. */
	f->bom_done = d->charset != NULL;
	f->cut = UINT64_MAX;
	f->rows_limit = batch_rows;
	f->bytes_limit = SIZE_MAX;
	f->carry = malloc(chunk_bytes);
	f->header = malloc(chunk_bytes);
	if (f->carry == NULL || f->header == NULL) {
		frame_free(f);
		return NULL;
	}
	return f;
}

void frame_free(struct framer *f)
{
	if (f == NULL)
		return;
	free(f->carry);
	free(f->header);
	free(f);
}

/* Returns the first byte in [p, end) that the scanner must look at, or end.
 * Sixteen bytes per step with SSE2; a table lookup per byte for the tail. */
static inline const char *find_special(const struct framer *f, const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n');
	const __m128i cr = _mm_set1_epi8('\r');
	const char other = f->ndjson ? '\n' : '\\';
	const __m128i a = _mm_set1_epi8(f->csv ? f->quote : other);
	const __m128i b = _mm_set1_epi8(f->csv && f->escape >= 0 ? (char)f->escape : (f->csv ? f->quote : other));
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, cr)),
					 _mm_or_si128(_mm_cmpeq_epi8(v, a), _mm_cmpeq_epi8(v, b)));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		if (mask != 0)
			return p + __builtin_ctz(mask);
		p += 16;
	}
#endif
	while (p < end && !f->special[(unsigned char)*p])
		p++;
	return p;
}

void frame_shape(struct framer *f, uint64_t total_bytes, uint32_t workers)
{
	f->shape_total = total_bytes;
	f->shape_workers = workers > 0 ? workers : 1;
}

/* The bounds of the next chunk of a shaped input: batch_rows/2^k for the
 * first FRAME_RAMP_CHUNKS (k counting down to 1), and never more bytes than
 * what is left divided by the workers. */
static void shape_limits(struct framer *f)
{
	if (f->shape_workers == 0)
		return;
	uint32_t rows = f->batch_rows;
	if (f->opened < FRAME_RAMP_CHUNKS)
		rows >>= FRAME_RAMP_CHUNKS - f->opened;
	uint32_t floor = f->batch_rows < FRAME_SHAPE_ROWS_MIN ? f->batch_rows : FRAME_SHAPE_ROWS_MIN;
	f->rows_limit = rows > floor ? rows : floor;
	uint64_t left = f->shape_total > f->st.off ? f->shape_total - f->st.off : 0;
	uint64_t share = left / f->shape_workers;
	f->bytes_limit = share < FRAME_SHAPE_BYTES_MIN ? FRAME_SHAPE_BYTES_MIN : (size_t)share;
}

/* Starts filling c if it is a fresh chunk: the carried partial record goes first. */
static void open_chunk(struct framer *f, struct chunk *c)
{
	if (f->chunk_open)
		return;
	shape_limits(f);
	f->opened++;
	ASSERT(c->records_max >= f->batch_rows && c->data_cap >= f->chunk_bytes);
	c->nrecords = 0;
	c->rec_off[0] = 0;
	c->data_len = 0;
	memcpy(c->data, f->carry, f->carry_len);
	c->data_len = f->carry_len;
	f->carry_len = 0;
	f->chunk_open = true;
}

/* What append did. */
enum append { APPEND_OK, APPEND_FULL, APPEND_GROW };

/* Appends n bytes of the current record to c. A record shares a chunk only
 * within chunk_bytes: past that, APPEND_FULL when c already holds whole
 * records (the caller closes c). A record alone in c may go on up to
 * hold_bytes (the header: chunk_bytes), in a buffer that grows
 * (APPEND_GROW: the caller grows c to f->grow_bytes and feeds the bytes
 * again); past that its first RECORD_CUT_BYTES are kept and the rest of it
 * is skipped. */
static enum append append(struct framer *f, struct chunk *c, const char *p, size_t n)
{
	if (n == 0 || f->st.skipping)
		return APPEND_OK;
	size_t need = c->data_len + n;
	size_t hold = f->header_pending ? f->chunk_bytes : f->hold_bytes;
	if (need <= f->chunk_bytes || (c->nrecords == 0 && need <= hold)) {
		if (need > c->data_cap) {
			/* Doubling: a record of n bytes costs log2(n / chunk_bytes)
			 * growths, each feeding one block again. */
			size_t want = c->data_cap * 2 > need ? c->data_cap * 2 : need;
			f->grow_bytes = want < hold ? want : hold;
			return APPEND_GROW;
		}
		copy_short(c->data + c->data_len, p, n);
		c->data_len = need;
		return APPEND_OK;
	}
	if (c->nrecords > 0)
		return APPEND_FULL;
	size_t keep = f->chunk_bytes < RECORD_CUT_BYTES ? f->chunk_bytes : RECORD_CUT_BYTES;
	if (c->data_len < keep) {
		size_t k = keep - c->data_len < n ? keep - c->data_len : n;
		memcpy(c->data + c->data_len, p, k);
		c->data_len += k;
	} else {
		c->data_len = keep;
	}
	f->st.skipping = true;
	return APPEND_OK;
}

/* Moves the partial record out of the full chunk c so that c can leave. */
static void close_full_chunk(struct framer *f, struct chunk *c)
{
	size_t start = c->rec_off[c->nrecords];
	f->carry_len = c->data_len - start;
	memcpy(f->carry, c->data + start, f->carry_len);
	c->data_len = start;
	f->chunk_open = false;
}

/* NDJSON: a line of JSON white space only, which is not a record. */
static bool blank_line(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

/* The length of a record that is all in the chunk, without its line end
 * (an LF, a CR, or both): what --max-record-bytes bounds. */
static size_t record_length(const char *p, size_t n)
{
	if (n > 0 && p[n - 1] == '\n')
		n--;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* Outcome of completing a record. */
enum done { DONE_OK, DONE_HEADER, DONE_FULL };

/* The current record's bytes are all in c: count it (or keep it as the
 * header) and start the next record at the current position. */
static enum done finish_record(struct framer *f, struct chunk *c)
{
	enum done r = DONE_OK;
	size_t start = c->rec_off[c->nrecords];
	if (f->header_pending) {
		size_t len = c->data_len - start;
		const char *h = c->data + start;
		if (len > 0 && h[len - 1] == '\n')
			len--;
		if (len > 0 && h[len - 1] == '\r')
			len--;
		memcpy(f->header, h, len);
		f->header_len = len;
		c->data_len = start;
		f->header_pending = false;
		r = DONE_HEADER;
	} else if (f->ndjson && !f->st.skipping && blank_line(c->data + start, c->data_len - start)) {
		/* Not a record, so record numbers and counts leave it out. Its
		 * bytes stay at the end of the record before it (the parser
		 * stops at that record's LF), so that the line numbers and byte
		 * offsets of the records after it stay right; at the start of a
		 * chunk they are dropped, and the next record's start says
		 * where it is. */
		if (c->nrecords > 0)
			c->rec_off[c->nrecords] = (uint32_t)c->data_len;
		else
			c->data_len = start;
	} else {
		uint32_t i = c->nrecords;
		if (i == 0) {
			c->seq = f->seq++;
			c->first_record = f->records + 1;
			c->first_line = f->st.rec_line0;
			c->byte_offset = f->st.rec_off0;
		}
		uint8_t flags = 0;
		if (f->st.skipping)
			flags = REC_TOO_LONG | REC_CUT;
		else if (record_length(c->data + start, c->data_len - start) > f->record_bytes_max)
			flags = REC_TOO_LONG;
		c->rec_flags[i] = flags;
		c->nrecords = i + 1;
		c->eol = f->st.eol;
		c->rec_off[i + 1] = (uint32_t)c->data_len;
		c->byte_end = f->st.off;
		f->records++;
		/* A record longer than a chunk fills its own; a resumed stream's
		 * chunk closes where a committed one ended. */
		if (c->nrecords == f->rows_limit || f->st.rec_len > f->chunk_bytes || f->records == f->cut ||
		    c->data_len >= f->bytes_limit)
			r = DONE_FULL;
	}
	f->st.skipping = false;
	f->st.rec_len = 0;
	f->st.rec_off0 = f->st.off;
	f->st.rec_line0 = f->st.line;
	return r;
}

/* At an end-of-data marker: the record keeps only the bytes before the
 * marker's backslash, and is dropped when there were none. */
static enum done end_of_data(struct framer *f, struct chunk *c)
{
	size_t start = c->rec_off[c->nrecords];
	uint64_t keep = f->st.bs_rec_len;
	if (c->data_len - start > keep)
		c->data_len = start + (size_t)keep;
	f->ended = true;
	if (keep == 0) {
		c->data_len = start;
		f->st.skipping = false;
		f->st.rec_len = 0;
		return DONE_OK;
	}
	enum done r = finish_record(f, c);
	return r == DONE_HEADER ? DONE_HEADER : DONE_OK;
}

/* Consumes one byte as part of the current record. */
static inline void take(struct framer *f, const char **pos)
{
	(*pos)++;
	f->st.off++;
	f->st.rec_len++;
}

/* What stepping over one byte did. */
enum step { STEP_ON, STEP_RECORD_END, STEP_EOD };

/* Handles the byte at *pos when it is special or the scanner is in one of
 * its look-ahead states. Consumes the byte, or leaves it for the next call
 * after leaving the look-ahead state. */
static enum step step_byte(struct framer *f, const char **pos)
{
	struct scan *s = &f->st;
	unsigned char b = (unsigned char)**pos;

	if (s->cr_pending) {
		s->cr_pending = false;
		if (b == '\n') {
			take(f, pos);
			s->line++;
			if (s->eol == EOL_UNKNOWN)
				s->eol = EOL_CRNL;
			return STEP_RECORD_END;
		}
		if (s->eol == EOL_UNKNOWN) {
			/* A first line ended by a bare CR: CR ends every line. */
			s->eol = EOL_CR;
			s->line++;
			return STEP_RECORD_END;
		}
		/* A stray CR in a CRLF input stays in the record for the parser to reject. */
		return STEP_ON;
	}
	if (s->eod == EOD_BACKSLASH) {
		s->eod = EOD_NONE;
		if (b == '.') {
			take(f, pos);
			s->eod = EOD_DOT;
		}
		return STEP_ON;
	}
	if (s->eod == EOD_DOT) {
		s->eod = EOD_NONE;
		if (b == '\n') {
			take(f, pos);
			s->line++;
			return STEP_EOD;
		}
		if (b == '\r') {
			take(f, pos);
			s->eod = EOD_DOT_CR;
		}
		return STEP_ON;
	}
	if (s->eod == EOD_DOT_CR) {
		s->eod = EOD_NONE;
		if (b == '\n')
			take(f, pos);
		s->line++;
		return STEP_EOD;
	}
	if (s->bs_pending) {
		/* Text: the byte after a backslash is data whatever it is; a newline
		 * escaped so stays in the record. */
		s->bs_pending = false;
		take(f, pos);
		if (b == '.')
			s->eod = EOD_DOT;
		else if (b == '\n' || (b == '\r' && s->eol == EOL_CR))
			s->line++;
		return STEP_ON;
	}

	if (f->csv) {
		/* CopyReadLineText's quote and escape rules, byte for byte. */
		if (s->in_quote && (int)b == f->escape)
			s->last_was_esc = !s->last_was_esc;
		if (b == (unsigned char)f->quote && !s->last_was_esc)
			s->in_quote = !s->in_quote;
		if ((int)b != f->escape)
			s->last_was_esc = false;
		if (s->in_quote) {
			take(f, pos);
			if (b == '\n' || (b == '\r' && s->eol == EOL_CR))
				s->line++;
			return STEP_ON;
		}
	} else if (b == '\\' && !f->ndjson) {
		s->bs_rec_len = s->rec_len;
		take(f, pos);
		s->bs_pending = true;
		return STEP_ON;
	}
	take(f, pos);
	if (b == '\n') {
		s->line++;
		if (s->eol == EOL_UNKNOWN)
			s->eol = EOL_NL;
		return STEP_RECORD_END;
	}
	if (b == '\r') {
		if (s->eol == EOL_CR) {
			s->line++;
			return STEP_RECORD_END;
		}
		if (s->eol != EOL_NL)
			s->cr_pending = true;
	}
	return STEP_ON;
}

static inline bool in_lookahead(const struct scan *s)
{
	return s->cr_pending || s->eod != EOD_NONE || s->bs_pending || s->last_was_esc;
}

/* Skips a UTF-8 byte order mark at the very start; bytes that only looked
 * like its beginning become data of the first record. */
static void skip_bom(struct framer *f, struct chunk *c, const char **pos, const char *end)
{
	static const char bom[3] = {'\xef', '\xbb', '\xbf'};
	while (!f->bom_done && *pos < end) {
		if (**pos == bom[f->bom_held]) {
			(*pos)++;
			f->st.off++;
			if (++f->bom_held == 3) {
				f->bom_done = true;
				f->st.rec_off0 = f->st.off;
			}
		} else {
			f->bom_done = true;
			ASSERT(append(f, c, bom, f->bom_held) == APPEND_OK);
			f->st.rec_len = f->bom_held;
		}
	}
}

/* The bytes from the last record boundary (at offset at of the caller's
 * buffer, scanner state *saved) did not go into c: the scanner goes back
 * there, and the caller feeds them again into the next chunk (FRAME_CHUNK,
 * the partial record carried over) or into c grown (FRAME_GROW). */
static enum frame_event stop_in_record(struct framer *f, struct chunk *c, enum append a, const struct scan *saved,
				       size_t at, size_t *consumed)
{
	f->st = *saved;
	*consumed = at;
	if (a == APPEND_GROW)
		return FRAME_GROW;
	close_full_chunk(f, c);
	return FRAME_CHUNK;
}

enum frame_event frame_feed(struct framer *f, struct chunk *c, const char *buf, size_t len, size_t *consumed)
{
	*consumed = 0;
	if (f->ended) {
		*consumed = len;
		return FRAME_END;
	}
	open_chunk(f, c);
	const char *pos = buf, *end = buf + len;
	skip_bom(f, c, &pos, end);
	const char *run = pos;     /* first byte not yet copied into c */
	struct scan saved = f->st; /* the scanner as it was at run */

	while (pos < end) {
		enum step st;
		if (in_lookahead(&f->st)) {
			st = step_byte(f, &pos);
		} else {
			if (f->csv && f->st.rec_len == 0 && *pos == '\\') {
				/* Only a line's first byte can start CSV's "\." marker. */
				f->st.bs_rec_len = 0;
				take(f, &pos);
				f->st.eod = EOD_BACKSLASH;
				continue;
			}
			const char *q = find_special(f, pos, end);
			f->st.off += (uint64_t)(q - pos);
			f->st.rec_len += (uint64_t)(q - pos);
			pos = q;
			if (pos == end)
				break;
			if (f->csv && f->escape < 0 && *pos == f->quote) {
				/* The common quote: a toggle, kept out of step_byte's branches. */
				f->st.in_quote = !f->st.in_quote;
				take(f, &pos);
				continue;
			}
			if (*pos == '\n' && !f->st.in_quote && (!f->csv || (f->quote != '\n' && f->escape != '\n'))) {
				/* The common record end, as step_byte ends it. */
				take(f, &pos);
				f->st.line++;
				if (f->st.eol == EOL_UNKNOWN)
					f->st.eol = EOL_NL;
				st = STEP_RECORD_END;
			} else {
				st = step_byte(f, &pos);
			}
		}
		if (st == STEP_ON)
			continue;
		enum append a = append(f, c, run, (size_t)(pos - run));
		if (a != APPEND_OK)
			return stop_in_record(f, c, a, &saved, (size_t)(run - buf), consumed);
		run = pos;
		enum done d = st == STEP_EOD ? end_of_data(f, c) : finish_record(f, c);
		saved = f->st;
		if (f->ended) {
			*consumed = (size_t)(pos - buf);
			return d == DONE_HEADER ? FRAME_HEADER : FRAME_END;
		}
		if (d == DONE_HEADER) {
			*consumed = (size_t)(pos - buf);
			return FRAME_HEADER;
		}
		if (d == DONE_FULL) {
			*consumed = (size_t)(pos - buf);
			f->chunk_open = false;
			return FRAME_CHUNK;
		}
	}
	enum append a = append(f, c, run, (size_t)(pos - run));
	if (a != APPEND_OK)
		return stop_in_record(f, c, a, &saved, (size_t)(run - buf), consumed);
	*consumed = len;
	return FRAME_MORE;
}

enum frame_event frame_finish(struct framer *f, struct chunk *c)
{
	open_chunk(f, c);
	enum done d = DONE_OK;
	if (!f->ended) {
		struct scan *s = &f->st;
		if (!f->bom_done && f->bom_held > 0) {
			f->bom_done = true;
			ASSERT(append(f, c, "\xef\xbb\xbf", f->bom_held) == APPEND_OK);
			s->rec_len = f->bom_held;
		}
		if (s->eod == EOD_DOT || s->eod == EOD_DOT_CR) {
			/* "\." at the very end of the input ends the data as well. */
			s->eod = EOD_NONE;
			d = end_of_data(f, c);
		} else {
			if (s->cr_pending && s->eol == EOL_UNKNOWN)
				s->eol = EOL_CR;
			s->cr_pending = false;
			s->eod = EOD_NONE;
			s->bs_pending = false;
			if (s->rec_len > 0)
				d = finish_record(f, c);
		}
		f->ended = true;
	}
	if (d == DONE_HEADER)
		return FRAME_HEADER;
	if (c->nrecords > 0) {
		f->chunk_open = false;
		return FRAME_CHUNK;
	}
	return FRAME_MORE;
}

enum frame_event frame_flush(struct framer *f, struct chunk *c)
{
	if (!f->chunk_open || c->nrecords == 0)
		return FRAME_MORE;
	/* frame_feed appends every byte it consumes, so the record still
	 * being read is the tail of c: it moves to the carry as when a chunk
	 * fills up, and the scanner goes on from where it stopped. */
	close_full_chunk(f, c);
	return FRAME_CHUNK;
}

void frame_cut_after(struct framer *f, uint64_t record)
{
	f->cut = record;
}

void frame_header(const struct framer *f, const char **p, size_t *len)
{
	*p = f->header;
	*len = f->header_len;
}

size_t frame_grow_bytes(const struct framer *f)
{
	return f->grow_bytes;
}

uint64_t frame_records(const struct framer *f)
{
	return f->records;
}

uint64_t frame_bytes(const struct framer *f)
{
	return f->st.off;
}

int frame_record_data(const struct chunk *c, uint32_t i, bool csv, size_t *len, char *msg, size_t msgsz)
{
	const char *rec = c->data + c->rec_off[i];
	size_t n = c->rec_off[i + 1] - c->rec_off[i];
	char last = n > 0 ? rec[n - 1] : '\0';
	bool bad_lf = false;
	switch (c->eol) {
	case FRAME_EOL_LF:
		/* A CR before the LF stays: the parser refuses it as COPY does. */
		if (last == '\n')
			n--;
		break;
	case FRAME_EOL_CRLF:
		if (last == '\n') {
			if (n >= 2 && rec[n - 2] == '\r')
				n -= 2;
			else
				bad_lf = true;
		}
		break;
	case FRAME_EOL_CR:
		if (last == '\r')
			n--;
		else if (last == '\n')
			bad_lf = true;
		break;
	default: break;
	}
	if (bad_lf) {
		snprintf(msg, msgsz, "%s", csv ? "unquoted newline found in data" : "literal newline found in data");
		return -1;
	}
	*len = n;
	return 0;
}
