/* encode.c - binary COPY framing, the type dispatch, and the encoders for integers, floats, bool, strings, uuid and bytea. */
#include "encode.h"

#include "../core/ascii.h"

#include "../core/err.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void encode_set_msg(char *msg, size_t msgsz, const char *fmt, ...)
{
	if (msg == NULL || msgsz == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, msgsz, fmt, ap);
	va_end(ap);
}

/* The value inside messages, as PostgreSQL quotes the whole input string. */
#define VAL(p, len) (int)((len) > INT32_MAX ? INT32_MAX : (len)), (p)

enum enc_kind encode_kind_for(uint32_t type_oid)
{
	switch (type_oid) {
	case OID_INT2: return ENC_INT2;
	case OID_INT4: return ENC_INT4;
	case OID_INT8: return ENC_INT8;
	case OID_FLOAT4: return ENC_FLOAT4;
	case OID_FLOAT8: return ENC_FLOAT8;
	case OID_NUMERIC: return ENC_NUMERIC;
	case OID_BOOL: return ENC_BOOL;
	case OID_TEXT: return ENC_TEXT;
	case OID_VARCHAR: return ENC_VARCHAR;
	case OID_BPCHAR: return ENC_BPCHAR;
	case OID_DATE: return ENC_DATE;
	case OID_TIMESTAMP: return ENC_TIMESTAMP;
	case OID_TIMESTAMPTZ: return ENC_TIMESTAMPTZ;
	case OID_UUID: return ENC_UUID;
	case OID_JSON: return ENC_JSON;
	case OID_JSONB: return ENC_JSONB;
	case OID_BYTEA: return ENC_BYTEA;
	default: return ENC_NONE;
	}
}

void encode_copy_header(struct buf *out)
{
	static const char sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};
	buf_put(out, sig, sizeof sig);
	buf_put_be32(out, 0); /* flags: no OIDs */
	buf_put_be32(out, 0); /* header extension length */
}

void encode_copy_trailer(struct buf *out)
{
	buf_put_be16(out, 0xffff);
}

void encode_int4(struct buf *out, int32_t v)
{
	buf_put_be32(out, 4);
	buf_put_be32(out, (uint32_t)v);
}

/* encode_read_int, inlined into encode_int: integers are most of a typical
 * record's fields. */
static inline int read_int(const char *p, size_t len, uint64_t magnitude_max, bool *neg, uint64_t *magnitude)
{
	/* Plain digits, the usual field, eight at a time. */
	if (ascii_digits_u64(p, len, magnitude)) {
		*neg = false;
		return *magnitude > magnitude_max ? -2 : 0;
	}
	const unsigned char *s = (const unsigned char *)p, *e = s + len;
	while (s < e && ascii_is_space(*s))
		s++;
	*neg = false;
	if (s < e && (*s == '-' || *s == '+')) {
		*neg = *s == '-';
		s++;
	}
	if (s == e || !ascii_is_digit(*s))
		return -1;
	/* Nineteen digits cannot overflow 64 bits (10^19 - 1 < 2^64): read
	 * up to that many unchecked and compare once. The value only grows
	 * with each digit, so it passes magnitude_max at some digit exactly
	 * when it does at the last: the same -2 as checking every digit. */
	const unsigned char *fast_end = e - s > 19 ? s + 19 : e;
	uint64_t v = 0;
	do {
		v = v * 10 + (unsigned)(*s - '0');
		s++;
	} while (s < fast_end && ascii_is_digit(*s));
	if (v > magnitude_max)
		return -2;
	/* More digits (leading zeros, or a value far out of range). */
	while (s < e && ascii_is_digit(*s)) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (magnitude_max - d) / 10)
			return -2;
		v = v * 10 + d;
		s++;
	}
	while (s < e && ascii_is_space(*s))
		s++;
	if (s != e)
		return -1;
	*magnitude = v;
	return 0;
}

int encode_read_int(const char *p, size_t len, uint64_t magnitude_max, bool *neg, uint64_t *magnitude)
{
	return read_int(p, len, magnitude_max, neg, magnitude);
}

/* int2/int4/int8: pg_strtoint16/32/64 of PostgreSQL 15, which accumulate
 * the value negatively. Overflow of that is detected while reading digits,
 * so "99999999999x" is out of range, not a syntax error; but a positive
 * value of exactly max + 1 is refused only after the trailing-junk test,
 * so "2147483648x" is a syntax error. The messages follow that order.
 * Inlined into each width's case, so that its bounds are constants. */
