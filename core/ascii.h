/* ascii.h - the byte classes PostgreSQL's input functions use on a server in the C or a UTF-8 locale (white space, digits, hex digits) and ASCII case folding, shared by the encoders, the parsers, key rendering and the readers of escapes (JSON's \uXXXX, a DSN's %XX). */
#ifndef EDONU_ASCII_H
#define EDONU_ASCII_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
