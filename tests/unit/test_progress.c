/* test_progress.c - the recent records/s of a stream follows its pace over the last seconds, not its average since the start. */
#include "../../pipeline/progress.h"

#include <CUnit/Basic.h>

#define TICK_S 0.25

static void test_steady(void)
{
	struct progress_rate r = {0};
	CU_ASSERT_DOUBLE_EQUAL(progress_rate_add(&r, 0, 0), 0, 1e-9);
	double rate = 0;
	for (int i = 1; i <= 100; i++)
		rate = progress_rate_add(&r, i * TICK_S, (uint64_t)i * 250);
	CU_ASSERT_DOUBLE_EQUAL(rate, 1000, 1e-6);
}

/* A stream that loaded fast, then paused: the rate falls to 0 once the
 * pause is longer than the window, while the average would not. */
static void test_pause(void)
{
	struct progress_rate r = {0};
	double t = 0, rate = 0;
	uint64_t n = 0;
	for (int i = 0; i < 40; i++, t += TICK_S, n += 5000)
		progress_rate_add(&r, t, n);
	for (int i = 0; i < 8; i++, t += TICK_S)
		rate = progress_rate_add(&r, t, n);
	CU_ASSERT_TRUE(rate > 0);
	for (int i = 0; i < 24; i++, t += TICK_S)
		rate = progress_rate_add(&r, t, n);
	CU_ASSERT_DOUBLE_EQUAL(rate, 0, 1e-9);
	/* It picks up again at once. */
	rate = progress_rate_add(&r, t, n + 1000);
	CU_ASSERT_DOUBLE_EQUAL(rate, 1000 / PROGRESS_RATE_WINDOW_S, 1e-6);
}

/* Samples further apart than the window still give a rate. */
static void test_sparse(void)
{
	struct progress_rate r = {0};
	progress_rate_add(&r, 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(progress_rate_add(&r, 20, 2000), 100, 1e-6);
	/* Then the window is the last second alone. */
	CU_ASSERT_DOUBLE_EQUAL(progress_rate_add(&r, 21, 2300), 300, 1e-6);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("progress", NULL, NULL);
	if (s == NULL)
		return 1;
	CU_add_test(s, "steady", test_steady);
	CU_add_test(s, "pause", test_pause);
	CU_add_test(s, "sparse", test_sparse);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
