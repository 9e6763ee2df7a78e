/* buf.c - growable byte buffer. */
#include "buf.h"

#include "err.h"

#include <stdlib.h>

int buf_init(struct buf *b, size_t cap)
{
	b->len = 0;
	b->data = malloc(cap ? cap : 1);
	/* On failure the buffer is empty but usable: the first put grows it. */
	b->cap = b->data ? cap : 0;
	return b->data ? 0 : -1;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_grow(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 64;
	while (cap - b->len < n)
		cap *= 2;
	char *p = realloc(b->data, cap);
	ASSERT(p != NULL);
	b->data = p;
	b->cap = cap;
}
