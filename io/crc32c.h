/* crc32c.h - CRC-32C (Castagnoli) of a byte range, as the journal checksums its records. */
#ifndef EDONU_CRC32C_H
#define EDONU_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of p[0..n) continuing from crc (0 to start). */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

#endif
