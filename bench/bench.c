/* bench.c - the benchmark suite: each stage on one thread, then whole loads side by side with psql \copy. */
#include "bench.h"
#include "../core/clock.h"

#include "../core/buf.h"
#include "../core/chunk.h"
#include "../core/err.h"
#include "../core/limits.h"
#include "../io/reader.h"
#include "../pipeline/catalog.h"
#include "../pipeline/load.h"
#include "../stages/encode.h"
#include "../stages/frame.h"
#include "../stages/invalidate.h"
#include "../stages/parse_csv.h"
#include "../stages/parse_ndjson.h"
#include "gen.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The published floor: every end-to-end edonu-ingest figure must reach it. */
#define BENCH_FLOOR_RECORDS_PER_MIN 1000000.0
/* --quick's data: big enough that a load lasts about a second on 2 cores
 * (so connection set-up is a small part of it), small enough that three
 * alternating runs of each loader and the stages fit in a minute. */
#define BENCH_ROWS_QUICK            300000u
#define BENCH_RUNS_DEFAULT          3u
/* Each figure keeps its run times for the median; more runs than this add
 * nothing but waiting. */
#define BENCH_RUNS_MAX              25u
/* The full run's larger input, as a multiple of --rows. */
#define BENCH_SCALE_ROWS_FACTOR     4u
/* Worker counts tried by the full run: 1, 2, 4, ... and the core count;
 * doubling keeps a many-core machine's run short. */
#define BENCH_SCALE_WORKERS_MAX     16u
#define BENCH_SCALE_MAX             (2u * BENCH_SCALE_WORKERS_MAX)
/* A fresh table per loader, so that none pays for another's rows. */
#define TABLE_EDONU                 "edonu_bench_edonu"
#define TABLE_PSQL                  "edonu_bench_psql"
#define TABLE_PGLOADER              "edonu_bench_pgloader"
#define INVALIDATE_TEMPLATE         "erp:{tenant_id}:order:{order_id}"
/* The orders shape has 10 columns; one more slot catches an extra field. */
#define ORDERS_FIELDS_MAX           11u
/* Bytes of a failed child's log shown to the user. */
#define LOG_TAIL_BYTES              1500

/* Ctrl-C or SIGTERM: the children see it too (or finish), then the suite
 * stops at the next step and still removes its files and servers. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* One figure: the times of its runs over the same records and bytes. */
struct figure {
	const char *key;     /* its JSON name */
	const char *label;   /* its row in the table */
	const char *why_not; /* NULL when measured; else why not */
	uint64_t records;
	uint64_t bytes;
	uint32_t workers;          /* end to end only */
	uint64_t keys_invalidated; /* with Redis: per run, from the loader's summary */
	uint32_t nruns;
	double seconds[BENCH_RUNS_MAX];
};

enum stage_id {
	ST_READ_URING,
	ST_READ_PLAIN,
	ST_FRAME,
	ST_PARSE,
	ST_PARSE_NDJSON,
	ST_ENCODE,
	ST_KEYS,
	ST_ZSTD,
	ST_COUNT
};

/* The throwaway servers of bench/servers.sh: alive while to_fd is open. */
struct servers {
	pid_t pid;
	int to_fd;
	char dsn[768]; /* as large as a line read from the script */
	char redis[768];
};

