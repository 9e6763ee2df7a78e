/* invalidate_keys.c - key templates: compiled against the table's columns, rendered from a record's fields exactly as PostgreSQL prints the stored values. */
#include "invalidate_template.h"

#include "ascii.h"
#include "encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ================================================================== templates */

/* The decision is made on the type OID (core/pgtype.h), not the encoder
 * kind, so a domain or an unknown type is refused instead of being printed
 * the way its base type might be. */

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

/* The segment of a {column} of template tpl: the column must exist, be
 * loaded (its field is then known) and have a type rendered exactly. */
static int compile_field(const char *opt, const char *tpl, const char *name, size_t nlen, const struct table_info *t,
			 const struct mapping *m, struct seg *out, struct err *e)
{
	int col = transform_find_column(t, name, nlen);
	if (col < 0)
		return err_set(e, EXIT_CONFIG, "%s '%s': column \"%.*s\" does not exist in table %s", opt, tpl,
			       (int)nlen, name, t->display);
	const struct enc_column *ec = &t->cols[col].enc;
	uint32_t k = 0;
	while (k < m->nfields && m->col[k] != (uint32_t)col)
		k++;
	if (k == m->nfields)
		return err_set(e, EXIT_CONFIG,
			       "%s '%s': column \"%s\" is not loaded (not among the input's columns), so its value "
			       "is unknown",
			       opt, tpl, ec->name);
	enum render_kind rk;
	if (render_kind_for(ec->type_oid, &rk) != 0) {
		const char *tn = type_name(ec->type_oid);
		char oidname[32];
		if (tn == NULL) {
			snprintf(oidname, sizeof oidname, "with OID %u", ec->type_oid);
			tn = oidname;
		}
		return err_set(e, EXIT_CONFIG,
			       "%s '%s': cannot render column \"%s\" of type %s exactly in a key (supported: "
			       "smallint, integer, bigint, text, varchar, char, uuid, boolean, date, numeric)",
			       opt, tpl, ec->name, tn);
	}
	*out = (struct seg){.is_field = true, .field = k, .col = (uint32_t)col, .rk = rk};
	return 0;
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
		struct seg field = {0};
		if (compile_field(opt, tpl, tpl + name, nlen, t, m, &field, e) < 0) {
			inval_template_free(tp);
			return -1;
		}
		if (lit_len > lit_start)
			seg_push(tp, (struct seg){.lit_off = lit_start, .lit_len = lit_len - lit_start});
		lit_start = lit_len;
		seg_push(tp, field);
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

/* A numeric input's parts: sign, integer digits ip[0..il), fraction digits
 * fp[0..fl) and the exponent. */
struct num_parts {
	bool neg;
	const char *ip, *fp;
	size_t il, fl;
	long exp10;
};

/* Digits, point and exponent from p[i..n) (numeric_in's grammar past the
 * sign). -1 with *why when it is not a number. */
static int numeric_parse(const char *p, size_t n, size_t i, struct num_parts *np, const char **why)
{
	np->ip = p + i;
	np->il = 0;
	while (i < n && ascii_is_digit(p[i]))
		i++, np->il++;
	np->fp = p + i;
	np->fl = 0;
	if (i < n && p[i] == '.') {
		i++;
		np->fp = p + i;
		while (i < n && ascii_is_digit(p[i]))
			i++, np->fl++;
	}
	if (np->il + np->fl == 0)
		return -1;
	np->exp10 = 0;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		bool eneg = false;
		if (i < n && (p[i] == '-' || p[i] == '+'))
			eneg = p[i++] == '-';
		size_t ed = 0;
		for (; i < n && ascii_is_digit(p[i]); i++, ed++) {
			np->exp10 = np->exp10 * 10 + (p[i] - '0');
			/* PostgreSQL's numeric holds 131072 integer and 16383 fraction digits. */
			if (np->exp10 > 200000) {
				*why = "exponent out of range";
				return -1;
			}
		}
		if (ed == 0)
			return -1;
		if (eneg)
			np->exp10 = -np->exp10;
	}
	return i == n ? 0 : -1;
}

/* Prints the parsed number as numeric_out would after apply_typmod. */
static void numeric_print(const struct num_parts *np, int32_t typmod, struct buf *out)
{
	const char *ip = np->ip, *fp = np->fp;
	size_t il = np->il, fl = np->fl;
	long exp10 = np->exp10;
	bool neg = np->neg;
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
	struct num_parts np = {0};
	size_t i = 0;
	if (i < n && (p[i] == '-' || p[i] == '+')) {
		np.neg = p[i] == '-';
		i++;
	}
	if ((n - i == 8 && strncasecmp(p + i, "Infinity", 8) == 0) ||
	    (n - i == 3 && strncasecmp(p + i, "inf", 3) == 0)) {
		/* A constrained numeric refuses infinities (numeric field overflow). */
		if (typmod >= VARHDRSZ) {
			*why = "infinity in a constrained numeric";
			return -1;
		}
		if (np.neg)
			buf_put(out, "-Infinity", 9);
		else
			buf_put(out, "Infinity", 8);
		return 0;
	}
	if (numeric_parse(p, n, i, &np, why) < 0)
		return -1;
	numeric_print(&np, typmod, out);
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