static inline __attribute__((always_inline)) enum enc_status encode_int(const char *p, size_t len, int bytes,
									struct buf *out, char *msg, size_t msgsz)
{
	static const char *const names[9] = {[2] = "smallint", [4] = "integer", [8] = "bigint"};
	uint64_t max = bytes == 2 ? INT16_MAX : bytes == 4 ? INT32_MAX : (uint64_t)INT64_MAX;
	bool neg;
	uint64_t v;
	int rc = read_int(p, len, max + 1, &neg, &v);
	if (rc == -1)
		goto syntax;
	if (rc == -2 || (!neg && v == max + 1))
		goto range;
	uint64_t bits = neg ? (uint64_t)0 - v : v;
	unsigned char *o = buf_be32_at(buf_claim(out, 4 + (size_t)bytes), (uint32_t)bytes);
	if (bytes == 2)
		buf_be16_at(o, (uint16_t)bits);
	else if (bytes == 4)
		buf_be32_at(o, (uint32_t)bits);
	else
		buf_be64_at(o, bits);
	out->len += 4 + (size_t)bytes;
	return ENC_OK;
range:
	encode_set_msg(msg, msgsz, "value \"%.*s\" is out of range for type %s", VAL(p, len), names[bytes]);
	return ENC_REJECT;
syntax:
	encode_set_msg(msg, msgsz, "invalid input syntax for type %s: \"%.*s\"", names[bytes], VAL(p, len));
	return ENC_REJECT;
}

/* strtod/strtof must not follow the process locale's decimal point; one C
 * locale object serves every thread (newlocale runs once, off the hot path). */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	ASSERT(c_locale != (locale_t)0);
}

/* The NUL-terminated s starts with word (lower case), letters folded. */
static bool prefix_icase(const char *s, const char *word)
{
	return ascii_icase_equal_n(s, word, strlen(word));
}

/* Longest float text decided here; longer ones (absurd for a float) go to
 * the server rather than needing a heap copy. */
#define FLOAT_TEXT_MAX 256

/* float4/float8: float4in/float8in of PostgreSQL 15, which call the C
 * library's strtof/strtod; the server is Debian's PostgreSQL on glibc, as
 * is this process, so decimal input rounds identically (both are correctly
 * rounded). Hexadecimal floats and NaN payloads "nan(...)" are accepted by
 * glibc only, so they are deferred rather than assumed. */
static enum enc_status encode_float(const char *p, size_t len, bool is_double, struct buf *out, char *msg, size_t msgsz)
{
	const char *tname = is_double ? "double precision" : "real";
	if (len >= FLOAT_TEXT_MAX)
		return ENC_DEFER;
	char tmp[FLOAT_TEXT_MAX];
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	pthread_once(&c_locale_once, c_locale_init);

	char *num = tmp;
	while (*num && ascii_is_space((unsigned char)*num))
		num++;
	if (*num == '\0')
		goto syntax;
	const char *body = num + (*num == '+' || *num == '-');
	if ((body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) || prefix_icase(body, "nan("))
		return ENC_DEFER;
	char *end;
	double d = 0;
	float f = 0;
	errno = 0;
	if (is_double)
		d = strtod_l(num, &end, c_locale);
	else
		f = strtof_l(num, &end, c_locale);
	if (end == num || errno != 0) {
		int save_errno = errno;
		/* The spellings PostgreSQL checks itself when strtod fails. */
		static const struct {
			const char *word;
			int sign; /* 0: NaN */
		} specials[] = {{"nan", 0}, {"infinity", 1}, {"+infinity", 1}, {"-infinity", -1},
				{"inf", 1}, {"+inf", 1},     {"-inf", -1}};
		size_t k;
		for (k = 0; k < sizeof specials / sizeof specials[0]; k++)
			if (prefix_icase(num, specials[k].word))
				break;
		if (k < sizeof specials / sizeof specials[0]) {
			end = num + strlen(specials[k].word);
			d = specials[k].sign == 0 ? (double)NAN : specials[k].sign * (double)INFINITY;
			f = (float)d;
		} else if (save_errno == ERANGE) {
			bool real_range = is_double ? (d == 0.0 || d >= HUGE_VAL || d <= -HUGE_VAL)
						    : (f == 0.0f || f >= HUGE_VALF || f <= -HUGE_VALF);
			if (real_range) {
				/* float8in quotes the number as strtod read it;
				 * float4in quotes the whole input. */
				if (is_double)
					encode_set_msg(msg, msgsz, "\"%.*s\" is out of range for type %s",
						       (int)(end - num), num, tname);
				else
					encode_set_msg(msg, msgsz, "\"%.*s\" is out of range for type %s", VAL(p, len),
						       tname);
				return ENC_REJECT;
			}
			/* A denormal: glibc says ERANGE, PostgreSQL keeps it. */
		} else {
			goto syntax;
		}
	}
	while (*end && ascii_is_space((unsigned char)*end))
		end++;
	if (*end != '\0')
		goto syntax;
	if (is_double) {
		uint64_t bits;
		memcpy(&bits, &d, 8);
		buf_reserve(out, 12);
		buf_put_be32(out, 8);
		buf_put_be64(out, bits);
	} else {
		uint32_t bits;
		memcpy(&bits, &f, 4);
		buf_reserve(out, 8);
		buf_put_be32(out, 4);
		buf_put_be32(out, bits);
	}
	return ENC_OK;
syntax:
	encode_set_msg(msg, msgsz, "invalid input syntax for type %s: \"%.*s\"", tname, VAL(p, len));
	return ENC_REJECT;
}

