/* invalidate.c - renders cache keys from records exactly as PostgreSQL prints the stored values, dedupes them per chunk, and sends them to Redis in pipelines. */
#include "invalidate.h"

#include "encode.h"

#include "../io/journal.h"
#include "ascii.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

/* ================================================================== templates */

/* The decision is made on the type OID (core/pgtype.h), not the encoder
 * kind, so a domain or an unknown type is refused instead of being printed
 * the way its base type might be. */

enum render_kind {
	R_INT,
	R_TEXT,
	R_VARCHAR,
	R_BPCHAR,
	R_UUID,
	R_BOOL,
	R_DATE,
	R_NUMERIC,
};

/* One piece of a template: literal bytes, or the value of input field k. */
struct seg {
	bool is_field;
	uint32_t lit_off, lit_len; /* into tp->lit */
	uint32_t field;            /* input field index k */
	uint32_t col;              /* table column m->col[k] */
	enum render_kind rk;
};

/* Literal bytes are copied LIT_COPY bytes at a time (one unaligned load and
 * store); lit has that much slack past its end, and a render reserves it. */
#define LIT_COPY 16u

struct inval_template {
	enum inval_kind kind;
	char *text;
	char *lit; /* LIT_COPY bytes of slack past the literal bytes */
	struct seg *segs;
	uint32_t nsegs;
};

static const char *type_name(uint32_t oid)
{
	switch (oid) {
	case OID_BOOL: return "boolean";
	case OID_BYTEA: return "bytea";
	case OID_CHAR: return "\"char\"";
	case OID_NAME: return "name";
	case OID_INT8: return "bigint";
	case OID_INT2: return "smallint";
	case OID_INT4: return "integer";
	case OID_TEXT: return "text";
	case OID_JSON: return "json";
	case OID_FLOAT4: return "real";
	case OID_FLOAT8: return "double precision";
	case OID_BPCHAR: return "character";
	case OID_VARCHAR: return "character varying";
	case OID_DATE: return "date";
	case OID_TIME: return "time without time zone";
	case OID_TIMESTAMP: return "timestamp without time zone";
	case OID_TIMESTAMPTZ: return "timestamp with time zone";
	case OID_INTERVAL: return "interval";
	case OID_TIMETZ: return "time with time zone";
	case OID_NUMERIC: return "numeric";
	case OID_UUID: return "uuid";
	case OID_JSONB: return "jsonb";
	default: return NULL;
	}
}

static int render_kind_for(uint32_t oid, enum render_kind *rk)
{
	switch (oid) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8: *rk = R_INT; return 0;
	case OID_TEXT: *rk = R_TEXT; return 0;
	case OID_VARCHAR: *rk = R_VARCHAR; return 0;
	case OID_BPCHAR: *rk = R_BPCHAR; return 0;
	case OID_UUID: *rk = R_UUID; return 0;
	case OID_BOOL: *rk = R_BOOL; return 0;
	case OID_DATE: *rk = R_DATE; return 0;
	case OID_NUMERIC: *rk = R_NUMERIC; return 0;
	default: return -1;
	}
}

static void seg_push(struct inval_template *tp, struct seg s)
{
	/* segs was sized for the worst case (every byte its own segment) */
	tp->segs[tp->nsegs++] = s;
}

