/* escape.h - text from the input made safe to print: on a terminal nothing it holds acts as a control. */
#ifndef EDONU_ESCAPE_H
#define EDONU_ESCAPE_H

#include "buf.h"

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s[0..n) (n > 0), or 0 when it is
 * not one: PostgreSQL's rules (no overlong forms, no surrogates, nothing
 * past U+10FFFF), those of stages/utf8.c. */
size_t escape_utf8_len(const unsigned char *s, size_t n);

/* Appends p[0..n) unquoted, for a terminal: the C0 controls (escape
 * sequences, carriage returns, line feeds), DEL and each byte that is not
 * valid UTF-8 as \xHH; the C1 controls U+0080-U+009F, which some terminals
 * obey as well, as \u00HH; everything else as it is (a backslash too: this
 * is for people, not for a parser). */
void escape_text(struct buf *b, const char *p, size_t n);

/* Appends p[0..n) as a JSON string ("..."): quote and backslash escaped,
 * the C0 controls, DEL and the C1 controls as \u00HH, each byte that is not
 * valid UTF-8 as \u00HH of its value; other UTF-8 as it is. The result is
 * valid JSON that a terminal shows as text. */
void escape_json(struct buf *b, const char *p, size_t n);

#endif
