/* dialect.h - the checks COPY makes of an input dialect, made before a source loads. */
#ifndef EDONU_DIALECT_H
#define EDONU_DIALECT_H

#include "../core/err.h"
#include "record.h"

/* Refuses (EXIT_USAGE, naming the options that set it) a CSV or text
 * dialect that COPY itself refuses: a delimiter or quote that is a line end,
 * a quote equal to the delimiter, a NULL marker holding the delimiter, the
 * quote or a line end, a text delimiter that the text format's escapes use.
 * 0 for every other dialect (NDJSON has none to check). */
int dialect_check(const struct dialect *d, struct err *e);

#endif
