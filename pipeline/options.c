/* options.c - command-line parsing from one table of typed options, which also prints --help. */
#include "options.h"

#include "../core/limits.h"
#include "../stages/charset.h"
#include "../stages/dialect.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum opt_type {
	OPT_STRING, /* const char * */
	OPT_CHAR,   /* const char *, exactly one byte */
	OPT_U32,    /* uint32_t, > 0 */
	OPT_U64,    /* uint64_t */
	OPT_TRUE,   /* int set to 1 */
	OPT_FALSE,  /* int set to 0 */
	OPT_ENUM,   /* int, index into choices ("a|b|c") */
	OPT_LIST,   /* struct option_list: each use appends */
	OPT_U32Z,   /* uint32_t, 0 allowed */
	OPT_SHARD,  /* K/N into shard_k, shard_n */
	OPT_ENC,    /* const char *, an encoding charset_open accepts; opens o->charset */
	OPT_BYTES,  /* size_t, 1 to RECORD_BYTES_LIMIT: bytes, or kB, MB, GB (1024-based, as PostgreSQL) */
	OPT_MS,     /* uint32_t milliseconds: N or Ns (seconds), Nms; 0 allowed */
};

/* Commands an option belongs to. */
/* run loads each file as load would: it takes every load option. */
#define FOR_LOAD  ((1u << CMD_LOAD) | (1u << CMD_RUN))
/* Options of load that run does not take: run's input is its spool. */
#define LOAD_ONLY (1u << CMD_LOAD)
#define FOR_RUN   (1u << CMD_RUN)
#define FOR_GEN   (1u << CMD_GEN)
#define FOR_BENCH (1u << CMD_BENCH)

struct opt_def {
	const char *name;
	enum opt_type type;
	size_t offset;
	unsigned commands;
	const char *arg; /* argument name in --help, or the choices of an enum */
	const char *help;
};

#define OFF(f) offsetof(struct options, f)

