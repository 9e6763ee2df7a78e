/* transform.c - field-to-column mapping and the COPY statements that follow from it. */
#include "transform.h"

#include "../core/buf.h"
#include "../core/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The records of one merge: its parameters are a range of record indexes.
 * The workers' sessions keep the user's search_path (the table's triggers
 * run there), so the loader's own operators and functions are named in
 * pg_catalog: none that another role put in a schema of that path stands
 * in for them. */
#define UPSERT_RANGE                                                                    \
	"edonu_rec OPERATOR(pg_catalog.>=) $1::pg_catalog.int4 AND edonu_rec OPERATOR(" \
	"pg_catalog.<) $2::pg_catalog.int4"

int transform_find_column(const struct table_info *t, const char *name, size_t len)
{
	for (uint32_t i = 0; i < t->ncols; i++)
		if (strlen(t->cols[i].enc.name) == len && memcmp(t->cols[i].enc.name, name, len) == 0)
			return (int)i;
	int found = -1;
	for (uint32_t i = 0; i < t->ncols; i++) {
		if (strlen(t->cols[i].enc.name) == len && strncasecmp(t->cols[i].enc.name, name, len) == 0) {
			if (found >= 0)
				return -1;
			found = (int)i;
		}
	}
	return found;
}

/* Steps through a comma-separated list of names ("a, b,c"): sets the next
 * name (spaces around it are a typing convenience, not part of it; it may
 * be empty) and returns false past the last one. */
static bool next_name(const char **rest, const char **name, size_t *len)
{
	const char *p = *rest;
	if (p == NULL)
		return false;
	const char *end = strchr(p, ',');
	size_t n = end ? (size_t)(end - p) : strlen(p);
	*rest = end ? end + 1 : NULL;
	while (n > 0 && *p == ' ') {
		p++;
		n--;
	}
	while (n > 0 && p[n - 1] == ' ')
		n--;
	*name = p;
	*len = n;
	return true;
}

/* Appends name quoted as an SQL identifier ("a""b"). */
static size_t put_ident(char *out, const char *name)
{
	size_t n = 0;
	out[n++] = '"';
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			out[n++] = '"';
		out[n++] = *p;
	}
	out[n++] = '"';
	return n;
}