struct bench {
	const struct options *o;
	char self[PATH_MAX]; /* this executable, for `load` */
	char root[PATH_MAX]; /* the source tree, for bench/servers.sh */
	char tmp[PATH_MAX];  /* our temporary directory; removed at the end */
	char csv[PATH_MAX + 32];
	char zst[PATH_MAX + 32];
	char csv4[PATH_MAX + 32];
	char ndjson[PATH_MAX + 32];
	char summary[PATH_MAX + 32];
	char log[PATH_MAX + 32];
	char state[PATH_MAX + 32];
	char pgloader[PATH_MAX];
	char pgl_failure[ERR_MSG_BYTES + 16];
	uint64_t rows;
	uint64_t csv_bytes, zst_bytes, csv4_bytes, ndjson_bytes;
	uint32_t runs;
	uint32_t cpus;
	uint32_t workers;
	const char *dsn;
	const char *redis;
	bool own_pg;         /* the server is ours: the ledger may be dropped whole */
	bool has_invalidate; /* load takes --invalidate (and --redis) */
	bool has_state_dir;
	struct servers srv;
	PGconn *conn;
	struct table_info table;
	bool table_read;
	struct figure stage[ST_COUNT];
	uint64_t encode_deferred, encode_rejected;
	struct figure psql, edonu, edonu_redis, pgl;
	struct figure scale[BENCH_SCALE_MAX];
	uint32_t nscale;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double figure_median_s(const struct figure *f)
{
	if (f->nruns == 0)
		return 0;
	double s[BENCH_RUNS_MAX];
	memcpy(s, f->seconds, f->nruns * sizeof s[0]);
	qsort(s, f->nruns, sizeof s[0], cmp_double);
	return f->nruns % 2 ? s[f->nruns / 2] : (s[f->nruns / 2 - 1] + s[f->nruns / 2]) / 2;
}

static bool figure_measured(const struct figure *f)
{
	return f->why_not == NULL && f->nruns > 0 && figure_median_s(f) > 0;
}

static double figure_rpm(const struct figure *f)
{
	return figure_measured(f) ? (double)f->records * 60.0 / figure_median_s(f) : 0;
}

static double figure_mbps(const struct figure *f)
{
	return figure_measured(f) ? (double)f->bytes / 1e6 / figure_median_s(f) : 0;
}

static void figure_add(struct figure *f, double seconds)
{
	ASSERT(f->nruns < BENCH_RUNS_MAX);
	f->seconds[f->nruns++] = seconds;
}

/* ------------------------------------------------------------------------
 * Files and child processes. */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0)
		fprintf(stderr, "edonu-ingest: bench: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* Removes the tree under path (our temporary directory, nothing else). */
static void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int64_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Looks name up in PATH; fills out (PATH_MAX) and returns true when found. */
static bool find_in_path(const char *name, char *out)
{
	const char *path = getenv("PATH");
	if (path == NULL)
		return false;
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n > 0 && snprintf(out, PATH_MAX, "%.*s/%s", (int)n, path, name) < PATH_MAX &&
		    access(out, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* Waits for pid, also through signals; returns the exit code, or 128 + the
 * signal that killed it, as a shell reports it. */
static int reap(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 128;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* In a child: standard input from /dev/null, standard output to out_fd (or
 * /dev/null when -1), standard error to the log file, then exec argv. Only
 * async-signal-safe calls, since the parent may have threads (libpq). */
static _Noreturn void child_exec(char *const argv[], int out_fd, const char *log)
{
	int null_fd = open("/dev/null", O_RDWR);
	int log_fd = log ? open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
	if (null_fd < 0)
		_exit(127);
	dup2(null_fd, STDIN_FILENO);
	dup2(out_fd >= 0 ? out_fd : null_fd, STDOUT_FILENO);
	if (log_fd >= 0)
		dup2(log_fd, STDERR_FILENO);
	execvp(argv[0], argv);
	_exit(127);
}

/* Runs argv to its end with stderr in b->log; *seconds is its wall time
 * (fork to reap). Returns its exit code (127: could not be started). */
static int run_child(const struct bench *b, char *const argv[], double *seconds)
{
	double t0 = clock_mono_s();
	pid_t pid = fork();
	if (pid < 0)
		return 127;
	if (pid == 0)
		child_exec(argv, -1, b->log);
	int rc = reap(pid);
	*seconds = clock_mono_s() - t0;
	return rc;
}

/* Runs argv and keeps the first cap - 1 bytes of its standard output in out
 * (NUL-terminated). Returns its exit code, or -1 when it could not run. */
static int capture_output(char *const argv[], char *out, size_t cap)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0)
		child_exec(argv, p[1], NULL);
	close(p[1]);
	size_t len = 0;
	for (;;) {
		char sink[4096];
		char *dst = len + 1 < cap ? out + len : sink;
		size_t room = len + 1 < cap ? cap - 1 - len : sizeof sink;
		ssize_t n = read(p[0], dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != sink)
			len += (size_t)n;
	}
	out[len] = '\0';
	close(p[0]);
	return reap(pid);
}

/* Shows the end of the last child's stderr, to say why it failed. */
static void show_log_tail(const struct bench *b)
{
	FILE *f = fopen(b->log, "r");
	if (f == NULL)
		return;
	char tail[LOG_TAIL_BYTES + 1];
	if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > LOG_TAIL_BYTES)
		fseek(f, -LOG_TAIL_BYTES, SEEK_END);
	else
		rewind(f);
	size_t n = fread(tail, 1, LOG_TAIL_BYTES, f);
	tail[n] = '\0';
	fclose(f);
	if (n > 0)
		fprintf(stderr, "%s%s", tail, tail[n - 1] == '\n' ? "" : "\n");
}

/* ------------------------------------------------------------------------
 * Throwaway servers. */

/* Starts bench/servers.sh for the servers named and reads their addresses.
 * On error the script has been reaped and e says why (EXIT_UNAVAILABLE). */
static int servers_start(struct servers *s, const char *root, bool pg, bool redis, struct err *e)
{
	char script[PATH_MAX + 32];
	snprintf(script, sizeof script, "%s/bench/servers.sh", root);
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return err_set(e, EXIT_SOFTWARE, "pipe: %s", strerror(errno));
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return err_set(e, EXIT_SOFTWARE, "pipe: %s", strerror(errno));
	}
	char *argv[] = {"bash", script, pg ? "pg" : "redis", pg && redis ? "redis" : NULL, NULL};
	s->pid = fork();
	if (s->pid == 0) {
		/* Its stderr stays ours: lib.sh says what it started, or why not. */
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (s->pid < 0) {
		close(in[1]);
		close(out[0]);
		return err_set(e, EXIT_SOFTWARE, "fork: %s", strerror(errno));
	}
	s->to_fd = in[1];
	FILE *f = fdopen(out[0], "r");
	bool ready = false;
	char line[768];
	while (f != NULL && !ready && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "dsn=", 4) == 0)
			snprintf(s->dsn, sizeof s->dsn, "%s", line + 4);
		else if (strncmp(line, "redis=", 6) == 0)
			snprintf(s->redis, sizeof s->redis, "%s", line + 6);
		else if (strcmp(line, "ready") == 0)
			ready = true;
	}
	if (f != NULL)
		fclose(f);
	else
		close(out[0]);
	if (!ready) {
		close(s->to_fd);
		int rc = reap(s->pid);
		s->pid = 0;
		return err_set(e, EXIT_UNAVAILABLE,
			       "could not start a throwaway %s (%s exited %d); pass --dsn%s to use a running server",
			       pg ? "PostgreSQL" : "Redis", script, rc, pg ? "" : " and --redis");
	}
	return 0;
}

/* Closing the script's standard input stops its servers; wait for that. */
static void servers_stop(struct servers *s)
{
	if (s->pid <= 0)
		return;
	close(s->to_fd);
	reap(s->pid);
	s->pid = 0;
}

/* The source tree holds bench/servers.sh: EDONU_SOURCE_ROOT, else the
 * directory above the one this executable is in (build/edonu-ingest). */
