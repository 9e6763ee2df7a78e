/* parse_csv.h - splits one CSV record into fields, as PostgreSQL's COPY ... CSV reads it. */
#ifndef EDONU_PARSE_CSV_H
#define EDONU_PARSE_CSV_H

#include "../core/buf.h"
#include "record.h"

#include <stddef.h>
#include <stdint.h>

/* Parses the record rec[0..len) (its end-of-line, LF or CRLF, may be
 * included and is ignored). Fields that need de-quoting are written to
 * scratch, which the caller empties before each record and which must have
 * room for len bytes (buf_reserve) so that it never moves while fields point
 * into it. Unquoted fields equal to d->null are NULL; quoted fields never are.
 * Returns the number of fields (at most fields_max), or -1 with PostgreSQL's
 * message in msg: unterminated CSV quoted field, extra data after last
 * expected column (more than fields_max), unquoted carriage return found in
 * data, invalid byte sequence for encoding "UTF8": 0x... */
int csv_parse_record(const struct dialect *d, const char *rec, size_t len, struct field *fields, uint32_t fields_max,
		     struct buf *scratch, char *msg, size_t msgsz);

#endif