static const struct opt_def opt_defs[] = {
    {"dsn", OPT_STRING, OFF(dsn), FOR_LOAD | FOR_BENCH, "DSN",
     "libpq connection string or URI (PG* variables apply when absent; the password best in PGPASSWORD or "
     "~/.pgpass, not here: argv is visible to other users)"},
    {"table", OPT_STRING, OFF(table), FOR_LOAD, "NAME", "target table, may be schema-qualified (required)"},
    {"format", OPT_ENUM, OFF(format), FOR_LOAD, "auto|csv|text|ndjson",
     "input format; auto: by extension after stripping .zst, then by content (default auto)"},
    {"header", OPT_TRUE, OFF(header), FOR_LOAD, NULL, "first line names the columns (default for csv)"},
    {"no-header", OPT_FALSE, OFF(header), FOR_LOAD, NULL, "no header line (default for text)"},
    {"delimiter", OPT_CHAR, OFF(delimiter), FOR_LOAD, "C",
     "field delimiter; \\t or tab for a tab (default , for csv, tab for text)"},
    {"quote", OPT_CHAR, OFF(quote), FOR_LOAD, "C", "csv quote character (default \")"},
    {"escape", OPT_CHAR, OFF(escape), FOR_LOAD, "C", "csv escape character inside quotes (default: the quote)"},
    {"null", OPT_STRING, OFF(null), FOR_LOAD, "S",
     "string that means NULL (default: unquoted empty for csv, \\N for text)"},
    {"encoding", OPT_ENC, OFF(encoding), FOR_LOAD, "NAME",
     "the input's encoding, as COPY's ENCODING names it: UTF8, LATIN1 to LATIN10, WIN1250 to WIN1258, ... "
     "(PostgreSQL's names and aliases, any case; default $PGCLIENTENCODING, else UTF8)"},
    {"columns", OPT_STRING, OFF(columns), FOR_LOAD, "a,b,c",
     "the table columns the input fields fill, in order (instead of the header)"},
    {"workers", OPT_U32, OFF(workers), FOR_LOAD | FOR_BENCH, "N",
     "worker threads and connections (default: the cores this process may run on)"},
    {"batch-rows", OPT_U32, OFF(batch_rows), FOR_LOAD, "N",
     "records per chunk and transaction, at most (default 40000)"},
    {"max-record-bytes", OPT_BYTES, OFF(max_record_bytes), FOR_LOAD, "N",
     "reject records longer than this, line end not counted: bytes, or with kB, MB, GB (default 256MB, at most "
     "1GB, PostgreSQL's limit for one value)"},
    {"rejects", OPT_STRING, OFF(rejects), FOR_LOAD, "FILE", "append rejected records here, one JSON object a line"},
    {"progress", OPT_ENUM, OFF(progress), FOR_LOAD, "auto|always|never",
     "progress on stderr (auto: when stderr is a terminal)"},
    {"summary", OPT_STRING, OFF(summary), FOR_LOAD, "FILE|-", "write the summary as JSON to FILE or stdout"},
    {"metrics-textfile", OPT_STRING, OFF(metrics_textfile), FOR_LOAD, "FILE",
     "Prometheus metrics for node_exporter's textfile collector, written every 10 s and at exit"},
    {"metrics-listen", OPT_STRING, OFF(metrics_listen), FOR_LOAD, "HOST:PORT",
     "serve Prometheus metrics (/metrics), a live dashboard (/) and its figures as JSON (/stats) while running; "
     "PORT or :PORT listens on 127.0.0.1 only, 0.0.0.0:PORT on every interface"},
    {"log-format", OPT_ENUM, OFF(log_format), FOR_LOAD, "text|json", "log lines on stderr as logfmt or JSON"},
    {"max-rejects", OPT_U64, OFF(max_rejects), FOR_LOAD, "N",
     "stop once more than N records are rejected; what committed stays (default: no limit)"},
    {"on-conflict", OPT_ENUM, OFF(on_conflict), FOR_LOAD, "error|ignore|update",
     "a record whose --key exists: reject it, skip it, or update the row's other columns (default error)"},
    {"key", OPT_STRING, OFF(key), FOR_LOAD, "a,b", "the unique key for --on-conflict ignore|update"},
    {"dry-run", OPT_TRUE, OFF(dry_run), FOR_LOAD, NULL,
     "parse, validate and encode everything, report rejects, write nothing"},
    {"force", OPT_TRUE, OFF(force), FOR_LOAD, NULL, "load an input again that the ledger says is loaded"},
    {"source-id", OPT_STRING, OFF(source_id), FOR_LOAD, "ID",
     "ledger identity of standard input, so that a rerun resumes it (files: from their content)"},
    {"analyze", OPT_TRUE, OFF(analyze), FOR_LOAD, NULL, "run ANALYZE on the table after a load that added rows"},
    {"from-rejects", OPT_STRING, OFF(from_rejects), LOAD_ONLY, "FILE",
     "replay the raw records of a rejects file as a new source: give the dialect options of the original load; "
     "the header each record came with maps its fields (instead of FILE operands; needs --format)"},
    {"retry-timeout", OPT_U32, OFF(retry_timeout_s), FOR_LOAD, "SECONDS",
     "on a lost connection or server restart, reconnect and retry for this long (default 60)"},
    {"connect-timeout", OPT_U32, OFF(connect_timeout_s), FOR_LOAD, "SECONDS",
     "give up connecting to PostgreSQL after this long (default 60)"},
    {"flush-interval", OPT_MS, OFF(flush_interval_ms), LOAD_ONLY, "DURATION",
     "on a pipe or standard input a chunk also closes this long after its first record arrived, with the "
     "whole records it has: rows show up while the stream pauses (2, 2s, 250ms; 0: only when full; default 1s)"},

    {"config", OPT_STRING, OFF(config), FOR_LOAD, "FILE",
     "read options from an INI file (keys are these long names); the command line wins"},
    {"spool", OPT_STRING, OFF(spool), FOR_RUN, "DIR", "the spool directory to load (required)"},
    {"settle", OPT_U32Z, OFF(settle_s), FOR_RUN, "SECONDS",
     "leave files modified less than this long ago: still being written (default 5)"},
    {"shard", OPT_SHARD, 0, FOR_RUN, "K/N", "take only the files whose name hashes to K of N (0 <= K < N)"},

    {"shape", OPT_STRING, OFF(shape), FOR_GEN, "orders|wide", "record shape (default orders)"},
    {"rows", OPT_U64, OFF(rows), FOR_GEN | FOR_BENCH, "N",
     "number of records (default 1000000; bench --quick: 300000)"},
    {"seed", OPT_U64, OFF(seed), FOR_GEN | FOR_BENCH, "N",
     "random seed; the same seed gives the same bytes (default 1)"},
    {"quick", OPT_TRUE, OFF(quick), FOR_BENCH, NULL, "a short run that fits in a minute on 2 cores"},
    {"json", OPT_STRING, OFF(json), FOR_BENCH, "FILE", "also write the figures as JSON to FILE"},
    {"html", OPT_STRING, OFF(html), FOR_BENCH, "FILE",
     "also write a report to FILE: one self-contained HTML page with charts, the machine and the raw figures"},
    {"runs", OPT_U32, OFF(runs), FOR_BENCH, "N", "runs of each end-to-end figure; the median is reported (default 3)"},
    {"redis", OPT_STRING, OFF(redis), FOR_LOAD | FOR_BENCH, "URL",
     "Redis for cache invalidation: redis://[[user]:password@]host:port/db or unix:///path; without a password "
     "in it, EDONU_REDIS_PASSWORD (bench: default a throwaway server)"},
    {"invalidate", OPT_LIST, OFF(invalidate), FOR_LOAD, "TEMPLATE",
     "after each commit UNLINK the keys this template renders from the committed rows, e.g. "
     "erp:{tenant_id}:order:{order_id} (repeatable)"},
    {"bump", OPT_LIST, OFF(bump), FOR_LOAD, "TEMPLATE", "INCR this version key once per committed chunk (repeatable)"},
    {"publish", OPT_STRING, OFF(publish), FOR_LOAD, "CHANNEL", "PUBLISH the invalidated keys on this channel"},
    {"state-dir", OPT_STRING, OFF(state_dir), FOR_LOAD, "DIR",
     "where the invalidation journal lives (default $STATE_DIRECTORY, $XDG_STATE_HOME/edonu-ingest, "
     "~/.local/state/edonu-ingest)"},
    {"bad-every", OPT_U64, OFF(bad_every), FOR_GEN, "K", "make records K, 2K, 3K... invalid (default 0: none)"},
    {"output", OPT_STRING, OFF(output), FOR_GEN, "FILE", "write here instead of stdout; zstd when FILE ends in .zst"},
    {"table-sql", OPT_STRING, OFF(table_sql), FOR_GEN, "NAME", "print CREATE TABLE NAME for the shape and exit"},
};
#define NOPTS (sizeof opt_defs / sizeof opt_defs[0])