static int find_source_root(struct bench *b, struct err *e)
{
	const char *env = getenv("EDONU_SOURCE_ROOT");
	char probe[PATH_MAX + 32];
	if (env != NULL && *env) {
		snprintf(b->root, sizeof b->root, "%s", env);
	} else {
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s", b->self);
		char *slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
		if (snprintf(b->root, sizeof b->root, "%s/..", dir) >= (int)sizeof b->root)
			return err_set(e, EXIT_CONFIG, "path too long: %s", dir);
	}
	snprintf(probe, sizeof probe, "%s/bench/servers.sh", b->root);
	if (access(probe, R_OK) < 0 ||
	    (snprintf(probe, sizeof probe, "%s/tests/integration/lib.sh", b->root), access(probe, R_OK) < 0))
		return err_set(e, EXIT_CONFIG,
			       "no source tree with bench/servers.sh at %s to start throwaway servers; pass --dsn "
			       "(and --redis), or set EDONU_SOURCE_ROOT",
			       b->root);
	return 0;
}

/* ------------------------------------------------------------------------
 * PostgreSQL housekeeping (never timed). */

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

static int db_connect(struct bench *b, struct err *e)
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
static int fresh_table(struct bench *b, const char *table, struct err *e)
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
	if (got_signal)
		return err_set(e, EXIT_TEMPFAIL, "interrupted");
	if (fresh_table(b, table, e) < 0 || reset_ledger(b, e) < 0)
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
 * Data. */

static int gen_file_as(const char *path, enum input_format format, uint64_t rows, uint64_t seed, bool zstd,
		       struct err *e)
{
	struct gen_opts g = {.shape = GEN_ORDERS, .format = format, .rows = rows, .seed = seed, .header = true};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(e, EXIT_SOFTWARE, "cannot create %s: %s", path, strerror(errno));
	int rc = gen_write(&g, fd, zstd, e);
	if (close(fd) < 0 && rc == 0)
		rc = err_set(e, EXIT_SOFTWARE, "cannot write %s: %s", path, strerror(errno));
	return rc;
}

static int gen_file(const char *path, uint64_t rows, uint64_t seed, bool zstd, struct err *e)
{
	return gen_file_as(path, FORMAT_CSV, rows, seed, zstd, e);
}

