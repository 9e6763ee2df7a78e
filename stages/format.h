/* format.h - what an input format gives the codec: its name and how one record of a chunk becomes fields. */
#ifndef EDONU_FORMAT_H
#define EDONU_FORMAT_H

#include "../core/buf.h"
#include "../core/chunk.h"
#include "record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ndjson_map;

/* A source's settings that its format reads: set once per source and
 * read-only after, so that every worker may share them. */
struct format_conf {
	const struct dialect *dialect;   /* every format: at least its format */
	const struct ndjson_map *ndjson; /* NDJSON: which key fills which field */
};

struct format_ops;

/* Parses record i of c (never a REC_TOO_LONG one: the codec rejects those
 * unparsed) into at most fields_max fields, as the format ops says. Fields
 * point into the chunk or into scratch, which the parser appends to and
 * reserves room in itself, so that it never moves while this record's
 * fields point into it; the caller empties it before each record (or, for
 * UTF-8 input, reserves the chunk's bytes plus one per record ahead, to keep
 * every record's fields of a chunk; input in another encoding is converted
 * into scratch first, which takes up to twice its UTF-8 length plus one). Adds to *unknown_keys the keys that name no
 * field (NDJSON). Returns the field count, or -1 with PostgreSQL's message
 * in msg. */
typedef int format_parse_fn(const struct format_ops *ops, const struct format_conf *conf, const struct chunk *c,
			    uint32_t i, struct field *fields, uint32_t fields_max, struct buf *scratch,
			    uint32_t *unknown_keys, char *msg, size_t msgsz);

/* A parser of one record of delimited fields on a line (csv_parse_record,
 * text_parse_record): rec[0..len) without its end-of-line; scratch has room
 * for len + 1 more bytes. */
typedef int format_line_fn(const struct dialect *d, const char *rec, size_t len, struct field *fields,
			   uint32_t fields_max, struct buf *scratch, char *msg, size_t msgsz);

/* One input format: each parser file (parse_csv.c, parse_text.c,
 * parse_ndjson.c) defines one, and format_ops_for lists them. A new format
 * is a parser file pair with its struct, a value of enum input_format and
 * a line in that list. */
struct format_ops {
	const char *name; /* as --format names it */
	enum input_format format;
	format_parse_fn *parse_record;
	/* Formats of delimited fields on lines, whose parse_record is
	 * format_parse_line: the parser of one line, and whether a stray line
	 * ending is refused with CSV's wording or text's. */
	format_line_fn *parse_line;
	bool csv_lines;
};

extern const struct format_ops format_csv;
extern const struct format_ops format_text;
extern const struct format_ops format_ndjson;

/* The parse_record of the CSV and text formats: the record's bytes as the
 * framer found them (a line ending otherwise than the input's is refused
 * first, as COPY does: frame_record_data), then format_line_parse. */
format_parse_fn format_parse_line;

/* One line rec[0..len) of a line-based format, in the dialect's encoding:
 * converted to UTF-8 (format_record_utf8), then ops->parse_line over it.
 * Reserves scratch itself; the caller empties it before each line. */
int format_line_parse(const struct format_ops *ops, const struct dialect *d, const char *rec, size_t len,
		      struct field *fields, uint32_t fields_max, struct buf *scratch, char *msg, size_t msgsz);

/* A record as UTF-8, as the server converts COPY input before it splits it
 * into lines and fields (so that text-format escapes make bytes of UTF-8,
 * not of the input's encoding): *rec and *len are left as they are when
 * d->charset is NULL; otherwise the record is converted into scratch, which
 * keeps room after it for as many bytes again plus one (all a parser of it
 * appends), and *rec and *len point at the conversion. -1 with PostgreSQL's
 * message in msg for a NUL or a byte with no character in the encoding. */
int format_record_utf8(const struct dialect *d, const char **rec, size_t *len, struct buf *scratch, char *msg,
		       size_t msgsz);

/* --format auto by content, from the first bytes p[0..n) of an input (p may
 * be NULL when n is 0): a first line that starts with '{' (after a UTF-8
 * BOM and blanks) is NDJSON, one with tabs and no commas is text, anything
 * else (an empty input too) is CSV. */
enum input_format format_guess(const char *p, size_t n);

/* The format's operations; NULL for FORMAT_AUTO (decided before parsing). */
const struct format_ops *format_ops_for(enum input_format format);

#endif
