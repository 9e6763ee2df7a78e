/* test_options.c - --from-rejects: parsed for load only, exclusive with FILE operands, needs --format, set by config files too, documented in --help; --delimiter takes a tab as \t, tab or itself, on the command line and in a config file; --encoding: PostgreSQL's names, PGCLIENTENCODING when absent, refusals with their exit codes, the config key; --max-record-bytes: sizes with units, bounded, defaulted; --flush-interval: durations in seconds or milliseconds, 0 turns it off, bad ones refused. */
#include "../../pipeline/options.h"
#include "../../stages/charset.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

/* Parses the NULL-terminated arguments after the program name. */
static int parse(struct options *o, struct err *e, const char *const *args)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = "edonu-ingest";
	for (int i = 0; args[i] != NULL; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	err_clear(e);
	return options_parse(o, argc, argv, e);
}

/* Parses args, expecting a usage error whose message holds each of the needles. */
static void expect_error(const char *const *args, int code, const char *needle1, const char *needle2)
{
	struct options o;
	struct err e;
	int rc = parse(&o, &e, args);
	bool ok = rc == -1 && e.code == code && strstr(e.msg, needle1) != NULL &&
		  (needle2 == NULL || strstr(e.msg, needle2) != NULL);
	if (!ok)
		fprintf(stderr, "\nrc %d, code %d, message: %s\n", rc, e.code, e.msg);
	CU_ASSERT(ok);
	options_free(&o);
}

/* load --from-rejects FILE with a format is taken, and leaves no operands. */
static void test_from_rejects_parsed(void)
{
	struct options o;
	struct err e;
	const char *args[] = {"load", "--table", "t", "--format", "csv", "--from-rejects", "r.ndjson", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, args), 0);
	CU_ASSERT_STRING_EQUAL(o.from_rejects, "r.ndjson");
	CU_ASSERT_EQUAL(o.nfiles, 0);
	options_free(&o);
	const char *eq[] = {"load", "--table=t", "--format=text", "--no-header", "--from-rejects=x y.ndjson", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, eq), 0);
	CU_ASSERT_STRING_EQUAL(o.from_rejects, "x y.ndjson");
	options_free(&o);
	/* Without it, nothing changes. */
	const char *plain[] = {"load", "--table", "t", "a.csv", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, plain), 0);
	CU_ASSERT_PTR_NULL(o.from_rejects);
	CU_ASSERT_EQUAL(o.nfiles, 1);
	options_free(&o);
}

/* FILE operands (standard input's - too) are a usage error naming both; so is a missing --format; run does not take it. */
static void test_from_rejects_errors(void)
{
	const char *file[] = {"load", "--table", "t", "--format", "csv", "--from-rejects", "r.ndjson", "a.csv", NULL};
	expect_error(file, EXIT_USAGE, "--from-rejects takes no FILE operands (\"a.csv\")", "r.ndjson");
	const char *before[] = {"load", "a.csv", "--table", "t", "--format", "csv", "--from-rejects", "r.ndjson", NULL};
	expect_error(before, EXIT_USAGE, "no FILE operands", "a.csv");
	const char *dash[] = {"load", "--table", "t", "--format", "ndjson", "--from-rejects", "r.ndjson", "-", NULL};
	expect_error(dash, EXIT_USAGE, "no FILE operands", NULL);
	const char *no_format[] = {"load", "--table", "t", "--from-rejects", "r.ndjson", NULL};
	expect_error(no_format, EXIT_USAGE, "--from-rejects needs --format", NULL);
	const char *auto_format[] = {"load", "--table", "t", "--format", "auto", "--from-rejects", "r.ndjson", NULL};
	expect_error(auto_format, EXIT_USAGE, "--from-rejects needs --format", NULL);
	const char *no_value[] = {"load", "--table", "t", "--format", "csv", "--from-rejects", NULL};
	expect_error(no_value, EXIT_USAGE, "--from-rejects", "needs a value");
	const char *run[] = {"run", "--spool", "/tmp", "--table", "t", "--from-rejects", "r.ndjson", NULL};
	expect_error(run, EXIT_USAGE, "unknown option --from-rejects for run", NULL);
}

static void write_config(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fputs(text, fp);
	fclose(fp);
}

