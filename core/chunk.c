/* chunk.c - allocation of chunks, once at start-up. */
#include "chunk.h"

#include "err.h"
#include "limits.h"

#include <stdlib.h>
#include <string.h>

struct chunk *chunk_create(uint32_t records_max, size_t data_cap)
{
	struct chunk *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->records_max = records_max;
	c->data_cap = data_cap;
	c->rec_off = malloc(((size_t)records_max + 1) * sizeof *c->rec_off);
	c->rec_flags = malloc(records_max ? records_max : 1);
	c->data = malloc(data_cap);
	c->base = c->data;
	c->base_cap = data_cap;
	if (c->rec_off == NULL || c->rec_flags == NULL || c->data == NULL) {
		chunk_free(c);
		return NULL;
	}
	chunk_reset(c);
	return c;
}

void chunk_free(struct chunk *c)
{
	if (c == NULL)
		return;
	free(c->rec_off);
	free(c->rec_flags);
	if (chunk_grown(c))
		free(c->data);
	free(c->base);
	free(c);
}

void chunk_reset(struct chunk *c)
{
	c->src = NULL;
	c->seq = 0;
	c->first_record = 0;
	c->first_line = 0;
	c->byte_offset = 0;
	c->byte_end = 0;
	c->nrecords = 0;
	c->rec_off[0] = 0;
	c->data_len = 0;
	if (chunk_grown(c)) {
		free(c->data);
		c->data = c->base;
		c->data_cap = c->base_cap;
	}
}

/* realloc: glibc moves a large block with mremap, so growing by doubling
 * copies nothing once the buffer is past its mmap threshold, and pages not
 * yet written are not resident. */
int chunk_grow(struct chunk *c, size_t cap)
{
	ASSERT(cap > c->data_cap && c->data_len <= c->data_cap);
	bool own = chunk_grown(c);
	char *p = own ? realloc(c->data, cap) : malloc(cap);
	if (p == NULL)
		return -1;
	if (!own)
		memcpy(p, c->base, c->data_len);
	c->data = p;
	c->data_cap = cap;
	return 0;
}

size_t chunk_bytes_for(uint32_t batch_rows)
{
	size_t n = (size_t)batch_rows * CHUNK_BYTES_PER_ROW;
	if (n < CHUNK_BYTES_MIN)
		n = CHUNK_BYTES_MIN;
	if (n > CHUNK_BYTES_MAX)
		n = CHUNK_BYTES_MAX;
	return n;
}
