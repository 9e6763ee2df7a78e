/* encode_numeric.c - numeric text to numeric_send's form, replaying numeric_in (whose reading key rendering shares), apply_typmod and make_result of PostgreSQL 15. */
#include "encode.h"

#include "../core/ascii.h"

#include <limits.h>

/* Decimal digits decided here. numeric(p,s) allows p <= 1000, so any value
 * that fits a constrained column fits; longer (unconstrained, absurd)
 * inputs go to the server. */
#define NUMERIC_DEC_DIGITS_MAX 1100
/* numeric_send's base: four decimal digits per int16 digit. */
#define NBASE_DIGITS_MAX       (NUMERIC_DEC_DIGITS_MAX / 4 + 3)
/* make_result stores weight as int16 and the display scale in 14 bits;
 * beyond them it refuses the value ("value overflows numeric format"). */
#define NUMERIC_WEIGHT_MAX     32767
#define NUMERIC_WEIGHT_MIN     (-32768)
#define NUMERIC_DSCALE_MAX     0x3fff

#define NUMERIC_POS            0x0000
#define NUMERIC_NEG            0x4000
#define NUMERIC_NAN            0xC000
#define NUMERIC_PINF           0xD000
#define NUMERIC_NINF           0xF000

static int64_t floor_div4(int64_t e)
{
	return e >= 0 ? e / 4 : -((-e + 3) / 4);
}

/* pg_strncasecmp(s, word, strlen(word)) == 0 within s[0..n); word is
 * lower case. */
static bool match_word(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);
	return wl <= n && ascii_icase_equal_n(s, word, wl);
}

/* The header numeric_send sends for NaN and the infinities: no digits, and
 * the weight and display scale that the special value's short header
 * decodes to (0x1000 falls in the short-format dscale bits, hence 32). */
static void put_special(struct buf *out, uint16_t sign)
{
	buf_reserve(out, 12);
	buf_put_be32(out, 8);
	buf_put_be16(out, 0);
	buf_put_be16(out, 0);
	buf_put_be16(out, sign);
	buf_put_be16(out, sign == NUMERIC_NAN ? 0 : 32);
}

/* NaN and the infinities at s (past leading white space), in numeric_in's
 * order of tests. 1 when one matched with only white space after it, 0
 * when none matched, -1 when one matched and something else follows. */
static int read_special(const char *s, const char *e, enum enc_numeric_special *special)
{
	static const struct {
		const char *word;
		enum enc_numeric_special special;
	} specials[] = {{"nan", ENC_NUMERIC_NAN},        {"infinity", ENC_NUMERIC_PINF},
			{"+infinity", ENC_NUMERIC_PINF}, {"-infinity", ENC_NUMERIC_NINF},
			{"inf", ENC_NUMERIC_PINF},       {"+inf", ENC_NUMERIC_PINF},
			{"-inf", ENC_NUMERIC_NINF}};
	/* Every word starts with a letter or a sign: a number starts otherwise. */
	if (s < e && (ascii_is_digit((unsigned char)*s) || *s == '.'))
		return 0;
	for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
		if (!match_word(s, (size_t)(e - s), specials[k].word))
			continue;
		s += strlen(specials[k].word);
		while (s < e && ascii_is_space((unsigned char)*s))
			s++;
		if (s != e)
			return -1;
		*special = specials[k].special;
		return 1;
	}
	return 0;
}

/* set_var_from_str's digits: an optional sign, then digits with at most
 * one point and at least one digit. 0 with the spans set and *s past them,
 * or -1 for a syntax error. */
static inline int read_digits(const char **s, const char *e, struct enc_numeric_text *nt)
{
	const char *c = *s;
	if (c < e && (*c == '+' || *c == '-')) {
		nt->neg = *c == '-';
		c++;
	}
	const char *begin = c, *dot = NULL;
	if (c < e && *c == '.')
		dot = c++;
	if (c == e || !ascii_is_digit((unsigned char)*c))
		return -1;
	for (; c < e; c++) {
		if (ascii_is_digit((unsigned char)*c))
			continue;
		if (*c != '.')
			break;
		if (dot != NULL)
			return -1;
		dot = c;
	}
	nt->int_digits = begin;
	nt->int_len = (size_t)((dot ? dot : c) - begin);
	nt->frac_digits = dot ? dot + 1 : c;
	nt->frac_len = (size_t)(c - nt->frac_digits);
	*s = c;
	return 0;
}