/* The config key from-rejects sets it as the option does, with the same exclusivity; [run] may not hold it. */
static void test_from_rejects_config(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/load.ini", dir);
	write_config(path, "[load]\nfrom-rejects = from-file.ndjson\nformat = csv\n");
	struct options o;
	struct err e;
	const char *args[] = {"load", "--table", "t", "--config", path, NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, args), 0);
	CU_ASSERT_STRING_EQUAL(o.from_rejects, "from-file.ndjson");
	options_free(&o);
	/* The command line wins over the file. */
	const char *over[] = {"load", "--table", "t", "--config", path, "--from-rejects", "cli.ndjson", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, over), 0);
	CU_ASSERT_STRING_EQUAL(o.from_rejects, "cli.ndjson");
	options_free(&o);
	const char *with_file[] = {"load", "--table", "t", "--config", path, "a.csv", NULL};
	expect_error(with_file, EXIT_USAGE, "no FILE operands", "from-file.ndjson");
	/* A top-level key serves load; run passes it over as another command's. */
	write_config(path, "from-rejects = r.ndjson\n");
	const char *run[] = {"run", "--spool", "/tmp", "--table", "t", "--config", path, NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, run), 0);
	CU_ASSERT_PTR_NULL(o.from_rejects);
	options_free(&o);
	write_config(path, "[run]\nfrom-rejects = r.ndjson\n");
	const char *load[] = {"load", "--table", "t", "--format", "csv", "--config", path, NULL};
	expect_error(load, EXIT_CONFIG, "unknown key \"from-rejects\"", NULL);
}

/* load --help documents the option with the words the brief of the feature gives; run's does not list it. */
static void test_from_rejects_help(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	options_usage(out, CMD_LOAD);
	fclose(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "--from-rejects FILE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text,
				      "replay the raw records of a rejects file as a new source: give the dialect "
				      "options of the original load; the header each record came with maps its "
				      "fields"));
	free(text);
	out = open_memstream(&text, &len);
	options_usage(out, CMD_RUN);
	fclose(out);
	CU_ASSERT_PTR_NULL(strstr(text, "from-rejects"));
	free(text);
}

/* \t (backslash, t), tab (any case) and a literal tab all give a CSV dialect
 * split on tabs, and are stored alike (a rerun compares the settings); a
 * longer value is still a usage error that names the spellings. */
static void test_delimiter_tab(void)
{
	const char *spellings[] = {"\\t", "tab", "TAB", "\t"};
	for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
		struct options o;
		struct err e;
		const char *args[] = {"load", "--table", "t", "--format", "csv", "--delimiter", spellings[i], NULL};
		CU_ASSERT_EQUAL_FATAL(parse(&o, &e, args), 0);
		CU_ASSERT_STRING_EQUAL(o.delimiter, "\t");
		struct dialect d;
		options_dialect(&o, FORMAT_CSV, &d);
		CU_ASSERT_EQUAL(d.delimiter, '\t');
		CU_ASSERT_EQUAL(d.quote, '"');
		CU_ASSERT_TRUE(d.header);
		options_free(&o);
	}
	char path[128];
	snprintf(path, sizeof path, "%s/tab.ini", dir);
	write_config(path, "delimiter = \\t\n");
	struct options o;
	struct err e;
	const char *cfg[] = {"load", "--table", "t", "--config", path, NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, cfg), 0);
	CU_ASSERT_STRING_EQUAL(o.delimiter, "\t");
	options_free(&o);
	const char *semi[] = {"load", "--table", "t", "--delimiter", ";", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, semi), 0);
	CU_ASSERT_STRING_EQUAL(o.delimiter, ";");
	options_free(&o);
	const char *bad[] = {"load", "--table", "t", "--delimiter", "\\x09", NULL};
	expect_error(bad, EXIT_USAGE, "--delimiter must be a single one-byte character (\\t or tab for a tab)",
		     "\\x09");
	const char *word[] = {"load", "--table", "t", "--delimiter", "tabs", NULL};
	expect_error(word, EXIT_USAGE, "--delimiter", "\"tabs\"");
}

/* --encoding takes PostgreSQL's names and aliases in any case; the dialect carries the charset; UTF8 means none. */
static void test_encoding_parsed(void)
{
	unsetenv("PGCLIENTENCODING");
	struct options o;
	struct err e;
	const char *args[] = {"load", "--table", "t", "--encoding", "windows-1252", "a.csv", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, args), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o.charset);
	CU_ASSERT_STRING_EQUAL(charset_name(o.charset), "WIN1252");
	struct dialect d;
	options_dialect(&o, FORMAT_TEXT, &d);
	CU_ASSERT_PTR_EQUAL(d.charset, o.charset);
	options_free(&o);
	CU_ASSERT_PTR_NULL(o.charset);
	const char *utf8[] = {"load", "--table", "t", "--encoding=utf-8", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, utf8), 0);
	CU_ASSERT_PTR_NULL(o.charset);
	options_free(&o);
	const char *run[] = {"run", "--spool", "/tmp", "--table", "t", "--encoding", "Latin9", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, run), 0);
	CU_ASSERT_STRING_EQUAL(charset_name(o.charset), "LATIN9");
	options_free(&o);
}

