/* options.h - the command line: one typed table of options drives parsing, validation and --help. */
#ifndef EDONU_OPTIONS_H
#define EDONU_OPTIONS_H

#include "../core/err.h"
#include "../stages/record.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum command {
	CMD_NONE = 0,
	CMD_LOAD,
	CMD_GEN,
	CMD_BENCH,
	CMD_RUN,
};

enum on_conflict { CONFLICT_ERROR = 0, CONFLICT_IGNORE, CONFLICT_UPDATE };

enum progress_mode { PROGRESS_AUTO = 0, PROGRESS_ALWAYS, PROGRESS_NEVER };
enum log_format { LOG_TEXT = 0, LOG_JSON };

/* A repeatable option's values, in the order given. */
#define OPTION_LIST_MAX 16
struct option_list {
	const char *v[OPTION_LIST_MAX];
	uint32_t n;
};

struct options {
	enum command cmd;

	/* load */
	const char *dsn;
	const char *table;
	enum input_format format;
	int header;            /* -1: the format's default (csv yes, text no) */
	const char *delimiter; /* one byte each, checked by options_parse */
	const char *quote;
	const char *escape;
	const char *null;
	const char *columns; /* "a,b,c" as given */
	/* --encoding as given, or PGCLIENTENCODING (encoding_from_env); NULL:
	 * neither. */
	const char *encoding;
	bool encoding_from_env;
	/* Its conversion, opened by options_parse and released by options_free;
	 * NULL for UTF-8 input. */
	struct charset *charset;
	uint32_t workers; /* 0: the cores the process may run on */
	uint32_t batch_rows;
	size_t max_record_bytes; /* longer records (line end excluded) are rejected */
	const char *rejects;
	enum progress_mode progress;
	const char *summary;
	const char *metrics_textfile;
	const char *metrics_listen;
	enum log_format log_format;
	uint32_t connect_timeout_s;
	uint32_t retry_timeout_s;   /* reconnect and retry a chunk for at most this long */
	uint32_t flush_interval_ms; /* streams: a chunk also closes this long after its first record; 0: never */
	uint64_t max_rejects;       /* stop past this many rejects; UINT64_MAX: no limit */
	enum on_conflict on_conflict;
	const char *key; /* "a,b": the conflict key for --on-conflict */
	int dry_run;
	int force;
	const char *source_id;
	int analyze; /* ANALYZE the table after a load that added rows */

	/* load only: replay the raw records of this rejects file instead of FILEs */
	const char *from_rejects;

	/* gen */
	const char *shape;
	const char *gen_format;
	uint64_t rows;
	uint64_t seed;
	uint64_t bad_every;
	const char *output;
	const char *table_sql; /* print the DDL for this table name and exit */

	/* bench */
	int quick;
	const char *json;
	const char *html; /* bench --html: the report page */
	uint32_t runs;
	int rows_set; /* --rows was given (bench picks its own default) */
	int workers_set;

	/* cache invalidation */
	const char *redis;
	struct option_list invalidate; /* --invalidate TEMPLATE, repeatable */
	struct option_list bump;       /* --bump TEMPLATE, repeatable */
	const char *publish;
	const char *state_dir;

	/* run */
	const char *spool;
	uint32_t settle_s;         /* files younger than this are still being written */
	uint32_t shard_k, shard_n; /* --shard K/N: this instance takes names hashing to K; n = 0: all */
	const char *config;

	const char **files; /* operands */
	int nfiles;
	/* Set by the commands, not by options: files already opened once by
	 * the caller, one per file (sources_open_inputs; run opens its spool's
	 * without following links), -1 where the reader opens the name itself
	 * (standard input, a FIFO). NULL: the engine opens them. */
	const int *file_fds;
	/* Their fingerprints, started by the command before it connected
	 * (io/fingerprint.h), or NULL: the job starts its own. */
	struct fingerprint_set *file_prints;

	/* Copies of config file values, freed by options_free; a config has
	 * one value per option at most, and repeatable options a few more. */
#define OPTIONS_CONFIG_VALUES_MAX 256
	char *config_values[OPTIONS_CONFIG_VALUES_MAX];
	uint32_t nconfig_values;
};

/* A duration as --flush-interval takes it: whole seconds ("2", "2s") or
 * milliseconds ("250ms"), 0 allowed. -1 when s is none of these or does
 * not fit in 32 bits of milliseconds. */
int options_parse_ms(const char *s, uint32_t *ms);

/* Parses argv into o. Returns 0 to go on, 1 when --help/--version was served
 * (exit 0), -1 on a usage error (e: EXIT_USAGE with a one-line message). */
int options_parse(struct options *o, int argc, char **argv, struct err *e);

/* The dialect the options describe for format f (CSV, TEXT or NDJSON). */
void options_dialect(const struct options *o, enum input_format f, struct dialect *d);

void options_usage(FILE *out, enum command cmd);

/* Sets the option called name (a long name) for o->cmd from a text value,
 * as the config file does: booleans take true/false, yes/no, on/off, 1/0.
 * Returns 0; 1 when the name is an option of another command only (ignored);
 * -1 with e (EXIT_CONFIG) for an unknown name or a bad value. The value is
 * copied. */
int options_set(struct options *o, const char *name, const char *value, struct err *e);

/* Releases what options_parse allocated (config file values). */
void options_free(struct options *o);

/* Whether name is an option of command cmd. */
bool options_known(const char *name, enum command cmd);

/* Reads an INI file (pipeline/config.c): keys outside any section apply to
 * every command, keys in [load] or [run] to that command only. */
int config_read(struct options *o, const char *path, struct err *e);

#endif
