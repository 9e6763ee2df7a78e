/* invalidate_keys.c - key templates: compiled against the table's columns, rendered from a record's fields exactly as PostgreSQL prints the stored values. */
#include "invalidate_template.h"

#include "../core/ascii.h"
#include "encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * out->len). They read the value with the encoders' reading of it
 * (encode.h: PostgreSQL's input rules, written once) and print what
 * PostgreSQL's output function prints for the stored value. */

/* The largest magnitude rendered: 19 digits hold every int8; more means the
 * server refused the value. */
#define RENDER_INT_MAGNITUDE_MAX UINT64_C(9999999999999999999)

/* int2/int4/int8 (pg_strtoint16/32/64, then int8out): the value in
 * decimal, with a '-' when negative. */
static int render_int(const char *p, size_t n, struct buf *out, const char **why)
{
	bool neg;
	uint64_t v;
	int rc = encode_read_int(p, n, RENDER_INT_MAGNITUDE_MAX, &neg, &v);
	if (rc < 0) {
		*why = rc == -2 ? "out of range" : "not a decimal integer";
		return -1;
	}
	if (neg && v != 0)
		buf_putc(out, '-');
	char d[20];
	int k = sizeof d;
	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_put(out, d + k, sizeof d - (size_t)k);
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

/* uuid (string_to_uuid, then uuid_out): lowercase 8-4-4-4-12. */
static int render_uuid(const char *p, size_t n, struct buf *out, const char **why)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	if (encode_parse_uuid(p, n, u) < 0) {
		*why = "not a uuid";
		return -1;
	}
	buf_reserve(out, 36);
	for (int b = 0; b < 16; b++) {
		if (b == 4 || b == 6 || b == 8 || b == 10)
			out->data[out->len++] = '-';
		out->data[out->len++] = hex[u[b] >> 4];
		out->data[out->len++] = hex[u[b] & 0xf];
	}
	return 0;
}

/* date: the forms the binary encoder decides (ISO Y-M-D with a four-digit
 * year, infinity, -infinity), printed as date_out prints them with
 * DateStyle ISO. Everything else date_in accepts (other orders, month
 * names, "epoch", BC, 'today') depends on DateStyle or the clock, and the
 * encoder leaves it to the server too. */
static int render_date(const char *p, size_t n, struct buf *out, const char **why)
{
	struct enc_date d;
	enum enc_status st = encode_parse_date(p, n, &d, NULL, 0);
	if (st != ENC_OK) {
		*why = st == ENC_REJECT ? "date out of range" : "not an ISO date (YYYY-MM-DD)";
		return -1;
	}
	if (d.special != 0) {
		if (d.special < 0)
			buf_put(out, "-infinity", 9);
		else
			buf_put(out, "infinity", 8);
		return 0;
	}
	char s[16];
	int len = snprintf(s, sizeof s, "%04d-%02d-%02d", d.year, d.mon, d.mday);
	buf_put(out, s, (size_t)len);
	return 0;
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
	size_t maxlen = (size_t)(typmod - VARHDRSZ), kept, chars;
	if (encode_clip_string(p, n, maxlen, &kept, &chars) < 0) {
		*why = "value too long for the type";
		return -1;
	}
	buf_put(out, p, kept);
	if (rk == R_BPCHAR)
		for (size_t i = chars; i < maxlen; i++)
			buf_putc(out, ' ');
	return 0;
}

/* numeric_out of nt rounded as apply_typmod rounds it: the display scale is
 * the input's digits after the point minus the exponent (at least 0), or
 * the column's scale, rounding half away from zero. Zero never prints a
 * sign. The digits are rounded and laid out in place in out, however many
 * there are, rather than in a bounded array as encode_numeric holds them. */
static void print_numeric(const struct enc_numeric_text *nt, int32_t typmod, struct buf *out)
{
	/* The digits S = ip ++ fp with the point after position P. digit(x) is
	 * S[x] inside, 0 outside. The kept digits end at cut (exclusive). */
	const char *ip = nt->int_digits, *fp = nt->frac_digits;
	long il = (long)nt->int_len;
	long nd = il + (long)nt->frac_len, P = il + nt->exponent;
	bool constrained = typmod >= VARHDRSZ;
	int scale = constrained ? encode_numeric_typmod_scale(typmod) : 0;
	long cut = constrained ? P + scale : (nd > P ? nd : P);
	long start = (P < 0 ? P : 0) - 1; /* one spare leading position for a carry */
	long end = cut > P ? cut : P;     /* [P, end) are the fraction digits printed */
	if (start > cut - 1)
		start = cut - 1; /* keep the rounding position in range */
	size_t base = out->len;
	buf_reserve(out, (size_t)(end - start) + 3);
	/* g[x - start] = digit(x). Two bytes before it leave room for a sign and
	 * a point while the digits are moved left into place below. */
	char *g = out->data + base + 2;
#define DIGIT(x) ((x) >= 0 && (x) < nd ? ((x) < il ? ip[(x)] : fp[(x)-il]) : '0')
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
	if (nt->neg && !zero)
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

/* numeric (numeric_in, then apply_typmod, then numeric_out); NaN and the
 * infinities as numeric_out prints them. */
static int render_numeric(int32_t typmod, const char *p, size_t n, struct buf *out, const char **why)
{
	struct enc_numeric_text nt;
	if (encode_read_numeric(p, n, &nt, NULL, 0) != ENC_OK) {
		*why = "not a number";
		return -1;
	}
	switch (nt.special) {
	case ENC_NUMERIC_NAN: buf_put(out, "NaN", 3); return 0;
	case ENC_NUMERIC_PINF:
	case ENC_NUMERIC_NINF:
		/* A constrained numeric refuses infinities (numeric field overflow). */
		if (typmod >= VARHDRSZ) {
			*why = "infinity in a constrained numeric";
			return -1;
		}
		if (nt.special == ENC_NUMERIC_NINF)
			buf_put(out, "-Infinity", 9);
		else
			buf_put(out, "Infinity", 8);
		return 0;
	case ENC_NUMERIC_NUMBER: break;
	}
	/* PostgreSQL's numeric holds 131072 integer and 16383 fraction digits;
	 * this bounds what is laid out in out. */
	if (nt.exponent > 200000 || nt.exponent < -200000) {
		*why = "exponent out of range";
		return -1;
	}
	print_numeric(&nt, typmod, out);
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
