/* encode_datetime.c - ISO 8601 date, timestamp and timestamptz text to their binary forms, as PostgreSQL 15's date_in/timestamp_in/timestamptz_in would store them. */
#include "encode.h"

#include "../core/ascii.h"

/* Only the forms whose meaning does not depend on DateStyle, TimeZone or
 * the zone abbreviation tables are decided here:
 *
 *   [ws] YYYY-M[M]-D[D] [ws]                                   date, timestamp(tz)
 *   [ws] YYYY-M[M]-D[D] (ws+|T|t) H[H]:MM[:SS[.f{1,6}]] [ws] [offset] [ws]
 *   offset: Z | z | (+|-)H[H] | (+|-)HHMM | (+|-)H[H]:MM
 *   [ws] infinity | -infinity [ws]                           (any case)
 *
 * The year has four digits (0001-9999), which DecodeNumber always reads as
 * year-month-day whatever DateStyle says. Everything else (other field
 * orders, month names, BC, zone names, 'now', more than six fractional
 * digits, ...) is deferred to the server. */

#define USECS_PER_SEC        INT64_C(1000000)
#define USECS_PER_DAY        INT64_C(86400000000)
#define POSTGRES_EPOCH_JDATE 2451545 /* date2j(2000, 1, 1) */
#define MAX_TZDISP_HOUR      15      /* DecodeTimezone's limit */

struct iso_dt {
	int special; /* +1 infinity, -1 -infinity, 0 a date */
	int year, mon, mday;
	int hour, min, sec;
	int32_t usec;
	bool has_tz;
	int32_t tz_east_sec; /* offset east of UTC */
};

