/* ledger.c - exactly once: a chunk's ledger row commits in the same transaction as its rows, so
 * a rerun knows exactly which chunks to skip. */
#include "ledger.h"

#include "grants.h"

#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Advisory lock keys: one for the schema's creation, one per source
 * (hashed from its id and target, in the second key space). */
#define LEDGER_SETUP_LOCK "7418220151"

static int fail(PGconn *c, PGresult *r, const char *what, struct err *e)
{
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
	size_t n = strcspn(m, "\n");
	bool lost = PQstatus(c) != CONNECTION_OK;
	err_set(e, lost ? EXIT_UNAVAILABLE : EXIT_SOFTWARE, "ledger: %s: %.*s", what, (int)n, m);
	if (e != NULL)
		e->retryable = lost;
	PQclear(r);
	return -1;
}

/* Runs sql; a failure is said as what failed, never as the statement (the
 * ledger's DDL is long). */
static int exec_ok(PGconn *c, const char *sql, const char *what, struct err *e)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(c, r, what, e);
	PQclear(r);
	return 0;
}

static void rollback(PGconn *c)
{
	exec_ok(c, "ROLLBACK", "rolling back", NULL);
}

/* The ledger's tables as version 1 made them; the migrations bring them
 * to LEDGER_VERSION. deploy/ledger.sql does the same for a DBA who creates
 * the ledger once (tests/integration/least_privilege.sh checks that both
 * make the same ledger). Statements run with search_path pg_catalog. */
static const char ledger_ddl[] = "CREATE SCHEMA IF NOT EXISTS edonu_ingest;"
				 "CREATE TABLE IF NOT EXISTS edonu_ingest.version (version integer NOT NULL);"
				 "CREATE TABLE IF NOT EXISTS edonu_ingest.sources ("
				 " source_id text NOT NULL,"
				 " target text NOT NULL,"
				 " name text,"
				 " batch_rows integer NOT NULL,"
				 " state text NOT NULL DEFAULT 'loading' CHECK (state IN ('loading', 'complete')),"
				 " records bigint, loaded bigint, rejected bigint,"
				 " loads integer NOT NULL DEFAULT 1,"
				 " started_at timestamptz NOT NULL DEFAULT now(),"
				 " finished_at timestamptz,"
				 " PRIMARY KEY (source_id, target));"
				 "CREATE TABLE IF NOT EXISTS edonu_ingest.chunks ("
				 " source_id text NOT NULL,"
				 " target text NOT NULL,"
				 " chunk bigint NOT NULL,"
				 " records integer NOT NULL,"
				 " loaded integer NOT NULL,"
				 " rejected integer NOT NULL,"
				 " committed_at timestamptz NOT NULL DEFAULT now(),"
				 " PRIMARY KEY (source_id, target, chunk));";

/* Version 3 names a target schema.table with each part quoted unless it
 * is a plain lower-case identifier (catalog_ident): an older target
 * (schema.table as printed, unquoted) that needs quotes is renamed after
 * the table it names now; one that names several ("s.x".t and s."x.t"
 * both print as s.x.t) is kept for each of them, as the older version took
 * it; one that names none (a dropped table) is split at its first dot. */
