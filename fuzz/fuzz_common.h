/* fuzz_common.h - what the fuzz targets share: a fixed table with a column of every encoded type, and the loader's own path from input bytes to COPY tuples. */
#ifndef EDONU_FUZZ_COMMON_H
#define EDONU_FUZZ_COMMON_H

#include "../core/table.h"
#include "../stages/record.h"

#include <stddef.h>
#include <stdint.h>

struct charset;

/* libFuzzer's entry point, defined by each target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Records per chunk, bytes per chunk and bytes per record of the fuzz
 * loads: small, so that inputs of a few hundred bytes already span chunks,
 * hold records longer than a chunk (which grows for them) and records
 * longer than --max-record-bytes. */
#define FUZZ_BATCH_ROWS       8u
#define FUZZ_CHUNK_BYTES      512u
#define FUZZ_RECORD_BYTES_MAX 1536u
/* Fields a record may have: more than the table's columns, so that a
 * record with too many fields is refused as such. */
#define FUZZ_FIELDS_MAX       64u

/* What one byte of the input chooses before the rest is loaded. */
struct fuzz_flags {
	bool header;       /* the first record names the columns (CSV, text) */
	bool tz_utc;       /* the session's zone is UTC: timestamptz decided locally */
	bool text_only;    /* one column without an encoder: text COPY throughout */
	unsigned variant;  /* 0-3: the format's dialect variant (delimiter, quote, NULL) */
	unsigned encoding; /* 0-3: --encoding UTF8, LATIN1, WIN1252 or KOI8R */
	size_t split;      /* where the input is cut into two reads */
};

/* The fixed table: a column of every type the encoders know (int2 ...
 * bytea, with typmods for numeric, varchar, char and timestamp), named i2,
 * i4, i8, f4, f8, n, nn, b, t, vc, bp, d, ts, ts3, tz, u, j, jb, by, and
 * with fl->text_only an interval column iv, which has no encoder (the
 * table then loads as text). cols has FUZZ_COLUMNS entries. */
#define FUZZ_COLUMNS 20u
void fuzz_table(struct table_info *t, struct table_column *cols, const struct fuzz_flags *fl);

/* Takes the flags from data[0] and data[1] (the rest is the input);
 * false when there is no input after them. */
bool fuzz_flags_take(const uint8_t **data, size_t *size, struct fuzz_flags *fl);

/* The input encoding fl->encoding names (NULL: UTF-8), for d->charset;
 * opened once per process. */
const struct charset *fuzz_charset(const struct fuzz_flags *fl);

/* Loads data[0..size) as the loader's reader thread and a worker would,
 * without a server: framed into chunks in two reads cut at fl->split, the
 * header mapped to the table's columns (or every column, in table order),
 * each chunk parsed, checked and encoded by the codec. Aborts when an
 * invariant breaks: every record of a chunk is rejected, binary or text,
 * once; every binary tuple is well formed (its field count, then each
 * field's length and bytes, to its end; values the codec leaves in place,
 * 256 KiB and more, never occur in inputs this short). */
void fuzz_load(const struct dialect *d, const struct fuzz_flags *fl, const uint8_t *data, size_t size);

/* The line formats' whole target (CSV, text): the flags taken from data,
 * then fuzz_load with the dialect variants[fl.variant], its header and
 * encoding set by the flags. */
int fuzz_line_format(const struct dialect variants[4], const uint8_t *data, size_t size);

#endif
