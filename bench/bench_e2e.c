/* bench_e2e.c - the bench's whole loads: edonu-ingest as a user runs it, with and without Redis, side by side with psql \copy, the binary-COPY floor and pgloader on fresh tables, each with its CPU-seconds, and the scaling runs. */
#include "bench_suite.h"

#include "../core/buf.h"
#include "../core/chunk.h"
#include "../core/limits.h"
#include "../core/secret.h"
#include "../stages/codec.h"
#include "../stages/encode.h"
#include "gen.h"

#include <errno.h>
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
		char m[512];
		secret_mask_dsn(b->dsn, b->conn ? PQerrorMessage(b->conn) : "out of memory", m, sizeof m);
		return err_set(e, EXIT_UNAVAILABLE, "cannot connect to PostgreSQL: %.*s", (int)strcspn(m, "\n"), m);
	}
	return exec_sql(b, "SET client_min_messages = warning", e);
}

/* DROP and CREATE table from the orders DDL, with autovacuum off: a vacuum
 * or analyze of a table just loaded (100-200 ms of server CPU) would land in
 * whichever run is timed when the launcher wakes, and a loader that commits
 * chunk by chunk reports its rows while it loads, so the launcher can start
 * on its table mid-load where a single-transaction loader's is untouched. */
int bench_fresh_table(struct bench *b, const char *table, struct err *e)
{
	char sql[4096];
	int n = snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s; ", table);
	if (gen_table_sql(GEN_ORDERS, table, sql + n, sizeof sql - (size_t)n) < 0)
		return err_set(e, EXIT_SOFTWARE, "orders DDL does not fit");
	size_t len = strlen(sql);
	n = snprintf(sql + len, sizeof sql - len, "; ALTER TABLE %s SET (autovacuum_enabled = false)", table);
	if (n < 0 || (size_t)n >= sizeof sql - len)
		return err_set(e, EXIT_SOFTWARE, "orders DDL does not fit");
	return exec_sql(b, sql, e);
}

/* Forgets earlier loads so that the loader skips nothing. The ledger itself
 * stays, as it does between the runs of a scheduled job: only the first
 * run ever creates it (one run of the bench's first figure, which the
 * median leaves out). On our own server its records go; on the user's,
 * only the bench tables' entries, so that their other loads keep their
 * exactly-once record. */
static int reset_ledger(struct bench *b, struct err *e)
{
	if (b->own_pg)
		return exec_sql(b,
				"DO $$BEGIN IF to_regclass('edonu_ingest.sources') IS NOT NULL THEN "
				"TRUNCATE edonu_ingest.rejects, edonu_ingest.chunks, edonu_ingest.sources; "
				"END IF; END$$",
				e);
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
 * The server's CPU-seconds. */

/* The postmaster is the parent of this session's backend, when /proc shows
 * that process with the server's other processes (pg_stat_activity's) as
 * its children too: a pid of a server elsewhere that happens to exist here
 * is not taken for it. */
void bench_find_postmaster(struct bench *b)
{
	/* The server's own processes: at least the checkpointer, the
	 * background writer and the WAL writer. */
	enum { PROCS_MIN = 3 };
	b->postmaster = 0;
	b->server_cpu_why = "the server's processes are not on this machine";
	PGresult *r = PQexec(b->conn, "SELECT pg_backend_pid(), array_to_string(array(SELECT pid FROM "
				      "pg_stat_activity WHERE pid <> pg_backend_pid()), ' ')");
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		b->server_cpu_why = "the server's processes cannot be listed";
		PQclear(r);
		return;
	}
	pid_t pm = bench_parent_of((pid_t)strtol(PQgetvalue(r, 0, 0), NULL, 10));
	uint32_t seen = 0;
	bool others = false;
	for (const char *p = PQgetvalue(r, 0, 1); *p != '\0';) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		p = end;
		pid_t parent = bench_parent_of((pid_t)pid);
		seen += parent == pm;
		/* 0: it ended since the query. */
		others |= parent != 0 && parent != pm;
	}
	PQclear(r);
	if (pm > 1 && !others && seen >= PROCS_MIN) {
		b->postmaster = pm;
		b->server_cpu_why = NULL;
	}
}

