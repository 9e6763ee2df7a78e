/* gen_put.h - the text of generated values, written by hand into a buffer with room to spare: integers, decimals, dates, timestamps with their offsets, uuids. For gen.c alone; static inline because gen writes millions of values a second. */
#ifndef EDONU_GEN_PUT_H
#define EDONU_GEN_PUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				     "8081828384858687888990919293949596979899";

static inline char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	char *t = tmp + sizeof tmp;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		t -= 2;
		memcpy(t, digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		t -= 2;
		memcpy(t, digit_pairs + 2 * v, 2);
	} else {
		*--t = (char)('0' + v);
	}
	size_t n = (size_t)(tmp + sizeof tmp - t);
	memcpy(p, t, n);
	return p + n;
}

static inline char *put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return put_u64(p, (uint64_t)v);
}

/* v zero-padded to width digits (v < 10^width). */
static inline char *put_padded(char *p, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* A fixed-point decimal: units / 10^scale, e.g. 12990 scale 2 -> 129.90. */
static inline char *put_decimal(char *p, int64_t units, int scale)
{
	uint64_t u = units < 0 ? (uint64_t)0 - (uint64_t)units : (uint64_t)units;
	if (units < 0)
		*p++ = '-';
	uint64_t pow = 1;
	for (int i = 0; i < scale; i++)
		pow *= 10;
	p = put_u64(p, u / pow);
	*p++ = '.';
	return put_padded(p, u % pow, scale);
}

#define PUT_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

static inline char *put_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* Proleptic Gregorian date of a day count since 1970-01-01 (Howard
 * Hinnant's civil_from_days). */
static inline void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static inline char *put_date(char *p, int64_t days)
{
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	p = put_padded(p, (uint64_t)y, 4);
	*p++ = '-';
	p = put_padded(p, m, 2);
	*p++ = '-';
	return put_padded(p, d, 2);
}

/* Offsets (minutes east of UTC) seen in a multinational ERP; the first is
 * written as Z. */
static const int tz_offsets_min[] = {0, 60, 120, 60, -300, 330, 540, -480, 0, 60, -210, 345, 0, 120};
#define TZ_OFFSETS (sizeof tz_offsets_min / sizeof tz_offsets_min[0])

/* An instant (ms since the epoch, UTC) as local time: "2026-03-14<sep>09:26:53.123",
 * then the offset when tz_idx >= 0. impossible_date puts 2026-02-30 in place
 * of the date. */
static inline char *put_timestamp(char *p, int64_t utc_ms, int tz_idx, char sep, bool impossible_date)
{
	int off = tz_idx >= 0 ? tz_offsets_min[tz_idx] : 0;
	int64_t local_ms = utc_ms + (int64_t)off * 60000;
	int64_t secs = local_ms / 1000;
	int64_t days = secs / 86400;
	int64_t sod = secs % 86400;
	if (impossible_date)
		p = PUT_LIT(p, "2026-02-30");
	else
		p = put_date(p, days);
	*p++ = sep;
	p = put_padded(p, (uint64_t)(sod / 3600), 2);
	*p++ = ':';
	p = put_padded(p, (uint64_t)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put_padded(p, (uint64_t)(sod % 60), 2);
	*p++ = '.';
	p = put_padded(p, (uint64_t)(local_ms % 1000), 3);
	if (tz_idx < 0)
		return p;
	if (tz_idx == 0)
		return PUT_LIT(p, "Z");
	*p++ = off < 0 ? '-' : '+';
	unsigned a = (unsigned)(off < 0 ? -off : off);
	p = put_padded(p, a / 60, 2);
	*p++ = ':';
	return put_padded(p, a % 60, 2);
}

static inline char *put_uuid(char *p, uint64_t hi, uint64_t lo)
{
	static const char hex[] = "0123456789abcdef";
	/* Version 4, variant 1, as a random UUID would be. */
	hi = (hi & ~0xf000ull) | 0x4000ull;
	lo = (lo & ~(3ull << 62)) | (2ull << 62);
	for (int i = 0; i < 16; i++) {
		unsigned b = (unsigned)((i < 8 ? hi >> (56 - 8 * i) : lo >> (56 - 8 * (i - 8))) & 0xff);
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b >> 4];
		*p++ = hex[b & 15];
	}
	return p;
}

#endif