static int make_data(struct bench *b, struct err *e)
{
	snprintf(b->csv, sizeof b->csv, "%s/orders.csv", b->tmp);
	snprintf(b->zst, sizeof b->zst, "%s/orders.csv.zst", b->tmp);
	if (gen_file(b->csv, b->rows, b->o->seed, false, e) < 0 || gen_file(b->zst, b->rows, b->o->seed, true, e) < 0)
		return -1;
	b->csv_bytes = (uint64_t)file_size(b->csv);
	b->zst_bytes = (uint64_t)file_size(b->zst);
	snprintf(b->ndjson, sizeof b->ndjson, "%s/orders.ndjson", b->tmp);
	if (gen_file_as(b->ndjson, FORMAT_NDJSON, b->rows, b->o->seed, false, e) < 0)
		return -1;
	b->ndjson_bytes = (uint64_t)file_size(b->ndjson);
	if (!b->o->quick) {
		snprintf(b->csv4, sizeof b->csv4, "%s/orders4.csv", b->tmp);
		if (gen_file(b->csv4, b->rows * BENCH_SCALE_ROWS_FACTOR, b->o->seed, false, e) < 0)
			return -1;
		b->csv4_bytes = (uint64_t)file_size(b->csv4);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Stages, one thread each. */

/* Reads path to its end through the reader; *bytes: bytes delivered
 * (decompressed for zstd). */
static int stage_read(const char *path, bool plain, double *seconds, uint64_t *bytes, struct err *e)
{
	double t0 = clock_mono_s();
	struct reader *r = reader_open(path, e);
	if (r == NULL)
		return -1;
	if (plain)
		reader_use_plain_read(r);
	const char *data;
	long n;
	uint64_t total = 0;
	while ((n = reader_next(r, &data, e)) > 0)
		total += (uint64_t)n;
	reader_close(r);
	*seconds = clock_mono_s() - t0;
	*bytes = total;
	return n < 0 ? -1 : 0;
}

/* Per-pass state of the CPU stages: buffers allocated once. */
struct cpu_pass {
	const struct table_info *t;
	struct dialect d;
	struct chunk *c;
	struct buf scratch;
	struct buf bin;       /* the null sink: emptied per chunk, never sent */
	struct field *fields; /* ORDERS_FIELDS_MAX per record of a chunk */
	int *nfields;
	struct inval_template *tp; /* INVALIDATE_TEMPLATE */
	struct inval_keyset *ks;
	double frame_s, parse_s, encode_s, keys_s;
	uint64_t records, bad, deferred, rejected, keys;
};

/* Parses every record of the chunk into p->fields, then encodes every good
 * one; each step timed on its own. */
static void cpu_chunk(struct cpu_pass *p)
{
	const struct chunk *c = p->c;
	char msg[256];
	double t0 = clock_mono_s();
	p->scratch.len = 0;
	buf_reserve(&p->scratch, c->data_len + 1);
	for (uint32_t i = 0; i < c->nrecords; i++) {
		size_t len;
		p->nfields[i] = -1;
		if (frame_record_data(c, i, true, &len, msg, sizeof msg) < 0)
			continue;
		struct field *f = p->fields + (size_t)i * ORDERS_FIELDS_MAX;
		p->nfields[i] = csv_parse_record(&p->d, c->data + c->rec_off[i], len, f, ORDERS_FIELDS_MAX, &p->scratch,
						 msg, sizeof msg);
	}
	double t1 = clock_mono_s();
	p->bin.len = 0;
	encode_copy_header(&p->bin);
	for (uint32_t i = 0; i < c->nrecords; i++) {
		if (p->nfields[i] != (int)p->t->ncols) {
			p->bad++;
			continue;
		}
		const struct field *f = p->fields + (size_t)i * ORDERS_FIELDS_MAX;
		encode_tuple_begin(&p->bin, (uint16_t)p->t->ncols);
		for (uint32_t k = 0; k < p->t->ncols; k++) {
			if (f[k].null) {
				encode_null(&p->bin);
				continue;
			}
			enum enc_status st = encode_binary(&p->t->cols[k].enc, &p->t->session, f[k].ptr, f[k].len,
							   &p->bin, msg, sizeof msg);
			p->deferred += st == ENC_DEFER;
			p->rejected += st == ENC_REJECT;
		}
	}
	encode_copy_trailer(&p->bin);
	double t2 = clock_mono_s();
	/* The loader's work for --invalidate: render and deduplicate each
	 * record's key, as a worker does while it encodes. */
	struct err e;
	err_clear(&e);
	inval_keyset_clear(p->ks);
	for (uint32_t i = 0; i < c->nrecords; i++) {
		if (p->nfields[i] != (int)p->t->ncols)
			continue;
		const struct field *f = p->fields + (size_t)i * ORDERS_FIELDS_MAX;
		if (inval_keyset_add_record_deferred(p->ks, &p->tp, 1, p->t, f, &e) < 0)
			p->bad++;
	}
	if (inval_keyset_settle(p->ks) < 0)
		p->bad++;
	double t3 = clock_mono_s();
	p->keys += inval_keyset_count(p->ks);
	p->parse_s += t1 - t0;
	p->encode_s += t2 - t1;
	p->keys_s += t3 - t2;
	p->records += c->nrecords;
}

/* Reads path and frames it, running each chunk through parse and encode.
 * Only frame_feed counts as framing: the reads and cpu_chunk are not in
 * frame_s. Memory stays that of one chunk whatever the input's size. */
static int cpu_pass_run(struct cpu_pass *p, const char *path, struct err *e)
{
	p->frame_s = p->parse_s = p->encode_s = p->keys_s = 0;
	p->records = p->bad = p->deferred = p->rejected = p->keys = 0;
	struct framer *fr = frame_create(&p->d, BATCH_ROWS_DEFAULT, chunk_bytes_for(BATCH_ROWS_DEFAULT));
	struct reader *r = fr != NULL ? reader_open(path, e) : NULL;
	if (r == NULL) {
		if (fr == NULL)
			err_set(e, EXIT_SOFTWARE, "out of memory");
		frame_free(fr);
		return -1;
	}
	const char *data;
	long n = 0;
	bool ended = false;
	while (!ended && (n = reader_next(r, &data, e)) > 0) {
		double t = clock_mono_s();
		for (size_t off = 0; off < (size_t)n && !ended;) {
			size_t used = 0;
			enum frame_event ev = frame_feed(fr, p->c, data + off, (size_t)n - off, &used);
			off += used;
			if (ev == FRAME_CHUNK) {
				p->frame_s += clock_mono_s() - t;
				cpu_chunk(p);
				chunk_reset(p->c);
				t = clock_mono_s();
			}
			/* "\." ends the data, as in COPY (gen never writes it). */
			ended = ev == FRAME_END;
		}
		p->frame_s += clock_mono_s() - t;
	}
	reader_close(r);
	if (n < 0) {
		frame_free(fr);
		return -1;
	}
	double t = clock_mono_s();
	enum frame_event ev = frame_finish(fr, p->c);
	p->frame_s += clock_mono_s() - t;
	if (ev == FRAME_CHUNK)
		cpu_chunk(p);
	chunk_reset(p->c);
	frame_free(fr);
	return 0;
}

/* Frame, parse and encode: one pass over the CSV per run. */
static int stages_cpu(struct bench *b, struct err *e)
{
	struct cpu_pass p = {.t = &b->table};
	p.d = (struct dialect){
	    .format = FORMAT_CSV, .delimiter = ',', .quote = '"', .escape = '"', .null = "", .header = true};
	size_t chunk_bytes = chunk_bytes_for(BATCH_ROWS_DEFAULT);
	p.c = chunk_create(BATCH_ROWS_DEFAULT, chunk_bytes);
	p.fields = calloc((size_t)BATCH_ROWS_DEFAULT * ORDERS_FIELDS_MAX, sizeof *p.fields);
	p.nfields = calloc(BATCH_ROWS_DEFAULT, sizeof *p.nfields);
	p.ks = inval_keyset_create(BATCH_ROWS_DEFAULT, 64);
	int rc = 0;
	if (p.c == NULL || p.fields == NULL || p.nfields == NULL || p.ks == NULL ||
	    buf_init(&p.scratch, chunk_bytes) < 0 || buf_init(&p.bin, chunk_bytes * 2) < 0)
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
	struct mapping all;
	if (rc == 0 && transform_map_list(&all, p.t, NULL, e) < 0)
		rc = -1;
	if (rc == 0) {
		rc = inval_compile(INVALIDATE_TEMPLATE, p.t, &all, INVAL_UNLINK, &p.tp, e);
		transform_free(&all);
	}
	for (uint32_t run = 0; rc == 0 && run < b->runs; run++) {
		rc = cpu_pass_run(&p, b->csv, e);
		if (rc == 0 && p.records != b->rows)
			rc = err_set(e, EXIT_SOFTWARE, "framed %" PRIu64 " records, not %" PRIu64, p.records, b->rows);
		if (rc == 0 && p.bad > 0)
			rc = err_set(e, EXIT_SOFTWARE, "%" PRIu64 " generated records did not parse", p.bad);
		if (rc == 0 && p.keys != b->rows)
			rc = err_set(e, EXIT_SOFTWARE, "%" PRIu64 " invalidation keys, not %" PRIu64, p.keys, b->rows);
		if (rc == 0) {
			figure_add(&b->stage[ST_FRAME], p.frame_s);
			figure_add(&b->stage[ST_PARSE], p.parse_s);
			figure_add(&b->stage[ST_ENCODE], p.encode_s);
			figure_add(&b->stage[ST_KEYS], p.keys_s);
			b->encode_deferred = p.deferred;
			b->encode_rejected = p.rejected;
		}
	}
	inval_template_free(p.tp);
	inval_keyset_free(p.ks);
	buf_free(&p.bin);
	buf_free(&p.scratch);
	free(p.nfields);
	free(p.fields);
	if (p.c != NULL)
		chunk_free(p.c);
	return rc;
}

/* NDJSON parse: the same records as JSON lines, framed, then each parsed
 * into the orders columns; only the parse is timed. */
static int stage_parse_ndjson(struct bench *b, double *secs, struct err *e)
{
	const char *names[ORDERS_FIELDS_MAX];
	bool json[ORDERS_FIELDS_MAX];
	uint32_t n = b->table.ncols < ORDERS_FIELDS_MAX ? b->table.ncols : ORDERS_FIELDS_MAX;
	for (uint32_t k = 0; k < n; k++) {
		names[k] = b->table.cols[k].enc.name;
		json[k] = false;
	}
	struct ndjson_map m;
	if (ndjson_map_init(&m, names, json, n) < 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	struct dialect d = {.format = FORMAT_NDJSON};
	size_t chunk_bytes = chunk_bytes_for(BATCH_ROWS_DEFAULT);
	struct framer *fr = frame_create(&d, BATCH_ROWS_DEFAULT, chunk_bytes);
	struct chunk *c = chunk_create(BATCH_ROWS_DEFAULT, chunk_bytes);
	struct field fields[ORDERS_FIELDS_MAX];
	struct buf scratch;
	int rc = 0;
	if (fr == NULL || c == NULL || buf_init(&scratch, chunk_bytes) < 0)
		rc = err_set(e, EXIT_SOFTWARE, "out of memory");
	struct reader *r = rc == 0 ? reader_open(b->ndjson, e) : NULL;
	if (rc == 0 && r == NULL)
		rc = -1;
	double parse_s = 0;
	uint64_t records = 0, bad = 0;
	char msg[256];
	const char *data;
	long got = 0;
	bool last = false;
	while (rc == 0 && !last) {
		got = reader_next(r, &data, e);
		if (got < 0) {
			rc = -1;
			break;
		}
		size_t off = 0;
		enum frame_event ev = FRAME_MORE;
		if (got == 0) {
			ev = frame_finish(fr, c);
			last = true;
		}
		while (rc == 0 && (off < (size_t)got || ev == FRAME_CHUNK)) {
			if (ev != FRAME_CHUNK) {
				size_t used = 0;
				ev = frame_feed(fr, c, data + off, (size_t)got - off, &used);
				off += used;
				if (ev != FRAME_CHUNK)
					continue;
			}
			double t0 = clock_mono_s();
			for (uint32_t i = 0; i < c->nrecords; i++) {
				const char *rec = c->data + c->rec_off[i];
				size_t len = c->rec_off[i + 1] - c->rec_off[i];
				const char *nl = memchr(rec, '\n', len);
				scratch.len = 0;
				uint32_t unknown = 0;
				if (ndjson_parse_record(&m, rec, nl ? (size_t)(nl - rec) : len, fields, &scratch,
							&unknown, msg, sizeof msg) < 0)
					bad++;
			}
			parse_s += clock_mono_s() - t0;
			records += c->nrecords;
			chunk_reset(c);
			ev = FRAME_MORE;
		}
	}
	if (r != NULL)
		reader_close(r);
	if (rc == 0 && (records != b->rows || bad > 0))
		rc = err_set(e, EXIT_SOFTWARE, "ndjson: %" PRIu64 " records, %" PRIu64 " did not parse", records, bad);
	buf_free(&scratch);
	chunk_free(c);
	frame_free(fr);
	ndjson_map_free(&m);
	*secs = parse_s;
	return rc;
}

static int stages_run(struct bench *b, struct err *e)
{
	static const struct {
		enum stage_id id;
		const char *key, *label;
	} names[ST_COUNT] = {
	    {ST_READ_URING, "read_io_uring", "read, io_uring"},
	    {ST_READ_PLAIN, "read_plain", "read, read(2)"},
	    {ST_FRAME, "frame", "frame into chunks"},
	    {ST_PARSE, "parse", "parse csv"},
	    {ST_PARSE_NDJSON, "parse_ndjson", "parse ndjson"},
	    {ST_ENCODE, "encode", "encode binary COPY (null sink)"},
	    {ST_KEYS, "invalidation_keys", "invalidation keys (render, dedupe)"},
	    {ST_ZSTD, "zstd_decode", "zstd decode (io_uring read)"},
	};
	for (int i = 0; i < ST_COUNT; i++) {
		struct figure *f = &b->stage[names[i].id];
		f->key = names[i].key;
		f->label = names[i].label;
		f->records = b->rows;
		f->bytes = names[i].id == ST_PARSE_NDJSON ? b->ndjson_bytes : b->csv_bytes;
	}
	for (uint32_t run = 0; run < b->runs; run++) {
		double s;
		uint64_t bytes;
		if (stage_read(b->csv, false, &s, &bytes, e) < 0)
			return -1;
		figure_add(&b->stage[ST_READ_URING], s);
		if (stage_read(b->csv, true, &s, &bytes, e) < 0)
			return -1;
		figure_add(&b->stage[ST_READ_PLAIN], s);
		if (stage_read(b->zst, false, &s, &bytes, e) < 0)
			return -1;
		if (bytes != b->csv_bytes)
			return err_set(e, EXIT_SOFTWARE, "zstd decode gave %" PRIu64 " bytes, not %" PRIu64, bytes,
				       b->csv_bytes);
		figure_add(&b->stage[ST_ZSTD], s);
		if (stage_parse_ndjson(b, &s, e) < 0)
			return -1;
		figure_add(&b->stage[ST_PARSE_NDJSON], s);
	}
	return stages_cpu(b, e);
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
	show_log_tail(b);
	if (got_signal)
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
	int rc = run_child(b, argv, seconds);
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
	int rc = run_child(b, argv, seconds);
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
	int rc = run_child(b, argv, seconds);
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
static int end_to_end(struct bench *b, struct err *e)
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
		figure_add(&b->psql, s);
		if (run_edonu(b, b->csv, b->rows, b->workers, false, &s, &keys, e) < 0)
			return -1;
		figure_add(&b->edonu, s);
		if (b->edonu_redis.why_not == NULL) {
			if (run_edonu(b, b->csv, b->rows, b->workers, true, &s, &keys, e) < 0)
				return -1;
			b->edonu_redis.keys_invalidated = keys;
			figure_add(&b->edonu_redis, s);
		}
		if (b->pgl.why_not == NULL) {
			/* pgloader is a comparison, not the subject: when it fails
			 * the suite says so and goes on. */
			if (run_pgloader(b, &s, e) < 0) {
				if (got_signal)
					return -1;
				fprintf(stderr, "edonu-ingest: bench: pgloader: %s\n", e->msg);
				snprintf(b->pgl_failure, sizeof b->pgl_failure, "failed: %s", e->msg);
				b->pgl.why_not = b->pgl_failure;
				err_clear(e);
			} else {
				figure_add(&b->pgl, s);
			}
		}
	}
	return 0;
}

/* The full run: edonu-ingest end to end at 1x and 4x the rows, with 1, 2,
 * 4, ... workers up to the core count. */
static int scaling(struct bench *b, struct err *e)
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
				figure_add(f, s);
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Report. */

/* 12345678 -> "12,345,678" */
static const char *fmt_count(double v, char *out, size_t cap)
{
	char digits[32];
	snprintf(digits, sizeof digits, "%.0f", v);
	size_t n = strlen(digits), o = 0;
	for (size_t i = 0; i < n && o + 2 < cap; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return out;
}

static void print_figure(const struct figure *f, const struct figure *psql)
{
	char rpm[32];
	if (!figure_measured(f)) {
		printf("  %-34s %s\n", f->label, f->why_not ? f->why_not : "not measured");
		return;
	}
	printf("  %-34s %14s %9.1f", f->label, fmt_count(figure_rpm(f), rpm, sizeof rpm), figure_mbps(f));
	if (psql != NULL)
		printf(" %9.3f %8.2f", figure_median_s(f), figure_median_s(f) / figure_median_s(psql));
	printf("\n");
}

static void print_machine(const struct bench *b)
{
	char rows[32];
	printf("edonu-ingest bench%s: %s orders records, %.1f MB csv (%.1f MB zstd), %u CPUs, median of %u run%s\n",
	       b->o->quick ? " --quick" : "", fmt_count((double)b->rows, rows, sizeof rows), (double)b->csv_bytes / 1e6,
	       (double)b->zst_bytes / 1e6, b->cpus, b->runs, b->runs == 1 ? "" : "s");
	printf("PostgreSQL %s\n\n", PQparameterStatus(b->conn, "server_version"));
}

static void print_report(const struct bench *b)
{
	print_machine(b);
	printf("  %-34s %14s %9s\n", "stage (one thread, page cache)", "records/min", "MB/s");
	for (int i = 0; i < ST_COUNT; i++)
		print_figure(&b->stage[i], NULL);
	printf("\n  %-34s %14s %9s %9s %8s\n", "end to end into PostgreSQL", "records/min", "MB/s", "seconds",
	       "vs psql");
	printf("  (edonu-ingest with %u workers; vs psql: time ratio, lower is faster)\n", b->workers);
	const struct figure *e2e[] = {&b->psql, &b->edonu, &b->edonu_redis, &b->pgl};
	for (size_t i = 0; i < sizeof e2e / sizeof e2e[0]; i++)
		print_figure(e2e[i], &b->psql);
	if (b->nscale == 0) {
		printf("\n");
		return;
	}
	printf("\n  %-10s %7s %14s %9s %9s %14s\n", "scaling", "workers", "records/min", "MB/s", "seconds",
	       "cost/record");
	char base_rows[32];
	printf("  (edonu-ingest end to end; cost/record relative to %s rows, 1 worker)\n",
	       fmt_count((double)b->scale[0].records, base_rows, sizeof base_rows));
	double base = figure_median_s(&b->scale[0]) / (double)b->scale[0].records;
	for (uint32_t i = 0; i < b->nscale; i++) {
		const struct figure *f = &b->scale[i];
		char rows[32], rpm[32];
		double cost = figure_median_s(f) / (double)f->records;
		printf("  %-10s %7u %14s %9.1f %9.3f %14.2f\n", fmt_count((double)f->records, rows, sizeof rows),
		       f->workers, fmt_count(figure_rpm(f), rpm, sizeof rpm), figure_mbps(f), figure_median_s(f),
		       cost / base);
	}
	printf("\n");
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* Every figure is an object with records_per_minute (null when it was not
 * measured, with the reason beside it). */
static void json_figure(FILE *f, const struct figure *fig, bool runs)
{
	if (!figure_measured(fig)) {
		fprintf(f, "{\"records_per_minute\": null, \"available\": false, \"reason\": ");
		json_string(f, fig->why_not ? fig->why_not : "not measured");
		fprintf(f, "}");
		return;
	}
	fprintf(f,
		"{\"records_per_minute\": %.0f, \"mb_per_s\": %.2f, \"records\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"seconds_median\": %.4f",
		figure_rpm(fig), figure_mbps(fig), fig->records, fig->bytes, figure_median_s(fig));
	if (fig->workers > 0)
		fprintf(f, ", \"workers\": %u", fig->workers);
	if (fig->keys_invalidated > 0)
		fprintf(f, ", \"keys_invalidated\": %" PRIu64 ", \"invalidate\": \"%s\"", fig->keys_invalidated,
			INVALIDATE_TEMPLATE);
	if (runs) {
		fprintf(f, ", \"seconds\": [");
		for (uint32_t i = 0; i < fig->nruns; i++)
			fprintf(f, "%s%.4f", i ? ", " : "", fig->seconds[i]);
		fprintf(f, "]");
	}
	fprintf(f, "}");
}

static void json_machine(FILE *f, const struct bench *b)
{
	char model[256] = "unknown";
	FILE *ci = fopen("/proc/cpuinfo", "r");
	char line[512];
	while (ci != NULL && fgets(line, sizeof line, ci) != NULL) {
		if (strncmp(line, "model name", 10) == 0 && strchr(line, ':') != NULL) {
			snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (ci != NULL)
		fclose(ci);
	struct utsname u;
	uname(&u);
	fprintf(f, "{\"cpu_model\": ");
	json_string(f, model);
	fprintf(f, ", \"cpus\": %u, \"memory_bytes\": %.0f, \"kernel\": ", b->cpus,
		(double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE));
	json_string(f, u.release);
	fprintf(f, ", \"postgresql\": ");
	const char *version = PQparameterStatus(b->conn, "server_version");
	json_string(f, version ? version : "");
	fprintf(f, "}");
}

static int write_json(const struct bench *b, const char *path, bool passed, struct err *e)
{
	char tmp[PATH_MAX + 16];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return err_set(e, EXIT_CONFIG, "cannot write --json %s: %s", path, strerror(errno));
	fprintf(f,
		"{\"quick\": %s, \"rows\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"zstd_bytes\": %" PRIu64
		", \"runs\": %u, \"cpus\": %u, \"workers\": %u,\n \"machine\": ",
		b->o->quick ? "true" : "false", b->rows, b->csv_bytes, b->zst_bytes, b->runs, b->cpus, b->workers);
	json_machine(f, b);
	/* Only figures inside "stages", so that a reader can walk it. */
	fprintf(f, ",\n \"stage_threads\": 1,\n \"stages\": {");
	for (int i = 0; i < ST_COUNT; i++) {
		fprintf(f, "%s\n  \"%s\": ", i ? "," : "", b->stage[i].key);
		json_figure(f, &b->stage[i], false);
	}
	fprintf(f, "},\n \"encode_deferred\": %" PRIu64 ", \"encode_rejected\": %" PRIu64 ",\n \"end_to_end\": {",
		b->encode_deferred, b->encode_rejected);
	const struct figure *e2e[] = {&b->psql, &b->edonu, &b->edonu_redis, &b->pgl};
	for (size_t i = 0; i < sizeof e2e / sizeof e2e[0]; i++) {
		fprintf(f, "%s\n  \"%s\": ", i ? "," : "", e2e[i]->key);
		json_figure(f, e2e[i], true);
	}
	fprintf(f, ",\n  \"ratio_to_psql\": %.4f},\n \"scaling\": [",
		figure_median_s(&b->edonu) / figure_median_s(&b->psql));
	for (uint32_t i = 0; i < b->nscale; i++) {
		fprintf(f, "%s\n  ", i ? "," : "");
		json_figure(f, &b->scale[i], true);
	}
	fprintf(f, "],\n \"floor_records_per_minute\": %.0f, \"passed\": %s}\n", BENCH_FLOOR_RECORDS_PER_MIN,
		passed ? "true" : "false");
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return err_set(e, EXIT_CONFIG, "cannot write --json %s: %s", path, strerror(errno));
	}
	return 0;
}

/* Every end-to-end edonu-ingest figure against the floor; names the ones
 * below it on stderr. */
static bool check_floor(const struct bench *b)
{
	const struct figure *f[2 + BENCH_SCALE_MAX] = {&b->edonu, &b->edonu_redis};
	uint32_t n = 2;
	for (uint32_t i = 0; i < b->nscale; i++)
		f[n++] = &b->scale[i];
	bool ok = true;
	for (uint32_t i = 0; i < n; i++) {
		if (!figure_measured(f[i]) || figure_rpm(f[i]) >= BENCH_FLOOR_RECORDS_PER_MIN)
			continue;
		fprintf(stderr,
			"edonu-ingest: bench: %s (%" PRIu64 " records, %u workers) is below the floor: "
			"%.0f < %.0f records/min\n",
			f[i]->label, f[i]->records, f[i]->workers, figure_rpm(f[i]), BENCH_FLOOR_RECORDS_PER_MIN);
		ok = false;
	}
	return ok;
}

/* ------------------------------------------------------------------------
 * Set-up and the whole suite. */

/* What the loader offers: the Redis figure needs --invalidate. */
static void probe_loader(struct bench *b)
{
	static char help[16384];
	char *argv[] = {b->self, "load", "--help", NULL};
	if (capture_output(argv, help, sizeof help) == 0) {
		b->has_invalidate = strstr(help, "--invalidate") != NULL && strstr(help, "--redis") != NULL;
		b->has_state_dir = strstr(help, "--state-dir") != NULL;
	}
	if (!find_in_path("pgloader", b->pgloader))
		b->pgloader[0] = '\0';
}

static int setup(struct bench *b, const struct options *o, const char *self_path, struct err *e)
{
	b->o = o;
	ssize_t n = readlink("/proc/self/exe", b->self, sizeof b->self - 1);
	if (n > 0)
		b->self[n] = '\0';
	else if (realpath(self_path, b->self) == NULL)
		return err_set(e, EXIT_SOFTWARE, "cannot find this executable (%s)", self_path);
	cpu_set_t cpus;
	b->cpus = workers_cpus(&cpus); /* the loader's default worker count */
	b->rows = o->rows_set ? o->rows : o->quick ? BENCH_ROWS_QUICK : o->rows;
	b->runs = o->runs ? o->runs : BENCH_RUNS_DEFAULT;
	b->workers = o->workers_set && o->workers > 0 ? o->workers : b->cpus;
	b->dsn = o->dsn;
	b->redis = o->redis;
	if (b->rows == 0)
		return err_set(e, EXIT_USAGE, "--rows must be at least 1");
	if (b->runs > BENCH_RUNS_MAX)
		return err_set(e, EXIT_USAGE, "--runs is at most %u", BENCH_RUNS_MAX);
	if (b->rows > UINT64_MAX / BENCH_SCALE_ROWS_FACTOR)
		return err_set(e, EXIT_USAGE, "--rows is too large");
	char path[PATH_MAX];
	if (!find_in_path("psql", path))
		return err_set(e, EXIT_UNAVAILABLE,
			       "psql is not on PATH (apt-get install postgresql-client-15); the "
			       "bench compares with psql \\copy");
	const char *base = getenv("TMPDIR");
	snprintf(b->tmp, sizeof b->tmp, "%s/edonu-bench.XXXXXX", base && *base ? base : "/tmp");
	if (strchr(b->tmp, '\'') != NULL || mkdtemp(b->tmp) == NULL) {
		b->tmp[0] = '\0';
		return err_set(e, EXIT_SOFTWARE, "cannot create a temporary directory under %s", base ? base : "/tmp");
	}
	snprintf(b->summary, sizeof b->summary, "%s/summary.json", b->tmp);
	snprintf(b->log, sizeof b->log, "%s/child.log", b->tmp);
	snprintf(b->state, sizeof b->state, "%s/state", b->tmp);
	probe_loader(b);
	return 0;
}

/* --dsn and --redis when given, else throwaway servers (Redis only when
 * the loader can use it). */
static int servers_up(struct bench *b, struct err *e)
{
	const struct options *o = b->o;
	bool need_pg = o->dsn == NULL;
	bool need_redis = o->redis == NULL && b->has_invalidate;
	if (need_pg || need_redis) {
		if (find_source_root(b, e) < 0)
			return -1;
		fprintf(stderr, "edonu-ingest: bench: starting throwaway %s%s%s\n", need_pg ? "PostgreSQL" : "",
			need_pg && need_redis ? " and " : "", need_redis ? "Redis" : "");
		if (servers_start(&b->srv, b->root, need_pg, need_redis, e) < 0)
			return -1;
		if (need_pg) {
			b->dsn = b->srv.dsn;
			b->own_pg = true;
		}
		if (need_redis)
			b->redis = b->srv.redis;
	}
	return 0;
}

static int catalog_setup(struct bench *b, struct err *e)
{
	if (fresh_table(b, TABLE_EDONU, e) < 0 || catalog_read(b->conn, TABLE_EDONU, &b->table, e) < 0)
		return -1;
	b->table_read = true;
	if (b->table.ncols != gen_shape_columns(GEN_ORDERS) || !b->table.all_binary)
		return err_set(e, EXIT_SOFTWARE, "the orders table lacks the 10 binary-encodable columns expected");
	return 0;
}

static int bench_run(struct bench *b, struct err *e)
{
	/* A --dsn that does not answer fails before any server is started. */
	if (b->o->dsn != NULL && db_connect(b, e) < 0)
		return -1;
	if (servers_up(b, e) < 0 || (b->conn == NULL && db_connect(b, e) < 0) || catalog_setup(b, e) < 0)
		return -1;
	fprintf(stderr, "edonu-ingest: bench: generating %" PRIu64 " orders records\n", b->rows);
	if (make_data(b, e) < 0)
		return -1;
	fprintf(stderr, "edonu-ingest: bench: stages, %u runs\n", b->runs);
	if (stages_run(b, e) < 0)
		return -1;
	fprintf(stderr, "edonu-ingest: bench: end to end, %u alternating runs\n", b->runs);
	if (end_to_end(b, e) < 0)
		return -1;
	if (!b->o->quick) {
		fprintf(stderr, "edonu-ingest: bench: scaling rows and workers\n");
		if (scaling(b, e) < 0)
			return -1;
	}
	return 0;
}

static void teardown(struct bench *b)
{
	if (b->conn != NULL && PQstatus(b->conn) == CONNECTION_OK)
		PQclear(PQexec(b->conn, "DROP TABLE IF EXISTS " TABLE_EDONU ", " TABLE_PSQL ", " TABLE_PGLOADER));
	if (b->table_read)
		catalog_free(&b->table);
	if (b->conn != NULL)
		PQfinish(b->conn);
	servers_stop(&b->srv);
	if (b->tmp[0] != '\0')
		remove_tree(b->tmp);
}

int bench_main(const struct options *o, const char *self_path)
{
	/* Large (per-run arrays), and one per process: off the stack. */
	static struct bench b;
	memset(&b, 0, sizeof b);
	struct err e;
	err_clear(&e);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	int rc = setup(&b, o, self_path, &e);
	if (rc == 0)
		rc = bench_run(&b, &e);
	if (rc == 0 && got_signal)
		rc = err_set(&e, EXIT_TEMPFAIL, "interrupted");
	int code = EXIT_OK;
	if (rc == 0) {
		print_report(&b);
		bool passed = check_floor(&b);
		if (o->json != NULL && write_json(&b, o->json, passed, &e) < 0)
			code = e.code;
		else
			code = passed ? EXIT_OK : 1;
		fflush(stdout);
	}
	if (rc < 0) {
		fprintf(stderr, "edonu-ingest: bench: %s\n", e.msg);
		code = e.code ? e.code : EXIT_SOFTWARE;
	}
	teardown(&b);
	return code;
}