/* gen takes --format csv|ndjson; load takes auto|csv|text|ndjson. They share the
 * long name, so gen's is handled apart from the table. */
static const char gen_format_help[] = "csv|ndjson";

static const char *command_name(enum command c)
{
	switch (c) {
	case CMD_LOAD: return "load";
	case CMD_GEN: return "gen";
	case CMD_BENCH: return "bench";
	case CMD_RUN: return "run";
	default: return NULL;
	}
}

static int choice_index(const char *choices, const char *v)
{
	size_t vl = strlen(v);
	int i = 0;
	for (const char *p = choices;; i++) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == vl && memcmp(p, v, n) == 0)
			return i;
		if (bar == NULL)
			return -1;
		p = bar + 1;
	}
}

static int parse_u64(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* The input's encoding, named by --encoding or by PGCLIENTENCODING (what
 * says it, for the message): the charset replaces any earlier one. A name
 * PostgreSQL does not know or an encoding not supported is EXIT_USAGE; a
 * converter missing from the C library is EXIT_SOFTWARE. */
static int set_encoding(struct options *o, const char *what, const char *name, struct err *e)
{
	char msg[512];
	struct charset *cs;
	enum charset_status st = charset_open(name, &cs, msg, sizeof msg);
	if (st != CHARSET_OK)
		return err_set(e, st == CHARSET_NO_CONVERTER ? EXIT_SOFTWARE : EXIT_USAGE, "%s: %s", what, msg);
	charset_free(o->charset);
	o->charset = cs;
	o->encoding = name;
	return 0;
}

/* A size: a whole number, then optionally a unit as PostgreSQL's settings
 * write them (kB, MB, GB: powers of 1024) or as KiB, MiB, GiB. */
static int parse_bytes(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		unsigned shift;
	} units[] = {{"", 0},    {"B", 0},    {"kB", 10}, {"KB", 10}, {"KiB", 10},
		     {"MB", 20}, {"MiB", 20}, {"GB", 30}, {"GiB", 30}};
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > UINT64_MAX >> units[i].shift)
			return -1;
		*out = (uint64_t)v << units[i].shift;
		return 0;
	}
	return -1;
}

