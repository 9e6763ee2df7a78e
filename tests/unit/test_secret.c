/* test_secret.c - libpq's own messages about malformed connection strings, and made-up ones,
 * keep no byte of a password once masked; what is not a password stays. */
#include "../../core/secret.h"

#include <CUnit/Basic.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* libpq's message about a connection string it cannot parse ("" when it can). */
static void libpq_message(const char *dsn, char *out, size_t outsz)
{
	char *perr = NULL;
	PQconninfoOption *o = PQconninfoParse(dsn, &perr);
	if (o == NULL) {
		snprintf(out, outsz, "%s", perr ? perr : "");
		PQfreemem(perr);
		return;
	}
	PQconninfoFree(o);
	snprintf(out, outsz, "%s", "");
}

/* masked keeps no 4 bytes in a row of the password (libpq's own words
 * may share 3 with it: "%00"). */
static bool leaks(const char *masked, const char *password)
{
	size_t n = strlen(password);
	for (size_t i = 0; i + 4 <= n; i++) {
		char part[64];
		snprintf(part, sizeof part, "%.*s", 4, password + i);
		if (strstr(masked, part) != NULL)
			return true;
	}
	return false;
}

static void test_libpq_uri_messages(void)
{
	static const char *const dsns[] = {
	    "postgresql://u:Zq7sekrit@[::1/db",  "postgresql://u:Zq7%zzsekrit@h/db",
	    "postgresql://u:Zq7sekrit@h/db?x=1", "postgresql://u@h/db?password=Zq7se%00krit",
	    "postgres://u:Zq7sekrit@[::1/db",
	};
	for (size_t i = 0; i < sizeof dsns / sizeof dsns[0]; i++) {
		char msg[1024], out[1024];
		libpq_message(dsns[i], msg, sizeof msg);
		CU_ASSERT_NOT_EQUAL(msg[0], '\0');
		secret_mask_dsn(dsns[i], msg, out, sizeof out);
		CU_ASSERT_FALSE(leaks(out, "Zq7sekrit"));
		CU_ASSERT_FALSE(leaks(out, "Zq7se%00krit"));
	}
	/* The whole URI repeated: only its password is masked. */
	char out[256];
	const char *dsn = "postgresql://app:Zq7sekrit@[::1/db";
	secret_mask_dsn(dsn, "end of string reached in URI: \"postgresql://app:Zq7sekrit@[::1/db\"", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "end of string reached in URI: \"postgresql://app:***@[::1/db\"");
}

static void test_parts_libpq_reads_otherwise(void)
{
	char out[256];
	/* A '/' in the password: libpq reads "pa" as the port. */
	secret_mask_dsn("postgresql://u:pa/ss@h/db", "invalid integer value \"pa\" for connection option \"port\"", out,
			sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "invalid integer value \"***\" for connection option \"port\"");
	/* An '@' in the password: libpq takes "ss@h" for the host. */
	secret_mask_dsn("postgresql://u:p@ss@h/db", "could not translate host name \"ss@h\" to address", out,
			sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "could not translate host name \"***@h\" to address");
	/* Decoded as libpq decodes it. */
	secret_mask_dsn("postgresql://u:a%20very%20long@h/db", "password \"a very long\" refused", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "password \"***\" refused");
}

static void test_key_value(void)
{
	char out[256];
	secret_mask_dsn("host=h password=Zq7sekrit port=abc", "bad password Zq7sekrit and port \"abc\"", out,
			sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "bad password *** and port \"abc\"");
	secret_mask_dsn("host=h password = 'it\\'s a secret' user=u", "saw \"it's a secret\" and 'it\\'s a secret'",
			out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "saw \"***\" and '***'");
	/* Not a password key. */
	secret_mask_dsn("host=h xpassword=abcdef", "abcdef", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "abcdef");
	/* A password of one byte masks what libpq quotes, not every word. */
	secret_mask_dsn("user=nobody password=x", "role \"nobody\" does not exist, \"x\"", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "role \"nobody\" does not exist, \"***\"");
	secret_mask_dsn("postgresql://u:%41b@h/db", "token \"Ab\" and \"%41b\"", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "token \"***\" and \"***\"");
	secret_mask_dsn(NULL, "as is", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "as is");
}

/* A short output buffer gets a terminated prefix of the masked message:
 * a password at the cut shows none of its bytes. */
static void test_truncation(void)
{
	char out[8];
	secret_mask_dsn("password=Zq7sekrit", "x \"Zq7sekrit\" yyyyyyyyyyyy", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "x \"***\"");
	secret_mask_dsn("password=Zq7sekrit", "xxxx Zq7sekrit", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "xxxx **");
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("secret", NULL, NULL);
	CU_add_test(s, "libpq's URI messages", test_libpq_uri_messages);
	CU_add_test(s, "parts libpq reads otherwise", test_parts_libpq_reads_otherwise);
	CU_add_test(s, "key = value", test_key_value);
	CU_add_test(s, "truncation", test_truncation);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