/* s[0..n) is a case-insensitive prefix of word (n >= 1, n <= strlen(word)):
 * what pg_strncasecmp(value, word, n) == 0 means for a trimmed value. */
static bool is_prefix_of(const char *s, size_t n, const char *word)
{
	return n > 0 && n <= strlen(word) && ascii_icase_equal_n(s, word, n);
}

int encode_parse_bool(const char *p, size_t len)
{
	size_t a = 0, b = len;
	while (a < b && ascii_is_space((unsigned char)p[a]))
		a++;
	while (b > a && ascii_is_space((unsigned char)p[b - 1]))
		b--;
	const char *s = p + a;
	size_t n = b - a;
	int v = -1;
	if (n > 0) {
		switch (s[0]) {
		case 't':
		case 'T':
			if (is_prefix_of(s, n, "true"))
				v = 1;
			break;
		case 'f':
		case 'F':
			if (is_prefix_of(s, n, "false"))
				v = 0;
			break;
		case 'y':
		case 'Y':
			if (is_prefix_of(s, n, "yes"))
				v = 1;
			break;
		case 'n':
		case 'N':
			if (is_prefix_of(s, n, "no"))
				v = 0;
			break;
		case 'o':
		case 'O':
			/* "o" alone is ambiguous: at least two characters. */
			if (n >= 2 && is_prefix_of(s, n, "on"))
				v = 1;
			else if (n >= 2 && is_prefix_of(s, n, "off"))
				v = 0;
			break;
		case '1':
			if (n == 1)
				v = 1;
			break;
		case '0':
			if (n == 1)
				v = 0;
			break;
		default: break;
		}
	}
	return v;
}

/* bool: boolin = trim white space, then parse_bool_with_len. */
static enum enc_status encode_bool(const char *p, size_t len, struct buf *out, char *msg, size_t msgsz)
{
	int v = encode_parse_bool(p, len);
	if (v < 0) {
		encode_set_msg(msg, msgsz, "invalid input syntax for type boolean: \"%.*s\"", VAL(p, len));
		return ENC_REJECT;
	}
	buf_reserve(out, 5);
	buf_put_be32(out, 1);
	buf_putc(out, (char)v);
	return ENC_OK;
}

static void put_field(struct buf *out, const char *p, size_t len)
{
	unsigned char *o = buf_be32_at(buf_claim(out, 4 + len), (uint32_t)len);
	copy_short(o, p, len);
	out->len += 4 + len;
}

int encode_clip_string(const char *p, size_t len, size_t maxchars, size_t *kept, size_t *nchars)
{
	/* pg_mbcharcliplen for valid UTF-8: continuation bytes belong to the
	 * character before them. */
	size_t chars = 0, i = 0;
	for (; i < len; i++) {
		if (((unsigned char)p[i] & 0xc0) == 0x80)
			continue;
		if (chars == maxchars)
			break;
		chars++;
	}
	for (size_t j = i; j < len; j++)
		if (p[j] != ' ')
			return -1;
	*kept = i;
	*nchars = chars;
	return 0;
}

/* varchar(n): varchar_input. A value of n bytes or fewer has n characters
 * or fewer; a longer one goes through the length rule. *len becomes the
 * bytes kept. */
