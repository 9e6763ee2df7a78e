/* format.c - the list of input formats the codec can parse, and what the line-based ones share. */
#include "format.h"

#include "charset.h"
#include "frame.h"

#include <string.h>

const struct format_ops *format_ops_for(enum input_format format)
{
	static const struct format_ops *const formats[] = {&format_csv, &format_text, &format_ndjson};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (formats[i]->format == format)
			return formats[i];
	return NULL;
}

int format_parse_line(const struct format_ops *ops, const struct format_conf *conf, const struct chunk *c, uint32_t i,
		      struct field *fields, uint32_t fields_max, struct buf *scratch, uint32_t *unknown_keys, char *msg,
		      size_t msgsz)
{
	(void)unknown_keys;
	size_t len;
	if (frame_record_data(c, i, ops->csv_lines, &len, msg, msgsz) < 0)
		return -1;
	return format_line_parse(ops, conf->dialect, c->data + c->rec_off[i], len, fields, fields_max, scratch, msg,
				 msgsz);
}

int format_line_parse(const struct format_ops *ops, const struct dialect *d, const char *rec, size_t len,
		      struct field *fields, uint32_t fields_max, struct buf *scratch, char *msg, size_t msgsz)
{
	if (d->charset != NULL) {
		if (format_record_utf8(d, &rec, &len, scratch, msg, msgsz) < 0)
			return -1;
	} else {
		buf_reserve(scratch, len + 1);
	}
	return ops->parse_line(d, rec, len, fields, fields_max, scratch, msg, msgsz);
}

int format_record_utf8(const struct dialect *d, const char **rec, size_t *len, struct buf *scratch, char *msg,
		       size_t msgsz)
{
	if (d->charset == NULL)
		return 0;
	long n = charset_utf8_len(d->charset, *rec, *len, msg, msgsz);
	if (n < 0)
		return -1;
	/* One reservation for the conversion and what the parser appends, so
	 * that neither moves the other. */
	buf_reserve(scratch, 2 * (size_t)n + 1);
	char *out = scratch->data + scratch->len;
	ASSERT(charset_to_utf8(d->charset, *rec, *len, out) == (size_t)n);
	scratch->len += (size_t)n;
	*rec = out;
	*len = (size_t)n;
	return 0;
}

enum input_format format_guess(const char *p, size_t n)
{
	if (n == 0)
		return FORMAT_CSV; /* and p may be NULL: nothing to look at */
	size_t i = 0;
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < n && p[i] == '{')
		return FORMAT_NDJSON;
	const char *nl = memchr(p, '\n', n);
	size_t len = nl ? (size_t)(nl - p) : n;
	bool tab = memchr(p, '\t', len) != NULL;
	bool comma = memchr(p, ',', len) != NULL;
	return tab && !comma ? FORMAT_TEXT : FORMAT_CSV;
}
