/* test_dialect.c - the dialects COPY refuses are refused with EXIT_USAGE naming the option; COPY's defaults, an escape equal to the delimiter and NDJSON pass. */
#include "../../stages/dialect.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

static struct dialect csv(char delimiter, char quote, char escape, const char *null)
{
	return (struct dialect){.format = FORMAT_CSV,
				.delimiter = delimiter,
				.quote = quote,
				.escape = escape,
				.null = null,
				.null_len = (uint32_t)strlen(null)};
}

static struct dialect text(char delimiter, const char *null)
{
	return (struct dialect){
	    .format = FORMAT_TEXT, .delimiter = delimiter, .null = null, .null_len = (uint32_t)strlen(null)};
}

/* d is refused with EXIT_USAGE and a message holding needle. */
static void refused(struct dialect d, const char *needle)
{
	struct err e;
	err_clear(&e);
	CU_ASSERT_EQUAL(dialect_check(&d, &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, needle));
	if (strstr(e.msg, needle) == NULL)
		fprintf(stderr, "\n  message \"%s\" lacks \"%s\"\n", e.msg, needle);
}

static void accepted(struct dialect d)
{
	struct err e;
	err_clear(&e);
	CU_ASSERT_EQUAL(dialect_check(&d, &e), 0);
}

static void test_defaults_pass(void)
{
	accepted(csv(',', '"', '"', ""));
	accepted(text('\t', "\\N"));
	accepted(csv(';', '\'', '\\', "NULL"));
	accepted(text(',', ""));
	accepted(text('|', "\\N"));
	/* COPY takes an escape equal to the delimiter (it only counts inside
	 * quotes), and so does the loader. */
	accepted(csv(',', '"', ',', ""));
	struct dialect nd = {.format = FORMAT_NDJSON, .null = ""};
	accepted(nd);
}

static void test_csv_refusals(void)
{
	refused(csv(',', ',', ',', ""), "--quote and --delimiter must differ");
	refused(csv('\n', '"', '"', ""), "--delimiter cannot be a newline");
	refused(csv('\r', '"', '"', ""), "--delimiter cannot be a newline");
	refused(csv(',', '\n', '\n', ""), "--quote cannot be a newline");
	refused(csv(',', '"', '"', "a,b"), "holds the delimiter");
	refused(csv(',', '"', '"', "x\""), "holds the quote");
	refused(csv(',', '"', '"', "a\nb"), "--null cannot hold a newline");
}

static void test_text_refusals(void)
{
	refused(text('\\', "\\N"), "--delimiter cannot be \"\\\" in the text format");
	refused(text('.', "\\N"), "in the text format");
	refused(text('n', "\\N"), "in the text format");
	refused(text('7', "\\N"), "in the text format");
	refused(text('\t', "a\tb"), "holds the delimiter");
	refused(text('\t', "x\r"), "--null cannot hold a newline");
	/* An upper-case letter is no escape: COPY takes it. */
	accepted(text('N', ""));
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("dialect", NULL, NULL);
	if (s == NULL)
		return 1;
	CU_add_test(s, "defaults pass", test_defaults_pass);
	CU_add_test(s, "csv refusals", test_csv_refusals);
	CU_add_test(s, "text refusals", test_text_refusals);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
