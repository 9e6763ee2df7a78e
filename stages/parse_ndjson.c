/* parse_ndjson.c - NDJSON lines to fields, with PostgreSQL 15's json lexer rules (jsonapi.c) and json_populate_record's mapping (jsonfuncs.c). */
#include "parse_ndjson.h"

#include "../core/err.h"
#include "format.h"
#include "json_lex.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ndjson_slot {
	uint32_t field_plus1; /* 0: an empty slot */
	uint32_t len;
	char name[NDJSON_KEY_BYTES_MAX + 1];
};

/* FNV-1a: keys are short names, and the table is built once per source. */
static uint32_t key_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

int ndjson_map_init(struct ndjson_map *m, const char *const *names, const bool *json, uint32_t n)
{
	memset(m, 0, sizeof *m);
	/* At most half full, so that a probe for an unknown key ends soon. */
	uint32_t nslots = 8;
	while (nslots < 2 * n)
		nslots <<= 1;
	m->slots = calloc(nslots, sizeof *m->slots);
	m->json = calloc(n ? n : 1, sizeof *m->json);
	if (m->slots == NULL || m->json == NULL) {
		ndjson_map_free(m);
		return -1;
	}
	m->nfields = n;
	m->mask = nslots - 1;
	for (uint32_t k = 0; k < n; k++) {
		m->json[k] = json[k];
		size_t len = strlen(names[k]);
		if (len > NDJSON_KEY_BYTES_MAX)
			continue; /* no key can name it */
		uint32_t h = key_hash(names[k], len) & m->mask;
		while (m->slots[h].field_plus1 != 0)
			h = (h + 1) & m->mask;
		m->slots[h].field_plus1 = k + 1;
		m->slots[h].len = (uint32_t)len;
		memcpy(m->slots[h].name, names[k], len);
	}
	return 0;
}

void ndjson_map_free(struct ndjson_map *m)
{
	free(m->slots);
	free(m->json);
	memset(m, 0, sizeof *m);
}

int ndjson_map_find(const struct ndjson_map *m, const char *key, size_t len)
{
	if (m->slots == NULL || len > NDJSON_KEY_BYTES_MAX)
		return -1;
	for (uint32_t h = key_hash(key, len) & m->mask;; h = (h + 1) & m->mask) {
		const struct ndjson_slot *s = &m->slots[h];
		if (s->field_plus1 == 0)
			return -1;
		if (s->len == len && memcmp(s->name, key, len) == 0)
			return (int)s->field_plus1 - 1;
	}
}

/* ---- semantic errors ------------------------------------------------ */

/* Errors of json_populate_record's own parse of a text that json_in
 * accepted: a syntax error anywhere outranks them (json_in runs first),
 * and among them the first one met in the text is the server's. */
enum sem {
	SEM_NONE = 0,
	SEM_ZERO,      /* \u0000: unsupported Unicode escape sequence */
	SEM_SURROGATE, /* an unpaired UTF-16 surrogate escape */
	SEM_SCALAR,    /* the line is a scalar, not an object */
	SEM_ARRAY,     /* the line is an array */
};

/* Keeps the first semantic error. After it only the syntax still matters,
 * so the lexer stops judging escapes. */
static inline void sem_set(enum sem *sem, struct json_lex *lx, enum sem s)
{
	if (*sem == SEM_NONE) {
		*sem = s;
		lx->escapes = JSON_LEX_ESCAPES_IGNORE;
	}
}

/* ---- values ---------------------------------------------------------- */

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* One character as the server's escape_json writes it. */
static size_t put_json_char(char *o, uint32_t cp)
{
	static const char hex[] = "0123456789abcdef";
	char e = 0;
	switch (cp) {
	case '\b': e = 'b'; break;
	case '\f': e = 'f'; break;
	case '\n': e = 'n'; break;
	case '\r': e = 'r'; break;
	case '\t': e = 't'; break;
	case '"': e = '"'; break;
	case '\\': e = '\\'; break;
	default:
		if (cp < 0x20) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[cp >> 4];
			o[5] = hex[cp & 15];
			return 6;
		}
		return put_utf8(o, cp);
	}
	o[0] = '\\';
	o[1] = e;
	return 2;
}

static uint32_t hex4(const unsigned char *p)
{
	return (uint32_t)(ascii_hex_value(p[0]) << 12 | ascii_hex_value(p[1]) << 8 | ascii_hex_value(p[2]) << 4 |
			  ascii_hex_value(p[3]));
}

/* De-escapes the body p[0..end) of a string the lexer accepted without a
 * semantic error into out (at most cap bytes), as plain text or, with
 * json, as the server's escape_json writes that text back. Returns the
 * length, or cap + 1 when it does not fit. Each escape's output is no
 * longer than the escape, and escape_json's form of a character is no
 * longer than the input that spelled it, so len + 2 bytes always do. */
