/* parse_text.h - splits one record of PostgreSQL's text COPY format into fields. */
#ifndef EDONU_PARSE_TEXT_H
#define EDONU_PARSE_TEXT_H

#include "../core/buf.h"
#include "record.h"

#include <stddef.h>
#include <stdint.h>

/* Same contract as csv_parse_record: fields whose raw text equals d->null
 * ("\N" by default) are NULL; backslash escapes (\b \f \n \r \t \v, \digits
 * octal, \xhex, \\ and any other escaped character) are decoded into scratch.
 * Returns the field count or -1 with PostgreSQL's message (including the
 * encoding check of decoded bytes, which PostgreSQL does after de-escaping). */
int text_parse_record(const struct dialect *d, const char *rec, size_t len, struct field *fields, uint32_t fields_max,
		      struct buf *scratch, char *msg, size_t msgsz);

/* Appends a value to out escaped for text COPY input (backslash, delimiter
 * d, newline, carriage return, tab and the other control characters
 * PostgreSQL escapes on output). */
void text_escape_value(char delimiter, const char *p, size_t len, struct buf *out);

#endif
