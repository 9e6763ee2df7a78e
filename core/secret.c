/* secret.c - passwords of a libpq connection string, found and masked in the messages that
 * repeat them. */
#include "secret.h"

#include "ascii.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MASK            "***"
#define RANGES_MAX      8
/* Passwords this long or longer are masked wherever they appear. */
#define SECRET_MIN_BARE 4

/* Byte ranges [lo, hi) of the connection string that hold a password. */
struct ranges {
	size_t lo[RANGES_MAX], hi[RANGES_MAX];
	unsigned n;
};

static void range_add(struct ranges *r, size_t lo, size_t hi)
{
	if (hi > lo && r->n < RANGES_MAX) {
		r->lo[r->n] = lo;
		r->hi[r->n] = hi;
		r->n++;
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* postgresql://[user[:password]@]...: the userinfo's password, taken up
 * to the last '@'; and ?password=... or &password=... of the query. */
static void uri_ranges(const char *dsn, size_t start, struct ranges *r)
{
	const char *at = strrchr(dsn + start, '@');
	if (at != NULL) {
		const char *colon = memchr(dsn + start, ':', (size_t)(at - (dsn + start)));
		if (colon != NULL)
			range_add(r, (size_t)(colon + 1 - dsn), (size_t)(at - dsn));
	}
	for (const char *p = dsn + start; (p = strstr(p, "password=")) != NULL; p++) {
		if (p == dsn || (p[-1] != '?' && p[-1] != '&'))
			continue;
		size_t lo = (size_t)(p + 9 - dsn);
		range_add(r, lo, lo + strcspn(dsn + lo, "&"));
	}
}

/* key = value pairs: the value of every password key, quoted or not. */
static void kv_ranges(const char *dsn, struct ranges *r)
{
	for (const char *p = dsn; (p = strstr(p, "password")) != NULL; p++) {
		if (p != dsn && !is_space(p[-1]))
			continue;
		const char *q = p + 8;
		while (is_space(*q))
			q++;
		if (*q != '=')
			continue;
		q++;
		while (is_space(*q))
			q++;
		if (*q == '\'') {
			const char *v = ++q;
			while (*q && *q != '\'')
				q += q[0] == '\\' && q[1] ? 2 : 1;
			range_add(r, (size_t)(v - dsn), (size_t)(q - dsn));
		} else {
			const char *v = q;
			while (*q && !is_space(*q))
				q++;
			range_add(r, (size_t)(v - dsn), (size_t)(q - dsn));
		}
	}
}

static void find_ranges(const char *dsn, struct ranges *r)
{
	memset(r, 0, sizeof *r);
	if (strncmp(dsn, "postgresql://", 13) == 0)
		uri_ranges(dsn, 13, r);
	else if (strncmp(dsn, "postgres://", 11) == 0)
		uri_ranges(dsn, 11, r);
	else
		kv_ranges(dsn, r);
}

/* A password as libpq reads it: %XX decoded (uri) or backslash escapes
 * undone (key = value). */
static void decode(const char *p, size_t n, bool uri, char *out, size_t outsz)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < outsz; i++) {
		if (uri && p[i] == '%' && i + 2 < n && ascii_hex_value((unsigned char)p[i + 1]) >= 0 &&
		    ascii_hex_value((unsigned char)p[i + 2]) >= 0) {
			out[k++] = (char)(ascii_hex_value((unsigned char)p[i + 1]) * 16 +
					  ascii_hex_value((unsigned char)p[i + 2]));
			i += 2;
		} else if (!uri && p[i] == '\\' && i + 1 < n) {
			out[k++] = p[++i];
		} else {
			out[k++] = p[i];
		}
	}
	out[k] = '\0';
}

/* Appends n bytes to out at *k, keeping room for the terminator. */
static void put(char *out, size_t outsz, size_t *k, const char *p, size_t n)
{
	for (size_t i = 0; i < n && *k + 1 < outsz; i++)
		out[(*k)++] = p[i];
	out[*k] = '\0';
}

static bool in_ranges(const struct ranges *r, size_t pos)
{
	for (unsigned i = 0; i < r->n; i++)
		if (pos >= r->lo[i] && pos < r->hi[i])
			return true;
	return false;
}

/* The first place where tok[0..n) occurs in dsn over a password, or -1. */
static long overlapping_at(const char *dsn, const struct ranges *r, const char *tok, size_t n)
{
	size_t dl = strlen(dsn);
	for (size_t at = 0; n > 0 && at + n <= dl; at++) {
		if (memcmp(dsn + at, tok, n) != 0)
			continue;
		for (size_t j = 0; j < n; j++)
			if (in_ranges(r, at + j))
				return (long)at;
	}
	return -1;
}