int options_parse_ms(const char *s, uint32_t *ms)
{
	size_t n = strspn(s, "0123456789");
	uint64_t v, scale;
	if (n == 0 || n > 10)
		return -1;
	if (strcmp(s + n, "") == 0 || strcmp(s + n, "s") == 0)
		scale = 1000;
	else if (strcmp(s + n, "ms") == 0)
		scale = 1;
	else
		return -1;
	char digits[11];
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (parse_u64(digits, &v) < 0 || v > UINT32_MAX / scale)
		return -1;
	*ms = (uint32_t)(v * scale);
	return 0;
}

/* --shard K/N. */
static int set_shard(struct options *o, const char *arg, struct err *e)
{
	const char *slash = strchr(arg, '/');
	uint64_t k, n;
	char kbuf[24];
	size_t kl = slash ? (size_t)(slash - arg) : 0;
	if (slash == NULL || kl == 0 || kl >= sizeof kbuf)
		return err_set(e, EXIT_USAGE, "--shard needs K/N, not \"%s\"", arg);
	memcpy(kbuf, arg, kl);
	kbuf[kl] = '\0';
	if (parse_u64(kbuf, &k) < 0 || parse_u64(slash + 1, &n) < 0 || n == 0 || n > 65536 || k >= n)
		return err_set(e, EXIT_USAGE, "--shard needs K/N with 0 <= K < N <= 65536, not \"%s\"", arg);
	o->shard_k = (uint32_t)k;
	o->shard_n = (uint32_t)n;
	return 0;
}

/* A size option (--max-record-bytes): 1 byte to RECORD_BYTES_LIMIT. */
static int set_bytes(size_t *out, const char *name, const char *arg, struct err *e)
{
	uint64_t v;
	if (parse_bytes(arg, &v) < 0 || v == 0)
		return err_set(
		    e, EXIT_USAGE,
		    "--%s needs a size greater than 0: bytes, or a whole number with kB, MB or GB, not \"%s\"", name,
		    arg);
	if (v > RECORD_BYTES_LIMIT)
		return err_set(e, EXIT_USAGE,
			       "--%s is at most 1GB (%zu bytes), PostgreSQL's limit for one value, not \"%s\"", name,
			       RECORD_BYTES_LIMIT, arg);
	*out = (size_t)v;
	return 0;
}

static int set_option(struct options *o, const struct opt_def *d, const char *arg, struct err *e)
{
	char *base = (char *)o + d->offset;
	uint64_t v;
	int idx;
	switch (d->type) {
	case OPT_STRING: *(const char **)(void *)base = arg; return 0;
	case OPT_CHAR:
		/* A tab is hard to type in a shell or a config file: \t (the
		 * two characters) and the word tab name it too. The value is
		 * stored as the tab itself, so that a rerun compares equal
		 * however it was written. */
		if (strcmp(arg, "\\t") == 0 || strcasecmp(arg, "tab") == 0)
			arg = "\t";
		if (strlen(arg) != 1)
			return err_set(e, EXIT_USAGE,
				       "--%s must be a single one-byte character (\\t or tab for a tab), not \"%s\"",
				       d->name, arg);
		*(const char **)(void *)base = arg;
		return 0;
	case OPT_U32:
		if (parse_u64(arg, &v) < 0 || v == 0 || v > UINT32_MAX)
			return err_set(e, EXIT_USAGE, "--%s needs a whole number greater than 0, not \"%s\"", d->name,
				       arg);
		*(uint32_t *)(void *)base = (uint32_t)v;
		return 0;
	case OPT_U32Z:
		if (parse_u64(arg, &v) < 0 || v > UINT32_MAX)
			return err_set(e, EXIT_USAGE, "--%s needs a whole number, not \"%s\"", d->name, arg);
		*(uint32_t *)(void *)base = (uint32_t)v;
		return 0;
	case OPT_SHARD: return set_shard(o, arg, e);
	case OPT_BYTES: return set_bytes((size_t *)(void *)base, d->name, arg, e);
	case OPT_MS:
		if (options_parse_ms(arg, (uint32_t *)(void *)base) < 0)
			return err_set(
			    e, EXIT_USAGE,
			    "--%s needs a duration: whole seconds (2 or 2s) or milliseconds (250ms), 0 to turn "
			    "it off; not \"%s\"",
			    d->name, arg);
		return 0;
	case OPT_U64:
		if (parse_u64(arg, &v) < 0)
			return err_set(e, EXIT_USAGE, "--%s needs a whole number, not \"%s\"", d->name, arg);
		*(uint64_t *)(void *)base = v;
		return 0;
	case OPT_ENC: return set_encoding(o, "--encoding", arg, e);
	case OPT_TRUE: *(int *)(void *)base = 1; return 0;
	case OPT_FALSE: *(int *)(void *)base = 0; return 0;
	case OPT_LIST: {
		struct option_list *l = (struct option_list *)(void *)base;
		if (l->n == OPTION_LIST_MAX)
			return err_set(e, EXIT_USAGE, "--%s is given more than %d times", d->name, OPTION_LIST_MAX);
		l->v[l->n++] = arg;
		return 0;
	}
	case OPT_ENUM:
		idx = choice_index(d->arg, arg);
		if (idx < 0)
			return err_set(e, EXIT_USAGE, "--%s must be one of %s, not \"%s\"", d->name, d->arg, arg);
		*(int *)(void *)base = idx;
		return 0;
	}
	return err_set(e, EXIT_SOFTWARE, "option table corrupt");
}

