/* json_read.h - a small strict JSON reader for io/: values checked in place, strings kept as spans and unescaped on demand. */
#ifndef EDONU_JSON_READ_H
#define EDONU_JSON_READ_H

#include "../core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Only what a reject line needs: one object per line, whose string values
 * are kept as spans of the line and unescaped once the whole object (and so
 * every flag, wherever it stands) is known. The grammar is RFC 8259's; the
 * one leniency is that unescaped bytes inside strings are taken as they are,
 * UTF-8 or not, since they are record bytes either way. A JSON lexer exists
 * in stages/json_lex.c, but io/ must not depend on the stages. */

/* Nesting of arrays and objects in a value the reader only checks; the
 * writer nests nothing, and the bound keeps the recursion small. */
#define JSON_READ_DEPTH_MAX 64u

struct jcur {
	const unsigned char *p, *end, *start;
	const char *why; /* what is wrong, at p */
};

/* A string value: the bytes between its quotes, still escaped. */
struct jspan {
	const unsigned char *p;
	size_t len;
};

/* Each returns 0, or -1 with j->why set and j->p at the fault. */
int jfail(struct jcur *j, const char *why);
void jskip_ws(struct jcur *j);
/* Checks the string at j->p (on its opening quote) and returns its body. */
int jstring(struct jcur *j, struct jspan *s);
/* Appends the unescaped bytes of s, which jstring has checked. bytes: a
 * \u0080..\u00ff escape is that one byte, not the character. */
void junescape(const struct jspan *s, bool bytes, struct buf *out);
/* A number per RFC 8259. *u gets its value when it is a whole number >= 0
 * that fits (no fraction, no exponent); *whole says whether it was. */
int jnumber(struct jcur *j, bool *whole, uint64_t *u);
int jliteral(struct jcur *j, const char *word);
/* Checks any one value at j->p and steps over it (depth: nesting so far). */
int jskip_value(struct jcur *j, unsigned depth);

#endif