/* Runs the n commands of one load at once (bench_run_children), and the
 * server's CPU-seconds around them: from before the first starts to when
 * the backends that served them have ended. */
static int run_measured(struct bench *b, char *const *const argvs[], uint32_t n, struct run_cost *c)
{
	static pid_t kids[SERVER_KIDS_MAX];
	uint32_t nkids = 0;
	double before = b->postmaster > 0 ? bench_server_cpu_s(b->postmaster, kids, SERVER_KIDS_MAX, &nkids) : -1;
	int rc = bench_run_children(b, argvs, n, c);
	c->cpu_server_s = -1;
	if (before >= 0) {
		bench_server_settle(b->postmaster, kids, nkids);
		uint32_t none;
		double after = bench_server_cpu_s(b->postmaster, NULL, 0, &none);
		if (after >= before)
			c->cpu_server_s = after - before;
	}
	return rc;
}

static int run_one(struct bench *b, char *const argv[], struct run_cost *c)
{
	char *const *const argvs[] = {argv};
	return run_measured(b, argvs, 1, c);
}

/* ------------------------------------------------------------------------
 * The floor: the same records, already binary COPY, loaded by one psql
 * \copy per worker at once. */

static void floor_part_path(const struct bench *b, uint32_t i, char *out, size_t cap)
{
	snprintf(out, cap, "%s/floor.%u.copy", b->tmp, i);
}

struct floor_enc {
	struct codec_source src;
	struct codec *codec;
	FILE **part;
	uint32_t nparts;
	uint64_t rows;
	uint64_t next; /* the records before this chunk */
	uint64_t deferred, rejected;
	bool write_failed;
};

/* Part i holds records [i * rows / nparts, (i + 1) * rows / nparts): each
 * run of tuples of one part is written at once. */
static void floor_chunk(void *ctx, const struct chunk *c)
{
	struct floor_enc *f = ctx;
	static const struct codec_hooks no_hooks;
	struct sink_batch sb;
	struct codec_stats st;
	ASSERT(codec_encode_chunk(f->codec, &f->src, c, &no_hooks, &sb, &st) == 0);
	f->deferred += sb.ntxt;
	f->rejected += st.rejected;
	for (uint32_t lo = 0, hi; lo < sb.nbin; lo = hi) {
		uint64_t part = (f->next + sb.bin_rec[lo]) * f->nparts / f->rows;
		for (hi = lo + 1; hi < sb.nbin && (f->next + sb.bin_rec[hi]) * f->nparts / f->rows == part; hi++)
			;
		size_t len = sb.bin_off[hi] - sb.bin_off[lo];
		if (fwrite(sb.bin->data + sb.bin_off[lo], 1, len, f->part[part]) != len)
			f->write_failed = true;
	}
	f->next += c->nrecords;
}