static const char ledger_targets_v3[] =
    /* old target -> new target: the tables it prints as, else its split */
    "CREATE TABLE edonu_ingest.target_map AS "
    "SELECT DISTINCT t.target AS old, coalesce(m.new, "
    "  CASE WHEN (split_part(t.target, '.', 1))::text ~ '^[a-z_][a-z0-9_$]*$' "
    "    THEN (split_part(t.target, '.', 1))::text "
    "    ELSE '\"' || replace((split_part(t.target, '.', 1))::text, '\"', '\"\"') || '\"' END "
    "  || '.' || "
    "  CASE WHEN (substr(t.target, strpos(t.target, '.') + 1))::text ~ '^[a-z_][a-z0-9_$]*$' "
    "    THEN (substr(t.target, strpos(t.target, '.') + 1))::text "
    "    ELSE '\"' || replace((substr(t.target, strpos(t.target, '.') + 1))::text, '\"', '\"\"') || '\"' END"
    ") AS new "
    "FROM (SELECT target FROM edonu_ingest.sources UNION SELECT target FROM edonu_ingest.chunks "
    "  UNION SELECT target FROM edonu_ingest.rejects) t "
    "LEFT JOIN (SELECT n.nspname || '.' || c.relname AS old, "
    "  CASE WHEN (n.nspname)::text ~ '^[a-z_][a-z0-9_$]*$' THEN (n.nspname)::text "
    "    ELSE '\"' || replace((n.nspname)::text, '\"', '\"\"') || '\"' END "
    "  || '.' || "
    "  CASE WHEN (c.relname)::text ~ '^[a-z_][a-z0-9_$]*$' THEN (c.relname)::text "
    "    ELSE '\"' || replace((c.relname)::text, '\"', '\"\"') || '\"' END AS new "
    "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')) m "
    "ON m.old = t.target;"
    "DELETE FROM edonu_ingest.target_map WHERE old = new;"
    /* each table's rows of those targets, moved to the new ones */
    "WITH moved AS (DELETE FROM edonu_ingest.sources s "
    "  WHERE s.target IN (SELECT old FROM edonu_ingest.target_map) RETURNING s.*) "
    "INSERT INTO edonu_ingest.sources (source_id, target, name, batch_rows, state, records, loaded, "
    "  rejected, loads, started_at, finished_at, ignored, settings) "
    "SELECT x.source_id, m.new, x.name, x.batch_rows, x.state, x.records, x.loaded, x.rejected, "
    "  x.loads, x.started_at, x.finished_at, x.ignored, x.settings "
    "FROM moved x JOIN edonu_ingest.target_map m ON m.old = x.target;"
    "WITH moved AS (DELETE FROM edonu_ingest.chunks s "
    "  WHERE s.target IN (SELECT old FROM edonu_ingest.target_map) RETURNING s.*) "
    "INSERT INTO edonu_ingest.chunks (source_id, target, chunk, records, loaded, rejected, "
    "  committed_at, merged, rejects_written) "
    "SELECT x.source_id, m.new, x.chunk, x.records, x.loaded, x.rejected, x.committed_at, x.merged, "
    "  x.rejects_written "
    "FROM moved x JOIN edonu_ingest.target_map m ON m.old = x.target;"
    "WITH moved AS (DELETE FROM edonu_ingest.rejects s "
    "  WHERE s.target IN (SELECT old FROM edonu_ingest.target_map) RETURNING s.*) "
    "INSERT INTO edonu_ingest.rejects (source_id, target, chunk, record, line, byte_offset, "
    "  column_name, sqlstate, message, raw, header) "
    "SELECT x.source_id, m.new, x.chunk, x.record, x.line, x.byte_offset, x.column_name, x.sqlstate, "
    "  x.message, x.raw, x.header "
    "FROM moved x JOIN edonu_ingest.target_map m ON m.old = x.target;"
    "DROP TABLE edonu_ingest.target_map;"
    "UPDATE edonu_ingest.version SET version = 3";

/* Migration k brings a ledger at version k to version k + 1, in the set-up
 * transaction. Version 0 is an empty ledger. */
