/* format.c - the list of input formats the codec can parse, and what the line-based ones share. */
#include "format.h"

#include "frame.h"

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
	buf_reserve(scratch, len + 1);
	return ops->parse_line(conf->dialect, c->data + c->rec_off[i], len, fields, fields_max, scratch, msg, msgsz);
}