/* The exponent after an 'e' at *s, as numeric_in reads it with strtol and
 * bounds it (dweight and dscale stay far from int overflow). */
static enum enc_status read_exponent(const char **s, const char *e, long *exponent, char *msg, size_t msgsz,
				     const char *p, size_t len)
{
	const char *c = *s + 1;
	/* strtol would also skip white space after the 'e'; such input is
	 * left to the server. */
	if (c < e && ascii_is_space((unsigned char)*c))
		return ENC_DEFER;
	bool neg = false;
	if (c < e && (*c == '+' || *c == '-')) {
		neg = *c == '-';
		c++;
	}
	if (c == e || !ascii_is_digit((unsigned char)*c)) {
		encode_set_msg(msg, msgsz, "invalid input syntax for type numeric: \"%.*s\"", (int)len, p);
		return ENC_REJECT;
	}
	int64_t x = 0;
	for (; c < e && ascii_is_digit((unsigned char)*c); c++)
		if (x < INT_MAX)
			x = x * 10 + (*c - '0');
	if (x >= INT_MAX / 2) {
		encode_set_msg(msg, msgsz, "value overflows numeric format");
		return ENC_REJECT;
	}
	*exponent = (long)(neg ? -x : x);
	*s = c;
	return ENC_OK;
}

/* encode_read_numeric, inlined into encode_numeric: numeric is the costliest
 * type of a typical record, and the call is measurable there. */
static inline enum enc_status read_numeric(const char *p, size_t len, struct enc_numeric_text *nt, char *msg,
					   size_t msgsz)
{
	const char *s = p, *e = p + len;
	*nt = (struct enc_numeric_text){.special = ENC_NUMERIC_NUMBER};
	while (s < e && ascii_is_space((unsigned char)*s))
		s++;
	int special = read_special(s, e, &nt->special);
	if (special > 0)
		return ENC_OK;
	if (special < 0 || read_digits(&s, e, nt) < 0)
		goto syntax;
	if (s < e && (*s == 'e' || *s == 'E')) {
		enum enc_status st = read_exponent(&s, e, &nt->exponent, msg, msgsz, p, len);
		if (st != ENC_OK)
			return st;
	}
	while (s < e && ascii_is_space((unsigned char)*s))
		s++;
	if (s != e)
		goto syntax;
	return ENC_OK;
syntax:
	encode_set_msg(msg, msgsz, "invalid input syntax for type numeric: \"%.*s\"", (int)len, p);
	return ENC_REJECT;
}

enum enc_status encode_read_numeric(const char *p, size_t len, struct enc_numeric_text *nt, char *msg, size_t msgsz)
{
	return read_numeric(p, len, nt, msg, msgsz);
}

/* A number as decimal digits: dig[i] has decimal exponent dw - i, and
 * dig[0] is a zero pad so that rounding can carry into it. */
struct dec {
	unsigned char dig[NUMERIC_DEC_DIGITS_MAX + 1];
	int nd;
	int64_t dw;
	int64_t dscale;
	bool neg;
};

/* The digits of nt with numeric_in's weight and display scale: the
 * digits after the point less the exponent, at least 0. -1 when there are
 * more digits than decided here. */
static int load_digits(const struct enc_numeric_text *nt, struct dec *d)
{
	size_t n = nt->int_len + nt->frac_len;
	if (n > NUMERIC_DEC_DIGITS_MAX)
		return -1;
	d->dig[0] = 0;
	for (size_t i = 0; i < nt->int_len; i++)
		d->dig[1 + i] = (unsigned char)(nt->int_digits[i] - '0');
	for (size_t i = 0; i < nt->frac_len; i++)
		d->dig[1 + nt->int_len + i] = (unsigned char)(nt->frac_digits[i] - '0');
	d->nd = (int)n + 1;
	d->dw = (int64_t)nt->int_len + nt->exponent;
	d->dscale = (int64_t)nt->frac_len - nt->exponent;
	if (d->dscale < 0)
		d->dscale = 0;
	d->neg = nt->neg;
	return 0;
}

/* apply_typmod: round half away from zero to the scale, then the integer
 * digits must fit precision - scale. PostgreSQL 15 allows a negative scale
 * and a scale above the precision. -1 on overflow. */