/* PGCLIENTENCODING is the default, as psql's client encoding is COPY's; --encoding overrides it; bench and gen ignore it. */
static void test_encoding_environment(void)
{
	struct options o;
	struct err e;
	setenv("PGCLIENTENCODING", "latin1", 1);
	const char *plain[] = {"load", "--table", "t", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, plain), 0);
	CU_ASSERT_STRING_EQUAL(charset_name(o.charset), "LATIN1");
	options_free(&o);
	const char *over[] = {"load", "--table", "t", "--encoding", "UTF8", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, over), 0);
	CU_ASSERT_PTR_NULL(o.charset);
	options_free(&o);
	setenv("PGCLIENTENCODING", "SJIS", 1);
	expect_error(plain, EXIT_USAGE, "PGCLIENTENCODING", "SJIS is not supported");
	const char *fixed[] = {"load", "--table", "t", "--encoding", "win1250", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, fixed), 0);
	CU_ASSERT_STRING_EQUAL(charset_name(o.charset), "WIN1250");
	options_free(&o);
	const char *gen[] = {"gen", "--rows", "1", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, gen), 0);
	CU_ASSERT_PTR_NULL(o.charset);
	options_free(&o);
	unsetenv("PGCLIENTENCODING");
}

/* Bad names are usage errors naming the supported encodings; a non-ASCII delimiter cannot go with a conversion; bench does not take the option. */
static void test_encoding_errors(void)
{
	unsetenv("PGCLIENTENCODING");
	const char *bogus[] = {"load", "--table", "t", "--encoding", "klingon", NULL};
	expect_error(bogus, EXIT_USAGE, "--encoding: \"klingon\" is not an encoding PostgreSQL knows",
		     "supported: UTF8, LATIN1 to LATIN10");
	const char *cp[] = {"load", "--table", "t", "--encoding", "cp1252", NULL};
	expect_error(cp, EXIT_USAGE, "PostgreSQL calls it WIN1252", NULL);
	const char *multi[] = {"load", "--table", "t", "--encoding", "gb18030", NULL};
	expect_error(multi, EXIT_USAGE, "GB18030 is not supported", "WIN1250 to WIN1258");
	const char *ascii[] = {"load", "--table", "t", "--encoding", "sql_ascii", NULL};
	expect_error(ascii, EXIT_USAGE, "SQL_ASCII input is neither converted nor checked", NULL);
	const char *delim[] = {"load", "--table", "t", "--encoding", "latin1", "--delimiter", "\xa7", NULL};
	expect_error(delim, EXIT_USAGE, "--delimiter must be an ASCII character with input in LATIN1", NULL);
	const char *bench[] = {"bench", "--encoding", "latin1", NULL};
	expect_error(bench, EXIT_USAGE, "unknown option --encoding for bench", NULL);
}

/* The config key encoding sets it; a bad value there is a configuration error (78); the command line wins. */
static void test_encoding_config(void)
{
	unsetenv("PGCLIENTENCODING");
	char path[128];
	snprintf(path, sizeof path, "%s/enc.ini", dir);
	write_config(path, "[load]\nencoding = ISO-8859-1\n");
	struct options o;
	struct err e;
	const char *args[] = {"load", "--table", "t", "--config", path, NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, args), 0);
	CU_ASSERT_STRING_EQUAL(charset_name(o.charset), "LATIN1");
	options_free(&o);
	const char *over[] = {"load", "--table", "t", "--config", path, "--encoding", "win1252", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, over), 0);
	CU_ASSERT_STRING_EQUAL(charset_name(o.charset), "WIN1252");
	options_free(&o);
	write_config(path, "encoding = EBCDIC\n");
	expect_error(args, EXIT_CONFIG, "\"EBCDIC\" is not an encoding PostgreSQL knows", NULL);
}

/* --max-record-bytes takes bytes or kB/MB/GB (1024-based, as PostgreSQL writes them), 256MB by default, at most
 * 1GB; zero, junk, unknown units and more than 1GB are usage errors naming the option. */