int inval_compile(const char *tpl, const struct table_info *t, const struct mapping *m, enum inval_kind kind,
		  struct inval_template **out, struct err *e)
{
	const char *opt = kind == INVAL_BUMP ? "--bump" : "--invalidate";
	size_t n = strlen(tpl);
	if (n == 0)
		return err_set(e, EXIT_CONFIG, "%s: empty template", opt);
	struct inval_template *tp = calloc(1, sizeof *tp);
	if (tp == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	tp->kind = kind;
	tp->text = strdup(tpl);
	tp->lit = calloc(1, n + 1 + LIT_COPY);
	tp->segs = calloc(n + 1, sizeof *tp->segs);
	if (tp->text == NULL || tp->lit == NULL || tp->segs == NULL) {
		inval_template_free(tp);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	uint32_t lit_len = 0, lit_start = 0;
	for (size_t i = 0; i < n;) {
		char c = tpl[i];
		if ((c == '{' || c == '}') && i + 1 < n && tpl[i + 1] == c) {
			tp->lit[lit_len++] = c;
			i += 2;
			continue;
		}
		if (c == '}') {
			inval_template_free(tp);
			return err_set(e, EXIT_CONFIG, "%s '%s': unbalanced '}' at offset %zu (write '}}' for a brace)",
				       opt, tpl, i);
		}
		if (c != '{') {
			tp->lit[lit_len++] = c;
			i++;
			continue;
		}
		size_t name = i + 1, end = name;
		while (end < n && tpl[end] != '}' && tpl[end] != '{')
			end++;
		if (end == n || tpl[end] == '{') {
			inval_template_free(tp);
			return err_set(e, EXIT_CONFIG, "%s '%s': unbalanced '{' at offset %zu (write '{{' for a brace)",
				       opt, tpl, i);
		}
		size_t nlen = end - name;
		if (nlen == 0) {
			inval_template_free(tp);
			return err_set(e, EXIT_CONFIG, "%s '%s': empty column name at offset %zu", opt, tpl, i);
		}
		int col = transform_find_column(t, tpl + name, nlen);
		if (col < 0) {
			inval_template_free(tp);
			return err_set(e, EXIT_CONFIG, "%s '%s': column \"%.*s\" does not exist in table %s", opt, tpl,
				       (int)nlen, tpl + name, t->display);
		}
		const struct enc_column *ec = &t->cols[col].enc;
		uint32_t k = 0;
		while (k < m->nfields && m->col[k] != (uint32_t)col)
			k++;
		if (k == m->nfields) {
			inval_template_free(tp);
			return err_set(
			    e, EXIT_CONFIG,
			    "%s '%s': column \"%s\" is not loaded (not among the input's columns), so its value "
			    "is unknown",
			    opt, tpl, ec->name);
		}
		enum render_kind rk;
		if (render_kind_for(ec->type_oid, &rk) != 0) {
			const char *tn = type_name(ec->type_oid);
			char oidname[32];
			if (tn == NULL) {
				snprintf(oidname, sizeof oidname, "with OID %u", ec->type_oid);
				tn = oidname;
			}
			inval_template_free(tp);
			return err_set(e, EXIT_CONFIG,
				       "%s '%s': cannot render column \"%s\" of type %s exactly in a key (supported: "
				       "smallint, integer, bigint, text, varchar, char, uuid, boolean, date, numeric)",
				       opt, tpl, ec->name, tn);
		}
		if (lit_len > lit_start)
			seg_push(tp, (struct seg){.lit_off = lit_start, .lit_len = lit_len - lit_start});
		lit_start = lit_len;
		seg_push(tp, (struct seg){.is_field = true, .field = k, .col = (uint32_t)col, .rk = rk});
		i = end + 1;
	}
	if (lit_len > lit_start)
		seg_push(tp, (struct seg){.lit_off = lit_start, .lit_len = lit_len - lit_start});
	*out = tp;
	return 0;
}

void inval_template_free(struct inval_template *tp)
{
	if (tp == NULL)
		return;
	free(tp->text);
	free(tp->lit);
	free(tp->segs);
	free(tp);
}

enum inval_kind inval_template_kind(const struct inval_template *tp)
{
	return tp->kind;
}

const char *inval_template_text(const struct inval_template *tp)
{
	return tp->text;
}

/* ================================================================== rendering
 * Each renderer appends the printed form of one value to out and returns 0,
 * or returns -1 with a reason and leaves out as it was (the caller restores
 * out->len). They accept exactly the input forms PostgreSQL 15's input
 * functions accept for these types, or a documented subset (date). */

/* PostgreSQL's input functions skip isspace() around numbers and booleans. */
static void trim_space(const char **p, size_t *n)
{
	while (*n > 0 && ascii_is_space(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ascii_is_space((*p)[*n - 1]))
		(*n)--;
}

/* int2/int4/int8 (pg_strtoint16/32/64): spaces, a sign, decimal digits. */
static int render_int(const char *p, size_t n, struct buf *out, const char **why)
{
	trim_space(&p, &n);
	bool neg = false;
	if (n > 0 && (*p == '-' || *p == '+')) {
		neg = *p == '-';
		p++;
		n--;
	}
	if (n == 0) {
		*why = "no digits";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!ascii_is_digit(p[i])) {
			*why = "not a decimal integer";
			return -1;
		}
	while (n > 1 && *p == '0') {
		p++;
		n--;
	}
	/* 19 digits hold every int8; more means the server refused the value. */
	if (n > 19) {
		*why = "out of range";
		return -1;
	}
	if (neg && !(n == 1 && *p == '0'))
		buf_putc(out, '-');
	buf_put(out, p, n);
	return 0;
}

/* bool: rendered as PostgreSQL prints it, t or f. */
static int render_bool(const char *p, size_t n, struct buf *out, const char **why)
{
	int v = encode_parse_bool(p, n);
	if (v < 0) {
		*why = "not a boolean";
		return -1;
	}
	buf_putc(out, v ? 't' : 'f');
	return 0;
}

/* uuid (string_to_uuid): optional braces, 32 hex digits, an optional hyphen
 * after any group of four digits but the last; no spaces. */
static int render_uuid(const char *p, size_t n, struct buf *out, const char **why)
{
	static const char hex[] = "0123456789abcdef";
	char d[32];
	size_t i = 0;
	bool braces = n > 0 && p[0] == '{';
	if (braces)
		i++;
	for (int b = 0; b < 16; b++) {
		if (n - i < 2 || ascii_hex_value(p[i]) < 0 || ascii_hex_value(p[i + 1]) < 0) {
			*why = "not a uuid";
			return -1;
		}
		d[2 * b] = hex[ascii_hex_value(p[i])];
		d[2 * b + 1] = hex[ascii_hex_value(p[i + 1])];
		i += 2;
		if (i < n && p[i] == '-' && b % 2 == 1 && b < 15)
			i++;
	}
	if (braces) {
		if (i == n || p[i] != '}') {
			*why = "not a uuid";
			return -1;
		}
		i++;
	}
	if (i != n) {
		*why = "not a uuid";
		return -1;
	}
	buf_put(out, d, 8);
	buf_putc(out, '-');
	buf_put(out, d + 8, 4);
	buf_putc(out, '-');
	buf_put(out, d + 12, 4);
	buf_putc(out, '-');
	buf_put(out, d + 16, 4);
	buf_putc(out, '-');
	buf_put(out, d + 20, 12);
	return 0;
}

/* date: the ISO form Y-M-D with a four-digit year 0001-9999, one- or
 * two-digit month and day, and infinity/-infinity, spaces around: the forms
 * the binary encoder decides. Everything else date_in accepts (other orders,
 * month names, "epoch", BC, 'today') depends on DateStyle or the clock, and
 * the encoder leaves it to the server too. */
static int render_date(const char *p, size_t n, struct buf *out, const char **why)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	trim_space(&p, &n);
	if (n == 8 && strncasecmp(p, "infinity", 8) == 0) {
		buf_put(out, "infinity", 8);
		return 0;
	}
	if (n == 9 && strncasecmp(p, "-infinity", 9) == 0) {
		buf_put(out, "-infinity", 9);
		return 0;
	}
	*why = "not an ISO date (YYYY-MM-DD)";
	size_t i = 0;
	int y = 0, mo = 0, d = 0, nd;
	for (nd = 0; i < n && ascii_is_digit(p[i]); nd++, i++)
		y = y * 10 + (p[i] - '0');
	if (nd != 4 || i == n || p[i] != '-')
		return -1;
	i++;
	for (nd = 0; i < n && ascii_is_digit(p[i]) && nd < 2; nd++, i++)
		mo = mo * 10 + (p[i] - '0');
	if (nd == 0 || i == n || p[i] != '-')
		return -1;
	i++;
	for (nd = 0; i < n && ascii_is_digit(p[i]) && nd < 2; nd++, i++)
		d = d * 10 + (p[i] - '0');
	if (nd == 0 || i != n)
		return -1;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y == 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap)) {
		*why = "date out of range";
		return -1;
	}
	char s[16];
	int len = snprintf(s, sizeof s, "%04d-%02d-%02d", y, mo, d);
	buf_put(out, s, (size_t)len);
	return 0;
}

/* Byte length of the first nchars UTF-8 characters of p[0..n) (all of it
 * when shorter), and the number of characters in that prefix. */
static size_t utf8_clip(const char *p, size_t n, size_t nchars, size_t *counted)
{
	size_t chars = 0, i = 0;
	for (; i < n; i++) {
		if (((unsigned char)p[i] & 0xC0) == 0x80)
			continue;
		if (chars == nchars)
			break;
		chars++;
	}
	*counted = chars;
	return i;
}