static int apply_typmod(struct dec *d, int32_t typmod)
{
	int32_t precision = ((typmod - 4) >> 16) & 0xffff;
	int32_t scale = encode_numeric_typmod_scale(typmod);
	int64_t maxdigits = (int64_t)precision - scale;
	int64_t keep = d->dw + 1 + scale; /* digits kept: exponent >= -scale */
	if (keep <= 0) {
		d->nd = 0;
	} else if (keep < d->nd) {
		if (d->dig[keep] >= 5) {
			int64_t i = keep - 1;
			while (d->dig[i] == 9) {
				d->dig[i] = 0;
				i--; /* dig[0] is 0, so this stops there at the latest */
			}
			d->dig[i]++;
		}
		d->nd = (int)keep;
	}
	d->dscale = scale < 0 ? 0 : scale;
	for (int i = 0; i < d->nd; i++)
		if (d->dig[i] != 0)
			return d->dw - i + 1 > maxdigits ? -1 : 0;
	return 0;
}

/* make_result and numeric_send: leading and trailing zeros dropped, base
 * 10000 digits; zero is positive with weight 0 and keeps its display scale. */
static enum enc_status put_dec(struct dec *d, struct buf *out, char *msg, size_t msgsz)
{
	int first = 0, last = d->nd - 1;
	while (first < d->nd && d->dig[first] == 0)
		first++;
	while (last >= first && d->dig[last] == 0)
		last--;
	int64_t weight = 0;
	int ndigits = 0;
	uint16_t nb[NBASE_DIGITS_MAX];
	if (first < d->nd) {
		weight = floor_div4(d->dw - first);
		int64_t wlast = floor_div4(d->dw - last);
		ndigits = (int)(weight - wlast + 1);
		if (ndigits > NBASE_DIGITS_MAX)
			return ENC_DEFER;
		memset(nb, 0, sizeof nb[0] * (size_t)ndigits);
		static const uint16_t pow10[4] = {1, 10, 100, 1000};
		for (int i = first; i <= last; i++) {
			int64_t ex = d->dw - i;
			int64_t w = floor_div4(ex);
			nb[weight - w] = (uint16_t)(nb[weight - w] + d->dig[i] * pow10[ex - 4 * w]);
		}
	} else {
		d->neg = false;
	}
	if (weight > NUMERIC_WEIGHT_MAX || weight < NUMERIC_WEIGHT_MIN || d->dscale > NUMERIC_DSCALE_MAX) {
		encode_set_msg(msg, msgsz, "value overflows numeric format");
		return ENC_REJECT;
	}
	size_t bytes = 8 + 2 * (size_t)ndigits;
	buf_reserve(out, 4 + bytes);
	buf_put_be32(out, (uint32_t)bytes);
	buf_put_be16(out, (uint16_t)ndigits);
	buf_put_be16(out, (uint16_t)(int16_t)weight);
	buf_put_be16(out, d->neg ? NUMERIC_NEG : NUMERIC_POS);
	buf_put_be16(out, (uint16_t)d->dscale);
	for (int j = 0; j < ndigits; j++)
		buf_put_be16(out, nb[j]);
	return ENC_OK;
}

/* Decimal digits the short path reads: fifteen, so that the value times the
 * 10^3 that aligns its fraction to base-10000 digits stays below 10^18. */
#define NUMERIC_SHORT_DIGITS_MAX 15

static const uint64_t pow10_u64[19] = {1,
				       10,
				       100,
				       1000,
				       10000,
				       100000,
				       1000000,
				       10000000,
				       100000000,
				       1000000000,
				       10000000000,
				       100000000000,
				       1000000000000,
				       10000000000000,
				       100000000000000,
				       1000000000000000,
				       10000000000000000,
				       100000000000000000,
				       1000000000000000000};

/* The usual numeric, [+-]digits[.digits] with at most fifteen digits, no
 * white space and no exponent, into a column without a typmod or with a
 * scale >= 0: the same steps as read_numeric, apply_typmod and put_dec on
 * a 64-bit integer instead of a digit array. Returns false, having done
 * nothing, for every other input, which the general path decides. */
