/* buf.h - a growable byte buffer, sized at start-up and grown only when an input needs more. */
#ifndef EDONU_BUF_H
#define EDONU_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

/* Allocates cap bytes; returns 0 or -1 (ENOMEM). */
int buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
/* Makes room for n more bytes; grows by doubling. Aborts on out-of-memory:
 * the pipeline sizes its buffers at start-up, so growth is rare and a failure
 * there is not recoverable mid-chunk. */
void buf_grow(struct buf *b, size_t n);

/* Appends printf-formatted text (no NUL). */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a NUL-terminated string (without its NUL). */
static inline void buf_puts(struct buf *b, const char *s);

static inline void buf_reserve(struct buf *b, size_t n)
{
	if (b->cap - b->len < n)
		buf_grow(b, n);
}
static inline void buf_put(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}
static inline void buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}
static inline void buf_putc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = c;
}
/* Network byte order, as binary COPY wants. */
static inline void buf_put_be16(struct buf *b, uint16_t v)
{
	unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	buf_put(b, x, 2);
}
static inline void buf_put_be32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			      (unsigned char)v};
	buf_put(b, x, 4);
}
static inline void buf_put_be64(struct buf *b, uint64_t v)
{
	buf_put_be32(b, (uint32_t)(v >> 32));
	buf_put_be32(b, (uint32_t)v);
}
/* Overwrites 4 bytes at off (a length word reserved earlier). */
static inline void buf_set_be32(struct buf *b, size_t off, uint32_t v)
{
	unsigned char *x = (unsigned char *)b->data + off;
	x[0] = (unsigned char)(v >> 24);
	x[1] = (unsigned char)(v >> 16);
	x[2] = (unsigned char)(v >> 8);
	x[3] = (unsigned char)v;
}

#endif
