/* test_json_lex.c - the shared json lexer cuts tokens, refuses and reports exactly as PostgreSQL 15's json_lex does, in each of its three escape modes. */
#include "../../stages/json_lex.h"

#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

static struct json_lex lx;

/* Lexes the whole of s under mode, writing the tokens into toks (up to n);
 * returns the first result other than JSON_LEX_OK, or JSON_LEX_OK when the
 * text lexed to its end, and the token count in *ntoks. Under
 * ESCAPES_REPORT a bad escape is returned like a failure, but only after
 * the string has lexed whole, so lx.s is just past it. */
static enum json_lex_res lex_all(const char *s, enum json_lex_escapes mode, enum json_lex_tok *toks, int n, int *ntoks)
{
	json_lex_init(&lx, s, strlen(s), mode);
	*ntoks = 0;
	for (;;) {
		enum json_lex_tok t;
		enum json_lex_res r = json_lex_next(&lx, &t);
		if (r != JSON_LEX_OK)
			return r;
		if (*ntoks < n)
			toks[*ntoks] = t;
		++*ntoks;
		if (t == JSON_LEX_TOK_END)
			return JSON_LEX_OK;
	}
}

/* The result of lexing s whole under mode. */
static enum json_lex_res lex_res(const char *s, enum json_lex_escapes mode)
{
	enum json_lex_tok toks[64];
	int n;
	return lex_all(s, mode, toks, 64, &n);
}

/* Punctuation, keywords, strings and numbers come out as the server's tokens, white space is only space, tab, LF and CR, and each token's start and end are where the text has them. */
static void test_tokens_and_positions(void)
{
	enum json_lex_tok toks[32];
	int n;
	const char *s = " {\"k\" :\t[1, -2.5e3,true ,false,null]}\r\n";
	CU_ASSERT_EQUAL_FATAL(lex_all(s, JSON_LEX_ESCAPES_IGNORE, toks, 32, &n), JSON_LEX_OK);
	static const enum json_lex_tok want[] = {
	    JSON_LEX_TOK_OBJECT_START, JSON_LEX_TOK_STRING,    JSON_LEX_TOK_COLON,      JSON_LEX_TOK_ARRAY_START,
	    JSON_LEX_TOK_NUMBER,       JSON_LEX_TOK_COMMA,     JSON_LEX_TOK_NUMBER,     JSON_LEX_TOK_COMMA,
	    JSON_LEX_TOK_TRUE,         JSON_LEX_TOK_COMMA,     JSON_LEX_TOK_FALSE,      JSON_LEX_TOK_COMMA,
	    JSON_LEX_TOK_NULL,         JSON_LEX_TOK_ARRAY_END, JSON_LEX_TOK_OBJECT_END, JSON_LEX_TOK_END,
	};
	CU_ASSERT_EQUAL_FATAL(n, (int)(sizeof want / sizeof want[0]));
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(toks[i], want[i]);

	/* A token's span: from lx.ts to lx.s. */
	enum json_lex_tok t;
	const char *two = "  \"a\\\"b\"  -0.5e+07x";
	json_lex_init(&lx, two, 18, JSON_LEX_ESCAPES_IGNORE); /* the x is not in the text */
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT_EQUAL(t, JSON_LEX_TOK_STRING);
	CU_ASSERT_EQUAL(lx.ts, (const unsigned char *)two + 2);
	CU_ASSERT_EQUAL(lx.s, (const unsigned char *)two + 8);
	CU_ASSERT(lx.esc);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT_EQUAL(t, JSON_LEX_TOK_NUMBER);
	CU_ASSERT_EQUAL(lx.ts, (const unsigned char *)two + 10);
	CU_ASSERT_EQUAL(lx.s, (const unsigned char *)two + 18);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT_EQUAL(t, JSON_LEX_TOK_END);
	CU_ASSERT_EQUAL(lx.ts, (const unsigned char *)two + 18);
	json_lex_init(&lx, two, 19, JSON_LEX_ESCAPES_IGNORE); /* with the x, one bad number */
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_SYNTAX);

	/* A form feed or vertical tab is not JSON white space. */
	CU_ASSERT_EQUAL(lex_res("\f1", JSON_LEX_ESCAPES_IGNORE), JSON_LEX_SYNTAX);
	CU_ASSERT_EQUAL(lex_res("1\v", JSON_LEX_ESCAPES_IGNORE), JSON_LEX_SYNTAX);
	/* The empty text is one END token, not an error: the parser decides. */
	CU_ASSERT_EQUAL(lex_all("", JSON_LEX_ESCAPES_IGNORE, toks, 32, &n), JSON_LEX_OK);
	CU_ASSERT_EQUAL(n, 1);
}

