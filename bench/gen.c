/* gen.c - deterministic synthetic ERP records: the orders and wide shapes as CSV or NDJSON, with bad records on request. */
#include "gen.h"
#include "gen_put.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

/* Output is formatted by hand into one buffer and written in blocks: at a
 * million records a second, printf per field would be the bottleneck. */
#define GEN_BUF_BYTES        ((size_t)1 << 20)
/* No record is longer than this (the longest wide record is about 1.2 KiB),
 * so a record is always formatted without bounds checks once this much room
 * is left. */
#define GEN_RECORD_BYTES_MAX ((size_t)8 << 10)
#define GEN_ZSTD_LEVEL       3

/* ---- columns ---------------------------------------------------------- */

struct gen_column {
	const char *name;
	const char *type;
};

static const struct gen_column orders_columns[] = {
    {"tenant_id", "integer"}, {"order_id", "bigint"},  {"customer_id", "bigint"},
    {"sku", "varchar(32)"},   {"quantity", "integer"}, {"unit_price", "numeric(12,2)"},
    {"currency", "char(3)"},  {"status", "text"},      {"created_at", "timestamptz"},
    {"note", "text"},
};

static const struct gen_column wide_columns[] = {
    {"id", "bigint"},
    {"line_no", "smallint"},
    {"warehouse_id", "integer"},
    {"product_id", "bigint"},
    {"weight_kg", "real"},
    {"fx_rate", "double precision"},
    {"net_amount", "numeric(18,4)"},
    {"is_paid", "boolean"},
    {"description", "text"},
    {"customer_name", "varchar(64)"},
    {"country", "char(2)"},
    {"due_date", "date"},
    {"booked_at", "timestamp"},
    {"updated_at", "timestamptz"},
    {"external_id", "uuid"},
    {"attributes", "jsonb"},
    {"signature", "bytea"},
    {"discount_pct", "smallint"},
    {"batch_no", "integer"},
    {"tax_amount", "numeric(18,4)"},
    {"volume_m3", "double precision"},
    {"is_gift", "boolean"},
    {"comment", "text"},
    {"region", "varchar(16)"},
    {"ship_date", "date"},
    {"shipped_at", "timestamp"},
    {"delivered_at", "timestamptz"},
    {"carrier_ref", "uuid"},
    {"tags", "jsonb"},
    {"barcode", "varchar(20)"},
};

#define ORDERS_NCOLS (sizeof orders_columns / sizeof orders_columns[0])
#define WIDE_NCOLS   (sizeof wide_columns / sizeof wide_columns[0])
_Static_assert(ORDERS_NCOLS == 10, "the orders shape has 10 columns");
_Static_assert(WIDE_NCOLS == 30, "the wide shape has 30 columns");

static const struct gen_column *gen_columns(enum gen_shape shape, size_t *n)
{
	if (shape == GEN_WIDE) {
		*n = WIDE_NCOLS;
		return wide_columns;
	}
	*n = ORDERS_NCOLS;
	return orders_columns;
}

uint32_t gen_shape_columns(enum gen_shape shape)
{
	size_t n;
	gen_columns(shape, &n);
	return (uint32_t)n;
}

int gen_parse_shape(const char *name, enum gen_shape *shape)
{
	if (strcmp(name, "orders") == 0)
		*shape = GEN_ORDERS;
	else if (strcmp(name, "wide") == 0)
		*shape = GEN_WIDE;
	else
		return -1;
	return 0;
}

int gen_table_sql(enum gen_shape shape, const char *table, char *out, size_t outsz)
{
	size_t n;
	const struct gen_column *c = gen_columns(shape, &n);
	size_t off = 0;
	int w = snprintf(out, outsz, "CREATE TABLE %s (", table);
	if (w < 0 || (size_t)w >= outsz)
		return -1;
	off = (size_t)w;
	for (size_t i = 0; i < n; i++) {
		w = snprintf(out + off, outsz - off, "\n    %s %s%s", c[i].name, c[i].type, i + 1 < n ? "," : "\n);");
		if (w < 0 || (size_t)w >= outsz - off)
			return -1;
		off += (size_t)w;
	}
	return (int)off;
}

/* ---- randomness ------------------------------------------------------- */

/* splitmix64: each record seeds its own generator from (seed, record
 * number), so a record's values depend on nothing else, whatever the
 * branches taken for earlier records. */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

/* ---- one record, CSV or NDJSON ---------------------------------------- */

