/* ring.c - bounded SPSC ring: the producer publishes with a release store of
 * tail, the consumer with a release store of head; each side reads the other's
 * index with acquire. Indices run freely and wrap at 2^32; the slot is
 * index & mask. */
#include "ring.h"

#include "err.h"

#include <stdlib.h>

struct ring *ring_create(uint32_t slots)
{
	ASSERT(slots >= 2 && (slots & (slots - 1)) == 0);
	struct ring *r = aligned_alloc(CACHE_LINE_BYTES, sizeof *r);
	if (r == NULL)
		return NULL;
	r->slots = calloc(slots, sizeof *r->slots);
	if (r->slots == NULL) {
		free(r);
		return NULL;
	}
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->mask = slots - 1;
	return r;
}

void ring_free(struct ring *r)
{
	if (r == NULL)
		return;
	free(r->slots);
	free(r);
}

bool ring_push(struct ring *r, void *item)
{
	ASSERT(item != NULL);
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (tail - head > r->mask)
		return false;
	r->slots[tail & r->mask] = item;
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

void *ring_pop(struct ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (head == tail)
		return NULL;
	void *item = r->slots[head & r->mask];
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return item;
}

uint32_t ring_count(const struct ring *r)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	return tail - head;
}