/* Numbers follow json_lex_number: no leading zeros, no bare point or exponent, no plus sign, and letters or digits run on into one bad token; the digit counts are what jsonb's deferral reads. */
static void test_numbers(void)
{
	static const char *const good[] = {"0", "-0", "10", "0.5", "-1.25", "1e5", "1E+5", "1e-05", "0e0"};
	/* "1.5.2" is 1.5 and then a '.' that starts no token; "1e5e" is one bad token. */
	static const char *const bad[] = {"01", "-",    "1.",    ".5",  "+1", "1e",   "1e+",      "1x",
					  "1_", "0x10", "1.5.2", "--1", "-a", "1e5e", "1\xc3\xa9"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		CU_ASSERT_EQUAL(lex_res(good[i], JSON_LEX_ESCAPES_IGNORE), JSON_LEX_OK);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CU_ASSERT_EQUAL(lex_res(bad[i], JSON_LEX_ESCAPES_IGNORE), JSON_LEX_SYNTAX);

	enum json_lex_tok t;
	json_lex_init(&lx, "-0012", 5, JSON_LEX_ESCAPES_IGNORE);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_SYNTAX);
	json_lex_init(&lx, "120.0500e-0042", 14, JSON_LEX_ESCAPES_IGNORE);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT_EQUAL(lx.mantissa_digits, 7);
	CU_ASSERT_EQUAL(lx.exponent_digits, 2); /* leading zeros of the exponent do not count */
	json_lex_init(&lx, "5e000", 5, JSON_LEX_ESCAPES_IGNORE);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT_EQUAL(lx.mantissa_digits, 1);
	CU_ASSERT_EQUAL(lx.exponent_digits, 0);
	/* A number ends at punctuation and white space. */
	enum json_lex_tok toks[8];
	int n;
	CU_ASSERT_EQUAL(lex_all("[1,2]", JSON_LEX_ESCAPES_IGNORE, toks, 8, &n), JSON_LEX_OK);
	CU_ASSERT_EQUAL(n, 6);
}

