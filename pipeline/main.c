/* main.c - edonu-ingest's entry point: parses the command line and runs the command. */
#include "../bench/bench.h"
#include "../bench/gen.h"
#include "../core/err.h"
#include "../stages/charset.h"
#include "load.h"
#include "log.h"
#include "options.h"
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int gen_main(const struct options *o)
{
	struct gen_opts g = {
	    .format = strcmp(o->gen_format, "ndjson") == 0 ? FORMAT_NDJSON : FORMAT_CSV,
	    .rows = o->rows,
	    .seed = o->seed,
	    .bad_every = o->bad_every,
	    .header = true,
	};
	if (gen_parse_shape(o->shape, &g.shape) < 0) {
		fprintf(stderr, "edonu-ingest: --shape must be orders or wide, not \"%s\"\n", o->shape);
		return EXIT_USAGE;
	}
	if (o->table_sql != NULL) {
		char sql[8192];
		if (gen_table_sql(g.shape, o->table_sql, sql, sizeof sql) < 0) {
			fprintf(stderr, "edonu-ingest: table name \"%s\" is too long\n", o->table_sql);
			return EXIT_USAGE;
		}
		printf("%s\n", sql);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_SOFTWARE;
	}
	int fd = STDOUT_FILENO;
	bool zstd = false;
	if (o->output != NULL && strcmp(o->output, "-") != 0) {
		size_t n = strlen(o->output);
		zstd = n > 4 && strcmp(o->output + n - 4, ".zst") == 0;
		fd = open(o->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "edonu-ingest: cannot create %s: %s\n", o->output, strerror(errno));
			return EXIT_NOINPUT;
		}
	}
	struct err e;
	err_clear(&e);
	int rc = gen_write(&g, fd, zstd, &e);
	if (fd != STDOUT_FILENO && close(fd) < 0 && rc == 0)
		rc = err_set(&e, EXIT_SOFTWARE, "cannot write %s: %s", o->output, strerror(errno));
	if (rc < 0) {
		fprintf(stderr, "edonu-ingest: gen: %s\n", e.msg);
		return e.code ? e.code : EXIT_SOFTWARE;
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct options o;
	struct err e;
	err_clear(&e);
	/* A peer that goes away (Redis, a closed stdout) is an error return from
	 * write, handled where it happens, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	int rc = options_parse(&o, argc, argv, &e);
	int code;
	if (rc > 0) {
		code = EXIT_OK;
	} else if (rc < 0) {
		fprintf(stderr, "edonu-ingest: %s\n", e.msg);
		/* A bad config file is a configuration error, a converter missing
		 * from the system an internal one; the rest is usage. */
		code = e.code == EXIT_CONFIG || e.code == EXIT_SOFTWARE ? e.code : EXIT_USAGE;
	} else {
		/* Read from the environment, the encoding may surprise: say it. */
		if (o.encoding_from_env && o.charset != NULL)
			log_event(o.log_format, LOG_INFO, "input_encoding",
				  "input read as %s, from PGCLIENTENCODING (--encoding overrides it)",
				  charset_name(o.charset));
		switch (o.cmd) {
		case CMD_LOAD: code = load_main(&o); break;
		case CMD_GEN: code = gen_main(&o); break;
		case CMD_RUN: code = run_main(&o); break;
		case CMD_BENCH: code = bench_main(&o, argv[0]); break;
		default: code = EXIT_USAGE; break;
		}
	}
	options_free(&o);
	return code;
}