static enum enc_status varchar_clip(const char *p, size_t *len, int32_t typmod, char *msg, size_t msgsz)
{
	if (typmod >= 4 && *len > (size_t)(typmod - 4)) {
		size_t maxlen = (size_t)(typmod - 4), chars;
		if (encode_clip_string(p, *len, maxlen, len, &chars) < 0) {
			encode_set_msg(msg, msgsz, "value too long for type character varying(%zu)", maxlen);
			return ENC_REJECT;
		}
	}
	return ENC_OK;
}

static enum enc_status encode_varchar(const char *p, size_t len, int32_t typmod, struct buf *out, char *msg,
				      size_t msgsz)
{
	if (varchar_clip(p, &len, typmod, msg, msgsz) != ENC_OK)
		return ENC_REJECT;
	put_field(out, p, len);
	return ENC_OK;
}

/* char(n): bpchar_input. The same length rule as varchar, then padded with
 * spaces to n characters, which is what bpcharsend sends back. */
static enum enc_status encode_bpchar(const char *p, size_t len, int32_t typmod, struct buf *out, char *msg,
				     size_t msgsz)
{
	if (typmod < 4) {
		put_field(out, p, len);
		return ENC_OK;
	}
	size_t maxlen = (size_t)(typmod - 4), chars;
	if (encode_clip_string(p, len, maxlen, &len, &chars) < 0) {
		encode_set_msg(msg, msgsz, "value too long for type character(%zu)", maxlen);
		return ENC_REJECT;
	}
	size_t pad = maxlen - chars;
	unsigned char *o = buf_be32_at(buf_claim(out, 4 + len + pad), (uint32_t)(len + pad));
	copy_short(o, p, len);
	if (pad > 0)
		memset(o + len, ' ', pad);
	out->len += 4 + len + pad;
	return ENC_OK;
}

int encode_parse_uuid(const char *p, size_t len, unsigned char u[16])
{
	size_t i = 0;
	bool braces = false;
	if (len > 0 && p[0] == '{') {
		braces = true;
		i = 1;
	}
	for (int k = 0; k < 16; k++) {
		if (len - i < 2)
			return -1;
		int hi = ascii_hex_value((unsigned char)p[i]), lo = ascii_hex_value((unsigned char)p[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		u[k] = (unsigned char)(hi << 4 | lo);
		i += 2;
		if (i < len && p[i] == '-' && (k % 2) == 1 && k < 15)
			i++;
	}
	if (braces) {
		if (i >= len || p[i] != '}')
			return -1;
		i++;
	}
	return i == len ? 0 : -1;
}

static enum enc_status encode_uuid(const char *p, size_t len, struct buf *out, char *msg, size_t msgsz)
{
	unsigned char u[16];
	if (encode_parse_uuid(p, len, u) < 0) {
		encode_set_msg(msg, msgsz, "invalid input syntax for type uuid: \"%.*s\"", VAL(p, len));
		return ENC_REJECT;
	}
	buf_reserve(out, 20);
	buf_put_be32(out, 16);
	buf_put(out, u, 16);
	return ENC_OK;
}

/* Length of the (valid UTF-8) character at p, as pg_mblen gives it, bounded
 * by the bytes left. */
static size_t utf8_char_len(const char *p, size_t left)
{
	unsigned char c = (unsigned char)*p;
	size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	return n < left ? n : left;
}

/* bytea: byteain. "\x" (lower-case x only) is hex_decode: white space may
 * precede each digit pair, never split one; anything else is the escape
 * format, where a backslash must start "\\" or "\ooo" (first digit 0-3). */
static enum enc_status encode_bytea(const char *p, size_t len, struct buf *out, char *msg, size_t msgsz)
{
	size_t start = out->len;
	if (len >= 2 && p[0] == '\\' && p[1] == 'x') {
		buf_reserve(out, 4 + (len - 2) / 2);
		out->len += 4;
		unsigned char *dst = (unsigned char *)out->data + out->len;
		size_t n = 0;
		for (size_t i = 2; i < len;) {
			unsigned char c = (unsigned char)p[i];
			if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
				i++;
				continue;
			}
			int hi = ascii_hex_value(c);
			if (hi < 0) {
				out->len = start;
				encode_set_msg(msg, msgsz, "invalid hexadecimal digit: \"%.*s\"",
					       (int)utf8_char_len(p + i, len - i), p + i);
				return ENC_REJECT;
			}
			i++;
			if (i >= len) {
				out->len = start;
				encode_set_msg(msg, msgsz, "invalid hexadecimal data: odd number of digits");
				return ENC_REJECT;
			}
			int lo = ascii_hex_value((unsigned char)p[i]);
			if (lo < 0) {
				out->len = start;
				encode_set_msg(msg, msgsz, "invalid hexadecimal digit: \"%.*s\"",
					       (int)utf8_char_len(p + i, len - i), p + i);
				return ENC_REJECT;
			}
			i++;
			dst[n++] = (unsigned char)(hi << 4 | lo);
		}
		buf_set_be32(out, start, (uint32_t)n);
		out->len += n;
		return ENC_OK;
	}
	/* Escape format: the decoded length never exceeds the input length. */
	buf_reserve(out, 4 + len);
	out->len += 4;
	unsigned char *dst = (unsigned char *)out->data + out->len;
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		if (p[i] != '\\') {
			dst[n++] = (unsigned char)p[i++];
		} else if (len - i >= 4 && p[i + 1] >= '0' && p[i + 1] <= '3' && p[i + 2] >= '0' && p[i + 2] <= '7' &&
			   p[i + 3] >= '0' && p[i + 3] <= '7') {
			dst[n++] =
			    (unsigned char)(((p[i + 1] - '0') << 6) | ((p[i + 2] - '0') << 3) | (p[i + 3] - '0'));
			i += 4;
		} else if (len - i >= 2 && p[i + 1] == '\\') {
			dst[n++] = '\\';
			i += 2;
		} else {
			out->len = start;
			encode_set_msg(msg, msgsz, "invalid input syntax for type bytea");
			return ENC_REJECT;
		}
	}
	buf_set_be32(out, start, (uint32_t)n);
	out->len += n;
	return ENC_OK;
}