static bool numeric_short(const char *p, size_t len, int32_t typmod, struct buf *out, enum enc_status *st)
{
	const char *s = p, *e = p + len;
	bool neg = false;
	if (s < e && (*s == '+' || *s == '-')) {
		neg = *s == '-';
		s++;
	}
	if (e - s > NUMERIC_SHORT_DIGITS_MAX + 1)
		return false;
	uint64_t v = 0;
	int frac = -1, digits = 0; /* frac: digits after the point, -1 before it */
	for (; s < e; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (d <= 9) {
			v = v * 10 + d;
			digits++;
			frac += frac >= 0;
		} else if (*s == '.' && frac < 0) {
			frac = 0;
		} else {
			return false;
		}
	}
	if (digits == 0 || digits > NUMERIC_SHORT_DIGITS_MAX)
		return false;
	frac = frac < 0 ? 0 : frac;
	int dscale = frac;
	if (typmod >= 4) {
		int scale = encode_numeric_typmod_scale(typmod);
		int precision = ((typmod - 4) >> 16) & 0xffff;
		if (scale < 0)
			return false;
		if (frac > scale) {
			/* Half away from zero: the first dropped digit decides. */
			uint64_t unit = pow10_u64[frac - scale];
			uint64_t dropped = v % unit;
			v = v / unit + (dropped >= unit / 2);
			frac = scale;
		}
		dscale = scale;
		/* At most precision - scale digits before the point. */
		int lim = precision - scale + frac;
		if (v != 0 && lim < 19 && (lim < 0 || v >= pow10_u64[lim])) {
			*st = ENC_REJECT;
			return true;
		}
	}
	/* Base-10000 digits, the fraction padded to whole ones: w's lowest
	 * fgroups digits are after the point. */
	int pad = (4 - frac % 4) % 4, fgroups = (frac + pad) / 4;
	uint64_t w = v * pow10_u64[pad];
	uint16_t nb[5];
	int n = 0;
	for (; w != 0; w /= 10000)
		nb[n++] = (uint16_t)(w % 10000);
	/* nb[0] is the lowest; leading zero digits cannot occur, trailing
	 * ones are dropped as make_result drops them. */
	int low = 0;
	while (low < n && nb[low] == 0)
		low++;
	int ndigits = n - low;
	int weight = n == 0 ? 0 : n - 1 - fgroups;
	size_t bytes = 12 + 2 * (size_t)ndigits;
	unsigned char *o = buf_be32_at(buf_claim(out, bytes), (uint32_t)(8 + 2 * ndigits));
	o = buf_be16_at(o, (uint16_t)ndigits);
	o = buf_be16_at(o, (uint16_t)(int16_t)weight);
	o = buf_be16_at(o, neg && n > 0 ? NUMERIC_NEG : NUMERIC_POS);
	o = buf_be16_at(o, (uint16_t)dscale);
	for (int j = n - 1; j >= low; j--)
		o = buf_be16_at(o, nb[j]);
	out->len += bytes;
	*st = ENC_OK;
	return true;
}

enum enc_status encode_numeric(const char *p, size_t len, int32_t typmod, struct buf *out, char *msg, size_t msgsz)
{
	enum enc_status st;
	if (numeric_short(p, len, typmod, out, &st)) {
		if (st == ENC_REJECT)
			encode_set_msg(msg, msgsz, "numeric field overflow");
		return st;
	}
	struct enc_numeric_text nt;
	st = read_numeric(p, len, &nt, msg, msgsz);
	if (st != ENC_OK)
		return st;
	if (nt.special != ENC_NUMERIC_NUMBER) {
		if (nt.special != ENC_NUMERIC_NAN && typmod >= 4) {
			encode_set_msg(msg, msgsz, "numeric field overflow");
			return ENC_REJECT;
		}
		put_special(out, nt.special == ENC_NUMERIC_NAN    ? NUMERIC_NAN
				 : nt.special == ENC_NUMERIC_PINF ? NUMERIC_PINF
								  : NUMERIC_NINF);
		return ENC_OK;
	}
	struct dec d;
	if (load_digits(&nt, &d) < 0)
		return ENC_DEFER;
	if (typmod >= 4 && apply_typmod(&d, typmod) < 0) {
		encode_set_msg(msg, msgsz, "numeric field overflow");
		return ENC_REJECT;
	}
	return put_dec(&d, out, msg, msgsz);
}