static size_t unescape(const unsigned char *p, const unsigned char *end, bool json, char *out, size_t cap)
{
	size_t n = 0;
	char tmp[8];
	if (json) {
		if (cap < 2)
			return cap + 1;
		out[n++] = '"';
		cap--; /* room for the closing quote */
	}
	while (p < end) {
		if (*p != '\\') {
			const unsigned char *q = p;
			while (q < end && *q != '\\')
				q++;
			size_t k = (size_t)(q - p);
			if (n + k > cap)
				return cap + 1 + json;
			memcpy(out + n, p, k);
			n += k;
			p = q;
			continue;
		}
		uint32_t cp;
		switch (p[1]) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			cp = hex4(p + 2);
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* The lexer saw the low half right after it. */
				uint32_t lo = hex4(p + 8);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			p += 4;
			break;
		default: /* " \ / */ cp = p[1]; break;
		}
		p += 2;
		size_t k = json ? put_json_char(tmp, cp) : put_utf8(tmp, cp);
		if (n + k > cap)
			return cap + 1 + json;
		memcpy(out + n, tmp, k);
		n += k;
	}
	if (json)
		out[n++] = '"';
	return n;
}

/* The field of the key just lexed; -1 when it fills none. */
static int key_field(const struct ndjson_map *m, const struct json_lex *lx)
{
	const unsigned char *body = lx->ts + 1, *end = lx->s - 1;
	if (!lx->esc)
		return ndjson_map_find(m, (const char *)body, (size_t)(end - body));
	char key[NDJSON_KEY_BYTES_MAX + 1];
	size_t n = unescape(body, end, false, key, NDJSON_KEY_BYTES_MAX);
	return n > NDJSON_KEY_BYTES_MAX ? -1 : ndjson_map_find(m, key, n);
}

/* Sets field f from the scalar token just lexed. */
static void set_scalar(struct field *f, enum json_lex_tok t, const struct json_lex *lx, bool json, struct buf *scratch)
{
	const char *ts = (const char *)lx->ts;
	size_t tlen = (size_t)((const char *)lx->s - ts);
	f->null = false;
	if (t == JSON_LEX_TOK_NULL) {
		*f = (struct field){NULL, 0, true};
	} else if (t != JSON_LEX_TOK_STRING) {
		/* Numbers, true and false: their literal text. */
		f->ptr = ts;
		f->len = (uint32_t)tlen;
	} else if (!lx->esc) {
		/* Without escapes the text needs no rewriting, and escape_json
		 * would give back the token itself, quotes included. */
		f->ptr = json ? ts : ts + 1;
		f->len = (uint32_t)(json ? tlen : tlen - 2);
	} else {
		char *o = scratch->data + scratch->len;
		size_t cap = scratch->cap - scratch->len;
		size_t n = unescape(lx->ts + 1, lx->s - 1, json, o, cap);
		ASSERT(n <= cap);
		scratch->len += n;
		f->ptr = o;
		f->len = (uint32_t)n;
	}
}

int ndjson_parse_record(const struct ndjson_map *m, const char *rec, size_t len, struct field *fields,
			struct buf *scratch, uint32_t *unknown_keys, char *msg, size_t msgsz)
{
	/* The server checks the encoding of the whole text before parsing. */
	size_t valid = utf8_valid_prefix(rec, len);
	if (valid < len) {
		utf8_error_message(rec + valid, len - valid, msg, msgsz);
		return -1;
	}
	buf_reserve(scratch, len);
	for (uint32_t k = 0; k < m->nfields; k++)
		fields[k] = (struct field){NULL, 0, true};

	struct json_lex lx;
	json_lex_init(&lx, rec, len, JSON_LEX_ESCAPES_REPORT);
	enum sem sem = SEM_NONE;
	/* Bit d: the container at depth d + 1 is an object. */
	uint64_t is_object[NDJSON_DEPTH_MAX / 64 + 1];
	uint32_t depth = 0;
	int cur = -1;                       /* field of the current top-level key */
	const unsigned char *nested = NULL; /* start of the top-level key's object or array value */
	uint32_t unknown = 0;
	enum json_lex_tok t;
	enum json_lex_res r;

	/* A bad escape leaves the string token whole: the line's syntax is
	 * still to be checked to its end. */
#define NEXT()                                                                             \
	do {                                                                               \
		if ((r = json_lex_next(&lx, &t)) != JSON_LEX_OK) {                         \
			if (r == JSON_LEX_SYNTAX)                                          \
				goto syntax;                                               \
			sem_set(&sem, &lx, r == JSON_LEX_ZERO ? SEM_ZERO : SEM_SURROGATE); \
		}                                                                          \
	} while (0)
#define IN_OBJECT() ((is_object[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1)

