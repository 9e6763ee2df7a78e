/* buf.c - growable byte buffer. */
#include "buf.h"

#include "err.h"

#include <stdarg.h>
#include <stdio.h>
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

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	buf_reserve(b, 128);
	va_start(ap, fmt);
	int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	ASSERT(n >= 0);
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}