void options_usage(FILE *out, enum command cmd)
{
	if (cmd == CMD_NONE) {
		fputs("usage: edonu-ingest COMMAND [OPTIONS]\n"
		      "\n"
		      "Bulk loader for PostgreSQL: CSV and text records, plain or zstd, from files or stdin,\n"
		      "validated and written with binary COPY by one worker per core.\n"
		      "\n"
		      "commands:\n"
		      "  load [OPTIONS] [FILE...|-]   load files (no FILE or -: standard input)\n"
		      "  gen [OPTIONS]                write deterministic synthetic ERP records\n"
		      "  run --spool DIR [OPTIONS]    batch job: load each file of DIR once, file it under done/ or "
		      "failed/\n"
		      "  bench [OPTIONS]              benchmark the stages and end-to-end loads against psql \\copy\n"
		      "\n"
		      "  --help, -h                   this text; COMMAND --help for a command's options\n"
		      "  --version                    print the version\n"
		      "\n"
		      "exit codes: 0 loaded, 64 usage, 65 records rejected, 66 input missing or unreadable,\n"
		      "69 PostgreSQL unavailable, 70 internal error, 75 interrupted (rerun), 78 configuration.\n",
		      out);
		return;
	}
	if (cmd == CMD_LOAD)
		fputs(
		    "usage: edonu-ingest load [OPTIONS] [FILE...|-]\n       edonu-ingest load [OPTIONS] --from-rejects "
		    "FILE\n\nLoads each FILE (or standard input) into --table, or the records a rejects file "
		    "holds.\n\noptions:\n",
		    out);
	else if (cmd == CMD_RUN)
		fputs(
		    "usage: edonu-ingest run --spool DIR [OPTIONS]\n\nLoads each regular file of DIR in name order as "
		    "load "
		    "would, then moves it to DIR/done/,\nor to DIR/failed/ with FILE.rejects.ndjson beside it. Hidden "
		    "files and names ending in\n.part or .tmp are left alone, and so are files modified within "
		    "--settle seconds.\n\noptions:\n",
		    out);
	else if (cmd == CMD_BENCH)
		fputs("usage: edonu-ingest bench [OPTIONS]\n\nMeasures each stage and whole loads side by side with "
		      "psql \\copy on the same data and server;\nexits 1 when a load falls below 1,000,000 "
		      "records/min.\n\noptions:\n",
		      out);
	else
		fputs("usage: edonu-ingest gen [OPTIONS]\n\nWrites synthetic records, the same bytes for the same "
		      "seed.\n\noptions:\n",
		      out);
	if (cmd == CMD_GEN)
		fprintf(out, "  --%-22s %s\n", "format csv|ndjson", "output format (default csv)");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_def *d = &opt_defs[i];
		if (!(d->commands & (1u << cmd)))
			continue;
		char left[64];
		if (d->arg)
			snprintf(left, sizeof left, "%s %s", d->name, d->arg);
		else
			snprintf(left, sizeof left, "%s", d->name);
		/* Long names with their argument get the help on the next line. */
		if (strlen(left) > 22)
			fprintf(out, "  --%s\n  %-24s %s\n", left, "", d->help);
		else
			fprintf(out, "  --%-22s %s\n", left, d->help);
	}
	fprintf(out, "  --%-22s %s\n", "help", "this text");
}

