/* json_lex.h - PostgreSQL 15's json lexer (json_lex in src/common/jsonapi.c) over a byte range: tokens, strings with the de-escaping lexer's \u rules, and numbers. */
#ifndef EDONU_JSON_LEX_H
#define EDONU_JSON_LEX_H

#include "../core/ascii.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum json_lex_tok {
	JSON_LEX_TOK_END,
	JSON_LEX_TOK_OBJECT_START,
	JSON_LEX_TOK_OBJECT_END,
	JSON_LEX_TOK_ARRAY_START,
	JSON_LEX_TOK_ARRAY_END,
	JSON_LEX_TOK_COMMA,
	JSON_LEX_TOK_COLON,
	JSON_LEX_TOK_STRING,
	JSON_LEX_TOK_NUMBER,
	JSON_LEX_TOK_TRUE,
	JSON_LEX_TOK_FALSE,
	JSON_LEX_TOK_NULL,
};

/* What json_lex_next found. The last two are the de-escaping lexer's
 * refusals of a string's \u escapes; the server reports JSON_LEX_SURROGATE
 * as a syntax error and JSON_LEX_ZERO with a message of its own (see
 * json_lex_message). */
enum json_lex_res {
	JSON_LEX_OK = 0,
	JSON_LEX_SYNTAX,    /* invalid input syntax for type json */
	JSON_LEX_ZERO,      /* \u0000: unsupported Unicode escape sequence */
	JSON_LEX_SURROGATE, /* a UTF-16 surrogate escape without its other half */
};

/* How \u escapes are judged. The server lexes json_in's text without
 * de-escaping (any four hex digits do), jsonb_in's with it (the first bad
 * escape ends the parse), and json_populate_record de-escapes text that
 * json_in has already accepted whole, so there a syntax error later in
 * the same string still outranks a bad escape before it. */
enum json_lex_escapes {
	JSON_LEX_ESCAPES_IGNORE, /* json_in: escapes need only their hex digits */
	JSON_LEX_ESCAPES_REFUSE, /* jsonb_in: a bad escape is returned as soon as it is met */
	JSON_LEX_ESCAPES_REPORT, /* a bad escape is returned once its string has lexed without a syntax error */
};

/* The lexer's state: the caller owns it (on its stack), and nothing is
 * allocated. Fields other than s, e and escapes describe the last token. */
struct json_lex {
	const unsigned char *s, *e;    /* the text not yet lexed */
	const unsigned char *ts;       /* where the last token started */
	enum json_lex_escapes escapes; /* the caller may change it between tokens */
	bool esc;                      /* the last string token holds a backslash */
	size_t mantissa_digits;        /* the last number token's digits, integer and fraction part */
	int exponent_digits;           /* its exponent's digits after leading zeros */
};

static inline void json_lex_init(struct json_lex *lx, const char *p, size_t len, enum json_lex_escapes escapes)
{
	*lx = (struct json_lex){.s = (const unsigned char *)p, .e = (const unsigned char *)p + len, .escapes = escapes};
}

/* JSON_ALPHANUMERIC_CHAR: what the server swallows into one bad token. */
static inline bool json_lex_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/* The server's message for a result other than JSON_LEX_OK. */
const char *json_lex_message(enum json_lex_res r);

/* The rest of a string token from its first backslash at s (out of line:
 * escapes are the uncommon case, and their surrogate bookkeeping is all
 * here). Same contract as json_lex_next. */
enum json_lex_res json_lex_string_escaped(struct json_lex *lx, const unsigned char *s);

/* json_lex_string; lx->s is at the opening quote. Plain strings are only
 * scanned for their end; a backslash hands over to the escape path. */
static inline enum json_lex_res json_lex_string(struct json_lex *lx)
{
	const unsigned char *s = lx->s + 1, *e = lx->e;
	lx->esc = false;
	for (;; s++) {
		if (s >= e)
			return JSON_LEX_SYNTAX; /* premature end */
		unsigned char c = *s;
		if (c == '"')
			break;
		if (c < 32)
			return JSON_LEX_SYNTAX; /* must be escaped */
		if (c == '\\')
			return json_lex_string_escaped(lx, s);
	}
	lx->s = s + 1;
	return JSON_LEX_OK;
}

/* json_lex_number; s is after an optional '-'. On JSON_LEX_OK the digit
 * counts in lx let a caller judge the number's magnitude without
 * converting it. Out of line: inlined here it made json_lex_next too large
 * for the compiler to inline into the parsers' loops, which cost more
 * (about a quarter of the NDJSON parse time) than this call does. */
enum json_lex_res json_lex_number(struct json_lex *lx, const unsigned char *s);

/* json_lex: the next token into *t. JSON_LEX_OK: *t is set, lx->ts is
 * where it starts and lx->s just past it (JSON_LEX_TOK_END at the end of
 * the text). JSON_LEX_SYNTAX, or a bad escape under ESCAPES_REFUSE: the
 * text is refused and lx->s is left anywhere; lex no further. A bad
 * escape under ESCAPES_REPORT: the string token is complete, as with
 * JSON_LEX_OK (*t is JSON_LEX_TOK_STRING), and lexing may go on. Inline:
 * both parsers call it once per token. */
static inline enum json_lex_res json_lex_next(struct json_lex *lx, enum json_lex_tok *t)
{
	const unsigned char *s = lx->s, *e = lx->e;
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	lx->s = s;
	lx->ts = s;
	if (s >= e) {
		*t = JSON_LEX_TOK_END;
		return JSON_LEX_OK;
	}
	switch (*s) {
	case '{': *t = JSON_LEX_TOK_OBJECT_START; break;
	case '}': *t = JSON_LEX_TOK_OBJECT_END; break;
	case '[': *t = JSON_LEX_TOK_ARRAY_START; break;
	case ']': *t = JSON_LEX_TOK_ARRAY_END; break;
	case ',': *t = JSON_LEX_TOK_COMMA; break;
	case ':': *t = JSON_LEX_TOK_COLON; break;
	case '"': *t = JSON_LEX_TOK_STRING; return json_lex_string(lx);
	case '-': *t = JSON_LEX_TOK_NUMBER; return json_lex_number(lx, s + 1);
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9': *t = JSON_LEX_TOK_NUMBER; return json_lex_number(lx, s);
	default: {
		/* Only true, false and null remain; the server takes the whole
		 * alphanumeric run as the token. */
		const unsigned char *q = s;
		while (q < e && json_lex_is_alnum(*q))
			q++;
		size_t n = (size_t)(q - s);
		if (n == 4 && memcmp(s, "true", 4) == 0)
			*t = JSON_LEX_TOK_TRUE;
		else if (n == 4 && memcmp(s, "null", 4) == 0)
			*t = JSON_LEX_TOK_NULL;
		else if (n == 5 && memcmp(s, "false", 5) == 0)
			*t = JSON_LEX_TOK_FALSE;
		else
			return JSON_LEX_SYNTAX;
		lx->s = q;
		return JSON_LEX_OK;
	}
	}
	lx->s = s + 1;
	return JSON_LEX_OK;
}

#endif