static const char *const ledger_migrations[LEDGER_VERSION] = {
    "INSERT INTO edonu_ingest.version VALUES (1)",
    /* 2: rejects recorded with their chunk's commit; what each load
     * stored (its settings) and ignored. Chunks of version 1 kept no
     * rejects: they count as written. */
    "ALTER TABLE edonu_ingest.chunks ADD COLUMN merged integer,"
    " ADD COLUMN rejects_written boolean NOT NULL DEFAULT true;"
    "ALTER TABLE edonu_ingest.sources ADD COLUMN ignored bigint, ADD COLUMN settings text;"
    "CREATE TABLE edonu_ingest.rejects ("
    " source_id text NOT NULL,"
    " target text NOT NULL,"
    " chunk bigint NOT NULL,"
    " record bigint NOT NULL,"
    " line bigint NOT NULL,"
    " byte_offset bigint NOT NULL,"
    " column_name text,"
    " sqlstate text,"
    " message text NOT NULL,"
    " raw bytea NOT NULL,"
    " header bytea,"
    " PRIMARY KEY (source_id, target, record));"
    "UPDATE edonu_ingest.version SET version = 2",
    /* 3: targets named unambiguously. */
    ledger_targets_v3,
    /* 4: where each chunk lies in its input, so that a stream cut by time
     * resumes by position. Chunks of earlier versions have none: their sources
     * resume by chunk number (ledger_source.by_number). */
    "ALTER TABLE edonu_ingest.chunks ADD COLUMN IF NOT EXISTS first_record bigint,"
    " ADD COLUMN IF NOT EXISTS byte_offset bigint, ADD COLUMN IF NOT EXISTS byte_end bigint;"
    "UPDATE edonu_ingest.version SET version = 4",
};

static int newer(int v, struct err *e)
{
	return err_set(e, EXIT_CONFIG, "ledger schema edonu_ingest is at version %d, newer than this edonu-ingest (%d)",
		       v, LEDGER_VERSION);
}

/* The ledger's version (0: no row yet). */
static int read_version(PGconn *c, int *v, struct err *e)
{
	PGresult *r = PQexec(c, "SELECT version FROM edonu_ingest.version");
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "reading the ledger version", e);
	*v = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	return 0;
}

/* Creates what is missing and migrates, in one transaction under the
 * set-up lock. The owners are checked again after the DDL and before any
 * row is written: the schema may have appeared meanwhile. */
static int create_or_migrate(PGconn *c, const struct grants_who *w, struct err *e)
{
	if (exec_ok(c, "BEGIN", "beginning the ledger's set-up", e) < 0)
		return -1;
	struct grants_ledger l;
	int v = 0;
	if (exec_ok(c, "SELECT pg_advisory_xact_lock(" LEDGER_SETUP_LOCK ")", "locking the ledger's set-up", e) < 0 ||
	    exec_ok(c, ledger_ddl, "creating the ledger schema edonu_ingest", e) < 0 ||
	    grants_ledger_inspect(c, w, &l, e) < 0 || read_version(c, &v, e) < 0) {
		rollback(c);
		return -1;
	}
	if (v > LEDGER_VERSION) {
		rollback(c);
		return newer(v, e);
	}
	for (; v < LEDGER_VERSION; v++) {
		char what[48];
		snprintf(what, sizeof what, "migrating the ledger to version %d", v + 1);
		if (exec_ok(c, ledger_migrations[v], what, e) < 0) {
			rollback(c);
			return -1;
		}
	}
	if (exec_ok(c, "COMMIT", "committing the ledger's set-up", e) < 0) {
		rollback(c);
		return -1;
	}
	return grants_ledger_use(c, w, e);
}

