/* format.c - the list of input formats the codec can parse. */
#include "format.h"

const struct format_ops *format_ops_for(enum input_format format)
{
	static const struct format_ops *const formats[] = {&format_csv, &format_text, &format_ndjson};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (formats[i]->format == format)
			return formats[i];
	return NULL;
}
