/* encode_json.c - json and jsonb validation that follows PostgreSQL 15's jsonapi.c lexer and parser, and their binary COPY forms. */
#include "encode.h"

/* Nesting decided here. The server's limit is its stack (check_stack_depth,
 * max_stack_depth), far deeper than this; deeper documents are deferred. */
#define JSON_DEPTH_MAX 1000
/* A jsonb number goes through numeric_in, which refuses a weight or display
 * scale beyond its storage format ("value overflows numeric format").
 * Numbers with at most this many mantissa digits and an exponent below
 * 1000 in magnitude are far inside that format; others are deferred. */
#define JSONB_NUMBER_DIGITS_DECIDED 1000

enum json_tok {
	TOK_END,
	TOK_OBJECT_START,
	TOK_OBJECT_END,
	TOK_ARRAY_START,
	TOK_ARRAY_END,
	TOK_COMMA,
	TOK_COLON,
	TOK_STRING,
	TOK_NUMBER,
	TOK_TRUE,
	TOK_FALSE,
	TOK_NULL,
};

/* Lexer outcomes, mapped to the server's two messages (and a deferral). */
enum json_res {
	JR_OK,
	JR_INVALID, /* invalid input syntax for type json */
	JR_ZERO,    /* jsonb: unsupported Unicode escape sequence */
	JR_DEFER,
};

struct json_lexer {
	const unsigned char *s, *e;
	bool jsonb; /* de-escaping lexer: surrogates paired, \u0000 refused */
};

/* JSON_ALPHANUMERIC_CHAR: what the server swallows into one bad token. */
static inline bool json_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* json_lex_string; *s is at the opening quote. */
static enum json_res lex_string(struct json_lexer *lx)
{
	const unsigned char *s = lx->s + 1, *e = lx->e;
	int hi_surrogate = -1;
	for (;; s++) {
		if (s >= e)
			return JR_INVALID; /* premature end */
		unsigned char c = *s;
		if (c == '"')
			break;
		if (c < 32)
			return JR_INVALID; /* must be escaped */
		if (c != '\\') {
			if (lx->jsonb && hi_surrogate != -1)
				return JR_INVALID; /* low surrogate must follow */
			continue;
		}
		s++;
		if (s >= e)
			return JR_INVALID;
		if (*s == 'u') {
			int ch = 0;
			for (int i = 0; i < 4; i++) {
				s++;
				if (s >= e)
					return JR_INVALID;
				unsigned char h = *s;
				if (h >= '0' && h <= '9')
					ch = ch * 16 + (h - '0');
				else if (h >= 'a' && h <= 'f')
					ch = ch * 16 + (h - 'a') + 10;
				else if (h >= 'A' && h <= 'F')
					ch = ch * 16 + (h - 'A') + 10;
				else
					return JR_INVALID;
			}
			if (!lx->jsonb)
				continue;
			if (ch >= 0xd800 && ch <= 0xdbff) {
				if (hi_surrogate != -1)
					return JR_INVALID; /* high after high */
				hi_surrogate = ch;
				continue;
			}
			if (ch >= 0xdc00 && ch <= 0xdfff) {
				if (hi_surrogate == -1)
					return JR_INVALID; /* low without high */
				hi_surrogate = -1;
				continue;
			}
			if (hi_surrogate != -1)
				return JR_INVALID;
			if (ch == 0)
				return JR_ZERO;
		} else {
			if (lx->jsonb && hi_surrogate != -1)
				return JR_INVALID;
			switch (*s) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				break;
			default:
				return JR_INVALID;
			}
		}
	}
	if (lx->jsonb && hi_surrogate != -1)
		return JR_INVALID;
	lx->s = s + 1;
	return JR_OK;
}

/* json_lex_number; s is after an optional '-'. */
static enum json_res lex_number(struct json_lexer *lx, const unsigned char *s)
{
	const unsigned char *e = lx->e;
	bool error = false;
	size_t mant_digits = 0;
	if (s < e && *s == '0') {
		s++;
		mant_digits++;
	} else if (s < e && *s >= '1' && *s <= '9') {
		do {
			s++;
			mant_digits++;
		} while (s < e && is_digit(*s));
	} else {
		error = true;
	}
	if (s < e && *s == '.') {
		s++;
		if (s == e || !is_digit(*s)) {
			error = true;
		} else {
			do {
				s++;
				mant_digits++;
			} while (s < e && is_digit(*s));
		}
	}
	int exp_digits = 0; /* significant digits of the exponent */
	if (s < e && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < e && (*s == '+' || *s == '-'))
			s++;
		if (s == e || !is_digit(*s)) {
			error = true;
		} else {
			do {
				if (exp_digits > 0 || *s != '0')
					exp_digits++;
				s++;
			} while (s < e && is_digit(*s));
		}
	}
	for (; s < e && json_alnum(*s); s++)
		error = true;
	if (error)
		return JR_INVALID;
	/* |exponent| < 1000 when it has at most three significant digits. */
	if (lx->jsonb && (mant_digits > JSONB_NUMBER_DIGITS_DECIDED || exp_digits > 3))
		return JR_DEFER;
	lx->s = s;
	return JR_OK;
}