static void set_defaults(struct options *o)
{
	memset(o, 0, sizeof *o);
	o->header = -1;
	o->batch_rows = BATCH_ROWS_DEFAULT;
	o->max_record_bytes = RECORD_BYTES_DEFAULT;
	o->connect_timeout_s = 60;
	o->retry_timeout_s = 60;
	/* Rows of a trickling pipe show up within about a second, while a busy
	 * stream still fills whole chunks well within it (40,000 records are
	 * ~4 MiB, read in milliseconds). */
	o->flush_interval_ms = 1000;
	o->max_rejects = UINT64_MAX;
	o->rows = 1000000;
	o->seed = 1;
	o->shape = "orders";
	o->gen_format = "csv";
	o->settle_s = 5;
}

/* argv[1]: the command, or --help/--version (1: served). */
static int parse_command(struct options *o, int argc, char **argv, struct err *e)
{
	if (argc < 2) {
		options_usage(stderr, CMD_NONE);
		return err_set(e, EXIT_USAGE, "a command is required");
	}
	const char *c = argv[1];
	if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
		options_usage(stdout, CMD_NONE);
		return 1;
	}
	if (strcmp(c, "--version") == 0) {
		printf("edonu-ingest %s\n", EDONU_VERSION);
		return 1;
	}
	if (strcmp(c, "load") == 0)
		o->cmd = CMD_LOAD;
	else if (strcmp(c, "gen") == 0)
		o->cmd = CMD_GEN;
	else if (strcmp(c, "bench") == 0)
		o->cmd = CMD_BENCH;
	else if (strcmp(c, "run") == 0)
		o->cmd = CMD_RUN;
	else
		return err_set(e, EXIT_USAGE, "unknown command \"%s\" (try edonu-ingest --help)", c);

	return 0;
}

/* The getopt_long table of o->cmd from opt_defs: an entry's val is 256 plus
 * its index in opt_defs. lo has room for NOPTS + 3 entries. */
static void build_long_options(const struct options *o, struct option *lo)
{
	size_t n = 0;
	for (size_t i = 0; i < NOPTS; i++) {
		if (!(opt_defs[i].commands & (1u << o->cmd)))
			continue;
		bool has_arg = opt_defs[i].type != OPT_TRUE && opt_defs[i].type != OPT_FALSE;
		lo[n++] =
		    (struct option){opt_defs[i].name, has_arg ? required_argument : no_argument, NULL, 256 + (int)i};
	}
	lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
	if (o->cmd == CMD_GEN)
		lo[n++] = (struct option){"format", required_argument, NULL, 'f'};
	lo[n] = (struct option){NULL, 0, NULL, 0};
}

/* The config file first, so that the command line overrides it. */
static int read_config_first(struct options *o, int sub_argc, char **sub_argv, struct err *e)
{
	for (int i = 1; i < sub_argc; i++) {
		if (strcmp(sub_argv[i], "--") == 0)
			break;
		if (strcmp(sub_argv[i], "--config") == 0 && i + 1 < sub_argc)
			o->config = sub_argv[i + 1];
		else if (strncmp(sub_argv[i], "--config=", 9) == 0)
			o->config = sub_argv[i] + 9;
	}
	if (o->config != NULL && (o->cmd == CMD_LOAD || o->cmd == CMD_RUN) && config_read(o, o->config, e) < 0)
		return -1;
	return 0;
}

/* The command's options on the command line. 1 when --help was served. */
static int parse_command_line(struct options *o, int sub_argc, char **sub_argv, const struct option *lo, struct err *e)
{
	/* A repeatable option given on the command line replaces the file's list. */
	bool list_from_cli[NOPTS] = {false};
	optind = 1;
	opterr = 0;
	for (;;) {
		int li = -1;
		int ch = getopt_long(sub_argc, sub_argv, o->cmd == CMD_GEN ? "ho:" : "h", lo, &li);
		if (ch == -1)
			break;
		if (ch == 'h') {
			options_usage(stdout, o->cmd);
			return 1;
		}
		if (ch == 'o') {
			o->output = optarg;
			continue;
		}
		if (ch == 'f') {
			if (choice_index(gen_format_help, optarg) < 0)
				return err_set(e, EXIT_USAGE, "--format must be one of %s, not \"%s\"", gen_format_help,
					       optarg);
			o->gen_format = optarg;
			continue;
		}
		if (ch == '?' || ch == ':') {
			const char *bad = sub_argv[optind - 1];
			if (optopt != 0 && optopt < 256)
				return err_set(e, EXIT_USAGE, "unknown option -%c for %s", optopt,
					       command_name(o->cmd));
			if (ch == ':' || (li < 0 && strchr(bad, '=') == NULL && optopt >= 256))
				return err_set(e, EXIT_USAGE, "option %s needs a value", bad);
			return err_set(e, EXIT_USAGE, "unknown option %s for %s (try edonu-ingest %s --help)", bad,
				       command_name(o->cmd), command_name(o->cmd));
		}
		const struct opt_def *d = &opt_defs[ch - 256];
		if (d->type == OPT_LIST && !list_from_cli[ch - 256]) {
			((struct option_list *)(void *)((char *)o + d->offset))->n = 0;
			list_from_cli[ch - 256] = true;
		}
		if (set_option(o, d, optarg, e) < 0)
			return -1;
		if (strcmp(opt_defs[ch - 256].name, "rows") == 0)
			o->rows_set = 1;
		if (strcmp(opt_defs[ch - 256].name, "workers") == 0)
			o->workers_set = 1;
	}
	o->files = (const char **)(sub_argv + optind);
	o->nfiles = sub_argc - optind;
	return 0;
}

