/* encode_numeric.c - numeric text to numeric_send's form, replaying numeric_in, apply_typmod and make_result of PostgreSQL 15. */
#include "encode.h"

#include "ascii.h"

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

enum enc_status encode_numeric(const char *p, size_t len, int32_t typmod, struct buf *out, char *msg, size_t msgsz)
{
	const char *s = p, *e = p + len;
	while (s < e && ascii_is_space((unsigned char)*s))
		s++;

	/* NaN and the infinities, in numeric_in's order of tests. */
	static const struct {
		const char *word;
		uint16_t sign;
	} specials[] = {{"nan", NUMERIC_NAN},        {"infinity", NUMERIC_PINF}, {"+infinity", NUMERIC_PINF},
			{"-infinity", NUMERIC_NINF}, {"inf", NUMERIC_PINF},      {"+inf", NUMERIC_PINF},
			{"-inf", NUMERIC_NINF}};
	for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
		if (!match_word(s, (size_t)(e - s), specials[k].word))
			continue;
		s += strlen(specials[k].word);
		while (s < e && ascii_is_space((unsigned char)*s))
			s++;
		if (s != e)
			goto syntax;
		if (specials[k].sign != NUMERIC_NAN && typmod >= 4) {
			encode_set_msg(msg, msgsz, "numeric field overflow");
			return ENC_REJECT;
		}
		put_special(out, specials[k].sign);
		return ENC_OK;
	}

	/* set_var_from_str: digits with a decimal weight and display scale.
	 * dig[0] is a zero pad so that rounding can carry into it. */
	unsigned char dig[NUMERIC_DEC_DIGITS_MAX + 1];
	int nd = 1;
	dig[0] = 0;
	bool neg = false;
	bool have_dp = false;
	int64_t dweight = -1; /* decimal exponent of the first digit read */
	int64_t dscale = 0;
	if (s < e && (*s == '+' || *s == '-')) {
		neg = *s == '-';
		s++;
	}
	if (s < e && *s == '.') {
		have_dp = true;
		s++;
	}
	if (s == e || !ascii_is_digit((unsigned char)*s))
		goto syntax;
	while (s < e) {
		if (ascii_is_digit((unsigned char)*s)) {
			if (nd > NUMERIC_DEC_DIGITS_MAX)
				return ENC_DEFER;
			dig[nd++] = (unsigned char)(*s++ - '0');
			if (!have_dp)
				dweight++;
			else
				dscale++;
		} else if (*s == '.') {
			if (have_dp)
				goto syntax;
			have_dp = true;
			s++;
		} else {
			break;
		}
	}
	if (s < e && (*s == 'e' || *s == 'E')) {
		s++;
		/* The server reads the exponent with strtol, which would also
		 * skip white space after the 'e'; such input is deferred. */
		if (s < e && ascii_is_space((unsigned char)*s))
			return ENC_DEFER;
		bool eneg = false;
		if (s < e && (*s == '+' || *s == '-')) {
			eneg = *s == '-';
			s++;
		}
		if (s == e || !ascii_is_digit((unsigned char)*s))
			goto syntax;
		int64_t x = 0;
		for (; s < e && ascii_is_digit((unsigned char)*s); s++)
			if (x < INT_MAX)
				x = x * 10 + (*s - '0');
		if (x >= INT_MAX / 2) {
			encode_set_msg(msg, msgsz, "value overflows numeric format");
			return ENC_REJECT;
		}
		if (eneg)
			x = -x;
		dweight += x;
		dscale -= x;
		if (dscale < 0)
			dscale = 0;
	}
	while (s < e) {
		if (!ascii_is_space((unsigned char)*s))
			goto syntax;
		s++;
	}

	/* With the pad digit in front, dig[i] has decimal exponent dw - i. */
	int64_t dw = dweight + 1;
	if (typmod >= 4) {
		/* apply_typmod: round half away from zero to the scale, then
		 * the integer digits must fit precision - scale. PostgreSQL 15
		 * allows a negative scale and a scale above the precision. */
		int32_t precision = ((typmod - 4) >> 16) & 0xffff;
		int32_t scale = (((typmod - 4) & 0x7ff) ^ 1024) - 1024;
		int64_t maxdigits = (int64_t)precision - scale;
		int64_t keep = dw + 1 + scale; /* digits kept: exponent >= -scale */
		if (keep <= 0) {
			nd = 0;
		} else if (keep < nd) {
			if (dig[keep] >= 5) {
				int64_t i = keep - 1;
				while (dig[i] == 9) {
					dig[i] = 0;
					i--; /* dig[0] is 0, so this stops there at the latest */
				}
				dig[i]++;
			}
			nd = (int)keep;
		}
		dscale = scale < 0 ? 0 : scale;
		for (int i = 0; i < nd; i++) {
			if (dig[i] != 0) {
				if (dw - i + 1 > maxdigits) {
					encode_set_msg(msg, msgsz, "numeric field overflow");
					return ENC_REJECT;
				}
				break;
			}
		}
	}

	/* make_result: drop leading and trailing zeros; zero is positive with
	 * weight 0 and keeps its display scale. */
	int first = 0, last = nd - 1;
	while (first < nd && dig[first] == 0)
		first++;
	while (last >= first && dig[last] == 0)
		last--;
	int64_t weight = 0;
	int ndigits = 0;
	uint16_t nb[NBASE_DIGITS_MAX];
	if (first < nd) {
		weight = floor_div4(dw - first);
		int64_t wlast = floor_div4(dw - last);
		ndigits = (int)(weight - wlast + 1);
		if (ndigits > NBASE_DIGITS_MAX)
			return ENC_DEFER;
		memset(nb, 0, sizeof nb[0] * (size_t)ndigits);
		static const uint16_t pow10[4] = {1, 10, 100, 1000};
		for (int i = first; i <= last; i++) {
			int64_t ex = dw - i;
			int64_t w = floor_div4(ex);
			nb[weight - w] = (uint16_t)(nb[weight - w] + dig[i] * pow10[ex - 4 * w]);
		}
	} else {
		neg = false;
	}
	if (weight > NUMERIC_WEIGHT_MAX || weight < NUMERIC_WEIGHT_MIN || dscale > NUMERIC_DSCALE_MAX) {
		encode_set_msg(msg, msgsz, "value overflows numeric format");
		return ENC_REJECT;
	}

	size_t bytes = 8 + 2 * (size_t)ndigits;
	buf_reserve(out, 4 + bytes);
	buf_put_be32(out, (uint32_t)bytes);
	buf_put_be16(out, (uint16_t)ndigits);
	buf_put_be16(out, (uint16_t)(int16_t)weight);
	buf_put_be16(out, neg ? NUMERIC_NEG : NUMERIC_POS);
	buf_put_be16(out, (uint16_t)dscale);
	for (int j = 0; j < ndigits; j++)
		buf_put_be16(out, nb[j]);
	return ENC_OK;

syntax:
	encode_set_msg(msg, msgsz, "invalid input syntax for type numeric: \"%.*s\"", (int)len, p);
	return ENC_REJECT;
}
