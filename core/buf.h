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

/* The first and the last w bytes of s[0..n) to d, both loaded before
 * either is stored (w <= n <= 2w, so together they are all n bytes). */
static inline void copy_ends(unsigned char *d, const unsigned char *s, size_t n, size_t w)
{
	unsigned char a[32], z[32];
	memcpy(a, s, w);
	memcpy(z, s + n - w, w);
	memcpy(d, a, w);
	memcpy(d + n - w, z, w);
}

/* memcpy for the short runs of the hot paths (a field, a record): up to 64
 * bytes with two overlapping loads and stores of the widest word that fits,
 * inline, where a call to the library's memcpy costs more than the copy.
 * Reads exactly src[0..n) and writes exactly dst[0..n). */
static inline void copy_short(void *dst, const void *src, size_t n)
{
	unsigned char *d = (unsigned char *)dst;
	const unsigned char *s = (const unsigned char *)src;
	if (n > 64) {
		memcpy(d, s, n);
	} else if (n >= 32) {
		copy_ends(d, s, n, 32);
	} else if (n >= 16) {
		copy_ends(d, s, n, 16);
	} else if (n >= 8) {
		copy_ends(d, s, n, 8);
	} else if (n >= 4) {
		copy_ends(d, s, n, 4);
	} else if (n > 0) {
		/* 1 to 3 bytes: the first, the middle and the last. */
		unsigned char first = s[0], mid = s[n / 2], last = s[n - 1];
		d[0] = first;
		d[n / 2] = mid;
		d[n - 1] = last;
	}
}

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
/* Network byte order, as binary COPY wants, at p: for a caller that claimed
 * the room of a whole field (buf_claim), so that the field costs one
 * capacity test and one length update. Each returns p past the bytes. */
static inline unsigned char *buf_be16_at(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}
static inline unsigned char *buf_be32_at(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}
static inline unsigned char *buf_be64_at(unsigned char *p, uint64_t v)
{
	return buf_be32_at(buf_be32_at(p, (uint32_t)(v >> 32)), (uint32_t)v);
}
/* Makes room for n more bytes and returns where they start; the caller
 * writes all n and then adds n to len. */
static inline unsigned char *buf_claim(struct buf *b, size_t n)
{
	buf_reserve(b, n);
	return (unsigned char *)b->data + b->len;
}
static inline void buf_put_be16(struct buf *b, uint16_t v)
{
	buf_be16_at(buf_claim(b, 2), v);
	b->len += 2;
}
static inline void buf_put_be32(struct buf *b, uint32_t v)
{
	buf_be32_at(buf_claim(b, 4), v);
	b->len += 4;
}
static inline void buf_put_be64(struct buf *b, uint64_t v)
{
	buf_be64_at(buf_claim(b, 8), v);
	b->len += 8;
}
/* Overwrites 4 bytes at off (a length word reserved earlier). */
static inline void buf_set_be32(struct buf *b, size_t off, uint32_t v)
{
	buf_be32_at((unsigned char *)b->data + off, v);
}

#endif
