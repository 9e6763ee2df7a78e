/* json_lex.c - the out-of-line parts of the json lexer: numbers, strings with escapes (judged as PostgreSQL 15's de-escaping lexer judges them) and the server's messages. */
#include "json_lex.h"

#include "../core/err.h"

const char *json_lex_message(enum json_lex_res r)
{
	ASSERT(r != JSON_LEX_OK);
	/* An unpaired surrogate has a DETAIL of its own on the server, but
	 * its message is the syntax error's. */
	return r == JSON_LEX_ZERO ? "unsupported Unicode escape sequence" : "invalid input syntax for type json";
}

/* A bad escape under ESCAPES_REFUSE ends the lexing at once; under
 * ESCAPES_REPORT the first one is kept and the string's syntax still
 * checked, and the escapes after it are no longer judged (a de-escaping
 * parse that has failed reports nothing more). */
#define BAD_ESCAPE(r)               \
	do {                        \
		if (refuse)         \
			return (r); \
		bad = (r);          \
		check = false;      \
	} while (0)

enum json_lex_res json_lex_string_escaped(struct json_lex *lx, const unsigned char *s)
{
	const unsigned char *e = lx->e;
	bool check = lx->escapes != JSON_LEX_ESCAPES_IGNORE;
	bool refuse = lx->escapes == JSON_LEX_ESCAPES_REFUSE;
	enum json_lex_res bad = JSON_LEX_OK;
	int hi_surrogate = -1; /* a high surrogate escape waiting for its low half */
	lx->esc = true;
	for (;; s++) {
		if (s >= e)
			return JSON_LEX_SYNTAX; /* premature end */
		unsigned char c = *s;
		if (c == '"')
			break;
		if (c < 32)
			return JSON_LEX_SYNTAX; /* must be escaped */
		if (c != '\\') {
			if (check && hi_surrogate != -1)
				BAD_ESCAPE(JSON_LEX_SURROGATE); /* the low half must follow */
			continue;
		}
		if (++s >= e)
			return JSON_LEX_SYNTAX;
		if (*s == 'u') {
			int ch = 0;
			for (int i = 0; i < 4; i++) {
				if (++s >= e)
					return JSON_LEX_SYNTAX;
				int v = ascii_hex_value(*s);
				if (v < 0)
					return JSON_LEX_SYNTAX;
				ch = ch * 16 + v;
			}
			if (!check)
				continue;
			if (ch >= 0xd800 && ch <= 0xdbff) {
				if (hi_surrogate != -1)
					BAD_ESCAPE(JSON_LEX_SURROGATE); /* high after high */
				hi_surrogate = ch;
			} else if (ch >= 0xdc00 && ch <= 0xdfff) {
				if (hi_surrogate == -1)
					BAD_ESCAPE(JSON_LEX_SURROGATE); /* low without high */
				hi_surrogate = -1;
			} else if (hi_surrogate != -1) {
				BAD_ESCAPE(JSON_LEX_SURROGATE);
			} else if (ch == 0) {
				BAD_ESCAPE(JSON_LEX_ZERO);
			}
			continue;
		}
		switch (*s) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't': break;
		default: return JSON_LEX_SYNTAX;
		}
		if (check && hi_surrogate != -1)
			BAD_ESCAPE(JSON_LEX_SURROGATE);
	}
	if (check && hi_surrogate != -1)
		BAD_ESCAPE(JSON_LEX_SURROGATE);
	lx->s = s + 1;
	return bad;
}

enum json_lex_res json_lex_number(struct json_lex *lx, const unsigned char *s)
{
	const unsigned char *e = lx->e;
	bool error = false;
	size_t mantissa_digits = 0;
	int exponent_digits = 0;
	if (s < e && *s == '0') {
		s++;
		mantissa_digits++;
	} else if (s < e && *s >= '1' && *s <= '9') {
		do {
			s++;
			mantissa_digits++;
		} while (s < e && ascii_is_digit(*s));
	} else {
		error = true;
	}
	if (s < e && *s == '.') {
		s++;
		if (s == e || !ascii_is_digit(*s)) {
			error = true;
		} else {
			do {
				s++;
				mantissa_digits++;
			} while (s < e && ascii_is_digit(*s));
		}
	}
	if (s < e && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < e && (*s == '+' || *s == '-'))
			s++;
		if (s == e || !ascii_is_digit(*s)) {
			error = true;
		} else {
			do {
				if (exponent_digits > 0 || *s != '0')
					exponent_digits++;
				s++;
			} while (s < e && ascii_is_digit(*s));
		}
	}
	/* The server takes trailing letters and digits into the token, which
	 * makes "1x" one bad number rather than a number and a word. */
	for (; s < e && json_lex_is_alnum(*s); s++)
		error = true;
	if (error)
		return JSON_LEX_SYNTAX;
	lx->mantissa_digits = mantissa_digits;
	lx->exponent_digits = exponent_digits;
	lx->s = s;
	return JSON_LEX_OK;
}
