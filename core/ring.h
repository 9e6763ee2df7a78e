/* ring.h - bounded single-producer single-consumer ring of pointers, lock-free with C11 atomics. */
#ifndef EDONU_RING_H
#define EDONU_RING_H

#include "limits.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* head is written only by the consumer, tail only by the producer; each sits
 * on its own cache line so the two threads do not share a line they write. */
struct ring {
	alignas(CACHE_LINE_BYTES) _Atomic uint32_t head;
	alignas(CACHE_LINE_BYTES) _Atomic uint32_t tail;
	alignas(CACHE_LINE_BYTES) uint32_t mask;
	void **slots;
};

/* slots must be a power of two. Returns NULL on ENOMEM. */
struct ring *ring_create(uint32_t slots);
void ring_free(struct ring *r);

/* Producer side. Returns false when the ring is full (backpressure: the caller
 * waits, nothing is dropped). item must not be NULL. */
bool ring_push(struct ring *r, void *item);
/* Consumer side. Returns NULL when the ring is empty. */
void *ring_pop(struct ring *r);
/* Items in the ring now; exact only when called by producer or consumer. */
uint32_t ring_count(const struct ring *r);

#endif