/* COPY's ENCODING defaults to the client encoding, which psql takes from
 * PGCLIENTENCODING: so does the input's encoding here, when --encoding is
 * not given. Delimiter, quote and escape must then be ASCII, one byte in
 * the input and in its conversion alike (the server refuses others). */
static int check_encoding(struct options *o, struct err *e)
{
	const char *env = getenv("PGCLIENTENCODING");
	if (o->encoding == NULL && env != NULL && env[0] != '\0') {
		if (set_encoding(o, "PGCLIENTENCODING (the input's encoding without --encoding)", env, e) < 0)
			return -1;
		o->encoding_from_env = true;
	}
	if (o->charset == NULL)
		return 0;
	const char *const chars[] = {o->delimiter, o->quote, o->escape};
	const char *const names[] = {"delimiter", "quote", "escape"};
	for (int i = 0; i < 3; i++)
		if (chars[i] != NULL && (unsigned char)chars[i][0] >= 0x80)
			return err_set(e, EXIT_USAGE, "--%s must be an ASCII character with input in %s", names[i],
				       charset_name(o->charset));
	return 0;
}

/* What no single option can check: required options, exclusions. */
static int check_options(struct options *o, struct err *e)
{
	if (o->cmd == CMD_RUN) {
		if (o->spool == NULL)
			return err_set(e, EXIT_USAGE, "run needs --spool DIR");
		if (o->nfiles > 0)
			return err_set(e, EXIT_USAGE, "run takes no operands (\"%s\"): it loads the files of --spool",
				       o->files[0]);
		if (o->source_id != NULL)
			return err_set(e, EXIT_USAGE, "--source-id is for standard input; run knows files by content");
	}
	if (o->cmd == CMD_LOAD && o->from_rejects != NULL) {
		if (o->nfiles > 0)
			return err_set(e, EXIT_USAGE,
				       "--from-rejects takes no FILE operands (\"%s\"): it loads the records of the "
				       "rejects file %s",
				       o->files[0], o->from_rejects);
		/* The rejects file's own name (.ndjson) says nothing of the format
		 * its records were in, and guessing from the records could take a
		 * CSV record for another format. */
		if (o->format == FORMAT_AUTO)
			return err_set(e, EXIT_USAGE,
				       "--from-rejects needs --format csv|text|ndjson: the format of the load that "
				       "wrote the rejects file");
	}
	if (o->cmd == CMD_LOAD || o->cmd == CMD_RUN) {
		if (check_encoding(o, e) < 0)
			return -1;
		/* A format named: its dialect now, before anything connects
		 * (--format auto: each source's, once its format is known). */
		if (o->format == FORMAT_CSV || o->format == FORMAT_TEXT) {
			struct dialect d;
			options_dialect(o, o->format, &d);
			if (dialect_check(&d, e) < 0)
				return -1;
		}
		if (o->table == NULL)
			return err_set(e, EXIT_USAGE, "%s needs --table", command_name(o->cmd));
		if (o->workers > WORKERS_MAX)
			return err_set(e, EXIT_USAGE, "--workers is at most %u", WORKERS_MAX);
		if (o->batch_rows > BATCH_ROWS_MAX)
			return err_set(e, EXIT_USAGE, "--batch-rows is at most %u", BATCH_ROWS_MAX);
		if (o->on_conflict != CONFLICT_ERROR && o->key == NULL)
			return err_set(e, EXIT_USAGE, "--on-conflict ignore|update needs --key");
		if (o->key != NULL && o->on_conflict == CONFLICT_ERROR)
			return err_set(e, EXIT_USAGE, "--key goes with --on-conflict ignore|update");
		if (o->source_id != NULL && (o->source_id[0] == '\0' || strlen(o->source_id) > 80))
			return err_set(e, EXIT_USAGE, "--source-id must have 1 to 80 characters");
		bool wants_redis = o->invalidate.n > 0 || o->bump.n > 0 || o->publish != NULL;
		if (wants_redis && o->redis == NULL)
			return err_set(e, EXIT_USAGE, "--invalidate, --bump and --publish need --redis URL");
		if (o->redis != NULL && !wants_redis)
			return err_set(e, EXIT_USAGE, "--redis needs --invalidate or --bump to say which keys");
	} else if (o->nfiles > 0) {
		return err_set(e, EXIT_USAGE, "%s takes no operands (\"%s\")", command_name(o->cmd), o->files[0]);
	}
	return 0;
}