/* Opens (header) or closes (trailer) every part; -1 when one fails. */
static int floor_parts_frame(const struct bench *b, struct floor_enc *f, bool open, struct err *e)
{
	struct buf framing;
	if (buf_init(&framing, 64) < 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	int rc = 0;
	for (uint32_t i = 0; i < f->nparts; i++) {
		char path[PATH_MAX + 32];
		floor_part_path(b, i, path, sizeof path);
		framing.len = 0;
		if (open) {
			f->part[i] = fopen(path, "we");
			encode_copy_header(&framing);
		} else {
			encode_copy_trailer(&framing);
		}
		bool ok = f->part[i] != NULL && fwrite(framing.data, 1, framing.len, f->part[i]) == framing.len;
		if (!open && f->part[i] != NULL)
			ok = fclose(f->part[i]) == 0 && ok && !f->write_failed;
		if (!open)
			f->part[i] = NULL;
		if (!ok && rc == 0)
			rc = err_set(e, EXIT_SOFTWARE, "cannot write %s: %s", path, strerror(errno));
	}
	buf_free(&framing);
	return rc;
}

/* The CSV through the workers' own codec into one binary COPY file per
 * worker; a record the codec leaves to text COPY (or rejects) has no place
 * in a binary floor, and says so. */
int bench_floor_files(struct bench *b, struct err *e)
{
	const struct dialect d = {
	    .format = FORMAT_CSV, .delimiter = ',', .quote = '"', .escape = '"', .null = "", .header = true};
	struct mapping all;
	if (transform_map_list(&all, &b->table, NULL, e) < 0)
		return -1;
	struct floor_enc f = {
	    .src = {.format = format_ops_for(FORMAT_CSV), .conf.dialect = &d, .map = &all, .table = &b->table},
	    .nparts = b->workers,
	    .rows = b->rows};
	size_t chunk_bytes = chunk_bytes_for(BATCH_ROWS_DEFAULT);
	struct chunk *c = chunk_create(BATCH_ROWS_DEFAULT, chunk_bytes);
	f.codec = codec_create(BATCH_ROWS_DEFAULT, chunk_bytes, RECORD_BYTES_DEFAULT);
	f.part = calloc(f.nparts, sizeof *f.part);
	int rc = c == NULL || f.codec == NULL || f.part == NULL ? err_set(e, EXIT_SOFTWARE, "out of memory") : 0;
	if (rc == 0)
		rc = floor_parts_frame(b, &f, true, e);
	double frame_s;
	if (rc == 0)
		rc = bench_frame_file(b->csv, &d, c, floor_chunk, &f, &frame_s, e);
	if (f.part != NULL && floor_parts_frame(b, &f, false, e) < 0)
		rc = -1;
	if (rc == 0 && (f.next != b->rows || f.deferred > 0 || f.rejected > 0))
		rc = err_set(e, EXIT_SOFTWARE,
			     "the floor's binary COPY: %" PRIu64 " of %" PRIu64 " records framed, %" PRIu64
			     " left to text COPY, %" PRIu64 " rejected",
			     f.next, b->rows, f.deferred, f.rejected);
	free(f.part);
	codec_free(f.codec);
	if (c != NULL)
		chunk_free(c);
	transform_free(&all);
	return rc;
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
static int run_edonu(struct bench *b, const char *file, uint64_t rows, uint32_t workers, bool redis,
		     struct run_cost *cost, uint64_t *keys_invalidated, struct err *e)
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
	/* gen writes UTF-8: a caller's PGCLIENTENCODING must not convert it. */
	argv[n++] = "--encoding";
	argv[n++] = "UTF8";
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
	int rc = run_one(b, argv, cost);
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

static int run_psql(struct bench *b, struct run_cost *cost, struct err *e)
{
	if (prepare_run(b, TABLE_PSQL, e) < 0)
		return -1;
	char cmd[PATH_MAX + 128];
	snprintf(cmd, sizeof cmd, "\\copy " TABLE_PSQL " from '%s' csv header", b->csv);
	char *argv[] = {"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", (char *)b->dsn, "-c", cmd, NULL};
	int rc = run_one(b, argv, cost);
	if (rc != 0)
		return child_failure(b, "psql \\copy", rc, e);
	return count_rows(b, TABLE_PSQL, b->rows, "psql \\copy", e);
}

/* The floor: one `psql \copy ... (format binary)` per worker, all at once,
 * each loading its part of the records into the same fresh table. */
static int run_floor(struct bench *b, struct run_cost *cost, struct err *e)
{
	if (prepare_run(b, TABLE_FLOOR, e) < 0)
		return -1;
	enum { ARGS = 10 };
	uint32_t n = b->workers;
	char(*cmd)[PATH_MAX + 128] = calloc(n, sizeof *cmd);
	char *(*args)[ARGS] = calloc(n, sizeof *args);
	char *const **argvs = calloc(n, sizeof *argvs);
	if (cmd == NULL || args == NULL || argvs == NULL) {
		free(cmd);
		free(args);
		free(argvs);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	for (uint32_t i = 0; i < n; i++) {
		char path[PATH_MAX + 32];
		floor_part_path(b, i, path, sizeof path);
		snprintf(cmd[i], sizeof cmd[i], "\\copy " TABLE_FLOOR " from '%s' (format binary)", path);
		char *argv[ARGS] = {"psql", "-X",           "-q", "-v",   "ON_ERROR_STOP=1",
				    "-d",   (char *)b->dsn, "-c", cmd[i], NULL};
		memcpy(args[i], argv, sizeof argv);
		argvs[i] = args[i];
	}
	int rc = run_measured(b, argvs, n, cost);
	free(cmd);
	free(args);
	free(argvs);
	if (rc != 0)
		return child_failure(b, "psql \\copy (format binary)", rc, e);
	return count_rows(b, TABLE_FLOOR, b->rows, "the floor's psql \\copy", e);
}

/* pgloader wants a URI; it is built from the connection the bench holds. */
static int run_pgloader(struct bench *b, struct run_cost *cost, struct err *e)
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
	int rc = run_one(b, argv, cost);
	if (rc != 0)
		return child_failure(b, "pgloader", rc, e);
	return count_rows(b, TABLE_PGLOADER, b->rows, "pgloader", e);
}

static void figure_init(struct figure *f, const char *key, const char *label, uint64_t rows, uint64_t bytes,
			uint32_t workers)
{
	*f = (struct figure){.key = key, .label = label, .records = rows, .bytes = bytes, .workers = workers};
}

/* pgloader is a comparison, not the subject: when it fails the suite says
 * so and goes on without it. */
static int pgloader_once(struct bench *b, struct err *e)
{
	struct run_cost c;
	if (run_pgloader(b, &c, e) == 0) {
		bench_figure_add_run(&b->pgl, &c);
		return 0;
	}
	if (bench_interrupted())
		return -1;
	fprintf(stderr, "edonu-ingest: bench: pgloader: %s\n", e->msg);
	snprintf(b->pgl_failure, sizeof b->pgl_failure, "failed: %s", e->msg);
	b->pgl.why_not = b->pgl_failure;
	err_clear(e);
	return 0;
}

/* One run of every loader, in turn. */
static int end_to_end_once(struct bench *b, struct err *e)
{
	struct run_cost c;
	uint64_t keys;
	if (run_psql(b, &c, e) < 0)
		return -1;
	bench_figure_add_run(&b->psql, &c);
	if (run_floor(b, &c, e) < 0)
		return -1;
	bench_figure_add_run(&b->floor, &c);
	if (run_edonu(b, b->csv, b->rows, b->workers, false, &c, &keys, e) < 0)
		return -1;
	bench_figure_add_run(&b->edonu, &c);
	if (b->edonu_redis.why_not == NULL) {
		if (run_edonu(b, b->csv, b->rows, b->workers, true, &c, &keys, e) < 0)
			return -1;
		b->edonu_redis.keys_invalidated = keys;
		bench_figure_add_run(&b->edonu_redis, &c);
	}
	if (b->pgl.why_not == NULL)
		return pgloader_once(b, e);
	return 0;
}

/* Alternates the loaders run by run, so that drift in the machine (page
 * cache, autovacuum, a noisy neighbour) falls on all of them alike. */
int bench_end_to_end(struct bench *b, struct err *e)
{
	figure_init(&b->psql, "psql", "psql \\copy csv", b->rows, b->csv_bytes, 0);
	snprintf(b->floor_label, sizeof b->floor_label, "floor: binary COPY, %u psql", b->workers);
	figure_init(&b->floor, "binary_copy_floor", b->floor_label, b->rows, b->csv_bytes, b->workers);
	figure_init(&b->edonu, "edonu", "edonu-ingest", b->rows, b->csv_bytes, b->workers);
	figure_init(&b->edonu_redis, "edonu_with_redis", "edonu-ingest + Redis invalidation", b->rows, b->csv_bytes,
		    b->workers);
	figure_init(&b->pgl, "pgloader", "pgloader", b->rows, b->csv_bytes, 0);
	if (!b->has_invalidate)
		b->edonu_redis.why_not = "not available yet: load has no --invalidate";
	if (b->pgloader[0] == '\0')
		b->pgl.why_not = "not installed";
	bench_find_postmaster(b);
	if (bench_floor_files(b, e) < 0)
		return -1;
	for (uint32_t run = 0; run < b->runs; run++) {
		if (end_to_end_once(b, e) < 0)
			return -1;
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
				struct run_cost c;
				uint64_t keys;
				if (run_edonu(b, file, f->records, wl[i], false, &c, &keys, e) < 0)
					return -1;
				bench_figure_add_run(f, &c);
			}
		}
	}
	return 0;
}
