/* grants.c - the loading role's privileges on its table and on the ledger, and the ledger's
 * owners, read from the catalog before anything is loaded. Runs on the control connection, whose
 * search_path is pg_catalog's (engine.c), with every name qualified besides. */
#include "grants.h"

#include "../stages/transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The privileges the loader uses on each ledger table (ledger.c, the
 * sink's ledger row, the workers' rejects). */
static const char *const ledger_privs[GRANTS_LEDGER_TABLES][5] = {
    {"version", "SELECT", NULL},
    {"sources", "SELECT", "INSERT", "UPDATE", NULL},
    {"chunks", "SELECT", "INSERT", "UPDATE", "DELETE"},
    {"rejects", "SELECT", "INSERT", "DELETE", NULL},
};

static int fail(PGconn *c, PGresult *r, const char *what, struct err *e)
{
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
	size_t n = strcspn(m, "\n");
	bool lost = PQstatus(c) != CONNECTION_OK;
	err_set(e, lost ? EXIT_UNAVAILABLE : EXIT_SOFTWARE, "%s: %.*s", what, (int)n, m);
	e->retryable = lost;
	PQclear(r);
	return -1;
}

/* One row of nparams text parameters; NULL with e on failure. */
static PGresult *query(PGconn *c, const char *sql, int nparams, const char *const *p, const char *what, struct err *e)
{
	PGresult *r = PQexecParams(c, sql, nparams, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		fail(c, r, what, e);
		return NULL;
	}
	return r;
}

static void copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src);
}

int grants_who(PGconn *c, struct grants_who *w, struct err *e)
{
	PGresult *r = query(c,
			    "SELECT current_user, pg_catalog.quote_ident(current_user), "
			    "pg_catalog.current_database(), pg_catalog.quote_ident(pg_catalog.current_database())",
			    0, NULL, "reading the session's role", e);
	if (r == NULL)
		return -1;
	copy(w->role, sizeof w->role, PQgetvalue(r, 0, 0));
	copy(w->role_sql, sizeof w->role_sql, PQgetvalue(r, 0, 1));
	copy(w->db, sizeof w->db, PQgetvalue(r, 0, 2));
	copy(w->db_sql, sizeof w->db_sql, PQgetvalue(r, 0, 3));
	PQclear(r);
	return 0;
}