/* json_lex: the next token into *t. */
static enum json_res lex_next(struct json_lexer *lx, enum json_tok *t)
{
	const unsigned char *s = lx->s, *e = lx->e;
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	lx->s = s;
	if (s >= e) {
		*t = TOK_END;
		return JR_OK;
	}
	switch (*s) {
	case '{':
		*t = TOK_OBJECT_START;
		break;
	case '}':
		*t = TOK_OBJECT_END;
		break;
	case '[':
		*t = TOK_ARRAY_START;
		break;
	case ']':
		*t = TOK_ARRAY_END;
		break;
	case ',':
		*t = TOK_COMMA;
		break;
	case ':':
		*t = TOK_COLON;
		break;
	case '"':
		*t = TOK_STRING;
		return lex_string(lx);
	case '-':
		*t = TOK_NUMBER;
		return lex_number(lx, s + 1);
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		*t = TOK_NUMBER;
		return lex_number(lx, s);
	default: {
		/* Only true, false and null remain; the server takes the whole
		 * alphanumeric run as the token. */
		const unsigned char *q = s;
		while (q < e && json_alnum(*q))
			q++;
		size_t n = (size_t)(q - s);
		if (n == 4 && memcmp(s, "true", 4) == 0)
			*t = TOK_TRUE;
		else if (n == 4 && memcmp(s, "null", 4) == 0)
			*t = TOK_NULL;
		else if (n == 5 && memcmp(s, "false", 5) == 0)
			*t = TOK_FALSE;
		else
			return JR_INVALID;
		lx->s = q;
		return JR_OK;
	}
	}
	lx->s = s + 1;
	return JR_OK;
}

static enum enc_status json_fail(enum json_res r, char *msg, size_t msgsz)
{
	if (r == JR_DEFER)
		return ENC_DEFER;
	if (r == JR_ZERO)
		encode_set_msg(msg, msgsz, "unsupported Unicode escape sequence");
	else
		encode_set_msg(msg, msgsz, "invalid input syntax for type json");
	return ENC_REJECT;
}

/* pg_parse_json without recursion: the same token order, so the first
 * error found is the one the server reports. A stack of container kinds
 * (true: object) replaces parse_object/parse_array frames. */
enum enc_status json_validate(const char *p, size_t len, bool jsonb, char *msg, size_t msgsz)
{
	struct json_lexer lx = {(const unsigned char *)p, (const unsigned char *)p + len, jsonb};
	bool in_object[JSON_DEPTH_MAX];
	int depth = 0;
	enum json_tok t;
	enum json_res r;

#define NEXT()                                                                                                 \
	do {                                                                                                   \
		if ((r = lex_next(&lx, &t)) != JR_OK)                                                          \
			return json_fail(r, msg, msgsz);                                                       \
	} while (0)

	NEXT();
value:
	switch (t) {
	case TOK_OBJECT_START:
	case TOK_ARRAY_START:
		if (depth == JSON_DEPTH_MAX)
			return ENC_DEFER;
		in_object[depth++] = t == TOK_OBJECT_START;
		NEXT();
		if (t == (in_object[depth - 1] ? TOK_OBJECT_END : TOK_ARRAY_END)) {
			depth--;
			NEXT();
			goto after_value;
		}
		if (in_object[depth - 1])
			goto key;
		goto value;
	case TOK_STRING:
	case TOK_NUMBER:
	case TOK_TRUE:
	case TOK_FALSE:
	case TOK_NULL:
		NEXT();
		goto after_value;
	default:
		return json_fail(JR_INVALID, msg, msgsz);
	}
key:
	if (t != TOK_STRING)
		return json_fail(JR_INVALID, msg, msgsz);
	NEXT();
	if (t != TOK_COLON)
		return json_fail(JR_INVALID, msg, msgsz);
	NEXT();
	goto value;
after_value:
	if (depth == 0) {
		if (t != TOK_END)
			return json_fail(JR_INVALID, msg, msgsz);
		return ENC_OK;
	}
	if (t == TOK_COMMA) {
		NEXT();
		if (in_object[depth - 1])
			goto key;
		goto value;
	}
	if (t == (in_object[depth - 1] ? TOK_OBJECT_END : TOK_ARRAY_END)) {
		depth--;
		NEXT();
		goto after_value;
	}
	return json_fail(JR_INVALID, msg, msgsz);
#undef NEXT
}

/* json is sent as its text. jsonb is sent as version 1 and the text, which
 * jsonb_recv parses exactly as jsonb_in does; the server stores the same
 * value (it is not the canonical text jsonb_send would echo back). */
enum enc_status encode_json(const char *p, size_t len, bool jsonb, struct buf *out, char *msg, size_t msgsz)
{
	enum enc_status st = json_validate(p, len, jsonb, msg, msgsz);
	if (st != ENC_OK)
		return st;
	buf_reserve(out, 5 + len);
	buf_put_be32(out, (uint32_t)(len + (jsonb ? 1 : 0)));
	if (jsonb)
		buf_putc(out, 1);
	buf_put(out, p, len);
	return ENC_OK;
}
