/* fingerprint.h - a file's identity from its content: its size and a hash of all its bytes. */
#ifndef EDONU_FINGERPRINT_H
#define EDONU_FINGERPRINT_H

#include "../core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read size while hashing. */
#define FINGERPRINT_READ_BYTES ((size_t)1 << 20)

/* Writes "SIZE-HASH" (hex) of the regular file open as fd into out (at
 * least 48 bytes), reading it with pread from offset 0 (fd's offset does
 * not move): the caller then loads the very file it fingerprinted, through
 * the same descriptor, whatever happens to its name meanwhile. A rename or
 * copy keeps the fingerprint; a change of any byte changes it. The whole
 * file is hashed: a file changed only in its middle (a corrected price) is
 * a new source, never mistaken for one already loaded. Cost: one extra
 * sequential read, about 4 GB/s from the page cache. Returns 1 when done, 0
 * when fd is not a regular file (a pipe has no fingerprint), -1 on a read
 * error (e set, EXIT_NOINPUT, naming name). */
int fingerprint_fd(int fd, const char *name, char *out, size_t outsz, struct err *e);

/* 64-bit hash of p[0..n) with seed (not cryptographic; stable across builds). */
uint64_t fingerprint_hash64(const void *p, size_t n, uint64_t seed);

#endif