/* SELECT on each --key column: ON CONFLICT reads them. */
static int key_columns(PGconn *c, const struct grants_who *w, const struct table_info *t, const char *keys,
		       const char *oid, struct err *e)
{
	const char *p = keys;
	while (*p) {
		size_t n = strcspn(p, ",");
		int ci = transform_find_column(t, p, n);
		if (ci >= 0) {
			const char *params[2] = {oid, t->cols[ci].enc.name};
			PGresult *r =
			    query(c,
				  "SELECT pg_catalog.has_column_privilege($1::pg_catalog.oid, "
				  "$2::pg_catalog.text, 'SELECT'), pg_catalog.quote_ident($2::pg_catalog.text)",
				  2, params, "reading privileges", e);
			if (r == NULL)
				return -1;
			bool ok = PQgetvalue(r, 0, 0)[0] == 't';
			char col[140];
			copy(col, sizeof col, PQgetvalue(r, 0, 1));
			PQclear(r);
			if (!ok)
				return err_set(e, EXIT_CONFIG,
					       "role %s lacks SELECT on column %s of table %s, which --on-conflict "
					       "needs to find conflicts: GRANT SELECT (%s) ON %s TO %s",
					       w->role, t->cols[ci].enc.name, t->display, col, t->sql_name,
					       w->role_sql);
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

int grants_target(PGconn *c, const struct grants_who *w, const struct table_info *t, const struct options *o,
		  struct err *e)
{
	char oid[16];
	snprintf(oid, sizeof oid, "%u", t->oid);
	const char *p[1] = {oid};
	/* Column privileges count: INSERT on the loaded columns is enough
	 * (the server names a missing one at the first COPY). */
	PGresult *r = query(c,
			    "SELECT pg_catalog.has_any_column_privilege($1::pg_catalog.oid, 'INSERT'), "
			    "pg_catalog.has_any_column_privilege($1::pg_catalog.oid, 'UPDATE'), "
			    "pg_catalog.has_database_privilege(pg_catalog.current_database(), 'TEMPORARY')",
			    1, p, "reading privileges", e);
	if (r == NULL)
		return -1;
	bool insert = PQgetvalue(r, 0, 0)[0] == 't';
	bool update = PQgetvalue(r, 0, 1)[0] == 't';
	bool temp = PQgetvalue(r, 0, 2)[0] == 't';
	PQclear(r);
	if (!insert)
		return err_set(e, EXIT_CONFIG, "role %s lacks INSERT on table %s: GRANT INSERT ON %s TO %s", w->role,
			       t->display, t->sql_name, w->role_sql);
	if (o->on_conflict == CONFLICT_ERROR)
		return 0;
	if (!temp)
		return err_set(e, EXIT_CONFIG,
			       "role %s lacks TEMPORARY on database %s, which --on-conflict needs for its staging "
			       "table: GRANT TEMPORARY ON DATABASE %s TO %s",
			       w->role, w->db, w->db_sql, w->role_sql);
	if (o->on_conflict == CONFLICT_UPDATE && !update)
		return err_set(e, EXIT_CONFIG,
			       "role %s lacks UPDATE on table %s, which --on-conflict update needs: GRANT SELECT, "
			       "UPDATE ON %s TO %s",
			       w->role, t->display, t->sql_name, w->role_sql);
	return o->key ? key_columns(c, w, t, o->key, oid, e) : 0;
}

/* One object of the ledger that its owner's code could run in, refused. */
static int untrusted(const struct grants_who *w, const char *kind, const char *name, const char *owner,
		     const char *owner_sql, struct err *e)
{
	return err_set(e, EXIT_CONFIG,
		       "the ledger's %s %s belongs to role %s, which is not a superuser and of which role %s is not "
		       "a member: its triggers, rules or views would run %s's code with %s's rights, so the ledger "
		       "is not used; if %s is to be trusted, GRANT %s TO %s, else have a superuser drop schema "
		       "edonu_ingest and create the ledger with deploy/ledger.sql",
		       kind, name, owner, w->role, owner, w->role, owner, owner_sql, w->role_sql);
}

int grants_ledger_inspect(PGconn *c, const struct grants_who *w, struct grants_ledger *l, struct err *e)
{
	memset(l, 0, sizeof *l);
	PGresult *r =
	    query(c,
		  "WITH RECURSIVE mine(oid) AS (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user "
		  "UNION SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN mine ON m.member = mine.oid) "
		  "SELECT x.kind, x.name, o.rolname, o.rolsuper OR x.owner IN (SELECT oid FROM mine), "
		  "pg_catalog.pg_has_role(x.owner, 'USAGE'), pg_catalog.quote_ident(o.rolname) FROM ("
		  "SELECT 's' AS kind, n.nspname::pg_catalog.text AS name, n.nspowner AS owner "
		  "FROM pg_catalog.pg_namespace n WHERE n.nspname = '" GRANTS_LEDGER_SCHEMA "' UNION ALL "
		  "SELECT 't', c.relname::pg_catalog.text, c.relowner FROM pg_catalog.pg_class c "
		  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '" GRANTS_LEDGER_SCHEMA
		  "' AND c.relname = ANY ('{version,sources,chunks,rejects}'::pg_catalog.name[])) x "
		  "JOIN pg_catalog.pg_roles o ON o.oid = x.owner ORDER BY x.kind, x.name",
		  0, NULL, "reading the ledger's owners", e);
	if (r == NULL)
		return -1;
	l->can_alter = true;
	for (int i = 0; i < PQntuples(r); i++) {
		bool schema = PQgetvalue(r, i, 0)[0] == 's';
		char name[160];
		snprintf(name, sizeof name, "%s%s", schema ? "" : GRANTS_LEDGER_SCHEMA ".", PQgetvalue(r, i, 1));
		if (PQgetvalue(r, i, 3)[0] != 't') {
			untrusted(w, schema ? "schema" : "table", name, PQgetvalue(r, i, 2), PQgetvalue(r, i, 5), e);
			PQclear(r);
			return -1;
		}
		if (PQgetvalue(r, i, 4)[0] != 't' && l->can_alter) {
			l->can_alter = false;
			copy(l->alter_owner, sizeof l->alter_owner, PQgetvalue(r, i, 2));
		}
		l->schema |= schema;
		l->tables += !schema;
	}
	PQclear(r);
	r = query(c, "SELECT pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')", 0, NULL,
		  "reading privileges", e);
	if (r == NULL)
		return -1;
	l->can_create = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return 0;
}

int grants_ledger_use(PGconn *c, const struct grants_who *w, struct err *e)
{
	PGresult *r = query(c, "SELECT pg_catalog.has_schema_privilege('" GRANTS_LEDGER_SCHEMA "', 'USAGE')", 0, NULL,
			    "reading privileges", e);
	if (r == NULL)
		return -1;
	bool usage = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!usage)
		return err_set(e, EXIT_CONFIG,
			       "role %s lacks USAGE on the ledger's schema " GRANTS_LEDGER_SCHEMA
			       ": GRANT USAGE ON SCHEMA " GRANTS_LEDGER_SCHEMA " TO %s (see the README's Privileges)",
			       w->role, w->role_sql);
	for (int i = 0; i < GRANTS_LEDGER_TABLES; i++) {
		const char *const *tp = ledger_privs[i];
		char all[64] = "";
		for (int k = 1; k < 5 && tp[k]; k++)
			snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", k > 1 ? ", " : "", tp[k]);
		for (int k = 1; k < 5 && tp[k]; k++) {
			char table[64];
			snprintf(table, sizeof table, GRANTS_LEDGER_SCHEMA ".%s", tp[0]);
			const char *p[2] = {table, tp[k]};
			r = query(c, "SELECT pg_catalog.has_table_privilege($1::pg_catalog.text, $2::pg_catalog.text)",
				  2, p, "reading privileges", e);
			if (r == NULL)
				return -1;
			bool ok = PQgetvalue(r, 0, 0)[0] == 't';
			PQclear(r);
			if (!ok)
				return err_set(e, EXIT_CONFIG,
					       "role %s lacks %s on table %s: GRANT %s ON %s TO %s (see the README's "
					       "Privileges)",
					       w->role, tp[k], table, all, table, w->role_sql);
		}
	}
	return 0;
}
