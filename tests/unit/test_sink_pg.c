/* test_sink_pg.c - which server errors refuse one record (rejected, the rest commits) and which fail or retry the whole batch. */
#include "../../stages/sink_pg.h"

#include <CUnit/Basic.h>

/* Data exceptions, constraint violations and program limits a value hits are a record's fault, with or without a line. */
static void test_record_classes(void)
{
	static const char *const always[] = {"22P02", "22003", "23505", "23514", "23503", "23502", "54000", "54001"};
	for (size_t i = 0; i < sizeof always / sizeof always[0]; i++) {
		CU_ASSERT_TRUE(pg_sqlstate_refuses_record(always[i], true));
		CU_ASSERT_TRUE(pg_sqlstate_refuses_record(always[i], false));
	}
}

/* Any other error refuses one record only when the server tied it to one (a COPY line), e.g. a trigger's RAISE. */
static void test_tied_to_a_line(void)
{
	CU_ASSERT_TRUE(pg_sqlstate_refuses_record("P0001", true));
	CU_ASSERT_FALSE(pg_sqlstate_refuses_record("P0001", false));
	CU_ASSERT_TRUE(pg_sqlstate_refuses_record("2F005", true));
	CU_ASSERT_TRUE(pg_sqlstate_refuses_record("0A000", true));
}

/* Lost connections, transient failures, privileges, missing objects, cancels and server faults are never one record's fault. */
static void test_never_a_record(void)
{
	static const char *const never[] = {"08006", "08000", "40001", "40P01", "53100", "53300", "57P01",
					    "57014", "42501", "42P01", "42703", "42883", "3F000", "3D000",
					    "28000", "28P01", "25P02", "58030", "XX000", "XX001"};
	for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
		CU_ASSERT_FALSE(pg_sqlstate_refuses_record(never[i], true));
		CU_ASSERT_FALSE(pg_sqlstate_refuses_record(never[i], false));
	}
	CU_ASSERT_FALSE(pg_sqlstate_refuses_record(NULL, true));
	CU_ASSERT_FALSE(pg_sqlstate_refuses_record("", true));
	CU_ASSERT_FALSE(pg_sqlstate_refuses_record("2350", true));
}

/* Transient failures are retried whole; a refusal of a record never is. */
static void test_transient(void)
{
	CU_ASSERT_TRUE(pg_sqlstate_transient("08006"));
	CU_ASSERT_TRUE(pg_sqlstate_transient("40P01"));
	CU_ASSERT_TRUE(pg_sqlstate_transient("53300"));
	CU_ASSERT_TRUE(pg_sqlstate_transient("57P01"));
	CU_ASSERT_FALSE(pg_sqlstate_transient("57014"));
	CU_ASSERT_FALSE(pg_sqlstate_transient("23505"));
	CU_ASSERT_FALSE(pg_sqlstate_transient("54000"));
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("sink_pg", NULL, NULL);
	CU_add_test(s, "record classes", test_record_classes);
	CU_add_test(s, "tied to a line", test_tied_to_a_line);
	CU_add_test(s, "never a record", test_never_a_record);
	CU_add_test(s, "transient", test_transient);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
