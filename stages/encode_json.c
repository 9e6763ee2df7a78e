/* encode_json.c - json and jsonb validation that follows PostgreSQL 15's jsonapi.c lexer and parser, and their binary COPY forms. */
#include "encode.h"
#include "json_lex.h"

/* Nesting decided here. The server's limit is its stack (check_stack_depth,
 * max_stack_depth), far deeper than this; deeper documents are deferred. */
#define JSON_DEPTH_MAX              1000
/* A jsonb number goes through numeric_in, which refuses a weight or display
 * scale beyond its storage format ("value overflows numeric format").
 * Numbers with at most this many mantissa digits and an exponent below
 * 1000 in magnitude are far inside that format; others are deferred. */
#define JSONB_NUMBER_DIGITS_DECIDED 1000

/* A jsonb number numeric_in might refuse: |exponent| < 1000 when the
 * exponent has at most three significant digits. */
static inline bool jsonb_number_undecided(const struct json_lex *lx)
{
	return lx->mantissa_digits > JSONB_NUMBER_DIGITS_DECIDED || lx->exponent_digits > 3;
}

static enum enc_status json_fail(enum json_lex_res r, char *msg, size_t msgsz)
{
	encode_set_msg(msg, msgsz, "%s", json_lex_message(r));
	return ENC_REJECT;
}

/* pg_parse_json without recursion: the same token order, so the first
 * error found is the one the server reports. A stack of container kinds
 * (true: object) replaces parse_object/parse_array frames. */
enum enc_status json_validate(const char *p, size_t len, bool jsonb, char *msg, size_t msgsz)
{
	struct json_lex lx;
	json_lex_init(&lx, p, len, jsonb ? JSON_LEX_ESCAPES_REFUSE : JSON_LEX_ESCAPES_IGNORE);
	bool in_object[JSON_DEPTH_MAX];
	int depth = 0;
	enum json_lex_tok t;
	enum json_lex_res r;

	/* Deferring is always safe (the server then decides), so a jsonb
	 * number numeric_in might refuse defers the text as soon as it is
	 * lexed, wherever it stands. */
#define NEXT()                                                                        \
	do {                                                                          \
		if ((r = json_lex_next(&lx, &t)) != JSON_LEX_OK)                      \
			return json_fail(r, msg, msgsz);                              \
		if (jsonb && t == JSON_LEX_TOK_NUMBER && jsonb_number_undecided(&lx)) \
			return ENC_DEFER;                                             \
	} while (0)

	NEXT();
value:
	switch (t) {
	case JSON_LEX_TOK_OBJECT_START:
	case JSON_LEX_TOK_ARRAY_START:
		if (depth == JSON_DEPTH_MAX)
			return ENC_DEFER;
		in_object[depth++] = t == JSON_LEX_TOK_OBJECT_START;
		NEXT();
		if (t == (in_object[depth - 1] ? JSON_LEX_TOK_OBJECT_END : JSON_LEX_TOK_ARRAY_END)) {
			depth--;
			NEXT();
			goto after_value;
		}
		if (in_object[depth - 1])
			goto key;
		goto value;
	case JSON_LEX_TOK_STRING:
	case JSON_LEX_TOK_NUMBER:
	case JSON_LEX_TOK_TRUE:
	case JSON_LEX_TOK_FALSE:
	case JSON_LEX_TOK_NULL: NEXT(); goto after_value;
	default: return json_fail(JSON_LEX_SYNTAX, msg, msgsz);
	}
key:
	if (t != JSON_LEX_TOK_STRING)
		return json_fail(JSON_LEX_SYNTAX, msg, msgsz);
	NEXT();
	if (t != JSON_LEX_TOK_COLON)
		return json_fail(JSON_LEX_SYNTAX, msg, msgsz);
	NEXT();
	goto value;
after_value:
	if (depth == 0) {
		if (t != JSON_LEX_TOK_END)
			return json_fail(JSON_LEX_SYNTAX, msg, msgsz);
		return ENC_OK;
	}
	if (t == JSON_LEX_TOK_COMMA) {
		NEXT();
		if (in_object[depth - 1])
			goto key;
		goto value;
	}
	if (t == (in_object[depth - 1] ? JSON_LEX_TOK_OBJECT_END : JSON_LEX_TOK_ARRAY_END)) {
		depth--;
		NEXT();
		goto after_value;
	}
	return json_fail(JSON_LEX_SYNTAX, msg, msgsz);
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