	NEXT();
value:
	switch (t) {
	case JSON_LEX_TOK_OBJECT_START:
	case JSON_LEX_TOK_ARRAY_START:
		if (depth == 0 && t == JSON_LEX_TOK_ARRAY_START)
			sem_set(&sem, &lx, SEM_ARRAY); /* hash_array_start, before the next token is read */
		if (depth == NDJSON_DEPTH_MAX) {
			snprintf(msg, msgsz, "stack depth limit exceeded");
			return -1;
		}
		if (depth == 1)
			nested = lx.ts;
		if (t == JSON_LEX_TOK_OBJECT_START)
			is_object[depth / 64] |= (uint64_t)1 << (depth % 64);
		else
			is_object[depth / 64] &= ~((uint64_t)1 << (depth % 64));
		depth++;
		NEXT();
		if (t == (IN_OBJECT() ? JSON_LEX_TOK_OBJECT_END : JSON_LEX_TOK_ARRAY_END))
			goto close;
		if (IN_OBJECT())
			goto key;
		goto value;
	case JSON_LEX_TOK_STRING:
	case JSON_LEX_TOK_NUMBER:
	case JSON_LEX_TOK_TRUE:
	case JSON_LEX_TOK_FALSE:
	case JSON_LEX_TOK_NULL:
		if (depth == 0)
			sem_set(&sem, &lx, SEM_SCALAR);
		else if (depth == 1 && cur >= 0 && sem == SEM_NONE)
			set_scalar(&fields[cur], t, &lx, m->json[cur], scratch);
		NEXT();
		goto after_value;
	default: goto syntax;
	}
key:
	if (t != JSON_LEX_TOK_STRING)
		goto syntax;
	if (depth == 1 && sem == SEM_NONE) {
		cur = key_field(m, &lx);
		if (cur < 0)
			unknown++;
	}
	NEXT();
	if (t != JSON_LEX_TOK_COLON)
		goto syntax;
	NEXT();
	goto value;
close:
	/* t closes the container at depth; lx.s is just past it. */
	depth--;
	if (depth == 1 && cur >= 0 && sem == SEM_NONE)
		fields[cur] = (struct field){(const char *)nested, (uint32_t)(lx.s - nested), false};
	NEXT();
after_value:
	if (depth == 0) {
		if (t != JSON_LEX_TOK_END)
			goto syntax;
		goto done;
	}
	if (t == JSON_LEX_TOK_COMMA) {
		NEXT();
		if (IN_OBJECT())
			goto key;
		goto value;
	}
	if (t == (IN_OBJECT() ? JSON_LEX_TOK_OBJECT_END : JSON_LEX_TOK_ARRAY_END))
		goto close;
	goto syntax;
#undef NEXT
#undef IN_OBJECT

done:
	switch (sem) {
	case SEM_NONE: *unknown_keys += unknown; return (int)m->nfields;
	case SEM_ZERO: snprintf(msg, msgsz, "%s", json_lex_message(JSON_LEX_ZERO)); return -1;
	case SEM_SURROGATE: break;
	case SEM_SCALAR: snprintf(msg, msgsz, "cannot call populate_composite on a scalar"); return -1;
	case SEM_ARRAY: snprintf(msg, msgsz, "cannot call populate_composite on an array"); return -1;
	}
syntax:
	snprintf(msg, msgsz, "%s", json_lex_message(JSON_LEX_SYNTAX));
	return -1;
}

/* The codec's operation: the record is its line up to the LF; blank lines
 * the framer left after it are not part of it (stages/frame.h). Every
 * mapped field gets a value or NULL, so the field count always matches.
 * A line in another encoding than UTF-8 is converted first, as the server
 * converts a line that psql sends in that client encoding. */
static int ndjson_parse_chunk_record(const struct format_ops *ops, const struct format_conf *conf,
				     const struct chunk *c, uint32_t i, struct field *fields, uint32_t fields_max,
				     struct buf *scratch, uint32_t *unknown_keys, char *msg, size_t msgsz)
{
	ASSERT(conf->ndjson->nfields <= fields_max);
	const char *rec = c->data + c->rec_off[i];
	size_t n = c->rec_off[i + 1] - c->rec_off[i];
	const char *nl = memchr(rec, '\n', n);
	size_t len = nl != NULL ? (size_t)(nl - rec) : n;
	if (format_record_utf8(conf->dialect, &rec, &len, scratch, msg, msgsz) < 0)
		return -1;
	return ndjson_parse_record(conf->ndjson, rec, len, fields, scratch, unknown_keys, msg, msgsz);
}

const struct format_ops format_ndjson = {
    .name = "ndjson", .format = FORMAT_NDJSON, .parse_record = ndjson_parse_chunk_record};
