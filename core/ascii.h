/* ascii.h - the byte classes PostgreSQL's input functions use on a server in the C or a UTF-8 locale (white space, digits, hex digits) and ASCII case folding, shared by the encoders, the parsers, key rendering and the readers of escapes (JSON's \uXXXX, a DSN's %XX). */
#ifndef EDONU_ASCII_H
#define EDONU_ASCII_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* isspace(): the six ASCII white-space bytes; bytes >= 0x80 never are. */
static inline bool ascii_is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline bool ascii_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* A hex digit's value, or -1. */
static inline int ascii_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..n) equals word[0..n) once ASCII letters of s are folded to lower
 * case (pg_strncasecmp for a lower-case word). word has at least n bytes;
 * s is read only up to its first mismatch, so a NUL-terminated s shorter
 * than n is safe. */
static inline bool ascii_icase_equal_n(const char *s, const char *word, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + ('a' - 'A'));
		if (c != word[i])
			return false;
	}
	return true;
}

/* The m bytes at s (1 <= m <= 8) as a little-endian word (s[0] lowest),
 * read with loads that stay inside them (two overlapping ones when m is
 * not a power of 2). */
static inline uint64_t ascii_load_le(const char *s, size_t m)
{
	uint64_t a = 0, b = 0;
	if (m >= 4) {
		if (m == 8) {
			memcpy(&a, s, 8);
			return le64toh(a);
		}
		uint32_t x, y;
		memcpy(&x, s, 4);
		memcpy(&y, s + m - 4, 4);
		a = le32toh(x);
		b = (uint64_t)le32toh(y) << (8 * (m - 4));
	} else if (m >= 2) {
		uint16_t x, y;
		memcpy(&x, s, 2);
		memcpy(&y, s + m - 2, 2);
		a = le16toh(x);
		b = (uint64_t)le16toh(y) << (8 * (m - 2));
	} else {
		a = (unsigned char)s[0];
	}
	return a | b; /* the overlap holds the same bytes in both */
}

#define ASCII_ZEROS 0x3030303030303030u /* eight '0's */

/* Whether every byte of x (as ascii_load_le gives it) is an ASCII digit:
 * neither byte - '0' nor byte + 0x46 borrows or carries into the high bit. */
static inline bool ascii_word_digits(uint64_t x)
{
	return (((x + 0x4646464646464646u) | (x - ASCII_ZEROS)) & 0x8080808080808080u) == 0;
}

/* The value of eight ASCII digits in x (ascii_word_digits true), its
 * lowest byte the most significant digit. */
static inline uint32_t ascii_word_value(uint64_t x)
{
	x -= ASCII_ZEROS;
	x = x * 10 + (x >> 8);
	x = ((x & 0x000000ff000000ffu) * 0x000f424000000064u +
	     ((x >> 16) & 0x000000ff000000ffu) * 0x0000271000000001u) >>
	    32;
	return (uint32_t)x;
}

/* The value of m ASCII digits at s (1 <= m <= 8), or -1 when a byte is no
 * digit: the digits right-aligned among '0's in one word, checked and
 * summed eight at a time (no branch per digit). */
static inline int64_t ascii_digits8(const char *s, size_t m)
{
	uint64_t x = ascii_load_le(s, m);
	if (m < 8)
		x = x << (8 * (8 - m)) | ASCII_ZEROS >> (8 * m);
	return ascii_word_digits(x) ? (int64_t)ascii_word_value(x) : -1;
}

/* p[0..n) is 1 to 16 ASCII digits and nothing else: true with their value
 * in *v. False for anything else (signs, spaces, longer runs), which the
 * caller reads byte by byte. */
static inline bool ascii_digits_u64(const char *p, size_t n, uint64_t *v)
{
	if (n == 0 || n > 16)
		return false;
	if (n <= 8) {
		int64_t x = ascii_digits8(p, n);
		*v = (uint64_t)x;
		return x >= 0;
	}
	int64_t hi = ascii_digits8(p, n - 8), lo = ascii_digits8(p + n - 8, 8);
	*v = (uint64_t)hi * 100000000u + (uint64_t)lo;
	return (hi | lo) >= 0;
}

#endif