/* Writes fields of one record in either format; names come from the shape's
 * column table, so NDJSON keys and the CSV header cannot disagree. */
struct rec {
	char *p;
	const struct gen_column *cols;
	uint32_t col;
	bool json;
};

/* Starts the next field: a separator and, in NDJSON, its key. */
static inline void rec_key(struct rec *r)
{
	const char *name = r->cols[r->col].name;
	if (r->json) {
		*r->p++ = r->col == 0 ? '{' : ',';
		*r->p++ = '"';
		r->p = put_mem(r->p, name, strlen(name));
		*r->p++ = '"';
		*r->p++ = ':';
	} else if (r->col > 0) {
		*r->p++ = ',';
	}
	r->col++;
}

/* Skips a column: an NDJSON key left out (json_populate_record gives NULL). */
static inline void rec_skip(struct rec *r)
{
	r->col++;
}

static inline void rec_int(struct rec *r, int64_t v)
{
	rec_key(r);
	r->p = put_i64(r->p, v);
}

static inline void rec_decimal(struct rec *r, int64_t units, int scale)
{
	rec_key(r);
	r->p = put_decimal(r->p, units, scale);
}

/* A value written as is in CSV and as a string in NDJSON; s has nothing to
 * quote or escape (dates, codes, UUIDs). */
static inline void rec_plain(struct rec *r, const char *s, size_t n)
{
	rec_key(r);
	if (r->json)
		*r->p++ = '"';
	r->p = put_mem(r->p, s, n);
	if (r->json)
		*r->p++ = '"';
}

/* Any text: CSV-quoted when it holds a delimiter, quote, line break or is
 * empty (an unquoted empty field would be NULL); JSON-escaped in NDJSON. */
static void rec_text(struct rec *r, const char *s, size_t n)
{
	rec_key(r);
	char *p = r->p;
	if (r->json) {
		*p++ = '"';
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c == '"' || c == '\\') {
				*p++ = '\\';
				*p++ = (char)c;
			} else if (c == '\n') {
				p = PUT_LIT(p, "\\n");
			} else if (c == '\r') {
				p = PUT_LIT(p, "\\r");
			} else if (c == '\t') {
				p = PUT_LIT(p, "\\t");
			} else if (c < 0x20) {
				p = PUT_LIT(p, "\\u00");
				*p++ = "0123456789abcdef"[c >> 4];
				*p++ = "0123456789abcdef"[c & 15];
			} else {
				*p++ = (char)c;
			}
		}
		*p++ = '"';
		r->p = p;
		return;
	}
	bool quote = n == 0;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote) {
		r->p = put_mem(p, s, n);
		return;
	}
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			*p++ = '"';
		*p++ = s[i];
	}
	*p++ = '"';
	r->p = p;
}

/* NULL: an unquoted empty CSV field; in NDJSON null or, on odd coin flips,
 * a missing key (both NULL for json_populate_record). */
static inline void rec_null(struct rec *r, uint64_t coin)
{
	if (r->json && (coin & 1)) {
		rec_skip(r);
		return;
	}
	rec_key(r);
	if (r->json)
		r->p = PUT_LIT(r->p, "null");
}

static inline void rec_bool(struct rec *r, uint64_t v)
{
	rec_key(r);
	bool b = v & 1;
	if (r->json) {
		r->p = b ? PUT_LIT(r->p, "true") : PUT_LIT(r->p, "false");
		return;
	}
	/* The spellings boolin accepts, varied. */
	static const char *const spell[2][3] = {{"f", "false", "0"}, {"t", "true", "1"}};
	const char *s = spell[b][(v >> 1) % 3];
	r->p = put_mem(r->p, s, strlen(s));
}

/* A timestamp: bare in CSV, a string in NDJSON. */
static inline void rec_timestamp(struct rec *r, int64_t utc_ms, int tz_idx, char sep, bool impossible)
{
	rec_key(r);
	if (r->json)
		*r->p++ = '"';
	r->p = put_timestamp(r->p, utc_ms, tz_idx, sep, impossible);
	if (r->json)
		*r->p++ = '"';
}

static inline void rec_end(struct rec *r)
{
	if (r->json)
		*r->p++ = '}';
	*r->p++ = '\n';
}

/* ---- value pools -------------------------------------------------------- */

static const char *const currencies[] = {"EUR", "USD", "GBP", "NGN"};
static const char *const statuses[] = {"new", "paid", "shipped", "cancelled"};