int ledger_setup(PGconn *c, struct err *e)
{
	struct grants_who w;
	struct grants_ledger l;
	if (grants_who(c, &w, e) < 0 || grants_ledger_inspect(c, &w, &l, e) < 0)
		return -1;
	int v = -1;
	if (l.schema && l.tables == GRANTS_LEDGER_TABLES) {
		if (grants_ledger_use(c, &w, e) < 0 || read_version(c, &v, e) < 0)
			return -1;
		if (v == LEDGER_VERSION)
			return 0;
		if (v > LEDGER_VERSION)
			return newer(v, e);
	}
	if (!l.schema && !l.can_create)
		return err_set(e, EXIT_CONFIG,
			       "role %s lacks CREATE on database %s to create the ledger schema edonu_ingest: have a "
			       "superuser create it once (psql -d %s -f deploy/ledger.sql) and grant %s the loading "
			       "role's privileges (see the README's Privileges), or GRANT CREATE ON DATABASE %s TO %s",
			       w.role, w.db, w.db_sql, w.role_sql, w.db_sql, w.role_sql);
	if (l.schema && !l.can_alter) {
		char at[48];
		snprintf(at, sizeof at, v >= 0 ? "at version %d" : "incomplete", v);
		return err_set(
		    e, EXIT_CONFIG,
		    "the ledger schema edonu_ingest is %s, this edonu-ingest needs version %d, and role %s may "
		    "not make it so (the ledger belongs to role %s): have %s or a superuser run deploy/ledger.sql "
		    "once (psql -d %s -f deploy/ledger.sql), then load again",
		    at, LEDGER_VERSION, w.role, l.alter_owner, l.alter_owner, w.db_sql);
	}
	return create_or_migrate(c, &w, e);
}

static int add_done(struct ledger_source *ls, uint64_t seq)
{
	if (ls->ndone == ls->done_cap) {
		uint32_t cap = ls->done_cap ? ls->done_cap * 2 : 64;
		uint64_t *p = realloc(ls->done, cap * sizeof *p);
		if (p == NULL)
			return -1;
		ls->done = p;
		ls->done_cap = cap;
	}
	ls->done[ls->ndone++] = seq;
	return 0;
}

/* The source's session lock: a second run of the same input into the same
 * table waits for the next schedule instead of racing this one. */
static int lock_source(PGconn *c, const char *source_id, const char *target, const char *name, struct err *e)
{
	const char *p[2] = {source_id, target};
	PGresult *r =
	    PQexecParams(c, "SELECT pg_try_advisory_lock(hashtext($1 || '/' || $2))", 2, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "locking the source", e);
	bool locked = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!locked)
		return err_set(e, EXIT_TEMPFAIL, "%s: another run is loading this input into %s now", name, target);
	return 0;
}

int ledger_relock(PGconn *c, const struct ledger_source *ls, struct err *e)
{
	return lock_source(c, ls->source_id, ls->target, ls->source_id, e);
}

/* --force, or a reload with other settings: forget the source's chunks and
 * rejects and start a new load of it, in one transaction. */
static int forget_load(PGconn *c, const char *const p[5], struct err *e)
{
	static const char *const sql[] = {
	    "DELETE FROM edonu_ingest.chunks WHERE source_id = $1 AND target = $2",
	    "DELETE FROM edonu_ingest.rejects WHERE source_id = $1 AND target = $2",
	    "UPDATE edonu_ingest.sources SET state = 'loading', batch_rows = $4::integer, name = $3, "
	    "loads = loads + 1, started_at = now(), finished_at = NULL, records = NULL, loaded = NULL, "
	    "rejected = NULL, ignored = NULL, settings = $5 WHERE source_id = $1 AND target = $2",
	};
	if (exec_ok(c, "BEGIN", "beginning to forget the earlier load", e) < 0)
		return -1;
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		int n = i + 1 < sizeof sql / sizeof sql[0] ? 2 : 5;
		PGresult *r = PQexecParams(c, sql[i], n, NULL, p, NULL, NULL, 0);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			fail(c, r, "forgetting the earlier load", e);
			rollback(c);
			return -1;
		}
		PQclear(r);
	}
	return exec_ok(c, "COMMIT", "forgetting the earlier load", e);
}

/* The source's committed chunks: their numbers, their rejects, and where
 * they lie (p: source id and target). */
