/* fingerprint.c - content fingerprints of input files, for the ledger's source identity. */
#include "fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 64-bit multiply-mix over 8-byte words (splitmix64 finaliser per word);
 * fast enough that 2 MiB cost well under a millisecond. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Four independent lanes of 8-byte words let the multiplies overlap. */
struct hash_state {
	uint64_t lane[4];
	uint64_t total;
};

static void hash_init(struct hash_state *h, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		h->lane[i] = mix64(seed + (uint64_t)i * 0x9e3779b97f4a7c15ULL);
	h->total = 0;
}

/* Adds n bytes; n must be a multiple of 32 except for the last call. */
static void hash_update(struct hash_state *h, const unsigned char *s, size_t n)
{
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		for (int k = 0; k < 4; k++) {
			uint64_t w;
			memcpy(&w, s + i + 8 * k, 8);
			h->lane[k] = mix64(h->lane[k] ^ w) + 0x9e3779b97f4a7c15ULL;
		}
	}
	for (int k = 0; i < n; i++, k++)
		h->lane[k & 3] = mix64(h->lane[k & 3] ^ s[i] ^ ((uint64_t)k << 8));
	h->total += n;
}

static uint64_t hash_final(const struct hash_state *h)
{
	uint64_t x = mix64(h->total);
	for (int i = 0; i < 4; i++)
		x = mix64(x ^ h->lane[i]);
	return x;
}

uint64_t fingerprint_hash64(const void *p, size_t n, uint64_t seed)
{
	struct hash_state h;
	hash_init(&h, seed);
	hash_update(&h, p, n);
	return hash_final(&h);
}

int fingerprint_fd(int fd, const char *name, char *out, size_t outsz, struct err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_set(e, EXIT_NOINPUT, "cannot read %s: %s", name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return 0;
	unsigned char *buf = malloc(FINGERPRINT_READ_BYTES);
	if (buf == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	struct hash_state h;
	hash_init(&h, 0x65646f6e75ULL);
	int rc = 1;
	off_t off = 0;
	bool eof = false;
	while (!eof) {
		/* Fill the buffer whole, so the lanes see the same word boundaries
		 * however the kernel splits the reads. */
		size_t have = 0;
		while (have < FINGERPRINT_READ_BYTES) {
			ssize_t r = pread(fd, buf + have, FINGERPRINT_READ_BYTES - have, off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				rc = err_set(e, EXIT_NOINPUT, "cannot read %s: %s", name, strerror(errno));
				eof = true;
				break;
			}
			if (r == 0) {
				eof = true;
				break;
			}
			have += (size_t)r;
			off += r;
		}
		if (rc < 0)
			break;
		hash_update(&h, buf, have);
	}
	free(buf);
	if (rc == 1)
		snprintf(out, outsz, "%llu-%016llx", (unsigned long long)h.total, (unsigned long long)hash_final(&h));
	return rc;
}
