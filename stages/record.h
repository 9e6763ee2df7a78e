/* record.h - one input record as slices of its fields, the currency between parse, transform and encode. */
#ifndef EDONU_RECORD_H
#define EDONU_RECORD_H

#include <stdbool.h>
#include <stdint.h>

/* A field's bytes, de-quoted and de-escaped. ptr points into the chunk when
 * the field needed no rewriting, else into the parser's scratch buffer; it is
 * valid until the next record is parsed. Not NUL-terminated. */
struct field {
	const char *ptr;
	uint32_t len;
	bool null;
};

/* Input formats. */
enum input_format {
	FORMAT_AUTO = 0,
	FORMAT_CSV,
	FORMAT_TEXT,
	FORMAT_NDJSON,
};

struct charset;

/* The dialect of the input, as COPY's options name it. */
struct dialect {
	enum input_format format;
	char delimiter;   /* ',' for csv, '\t' for text */
	char quote;       /* csv only, default '"' */
	char escape;      /* csv only, default = quote */
	const char *null; /* NULL marker: "" for csv, "\\N" for text */
	uint32_t null_len;
	bool header; /* first record names the columns */
	/* COPY's ENCODING, every format: NULL for UTF-8; else records are
	 * converted to UTF-8 before they are parsed (stages/charset.h). */
	const struct charset *charset;
};

#endif