int options_parse(struct options *o, int argc, char **argv, struct err *e)
{
	set_defaults(o);
	int rc = parse_command(o, argc, argv, e);
	if (rc != 0)
		return rc;
	struct option lo[NOPTS + 3];
	build_long_options(o, lo);
	int sub_argc = argc - 1;
	char **sub_argv = argv + 1;
	if (read_config_first(o, sub_argc, sub_argv, e) < 0)
		return -1;
	rc = parse_command_line(o, sub_argc, sub_argv, lo, e);
	if (rc != 0)
		return rc;
	return check_options(o, e);
}

static bool parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (int i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

bool options_known(const char *name, enum command cmd)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(opt_defs[i].name, name) == 0 && (opt_defs[i].commands & (1u << cmd)))
			return true;
	return false;
}

void options_free(struct options *o)
{
	charset_free(o->charset);
	o->charset = NULL;
	for (uint32_t i = 0; i < o->nconfig_values; i++)
		free(o->config_values[i]);
	o->nconfig_values = 0;
}

int options_set(struct options *o, const char *name, const char *value, struct err *e)
{
	bool other_command = false;
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt_def *d = &opt_defs[i];
		if (strcmp(d->name, name) != 0)
			continue;
		if (!(d->commands & (1u << o->cmd))) {
			other_command = true;
			continue;
		}
		if (strcmp(name, "config") == 0)
			return err_set(e, EXIT_CONFIG, "\"config\" cannot be set in a config file");
		if (d->type == OPT_TRUE || d->type == OPT_FALSE) {
			bool b;
			if (!parse_bool(value, &b))
				return err_set(e, EXIT_CONFIG, "%s must be true or false, not \"%s\"", name, value);
			*(int *)(void *)((char *)o + d->offset) = d->type == OPT_TRUE ? b : !b;
			return 0;
		}
		/* Values live as long as the options, like argv; the list lets
		 * options_free release them. */
		char *copy = strdup(value);
		if (copy == NULL || o->nconfig_values == OPTIONS_CONFIG_VALUES_MAX) {
			free(copy);
			return err_set(e, EXIT_CONFIG, "too many values in the config file");
		}
		o->config_values[o->nconfig_values++] = copy;
		if (set_option(o, d, copy, e) < 0) {
			/* A converter missing from the system is not the file's fault. */
			if (e->code != EXIT_SOFTWARE)
				e->code = EXIT_CONFIG;
			return -1;
		}
		return 0;
	}
	if (other_command)
		return 1;
	return err_set(e, EXIT_CONFIG, "unknown key \"%s\"", name);
}

void options_dialect(const struct options *o, enum input_format f, struct dialect *d)
{
	memset(d, 0, sizeof *d);
	d->format = f;
	if (f == FORMAT_NDJSON) {
		/* No header, delimiter or NULL marker: keys name the columns
		 * and JSON null is NULL. */
		d->null = "";
	} else if (f == FORMAT_TEXT) {
		d->delimiter = o->delimiter ? o->delimiter[0] : '\t';
		d->null = o->null ? o->null : "\\N";
		d->header = o->header == 1;
	} else {
		d->delimiter = o->delimiter ? o->delimiter[0] : ',';
		d->quote = o->quote ? o->quote[0] : '"';
		d->escape = o->escape ? o->escape[0] : d->quote;
		d->null = o->null ? o->null : "";
		d->header = o->header != 0;
	}
	d->null_len = (uint32_t)strlen(d->null);
	d->charset = o->charset;
}
