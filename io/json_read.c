/* json_read.c - a small strict JSON reader for the io/ files that read back what they wrote (rejects lines). */
#include "json_read.h"

#include "../core/ascii.h"

#include <string.h>

int jfail(struct jcur *j, const char *why)
{
	j->why = why;
	return -1;
}

void jskip_ws(struct jcur *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

/* The four hex digits at p (which has at least four bytes), or -1. */
static long hex4(const unsigned char *p)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int h = ascii_hex_value(p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* Reads the \uXXXX escape at j->p (just past the 'u') and, for a high
 * surrogate, the \uXXXX of its low half. */
static int jescape_u(struct jcur *j)
{
	if (j->end - j->p < 4)
		return jfail(j, "a \\u escape needs four hex digits");
	long u = hex4(j->p);
	if (u < 0)
		return jfail(j, "a \\u escape needs four hex digits");
	if (u >= 0xdc00 && u <= 0xdfff)
		return jfail(j, "a UTF-16 low surrogate escape without its high half");
	j->p += 4;
	if (u < 0xd800 || u > 0xdbff)
		return 0;
	if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
		return jfail(j, "a UTF-16 high surrogate escape without its low half");
	long lo = hex4(j->p + 2);
	if (lo < 0xdc00 || lo > 0xdfff)
		return jfail(j, "a UTF-16 high surrogate escape without its low half");
	j->p += 6;
	return 0;
}

/* Checks the string at j->p (on its opening quote) and returns its body. */
int jstring(struct jcur *j, struct jspan *s)
{
	j->p++;
	s->p = j->p;
	while (j->p < j->end) {
		unsigned char c = *j->p;
		if (c == '"') {
			s->len = (size_t)(j->p - s->p);
			j->p++;
			return 0;
		}
		if (c < 0x20)
			return jfail(j, "a control character inside a string (JSON wants it escaped)");
		j->p++;
		if (c != '\\')
			continue;
		if (j->p == j->end)
			break;
		c = *j->p++;
		if (c == 'u') {
			if (jescape_u(j) < 0)
				return -1;
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
			j->p--;
			return jfail(j, "an invalid escape in a string");
		}
	}
	return jfail(j, "a string without its closing quote");
}

static size_t put_utf8(unsigned char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Appends the unescaped bytes of s, which jstring has checked. bytes: a
 * \u0080..\u00ff escape is that one byte, not the character. */
void junescape(const struct jspan *s, bool bytes, struct buf *out)
{
	/* Unescaping never lengthens: six bytes of \uXXXX make at most three,
	 * twelve of a surrogate pair four. */
	buf_reserve(out, s->len);
	unsigned char *o = (unsigned char *)out->data + out->len;
	const unsigned char *p = s->p, *end = s->p + s->len;
	while (p < end) {
		const unsigned char *bs = memchr(p, '\\', (size_t)(end - p));
		size_t run = (bs ? bs : end) - p;
		memcpy(o, p, run);
		o += run;
		p += run;
		if (p == end)
			break;
		unsigned char c = p[1];
		p += 2;
		switch (c) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			uint32_t cp = (uint32_t)hex4(p);
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				uint32_t lo = (uint32_t)hex4(p + 2);
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (bytes && cp <= 0xff)
				*o++ = (unsigned char)cp;
			else
				o += put_utf8(o, cp);
			break;
		}
		default: *o++ = c; break; /* " \ / */
		}
	}
	out->len = (size_t)((char *)o - out->data);
}

/* A number per RFC 8259. *u gets its value when it is a whole number >= 0
 * that fits (no fraction, no exponent); *whole says whether it was. */
int jnumber(struct jcur *j, bool *whole, uint64_t *u)
{
	const unsigned char *p = j->p;
	bool neg = p < j->end && *p == '-';
	if (neg)
		p++;
	if (p == j->end || *p < '0' || *p > '9')
		return jfail(j, "a number without digits");
	uint64_t v = 0;
	bool fits = true;
	if (*p == '0') {
		p++;
	} else {
		for (; p < j->end && *p >= '0' && *p <= '9'; p++) {
			unsigned d = (unsigned)(*p - '0');
			if (v > (UINT64_MAX - d) / 10)
				fits = false;
			v = v * 10 + d;
		}
	}
	bool frac = false;
	if (p < j->end && *p == '.') {
		frac = true;
		p++;
		if (p == j->end || *p < '0' || *p > '9')
			return jfail(j, "a number without digits after its decimal point");
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		frac = true;
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p == j->end || *p < '0' || *p > '9')
			return jfail(j, "a number without digits in its exponent");
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	j->p = p;
	*whole = !neg && !frac && fits;
	*u = v;
	return 0;
}

int jliteral(struct jcur *j, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return jfail(j, "not a JSON value");
	j->p += n;
	return 0;
}

/* Checks any one value at j->p and steps over it. */
int jskip_value(struct jcur *j, unsigned depth)
{
	if (j->p == j->end)
		return jfail(j, "a value is missing");
	struct jspan s;
	bool whole;
	uint64_t u;
	unsigned char c = *j->p;
	switch (c) {
	case '"': return jstring(j, &s);
	case 't': return jliteral(j, "true");
	case 'f': return jliteral(j, "false");
	case 'n': return jliteral(j, "null");
	case '{':
	case '[': break;
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return jnumber(j, &whole, &u);
		return jfail(j, "not a JSON value");
	}
	if (depth >= JSON_READ_DEPTH_MAX)
		return jfail(j, "arrays and objects nested too deep");
	unsigned char close = c == '{' ? '}' : ']';
	j->p++;
	jskip_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		if (c == '{') {
			if (j->p == j->end || *j->p != '"')
				return jfail(j, "an object key must be a string");
			if (jstring(j, &s) < 0)
				return -1;
			jskip_ws(j);
			if (j->p == j->end || *j->p != ':')
				return jfail(j, "a ':' must follow an object key");
			j->p++;
			jskip_ws(j);
		}
		if (jskip_value(j, depth + 1) < 0)
			return -1;
		jskip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jskip_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return 0;
		}
		return jfail(j, c == '{' ? "a ',' or '}' must follow a member" : "a ',' or ']' must follow an element");
	}
}
