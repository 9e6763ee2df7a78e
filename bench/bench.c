/* bench.c - the benchmark suite: its options and set-up, the data, and the report as a table, as --json and (bench_html.c) as --html; the figures come from bench_stages.c and bench_e2e.c. */
#include "bench.h"

#include "../io/atomic_file.h"
#include "bench_suite.h"

#include "../core/clock.h"
#include "../pipeline/catalog.h"
#include "../pipeline/load.h"
#include "gen.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* Ctrl-C or SIGTERM: the children see it too (or finish), then the suite
 * stops at the next step and still removes its files and servers. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

bool bench_interrupted(void)
{
	return got_signal != 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_of(const double *v, uint32_t n)
{
	if (n == 0)
		return 0;
	double s[BENCH_RUNS_MAX];
	memcpy(s, v, n * sizeof s[0]);
	qsort(s, n, sizeof s[0], cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double figure_median_s(const struct figure *f)
{
	return median_of(f->seconds, f->nruns);
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

void bench_figure_add(struct figure *f, double seconds)
{
	ASSERT(f->nruns < BENCH_RUNS_MAX);
	f->seconds[f->nruns++] = seconds;
}

void bench_figure_add_run(struct figure *f, const struct run_cost *c)
{
	ASSERT(f->nruns < BENCH_RUNS_MAX);
	f->has_cpu = true;
	f->cpu_loader_s[f->nruns] = c->cpu_loader_s;
	f->cpu_server_s[f->nruns] = c->cpu_server_s;
	bench_figure_add(f, c->seconds);
}

/* Medians of the CPU-seconds of an end-to-end figure's runs; -1 when not
 * measured (the server's: when one run could not read it). The total is
 * the sum of the two medians. */
static double figure_cpu_loader_s(const struct figure *f)
{
	return f->has_cpu && figure_measured(f) ? median_of(f->cpu_loader_s, f->nruns) : -1;
}

static double figure_cpu_server_s(const struct figure *f)
{
	if (!f->has_cpu || !figure_measured(f))
		return -1;
	for (uint32_t i = 0; i < f->nruns; i++) {
		if (f->cpu_server_s[i] < 0)
			return -1;
	}
	return median_of(f->cpu_server_s, f->nruns);
}

static double figure_cpu_total_s(const struct figure *f)
{
	double loader = figure_cpu_loader_s(f), server = figure_cpu_server_s(f);
	return loader < 0 || server < 0 ? -1 : loader + server;
}

/* f's time over base's for the same records; -1 when there is none. */
static double figure_ratio(const struct figure *f, const struct figure *base)
{
	if (!figure_measured(f) || !figure_measured(base) || f->records != base->records)
		return -1;
	return figure_median_s(f) / figure_median_s(base);
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
	b->csv_bytes = (uint64_t)bench_file_size(b->csv);
	b->zst_bytes = (uint64_t)bench_file_size(b->zst);
	snprintf(b->ndjson, sizeof b->ndjson, "%s/orders.ndjson", b->tmp);
	if (gen_file_as(b->ndjson, FORMAT_NDJSON, b->rows, b->o->seed, false, e) < 0)
		return -1;
	b->ndjson_bytes = (uint64_t)bench_file_size(b->ndjson);
	if (!b->o->quick) {
		snprintf(b->csv4, sizeof b->csv4, "%s/orders4.csv", b->tmp);
		if (gen_file(b->csv4, b->rows * BENCH_SCALE_ROWS_FACTOR, b->o->seed, false, e) < 0)
			return -1;
		b->csv4_bytes = (uint64_t)bench_file_size(b->csv4);
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

/* A ratio or CPU figure in width w, "-" when there is none. */
static void print_opt(double v, int w, int prec)
{
	if (v < 0)
		printf(" %*s", w, "-");
	else
		printf(" %*.*f", w, prec, v);
}

/* A stage (psql NULL) or an end-to-end line, with its ratios. */
static void print_figure(const struct figure *f, const struct figure *psql, const struct figure *floor)
{
	char rpm[32];
	if (!figure_measured(f)) {
		printf("  %-34s %s\n", f->label, f->why_not ? f->why_not : "not measured");
		return;
	}
	printf("  %-34s %14s %9.1f", f->label, fmt_count(figure_rpm(f), rpm, sizeof rpm), figure_mbps(f));
	if (psql != NULL) {
		printf(" %9.3f", figure_median_s(f));
		print_opt(figure_ratio(f, psql), 8, 2);
		print_opt(figure_ratio(f, floor), 8, 2);
	}
	printf("\n");
}

/* CPU-seconds per million records, -1 when unknown. */
static double cpu_per_million(const struct figure *f)
{
	double total = figure_cpu_total_s(f);
	return total < 0 || f->records == 0 ? -1 : total * 1e6 / (double)f->records;
}

static void print_cpu(const struct figure *f)
{
	if (!figure_measured(f))
		return;
	printf("  %-34s", f->label);
	print_opt(figure_cpu_loader_s(f), 9, 3);
	print_opt(figure_cpu_server_s(f), 9, 3);
	print_opt(figure_cpu_total_s(f), 9, 3);
	print_opt(cpu_per_million(f), 14, 3);
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

static void print_end_to_end(const struct bench *b)
{
	printf("\n  %-34s %14s %9s %9s %8s %8s\n", "end to end into PostgreSQL", "records/min", "MB/s", "seconds",
	       "vs psql", "vs floor");
	printf("  (edonu-ingest with %u workers, its ledger created by an earlier run; the floor: the same records\n"
	       "   as binary COPY, one psql \\copy per worker at once; vs: time ratios, lower is faster; MB/s: of\n"
	       "   the CSV)\n",
	       b->workers);
	const struct figure *e2e[] = {&b->psql, &b->floor, &b->edonu, &b->edonu_redis, &b->pgl};
	for (size_t i = 0; i < sizeof e2e / sizeof e2e[0]; i++)
		print_figure(e2e[i], &b->psql, &b->floor);
	printf("\n  %-34s %9s %9s %9s %14s\n", "CPU-seconds, medians of the runs", "loader", "server", "total",
	       "per 1M records");
	printf("  (loader: the client processes' rusage; server: every PostgreSQL process, from /proc%s%s)\n",
	       b->server_cpu_why ? "; not measured: " : "", b->server_cpu_why ? b->server_cpu_why : "");
	for (size_t i = 0; i < sizeof e2e / sizeof e2e[0]; i++)
		print_cpu(e2e[i]);
}

static void print_scaling(const struct bench *b)
{
	printf("\n  %-10s %7s %14s %9s %9s %14s %9s\n", "scaling", "workers", "records/min", "MB/s", "seconds",
	       "cost/record", "CPU-s/1M");
	char base_rows[32];
	printf("  (edonu-ingest end to end; cost/record relative to %s rows, 1 worker; CPU-s/1M: loader and\n"
	       "   server CPU-seconds per million records)\n",
	       fmt_count((double)b->scale[0].records, base_rows, sizeof base_rows));
	double base = figure_median_s(&b->scale[0]) / (double)b->scale[0].records;
	for (uint32_t i = 0; i < b->nscale; i++) {
		const struct figure *f = &b->scale[i];
		char rows[32], rpm[32];
		double cost = figure_median_s(f) / (double)f->records;
		printf("  %-10s %7u %14s %9.1f %9.3f %14.2f", fmt_count((double)f->records, rows, sizeof rows),
		       f->workers, fmt_count(figure_rpm(f), rpm, sizeof rpm), figure_mbps(f), figure_median_s(f),
		       cost / base);
		print_opt(cpu_per_million(f), 9, 3);
		printf("\n");
	}
}

static void print_report(const struct bench *b)
{
	print_machine(b);
	printf("  %-34s %14s %9s\n", "stage (one thread, page cache)", "records/min", "MB/s");
	for (int i = 0; i < ST_COUNT; i++)
		print_figure(&b->stage[i], NULL, NULL);
	print_end_to_end(b);
	if (b->nscale > 0)
		print_scaling(b);
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

/* A number, or null when there is none (negative). */
static void json_opt(FILE *f, const char *key, double v)
{
	if (v < 0)
		fprintf(f, ", \"%s\": null", key);
	else
		fprintf(f, ", \"%s\": %.4f", key, v);
}

static void json_runs(FILE *f, const char *key, const double *v, uint32_t n)
{
	fprintf(f, ", \"%s\": [", key);
	for (uint32_t i = 0; i < n; i++) {
		if (v[i] < 0)
			fprintf(f, "%snull", i ? ", " : "");
		else
			fprintf(f, "%s%.4f", i ? ", " : "", v[i]);
	}
	fprintf(f, "]");
}

/* An end-to-end figure's ratios and CPU-seconds (medians), and with runs
 * each run's CPU-seconds. */
static void json_cost(FILE *f, const struct figure *fig, const struct bench *b, bool runs)
{
	json_opt(f, "ratio_psql", figure_ratio(fig, &b->psql));
	json_opt(f, "ratio_floor", figure_ratio(fig, &b->floor));
	json_opt(f, "cpu_loader_s", figure_cpu_loader_s(fig));
	json_opt(f, "cpu_server_s", figure_cpu_server_s(fig));
	json_opt(f, "cpu_total_s", figure_cpu_total_s(fig));
	json_opt(f, "cpu_s_per_million_records", cpu_per_million(fig));
	if (figure_cpu_server_s(fig) < 0) {
		fprintf(f, ", \"cpu_server_reason\": ");
		json_string(f, b->server_cpu_why ? b->server_cpu_why : "not measured");
	}
	if (runs) {
		json_runs(f, "cpu_loader_runs_s", fig->cpu_loader_s, fig->nruns);
		json_runs(f, "cpu_server_runs_s", fig->cpu_server_s, fig->nruns);
	}
}

/* Every figure is an object with records_per_minute (null when it was not
 * measured, with the reason beside it); end-to-end ones (b not NULL) also
 * with their ratios and CPU-seconds. */
static void json_figure(FILE *f, const struct figure *fig, const struct bench *b, bool runs)
{
	if (!figure_measured(fig)) {
		fprintf(f, "{\"records_per_minute\": null, \"available\": false, \"reason\": ");
		json_string(f, fig->why_not ? fig->why_not : "not measured");
		if (fig->label != NULL) {
			fprintf(f, ", \"label\": ");
			json_string(f, fig->label);
		}
		fprintf(f, "}");
		return;
	}
	fprintf(f,
		"{\"records_per_minute\": %.0f, \"mb_per_s\": %.2f, \"records\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"seconds_median\": %.4f",
		figure_rpm(fig), figure_mbps(fig), fig->records, fig->bytes, figure_median_s(fig));
	if (fig->label != NULL) {
		fprintf(f, ", \"label\": ");
		json_string(f, fig->label);
	}
	if (fig->workers > 0)
		fprintf(f, ", \"workers\": %u", fig->workers);
	if (fig->keys_invalidated > 0)
		fprintf(f, ", \"keys_invalidated\": %" PRIu64 ", \"invalidate\": \"%s\"", fig->keys_invalidated,
			INVALIDATE_TEMPLATE);
	if (b != NULL && fig->has_cpu)
		json_cost(f, fig, b, runs);
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
	/* The report names every server the figures came from. */
	char redis[64];
	if (b->has_invalidate && b->redis != NULL && bench_redis_version(b->redis, redis, sizeof redis) == 0) {
		fprintf(f, ", \"redis\": ");
		json_string(f, redis);
	}
	fprintf(f, ", \"edonu_ingest\": ");
	json_string(f, EDONU_VERSION);
	fprintf(f, "}");
}

/* The --json document, built in memory (*text, malloc'd; the --html page
 * carries it too). */
static int json_build(const struct bench *b, bool passed, char **text, size_t *len, struct err *e)
{
	*text = NULL;
	*len = 0;
	FILE *f = open_memstream(text, len);
	if (f == NULL)
		return err_set(e, EXIT_SOFTWARE, "cannot build the figures' JSON: %s", strerror(errno));
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(f,
		"{\"quick\": %s, \"rows\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"zstd_bytes\": %" PRIu64
		", \"runs\": %u, \"cpus\": %u, \"workers\": %u, \"finished_at\": \"%s\",\n \"machine\": ",
		b->o->quick ? "true" : "false", b->rows, b->csv_bytes, b->zst_bytes, b->runs, b->cpus, b->workers,
		when);
	json_machine(f, b);
	/* Only figures inside "stages", so that a reader can walk it. */
	fprintf(f, ",\n \"stage_threads\": 1,\n \"stages\": {");
	for (int i = 0; i < ST_COUNT; i++) {
		fprintf(f, "%s\n  \"%s\": ", i ? "," : "", b->stage[i].key);
		json_figure(f, &b->stage[i], NULL, false);
	}
	fprintf(f, "},\n \"encode_deferred\": %" PRIu64 ", \"encode_rejected\": %" PRIu64 ",\n \"end_to_end\": {",
		b->encode_deferred, b->encode_rejected);
	const struct figure *e2e[] = {&b->psql, &b->floor, &b->edonu, &b->edonu_redis, &b->pgl};
	for (size_t i = 0; i < sizeof e2e / sizeof e2e[0]; i++) {
		fprintf(f, "%s\n  \"%s\": ", i ? "," : "", e2e[i]->key);
		json_figure(f, e2e[i], b, true);
	}
	fprintf(f, ",\n  \"ratio_to_psql\": %.4f, \"ratio_to_floor\": %.4f},\n \"scaling\": [",
		figure_median_s(&b->edonu) / figure_median_s(&b->psql),
		figure_median_s(&b->edonu) / figure_median_s(&b->floor));
	for (uint32_t i = 0; i < b->nscale; i++) {
		fprintf(f, "%s\n  ", i ? "," : "");
		json_figure(f, &b->scale[i], b, true);
	}
	fprintf(f, "],\n \"floor_records_per_minute\": %.0f, \"passed\": %s}\n", BENCH_FLOOR_RECORDS_PER_MIN,
		passed ? "true" : "false");
	if (fclose(f) != 0) {
		free(*text);
		*text = NULL;
		return err_set(e, EXIT_SOFTWARE, "cannot build the figures' JSON: %s", strerror(errno));
	}
	return 0;
}

/* --json and --html, written as the summaries are (io/atomic_file.c): a
 * device such as /dev/null is written to, never replaced. */
static int write_outputs(const struct bench *b, bool passed, struct err *e)
{
	char *text;
	size_t len;
	if (json_build(b, passed, &text, &len, e) < 0)
		return -1;
	const char *what = "write";
	int rc = 0;
	if (b->o->json != NULL && atomic_file_write(b->o->json, text, len, &what) < 0)
		rc = err_set(e, EXIT_CONFIG, "cannot %s --json %s: %s", what, b->o->json, strerror(errno));
	if (rc == 0 && b->o->html != NULL)
		rc = bench_html_write(b->o->html, text, len, e);
	free(text);
	return rc;
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
	if (bench_capture_output(argv, help, sizeof help) == 0) {
		b->has_invalidate = strstr(help, "--invalidate") != NULL && strstr(help, "--redis") != NULL;
		b->has_state_dir = strstr(help, "--state-dir") != NULL;
	}
	if (!bench_find_in_path("pgloader", b->pgloader))
		b->pgloader[0] = '\0';
}

/* --json and --html are written at the end: a path that cannot be written
 * fails now, not after the whole suite ran. */
static int output_check(const char *opt, const char *path, struct err *e)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return err_set(e, EXIT_CONFIG, "cannot write --%s %s: it is a directory", opt, path);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) /* a device or FIFO is written to as it is */
		return access(path, W_OK) == 0
			   ? 0
			   : err_set(e, EXIT_CONFIG, "cannot write --%s %s: %s", opt, path, strerror(errno));
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	/* The file is replaced by a rename from beside it: the directory must take new files. */
	if (access(dir, W_OK | X_OK) < 0)
		return err_set(e, EXIT_CONFIG, "cannot write --%s %s: %s: %s", opt, path, dir, strerror(errno));
	return 0;
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
	if ((o->json != NULL && output_check("json", o->json, e) < 0) ||
	    (o->html != NULL && output_check("html", o->html, e) < 0))
		return -1;
	char path[PATH_MAX];
	if (!bench_find_in_path("psql", path))
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
		if (bench_find_source_root(b, e) < 0)
			return -1;
		fprintf(stderr, "edonu-ingest: bench: starting throwaway %s%s%s\n", need_pg ? "PostgreSQL" : "",
			need_pg && need_redis ? " and " : "", need_redis ? "Redis" : "");
		if (bench_servers_start(&b->srv, b->root, need_pg, need_redis, e) < 0)
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
	if (bench_fresh_table(b, TABLE_EDONU, e) < 0 || catalog_read(b->conn, TABLE_EDONU, NULL, &b->table, e) < 0)
		return -1;
	b->table_read = true;
	if (b->table.ncols != gen_shape_columns(GEN_ORDERS) || !b->table.all_binary)
		return err_set(e, EXIT_SOFTWARE, "the orders table lacks the 10 binary-encodable columns expected");
	return 0;
}

static int bench_run(struct bench *b, struct err *e)
{
	/* A --dsn that does not answer fails before any server is started. */
	if (b->o->dsn != NULL && bench_db_connect(b, e) < 0)
		return -1;
	if (servers_up(b, e) < 0 || (b->conn == NULL && bench_db_connect(b, e) < 0) || catalog_setup(b, e) < 0)
		return -1;
	fprintf(stderr, "edonu-ingest: bench: generating %" PRIu64 " orders records\n", b->rows);
	if (make_data(b, e) < 0)
		return -1;
	fprintf(stderr, "edonu-ingest: bench: stages, %u runs\n", b->runs);
	if (bench_stages(b, e) < 0)
		return -1;
	fprintf(stderr, "edonu-ingest: bench: end to end, %u alternating runs\n", b->runs);
	if (bench_end_to_end(b, e) < 0)
		return -1;
	if (!b->o->quick) {
		fprintf(stderr, "edonu-ingest: bench: scaling rows and workers\n");
		if (bench_scaling(b, e) < 0)
			return -1;
	}
	return 0;
}

static void teardown(struct bench *b)
{
	if (b->conn != NULL && PQstatus(b->conn) == CONNECTION_OK)
		PQclear(PQexec(b->conn, "DROP TABLE IF EXISTS " TABLE_EDONU ", " TABLE_PSQL ", " TABLE_FLOOR
					", " TABLE_PGLOADER));
	if (b->table_read)
		catalog_free(&b->table);
	if (b->conn != NULL)
		PQfinish(b->conn);
	bench_servers_stop(&b->srv);
	if (b->tmp[0] != '\0')
		bench_remove_tree(b->tmp);
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
	if (rc == 0 && bench_interrupted())
		rc = err_set(&e, EXIT_TEMPFAIL, "interrupted");
	int code = EXIT_OK;
	if (rc == 0) {
		print_report(&b);
		bool passed = check_floor(&b);
		if ((o->json != NULL || o->html != NULL) && write_outputs(&b, passed, &e) < 0) {
			fprintf(stderr, "edonu-ingest: bench: %s\n", e.msg);
			code = e.code;
		} else
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
