/* bench_suite.h - the bench's shared state and the parts of the suite: stages (bench_stages.c), end to end (bench_e2e.c), child processes and servers (bench_proc.c), report and set-up (bench.c). Internal to bench/. */
#ifndef EDONU_BENCH_SUITE_H
#define EDONU_BENCH_SUITE_H

#include "../core/err.h"
#include "../core/table.h"
#include "../pipeline/options.h"

#include <libpq-fe.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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
#define TABLE_FLOOR                 "edonu_bench_floor"
#define INVALIDATE_TEMPLATE         "erp:{tenant_id}:order:{order_id}"
/* The most children of the server followed from one run to the next. */
#define SERVER_KIDS_MAX             4096u
/* The orders shape has 10 columns; one more slot catches an extra field. */
#define ORDERS_FIELDS_MAX           11u

/* What one end-to-end run cost: its wall time, the CPU-seconds of the
 * loader's processes (their rusage) and of the PostgreSQL server's
 * processes (from /proc; negative when the server is not on this machine). */
struct run_cost {
	double seconds;
	double cpu_loader_s;
	double cpu_server_s;
};

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
	/* End to end: each run's CPU-seconds, as in struct run_cost. */
	bool has_cpu;
	double cpu_loader_s[BENCH_RUNS_MAX];
	double cpu_server_s[BENCH_RUNS_MAX];
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
	pid_t postmaster;           /* the server's, when it runs here; else 0 */
	const char *server_cpu_why; /* why the server's CPU is not measured */
	char floor_label[48];
	bool own_pg;         /* the server is ours: the ledger may be dropped whole */
	bool has_invalidate; /* load takes --invalidate (and --redis) */
	bool has_state_dir;
	struct servers srv;
	PGconn *conn;
	struct table_info table;
	bool table_read;
	struct figure stage[ST_COUNT];
	uint64_t encode_deferred, encode_rejected;
	struct figure psql, floor, edonu, edonu_redis, pgl;
	struct figure scale[BENCH_SCALE_MAX];
	uint32_t nscale;
};

/* bench.c: a Ctrl-C or SIGTERM arrived; the suite stops at its next step. */
bool bench_interrupted(void);
/* Adds one run's time to a figure. */
void bench_figure_add(struct figure *f, double seconds);
/* Adds one end-to-end run, its time and CPU-seconds, to a figure. */
void bench_figure_add_run(struct figure *f, const struct run_cost *c);

/* bench_stages.c: every stage figure, b->runs runs each, on this thread. */
int bench_stages(struct bench *b, struct err *e);
struct chunk;
struct dialect;
/* Told of each chunk that bench_frame_file completes. */
typedef void chunk_fn(void *ctx, const struct chunk *c);
/* Reads path and frames it as d says into c, as the loader's reader
 * thread does, handing each chunk to fn; *frame_s is the framing time. */
int bench_frame_file(const char *path, const struct dialect *d, struct chunk *c, chunk_fn *fn, void *ctx,
		     double *frame_s, struct err *e);

/* bench_e2e.c: PostgreSQL housekeeping (never timed), and the loads. */
int bench_db_connect(struct bench *b, struct err *e);
/* DROP and CREATE table from the orders DDL. */
int bench_fresh_table(struct bench *b, const char *table, struct err *e);
/* Finds the server's postmaster on this machine, for its CPU-seconds;
 * else b->server_cpu_why says why not. */
void bench_find_postmaster(struct bench *b);
/* The floor's input: the records as binary COPY, one file per worker. */
int bench_floor_files(struct bench *b, struct err *e);
/* psql, the binary-COPY floor, edonu-ingest (with and without Redis) and
 * pgloader, alternating, each run with its CPU-seconds. */
int bench_end_to_end(struct bench *b, struct err *e);
/* The full run: edonu-ingest at 1x and 4x the rows, 1, 2, 4, ... workers. */
int bench_scaling(struct bench *b, struct err *e);

/* bench_html.c: the --html report of the figures' JSON (json[0..len))
 * to path. 0, or -1 with e (EXIT_CONFIG naming path). */
int bench_html_write(const char *path, const char *json, size_t len, struct err *e);

/* bench_versions.c: the version a Redis server reports (INFO server), into
 * out. 0, or -1 when it cannot be asked. */
int bench_redis_version(const char *url, char *out, size_t cap);

/* bench_proc.c: files, child processes and the throwaway servers. */
void bench_remove_tree(const char *path);
int64_t bench_file_size(const char *path);
bool bench_find_in_path(const char *name, char *out);
/* Runs n commands at once, each to its end, their stderr in b->log;
 * c->seconds is from the first start to the last end, c->cpu_loader_s
 * their CPU-seconds together (rusage). Returns the first non-zero exit
 * code, else 0 (127: could not be started). */
int bench_run_children(const struct bench *b, char *const *const argvs[], uint32_t n, struct run_cost *c);
/* The CPU-seconds the server's processes have used so far, the reaped ones
 * included, and its live children (up to cap); -1 when it cannot be read. */
double bench_server_cpu_s(pid_t postmaster, pid_t *kids, uint32_t cap, uint32_t *nkids);
/* The parent of pid on this machine; 0 when there is no such process. */
pid_t bench_parent_of(pid_t pid);
/* Waits (bounded) until the children of postmaster that are not among
 * kids have ended: the backends of a finished load. */
void bench_server_settle(pid_t postmaster, const pid_t *kids, uint32_t nkids);
int bench_capture_output(char *const argv[], char *out, size_t cap);
void bench_show_log_tail(const struct bench *b);
int bench_servers_start(struct servers *s, const char *root, bool pg, bool redis, struct err *e);
void bench_servers_stop(struct servers *s);
int bench_find_source_root(struct bench *b, struct err *e);

#endif