/* varchar(n) and char(n) (varchar_input, bpcharin): a value longer than n
 * characters keeps its first n if the rest is spaces (else the server
 * refuses it); char(n) pads with spaces to n characters. */
static int render_string(enum render_kind rk, int32_t typmod, const char *p, size_t n, struct buf *out,
			 const char **why)
{
	if (rk == R_TEXT || typmod < VARHDRSZ) {
		buf_put(out, p, n);
		return 0;
	}
	size_t maxlen = (size_t)(typmod - VARHDRSZ), chars;
	size_t clip = utf8_clip(p, n, maxlen, &chars);
	for (size_t i = clip; i < n; i++)
		if (p[i] != ' ') {
			*why = "value too long for the type";
			return -1;
		}
	buf_put(out, p, clip);
	if (rk == R_BPCHAR)
		for (size_t i = chars; i < maxlen; i++)
			buf_putc(out, ' ');
	return 0;
}

/* The numeric typmod's scale is an 11-bit signed field (PostgreSQL 15 allows
 * negative scales: numeric(5,-2) rounds to hundreds). */
static int numeric_typmod_scale(int32_t typmod)
{
	return (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;
}

/* numeric (numeric_in, then apply_typmod, then numeric_out): spaces, sign,
 * digits with an optional point, optional exponent; NaN and infinities.
 * The display scale is the input's digits after the point minus the
 * exponent (at least 0), or the column's scale, rounding half away from
 * zero. Zero never prints a sign. */
static int render_numeric(int32_t typmod, const char *p, size_t n, struct buf *out, const char **why)
{
	trim_space(&p, &n);
	*why = "not a number";
	if (n == 3 && strncasecmp(p, "NaN", 3) == 0) {
		buf_put(out, "NaN", 3);
		return 0;
	}
	bool neg = false;
	size_t i = 0;
	if (i < n && (p[i] == '-' || p[i] == '+')) {
		neg = p[i] == '-';
		i++;
	}
	if ((n - i == 8 && strncasecmp(p + i, "Infinity", 8) == 0) ||
	    (n - i == 3 && strncasecmp(p + i, "inf", 3) == 0)) {
		/* A constrained numeric refuses infinities (numeric field overflow). */
		if (typmod >= VARHDRSZ) {
			*why = "infinity in a constrained numeric";
			return -1;
		}
		if (neg)
			buf_put(out, "-Infinity", 9);
		else
			buf_put(out, "Infinity", 8);
		return 0;
	}
	const char *ip = p + i;
	size_t il = 0;
	while (i < n && ascii_is_digit(p[i]))
		i++, il++;
	const char *fp = p + i;
	size_t fl = 0;
	if (i < n && p[i] == '.') {
		i++;
		fp = p + i;
		while (i < n && ascii_is_digit(p[i]))
			i++, fl++;
	}
	if (il + fl == 0)
		return -1;
	long exp10 = 0;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		bool eneg = false;
		if (i < n && (p[i] == '-' || p[i] == '+'))
			eneg = p[i++] == '-';
		size_t ed = 0;
		for (; i < n && ascii_is_digit(p[i]); i++, ed++) {
			exp10 = exp10 * 10 + (p[i] - '0');
			/* PostgreSQL's numeric holds 131072 integer and 16383 fraction digits. */
			if (exp10 > 200000) {
				*why = "exponent out of range";
				return -1;
			}
		}
		if (ed == 0)
			return -1;
		if (eneg)
			exp10 = -exp10;
	}
	if (i != n)
		return -1;

	/* The digits S = ip ++ fp with the point after position P. digit(x) is
	 * S[x] inside, 0 outside. The kept digits end at cut (exclusive). */
	long nd = (long)(il + fl), P = (long)il + exp10;
	bool constrained = typmod >= VARHDRSZ;
	int scale = constrained ? numeric_typmod_scale(typmod) : 0;
	long cut = constrained ? P + scale : (nd > P ? nd : P);
	long start = (P < 0 ? P : 0) - 1; /* one spare leading position for a carry */
	long end = cut > P ? cut : P;     /* [P, end) are the fraction digits printed */
	if (start > cut - 1)
		start = cut - 1; /* keep the rounding position in range */
	size_t width = (size_t)(end - start);
	size_t base = out->len;
	buf_reserve(out, width + 3);
	/* g[x - start] = digit(x). Two bytes before it leave room for a sign and
	 * a point while the digits are moved left into place below. */
	char *g = out->data + base + 2;
#define DIGIT(x) ((x) >= 0 && (x) < nd ? ((x) < (long)il ? ip[(x)] : fp[(x) - (long)il]) : '0')
	for (long x = start; x < end; x++)
		g[x - start] = x < cut ? DIGIT(x) : '0';
	if (cut >= 0 && cut < nd && DIGIT(cut) >= '5') {
		/* Carry; position start always holds a spare '0', so it stops there. */
		long x = cut - 1;
		while (g[x - start] == '9')
			g[x-- - start] = '0';
		g[x - start]++;
	}
#undef DIGIT
	/* Integer digits [start, P) without leading zeros; "0" when none. */
	long first = start;
	while (first < P && g[first - start] == '0')
		first++;
	bool zero = first == P;
	for (long x = P; x < end && zero; x++)
		zero = g[x - start] == '0';
	/* Build the printed form in place: sign, integer digits, point, fraction. */
	char *o = out->data + base;
	size_t k = 0;
	if (neg && !zero)
		o[k++] = '-';
	if (first == P) {
		o[k++] = '0';
	} else {
		memmove(o + k, g + (first - start), (size_t)(P - first));
		k += (size_t)(P - first);
	}
	if (end > P) {
		/* The fraction starts at least two bytes right of where the point
		 * goes, so neither the point nor the move overwrites unmoved digits. */
		char *frac = g + (P - start);
		o[k++] = '.';
		memmove(o + k, frac, (size_t)(end - P));
		k += (size_t)(end - P);
	}
	out->len = base + k;
	return 0;
}

/* The common integer: 1-19 digits without sign, spaces or leading zeros,
 * already in printed form. Copies it and returns true, or returns false
 * (nothing written) for render_int to decide. out has room for n bytes. */
static inline bool put_plain_int(const char *p, size_t n, struct buf *out)
{
	if (n == 0 || n > 19 || p[0] == '0')
		return false;
	char *o = out->data + out->len;
	for (size_t i = 0; i < n; i++) {
		if (!ascii_is_digit(p[i]))
			return false;
		o[i] = p[i];
	}
	out->len += n;
	return true;
}

