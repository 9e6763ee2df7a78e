/* test_ring.c - the SPSC ring keeps order, reports full and empty, wraps, and hands items safely between two threads. */
#include "../../core/ring.h"

#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* An empty ring pops NULL and a full ring refuses a push without losing items. */
static void test_full_empty(void)
{
	struct ring *r = ring_create(4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NULL(ring_pop(r));
	int v[5];
	for (int i = 0; i < 4; i++)
		CU_ASSERT_TRUE(ring_push(r, &v[i]));
	CU_ASSERT_FALSE(ring_push(r, &v[4]));
	CU_ASSERT_EQUAL(ring_count(r), 4);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_PTR_EQUAL(ring_pop(r), &v[i]);
	CU_ASSERT_PTR_NULL(ring_pop(r));
	CU_ASSERT_EQUAL(ring_count(r), 0);
	ring_free(r);
}

/* Indices wrap around the slot array (and around 2^32) without reordering. */
static void test_wrap(void)
{
	struct ring *r = ring_create(2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	atomic_store(&r->head, UINT32_MAX - 3);
	atomic_store(&r->tail, UINT32_MAX - 3);
	int v[16];
	for (int i = 0; i < 16; i++) {
		CU_ASSERT_TRUE(ring_push(r, &v[i]));
		if (i % 2 == 1) {
			CU_ASSERT_FALSE(ring_push(r, &v[0]));
			CU_ASSERT_PTR_EQUAL(ring_pop(r), &v[i - 1]);
			CU_ASSERT_PTR_EQUAL(ring_pop(r), &v[i]);
		}
	}
	CU_ASSERT_PTR_NULL(ring_pop(r));
	ring_free(r);
}

#define ITEMS 500000u

/* Waits a moment for the other thread: a few spins first (it runs on
 * another core), then a short sleep, so that on one loaded core (a pinned
 * test beside a busy loop) the other thread gets the CPU. */
static void pause_for_peer(unsigned *spins)
{
	if (++*spins < 64)
		return;
	*spins = 0;
	struct timespec ts = {0, 1000};
	nanosleep(&ts, NULL);
}

static void *producer(void *arg)
{
	struct ring *r = arg;
	unsigned spins = 0;
	for (uintptr_t i = 1; i <= ITEMS; i++)
		while (!ring_push(r, (void *)i))
			pause_for_peer(&spins);
	return NULL;
}

/* A producer and a consumer thread pass half a million items in order, none lost or duplicated. */
static void test_two_threads(void)
{
	struct ring *r = ring_create(8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	pthread_t t;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, producer, r), 0);
	uintptr_t expect = 1;
	unsigned bad = 0, spins = 0;
	while (expect <= ITEMS) {
		void *p = ring_pop(r);
		if (p == NULL) {
			pause_for_peer(&spins);
			continue;
		}
		if ((uintptr_t)p != expect)
			bad++;
		expect++;
	}
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_PTR_NULL(ring_pop(r));
	ring_free(r);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("ring", NULL, NULL);
	CU_add_test(s, "full and empty", test_full_empty);
	CU_add_test(s, "wrap-around", test_wrap);
	CU_add_test(s, "two threads", test_two_threads);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