enum enc_status encode_binary(const struct enc_column *col, const struct enc_session *s, const char *p, size_t len,
			      struct buf *out, char *msg, size_t msgsz)
{
	switch (col->kind) {
	case ENC_INT2: return encode_int(p, len, 2, out, msg, msgsz);
	case ENC_INT4: return encode_int(p, len, 4, out, msg, msgsz);
	case ENC_INT8: return encode_int(p, len, 8, out, msg, msgsz);
	case ENC_FLOAT4: return encode_float(p, len, false, out, msg, msgsz);
	case ENC_FLOAT8: return encode_float(p, len, true, out, msg, msgsz);
	case ENC_NUMERIC: return encode_numeric(p, len, col->typmod, out, msg, msgsz);
	case ENC_BOOL: return encode_bool(p, len, out, msg, msgsz);
	case ENC_TEXT: put_field(out, p, len); return ENC_OK;
	case ENC_VARCHAR: return encode_varchar(p, len, col->typmod, out, msg, msgsz);
	case ENC_BPCHAR: return encode_bpchar(p, len, col->typmod, out, msg, msgsz);
	case ENC_DATE: return encode_date(p, len, out, msg, msgsz);
	case ENC_TIMESTAMP: return encode_timestamp(p, len, col->typmod, false, s->tz_utc, out, msg, msgsz);
	case ENC_TIMESTAMPTZ: return encode_timestamp(p, len, col->typmod, true, s->tz_utc, out, msg, msgsz);
	case ENC_UUID: return encode_uuid(p, len, out, msg, msgsz);
	case ENC_JSON: return encode_json(p, len, false, out, msg, msgsz);
	case ENC_JSONB: return encode_json(p, len, true, out, msg, msgsz);
	case ENC_BYTEA: return encode_bytea(p, len, out, msg, msgsz);
	case ENC_NONE:
	default: return ENC_DEFER;
	}
}

enum enc_status encode_binary_head(const struct enc_column *col, const struct enc_session *s, const char *p, size_t len,
				   struct buf *out, size_t *tail, char *msg, size_t msgsz)
{
	*tail = 0;
	enum enc_status st = ENC_OK;
	switch (col->kind) {
	case ENC_TEXT: break;
	case ENC_VARCHAR: st = varchar_clip(p, &len, col->typmod, msg, msgsz); break;
	case ENC_JSON:
	case ENC_JSONB: st = json_validate(p, len, col->kind == ENC_JSONB, msg, msgsz); break;
	default: return encode_binary(col, s, p, len, out, msg, msgsz);
	}
	if (st != ENC_OK)
		return st;
	/* jsonb_recv reads a version byte, then the text (see encode_json). */
	bool jsonb = col->kind == ENC_JSONB;
	buf_reserve(out, 5);
	buf_put_be32(out, (uint32_t)(len + jsonb));
	if (jsonb)
		buf_putc(out, 1);
	*tail = len;
	return ENC_OK;
}
