/* bench_e2e.c - the bench's whole loads: edonu-ingest as a user runs it, with and without Redis, side by side with psql \copy and pgloader on fresh tables, and the scaling runs. */
#include "bench_suite.h"

#include "gen.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int exec_sql(struct bench *b, const char *sql, struct err *e)
{
	PGresult *r = PQexec(b->conn, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(b->conn);
		bool lost = PQstatus(b->conn) != CONNECTION_OK;
		err_set(e, lost ? EXIT_UNAVAILABLE : EXIT_SOFTWARE, "PostgreSQL: %.*s", (int)strcspn(m, "\n"), m);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

int bench_db_connect(struct bench *b, struct err *e)
{
	/* A bounded wait: a wrong host should fail in seconds, not minutes. */
	const char *keys[] = {"dbname", "connect_timeout", "client_encoding", NULL};
	const char *vals[] = {b->dsn ? b->dsn : "", "10", "UTF8", NULL};
	b->conn = PQconnectdbParams(keys, vals, 1);
	if (b->conn == NULL || PQstatus(b->conn) != CONNECTION_OK) {
		const char *m = b->conn ? PQerrorMessage(b->conn) : "out of memory";
		return err_set(e, EXIT_UNAVAILABLE, "cannot connect to PostgreSQL: %.*s", (int)strcspn(m, "\n"), m);
	}
	return exec_sql(b, "SET client_min_messages = warning", e);
}

/* DROP and CREATE table from the orders DDL. */
int bench_fresh_table(struct bench *b, const char *table, struct err *e)
{
	char sql[4096];
	int n = snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s; ", table);
	if (gen_table_sql(GEN_ORDERS, table, sql + n, sizeof sql - (size_t)n) < 0)
		return err_set(e, EXIT_SOFTWARE, "orders DDL does not fit");
	return exec_sql(b, sql, e);
}

/* Forgets earlier loads so that the loader skips nothing. On our own server
 * the whole ledger goes; on the user's, only the bench tables' entries, so
 * that their other loads keep their exactly-once record. */
static int reset_ledger(struct bench *b, struct err *e)
{
	if (b->own_pg)
		return exec_sql(b, "DROP SCHEMA IF EXISTS edonu_ingest CASCADE", e);
	return exec_sql(b,
			"DO $$BEGIN IF to_regclass('edonu_ingest.sources') IS NOT NULL THEN "
			"DELETE FROM edonu_ingest.chunks WHERE target LIKE '%edonu\\_bench\\_%'; "
			"DELETE FROM edonu_ingest.sources WHERE target LIKE '%edonu\\_bench\\_%'; "
			"END IF; END$$",
			e);
}

/* A fresh table and ledger, and a checkpoint so that no run pays for the
 * WAL of the one before (the checkpoint needs rights the user may lack on
 * their own server, so its failure is ignored). */
static int prepare_run(struct bench *b, const char *table, struct err *e)
{
	if (bench_interrupted())
		return err_set(e, EXIT_TEMPFAIL, "interrupted");
	if (bench_fresh_table(b, table, e) < 0 || reset_ledger(b, e) < 0)
		return -1;
	PQclear(PQexec(b->conn, "CHECKPOINT"));
	return 0;
}

static int count_rows(struct bench *b, const char *table, uint64_t want, const char *who, struct err *e)
{
	char sql[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	PGresult *r = PQexec(b->conn, sql);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, EXIT_UNAVAILABLE, "PostgreSQL: counting %s: %s", table, PQerrorMessage(b->conn));
	}
	uint64_t n = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (n != want)
		return err_set(e, EXIT_SOFTWARE, "%s left %" PRIu64 " rows in %s, not %" PRIu64, who, n, table, want);
	return 0;
}

/* ------------------------------------------------------------------------
 * End to end. */

/* The loader's --summary JSON, read whole (it is a few hundred bytes). */
static int summary_read(const char *path, char *text, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(text, 1, cap - 1, f);
	fclose(f);
	text[n] = '\0';
	return 0;
}

/* The number after "key": in the summary; false when it is not there. */
static bool summary_u64(const char *text, const char *key, uint64_t *v)
{
	char needle[64];
	snprintf(needle, sizeof needle, "\"%s\":", key);
	const char *p = strstr(text, needle);
	if (p == NULL)
		return false;
	*v = strtoull(p + strlen(needle), NULL, 10);
	return true;
}

/* Exit codes of a failed child, passed on when they are ours (sysexits). */
static int child_failure(const struct bench *b, const char *who, int rc, struct err *e)
{
	bench_show_log_tail(b);
	if (bench_interrupted())
		return err_set(e, EXIT_TEMPFAIL, "interrupted");
	if (rc == 127)
		return err_set(e, EXIT_UNAVAILABLE, "%s could not be started", who);
	return err_set(e, rc >= EXIT_USAGE && rc <= EXIT_CONFIG ? rc : EXIT_SOFTWARE, "%s exited %d", who, rc);
}

/* One load by edonu-ingest as a user runs it; *keys_invalidated is what its
 * summary says (0 without redis). */
static int run_edonu(struct bench *b, const char *file, uint64_t rows, uint32_t workers, bool redis, double *seconds,
		     uint64_t *keys_invalidated, struct err *e)
{
	if (prepare_run(b, TABLE_EDONU, e) < 0)
		return -1;
	char wbuf[16];
	snprintf(wbuf, sizeof wbuf, "%u", workers);
	char *argv[24];
	int n = 0;
	argv[n++] = b->self;
	argv[n++] = "load";
	argv[n++] = "--dsn";
	argv[n++] = (char *)b->dsn;
	argv[n++] = "--table";
	argv[n++] = TABLE_EDONU;
	argv[n++] = "--summary";
	argv[n++] = b->summary;
	argv[n++] = "--progress";
	argv[n++] = "never";
	argv[n++] = "--workers";
	argv[n++] = wbuf;
	if (redis) {
		argv[n++] = "--redis";
		argv[n++] = (char *)b->redis;
		argv[n++] = "--invalidate";
		argv[n++] = INVALIDATE_TEMPLATE;
		if (b->has_state_dir) {
			argv[n++] = "--state-dir";
			argv[n++] = b->state;
		}
	}
	argv[n++] = (char *)file;
	argv[n] = NULL;
	unlink(b->summary);
	int rc = bench_run_child(b, argv, seconds);
	if (rc != 0)
		return child_failure(b, "edonu-ingest load", rc, e);
	char text[8192];
	uint64_t loaded, skipped, keys = 0;
	if (summary_read(b->summary, text, sizeof text) < 0 || !summary_u64(text, "loaded", &loaded) ||
	    !summary_u64(text, "skipped", &skipped))
		return err_set(e, EXIT_SOFTWARE, "edonu-ingest load wrote no readable --summary %s", b->summary);
	if (loaded != rows || skipped != 0)
		return err_set(e, EXIT_SOFTWARE,
			       "edonu-ingest load loaded %" PRIu64 " and skipped %" PRIu64 " of %" PRIu64 " records",
			       loaded, skipped, rows);
	/* A figure "with Redis" that invalidated nothing would be a lie. */
	if (redis && (!summary_u64(text, "keys_invalidated", &keys) || keys == 0))
		return err_set(e, EXIT_SOFTWARE, "edonu-ingest load with --invalidate invalidated no keys");
	*keys_invalidated = keys;
	return count_rows(b, TABLE_EDONU, rows, "edonu-ingest load", e);
}

static int run_psql(struct bench *b, double *seconds, struct err *e)
{
	if (prepare_run(b, TABLE_PSQL, e) < 0)
		return -1;
	char cmd[PATH_MAX + 128];
	snprintf(cmd, sizeof cmd, "\\copy " TABLE_PSQL " from '%s' csv header", b->csv);
	char *argv[] = {"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", (char *)b->dsn, "-c", cmd, NULL};
	int rc = bench_run_child(b, argv, seconds);
	if (rc != 0)
		return child_failure(b, "psql \\copy", rc, e);
	return count_rows(b, TABLE_PSQL, b->rows, "psql \\copy", e);
}

/* pgloader wants a URI; it is built from the connection the bench holds. */
static int run_pgloader(struct bench *b, double *seconds, struct err *e)
{
	if (prepare_run(b, TABLE_PGLOADER, e) < 0)
		return -1;
	const char *host = PQhost(b->conn);
	char uri[PATH_MAX + 256];
	if (host != NULL && host[0] == '/')
		snprintf(uri, sizeof uri, "postgresql://%s@unix:%s:%s/%s?tablename=%s", PQuser(b->conn), host,
			 PQport(b->conn), PQdb(b->conn), TABLE_PGLOADER);
	else
		snprintf(uri, sizeof uri, "postgresql://%s@%s:%s/%s?tablename=%s", PQuser(b->conn),
			 host ? host : "localhost", PQport(b->conn), PQdb(b->conn), TABLE_PGLOADER);
	char fields[1024] = "";
	for (uint32_t k = 0; k < b->table.ncols; k++)
		snprintf(fields + strlen(fields), sizeof fields - strlen(fields), "%s%s", k ? "," : "",
			 b->table.cols[k].enc.name);
	char *argv[] = {b->pgloader,
			"--type",
			"csv",
			"--field",
			fields,
			"--with",
			"skip header = 1",
			"--with",
			"fields terminated by ','",
			"--with",
			"fields optionally enclosed by '\"'",
			b->csv,
			uri,
			NULL};
	int rc = bench_run_child(b, argv, seconds);
	if (rc != 0)
		return child_failure(b, "pgloader", rc, e);
	return count_rows(b, TABLE_PGLOADER, b->rows, "pgloader", e);
}

static void figure_init(struct figure *f, const char *key, const char *label, uint64_t rows, uint64_t bytes,
			uint32_t workers)
{
	*f = (struct figure){.key = key, .label = label, .records = rows, .bytes = bytes, .workers = workers};
}

/* Alternates the loaders run by run, so that drift in the machine (page
 * cache, autovacuum, a noisy neighbour) falls on all of them alike. */
int bench_end_to_end(struct bench *b, struct err *e)
{
	figure_init(&b->psql, "psql", "psql \\copy csv", b->rows, b->csv_bytes, 0);
	figure_init(&b->edonu, "edonu", "edonu-ingest", b->rows, b->csv_bytes, b->workers);
	figure_init(&b->edonu_redis, "edonu_with_redis", "edonu-ingest + Redis invalidation", b->rows, b->csv_bytes,
		    b->workers);
	figure_init(&b->pgl, "pgloader", "pgloader", b->rows, b->csv_bytes, 0);
	if (!b->has_invalidate)
		b->edonu_redis.why_not = "not available yet: load has no --invalidate";
	if (b->pgloader[0] == '\0')
		b->pgl.why_not = "not installed";
	for (uint32_t run = 0; run < b->runs; run++) {
		double s;
		uint64_t keys;
		if (run_psql(b, &s, e) < 0)
			return -1;
		bench_figure_add(&b->psql, s);
		if (run_edonu(b, b->csv, b->rows, b->workers, false, &s, &keys, e) < 0)
			return -1;
		bench_figure_add(&b->edonu, s);
		if (b->edonu_redis.why_not == NULL) {
			if (run_edonu(b, b->csv, b->rows, b->workers, true, &s, &keys, e) < 0)
				return -1;
			b->edonu_redis.keys_invalidated = keys;
			bench_figure_add(&b->edonu_redis, s);
		}
		if (b->pgl.why_not == NULL) {
			/* pgloader is a comparison, not the subject: when it fails
			 * the suite says so and goes on. */
			if (run_pgloader(b, &s, e) < 0) {
				if (bench_interrupted())
					return -1;
				fprintf(stderr, "edonu-ingest: bench: pgloader: %s\n", e->msg);
				snprintf(b->pgl_failure, sizeof b->pgl_failure, "failed: %s", e->msg);
				b->pgl.why_not = b->pgl_failure;
				err_clear(e);
			} else {
				bench_figure_add(&b->pgl, s);
			}
		}
	}
	return 0;
}

/* The full run: edonu-ingest end to end at 1x and 4x the rows, with 1, 2,
 * 4, ... workers up to the core count. */
int bench_scaling(struct bench *b, struct err *e)
{
	uint32_t wl[BENCH_SCALE_WORKERS_MAX];
	uint32_t nw = 0;
	for (uint32_t w = 1; w < b->cpus && nw < BENCH_SCALE_WORKERS_MAX - 1; w *= 2)
		wl[nw++] = w;
	wl[nw++] = b->cpus;
	for (uint32_t factor = 1; factor <= BENCH_SCALE_ROWS_FACTOR; factor *= BENCH_SCALE_ROWS_FACTOR) {
		const char *file = factor == 1 ? b->csv : b->csv4;
		uint64_t bytes = factor == 1 ? b->csv_bytes : b->csv4_bytes;
		for (uint32_t i = 0; i < nw; i++) {
			ASSERT(b->nscale < BENCH_SCALE_MAX);
			struct figure *f = &b->scale[b->nscale++];
			figure_init(f, "scaling", "edonu-ingest", b->rows * factor, bytes, wl[i]);
			for (uint32_t run = 0; run < b->runs; run++) {
				double s;
				uint64_t keys;
				if (run_edonu(b, file, f->records, wl[i], false, &s, &keys, e) < 0)
					return -1;
				bench_figure_add(f, s);
			}
		}
	}
	return 0;
}