/* Keywords are the whole alphanumeric run, so prefixes, longer words and other cases are one bad token. */
static void test_keywords(void)
{
	CU_ASSERT_EQUAL(lex_res("true", JSON_LEX_ESCAPES_IGNORE), JSON_LEX_OK);
	CU_ASSERT_EQUAL(lex_res("null", JSON_LEX_ESCAPES_IGNORE), JSON_LEX_OK);
	CU_ASSERT_EQUAL(lex_res("false", JSON_LEX_ESCAPES_IGNORE), JSON_LEX_OK);
	static const char *const bad[] = {"tru", "True", "nulls",        "false_", "truex",
					  "n",   "NULL", "null\xc3\xa9", "x",      "@"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		CU_ASSERT_EQUAL(lex_res(bad[i], JSON_LEX_ESCAPES_IGNORE), JSON_LEX_SYNTAX);
	CU_ASSERT_EQUAL(lex_res("true,null", JSON_LEX_ESCAPES_IGNORE), JSON_LEX_OK);
}

/* String syntax is the same in every mode: control bytes must be escaped, only the eight short escapes and \u with four hex digits exist, and an unterminated string is refused. */
static void test_string_syntax(void)
{
	static const char *const good[] = {"\"\"", "\"a b\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u00e9\\uABCD\"",
					   "\"\xc3\xa9\x7f\""};
	static const char *const bad[] = {"\"",          "\"abc",    "\"a\\\"", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"",
					  "\"\\U0041\"", "\"a\nb\"", "\"\t\"",  "\"\\",    "\"\\u00"};
	for (int mode = JSON_LEX_ESCAPES_IGNORE; mode <= JSON_LEX_ESCAPES_REPORT; mode++) {
		for (size_t i = 0; i < sizeof good / sizeof *good; i++)
			CU_ASSERT_EQUAL(lex_res(good[i], (enum json_lex_escapes)mode), JSON_LEX_OK);
		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
			CU_ASSERT_EQUAL(lex_res(bad[i], (enum json_lex_escapes)mode), JSON_LEX_SYNTAX);
	}
	/* esc says whether the last string needs de-escaping. */
	enum json_lex_tok t;
	json_lex_init(&lx, "\"plain\"", 7, JSON_LEX_ESCAPES_IGNORE);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT(!lx.esc);
}

/* Under json_in's rules any four hex digits do; the de-escaping modes refuse \u0000 and every unpaired surrogate (high after high, low alone, high before a non-escape, another escape or the closing quote) and take a proper pair. */
static void test_unicode_escapes(void)
{
	static const struct {
		const char *s;
		enum json_lex_res deescaped;
	} cases[] = {
	    {"\"\\u0000\"", JSON_LEX_ZERO},
	    {"\"a\\u0000b\"", JSON_LEX_ZERO},
	    {"\"\\ud83d\\ude00\"", JSON_LEX_OK},
	    {"\"\\uDBFF\\uDFFF\"", JSON_LEX_OK},
	    {"\"\\ud800\"", JSON_LEX_SURROGATE},
	    {"\"\\udc00\"", JSON_LEX_SURROGATE},
	    {"\"\\ud800\\ud800\"", JSON_LEX_SURROGATE},
	    {"\"\\ud800x\"", JSON_LEX_SURROGATE},
	    {"\"\\ud800\\n\"", JSON_LEX_SURROGATE},
	    {"\"\\ud800\\u0041\"", JSON_LEX_SURROGATE},
	    {"\"\\ud800\\u0000\"", JSON_LEX_SURROGATE}, /* the surrogate is met first */
	    {"\"\\u0000\\ud800\"", JSON_LEX_ZERO},
	    {"\"\\u0001\"", JSON_LEX_OK},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		CU_ASSERT_EQUAL(lex_res(cases[i].s, JSON_LEX_ESCAPES_IGNORE), JSON_LEX_OK);
		CU_ASSERT_EQUAL(lex_res(cases[i].s, JSON_LEX_ESCAPES_REFUSE), cases[i].deescaped);
		CU_ASSERT_EQUAL(lex_res(cases[i].s, JSON_LEX_ESCAPES_REPORT), cases[i].deescaped);
	}
	/* A bad escape also in a key, and in a later string of the text. */
	CU_ASSERT_EQUAL(lex_res("{\"\\u0000\":1}", JSON_LEX_ESCAPES_REFUSE), JSON_LEX_ZERO);
	CU_ASSERT_EQUAL(lex_res("[\"ok\", \"\\udc00\"]", JSON_LEX_ESCAPES_REFUSE), JSON_LEX_SURROGATE);
}

/* jsonb_in stops at the first bad escape, so a syntax error later in the same string goes unseen; json_populate_record parses what json_in accepted, so there the syntax error wins. */
static void test_refuse_and_report_order(void)
{
	CU_ASSERT_EQUAL(lex_res("\"\\u0000", JSON_LEX_ESCAPES_REFUSE), JSON_LEX_ZERO);
	CU_ASSERT_EQUAL(lex_res("\"\\u0000", JSON_LEX_ESCAPES_REPORT), JSON_LEX_SYNTAX);
	CU_ASSERT_EQUAL(lex_res("\"\\u0000\\x\"", JSON_LEX_ESCAPES_REFUSE), JSON_LEX_ZERO);
	CU_ASSERT_EQUAL(lex_res("\"\\u0000\\x\"", JSON_LEX_ESCAPES_REPORT), JSON_LEX_SYNTAX);
	CU_ASSERT_EQUAL(lex_res("\"\\ud800\\u12\"", JSON_LEX_ESCAPES_REPORT), JSON_LEX_SYNTAX);
	/* A syntax error before the bad escape wins in both. */
	CU_ASSERT_EQUAL(lex_res("\"\\q\\u0000\"", JSON_LEX_ESCAPES_REFUSE), JSON_LEX_SYNTAX);
	CU_ASSERT_EQUAL(lex_res("\"\\q\\u0000\"", JSON_LEX_ESCAPES_REPORT), JSON_LEX_SYNTAX);
}

/* Under ESCAPES_REPORT a string with a bad escape is still a whole token, so lexing can go on to find the text's syntax errors; only the first bad escape of a string is reported, and a caller that has one switches the mode to ESCAPES_IGNORE. */
static void test_report_continues(void)
{
	enum json_lex_tok t;
	const char *s = "[\"\\u0000\\ud800\", \"\\udc00\"]";
	json_lex_init(&lx, s, strlen(s), JSON_LEX_ESCAPES_REPORT);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_ZERO);
	CU_ASSERT_EQUAL(t, JSON_LEX_TOK_STRING);
	CU_ASSERT_EQUAL(*lx.s, ','); /* the string was lexed to its end */
	CU_ASSERT(lx.esc);
	lx.escapes = JSON_LEX_ESCAPES_IGNORE;
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT_EQUAL(t, JSON_LEX_TOK_COMMA);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK); /* "\udc00" no longer judged */
	CU_ASSERT_EQUAL(t, JSON_LEX_TOK_STRING);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT_EQUAL(t, JSON_LEX_TOK_ARRAY_END);
	CU_ASSERT_EQUAL(json_lex_next(&lx, &t), JSON_LEX_OK);
	CU_ASSERT_EQUAL(t, JSON_LEX_TOK_END);
}

