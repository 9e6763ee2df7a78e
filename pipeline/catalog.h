/* catalog.h - what the target table and the session look like, read from the server at start-up. */
#ifndef EDONU_CATALOG_H
#define EDONU_CATALOG_H

#include "../core/err.h"
#include "../core/table.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* Looks up table (as SQL would resolve it: search_path, case folding unless
 * quoted) and the session settings. EXIT_CONFIG when the table does not
 * exist (the message names the nearest table that does: the same name in
 * another case or schema); EXIT_UNAVAILABLE when the server fails. */
int catalog_read(PGconn *c, const char *table, struct table_info *t, struct err *e);
void catalog_free(struct table_info *t);

#endif
