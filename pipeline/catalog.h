/* catalog.h - what the target table and the session look like, read from the server at start-up. */
#ifndef EDONU_CATALOG_H
#define EDONU_CATALOG_H

#include "../core/err.h"
#include "../core/table.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* Looks up table (as SQL would resolve it: search_path, case folding unless
 * quoted) and the session settings. search_path (NULL: the session's) is
 * the one to resolve an unqualified name with, for a session whose own is
 * pg_catalog's. EXIT_CONFIG when the table does not exist (the message
 * names the nearest table that does: the same name in another case or
 * schema); EXIT_UNAVAILABLE when the server fails. */
int catalog_read(PGconn *c, const char *table, const char *search_path, struct table_info *t, struct err *e);

/* schema.name, each part quoted unless it is a plain lower-case
 * identifier (see table_info.ident). */
void catalog_ident(const char *schema, const char *name, char *out, size_t outsz);
void catalog_free(struct table_info *t);

#endif