/* Notes: mostly short text, some with commas, quotes, line breaks and
 * non-ASCII characters, so that CSV quoting and UTF-8 are exercised. */
static const char *const notes_plain[] = {
    "Leave at reception", "Urgent",           "Call before delivery", "Gift wrap",    "Backorder",
    "Customer pickup",    "Partial shipment", "Invoice by email",     "Repeat order", "Net 30",
};
static const char *const notes_special[] = {
    "Deliver to dock 3, ask for \"Frank\"",
    "Fragile, handle with care",
    "Size \"XL\", colour blue",
    "Line one\nline two",
    "Attn: accounts\nRef 2231, PO \"A-17\"",
    "Caf\xc3\xa9 M\xc3\xbcller GmbH",
    "Zahlung \xc3\xbc"
    "ber \xe2\x82\xa6 5000",
    "\xe6\x97\xa5\xe6\x9c\xac\xe3\x81\xb8\xe5\x87\xba\xe8\x8d\xb7",
    "Stra\xc3\x9f"
    "e 5, M\xc3\xbcnchen",
    "\xe2\x82\xa6 paid in cash\n\xe2\x80\x94 Lagos office",
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A Latin-1 é where UTF-8 is required: what a mis-encoded export contains. */
static const char bad_note[] = "Caf\xe9 au lait";

/* Writes a note drawn from v (one random word): NULL, empty, special or
 * plain text; invalid_utf8 writes the mis-encoded note instead. */
static void rec_note(struct rec *r, uint64_t v, bool invalid_utf8)
{
	if (invalid_utf8) {
		rec_text(r, bad_note, sizeof bad_note - 1);
		return;
	}
	unsigned pick = (unsigned)(v % 100);
	v /= 100;
	if (pick < 10) {
		rec_null(r, v);
	} else if (pick < 18) {
		rec_text(r, "", 0);
	} else if (pick < 38) {
		const char *s = notes_special[v % COUNT(notes_special)];
		rec_text(r, s, strlen(s));
	} else {
		const char *s = notes_plain[v % COUNT(notes_plain)];
		v /= COUNT(notes_plain);
		if (v & 1) {
			/* A reference number makes most notes distinct. */
			char tmp[64];
			size_t n = strlen(s);
			memcpy(tmp, s, n);
			char *t = PUT_LIT(tmp + n, " #");
			t = put_u64(t, (v >> 1) % 100000);
			rec_text(r, tmp, (size_t)(t - tmp));
		} else {
			rec_text(r, s, strlen(s));
		}
	}
}

/* Instants between 2025-01-01 and 2027-01-01 UTC. */
#define TS_BASE_MS 1735689600000ll
#define TS_SPAN_MS (731ll * 86400 * 1000)

static int gen_bad_kind(const struct gen_opts *o, uint64_t n)
{
	if (o->bad_every == 0 || n % o->bad_every != 0)
		return -1;
	return (int)((n / o->bad_every - 1) % GEN_BAD_KINDS);
}

static char *gen_order(char *p, const struct gen_opts *o, uint64_t n, uint64_t id_base, int bad)
{
	uint64_t s = o->seed * 0xd1b54a32d192ed03ull ^ n;
	struct rec r = {.p = p, .cols = orders_columns, .json = o->format == FORMAT_NDJSON};
	uint64_t a = rng_next(&s), b = rng_next(&s), c = rng_next(&s), d = rng_next(&s);

	rec_int(&r, (int64_t)(1 + a % 50));
	rec_int(&r, (int64_t)(id_base + n));
	rec_int(&r, (int64_t)(100000 + (a >> 8) % 900000));
	char sku[16];
	char *t = PUT_LIT(sku, "SKU-");
	t = put_padded(t, (b >> 20) % 1000000, 6);
	rec_plain(&r, sku, (size_t)(t - sku));
	/* Mostly small quantities, sometimes bulk. */
	uint64_t q = b % 8 == 0 ? 1 + (b >> 3) % 5000 : 1 + (b >> 3) % 12;
	if (bad == GEN_BAD_NOT_A_NUMBER)
		rec_plain(&r, "12x", 3);
	else
		rec_int(&r, (int64_t)q);
	if (bad == GEN_BAD_NUMERIC_OVERFLOW)
		rec_decimal(&r, 10000000000000ll, 2); /* 1e11: numeric(12,2) stops below 1e10 */
	else
		rec_decimal(&r, (int64_t)(50 + (c % 8 == 0 ? c % 99999999 : c % 250000)), 2);
	if (bad == GEN_BAD_TOO_LONG)
		rec_plain(&r, "EURO", 4);
	else
		rec_plain(&r, currencies[(c >> 32) % 4], 3);
	const char *st = statuses[(c >> 40) % 4];
	rec_plain(&r, st, strlen(st));
	rec_timestamp(&r, TS_BASE_MS + (int64_t)(d % (uint64_t)TS_SPAN_MS), (int)((d >> 40) % TZ_OFFSETS), 'T',
		      bad == GEN_BAD_IMPOSSIBLE_DATE);
	if (bad == GEN_BAD_FIELD_COUNT) {
		/* CSV: the note column is missing. NDJSON: the object is cut
		 * off before its closing brace, which no JSON parser accepts. */
		*r.p++ = '\n';
		return r.p;
	}
	rec_note(&r, rng_next(&s), bad == GEN_BAD_INVALID_UTF8);
	rec_end(&r);
	return r.p;
}

static const char *const customer_names[] = {
    "M\xc3\xbcller GmbH",  "Okafor Trading Ltd", "Acme Corp",      "\xe5\xb1\xb1\xe7\x94\xb0\xe5\x95\x86\xe4\xba\x8b",
    "Dupont & Fils, SARL", "Adeyemi Foods",      "Smith \"Bros\"", "Nordlicht AB",
};
static const char *const countries[] = {"DE", "NG", "GB", "US", "FR", "JP", "SE", "KE"};
static const char *const regions[] = {"EMEA", "APAC", "AMER", "Lagos-Island", "DACH", "Nordics"};
static const char *const attr_colors[] = {"red", "blue", "black", "white"};

/* A JSON column's value (an object or array written as tmp[0..len)): as
 * JSON in NDJSON, as a CSV-quoted text value in CSV. */
static void rec_json(struct rec *r, const char *p, size_t len)
{
	if (r->json) {
		rec_key(r);
		r->p = put_mem(r->p, p, len);
	} else {
		rec_text(r, p, len);
	}
}

/* The wide shape's attributes jsonb: an object of color, size and fragile. */
static char *put_wide_attributes(char *t, uint64_t v)
{
	t = PUT_LIT(t, "{\"color\": \"");
	const char *col = attr_colors[v % COUNT(attr_colors)];
	t = put_mem(t, col, strlen(col));
	t = PUT_LIT(t, "\", \"size\": ");
	t = put_u64(t, (v >> 8) % 60);
	t = PUT_LIT(t, ", \"fragile\": ");
	t = (v >> 20) & 1 ? PUT_LIT(t, "true") : PUT_LIT(t, "false");
	return PUT_LIT(t, "}");
}

/* The wide shape's signature bytea in hex form: the 16 bytes of lo, hi. */
static char *put_wide_signature(char *t, uint64_t lo, uint64_t hi)
{
	t = PUT_LIT(t, "\\x");
	for (int i = 0; i < 16; i++) {
		unsigned byte = (unsigned)(((i < 8 ? lo : hi) >> (8 * (i % 8))) & 0xff);
		*t++ = "0123456789abcdef"[byte >> 4];
		*t++ = "0123456789abcdef"[byte & 15];
	}
	return t;
}

/* The wide shape's tags jsonb: an array of zero to three tags. */
static char *put_wide_tags(char *t, uint64_t v)
{
	static const char *const tag_names[] = {"urgent", "b2b", "export", "promo"};
	t = PUT_LIT(t, "[");
	unsigned ntags = (unsigned)(v % 4);
	for (unsigned i = 0; i < ntags; i++) {
		if (i)
			t = PUT_LIT(t, ", ");
		*t++ = '"';
		const char *tn = tag_names[(v >> (4 + 2 * i)) % 4];
		t = put_mem(t, tn, strlen(tn));
		*t++ = '"';
	}
	*t++ = ']';
	return t;
}

/* The wide shape's volume_m3 in exponent form, which float8in accepts. */
static void rec_volume(struct rec *r, uint64_t v)
{
	rec_key(r);
	r->p = put_u64(r->p, 1 + v % 9);
	*r->p++ = '.';
	r->p = put_padded(r->p, (v >> 8) % 1000, 3);
	r->p = PUT_LIT(r->p, "e-");
	r->p = put_u64(r->p, 1 + (v >> 20) % 6);
}

/* The wide shape's first columns: ids and amounts, up to the customer. */
static void wide_numbers(struct rec *r, const uint64_t *v, uint64_t id, int bad)
{
	rec_int(r, (int64_t)id);
	rec_int(r, (int64_t)(1 + v[0] % 999));
	if (bad == GEN_BAD_NOT_A_NUMBER)
		rec_plain(r, "12x", 3);
	else
		rec_int(r, (int64_t)(v[1] % 4000000000u) - 2000000000);
	rec_int(r, (int64_t)(v[2] >> 2));
	rec_decimal(r, (int64_t)(v[3] % 1000000), 3);
	rec_decimal(r, (int64_t)(v[4] % 5000000000ull), 9);
	if (bad == GEN_BAD_NUMERIC_OVERFLOW)
		rec_decimal(r, 1000000000000000000ll, 4); /* 1e14: numeric(18,4) stops below it */
	else
		rec_decimal(r, (int64_t)(v[5] % 2000000000000000ull) - 1000000000000000ll, 4);
	rec_bool(r, v[6]);
	if (bad == GEN_BAD_INVALID_UTF8)
		rec_note(r, 0, true);
	else
		rec_note(r, v[7], false);
}

/* The wide shape's customer, country, dates, timestamps, uuid, attributes
 * and signature; *day and *ms are the record's date and time for the
 * columns after them. */
static void wide_customer(struct rec *r, const uint64_t *v, int bad, int64_t *day, int64_t *ms)
{
	char tmp[512];
	char *t;
	const char *cn = customer_names[v[8] % COUNT(customer_names)];
	rec_text(r, cn, strlen(cn));
	if (bad == GEN_BAD_TOO_LONG)
		rec_plain(r, "DEU", 3);
	else
		rec_plain(r, countries[(v[8] >> 8) % COUNT(countries)], 2);
	*day = TS_BASE_MS / 86400000 + (int64_t)(v[9] % 731);
	if (bad == GEN_BAD_IMPOSSIBLE_DATE) {
		rec_plain(r, "2026-02-30", 10);
	} else {
		t = put_date(tmp, *day);
		rec_plain(r, tmp, (size_t)(t - tmp));
	}
	*ms = TS_BASE_MS + (int64_t)(v[10] % (uint64_t)TS_SPAN_MS);
	rec_timestamp(r, *ms, -1, ' ', false);
	rec_timestamp(r, *ms + (int64_t)(v[11] % 86400000), (int)((v[11] >> 40) % TZ_OFFSETS), 'T', false);
	t = put_uuid(tmp, v[12], v[13]);
	rec_plain(r, tmp, (size_t)(t - tmp));
	t = put_wide_attributes(tmp, v[14]);
	rec_json(r, tmp, (size_t)(t - tmp));
	t = put_wide_signature(tmp, v[15], v[16]);
	rec_text(r, tmp, (size_t)(t - tmp));
}

/* The wide shape's last columns, from the stock figures to the tags. */
static void wide_tail(struct rec *r, const uint64_t *v, int64_t day, int64_t ms)
{
	char tmp[512];
	char *t;
	rec_int(r, v[17] % 16 == 0 ? -32768 : (int64_t)(v[17] % 101));
	if (v[18] % 5 == 0)
		rec_null(r, v[18] >> 8);
	else
		rec_int(r, (int64_t)(v[18] % 2147483647u));
	rec_decimal(r, (int64_t)(v[19] % 100000000000ull), 4);
	rec_volume(r, v[20]);
	if (v[21] % 4 == 0)
		rec_null(r, v[21] >> 8);
	else
		rec_bool(r, v[21] >> 2);
	if (v[7] % 3 == 0)
		rec_null(r, v[7] >> 8);
	else
		rec_note(r, v[7] >> 2, false);
	const char *rg = regions[v[22] % COUNT(regions)];
	rec_text(r, rg, strlen(rg));
	t = put_date(tmp, day + (int64_t)(v[22] >> 8) % 20);
	rec_plain(r, tmp, (size_t)(t - tmp));
	rec_timestamp(r, ms + 86400000, -1, ' ', false);
	rec_timestamp(r, ms + 3 * 86400000 + (int64_t)(v[23] % 86400000), (int)((v[23] >> 40) % TZ_OFFSETS), 'T',
		      false);
	t = put_uuid(tmp, v[23], v[12] ^ v[13]);
	rec_plain(r, tmp, (size_t)(t - tmp));
	t = put_wide_tags(tmp, v[16]);
	rec_json(r, tmp, (size_t)(t - tmp));
}

static char *gen_wide(char *p, const struct gen_opts *o, uint64_t n, uint64_t id_base, int bad)
{
	uint64_t s = o->seed * 0xd1b54a32d192ed03ull ^ n ^ 0x5157494445ull;
	struct rec r = {.p = p, .cols = wide_columns, .json = o->format == FORMAT_NDJSON};
	uint64_t v[24];
	for (size_t i = 0; i < COUNT(v); i++)
		v[i] = rng_next(&s);
	int64_t day, ms;
	wide_numbers(&r, v, id_base + n, bad);
	wide_customer(&r, v, bad, &day, &ms);
	wide_tail(&r, v, day, ms);
	if (bad == GEN_BAD_FIELD_COUNT) {
		*r.p++ = '\n';
		return r.p;
	}
	char tmp[32];
	char *t = put_padded(tmp, v[2] % 10000000000000ull, 13);
	rec_plain(&r, tmp, (size_t)(t - tmp));
	rec_end(&r);
	return r.p;
}

/* ---- output ----------------------------------------------------------- */

struct gen_out {
	int fd;
	char *buf;
	size_t len;
	ZSTD_CCtx *z;
	char *zbuf;
	size_t zcap;
};

static int write_all(int fd, const char *p, size_t n, struct err *e)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return err_set(e, EXIT_SOFTWARE, "cannot write the generated records: %s", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the buffer out (through zstd when asked); end finishes the frame. */
static int gen_flush(struct gen_out *g, bool end, struct err *e)
{
	if (g->z == NULL) {
		int rc = write_all(g->fd, g->buf, g->len, e);
		g->len = 0;
		return rc;
	}
	ZSTD_inBuffer in = {g->buf, g->len, 0};
	for (;;) {
		ZSTD_outBuffer out = {g->zbuf, g->zcap, 0};
		size_t left = ZSTD_compressStream2(g->z, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return err_set(e, EXIT_SOFTWARE, "zstd: %s", ZSTD_getErrorName(left));
		if (write_all(g->fd, g->zbuf, out.pos, e) < 0)
			return -1;
		if (end ? left == 0 : in.pos == in.size)
			break;
	}
	g->len = 0;
	return 0;
}

int gen_write(const struct gen_opts *o, int fd, bool zstd, struct err *e)
{
	if (o->format != FORMAT_CSV && o->format != FORMAT_NDJSON)
		return err_set(e, EXIT_USAGE, "gen writes csv or ndjson");
	struct gen_out g = {.fd = fd};
	g.buf = malloc(GEN_BUF_BYTES);
	if (g.buf == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	int rc = 0;
	if (zstd) {
		g.z = ZSTD_createCCtx();
		g.zcap = ZSTD_CStreamOutSize();
		g.zbuf = malloc(g.zcap);
		if (g.z == NULL || g.zbuf == NULL) {
			rc = err_set(e, EXIT_SOFTWARE, "out of memory");
			goto out;
		}
		ZSTD_CCtx_setParameter(g.z, ZSTD_c_compressionLevel, GEN_ZSTD_LEVEL);
	}
	if (o->header && o->format == FORMAT_CSV) {
		size_t n;
		const struct gen_column *c = gen_columns(o->shape, &n);
		for (size_t i = 0; i < n; i++) {
			if (i)
				g.buf[g.len++] = ',';
			memcpy(g.buf + g.len, c[i].name, strlen(c[i].name));
			g.len += strlen(c[i].name);
		}
		g.buf[g.len++] = '\n';
	}
	/* Keys start at a seed-derived base, so files of different seeds can
	 * be loaded into one table without clashing keys (most of the time). */
	uint64_t bs = o->seed;
	uint64_t id_base = 1000000000ull + rng_next(&bs) % 1000000ull * 1000000000ull;
	for (uint64_t n = 1; n <= o->rows; n++) {
		if (GEN_BUF_BYTES - g.len < GEN_RECORD_BYTES_MAX && gen_flush(&g, false, e) < 0) {
			rc = -1;
			goto out;
		}
		int bad = gen_bad_kind(o, n);
		char *p = g.buf + g.len;
		char *end = o->shape == GEN_WIDE ? gen_wide(p, o, n, id_base, bad) : gen_order(p, o, n, id_base, bad);
		g.len += (size_t)(end - p);
	}
	if (gen_flush(&g, true, e) < 0)
		rc = -1;
out:
	ZSTD_freeCCtx(g.z);
	free(g.zbuf);
	free(g.buf);
	return rc;
}
