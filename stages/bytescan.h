/* bytescan.h - where any of up to four chosen bytes occurs, sixteen bytes at a time: SSE2 on x86-64 (part of its baseline), a byte loop elsewhere. */
#ifndef EDONU_BYTESCAN_H
#define EDONU_BYTESCAN_H

#include <stddef.h>
#include <stdint.h>

/* The vector path is chosen at compile time. EDONU_SCALAR forces the byte
 * loop on x86-64 too, so that the unit tests build and run both paths. */
#if defined(__SSE2__) && !defined(EDONU_SCALAR)
#define BYTESCAN_SSE2 1
#include <emmintrin.h>
#endif

/* Bytes one mask covers. */
#define BYTESCAN_BLOCK 16

/* The bytes looked for; a set of fewer than four repeats one of them. */
struct byteset {
	unsigned char b[4];
#ifdef BYTESCAN_SSE2
	__m128i v[4];
#endif
};

static inline void byteset_init(struct byteset *s, char a, char b, char c, char d)
{
	s->b[0] = (unsigned char)a;
	s->b[1] = (unsigned char)b;
	s->b[2] = (unsigned char)c;
	s->b[3] = (unsigned char)d;
#ifdef BYTESCAN_SSE2
	s->v[0] = _mm_set1_epi8(a);
	s->v[1] = _mm_set1_epi8(b);
	s->v[2] = _mm_set1_epi8(c);
	s->v[3] = _mm_set1_epi8(d);
#endif
}

static inline int byteset_has(const struct byteset *s, char c)
{
	unsigned char u = (unsigned char)c;
	return u == s->b[0] || u == s->b[1] || u == s->b[2] || u == s->b[3];
}

/* Bit i is set when p[i] is in s, for i < BYTESCAN_BLOCK; all of
 * p[0..BYTESCAN_BLOCK) must be readable. */
static inline uint32_t byteset_mask16(const struct byteset *s, const char *p)
{
#ifdef BYTESCAN_SSE2
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, s->v[0]), _mm_cmpeq_epi8(x, s->v[1])),
				 _mm_or_si128(_mm_cmpeq_epi8(x, s->v[2]), _mm_cmpeq_epi8(x, s->v[3])));
	return (uint32_t)_mm_movemask_epi8(m);
#else
	uint32_t m = 0;
	for (unsigned i = 0; i < BYTESCAN_BLOCK; i++)
		m |= (uint32_t)byteset_has(s, p[i]) << i;
	return m;
#endif
}

/* The first byte of [p, e) that is in s, or e. Reads nothing outside
 * [p, e). */
static inline const char *byteset_find(const struct byteset *s, const char *p, const char *e)
{
#ifdef BYTESCAN_SSE2
	while (e - p >= BYTESCAN_BLOCK) {
		uint32_t m = byteset_mask16(s, p);
		if (m != 0)
			return p + __builtin_ctz(m);
		p += BYTESCAN_BLOCK;
	}
#endif
	while (p < e && !byteset_has(s, *p))
		p++;
	return p;
}

/* Which bytes of [p, e) are in s, for p + i < e and i < BYTESCAN_BLOCK;
 * rec <= p is where the readable bytes begin. Reads nothing outside
 * [rec, e): near e the block is read so as to end at e (when [rec, e) is
 * long enough), and the bits shifted into place. */
static inline uint32_t byteset_mask_upto(const struct byteset *s, const char *rec, const char *p, const char *e)
{
	size_t left = (size_t)(e - p);
	if (left >= BYTESCAN_BLOCK)
		return byteset_mask16(s, p);
#ifdef BYTESCAN_SSE2
	if (e - rec >= BYTESCAN_BLOCK)
		return byteset_mask16(s, e - BYTESCAN_BLOCK) >> (BYTESCAN_BLOCK - left);
#else
	(void)rec;
#endif
	uint32_t m = 0;
	for (size_t i = 0; i < left; i++)
		m |= (uint32_t)byteset_has(s, p[i]) << i;
	return m;
}

#endif