static int read_committed(PGconn *c, const char *const *p, struct ledger_source *ls, struct err *e)
{
	PGresult *r = PQexecParams(c,
				   "SELECT chunk, rejected, records, first_record, byte_offset, byte_end "
				   "FROM edonu_ingest.chunks WHERE source_id = $1 AND target = $2 ORDER BY chunk",
				   2, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "reading committed chunks", e);
	ls->rejected = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		ls->rejected += strtoull(PQgetvalue(r, i, 1), NULL, 10);
		ls->committed_records += strtoull(PQgetvalue(r, i, 2), NULL, 10);
		int rc = add_done(ls, strtoull(PQgetvalue(r, i, 0), NULL, 10));
		if (PQgetisnull(r, i, 3))
			ls->by_number = true;
		else if (rc == 0)
			rc = spans_add(&ls->committed, strtoull(PQgetvalue(r, i, 3), NULL, 10),
				       strtoull(PQgetvalue(r, i, 2), NULL, 10), strtoull(PQgetvalue(r, i, 4), NULL, 10),
				       strtoull(PQgetvalue(r, i, 5), NULL, 10));
		if (rc < 0) {
			PQclear(r);
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		}
	}
	PQclear(r);
	spans_merge(&ls->committed);
	return 0;
}

int ledger_begin(PGconn *c, const char *source_id, const char *target, const char *name, uint32_t batch_rows,
		 const char *settings, bool force, struct ledger_source *ls, struct err *e)
{
	memset(ls, 0, sizeof *ls);
	snprintf(ls->source_id, sizeof ls->source_id, "%s", source_id);
	snprintf(ls->target, sizeof ls->target, "%s", target);
	char rows[16];
	snprintf(rows, sizeof rows, "%u", batch_rows);
	const char *p[5] = {ls->source_id, ls->target, name, rows, settings};

	if (lock_source(c, ls->source_id, ls->target, name, e) < 0)
		return -1;
	PGresult *r;

	if (force && forget_load(c, p, e) < 0)
		return -1;
	/* A source registered by an older version has no settings: it takes
	 * this run's. */
	r = PQexecParams(c,
			 "INSERT INTO edonu_ingest.sources (source_id, target, name, batch_rows, settings) "
			 "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_id, target) DO UPDATE SET name = "
			 "EXCLUDED.name, settings = coalesce(sources.settings, EXCLUDED.settings) "
			 "RETURNING batch_rows, state, coalesce(records, 0), coalesce(loaded, 0), "
			 "coalesce(rejected, 0), coalesce(ignored, 0), settings, "
			 "coalesce(to_char(finished_at, 'YYYY-MM-DD HH24:MI:SSOF'), '')",
			 5, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return fail(c, r, "registering the source", e);
	ls->batch_rows = (uint32_t)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
	ls->complete = strcmp(PQgetvalue(r, 0, 1), "complete") == 0;
	ls->records = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
	ls->loaded = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
	ls->rejected = strtoull(PQgetvalue(r, 0, 4), NULL, 10);
	ls->ignored = strtoull(PQgetvalue(r, 0, 5), NULL, 10);
	snprintf(ls->settings, sizeof ls->settings, "%s", PQgetvalue(r, 0, 6));
	snprintf(ls->finished_at, sizeof ls->finished_at, "%s", PQgetvalue(r, 0, 7));
	PQclear(r);
	if (ls->complete)
		return 0;
	return read_committed(c, p, ls, e);
}

int ledger_file_known(PGconn *c, const char *file_id, size_t legacy_len, const char *target, struct err *e)
{
	/* "file:SIZE-": the size, in digits, holds no LIKE wildcard. */
	const char *dash = strchr(file_id, '-');
	if (dash == NULL)
		return err_set(e, EXIT_SOFTWARE, "file identity '%s' has no size", file_id);
	char like[64], len[16];
	snprintf(like, sizeof like, "%.*s%%", (int)(dash + 1 - file_id), file_id);
	snprintf(len, sizeof len, "%zu", legacy_len);
	const char *p[4] = {file_id, target, like, len};
	PGresult *r =
	    PQexecParams(c,
			 "SELECT coalesce(bool_or(source_id = $1), false), count(*) FROM edonu_ingest.sources "
			 "WHERE target = $2 AND (source_id = $1 OR (source_id LIKE $3 AND "
			 "length(source_id) = $4::integer))",
			 4, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return fail(c, r, "looking up the source", e);
	int known = PQgetvalue(r, 0, 0)[0] == 't' ? 1 : strcmp(PQgetvalue(r, 0, 1), "0") != 0 ? 2 : 0;
	PQclear(r);
	return known;
}

int ledger_has_source(PGconn *c, const char *source_id, const char *target, struct err *e)
{
	const char *p[2] = {source_id, target};
	PGresult *r = PQexecParams(c, "SELECT 1 FROM edonu_ingest.sources WHERE source_id = $1 AND target = $2", 2,
				   NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "looking up the source", e);
	int found = PQntuples(r) > 0;
	PQclear(r);
	return found;
}

bool ledger_chunk_done(const struct ledger_source *ls, uint64_t seq)
{
	uint32_t lo = 0, hi = ls->ndone;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ls->done[mid] < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ls->ndone && ls->done[lo] == seq;
}

uint64_t ledger_chunk_number(const struct ledger_source *ls, uint64_t *next)
{
	uint64_t n = *next;
	while (ledger_chunk_done(ls, n))
		n++;
	*next = n + 1;
	return n;
}

int ledger_chunk_committed(PGconn *c, const char *source_id, const char *target, uint64_t seq, uint64_t *loaded,
			   struct err *e)
{
	char s[24];
	snprintf(s, sizeof s, "%" PRIu64, seq);
	const char *p[3] = {source_id, target, s};
	PGresult *r = PQexecParams(c,
				   "SELECT loaded FROM edonu_ingest.chunks WHERE source_id OPERATOR(pg_catalog.=) "
				   "$1::pg_catalog.text AND target OPERATOR(pg_catalog.=) $2::pg_catalog.text AND "
				   "chunk OPERATOR(pg_catalog.=) $3::pg_catalog.int8",
				   3, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "checking a chunk", e);
	int found = PQntuples(r) == 1;
	if (found)
		*loaded = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return found;
}

int ledger_finish(PGconn *c, struct ledger_source *ls, bool ignore, struct err *e)
{
	const char *p[3] = {ls->source_id, ls->target, ignore ? "t" : "f"};
	/* A chunk's loaded counts every record the server accepted; with
	 * --on-conflict ignore those its merge did not write were ignored. */
	PGresult *r =
	    PQexecParams(c,
			 "UPDATE edonu_ingest.sources s SET state = 'complete', finished_at = now(), "
			 "records = t.records, loaded = t.loaded - t.ignored, rejected = t.rejected, "
			 "ignored = t.ignored "
			 "FROM (SELECT coalesce(sum(records), 0) AS records, coalesce(sum(loaded), 0) AS loaded, "
			 "coalesce(sum(rejected), 0) AS rejected, "
			 "CASE WHEN $3::boolean THEN coalesce(sum(loaded - merged), 0) ELSE 0 END AS ignored "
			 "FROM edonu_ingest.chunks WHERE source_id = $1 AND target = $2) t "
			 "WHERE s.source_id = $1 AND s.target = $2 RETURNING s.loaded",
			 3, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "marking the source complete", e);
	PQclear(r);
	ls->complete = true;
	return 0;
}

int ledger_sync(PGconn *c, const struct ledger_source *ls, struct err *e)
{
	const char *p[2] = {ls->source_id, ls->target};
	PGresult *r = PQexecParams(c,
				   "UPDATE edonu_ingest.sources SET state = state "
				   "WHERE source_id = $1 AND target = $2",
				   2, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
		return fail(c, r, "making the committed chunks durable", e);
	PQclear(r);
	return 0;
}

static uint64_t get_u64(const PGresult *r, int row, int col)
{
	uint64_t v;
	ASSERT(PQgetlength(r, row, col) == 8);
	memcpy(&v, PQgetvalue(r, row, col), 8);
	return be64toh(v);
}

static const char *get_str(const PGresult *r, int row, int col, size_t *len)
{
	if (PQgetisnull(r, row, col)) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = (size_t)PQgetlength(r, row, col);
	return PQgetvalue(r, row, col);
}

long ledger_rejects_read(PGconn *c, const struct ledger_source *ls, bool pending_only, ledger_reject_fn *fn, void *ctx,
			 struct err *e)
{
	const char *p[2] = {ls->source_id, ls->target};
	/* Binary results: raw and header come as the bytes they are. One row
	 * at a time, so a source whose every record was rejected does not
	 * have to fit in memory. */
	const char *sql =
	    pending_only ? "SELECT r.chunk, r.record, r.line, r.byte_offset, r.column_name, r.sqlstate, r.message, "
			   "r.raw, r.header FROM edonu_ingest.rejects r JOIN edonu_ingest.chunks c USING "
			   "(source_id, target, chunk) WHERE r.source_id = $1 AND r.target = $2 AND NOT "
			   "c.rejects_written ORDER BY r.record"
			 : "SELECT chunk, record, line, byte_offset, column_name, sqlstate, message, raw, header "
			   "FROM edonu_ingest.rejects WHERE source_id = $1 AND target = $2 ORDER BY record";
	if (!PQsendQueryParams(c, sql, 2, NULL, p, NULL, NULL, 1) || !PQsetSingleRowMode(c))
		return fail(c, NULL, "reading recorded rejects", e);
	long n = 0;
	int rc = 0;
	PGresult *r;
	while ((r = PQgetResult(c)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && rc == 0) {
			struct ledger_reject lr = {
			    .chunk = get_u64(r, 0, 0),
			    .record = get_u64(r, 0, 1),
			    .line = get_u64(r, 0, 2),
			    .byte_offset = get_u64(r, 0, 3),
			    .column = get_str(r, 0, 4, NULL),
			    .sqlstate = get_str(r, 0, 5, NULL),
			    .message = get_str(r, 0, 6, NULL),
			};
			lr.raw = get_str(r, 0, 7, &lr.raw_len);
			lr.header = get_str(r, 0, 8, &lr.header_len);
			if (fn(ctx, &lr, e) < 0)
				rc = -1;
			else
				n++;
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc == 0) {
			rc = fail(c, r, "reading recorded rejects", e);
			continue; /* fail cleared r */
		}
		PQclear(r);
	}
	return rc < 0 ? -1 : n;
}

int ledger_rejects_written(PGconn *c, const struct ledger_source *ls, const uint64_t *chunks, uint32_t n, struct err *e)
{
	if (n == 0)
		return 0;
	/* '{1,2,...}': at most 21 bytes a number. */
	size_t cap = (size_t)n * 21 + 3;
	char *list = malloc(cap);
	if (list == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	size_t len = 0;
	list[len++] = '{';
	for (uint32_t i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, cap - len, "%s%" PRIu64, i ? "," : "", chunks[i]);
	list[len++] = '}';
	list[len] = '\0';
	const char *p[3] = {ls->source_id, ls->target, list};
	PGresult *r = PQexecParams(c,
				   "UPDATE edonu_ingest.chunks SET rejects_written = true WHERE source_id = $1 AND "
				   "target = $2 AND chunk = ANY ($3::bigint[])",
				   3, NULL, p, NULL, NULL, 0);
	free(list);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
		return fail(c, r, "marking rejects written", e);
	PQclear(r);
	return 0;
}

void ledger_end(PGconn *c, struct ledger_source *ls)
{
	if (c != NULL && PQstatus(c) == CONNECTION_OK && ls->source_id[0]) {
		const char *p[2] = {ls->source_id, ls->target};
		PGresult *r =
		    PQexecParams(c, "SELECT pg_advisory_unlock(hashtext($1 || '/' || $2))", 2, NULL, p, NULL, NULL, 0);
		PQclear(r);
	}
	free(ls->done);
	spans_free(&ls->committed);
	memset(ls, 0, sizeof *ls);
}
