/* escape.c - escaping of input-derived text for terminals and JSON log lines. */
#include "escape.h"

#include <stdbool.h>

static const char hex[] = "0123456789abcdef";

size_t escape_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t l;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		l = 2;
	else if (c >= 0xe0 && c <= 0xef)
		l = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		l = 4;
	else
		return 0;
	if (l > n)
		return 0;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < l; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return l;
}

static void put_escape(struct buf *b, const char *prefix, unsigned char v)
{
	buf_puts(b, prefix);
	buf_putc(b, hex[v >> 4]);
	buf_putc(b, hex[v & 15]);
}

/* Walks p[0..n): plain runs are copied, the rest handed to the escapes:
 * ctl for a C0 control or DEL, c1 for U+0080-U+009F (its second byte),
 * bad for a byte that is not UTF-8. */
static void escape_walk(struct buf *b, const char *p, size_t n, const char *ctl, const char *c1, const char *bad,
			bool json)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x20 || c == 0x7f) {
			put_escape(b, ctl, c);
			i++;
		} else if (json && (c == '"' || c == '\\')) {
			buf_putc(b, '\\');
			buf_putc(b, (char)c);
			i++;
		} else if (c < 0x80) {
			buf_putc(b, (char)c);
			i++;
		} else {
			size_t l = escape_utf8_len(s + i, n - i);
			if (l == 0) {
				put_escape(b, bad, c);
				i++;
			} else if (c == 0xc2 && s[i + 1] <= 0x9f) {
				put_escape(b, c1, s[i + 1]);
				i += 2;
			} else {
				buf_put(b, s + i, l);
				i += l;
			}
		}
	}
}

void escape_text(struct buf *b, const char *p, size_t n)
{
	escape_walk(b, p, n, "\\x", "\\u00", "\\x", false);
}

void escape_json(struct buf *b, const char *p, size_t n)
{
	buf_putc(b, '"');
	escape_walk(b, p, n, "\\u00", "\\u00", "\\u00", true);
	buf_putc(b, '"');
}
