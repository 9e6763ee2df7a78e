/* parse_csv.c - splits one CSV record into fields the way PostgreSQL 15's CopyReadAttributesCSV does. */
#include "parse_csv.h"

#include "../core/err.h"
#include "bytescan.h"
#include "format.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Strips the record's end-of-line (LF or CRLF) and returns the data length. */
static inline size_t csv_data_len(const char *rec, size_t len)
{
	if (len > 0 && rec[len - 1] == '\n') {
		len--;
		if (len > 0 && rec[len - 1] == '\r')
			len--;
	}
	return len;
}

static int csv_fail(char *msg, size_t msgsz, const char *text)
{
	snprintf(msg, msgsz, "%s", text);
	return -1;
}

/* The messages CopyReadLineText gives for a line break outside quotes. */
static int csv_fail_eol(char *msg, size_t msgsz, char c)
{
	return csv_fail(msg, msgsz,
			c == '\r' ? "unquoted carriage return found in data" : "unquoted newline found in data");
}

/* The bytes that end an unquoted run (delimiter, quote, CR, LF) in a
 * record, a block at a time: mask has a bit for each such byte of
 * [base, base + BYTESCAN_BLOCK), and none at or past e. The blocks follow
 * the scan, so each byte is looked at once however short the fields. */
struct csv_scan {
	struct byteset set;
	const char *rec, *e, *base;
	uint32_t mask;
};

/* The first byte at or after p (p <= e) that ends an unquoted run, or e. */
static inline const char *csv_next(struct csv_scan *s, const char *p)
{
	for (;;) {
		size_t off = (size_t)(p - s->base);
		if (off < BYTESCAN_BLOCK) {
			uint32_t m = s->mask >> off;
			if (m != 0)
				return p + __builtin_ctz(m);
			if ((size_t)(s->e - s->base) <= BYTESCAN_BLOCK)
				return s->e;
			p = s->base + BYTESCAN_BLOCK;
		}
		if (p >= s->e)
			return s->e;
		s->base = p;
		s->mask = byteset_mask_upto(&s->set, s->rec, p, s->e);
	}
}

/* Appends the bytes [p, q) to o. */
static inline char *csv_copy(char *o, const char *p, const char *q)
{
	memcpy(o, p, (size_t)(q - p));
	return o + (q - p);
}

int csv_parse_record(const struct dialect *d, const char *rec, size_t len, struct field *fields, uint32_t fields_max,
		     struct buf *scratch, char *msg, size_t msgsz)
{
	/* PostgreSQL verifies the encoding of the raw input before it splits
	 * lines into fields, so an invalid byte is reported first. */
	size_t valid = utf8_valid_prefix(rec, len);
	if (valid < len) {
		utf8_error_message(rec + valid, len - valid, msg, msgsz);
		return -1;
	}
	const char *p = rec;
	const char *e = rec + csv_data_len(rec, len);

	/* A table without columns accepts only empty lines. */
	if (fields_max == 0)
		return p == e ? 0 : csv_fail(msg, msgsz, "extra data after last expected column");

	/* Fields are never longer than their input, so room for len bytes
	 * means the scratch buffer does not move while fields point into it. */
	ASSERT(scratch->cap - scratch->len >= len);

	const char delim = d->delimiter;
	const char quote = d->quote;
	const char esc = d->escape ? d->escape : d->quote;
	const char *null = d->null ? d->null : "";
	const size_t null_len = d->null ? d->null_len : 0;
	struct field spill; /* fields past fields_max are parsed, then refused */
	uint32_t nf = 0;
	struct csv_scan scan = {.rec = rec, .e = e, .base = rec};
	byteset_init(&scan.set, delim, quote, '\r', '\n');
	scan.mask = byteset_mask_upto(&scan.set, rec, rec, e);
	/* Inside quotes only the quote and the escape matter. */
	struct byteset quoted;
	byteset_init(&quoted, quote, esc, quote, esc);

	for (;;) {
		struct field *f = nf < fields_max ? &fields[nf] : &spill;
		const char *start = p;

		/* The common field: no quote, nothing to rewrite. */
		p = csv_next(&scan, p);
		if (p == e || *p == delim) {
			size_t n = (size_t)(p - start);
			f->ptr = start;
			f->len = (uint32_t)n;
			f->null = n == null_len && (n == 0 || memcmp(start, null, n) == 0);
			nf++;
			if (p == e)
				break;
			p++;
			continue;
		}
		if (*p != quote)
			return csv_fail_eol(msg, msgsz, *p);

		/* A field that is one quoted run with no escape inside still needs
		 * no rewriting: point at the bytes between the quotes. */
		if (p == start) {
			const char *q = byteset_find(&quoted, p + 1, e);
			if (q < e && *q == quote && (q + 1 == e || q[1] == delim)) {
				f->ptr = p + 1;
				f->len = (uint32_t)(q - p - 1);
				f->null = false;
				nf++;
				p = q + 1;
				if (p == e)
					break;
				p++;
				continue;
			}
		}

		/* General case, CopyReadAttributesCSV's loop: toggle between
		 * quoted and unquoted runs until a delimiter outside quotes. */
		char *out = scratch->data + scratch->len;
		char *o = csv_copy(out, start, p);
		for (;;) {
			/* p is at an opening quote. */
			p++;
			for (;;) {
				const char *q = byteset_find(&quoted, p, e);
				o = csv_copy(o, p, q);
				p = q;
				if (p >= e)
					return csv_fail(msg, msgsz, "unterminated CSV quoted field");
				char c = *p++;
				/* Tested before the closing quote because escape and
				 * quote are usually the same character. */
				if (c == esc && p < e && (*p == esc || *p == quote)) {
					*o++ = *p++;
					continue;
				}
				if (c == quote)
					break;
				*o++ = c;
			}
			const char *q = csv_next(&scan, p);
			o = csv_copy(o, p, q);
			p = q;
			if (p == e || *p == delim)
				break;
			if (*p != quote)
				return csv_fail_eol(msg, msgsz, *p);
		}
		f->ptr = out;
		f->len = (uint32_t)(o - out);
		f->null = false; /* a field with a quote is never NULL */
		scratch->len += (size_t)(o - out);
		nf++;
		if (p == e)
			break;
		p++;
	}
	if (nf > fields_max)
		return csv_fail(msg, msgsz, "extra data after last expected column");
	return (int)nf;
}

/* The codec's operations: a line-based format (see format_parse_line). */
const struct format_ops format_csv = {.name = "csv",
				      .format = FORMAT_CSV,
				      .parse_record = format_parse_line,
				      .parse_line = csv_parse_record,
				      .csv_lines = true};
