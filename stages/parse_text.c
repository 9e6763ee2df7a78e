/* parse_text.c - splits and de-escapes one record of PostgreSQL's text COPY format, as CopyReadAttributesText does, and escapes values for it. */
#include "parse_text.h"

#include "../core/ascii.h"
#include "../core/err.h"
#include "format.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int text_fail(char *msg, size_t msgsz, const char *text)
{
	snprintf(msg, msgsz, "%s", text);
	return -1;
}

/* The messages CopyReadLineText gives for an unescaped line break. */
static int text_fail_eol(char *msg, size_t msgsz, char c)
{
	return text_fail(msg, msgsz,
			 c == '\r' ? "literal carriage return found in data" : "literal newline found in data");
}

static inline bool text_is_octal(char c)
{
	return c >= '0' && c <= '7';
}

int text_parse_record(const struct dialect *d, const char *rec, size_t len, struct field *fields, uint32_t fields_max,
		      struct buf *scratch, char *msg, size_t msgsz)
{
	/* The raw input is verified before it is split, as in CopyConvertBuf. */
	size_t valid = utf8_valid_prefix(rec, len);
	if (valid < len) {
		utf8_error_message(rec + valid, len - valid, msg, msgsz);
		return -1;
	}
	size_t dlen = len;
	if (dlen > 0 && rec[dlen - 1] == '\n') {
		dlen--;
		if (dlen > 0 && rec[dlen - 1] == '\r')
			dlen--;
	}
	const char *p = rec;
	const char *e = rec + dlen;
	if (fields_max == 0)
		return p == e ? 0 : text_fail(msg, msgsz, "extra data after last expected column");

	ASSERT(scratch->cap - scratch->len >= len);

	const char delim = d->delimiter;
	const char *null = d->null ? d->null : "\\N";
	const size_t null_len = d->null ? d->null_len : 2;
	struct field spill;
	uint32_t nf = 0;

	for (;;) {
		struct field *f = nf < fields_max ? &fields[nf] : &spill;
		const char *start = p;

		/* The common field: no backslash, nothing to rewrite. */
		while (p < e) {
			char c = *p;
			if (c == delim || c == '\\' || c == '\r' || c == '\n')
				break;
			p++;
		}
		if (p == e || *p == delim) {
			size_t n = (size_t)(p - start);
			f->ptr = start;
			f->len = (uint32_t)n;
			f->null = n == null_len && memcmp(start, null, n) == 0;
			nf++;
			if (p == e)
				break;
			p++;
			continue;
		}
		if (*p != '\\')
			return text_fail_eol(msg, msgsz, *p);

		/* De-escape into scratch. raw_end ends the raw text that the NULL
		 * marker is compared with: a trailing lone backslash is not part
		 * of it, nor of the value (CopyReadAttributesText drops it). */
		char *out = scratch->data + scratch->len;
		char *o = out;
		memcpy(o, start, (size_t)(p - start));
		o += p - start;
		bool saw_non_ascii = false;
		const char *raw_end;
		for (;;) {
			raw_end = p;
			if (p >= e)
				break;
			char c = *p++;
			if (c == delim)
				break;
			if (c == '\r' || c == '\n')
				return text_fail_eol(msg, msgsz, c);
			if (c == '\\') {
				if (p >= e)
					break;
				c = *p++;
				switch (c) {
				case '0':
				case '1':
				case '2':
				case '3':
				case '4':
				case '5':
				case '6':
				case '7': {
					int v = c - '0';
					if (p < e && text_is_octal(*p)) {
						v = v * 8 + (*p++ - '0');
						if (p < e && text_is_octal(*p))
							v = v * 8 + (*p++ - '0');
					}
					c = (char)(v & 0xff);
					if (c == '\0' || (unsigned char)c >= 0x80)
						saw_non_ascii = true;
					break;
				}
				case 'x': {
					int h = p < e ? ascii_hex_value(*p) : -1;
					if (h >= 0) {
						int v = h;
						p++;
						h = p < e ? ascii_hex_value(*p) : -1;
						if (h >= 0) {
							v = v * 16 + h;
							p++;
						}
						c = (char)v;
						if (c == '\0' || (unsigned char)c >= 0x80)
							saw_non_ascii = true;
					}
					break;
				}
				case 'b': c = '\b'; break;
				case 'f': c = '\f'; break;
				case 'n': c = '\n'; break;
				case 'r': c = '\r'; break;
				case 't': c = '\t'; break;
				case 'v': c = '\v'; break;
				case '.':
					/* COPY's line reader takes a backslash-period for the
					 * end-of-data marker, which must end its line. */
					return text_fail(msg, msgsz, "end-of-copy marker corrupt");
				default:
					/* Any other character after a backslash is itself. */
					break;
				}
			}
			*o++ = c;
		}
		size_t raw_n = (size_t)(raw_end - start);
		f->ptr = out;
		f->len = (uint32_t)(o - out);
		f->null = raw_n == null_len && memcmp(start, null, raw_n) == 0;
		/* Escapes may have produced bytes the raw check never saw. */
		if (!f->null && saw_non_ascii) {
			size_t ok = utf8_valid_prefix(out, f->len);
			if (ok < f->len) {
				utf8_error_message(out + ok, f->len - ok, msg, msgsz);
				return -1;
			}
		}
		scratch->len += f->len;
		nf++;
		if (raw_end == e || *raw_end != delim)
			break;
	}
	if (nf > fields_max)
		return text_fail(msg, msgsz, "extra data after last expected column");
	return (int)nf;
}

/* The codec's operations: a line-based format (see format_parse_line). */
const struct format_ops format_text = {.name = "text",
				       .format = FORMAT_TEXT,
				       .parse_record = format_parse_line,
				       .parse_line = text_parse_record,
				       .csv_lines = false};

void text_escape_value(char delimiter, const char *p, size_t len, struct buf *out)
{
	/* At most two output bytes per input byte. */
	buf_reserve(out, 2 * len);
	char *o = out->data + out->len;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if ((unsigned char)c < 0x20) {
			/* CopyAttributeOutText: \r and \n must be escaped, the other
			 * C-style ones are traditional; remaining control characters
			 * go out as they are unless they are the delimiter. */
			char esc;
			switch (c) {
			case '\b': esc = 'b'; break;
			case '\f': esc = 'f'; break;
			case '\n': esc = 'n'; break;
			case '\r': esc = 'r'; break;
			case '\t': esc = 't'; break;
			case '\v': esc = 'v'; break;
			default:
				if (c == delimiter) {
					*o++ = '\\';
					*o++ = c;
				} else {
					*o++ = c;
				}
				continue;
			}
			*o++ = '\\';
			*o++ = esc;
		} else if (c == '\\' || c == delimiter) {
			*o++ = '\\';
			*o++ = c;
		} else {
			*o++ = c;
		}
	}
	out->len = (size_t)(o - out->data);
}
