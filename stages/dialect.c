/* dialect.c - the checks COPY makes of an input dialect (delimiter, quote, NULL marker), made before a source loads. */
#include "dialect.h"

#include <string.h>

/* A character as the messages show it. */
static const char *shown_char(char c, char buf[8])
{
	if (c == '\n')
		return "\\n";
	if (c == '\r')
		return "\\r";
	if (c == '\t')
		return "\\t";
	buf[0] = c;
	buf[1] = '\0';
	return buf;
}

int dialect_check(const struct dialect *d, struct err *e)
{
	if (d->format != FORMAT_CSV && d->format != FORMAT_TEXT)
		return 0;
	char b[8];
	if (d->delimiter == '\n' || d->delimiter == '\r')
		return err_set(e, EXIT_USAGE, "--delimiter cannot be a newline or a carriage return");
	if (strchr(d->null, '\n') != NULL || strchr(d->null, '\r') != NULL)
		return err_set(e, EXIT_USAGE, "--null cannot hold a newline or a carriage return");
	/* The text format's own escapes: a backslash, and what may follow it. */
	if (d->format == FORMAT_TEXT && d->delimiter != '\0' &&
	    strchr("\\.abcdefghijklmnopqrstuvwxyz0123456789", d->delimiter) != NULL)
		return err_set(e, EXIT_USAGE,
			       "--delimiter cannot be \"%s\" in the text format: a backslash, a period, a lower-case "
			       "letter or a digit reads as part of an escape",
			       shown_char(d->delimiter, b));
	if (d->delimiter != '\0' && strchr(d->null, d->delimiter) != NULL)
		return err_set(e, EXIT_USAGE, "--null \"%s\" holds the delimiter \"%s\": the two must differ", d->null,
			       shown_char(d->delimiter, b));
	if (d->format == FORMAT_CSV) {
		if (d->quote == d->delimiter)
			return err_set(e, EXIT_USAGE, "--quote and --delimiter must differ (both \"%s\" for csv)",
				       shown_char(d->quote, b));
		if (d->quote == '\n' || d->quote == '\r')
			return err_set(e, EXIT_USAGE, "--quote cannot be a newline or a carriage return");
		if (d->quote != '\0' && strchr(d->null, d->quote) != NULL)
			return err_set(e, EXIT_USAGE, "--null \"%s\" holds the quote \"%s\": the two must differ",
				       d->null, shown_char(d->quote, b));
	}
	return 0;
}