int inval_render(const struct inval_template *tp, const struct table_info *t, const struct field *fields,
		 struct buf *out, struct err *e)
{
	size_t mark = out->len;
	for (uint32_t s = 0; s < tp->nsegs; s++) {
		const struct seg *sg = &tp->segs[s];
		if (!sg->is_field) {
			if (sg->lit_len > LIT_COPY) {
				buf_put(out, tp->lit + sg->lit_off, sg->lit_len);
				continue;
			}
			buf_reserve(out, LIT_COPY);
			memcpy(out->data + out->len, tp->lit + sg->lit_off, LIT_COPY);
			out->len += sg->lit_len;
			continue;
		}
		const struct field *f = &fields[sg->field];
		if (f->null) {
			out->len = mark;
			return 0;
		}
		if (sg->rk == R_INT) {
			buf_reserve(out, f->len);
			if (put_plain_int(f->ptr, f->len, out))
				continue;
		}
		const struct enc_column *ec = &t->cols[sg->col].enc;
		const char *why = "unsupported";
		int rc;
		switch (sg->rk) {
		case R_INT: rc = render_int(f->ptr, f->len, out, &why); break;
		case R_BOOL: rc = render_bool(f->ptr, f->len, out, &why); break;
		case R_UUID: rc = render_uuid(f->ptr, f->len, out, &why); break;
		case R_DATE: rc = render_date(f->ptr, f->len, out, &why); break;
		case R_NUMERIC: rc = render_numeric(ec->typmod, f->ptr, f->len, out, &why); break;
		default: rc = render_string(sg->rk, ec->typmod, f->ptr, f->len, out, &why); break;
		}
		if (rc != 0) {
			out->len = mark;
			return err_set(e, EXIT_DATAERR, "key '%s': column \"%s\": cannot render \"%.*s\" exactly: %s",
				       tp->text, ec->name, f->len > 64 ? 64 : (int)f->len, f->ptr, why);
		}
	}
	return 1;
}

/* ================================================================== key sets */

struct ks_entry {
	size_t off;    /* of the key's head in b */
	uint32_t len;  /* key bytes */
	uint32_t hash; /* upper half of the 64-bit hash, to skip most memcmp */
	uint32_t slot; /* where it sits in slots, so clear is O(count) */
};

struct inval_keyset {
	uint32_t keys_max;
	uint32_t count;
	uint32_t slots_mask;
	/* (hash32 << 32) | (entry index + 1); 0 = empty. Load factor <= 1/2.
	 * The hash beside the index lets a probe reject a slot without
	 * touching the entry or its key: one cache miss per new key. */
	uint64_t *slots;
	struct ks_entry *entries;
	struct buf b; /* keys in key-list encoding */
	/* Keys rendered by inval_keyset_add_record_deferred and not yet looked
	 * up: their slots were prefetched, and are looked up once the next
	 * record has been parsed and encoded, when the line is in cache. They
	 * sit at the tail of b, in order. */
	struct {
		size_t off;
		uint64_t hash;
	} pending[INVAL_TEMPLATES_MAX];
	uint32_t npending;
};

/* FNV-1a over the kind and the key: keys are short, so a byte loop is as
 * fast as anything cleverer, and the kind keeps a bumped key and an
 * unlinked key of the same name apart. */
/* In-memory only (never stored): 8 bytes a step with a multiply-xorshift
 * mix, several times faster than a byte-wise hash on 20-40 byte keys. */
static inline uint64_t key_mix(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	return x;
}

static uint64_t key_hash(uint8_t kind, const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)kind << 56) ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = key_mix(h ^ w);
	}
	uint64_t tail = 0;
	for (size_t k = 0; i < n; i++, k++)
		tail |= (uint64_t)(unsigned char)p[i] << (8 * k);
	return key_mix(h ^ tail ^ 0xff51afd7ed558ccdull);
}

struct inval_keyset *inval_keyset_create(uint32_t keys_max, size_t key_bytes)
{
	ASSERT(keys_max > 0 && keys_max <= (UINT32_MAX >> 2));
	struct inval_keyset *ks = calloc(1, sizeof *ks);
	if (ks == NULL)
		return NULL;
	uint32_t nslots = 2;
	while (nslots < 2 * keys_max)
		nslots *= 2;
	ks->keys_max = keys_max;
	ks->slots_mask = nslots - 1;
	ks->slots = calloc(nslots, sizeof *ks->slots);
	ks->entries = calloc(keys_max, sizeof *ks->entries);
	if (ks->slots == NULL || ks->entries == NULL || buf_init(&ks->b, key_bytes) != 0) {
		inval_keyset_free(ks);
		return NULL;
	}
	return ks;
}

void inval_keyset_free(struct inval_keyset *ks)
{
	if (ks == NULL)
		return;
	free(ks->slots);
	free(ks->entries);
	buf_free(&ks->b);
	free(ks);
}

void inval_keyset_clear(struct inval_keyset *ks)
{
	/* Clearing each used slot touches a random line per key; past an
	 * eighth of the table one sequential memset is cheaper. */
	size_t nslots = (size_t)ks->slots_mask + 1;
	if ((size_t)ks->count * 8 > nslots)
		memset(ks->slots, 0, nslots * sizeof *ks->slots);
	else
		for (uint32_t i = 0; i < ks->count; i++)
			ks->slots[ks->entries[i].slot] = 0;
	ks->count = 0;
	ks->npending = 0;
	ks->b.len = 0;
}

/* Settles pending key i (at off, not necessarily the tail): a duplicate's
 * bytes are cut out of b and the later pending keys move down. 1 new, 0
 * present, -1 full. */