/* Whether tok[0..n) is one of the decoded passwords. */
static bool is_decoded(char *const *dec, unsigned ndec, const char *tok, size_t n)
{
	for (unsigned i = 0; i < ndec; i++)
		if (dec[i] != NULL && strlen(dec[i]) == n && memcmp(dec[i], tok, n) == 0)
			return true;
	return false;
}

/* Quoted tokens of msg that repeat the connection string, their password
 * bytes masked; tokens that are a password as decoded, masked whole. */
static void mask_tokens(const char *dsn, const struct ranges *r, char *const *dec, const char *msg, char *out,
			size_t outsz)
{
	size_t k = 0;
	out[0] = '\0';
	const char *p = msg;
	for (;;) {
		const char *open = strchr(p, '"');
		const char *close = open ? strchr(open + 1, '"') : NULL;
		if (close == NULL) {
			put(out, outsz, &k, p, strlen(p));
			return;
		}
		put(out, outsz, &k, p, (size_t)(open + 1 - p));
		size_t n = (size_t)(close - open - 1);
		long at = overlapping_at(dsn, r, open + 1, n);
		if (n > 0 && is_decoded(dec, r->n, open + 1, n)) {
			put(out, outsz, &k, MASK, strlen(MASK));
			n = 0;
		}
		for (size_t j = 0; j < n; j++) {
			if (at >= 0 && in_ranges(r, (size_t)at + j)) {
				if (j == 0 || !in_ranges(r, (size_t)at + j - 1))
					put(out, outsz, &k, MASK, strlen(MASK));
			} else {
				put(out, outsz, &k, open + 1 + j, 1);
			}
		}
		put(out, outsz, &k, "\"", 1);
		p = close + 1;
	}
}

/* Every occurrence of s[0..n) in buf (in place, within outsz) masked. */
static void mask_all(char *buf, size_t outsz, const char *s, size_t n)
{
	char *tmp = malloc(outsz);
	if (n == 0 || tmp == NULL) {
		free(tmp);
		return;
	}
	size_t k = 0;
	const char *p = buf;
	const char *hit;
	tmp[0] = '\0';
	while ((hit = memmem(p, strlen(p), s, n)) != NULL) {
		put(tmp, outsz, &k, p, (size_t)(hit - p));
		put(tmp, outsz, &k, MASK, strlen(MASK));
		p = hit + n;
	}
	put(tmp, outsz, &k, p, strlen(p));
	memcpy(buf, tmp, k + 1);
	free(tmp);
}

void secret_mask_dsn(const char *dsn, const char *msg, char *out, size_t outsz)
{
	if (outsz == 0)
		return;
	size_t k = 0;
	out[0] = '\0';
	if (dsn == NULL || dsn[0] == '\0') {
		put(out, outsz, &k, msg, strlen(msg));
		return;
	}
	/* Masked whole, then cut: a password at the cut is not half shown.
	 * A mask takes at most 3 bytes for each byte it replaces. */
	struct ranges r;
	find_ranges(dsn, &r);
	bool uri = strstr(dsn, "://") != NULL;
	size_t worksz = 3 * strlen(msg) + 16;
	char *work = malloc(worksz);
	char *dec[RANGES_MAX] = {NULL};
	bool ok = work != NULL;
	for (unsigned i = 0; i < r.n && ok; i++) {
		size_t n = r.hi[i] - r.lo[i];
		dec[i] = malloc(n + 1);
		ok = dec[i] != NULL;
		if (ok)
			decode(dsn + r.lo[i], n, uri, dec[i], n + 1);
	}
	if (ok) {
		mask_tokens(dsn, &r, dec, msg, work, worksz);
		/* Elsewhere, passwords of a few bytes are left: they would mask
		 * letters of every word, and libpq quotes what it repeats. */
		for (unsigned i = 0; i < r.n; i++) {
			size_t n = r.hi[i] - r.lo[i];
			if (n >= SECRET_MIN_BARE)
				mask_all(work, worksz, dsn + r.lo[i], n);
			if (strlen(dec[i]) >= SECRET_MIN_BARE)
				mask_all(work, worksz, dec[i], strlen(dec[i]));
		}
		put(out, outsz, &k, work, strlen(work));
	} else {
		static const char withheld[] = "(message withheld: out of memory)";
		put(out, outsz, &k, withheld, sizeof withheld - 1);
	}
	free(work);
	for (unsigned i = 0; i < r.n; i++)
		free(dec[i]);
}