/* The lexer reads only inside [p, p + len): a text cut anywhere inside a token is refused, never read past, and bytes after the cut are not seen. */
static void test_bounds(void)
{
	static const char *const whole[] = {"\"ab\\u00e9\\ud83d\\ude00\\n\"", "-12.5e+10", "true", "false", "null"};
	for (size_t i = 0; i < sizeof whole / sizeof *whole; i++) {
		size_t len = strlen(whole[i]);
		for (int mode = JSON_LEX_ESCAPES_IGNORE; mode <= JSON_LEX_ESCAPES_REPORT; mode++) {
			for (size_t cut = 1; cut < len; cut++) {
				/* A copy of exactly cut bytes, so that ASan sees a read past it. */
				char *p = malloc(cut);
				CU_ASSERT_FATAL(p != NULL);
				memcpy(p, whole[i], cut);
				enum json_lex_tok t;
				json_lex_init(&lx, p, cut, (enum json_lex_escapes)mode);
				enum json_lex_res r = json_lex_next(&lx, &t);
				/* Numbers and strings cut short may still be a shorter valid token ("-12"). */
				if (r == JSON_LEX_OK)
					CU_ASSERT(lx.s <= (const unsigned char *)p + cut);
				if (whole[i][0] != '-')
					CU_ASSERT_EQUAL(r, JSON_LEX_SYNTAX);
				free(p);
			}
		}
	}
	CU_ASSERT_EQUAL(lex_res("\"", JSON_LEX_ESCAPES_REPORT), JSON_LEX_SYNTAX);
}

/* The messages are the server's: \u0000 has its own, and an unpaired surrogate is reported as a syntax error. */
static void test_messages(void)
{
	CU_ASSERT_STRING_EQUAL(json_lex_message(JSON_LEX_SYNTAX), "invalid input syntax for type json");
	CU_ASSERT_STRING_EQUAL(json_lex_message(JSON_LEX_SURROGATE), "invalid input syntax for type json");
	CU_ASSERT_STRING_EQUAL(json_lex_message(JSON_LEX_ZERO), "unsupported Unicode escape sequence");
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("json_lex", NULL, NULL);
	CU_add_test(s, "tokens and positions", test_tokens_and_positions);
	CU_add_test(s, "numbers", test_numbers);
	CU_add_test(s, "keywords", test_keywords);
	CU_add_test(s, "string syntax", test_string_syntax);
	CU_add_test(s, "unicode escapes", test_unicode_escapes);
	CU_add_test(s, "refuse and report order", test_refuse_and_report_order);
	CU_add_test(s, "report continues", test_report_continues);
	CU_add_test(s, "bounds", test_bounds);
	CU_add_test(s, "messages", test_messages);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