static int settle_pending_one(struct inval_keyset *ks, uint32_t i)
{
	size_t off = ks->pending[i].off;
	const char *key = ks->b.data + off + JOURNAL_KEY_HEAD_BYTES;
	const unsigned char *head = (const unsigned char *)ks->b.data + off;
	uint32_t len = (uint32_t)head[1] | (uint32_t)head[2] << 8 | (uint32_t)head[3] << 16 | (uint32_t)head[4] << 24;
	uint8_t kind = (uint8_t)ks->b.data[off];
	uint64_t h = ks->pending[i].hash;
	uint32_t h32 = (uint32_t)(h >> 32);
	uint32_t s = (uint32_t)h & ks->slots_mask;
	bool dup = false;
	for (;; s = (s + 1) & ks->slots_mask) {
		uint64_t v = ks->slots[s];
		if (v == 0)
			break;
		if ((uint32_t)(v >> 32) != h32)
			continue;
		const struct ks_entry *en = &ks->entries[(uint32_t)v - 1];
		if (en->len == len && ks->b.data[en->off] == (char)kind &&
		    memcmp(ks->b.data + en->off + JOURNAL_KEY_HEAD_BYTES, key, len) == 0) {
			dup = true;
			break;
		}
	}
	if (!dup && ks->count == ks->keys_max)
		return -1;
	if (dup) {
		size_t n = JOURNAL_KEY_HEAD_BYTES + len;
		memmove(ks->b.data + off, ks->b.data + off + n, ks->b.len - off - n);
		ks->b.len -= n;
		for (uint32_t j = i + 1; j < ks->npending; j++)
			ks->pending[j].off -= n;
		return 0;
	}
	ks->entries[ks->count] = (struct ks_entry){.off = off, .len = len, .hash = h32, .slot = s};
	ks->slots[s] = (uint64_t)h32 << 32 | ++ks->count;
	return 1;
}

int inval_keyset_settle(struct inval_keyset *ks)
{
	int rc = 0;
	for (uint32_t i = 0; i < ks->npending && rc == 0; i++)
		if (settle_pending_one(ks, i) < 0) {
			/* Full: the unsettled keys are dropped from the buffer. */
			ks->b.len = ks->pending[i].off;
			rc = -1;
		}
	ks->npending = 0;
	return rc;
}

int inval_keyset_add_record_deferred(struct inval_keyset *ks, struct inval_template *const *tps, uint32_t ntps,
				     const struct table_info *t, const struct field *fields, struct err *e)
{
	ASSERT(ntps <= INVAL_TEMPLATES_MAX);
	if (inval_keyset_settle(ks) < 0)
		return err_set(e, EXIT_SOFTWARE, "invalidation key set full (%u keys): sized too small", ks->keys_max);
	/* A record's keys go in whole or not at all. */
	size_t record_start = ks->b.len;
	for (uint32_t i = 0; i < ntps; i++) {
		size_t off = ks->b.len;
		buf_reserve(&ks->b, JOURNAL_KEY_HEAD_BYTES);
		ks->b.len += JOURNAL_KEY_HEAD_BYTES;
		int rc = inval_render(tps[i], t, fields, &ks->b, e);
		if (rc == 0) {
			ks->b.len = off;
			continue;
		}
		size_t len = ks->b.len - off - JOURNAL_KEY_HEAD_BYTES;
		if (rc < 0 || len > INVAL_KEY_BYTES_MAX) {
			ks->b.len = record_start;
			ks->npending = 0;
			if (rc < 0)
				return -1;
			return err_set(e, EXIT_DATAERR, "key '%s': rendered key is %zu bytes, more than %zu",
				       tps[i]->text, len, INVAL_KEY_BYTES_MAX);
		}
		journal_keylist_put_head(ks->b.data + off, (uint8_t)tps[i]->kind, (uint32_t)len);
		uint64_t h = key_hash((uint8_t)tps[i]->kind, ks->b.data + off + JOURNAL_KEY_HEAD_BYTES, len);
		__builtin_prefetch(&ks->slots[(uint32_t)h & ks->slots_mask]);
		ks->pending[ks->npending].off = off;
		ks->pending[ks->npending].hash = h;
		ks->npending++;
	}
	return 0;
}

int inval_keyset_add(struct inval_keyset *ks, enum inval_kind kind, const char *key, size_t len)
{
	if (inval_keyset_settle(ks) < 0)
		return -1;
	if (len > INVAL_KEY_BYTES_MAX)
		return -1;
	size_t off = ks->b.len;
	journal_keylist_put(&ks->b, (uint8_t)kind, key, (uint32_t)len);
	ks->pending[0].off = off;
	ks->pending[0].hash = key_hash((uint8_t)kind, key, len);
	ks->npending = 1;
	int rc = settle_pending_one(ks, 0);
	if (rc < 0)
		ks->b.len = off;
	ks->npending = 0;
	return rc;
}

int inval_keyset_add_record(struct inval_keyset *ks, struct inval_template *const *tps, uint32_t ntps,
			    const struct table_info *t, const struct field *fields, struct err *e)
{
	if (inval_keyset_settle(ks) < 0)
		return err_set(e, EXIT_SOFTWARE, "invalidation key set full (%u keys): sized too small", ks->keys_max);
	uint32_t before = ks->count;
	if (inval_keyset_add_record_deferred(ks, tps, ntps, t, fields, e) < 0)
		return -1;
	if (inval_keyset_settle(ks) < 0)
		return err_set(e, EXIT_SOFTWARE, "invalidation key set full (%u keys): sized too small", ks->keys_max);
	return (int)(ks->count - before);
}

uint32_t inval_keyset_count(const struct inval_keyset *ks)
{
	ASSERT(ks->npending == 0);
	return ks->count;
}

const char *inval_keyset_key(const struct inval_keyset *ks, uint32_t i, size_t *len, enum inval_kind *kind)
{
	ASSERT(i < ks->count && ks->npending == 0);
	const struct ks_entry *en = &ks->entries[i];
	*len = en->len;
	if (kind != NULL)
		*kind = (enum inval_kind)(uint8_t)ks->b.data[en->off];
	return ks->b.data + en->off + JOURNAL_KEY_HEAD_BYTES;
}

const void *inval_keyset_data(const struct inval_keyset *ks, size_t *len)
{
	ASSERT(ks->npending == 0);
	*len = ks->b.len;
	return ks->b.data;
}

int inval_keyset_load(struct inval_keyset *ks, const void *data, size_t len, struct err *e)
{
	inval_keyset_clear(ks);
	size_t pos = 0;
	uint8_t kind;
	const char *key;
	uint32_t klen;
	int rc;
	while ((rc = journal_keylist_next(data, len, &pos, &kind, &key, &klen)) == 1) {
		if (kind != INVAL_UNLINK && kind != INVAL_BUMP) {
			inval_keyset_clear(ks);
			return err_set(e, EXIT_SOFTWARE, "journal entry has a key of unknown kind %u", kind);
		}
		if (inval_keyset_add(ks, (enum inval_kind)kind, key, klen) < 0) {
			inval_keyset_clear(ks);
			return err_set(e, EXIT_SOFTWARE, "journal entry has more than %u keys or an oversized key",
				       ks->keys_max);
		}
	}
	if (rc < 0) {
		inval_keyset_clear(ks);
		return err_set(e, EXIT_SOFTWARE, "journal entry has a malformed key list");
	}
	return 0;
}

