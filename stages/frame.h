/* frame.h - cuts a byte stream into numbered chunks of whole records (quote-aware for CSV). */
#ifndef EDONU_FRAME_H
#define EDONU_FRAME_H

#include "../core/chunk.h"
#include "../core/err.h"
#include "record.h"

#include <stdbool.h>
#include <stddef.h>

struct framer;

/* What frame_feed stopped for. */
enum frame_event {
	FRAME_MORE = 0, /* all of the input given was consumed; feed more */
	FRAME_HEADER,   /* the header record is complete: frame_header() has it */
	FRAME_CHUNK,    /* the chunk is complete: hand it on, feed a fresh one */
	FRAME_END,      /* an end-of-data line "\." was seen: ignore the rest of the input */
	FRAME_GROW,     /* the record alone in the chunk outgrows its buffer: chunk_grow it to
			 * frame_grow_bytes(), then feed the rest again */
};

/* Creates a framer for the dialect (format CSV, TEXT or NDJSON; the dialect
 * must outlive the framer). NDJSON records are lines ending at LF, with no
 * quote or backslash rules; lines of JSON white space only are not records
 * (their bytes end the record before them, or are dropped at the start of
 * a chunk). Chunks fed to it must have room for batch_rows records and
 * chunk_bytes bytes.
 *
 * A chunk closes at batch_rows records or before a record that does not fit
 * in chunk_bytes with the others; a record longer than chunk_bytes has a
 * chunk of its own, which it alone fills. So chunk boundaries depend only on
 * the input, batch_rows and chunk_bytes, never on record_bytes_max, which
 * bounds the records loaded: a record longer than that (line end excluded)
 * is flagged REC_TOO_LONG, and when it is also longer than chunk_bytes only
 * its first RECORD_CUT_BYTES are kept (REC_CUT). A header line is never
 * longer than chunk_bytes: a longer one is cut there. Returns NULL on
 * ENOMEM. */
struct framer *frame_create(const struct dialect *d, uint32_t batch_rows, size_t chunk_bytes, size_t record_bytes_max);
void frame_free(struct framer *f);

/* Consumes bytes of buf into chunk c, record by record. Stops when all of buf
 * is consumed (FRAME_MORE), when the header is complete (FRAME_HEADER), when c
 * holds batch_rows records or cannot take the next record (FRAME_CHUNK), at
 * an end-of-data marker (FRAME_END), or when a record longer than c's buffer
 * needs more room (FRAME_GROW: c stays open). *consumed says how much of buf
 * was used; the caller feeds the rest next time, to the same c after
 * FRAME_GROW. A record split across calls is kept by the framer (in c or in
 * its own carry buffer) and completed later. Sets c->seq, first_record,
 * first_line, byte_offset for each new chunk, and byte_end as each record
 * completes. A UTF-8 byte order mark at the
 * start of the stream is skipped (when the dialect's input is UTF-8). */
enum frame_event frame_feed(struct framer *f, struct chunk *c, const char *buf, size_t len, size_t *consumed);

/* After FRAME_GROW: the data capacity c needs (the next doubling, at most
 * record_bytes_max plus a line end). */
size_t frame_grow_bytes(const struct framer *f);

/* At end of input: completes a last record that has no end-of-line. Returns
 * FRAME_HEADER if that record was the header, FRAME_CHUNK if c holds records,
 * FRAME_MORE if c is empty. */
enum frame_event frame_finish(struct framer *f, struct chunk *c);

/* Closes c now when it holds complete records (a stream's chunk whose
 * flush interval has passed): returns FRAME_CHUNK, and the record still
 * being read, if any, is kept by the framer and goes first into the next
 * chunk, exactly as when a chunk fills up. FRAME_MORE (nothing changed)
 * when c holds no complete record. Only between frame_feed calls. */
enum frame_event frame_flush(struct framer *f, struct chunk *c);

/* The chunk being filled also closes (FRAME_CHUNK) once record number
 * record (1-based, header excluded) is complete; UINT64_MAX: no such cut.
 * A resumed load cuts where committed ranges begin and end, so that each
 * chunk lies wholly inside or wholly outside them. Call between chunks. */
void frame_cut_after(struct framer *f, uint64_t record);

/* Shapes the chunks of an input of total_bytes, known ahead (a plain
 * file), shared by workers: the first FRAME_RAMP_CHUNKS chunks hold
 * batch_rows/4 and /2 records, so that the workers and the server start
 * working sooner than a full chunk can be framed and encoded, and each chunk
 * holds at most what is left divided by the workers (and at least
 * FRAME_SHAPE_BYTES_MIN), so that the workers finish together rather than
 * one waiting on another's last full chunk. Call before the first
 * frame_feed. Unshaped, every chunk closes at batch_rows. */
void frame_shape(struct framer *f, uint64_t total_bytes, uint32_t workers);

/* The header record (end-of-line stripped), valid until frame_free. */
void frame_header(const struct framer *f, const char **p, size_t *len);

/* Line-ending styles (struct chunk's eol): as COPY does, the first line's
 * ending decides the style of the whole input. */
enum { FRAME_EOL_UNKNOWN = 0, FRAME_EOL_LF, FRAME_EOL_CR, FRAME_EOL_CRLF };

/* The bytes of record i of c without its end-of-line, in *len. A record
 * whose line ends otherwise than the input's style is refused as COPY
 * refuses it: -1 with "unquoted newline found in data" (csv) or "literal
 * newline found in data" (text) in msg; a CR left before an LF in an LF
 * input stays in the data for the parser to refuse. */
int frame_record_data(const struct chunk *c, uint32_t i, bool csv, size_t *len, char *msg, size_t msgsz);

/* Counters for the summary. */
uint64_t frame_records(const struct framer *f); /* records framed, header excluded */
uint64_t frame_bytes(const struct framer *f);   /* bytes consumed */

#endif
