/* catalog.c - reads the target table's columns and types, and the settings that change what input means. */
#include "catalog.h"

#include "../stages/encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Zones whose offset is always zero: a timestamptz without an offset means UTC there. */
static const char *const utc_zones[] = {
    "UTC",       "Etc/UTC",       "GMT",   "Etc/GMT",  "UCT",       "Etc/UCT",
    "Universal", "Etc/Universal", "Zulu",  "Etc/Zulu", "Greenwich", "Etc/Greenwich",
    "GMT0",      "Etc/GMT0",      "GMT+0", "GMT-0",    "Etc/GMT+0", "Etc/GMT-0",
};

static int fail(PGconn *c, PGresult *r, const char *what, struct err *e)
{
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
	size_t n = strcspn(m, "\n");
	err_set(e, PQstatus(c) == CONNECTION_OK ? EXIT_SOFTWARE : EXIT_UNAVAILABLE, "%s: %.*s", what, (int)n, m);
	PQclear(r);
	return -1;
}

static void copy_str(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

/* A plain identifier needs no quotes: [a-z_][a-z0-9_$]*. */
static bool plain(const char *name)
{
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (const char *p = name + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '$'))
			return false;
	return true;
}

/* name, or "name" with its quote characters doubled, appended at *n. */
static void put_quoted(char *out, size_t outsz, size_t *n, const char *name)
{
	bool q = !plain(name);
	if (q && *n + 1 < outsz)
		out[(*n)++] = '"';
	for (const char *p = name; *p && *n + 2 < outsz; p++) {
		if (*p == '"')
			out[(*n)++] = '"';
		out[(*n)++] = *p;
	}
	if (q && *n + 1 < outsz)
		out[(*n)++] = '"';
	out[*n] = '\0';
}

void catalog_ident(const char *schema, const char *name, char *out, size_t outsz)
{
	size_t n = 0;
	out[0] = '\0';
	put_quoted(out, outsz, &n, schema);
	if (n + 1 < outsz) {
		out[n++] = '.';
		out[n] = '\0';
	}
	put_quoted(out, outsz, &n, name);
}

/* sql with one parameter, under the user's search_path for this
 * transaction only (the session's is pg_catalog's); NULL: the session's. */
static PGresult *exec_in_path(PGconn *c, const char *search_path, const char *sql, const char *param)
{
	const char *params[1] = {param};
	if (search_path == NULL)
		return PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
	const char *sp[1] = {search_path};
	PQclear(PQexec(c, "BEGIN"));
	PQclear(PQexecParams(c, "SELECT pg_catalog.set_config('search_path', $1, true)", 1, NULL, sp, NULL, NULL, 0));
	PGresult *r = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
	PQclear(PQexec(c, "COMMIT"));
	return r;
}

/* The nearest existing table to a name that resolved to none: the same
 * name in another case (an unquoted name is folded to lower case) or in
 * another schema, preferring the schema given, then the search path, then
 * the exact spelling. The name as SQL resolved it, and the table as
 * --table would name it (schema-qualified unless the name given was not
 * and the search path finds it); "" when there is none. */
static const char nearest_sql[] =
    "WITH p AS (SELECT parse_ident($1) AS id), "
    "w AS (SELECT id[cardinality(id)] AS rel, CASE WHEN cardinality(id) > 1 THEN id[cardinality(id) - 1] END AS nsp "
    "FROM p) "
    "SELECT coalesce(w.nsp || '.', '') || w.rel, coalesce(s.name, '') FROM w LEFT JOIN LATERAL ("
    "SELECT CASE WHEN w.nsp IS NULL AND pg_table_is_visible(c.oid) THEN quote_ident(c.relname) "
    "ELSE quote_ident(n.nspname) || '.' || quote_ident(c.relname) END AS name "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND lower(c.relname) = lower(w.rel) "
    "AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
    "ORDER BY n.nspname = w.nsp DESC NULLS LAST, pg_table_is_visible(c.oid) DESC, c.relname = w.rel DESC, 1 "
    "LIMIT 1) s ON true";

/* EXIT_CONFIG for a table that does not exist, with the nearest one that
 * does when there is one. */
static int table_missing(PGconn *c, const char *table, const char *search_path, struct err *e)
{
	PGresult *r = exec_in_path(c, search_path, nearest_sql, table);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, EXIT_CONFIG, "table \"%s\" does not exist", table);
	}
	const char *resolved = PQgetvalue(r, 0, 0);
	const char *near = PQgetvalue(r, 0, 1);
	if (near[0] == '\0')
		err_set(e, EXIT_CONFIG, "table \"%s\" does not exist", resolved);
	else if (strchr(near, '"') != NULL && strchr(near, '\'') == NULL)
		err_set(e, EXIT_CONFIG, "table \"%s\" does not exist; did you mean %s (quote it: --table '%s')?",
			resolved, near, near);
	else
		err_set(e, EXIT_CONFIG, "table \"%s\" does not exist; did you mean %s (--table %s)?", resolved, near,
			near);
	PQclear(r);
	return -1;
}