/* ================================================================== Redis URLs */

/* Copies p[0..n) to out, decoding %XX. -1 when malformed or too long. */
static int pct_decode(const char *p, size_t n, char *out, size_t outsz)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '%') {
			if (i + 2 >= n || ascii_hex_value(p[i + 1]) < 0 || ascii_hex_value(p[i + 2]) < 0)
				return -1;
			c = (char)(ascii_hex_value(p[i + 1]) * 16 + ascii_hex_value(p[i + 2]));
			i += 2;
		}
		if (k + 1 >= outsz)
			return -1;
		out[k++] = c;
	}
	out[k] = '\0';
	return 0;
}

static int parse_uint(const char *p, size_t n, long max, int *v)
{
	if (n == 0 || n > 9)
		return -1;
	long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ascii_is_digit(p[i]))
			return -1;
		x = x * 10 + (p[i] - '0');
	}
	if (x > max)
		return -1;
	*v = (int)x;
	return 0;
}

/* "db=N&password=P" */
static int parse_query(const char *q, struct inval_redis_url *u, const char **bad)
{
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		if (n > 3 && strncmp(q, "db=", 3) == 0) {
			if (parse_uint(q + 3, n - 3, 1 << 20, &u->db) != 0) {
				*bad = "db is not a number";
				return -1;
			}
		} else if (n > 9 && strncmp(q, "password=", 9) == 0) {
			if (pct_decode(q + 9, n - 9, u->password, sizeof u->password) != 0) {
				*bad = "bad password encoding";
				return -1;
			}
		} else {
			*bad = "unknown query parameter (db and password are known)";
			return -1;
		}
		q += n + (amp ? 1 : 0);
	}
	return 0;
}

int inval_redis_parse_url(const char *url, struct inval_redis_url *u, struct err *e)
{
	memset(u, 0, sizeof *u);
	u->port = 6379;
	const char *bad = NULL;
	if (strncmp(url, "rediss://", 9) == 0)
		return err_set(e, EXIT_CONFIG, "--redis: TLS (rediss://) is not supported; use redis:// or unix://");
	if (strncmp(url, "unix://", 7) == 0) {
		const char *path = url + 7;
		const char *q = strchr(path, '?');
		size_t n = q ? (size_t)(q - path) : strlen(path);
		u->unix_socket = true;
		/* sun_path holds 108 bytes with its NUL */
		if (n == 0 || path[0] != '/')
			bad = "the socket path must be absolute (unix:///path/to/sock)";
		else if (pct_decode(path, n, u->host, 108) != 0)
			bad = "socket path too long or badly encoded";
		else if (q != NULL)
			parse_query(q + 1, u, &bad);
		goto done;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		bad = "expected redis://[[user]:password@]host[:port][/db] or unix:///path/to/sock[?db=N]";
		goto done;
	}
	const char *a = url + 8;
	size_t alen = strcspn(a, "/?");
	const char *rest = a + alen;
	const char *at = NULL;
	for (size_t i = 0; i < alen; i++)
		if (a[i] == '@')
			at = a + i;
	if (at != NULL) {
		const char *colon = memchr(a, ':', (size_t)(at - a));
		if (colon == NULL) {
			bad = "credentials must be written [user]:password@";
			goto done;
		}
		if (pct_decode(a, (size_t)(colon - a), u->user, sizeof u->user) != 0 ||
		    pct_decode(colon + 1, (size_t)(at - colon - 1), u->password, sizeof u->password) != 0) {
			bad = "user or password too long or badly encoded";
			goto done;
		}
		alen -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	const char *portp = NULL;
	size_t hlen;
	if (alen > 0 && a[0] == '[') {
		const char *rb = memchr(a, ']', alen);
		if (rb == NULL) {
			bad = "unterminated [ in the host";
			goto done;
		}
		hlen = (size_t)(rb - a - 1);
		if (hlen == 0 || hlen >= sizeof u->host) {
			bad = "bad host";
			goto done;
		}
		memcpy(u->host, a + 1, hlen);
		u->host[hlen] = '\0';
		if (rb + 1 < a + alen) {
			if (rb[1] != ':') {
				bad = "junk after ]";
				goto done;
			}
			portp = rb + 2;
		}
	} else {
		const char *colon = memchr(a, ':', alen);
		hlen = colon ? (size_t)(colon - a) : alen;
		if (hlen == 0 || hlen >= sizeof u->host) {
			bad = "missing or too long host";
			goto done;
		}
		memcpy(u->host, a, hlen);
		u->host[hlen] = '\0';
		if (colon)
			portp = colon + 1;
	}
	if (portp != NULL && (parse_uint(portp, (size_t)(a + alen - portp), 65535, &u->port) != 0 || u->port == 0)) {
		bad = "bad port";
		goto done;
	}
	if (*rest == '/') {
		rest++;
		size_t dl = strcspn(rest, "?");
		if (dl > 0 && parse_uint(rest, dl, 1 << 20, &u->db) != 0) {
			bad = "the path must be a database number";
			goto done;
		}
		rest += dl;
	}
	if (*rest == '?')
		parse_query(rest + 1, u, &bad);
done:
	if (bad != NULL) {
		/* Never echo the URL: it may hold a password. */
		return err_set(e, EXIT_CONFIG, "--redis: bad URL: %s", bad);
	}
	return 0;
}

/* ================================================================== Redis client */

/* What a pipelined command's reply means. */
enum cmd_kind {
	CMD_UNLINK,
	CMD_INCR,
	CMD_PUBLISH,
};

struct inval_redis {
	struct inval_redis_url url;
	char where[300]; /* "host:port/db" or the socket path, for messages */
	char *channel;
	uint32_t timeout_ms;
	redisContext *c;
	const char **argv; /* INVAL_KEYS_PER_COMMAND + 2 arguments */
	size_t *argvlen;
	struct buf msg; /* a PUBLISH message */
	struct buf cmd; /* one command in RESP, formatted here */
	struct inval_redis_stats st;
	/* A send in flight (inval_redis_send_begin): its last window's
	 * commands, and what the replies read so far said. */
	bool sending;
	uint32_t inflight;
	enum cmd_kind kinds[INVAL_PIPELINE_COMMANDS_MAX];
	int64_t removed;
	char refused[256];
	bool refused_retry;
};

/* Appends the decimal digits of v. */
static void resp_put_u64(struct buf *b, uint64_t v)
{
	char d[20];
	int n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_reserve(b, (size_t)n);
	while (n > 0)
		b->data[b->len++] = d[--n];
}

/* Formats a command as RESP and queues it. hiredis' own argv formatting
 * goes through printf-style sds calls per argument; with ~1000 keys per
 * UNLINK and a key per loaded row this formatting is on the load's path. */
static int append_resp(struct inval_redis *r, int argc, const char *const *argv, const size_t *argvlen)
{
	struct buf *b = &r->cmd;
	b->len = 0;
	buf_putc(b, '*');
	resp_put_u64(b, (uint64_t)argc);
	buf_put(b, "\r\n", 2);
	for (int i = 0; i < argc; i++) {
		buf_reserve(b, argvlen[i] + 26);
		b->data[b->len++] = '$';
		resp_put_u64(b, argvlen[i]);
		memcpy(b->data + b->len, "\r\n", 2);
		b->len += 2;
		memcpy(b->data + b->len, argv[i], argvlen[i]);
		b->len += argvlen[i];
		memcpy(b->data + b->len, "\r\n", 2);
		b->len += 2;
	}
	return redisAppendFormattedCommand(r->c, b->data, b->len);
}

struct inval_redis *inval_redis_create(const char *url, const char *channel, uint32_t timeout_ms, struct err *e)
{
	struct inval_redis *r = calloc(1, sizeof *r);
	if (r == NULL) {
		err_set(e, EXIT_SOFTWARE, "out of memory");
		return NULL;
	}
	if (inval_redis_parse_url(url, &r->url, e) != 0) {
		free(r);
		return NULL;
	}
	if (r->url.unix_socket)
		snprintf(r->where, sizeof r->where, "unix:%s", r->url.host);
	else
		snprintf(r->where, sizeof r->where, "%s:%d", r->url.host, r->url.port);
	r->timeout_ms = timeout_ms ? timeout_ms : 5000;
	r->argv = calloc(INVAL_KEYS_PER_COMMAND + 2, sizeof *r->argv);
	r->argvlen = calloc(INVAL_KEYS_PER_COMMAND + 2, sizeof *r->argvlen);
	r->channel = channel ? strdup(channel) : NULL;
	if (r->argv == NULL || r->argvlen == NULL || (channel && r->channel == NULL) ||
	    buf_init(&r->msg, (size_t)INVAL_KEYS_PER_COMMAND * 48) != 0 ||
	    buf_init(&r->cmd, (size_t)INVAL_KEYS_PER_COMMAND * 64) != 0) {
		inval_redis_free(r);
		err_set(e, EXIT_SOFTWARE, "out of memory");
		return NULL;
	}
	return r;
}

void inval_redis_free(struct inval_redis *r)
{
	if (r == NULL)
		return;
	if (r->c)
		redisFree(r->c);
	free(r->argv);
	free(r->argvlen);
	free(r->channel);
	buf_free(&r->msg);
	buf_free(&r->cmd);
	free(r);
}

const struct inval_redis_stats *inval_redis_stats(const struct inval_redis *r)
{
	return &r->st;
}

static void drop_connection(struct inval_redis *r)
{
	if (r->c) {
		redisFree(r->c);
		r->c = NULL;
	}
}

static int conn_failed(struct inval_redis *r, const char *what, struct err *e)
{
	err_set(e, EXIT_TEMPFAIL, "Redis at %s: %s: %s", r->where, what,
		r->c && r->c->errstr[0] ? r->c->errstr : strerror(errno ? errno : EIO));
	e->retryable = true;
	drop_connection(r);
	return -1;
}

/* Redis answers these while it is starting, busy or failing over: the same
 * command later succeeds. */
static bool reply_retryable(const char *msg)
{
	static const char *const codes[] = {"LOADING", "BUSY",     "TRYAGAIN",    "MASTERDOWN",
					    "OOM",     "READONLY", "CLUSTERDOWN", "NOREPLICAS"};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		size_t n = strlen(codes[i]);
		if (strncmp(msg, codes[i], n) == 0 && (msg[n] == ' ' || msg[n] == '\0'))
			return true;
	}
	return false;
}

