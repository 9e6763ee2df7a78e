/* ledger.c - exactly once: a chunk's ledger row commits in the same transaction as its rows, so
 * a rerun knows exactly which chunks to skip. */
#include "ledger.h"

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
	e->retryable = lost;
	PQclear(r);
	return -1;
}

static int exec_ok(PGconn *c, const char *sql, struct err *e)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(c, r, sql, e);
	PQclear(r);
	return 0;
}

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

int ledger_setup(PGconn *c, struct err *e)
{
	/* Fast path: the ledger exists at our version. */
	PGresult *r = PQexec(c, "SELECT version FROM edonu_ingest.version");
	if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		int v = atoi(PQgetvalue(r, 0, 0));
		PQclear(r);
		if (v == LEDGER_VERSION)
			return 0;
		if (v > LEDGER_VERSION)
			return err_set(e, EXIT_CONFIG,
				       "ledger schema edonu_ingest is at version %d, newer than this edonu-ingest (%d)",
				       v, LEDGER_VERSION);
	} else {
		PQclear(r);
		if (PQstatus(c) != CONNECTION_OK)
			return fail(c, NULL, "reading the ledger version", e);
	}
	if (exec_ok(c, "BEGIN", e) < 0)
		return -1;
	if (exec_ok(c, "SELECT pg_advisory_xact_lock(" LEDGER_SETUP_LOCK ")", e) < 0 || exec_ok(c, ledger_ddl, e) < 0) {
		exec_ok(c, "ROLLBACK", NULL);
		return -1;
	}
	r = PQexec(c, "SELECT version FROM edonu_ingest.version");
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		fail(c, r, "reading the ledger version", e);
		exec_ok(c, "ROLLBACK", NULL);
		return -1;
	}
	int v = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	/* Version 0 is an empty ledger; later versions add their migrations
	 * here, each step in this transaction. */
	const char *sql = v == 0 ? "INSERT INTO edonu_ingest.version VALUES (1)" : NULL;
	if (v > LEDGER_VERSION) {
		exec_ok(c, "ROLLBACK", NULL);
		return err_set(e, EXIT_CONFIG,
			       "ledger schema edonu_ingest is at version %d, newer than this edonu-ingest (%d)", v,
			       LEDGER_VERSION);
	}
	if ((sql && exec_ok(c, sql, e) < 0) || exec_ok(c, "COMMIT", e) < 0) {
		exec_ok(c, "ROLLBACK", NULL);
		return -1;
	}
	return 0;
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

int ledger_begin(PGconn *c, const char *source_id, const char *target, const char *name, uint32_t batch_rows,
		 bool force, struct ledger_source *ls, struct err *e)
{
	memset(ls, 0, sizeof *ls);
	snprintf(ls->source_id, sizeof ls->source_id, "%s", source_id);
	snprintf(ls->target, sizeof ls->target, "%s", target);
	char rows[16];
	snprintf(rows, sizeof rows, "%u", batch_rows);
	const char *p[4] = {ls->source_id, ls->target, name, rows};

	if (lock_source(c, ls->source_id, ls->target, name, e) < 0)
		return -1;
	PGresult *r;

	if (force) {
		if (exec_ok(c, "BEGIN", e) < 0)
			return -1;
		r = PQexecParams(c, "DELETE FROM edonu_ingest.chunks WHERE source_id = $1 AND target = $2", 2, NULL, p,
				 NULL, NULL, 0);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			fail(c, r, "forgetting the earlier load", e);
			exec_ok(c, "ROLLBACK", NULL);
			return -1;
		}
		PQclear(r);
		r = PQexecParams(c,
				 "UPDATE edonu_ingest.sources SET state = 'loading', batch_rows = $4, name = $3, "
				 "loads = loads + 1, started_at = now(), finished_at = NULL, records = NULL, "
				 "loaded = NULL, rejected = NULL WHERE source_id = $1 AND target = $2",
				 4, NULL, p, NULL, NULL, 0);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
			fail(c, r, "forgetting the earlier load", e);
			exec_ok(c, "ROLLBACK", NULL);
			return -1;
		}
		PQclear(r);
		if (exec_ok(c, "COMMIT", e) < 0)
			return -1;
	}
	r = PQexecParams(
	    c,
	    "INSERT INTO edonu_ingest.sources (source_id, target, name, batch_rows) "
	    "VALUES ($1, $2, $3, $4) ON CONFLICT (source_id, target) DO UPDATE SET name = EXCLUDED.name "
	    "RETURNING batch_rows, state, coalesce(records, 0), coalesce(loaded, 0), coalesce(rejected, 0)",
	    4, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return fail(c, r, "registering the source", e);
	ls->batch_rows = (uint32_t)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
	ls->complete = strcmp(PQgetvalue(r, 0, 1), "complete") == 0;
	ls->records = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
	ls->loaded = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
	ls->rejected = strtoull(PQgetvalue(r, 0, 4), NULL, 10);
	PQclear(r);
	if (ls->complete)
		return 0;
	r = PQexecParams(c, "SELECT chunk FROM edonu_ingest.chunks WHERE source_id = $1 AND target = $2 ORDER BY chunk",
			 2, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "reading committed chunks", e);
	for (int i = 0; i < PQntuples(r); i++) {
		if (add_done(ls, strtoull(PQgetvalue(r, i, 0), NULL, 10)) < 0) {
			PQclear(r);
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		}
	}
	PQclear(r);
	return 0;
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

int ledger_chunk_committed(PGconn *c, const char *source_id, const char *target, uint64_t seq, uint64_t *loaded,
			   struct err *e)
{
	char s[24];
	snprintf(s, sizeof s, "%" PRIu64, seq);
	const char *p[3] = {source_id, target, s};
	PGresult *r = PQexecParams(c,
				   "SELECT loaded FROM edonu_ingest.chunks WHERE source_id = $1 AND target = $2 "
				   "AND chunk = $3",
				   3, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "checking a chunk", e);
	int found = PQntuples(r) == 1;
	if (found)
		*loaded = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return found;
}

int ledger_finish(PGconn *c, struct ledger_source *ls, struct err *e)
{
	const char *p[2] = {ls->source_id, ls->target};
	PGresult *r =
	    PQexecParams(c,
			 "UPDATE edonu_ingest.sources s SET state = 'complete', finished_at = now(), "
			 "records = t.records, loaded = t.loaded, rejected = t.rejected "
			 "FROM (SELECT coalesce(sum(records), 0) AS records, coalesce(sum(loaded), 0) AS loaded, "
			 "coalesce(sum(rejected), 0) AS rejected FROM edonu_ingest.chunks "
			 "WHERE source_id = $1 AND target = $2) t "
			 "WHERE s.source_id = $1 AND s.target = $2 RETURNING s.loaded",
			 2, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(c, r, "marking the source complete", e);
	PQclear(r);
	ls->complete = true;
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
	memset(ls, 0, sizeof *ls);
}