/* Reads at most maxn digits at *s; returns how many were read. */
static int read_digits(const char **s, const char *e, int maxn, int *val)
{
	int n = 0, v = 0;
	while (n < maxn && *s < e && ascii_is_digit((unsigned char)**s)) {
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	*val = v;
	return n;
}

static bool equal_icase(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && ascii_icase_equal_n(s, word, n);
}

static bool is_leap(int y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* PostgreSQL's date2j: Julian day number of a proleptic Gregorian date. */
static int date2j(int y, int m, int d)
{
	if (m > 2) {
		m += 1;
		y += 4800;
	} else {
		m += 13;
		y += 4799;
	}
	int century = y / 100;
	int julian = y * 365 - 32167;
	julian += y / 4 - century + century / 4;
	julian += 7834 * m / 256 + d;
	return julian;
}

/* time_overflows of PostgreSQL 14+: 24:00:00 and a leap second :60 are
 * accepted (they roll over), anything past 24:00:00 is not. */
static bool time_overflows(int hour, int min, int sec, int32_t usec)
{
	if (hour > 24 || min >= 60 || sec > 60)
		return true;
	return (((int64_t)hour * 60 + min) * 60 + sec) * USECS_PER_SEC + usec > USECS_PER_DAY;
}

/* A fraction of the seconds at *s, if one is there. False for "ss." and
 * seven or more digits (rounded through a double by the server), which
 * are left to it. */
static bool read_fraction(const char **s, const char *e, struct iso_dt *r)
{
	if (*s == e || **s != '.')
		return true;
	(*s)++;
	int frac, n = read_digits(s, e, 6, &frac);
	if (n == 0 || (*s < e && ascii_is_digit((unsigned char)**s)))
		return false;
	for (; n < 6; n++)
		frac *= 10;
	r->usec = frac;
	return true;
}

/* After the time at *s: white space and the offset, to the end. Sets
 * *time_err and *tz_err for values the server refuses; false for a form
 * left to the server. */
static inline bool read_time_tail(const char **sp, const char *e, struct iso_dt *r, bool *time_err, bool *tz_err)
{
	const char *s = *sp;
	*time_err = time_overflows(r->hour, r->min, r->sec, r->usec);
	while (s < e && ascii_is_space((unsigned char)*s))
		s++;
	if (s < e) {
		if (*s == 'Z' || *s == 'z') {
			s++;
			r->has_tz = true;
		} else if (*s == '+' || *s == '-') {
			bool west = *s == '-';
			s++;
			int v, hr, mi = 0, n = read_digits(&s, e, 4, &v);
			if (n == 1 || n == 2) {
				hr = v;
				if (s < e && *s == ':') {
					s++;
					if (read_digits(&s, e, 2, &mi) != 2)
						return false;
				}
			} else if (n == 4) {
				hr = v / 100;
				mi = v % 100;
			} else {
				return false;
			}
			r->has_tz = true;
			*tz_err = hr > MAX_TZDISP_HOUR || mi >= 60;
			r->tz_east_sec = (hr * 60 + mi) * 60 * (west ? -1 : 1);
		} else {
			return false;
		}
	}
	*sp = s;
	return s == e;
}

/* The usual head "YYYY-MM-DDTHH:MM:SS" (T, t or one space between date and
 * time) read at fixed places, into r: what the general reading below makes
 * of the same bytes. False, with nothing read, for any other start. */
static inline bool read_fixed_head(const char *s, const char *e, struct iso_dt *r)
{
	if (e - s < 19)
		return false;
	const unsigned char *u = (const unsigned char *)s;
	if (u[4] != '-' || u[7] != '-' || u[13] != ':' || u[16] != ':' ||
	    (u[10] != 'T' && u[10] != 't' && u[10] != ' '))
		return false;
	/* Each digit's value, a byte that is no digit 10 or more: tested all
	 * at once, without a branch per digit. */
	unsigned y0 = u[0] - '0', y1 = u[1] - '0', y2 = u[2] - '0', y3 = u[3] - '0', mo0 = u[5] - '0', mo1 = u[6] - '0',
		 d0 = u[8] - '0', d1 = u[9] - '0', h0 = u[11] - '0', h1 = u[12] - '0', mi0 = u[14] - '0',
		 mi1 = u[15] - '0', s0 = u[17] - '0', s1 = u[18] - '0';
	if ((y0 > 9) | (y1 > 9) | (y2 > 9) | (y3 > 9) | (mo0 > 9) | (mo1 > 9) | (d0 > 9) | (d1 > 9) | (h0 > 9) |
	    (h1 > 9) | (mi0 > 9) | (mi1 > 9) | (s0 > 9) | (s1 > 9))
		return false;
	r->year = (int)(y0 * 1000 + y1 * 100 + y2 * 10 + y3);
	r->mon = (int)(mo0 * 10 + mo1);
	r->mday = (int)(d0 * 10 + d1);
	r->hour = (int)(h0 * 10 + h1);
	r->min = (int)(mi0 * 10 + mi1);
	r->sec = (int)(s0 * 10 + s1);
	return true;
}

/* ValidateDate's test of the parsed date. */
static inline bool date_valid(const struct iso_dt *r)
{
	return r->year != 0 && r->mon >= 1 && r->mon <= 12 && r->mday >= 1 && r->mday <= days_in_month(r->year, r->mon);
}

/* Parses one of the forms above. ENC_REJECT only for errors the server
 * certainly reports, in the order it finds them: the time field, then the
 * offset, then the date (ValidateDate runs after all fields are read). */
static enum enc_status parse_iso(const char *p, size_t len, bool date_only, struct iso_dt *r, char *msg, size_t msgsz)
{
	const char *s = p, *e = p + len;
	while (s < e && ascii_is_space((unsigned char)*s))
		s++;
	while (e > s && ascii_is_space((unsigned char)e[-1]))
		e--;
	*r = (struct iso_dt){0};
	bool time_err = false, tz_err = false;
	if (!date_only && read_fixed_head(s, e, r)) {
		s += 19;
		if (!read_fraction(&s, e, r) || !read_time_tail(&s, e, r, &time_err, &tz_err))
			return ENC_DEFER;
	} else {
		if (equal_icase(s, (size_t)(e - s), "infinity")) {
			r->special = 1;
			return ENC_OK;
		}
		if (equal_icase(s, (size_t)(e - s), "-infinity")) {
			r->special = -1;
			return ENC_OK;
		}
		if (read_digits(&s, e, 4, &r->year) != 4 || s == e || *s != '-')
			return ENC_DEFER;
		s++;
		if (read_digits(&s, e, 2, &r->mon) == 0 || s == e || *s != '-')
			return ENC_DEFER;
		s++;
		if (read_digits(&s, e, 2, &r->mday) == 0)
			return ENC_DEFER;
		if (s < e) {
			if (date_only)
				return ENC_DEFER;
			if (*s == 'T' || *s == 't') {
				s++;
			} else if (ascii_is_space((unsigned char)*s)) {
				while (s < e && ascii_is_space((unsigned char)*s))
					s++;
			} else {
				return ENC_DEFER;
			}
			if (read_digits(&s, e, 2, &r->hour) == 0 || s == e || *s != ':')
				return ENC_DEFER;
			s++;
			if (read_digits(&s, e, 2, &r->min) != 2)
				return ENC_DEFER;
			if (s < e && *s == ':') {
				s++;
				if (read_digits(&s, e, 2, &r->sec) != 2 || !read_fraction(&s, e, r))
					return ENC_DEFER;
			}
			if (!read_time_tail(&s, e, r, &time_err, &tz_err))
				return ENC_DEFER;
		}
	}

	bool date_err = !date_valid(r);
	if (time_err || (!tz_err && date_err)) {
		encode_set_msg(msg, msgsz, "date/time field value out of range: \"%.*s\"", (int)len, p);
		return ENC_REJECT;
	}
	if (tz_err) {
		encode_set_msg(msg, msgsz, "time zone displacement out of range: \"%.*s\"", (int)len, p);
		return ENC_REJECT;
	}
	return ENC_OK;
}

/* The usual timestamp read at fixed places, without white space:
 * "YYYY-MM-DD(T|t| )HH:MM:SS[.f{1,6}][Z|z|(+|-)HH[[:]MM]]", into r as
 * parse_iso reads the same bytes. False for every other form and for every
 * value the server refuses or rolls over (year 0, a day past the month's
 * end, 24:00:00, a leap second, an offset out of range): parse_iso then
 * decides, with its messages. The fraction and the offset are read here
 * rather than through read_fraction and read_time_tail, which cost 1% more
 * of a load's CPU; test_timestamp_fixed_head holds the two readings equal. */
static inline bool read_usual(const char *p, size_t len, struct iso_dt *r)
{
	if (len > 32 || !read_fixed_head(p, p + len, r))
		return false;
	const unsigned char *u = (const unsigned char *)p + 19, *e = (const unsigned char *)p + len;
	r->special = 0;
	r->usec = 0;
	r->has_tz = false;
	r->tz_east_sec = 0;
	if (u < e && *u == '.') {
		static const int32_t scale[7] = {0, 100000, 10000, 1000, 100, 10, 1};
		int32_t frac = 0;
		int n = 0;
		for (u++; u < e && n < 7 && (unsigned)(*u - '0') <= 9; u++, n++)
			frac = frac * 10 + (*u - '0');
		if (n == 0 || n > 6)
			return false;
		r->usec = frac * scale[n];
	}
	size_t left = (size_t)(e - u);
	if (left == 1 && (*u == 'Z' || *u == 'z')) {
		r->has_tz = true;
	} else if (left > 0) {
		if ((*u != '+' && *u != '-') || (left != 3 && left != 5 && left != 6) || (left == 6 && u[3] != ':'))
			return false;
		const unsigned char *m = u + (left == 6 ? 4 : 3);
		unsigned h0 = u[1] - '0', h1 = u[2] - '0', m0 = left == 3 ? 0 : m[0] - '0',
			 m1 = left == 3 ? 0 : m[1] - '0';
		if ((h0 > 9) | (h1 > 9) | (m0 > 9) | (m1 > 9))
			return false;
		int hr = (int)(h0 * 10 + h1), mi = (int)(m0 * 10 + m1);
		if (hr > MAX_TZDISP_HOUR || mi >= 60)
			return false;
		r->has_tz = true;
		r->tz_east_sec = (hr * 60 + mi) * 60 * (*u == '-' ? -1 : 1);
	}
	return date_valid(r) && r->hour < 24 && r->min < 60 && r->sec < 60;
}

enum enc_status encode_parse_date(const char *p, size_t len, struct enc_date *d, char *msg, size_t msgsz)
{
	struct iso_dt t;
	enum enc_status st = parse_iso(p, len, true, &t, msg, msgsz);
	if (st == ENC_OK)
		*d = (struct enc_date){.special = t.special, .year = t.year, .mon = t.mon, .mday = t.mday};
	return st;
}

enum enc_status encode_date(const char *p, size_t len, struct buf *out, char *msg, size_t msgsz)
{
	struct enc_date t;
	enum enc_status st = encode_parse_date(p, len, &t, msg, msgsz);
	if (st != ENC_OK)
		return st;
	int32_t days;
	if (t.special > 0)
		days = INT32_MAX; /* DATE_NOEND */
	else if (t.special < 0)
		days = INT32_MIN; /* DATE_NOBEGIN */
	else
		days = date2j(t.year, t.mon, t.mday) - POSTGRES_EPOCH_JDATE;
	buf_reserve(out, 8);
	buf_put_be32(out, 4);
	buf_put_be32(out, (uint32_t)days);
	return ENC_OK;
}

/* AdjustTimestampForTypmod: timestamp(p) rounds half away from zero to p
 * fractional digits. */
static int64_t round_to_typmod(int64_t ts, int32_t typmod)
{
	static const int64_t scales[6] = {1000000, 100000, 10000, 1000, 100, 10};
	int64_t sc = scales[typmod], off = sc / 2;
	if (ts >= 0)
		return ((ts + off) / sc) * sc;
	return -((((-ts) + off) / sc) * sc);
}

enum enc_status encode_timestamp(const char *p, size_t len, int32_t typmod, bool with_tz, bool tz_utc, struct buf *out,
				 char *msg, size_t msgsz)
{
	if (typmod < -1 || typmod > 6)
		return ENC_DEFER;
	struct iso_dt t;
	if (!read_usual(p, len, &t)) {
		enum enc_status st = parse_iso(p, len, false, &t, msg, msgsz);
		if (st != ENC_OK)
			return st;
	}
	int64_t ts;
	if (t.special > 0) {
		ts = INT64_MAX; /* TIMESTAMP_NOEND */
	} else if (t.special < 0) {
		ts = INT64_MIN; /* TIMESTAMP_NOBEGIN */
	} else {
		/* timestamp without time zone ignores an offset; timestamptz
		 * without one takes the session zone, known only when UTC. */
		if (with_tz && !t.has_tz && !tz_utc)
			return ENC_DEFER;
		int64_t days = date2j(t.year, t.mon, t.mday) - POSTGRES_EPOCH_JDATE;
		int64_t tod = (((int64_t)t.hour * 60 + t.min) * 60 + t.sec) * USECS_PER_SEC + t.usec;
		ts = days * USECS_PER_DAY + tod;
		if (with_tz)
			ts -= (int64_t)t.tz_east_sec * USECS_PER_SEC;
		if (typmod >= 0 && typmod < 6)
			ts = round_to_typmod(ts, typmod);
	}
	buf_be64_at(buf_be32_at(buf_claim(out, 12), 8), (uint64_t)ts);
	out->len += 12;
	return ENC_OK;
}