int inval_redis_connect(struct inval_redis *r, struct err *e)
{
	if (r->c != NULL)
		return 0;
	struct timeval tv = {.tv_sec = r->timeout_ms / 1000, .tv_usec = (r->timeout_ms % 1000) * 1000};
	errno = 0;
	if (r->url.unix_socket)
		r->c = redisConnectUnixWithTimeout(r->url.host, tv);
	else
		r->c = redisConnectWithTimeout(r->url.host, r->url.port, tv);
	if (r->c == NULL || r->c->err)
		return conn_failed(r, "cannot connect", e);
	if (redisSetTimeout(r->c, tv) != REDIS_OK)
		return conn_failed(r, "cannot set timeouts", e);
	/* AUTH and SELECT go out in one round trip. */
	int ncmd = 0;
	char dbs[16];
	if (r->url.password[0]) {
		const char *argv[3] = {"AUTH", r->url.user, r->url.password};
		size_t lens[3] = {4, strlen(r->url.user), strlen(r->url.password)};
		if (r->url.user[0])
			redisAppendCommandArgv(r->c, 3, argv, lens);
		else {
			argv[1] = r->url.password;
			lens[1] = lens[2];
			redisAppendCommandArgv(r->c, 2, argv, lens);
		}
		ncmd++;
	}
	if (r->url.db != 0) {
		snprintf(dbs, sizeof dbs, "%d", r->url.db);
		const char *argv[2] = {"SELECT", dbs};
		size_t lens[2] = {6, strlen(dbs)};
		redisAppendCommandArgv(r->c, 2, argv, lens);
		ncmd++;
	}
	char refused[256] = "";
	bool retry = false;
	for (int i = 0; i < ncmd; i++) {
		redisReply *rep = NULL;
		if (redisGetReply(r->c, (void **)&rep) != REDIS_OK)
			return conn_failed(r, "connection lost during AUTH/SELECT", e);
		if (rep->type == REDIS_REPLY_ERROR && refused[0] == '\0') {
			snprintf(refused, sizeof refused, "%s", rep->str);
			retry = reply_retryable(rep->str);
		}
		freeReplyObject(rep);
	}
	if (ncmd > 0)
		r->st.round_trips++;
	if (refused[0]) {
		drop_connection(r);
		err_set(e, retry ? EXIT_TEMPFAIL : EXIT_CONFIG, "Redis at %s refused AUTH/SELECT: %s", r->where,
			refused);
		e->retryable = retry;
		return -1;
	}
	r->st.connects++;
	return 0;
}

