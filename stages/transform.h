/* transform.h - maps input fields to table columns (by header name, --columns, or table order) and checks each record's shape. */
#ifndef EDONU_TRANSFORM_H
#define EDONU_TRANSFORM_H

#include "../core/err.h"
#include "../core/table.h"
#include "record.h"

#include <stddef.h>
#include <stdint.h>

/* Input field k fills table column col[k]; the COPY column list is that
 * list in that order, so the fields go to the server as they come. */
struct mapping {
	uint32_t nfields;
	uint32_t *col;
	char *copy_bin_sql; /* COPY t (a, b) FROM STDIN (FORMAT binary) */
	char *copy_txt_sql; /* COPY t (a, b) FROM STDIN: text format, tab, \N */
	bool all_binary;    /* every mapped column has a binary encoder */
	/* Upserts (transform_set_upsert): the COPY statements fill the
	 * session's staging table, each tuple followed by its record's index
	 * in the chunk (column edonu_rec, int4); stage_sql creates it,
	 * merge_sql (parameters $1, $2: the records $1 <= index < $2) moves
	 * those rows into the table with INSERT ... ON CONFLICT, removes them
	 * from the stage and returns one row: the count of rows it inserted or
	 * updated. */
	char *stage_sql;
	char *merge_sql;
};

/* By the header's names (source names the input in messages). Each name
 * must be a column of the table (exact, else a unique case-insensitive
 * match), at most once, and not a generated column. EXIT_CONFIG otherwise. */
int transform_map_header(struct mapping *m, const struct table_info *t, const struct field *names, uint32_t n,
			 const char *source, struct err *e);

/* By a list "a,b,c" (--columns), or all columns that are not generated when
 * list is NULL, as COPY without a column list. EXIT_CONFIG on an unknown or
 * repeated column. */
int transform_map_list(struct mapping *m, const struct table_info *t, const char *list, struct err *e);

/* Turns a mapping into an upsert on the unique key keys ("a,b", each a
 * mapped column): update sets every other mapped column from the record
 * (the last record of a key in the records merged wins), else existing
 * keys are left alone (the first record wins). EXIT_CONFIG on a key that is not mapped. */
int transform_set_upsert(struct mapping *m, const struct table_info *t, const char *keys, bool update, struct err *e);

void transform_free(struct mapping *m);

/* Index of the column named name[0..len): exact match first, then a unique
 * case-insensitive one; -1 when none. */
int transform_find_column(const struct table_info *t, const char *name, size_t len);

/* Checks a record's field count as COPY does. Returns 0, or -1 with
 * PostgreSQL's message and the column to blame (missing data for column
 * "x" / extra data after last expected column). */
int transform_check_fields(const struct mapping *m, const struct table_info *t, uint32_t nfields, char *msg,
			   size_t msgsz, const char **column);

#endif