/* A growable string for the statements; aborts on out-of-memory via buf. */
static void put_str(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void put_ident_buf(struct buf *b, const char *name)
{
	buf_reserve(b, 2 * strlen(name) + 3);
	b->len += put_ident(b->data + b->len, name);
}

/* "a", "b" for the columns in idx[0..n). */
static void put_list(struct buf *b, const struct table_info *t, const uint32_t *idx, uint32_t n, const char *prefix)
{
	for (uint32_t k = 0; k < n; k++) {
		if (k > 0)
			put_str(b, ", ");
		put_str(b, prefix);
		put_ident_buf(b, t->cols[idx[k]].enc.name);
	}
}

static char *buf_take(struct buf *b)
{
	buf_putc(b, '\0');
	char *s = b->data;
	b->data = NULL;
	return s;
}

/* Sets both COPY statements (binary and text format, the same column
 * list) to fill target. */
static void set_copy_sql(struct mapping *m, const struct table_info *t, const char *target, const char *extra)
{
	static const char *const tails[2] = {") FROM STDIN (FORMAT binary)", ") FROM STDIN"};
	char **sql[2] = {&m->copy_bin_sql, &m->copy_txt_sql};
	for (int i = 0; i < 2; i++) {
		struct buf b;
		buf_init(&b, 1024);
		put_str(&b, "COPY ");
		put_str(&b, target);
		put_str(&b, " (");
		put_list(&b, t, m->col, m->nfields, "");
		put_str(&b, extra);
		put_str(&b, tails[i]);
		free(*sql[i]);
		*sql[i] = buf_take(&b);
	}
}

/* The COPY statements of a mapping into the table itself. */
static void build_sql(struct mapping *m, const struct table_info *t)
{
	m->all_binary = true;
	for (uint32_t k = 0; k < m->nfields; k++)
		if (t->cols[m->col[k]].enc.kind == ENC_NONE)
			m->all_binary = false;
	set_copy_sql(m, t, t->sql_name, "");
}

static int map_init(struct mapping *m, uint32_t n, struct err *e)
{
	memset(m, 0, sizeof *m);
	m->col = calloc(n ? n : 1, sizeof *m->col);
	if (m->col == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	return 0;
}

/* Adds column ci as the next field unless it is already there or generated. */
static int map_add(struct mapping *m, const struct table_info *t, int ci, const char *name, size_t len,
		   const char *where, struct err *e)
{
	if (ci < 0)
		return err_set(e, EXIT_CONFIG, "column \"%.*s\"%s does not exist in table %s", (int)len, name, where,
			       t->display);
	if (t->cols[ci].generated)
		return err_set(e, EXIT_CONFIG, "column \"%s\" of table %s is generated and cannot be loaded",
			       t->cols[ci].enc.name, t->display);
	for (uint32_t k = 0; k < m->nfields; k++)
		if (m->col[k] == (uint32_t)ci)
			return err_set(e, EXIT_CONFIG, "column \"%s\"%s is given more than once", t->cols[ci].enc.name,
				       where);
	m->col[m->nfields++] = (uint32_t)ci;
	return 0;
}

int transform_map_header(struct mapping *m, const struct table_info *t, const struct field *names, uint32_t n,
			 const char *source, struct err *e)
{
	if (map_init(m, n, e) < 0)
		return -1;
	char where[512];
	snprintf(where, sizeof where, " (header of %s)", source);
	for (uint32_t k = 0; k < n; k++) {
		if (names[k].null || names[k].len == 0) {
			transform_free(m);
			return err_set(e, EXIT_CONFIG, "%s: header field %u is empty", source, k + 1);
		}
		int ci = transform_find_column(t, names[k].ptr, names[k].len);
		if (map_add(m, t, ci, names[k].ptr, names[k].len, where, e) < 0) {
			transform_free(m);
			return -1;
		}
	}
	build_sql(m, t);
	return 0;
}

int transform_map_list(struct mapping *m, const struct table_info *t, const char *list, struct err *e)
{
	if (list == NULL) {
		if (map_init(m, t->ncols, e) < 0)
			return -1;
		for (uint32_t i = 0; i < t->ncols; i++)
			if (!t->cols[i].generated)
				m->col[m->nfields++] = i;
		if (m->nfields == 0) {
			transform_free(m);
			return err_set(e, EXIT_CONFIG, "table %s has no columns to load", t->display);
		}
	} else {
		uint32_t n = 1;
		for (const char *p = list; *p; p++)
			n += *p == ',';
		if (map_init(m, n, e) < 0)
			return -1;
		const char *rest = list, *p;
		size_t len;
		while (next_name(&rest, &p, &len)) {
			if (len == 0) {
				transform_free(m);
				return err_set(e, EXIT_CONFIG, "--columns has an empty name");
			}
			if (map_add(m, t, transform_find_column(t, p, len), p, len, " (--columns)", e) < 0) {
				transform_free(m);
				return -1;
			}
		}
	}
	build_sql(m, t);
	return 0;
}

/* The key's columns (--key "a,b"), each one the mapping loads; their
 * indexes in key[0..*nkey). EXIT_CONFIG otherwise. */
static int upsert_keys(const struct mapping *m, const struct table_info *t, const char *keys, uint32_t *key,
		       uint32_t *nkey, struct err *e)
{
	const char *rest = keys, *p;
	size_t len;
	*nkey = 0;
	while (next_name(&rest, &p, &len)) {
		int ci = len ? transform_find_column(t, p, len) : -1;
		bool mapped = false;
		for (uint32_t k = 0; ci >= 0 && k < m->nfields; k++)
			mapped |= m->col[k] == (uint32_t)ci;
		if (ci < 0)
			return err_set(e, EXIT_CONFIG, "--key column \"%.*s\" does not exist in table %s", (int)len, p,
				       t->display);
		if (!mapped)
			return err_set(e, EXIT_CONFIG, "--key column \"%s\" is not among the loaded columns",
				       t->cols[ci].enc.name);
		if (*nkey == COLUMNS_MAX)
			return err_set(e, EXIT_CONFIG, "--key has too many columns");
		key[(*nkey)++] = (uint32_t)ci;
	}
	return 0;
}

/* The stage has the loaded columns' types and no constraints: the table's
 * own constraints judge the rows when they are merged. Each row carries its
 * record's index in the chunk (edonu_rec), which orders the records of a
 * key as the input does, whichever COPY (binary or text) brought them. */
static void put_stage_sql(struct buf *b, const struct mapping *m, const struct table_info *t)
{
	put_str(b, "CREATE TEMP TABLE edonu_stage ON COMMIT DELETE ROWS AS SELECT ");
	put_list(b, t, m->col, m->nfields, "");
	put_str(b, " FROM ");
	put_str(b, t->sql_name);
	put_str(b, " WITH NO DATA; ALTER TABLE pg_temp.edonu_stage ADD COLUMN edonu_rec integer NOT NULL");
}

/* The staged records $1 <= edonu_rec < $2 as the merge inserts them. Rows
 * with a NULL in the key never conflict, so DISTINCT ON (which would fold
 * them together) sees only rows with a whole key; of the others the last
 * record of a key wins for update, the first for ignore. */
static void put_merge_rows(struct buf *b, const struct mapping *m, const struct table_info *t, const uint32_t *key,
			   uint32_t nkey, bool update)
{
	put_str(b, "SELECT ");
	put_list(b, t, m->col, m->nfields, "");
	put_str(b, " FROM (SELECT DISTINCT ON (");
	put_list(b, t, key, nkey, "");
	put_str(b, ") * FROM pg_temp.edonu_stage WHERE " UPSERT_RANGE);
	for (uint32_t k = 0; k < nkey; k++) {
		put_str(b, " AND ");
		put_ident_buf(b, t->cols[key[k]].enc.name);
		put_str(b, " IS NOT NULL");
	}
	put_str(b, " ORDER BY ");
	for (uint32_t k = 0; k < nkey; k++) {
		put_ident_buf(b, t->cols[key[k]].enc.name);
		put_str(b, ", ");
	}
	put_str(b, update ? "edonu_rec DESC" : "edonu_rec");
	put_str(b, ") s UNION ALL SELECT ");
	put_list(b, t, m->col, m->nfields, "");
	put_str(b, " FROM pg_temp.edonu_stage WHERE " UPSERT_RANGE " AND (");
	for (uint32_t k = 0; k < nkey; k++) {
		if (k > 0)
			put_str(b, " OR ");
		put_ident_buf(b, t->cols[key[k]].enc.name);
		put_str(b, " IS NULL");
	}
	put_str(b, ")");
}

/* What a conflict does: update sets every loaded column that is not in
 * the key; without such a column, or for ignore, nothing. */
static void put_conflict_action(struct buf *b, const struct mapping *m, const struct table_info *t, const uint32_t *key,
				uint32_t nkey, bool update)
{
	uint32_t nset = 0;
	for (uint32_t k = 0; update && k < m->nfields; k++) {
		bool is_key = false;
		for (uint32_t j = 0; j < nkey; j++)
			is_key |= key[j] == m->col[k];
		if (is_key)
			continue;
		put_str(b, nset++ ? ", " : "UPDATE SET ");
		put_ident_buf(b, t->cols[m->col[k]].enc.name);
		put_str(b, " = EXCLUDED.");
		put_ident_buf(b, t->cols[m->col[k]].enc.name);
	}
	if (nset == 0)
		put_str(b, "NOTHING");
}

/* One statement over the staged records $1 <= edonu_rec < $2: the INSERT,
 * those rows removed from the stage (both see the rows as staged), and the
 * count of rows the INSERT wrote (inserted, or updated by DO UPDATE; DO
 * NOTHING leaves the others out). */
static void put_merge_sql(struct buf *b, const struct mapping *m, const struct table_info *t, const uint32_t *key,
			  uint32_t nkey, bool update)
{
	put_str(b, "WITH merged AS (INSERT INTO ");
	put_str(b, t->sql_name);
	put_str(b, " (");
	put_list(b, t, m->col, m->nfields, "");
	put_str(b, ") ");
	put_merge_rows(b, m, t, key, nkey, update);
	put_str(b, " ON CONFLICT (");
	put_list(b, t, key, nkey, "");
	put_str(b, ") DO ");
	put_conflict_action(b, m, t, key, nkey, update);
	put_str(b, " RETURNING 1), emptied AS (DELETE FROM pg_temp.edonu_stage WHERE " UPSERT_RANGE
		   ") SELECT pg_catalog.count(*) FROM merged");
}

int transform_set_upsert(struct mapping *m, const struct table_info *t, const char *keys, bool update, struct err *e)
{
	uint32_t key[COLUMNS_MAX];
	uint32_t nkey;
	if (upsert_keys(m, t, keys, key, &nkey, e) < 0)
		return -1;
	struct buf b;
	if (buf_init(&b, 1024) < 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	put_stage_sql(&b, m, t);
	free(m->stage_sql);
	m->stage_sql = buf_take(&b);
	if (buf_init(&b, 1024) < 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	put_merge_sql(&b, m, t, key, nkey, update);
	free(m->merge_sql);
	m->merge_sql = buf_take(&b);
	/* The COPY statements now fill the stage. */
	set_copy_sql(m, t, "pg_temp.edonu_stage", ", edonu_rec");
	return 0;
}

void transform_free(struct mapping *m)
{
	free(m->stage_sql);
	free(m->merge_sql);
	free(m->col);
	free(m->copy_bin_sql);
	free(m->copy_txt_sql);
	memset(m, 0, sizeof *m);
}

int transform_check_fields(const struct mapping *m, const struct table_info *t, uint32_t nfields, char *msg,
			   size_t msgsz, const char **column)
{
	if (nfields == m->nfields)
		return 0;
	if (nfields < m->nfields) {
		*column = t->cols[m->col[nfields]].enc.name;
		snprintf(msg, msgsz, "missing data for column \"%s\"", *column);
	} else {
		*column = NULL;
		snprintf(msg, msgsz, "extra data after last expected column");
	}
	return -1;
}