/* The table's name resolved as SQL would, with the user's search_path. */
static PGresult *resolve(PGconn *c, const char *table, const char *search_path)
{
	/* to_regclass resolves the name as SQL would and yields NULL instead of
	 * an error for a table that does not exist. */
	static const char sql[] =
	    "SELECT c.oid, pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
	    "pg_catalog.quote_ident(c.relname), n.nspname, c.relname, c.relkind "
	    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) "
	    "c.relnamespace WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1::pg_catalog.text)";
	return exec_in_path(c, search_path, sql, table);
}

int catalog_read(PGconn *c, const char *table, const char *search_path, struct table_info *t, struct err *e)
{
	memset(t, 0, sizeof *t);
	const char *params[1] = {table};
	PGresult *r = resolve(c, table, search_path);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		/* to_regclass raises on a malformed name (e.g. unbalanced quotes). */
		if (r && PQstatus(c) == CONNECTION_OK) {
			const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
			err_set(e, EXIT_CONFIG, "invalid table name \"%s\": %s", table, m ? m : "");
			PQclear(r);
			return -1;
		}
		return fail(c, r, "reading the catalog", e);
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		return table_missing(c, table, search_path, e);
	}
	const char *kind = PQgetvalue(r, 0, 4);
	if (kind[0] != 'r' && kind[0] != 'p') {
		err_set(e, EXIT_CONFIG, "\"%s\" is not a table", table);
		PQclear(r);
		return -1;
	}
	t->oid = (uint32_t)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
	copy_str(t->sql_name, sizeof t->sql_name, PQgetvalue(r, 0, 1));
	snprintf(t->display, sizeof t->display, "%s.%s", PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
	catalog_ident(PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), t->ident, sizeof t->ident);
	PQclear(r);

	char oid[16];
	snprintf(oid, sizeof oid, "%u", t->oid);
	params[0] = oid;
	r = PQexecParams(c,
			 "SELECT attname, atttypid, atttypmod, attnotnull, attgenerated OPERATOR(pg_catalog.<>) '' "
			 "FROM pg_catalog.pg_attribute WHERE attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid "
			 "AND attnum OPERATOR(pg_catalog.>) 0 AND NOT attisdropped ORDER BY attnum",
			 1, NULL, params, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "reading the table's columns", e);
	t->ncols = (uint32_t)PQntuples(r);
	t->cols = calloc(t->ncols ? t->ncols : 1, sizeof *t->cols);
	if (t->cols == NULL) {
		PQclear(r);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	t->all_binary = true;
	for (uint32_t i = 0; i < t->ncols; i++) {
		struct table_column *col = &t->cols[i];
		copy_str(col->enc.name, sizeof col->enc.name, PQgetvalue(r, (int)i, 0));
		col->enc.type_oid = (uint32_t)strtoul(PQgetvalue(r, (int)i, 1), NULL, 10);
		col->enc.typmod = (int32_t)strtol(PQgetvalue(r, (int)i, 2), NULL, 10);
		col->enc.kind = encode_kind_for(col->enc.type_oid);
		col->not_null = PQgetvalue(r, (int)i, 3)[0] == 't';
		col->generated = PQgetvalue(r, (int)i, 4)[0] == 't';
	}
	PQclear(r);

	r = PQexec(c, "SELECT pg_catalog.current_setting('TimeZone'), pg_catalog.current_setting('DateStyle'), "
		      "pg_catalog.current_setting('server_encoding')");
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "reading session settings", e);
	copy_str(t->timezone, sizeof t->timezone, PQgetvalue(r, 0, 0));
	copy_str(t->datestyle, sizeof t->datestyle, PQgetvalue(r, 0, 1));
	copy_str(t->server_encoding, sizeof t->server_encoding, PQgetvalue(r, 0, 2));
	PQclear(r);
	t->session.tz_utc = false;
	for (size_t i = 0; i < sizeof utc_zones / sizeof utc_zones[0]; i++)
		if (strcasecmp(t->timezone, utc_zones[i]) == 0)
			t->session.tz_utc = true;
	return 0;
}

void catalog_free(struct table_info *t)
{
	free(t->cols);
	t->cols = NULL;
	t->ncols = 0;
}
