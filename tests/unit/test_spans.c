/* test_spans.c - committed ranges merge as they touch, tell whether a chunk is committed, and say where a resumed run must cut so that no chunk is partly committed. */
#include "../../core/spans.h"

#include <CUnit/Basic.h>
#include <stdlib.h>

/* Ranges added out of order, overlapping and touching, merge into sorted
 * disjoint spans with the byte ends of their first and last records. */
static void test_merge(void)
{
	struct spans s = {0};
	CU_ASSERT_EQUAL(spans_add(&s, 101, 50, 5000, 7500), 0);
	CU_ASSERT_EQUAL(spans_add(&s, 1, 100, 10, 5000), 0);
	CU_ASSERT_EQUAL(spans_add(&s, 301, 10, 15000, 15500), 0);
	CU_ASSERT_EQUAL(spans_add(&s, 140, 5, 7000, 7250), 0); /* inside 101..150 */
	CU_ASSERT_EQUAL(spans_add(&s, 200, 0, 0, 0), 0);       /* nothing */
	CU_ASSERT_EQUAL(s.n, 4);
	spans_merge(&s);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	CU_ASSERT_EQUAL(s.v[0].first, 1);
	CU_ASSERT_EQUAL(s.v[0].last, 150);
	CU_ASSERT_EQUAL(s.v[0].byte_first, 10);
	CU_ASSERT_EQUAL(s.v[0].byte_end, 7500);
	CU_ASSERT_EQUAL(s.v[1].first, 301);
	CU_ASSERT_EQUAL(s.v[1].last, 310);
	CU_ASSERT_EQUAL(s.v[1].byte_first, 15000);
	CU_ASSERT_EQUAL(s.v[1].byte_end, 15500);
	CU_ASSERT_PTR_EQUAL(spans_starting_at(&s, 1), &s.v[0]);
	CU_ASSERT_PTR_EQUAL(spans_starting_at(&s, 301), &s.v[1]);
	CU_ASSERT_PTR_NULL(spans_starting_at(&s, 101));
	CU_ASSERT_PTR_EQUAL(spans_ending_at(&s, 150), &s.v[0]);
	CU_ASSERT_PTR_NULL(spans_ending_at(&s, 100));
	CU_ASSERT_PTR_NULL(spans_ending_at(&s, 311));
	spans_free(&s);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_PTR_NULL(s.v);
}

static void test_cover(void)
{
	struct spans s = {0};
	CU_ASSERT_EQUAL(spans_cover(&s, 1, 10), SPANS_NONE);
	spans_add(&s, 11, 10, 0, 0); /* 11..20 */
	spans_add(&s, 41, 1, 0, 0);  /* 41 */
	spans_merge(&s);
	CU_ASSERT_EQUAL(spans_cover(&s, 1, 10), SPANS_NONE);
	CU_ASSERT_EQUAL(spans_cover(&s, 1, 11), SPANS_PART);
	CU_ASSERT_EQUAL(spans_cover(&s, 11, 10), SPANS_ALL);
	CU_ASSERT_EQUAL(spans_cover(&s, 12, 3), SPANS_ALL);
	CU_ASSERT_EQUAL(spans_cover(&s, 20, 2), SPANS_PART);
	CU_ASSERT_EQUAL(spans_cover(&s, 21, 20), SPANS_NONE);
	CU_ASSERT_EQUAL(spans_cover(&s, 30, 20), SPANS_PART);
	CU_ASSERT_EQUAL(spans_cover(&s, 41, 1), SPANS_ALL);
	CU_ASSERT_EQUAL(spans_cover(&s, 42, 1000), SPANS_NONE);
	CU_ASSERT_EQUAL(spans_cover(&s, 5, 0), SPANS_NONE);
	spans_free(&s);
}

/* The cuts, followed from the start, make chunks that are never partly
 * committed, whatever else closes them; and there is no cut past the last
 * span. */
static void test_next_cut(void)
{
	struct spans s = {0};
	CU_ASSERT_EQUAL(spans_next_cut(&s, 0), UINT64_MAX);
	spans_add(&s, 1, 5, 0, 0);  /* 1..5 */
	spans_add(&s, 9, 2, 0, 0);  /* 9..10 */
	spans_add(&s, 11, 1, 0, 0); /* 11: touches, merges */
	spans_add(&s, 13, 1, 0, 0); /* 13 */
	spans_merge(&s);
	CU_ASSERT_EQUAL(spans_next_cut(&s, 0), 5);
	CU_ASSERT_EQUAL(spans_next_cut(&s, 3), 5);
	CU_ASSERT_EQUAL(spans_next_cut(&s, 5), 8);
	CU_ASSERT_EQUAL(spans_next_cut(&s, 6), 8);
	CU_ASSERT_EQUAL(spans_next_cut(&s, 8), 11);
	CU_ASSERT_EQUAL(spans_next_cut(&s, 11), 12);
	CU_ASSERT_EQUAL(spans_next_cut(&s, 12), 13);
	CU_ASSERT_EQUAL(spans_next_cut(&s, 13), UINT64_MAX);
	/* Chunks of at most k records (count or time closing them early),
	 * each also closed at the next cut: wholly in or out. */
	for (uint64_t k = 1; k <= 7; k++) {
		uint64_t done = 0;
		while (done < 20) {
			uint64_t end = done + k, cut = spans_next_cut(&s, done);
			if (cut < end)
				end = cut;
			CU_ASSERT_NOT_EQUAL(spans_cover(&s, done + 1, end - done), SPANS_PART);
			done = end;
		}
	}
	spans_free(&s);
}

/* Many chunks committed in any order (workers commit out of order) merge
 * into few spans. */
static void test_many(void)
{
	struct spans s = {0};
	for (uint64_t i = 0; i < 10000; i++) {
		uint64_t k = (i * 7919) % 10000; /* a permutation of 0..9999 */
		if (k % 1000 == 999)
			continue; /* holes: chunks not committed */
		CU_ASSERT_EQUAL_FATAL(spans_add(&s, k * 10 + 1, 10, k * 100, k * 100 + 100), 0);
	}
	spans_merge(&s);
	CU_ASSERT_EQUAL_FATAL(s.n, 10);
	for (uint32_t i = 0; i < s.n; i++) {
		CU_ASSERT_EQUAL(s.v[i].first, (uint64_t)i * 10000 + 1);
		CU_ASSERT_EQUAL(s.v[i].last, (uint64_t)i * 10000 + 9990);
		CU_ASSERT_EQUAL(s.v[i].byte_first, (uint64_t)i * 100000);
		CU_ASSERT_EQUAL(s.v[i].byte_end, (uint64_t)i * 100000 + 99900);
	}
	spans_free(&s);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("spans", NULL, NULL);
	if (s == NULL)
		return 1;
	CU_add_test(s, "merge", test_merge);
	CU_add_test(s, "cover", test_cover);
	CU_add_test(s, "next_cut", test_next_cut);
	CU_add_test(s, "many", test_many);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
