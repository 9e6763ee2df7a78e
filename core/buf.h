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

/* memcpy for the short runs of the hot paths (a field, a record): up to 64
 * bytes with two overlapping loads and stores of the widest word that fits,
 * inline, where a call to the library's memcpy costs more than the copy.
 * Reads exactly src[0..n) and writes exactly dst[0..n). */
static inline void copy_short(void *dst, const void *src, size_t n)
{
	unsigned char *d = (unsigned char *)dst;
	const unsigned char *s = (const unsigned char *)src;
	if (n >= 16 && n <= 64) {
		unsigned char a[16], z[16];
		if (n > 32) {
			unsigned char b[16], y[16];
			memcpy(a, s, 16);
			memcpy(b, s + 16, 16);
			memcpy(y, s + n - 32, 16);
			memcpy(z, s + n - 16, 16);
			memcpy(d, a, 16);
			memcpy(d + 16, b, 16);
			memcpy(d + n - 32, y, 16);
			memcpy(d + n - 16, z, 16);
			return;
		}
		memcpy(a, s, 16);
		memcpy(z, s + n - 16, 16);
		memcpy(d, a, 16);
		memcpy(d + n - 16, z, 16);
	} else if (n >= 8 && n < 16) {
		uint64_t a, z;
		memcpy(&a, s, 8);
		memcpy(&z, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &z, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, z;
		memcpy(&a, s, 4);
		memcpy(&z, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &z, 4);
	} else if (n > 0 && n < 4) {
		/* 1 to 3 bytes: the first, the middle and the last. */
		unsigned char a = s[0], m = s[n / 2], z = s[n - 1];
		d[0] = a;
		d[n / 2] = m;
		d[n - 1] = z;
	} else if (n > 64) {
		memcpy(d, s, n);
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
