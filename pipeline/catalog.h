/* catalog.h - what the target table and the session look like, read from the server at start-up. */
#ifndef EDONU_CATALOG_H
#define EDONU_CATALOG_H

#include "../stages/encode.h"
#include "err.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

struct table_column {
	struct enc_column enc;
	bool not_null;
	bool generated; /* GENERATED ALWAYS AS ... STORED: never a COPY target */
};

struct table_info {
	char sql_name[2 * 64 * 2 + 8]; /* "schema"."name", quoted for SQL */
	char display[2 * 64 + 2];      /* schema.name as the user reads it */
	uint32_t oid;
	uint32_t ncols;
	struct table_column *cols; /* ncols entries, in attnum order */
	bool all_binary;           /* every column has a binary encoder */
	struct enc_session session;
	char timezone[64];
	char datestyle[64];
	char server_encoding[64];
};

/* Looks up table (as SQL would resolve it: search_path, case folding unless
 * quoted) and the session settings. EXIT_CONFIG when the table does not
 * exist; EXIT_UNAVAILABLE when the server fails. */
int catalog_read(PGconn *c, const char *table, struct table_info *t, struct err *e);
void catalog_free(struct table_info *t);

#endif