/* Walks the commands of one send: UNLINK groups, INCRs, PUBLISH groups. */
struct send_cursor {
	int phase;  /* 0 unlink, 1 incr, 2 publish, 3 done */
	uint32_t i; /* next key index in the set */
};

/* Appends the next command to the pipeline; returns its kind, or -1 when
 * there are no more commands, -2 when hiredis failed (out of memory). */
static int append_next(struct inval_redis *r, const struct inval_keyset *ks, struct send_cursor *cur)
{
	uint32_t n = inval_keyset_count(ks);
	for (;;) {
		if (cur->phase == 3)
			return -1;
		if (cur->i >= n || (cur->phase == 2 && r->channel == NULL)) {
			cur->phase++;
			cur->i = 0;
			continue;
		}
		size_t len;
		enum inval_kind kind;
		if (cur->phase == 0) {
			int argc = 1;
			r->argv[0] = "UNLINK";
			r->argvlen[0] = 6;
			for (; cur->i < n && argc <= (int)INVAL_KEYS_PER_COMMAND; cur->i++) {
				const char *k = inval_keyset_key(ks, cur->i, &len, &kind);
				if (kind != INVAL_UNLINK)
					continue;
				r->argv[argc] = k;
				r->argvlen[argc++] = len;
			}
			if (argc == 1)
				continue;
			r->st.keys_sent += (uint64_t)(argc - 1);
			return append_resp(r, argc, r->argv, r->argvlen) == REDIS_OK ? CMD_UNLINK : -2;
		}
		if (cur->phase == 1) {
			const char *k = inval_keyset_key(ks, cur->i++, &len, &kind);
			if (kind != INVAL_BUMP)
				continue;
			r->argv[0] = "INCR";
			r->argvlen[0] = 4;
			r->argv[1] = k;
			r->argvlen[1] = len;
			r->st.bumps++;
			return append_resp(r, 2, r->argv, r->argvlen) == REDIS_OK ? CMD_INCR : -2;
		}
		r->msg.len = 0;
		for (uint32_t j = 0; cur->i < n && j < INVAL_KEYS_PER_COMMAND; cur->i++, j++) {
			const char *k = inval_keyset_key(ks, cur->i, &len, NULL);
			if (j > 0)
				buf_putc(&r->msg, '\n');
			buf_put(&r->msg, k, len);
		}
		r->argv[0] = "PUBLISH";
		r->argvlen[0] = 7;
		r->argv[1] = r->channel;
		r->argvlen[1] = strlen(r->channel);
		r->argv[2] = r->msg.data;
		r->argvlen[2] = r->msg.len;
		r->st.messages++;
		return append_resp(r, 3, r->argv, r->argvlen) == REDIS_OK ? CMD_PUBLISH : -2;
	}
}

/* Reads the replies of the window in flight. */
static int read_window(struct inval_redis *r, struct err *e)
{
	for (uint32_t i = 0; i < r->inflight; i++) {
		redisReply *rep = NULL;
		if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
			r->inflight = 0;
			r->st.failures++;
			return conn_failed(r, "connection lost", e);
		}
		enum cmd_kind kind = r->kinds[i];
		if (rep->type == REDIS_REPLY_ERROR) {
			if (r->refused[0] == '\0') {
				snprintf(r->refused, sizeof r->refused, "%s: %s",
					 kind == CMD_UNLINK ? "UNLINK"
					 : kind == CMD_INCR ? "INCR"
							    : "PUBLISH",
					 rep->str);
				r->refused_retry = reply_retryable(rep->str);
			}
		} else if (kind == CMD_UNLINK && rep->type == REDIS_REPLY_INTEGER) {
			r->removed += rep->integer;
		}
		freeReplyObject(rep);
	}
	r->inflight = 0;
	r->st.round_trips++;
	return 0;
}

int inval_redis_send_begin(struct inval_redis *r, const struct inval_keyset *ks, struct err *e)
{
	ASSERT(r->inflight == 0);
	r->removed = 0;
	r->refused[0] = '\0';
	r->refused_retry = false;
	r->sending = false;
	if (inval_keyset_count(ks) == 0)
		return 0;
	if (inval_redis_connect(r, e) != 0) {
		r->st.failures++;
		return -1;
	}
	struct send_cursor cur = {0, 0};
	for (bool more = true; more;) {
		uint32_t ncmd = 0;
		while (ncmd < INVAL_PIPELINE_COMMANDS_MAX) {
			int k = append_next(r, ks, &cur);
			if (k == -1) {
				more = false;
				break;
			}
			if (k == -2) {
				r->st.failures++;
				return conn_failed(r, "cannot queue a command", e);
			}
			r->kinds[ncmd++] = (enum cmd_kind)k;
		}
		if (ncmd == 0)
			break;
		r->inflight = ncmd;
		if (more) {
			/* A full window is not the last: its replies are read now,
			 * bounding what is queued at once. */
			if (read_window(r, e) < 0)
				return -1;
			continue;
		}
		/* The last window is written and left in flight. */
		int done = 0;
		while (!done) {
			if (redisBufferWrite(r->c, &done) != REDIS_OK) {
				r->inflight = 0;
				r->st.failures++;
				return conn_failed(r, "connection lost", e);
			}
		}
	}
	r->sending = true;
	return 0;
}

int64_t inval_redis_send_end(struct inval_redis *r, struct err *e)
{
	if (!r->sending)
		return 0;
	r->sending = false;
	if (r->inflight > 0 && read_window(r, e) < 0)
		return -1;
	if (r->refused[0]) {
		r->st.failures++;
		err_set(e, EXIT_TEMPFAIL, "Redis at %s refused %s", r->where, r->refused);
		e->retryable = r->refused_retry;
		return -1;
	}
	r->st.keys_removed += (uint64_t)r->removed;
	return r->removed;
}

bool inval_redis_sending(const struct inval_redis *r)
{
	return r->sending;
}

int64_t inval_redis_send(struct inval_redis *r, const struct inval_keyset *ks, struct err *e)
{
	if (inval_redis_send_begin(r, ks, e) < 0)
		return -1;
	return inval_redis_send_end(r, e);
}