static void test_max_record_bytes(void)
{
	static const struct {
		const char *arg;
		size_t bytes;
	} ok[] = {{"1", 1},
		  {"1048577", 1048577},
		  {"64kB", (size_t)64 << 10},
		  {"64KiB", (size_t)64 << 10},
		  {"300MB", (size_t)300 << 20},
		  {"300MiB", (size_t)300 << 20},
		  {"1GB", (size_t)1 << 30},
		  {"1073741824", (size_t)1 << 30}};
	struct options o;
	struct err e;
	const char *dflt[] = {"load", "--table", "t", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, dflt), 0);
	CU_ASSERT_EQUAL(o.max_record_bytes, (size_t)256 << 20);
	options_free(&o);
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		const char *args[] = {"load", "--table", "t", "--max-record-bytes", ok[i].arg, NULL};
		CU_ASSERT_EQUAL_FATAL(parse(&o, &e, args), 0);
		CU_ASSERT_EQUAL(o.max_record_bytes, ok[i].bytes);
		options_free(&o);
	}
	static const char *const bad[] = {"0", "0MB", "-1", "12x", "1 MB", "MB", "1TB", "1mb", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *args[] = {"load", "--table", "t", "--max-record-bytes", bad[i], NULL};
		expect_error(args, EXIT_USAGE, "--max-record-bytes needs a size greater than 0", NULL);
	}
	const char *big[] = {"load", "--table", "t", "--max-record-bytes", "1025MB", NULL};
	expect_error(big, EXIT_USAGE, "--max-record-bytes is at most 1GB", "PostgreSQL");
	const char *big2[] = {"load", "--table", "t", "--max-record-bytes", "1073741825", NULL};
	expect_error(big2, EXIT_USAGE, "--max-record-bytes is at most 1GB", NULL);
}

/* --flush-interval takes whole seconds (with or without s) or
 * milliseconds; 0 turns it off; its default is a second; the config file
 * takes the same words. */
static void test_flush_interval(void)
{
	static const struct {
		const char *arg;
		uint32_t ms;
	} good[] = {{"1", 1000},
		    {"2s", 2000},
		    {"250ms", 250},
		    {"0", 0},
		    {"0ms", 0},
		    {"4294967ms", 4294967},
		    {"4294967295ms", UINT32_MAX}};
	struct options o;
	struct err e;
	const char *plain[] = {"load", "--table", "t", NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, plain), 0);
	CU_ASSERT_EQUAL(o.flush_interval_ms, 1000);
	options_free(&o);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		const char *args[] = {"load", "--table", "t", "--flush-interval", good[i].arg, NULL};
		CU_ASSERT_EQUAL_FATAL(parse(&o, &e, args), 0);
		CU_ASSERT_EQUAL(o.flush_interval_ms, good[i].ms);
		options_free(&o);
	}
	static const char *const bad[] = {"",    "s",  "ms",      "-1",           "1.5",        "1m",
					  "2 s", "1h", "4294968", "4294967296ms", "99999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *args[] = {"load", "--table", "t", "--flush-interval", bad[i], NULL};
		expect_error(args, EXIT_USAGE, "--flush-interval needs a duration", "250ms");
	}
	char path[128];
	snprintf(path, sizeof path, "%s/flush.ini", dir);
	write_config(path, "[load]\nflush-interval = 250ms\n");
	const char *cfg[] = {"load", "--table", "t", "--config", path, NULL};
	CU_ASSERT_EQUAL_FATAL(parse(&o, &e, cfg), 0);
	CU_ASSERT_EQUAL(o.flush_interval_ms, 250);
	options_free(&o);
	write_config(path, "[load]\nflush-interval = soon\n");
	expect_error(cfg, EXIT_CONFIG, "--flush-interval needs a duration", "soon");
}

int main(void)
{
	/* The caller's client encoding would change what load parses to. */
	unsetenv("PGCLIENTENCODING");
	snprintf(dir, sizeof dir, "/tmp/test_options.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("options", NULL, NULL);
	CU_add_test(s, "from-rejects parsed", test_from_rejects_parsed);
	CU_add_test(s, "from-rejects errors", test_from_rejects_errors);
	CU_add_test(s, "from-rejects config", test_from_rejects_config);
	CU_add_test(s, "from-rejects help", test_from_rejects_help);
	CU_add_test(s, "delimiter tab", test_delimiter_tab);
	CU_add_test(s, "encoding parsed", test_encoding_parsed);
	CU_add_test(s, "encoding from PGCLIENTENCODING", test_encoding_environment);
	CU_add_test(s, "encoding errors", test_encoding_errors);
	CU_add_test(s, "encoding config", test_encoding_config);
	CU_add_test(s, "max-record-bytes", test_max_record_bytes);
	CU_add_test(s, "flush-interval", test_flush_interval);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		failed++;
	return failed ? 1 : 0;
}
