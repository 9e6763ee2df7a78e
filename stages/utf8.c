/* utf8.c - UTF-8 validation with PostgreSQL's rules (pg_utf8_verifychar, pg_utf8_islegal) and its error text. */
#include "utf8.h"

#include "bytescan.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define HIGH_BITS 0x8080808080808080ull
#define LOW_BITS  0x0101010101010101ull

/* Sequence length announced by a lead byte, as pg_utf_mblen computes it:
 * anything that is not a valid lead counts as one byte. */
static inline size_t utf8_lead_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 1;
}

/* pg_utf8_islegal for a sequence of n bytes (n from utf8_lead_len, all
 * present): rejects overlong forms, surrogates (U+D800..DFFF) and code
 * points above U+10FFFF. */
static inline int utf8_legal(const unsigned char *s, size_t n)
{
	unsigned char a;
	switch (n) {
	case 4:
		a = s[3];
		if (a < 0x80 || a > 0xbf)
			return 0;
		/* fall through */
	case 3:
		a = s[2];
		if (a < 0x80 || a > 0xbf)
			return 0;
		/* fall through */
	case 2:
		a = s[1];
		switch (s[0]) {
		case 0xe0:
			if (a < 0xa0 || a > 0xbf)
				return 0;
			break;
		case 0xed:
			if (a < 0x80 || a > 0x9f)
				return 0;
			break;
		case 0xf0:
			if (a < 0x90 || a > 0xbf)
				return 0;
			break;
		case 0xf4:
			if (a < 0x80 || a > 0x8f)
				return 0;
			break;
		default:
			if (a < 0x80 || a > 0xbf)
				return 0;
			break;
		}
		/* fall through */
	case 1:
		a = s[0];
		if (a >= 0x80 && a < 0xc2)
			return 0;
		if (a > 0xf4)
			return 0;
		break;
	default: return 0;
	}
	return 1;
}

/* The length of the sequence at s (left bytes available), or 0 when it is
 * NUL or invalid. */
static inline size_t utf8_step(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return c != 0;
	size_t n = utf8_lead_len(c);
	return n <= left && utf8_legal(s, n) ? n : 0;
}

#ifdef BYTESCAN_SSE2
/* Bit i set when byte i of the 16 at s has its high bit set or is zero. */
static inline uint32_t plain16(const unsigned char *s)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
	return (uint32_t)_mm_movemask_epi8(_mm_or_si128(x, _mm_cmpeq_epi8(x, _mm_setzero_si128())));
}

/* Nonzero when one of the 32 bytes at s has its high bit set or is zero: a
 * zero byte in either half is a zero minimum of the two. */
static inline uint32_t plain32(const unsigned char *s)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
	__m128i zero = _mm_cmpeq_epi8(_mm_min_epu8(x, y), _mm_setzero_si128());
	return (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(x, y), zero));
}

/* Business data is mostly ASCII: 32 bytes at a time while none has its
 * high bit set or is zero; from a block that has one, straight to it (a
 * block's mask skips its plain bytes); the last bytes as the block that
 * ends at len. Only the bytes the masks stop at are decoded one by one. */
size_t utf8_valid_prefix(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	for (;;) {
		while (len - i >= 32 && plain32(s + i) == 0)
			i += 32;
		uint32_t m;
		if (len - i >= 16)
			m = plain16(s + i);
		else if (len >= 16)
			m = plain16(s + len - 16) >> (16 - (len - i));
		else
			break;
		if (m == 0) {
			i += len - i >= 16 ? 16 : len - i;
			if (i == len)
				return len;
			continue;
		}
		i += (size_t)__builtin_ctz(m);
		size_t n = utf8_step(s + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	/* Fewer than 16 bytes in all. */
	while (i < len) {
		size_t n = utf8_step(s + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}
#else
size_t utf8_valid_prefix(const char *p, size_t len)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;
	while (i < len) {
		/* Business data is mostly ASCII: skip 8 bytes at a time while
		 * no byte has its high bit set and none is zero. */
		while (i + 8 <= len) {
			uint64_t x;
			memcpy(&x, s + i, 8);
			uint64_t zero = (x - LOW_BITS) & ~x & HIGH_BITS;
			if ((x & HIGH_BITS) | zero)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		size_t n = utf8_step(s + i, len - i);
		if (n == 0)
			return i;
		i += n;
	}
	return len;
}
#endif

void utf8_error_message(const char *p, size_t avail, char *msg, size_t msgsz)
{
	/* report_invalid_encoding lists as many bytes as the lead byte
	 * announces, no more than are available and at most 8. */
	const unsigned char *s = (const unsigned char *)p;
	size_t n = avail > 0 ? utf8_lead_len(s[0]) : 0;
	if (n > avail)
		n = avail;
	char bytes[8 * 5 + 1];
	size_t off = 0;
	for (size_t j = 0; j < n && j < 8; j++)
		off += (size_t)snprintf(bytes + off, sizeof bytes - off, j ? " 0x%02x" : "0x%02x", s[j]);
	bytes[off] = '\0';
	snprintf(msg, msgsz, "invalid byte sequence for encoding \"UTF8\": %s", bytes);
}
