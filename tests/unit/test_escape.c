/* test_escape.c - text from the input printed on a terminal (the summary table, log lines) carries no byte a terminal acts on: C0 controls, DEL, C1 controls and bytes that are not UTF-8 come out escaped, valid UTF-8 text as it is. */
#include "../../core/buf.h"
#include "../../core/escape.h"

#include <CUnit/Basic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char out[512];

static const char *text(const char *p, size_t n)
{
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 4), 0);
	escape_text(&b, p, n);
	snprintf(out, sizeof out, "%.*s", (int)b.len, b.data);
	buf_free(&b);
	return out;
}

static const char *json(const char *p, size_t n)
{
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 4), 0);
	escape_json(&b, p, n);
	snprintf(out, sizeof out, "%.*s", (int)b.len, b.data);
	buf_free(&b);
	return out;
}

/* No byte below 0x20, no DEL, no C1 control (as a byte or as UTF-8 U+0080-U+009F). */
static bool terminal_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; p[i]; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f || (p[i] >= 0x80 && p[i] <= 0x9f && (i == 0 || p[i - 1] != 0xc2)))
			return false;
		if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return false;
	}
	return true;
}

static void test_text(void)
{
#define T(lit) text(lit, sizeof lit - 1)
	CU_ASSERT_STRING_EQUAL(T("plain words, \"quoted\" and \\ back"), "plain words, \"quoted\" and \\ back");
	CU_ASSERT_STRING_EQUAL(T("b\x1b]0;pwned\x07"), "b\\x1b]0;pwned\\x07");
	CU_ASSERT_STRING_EQUAL(T("tab\there\r\n"), "tab\\x09here\\x0d\\x0a");
	CU_ASSERT_STRING_EQUAL(T("del\x7f"), "del\\x7f");
	CU_ASSERT_STRING_EQUAL(T("csi\xc2\x9b"
				 "2J"),
			       "csi\\u009b2J");
	CU_ASSERT_STRING_EQUAL(T("raw csi \x9b"
				 "2J"),
			       "raw csi \\x9b2J");
	CU_ASSERT_STRING_EQUAL(T("gr\xc3\xb6\xc3\x9f"
				 "e \xe2\x82\xac"),
			       "gr\xc3\xb6\xc3\x9f"
			       "e \xe2\x82\xac");
	CU_ASSERT_STRING_EQUAL(T("cut \xe2\x82"), "cut \\xe2\\x82");
	CU_ASSERT_STRING_EQUAL(text("nul\0x", 5), "nul\\x00x");
#undef T
}

static void test_json(void)
{
#define J(lit) json(lit, sizeof lit - 1)
	CU_ASSERT_STRING_EQUAL(J("a \"b\" \\c"), "\"a \\\"b\\\" \\\\c\"");
	CU_ASSERT_STRING_EQUAL(J("b\x1b]0;x\x07\n"), "\"b\\u001b]0;x\\u0007\\u000a\"");
	CU_ASSERT_STRING_EQUAL(J("\x7f\xc2\x9b\x9b"), "\"\\u007f\\u009b\\u009b\"");
	CU_ASSERT_STRING_EQUAL(J("\xc3\xa9t\xc3\xa9"), "\"\xc3\xa9t\xc3\xa9\"");
#undef J
}

/* Every byte value, alone and after a UTF-8 lead byte: nothing unsafe gets through. */
static void test_every_byte(void)
{
	for (int c = 0; c < 256; c++) {
		char in[2] = {(char)c, 0};
		CU_ASSERT_TRUE(terminal_safe(text(in, 1)));
		CU_ASSERT_TRUE(terminal_safe(json(in, 1)));
		char two[2] = {(char)0xc2, (char)c};
		CU_ASSERT_TRUE(terminal_safe(text(two, 2)));
		CU_ASSERT_TRUE(terminal_safe(json(two, 2)));
	}
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("escape", NULL, NULL);
	if (s == NULL)
		return 1;
	CU_add_test(s, "text", test_text);
	CU_add_test(s, "json", test_json);
	CU_add_test(s, "every byte", test_every_byte);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
