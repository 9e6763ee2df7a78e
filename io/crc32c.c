/* crc32c.c - CRC-32C (Castagnoli), with SSE4.2's instruction where the processor has it. */
#include "crc32c.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c_table(uint32_t crc, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		crc = crc_table[(crc ^ s[i]) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
/* SSE4.2's crc32 instruction computes the same CRC-32C 8 bytes at a time:
 * the journal checksums every key it writes, so this is on the load's path. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *s, size_t n)
{
	uint64_t c = crc;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	uint32_t c32 = (uint32_t)c;
	for (; i < n; i++)
		c32 = __builtin_ia32_crc32qi(c32, s[i]);
	return c32;
}
#endif

uint32_t crc32c(uint32_t crc, const void *p, size_t n)
{
	pthread_once(&crc_once, crc_init);
	const unsigned char *s = p;
	crc = ~crc;
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return ~crc32c_sse42(crc, s, n);
#endif
	return ~crc32c_table(crc, s, n);
}
