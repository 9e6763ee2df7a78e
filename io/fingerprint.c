/* fingerprint.c - content fingerprints of input files, for the ledger's source identity. */
#include "fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* 64-bit multiply-mix (the splitmix64 finaliser). */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static inline uint64_t rotl64(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

#define GOLDEN 0x9e3779b97f4a7c15ULL
#define SEED   0x65646f6e75ULL

/* Two versions, both stable across builds (they are ledger identities):
 *
 * FP_V2, what files are known by. The file is cut into segments of
 * SEGMENT_BYTES (the last one shorter). In a segment, eight lanes each take
 * one 8-byte word of every 64-byte block as lane = rotl((lane ^ w) * GOLDEN,
 * 31): a bijection of the lane for a given word and of the word for a given
 * lane, so a change confined to one lane (any single word) always changes
 * that lane's result, and the lanes' chains are independent, so the
 * multiplies overlap and a segment hashes at memory speed. A last partial
 * block is padded with zeros (the size is part of the identity). The
 * segments' lanes fold, in file order, into two 64-bit values with mix64;
 * segments are independent until then, so several threads hash them.
 *
 * FP_V1, what files were known by in earlier builds (16 hex digits): four
 * lanes of 8-byte words over the whole file, each through mix64, about 4x
 * slower and one thread. Taken only when a ledger has a source of the same
 * size under a V1 identity. */
enum fp_version { FP_V1 = 1, FP_V2 = 2 };

#define SEGMENT_BYTES ((size_t)8 << 20)

struct hash_state {
	enum fp_version version;
	uint64_t lane[8];
	uint64_t total;
	/* V2: bytes of the current segment taken, and the fold of the
	 * segments before it. */
	size_t in_segment;
	uint64_t x, y;
};

static void lanes_init(uint64_t lane[8])
{
	for (int i = 0; i < 8; i++)
		lane[i] = mix64(SEED + (uint64_t)i * GOLDEN);
}

static void hash_init(struct hash_state *h, enum fp_version version)
{
	h->version = version;
	lanes_init(h->lane);
	h->total = 0;
	h->in_segment = 0;
	h->x = mix64(SEED);
	h->y = mix64(SEED ^ GOLDEN);
}

/* The block hash_update takes whole, but for its last call. */
static size_t hash_block(const struct hash_state *h)
{
	return h->version == FP_V1 ? 32 : 64;
}

/* Whole 64-byte blocks of s[0..n) into the lanes, and a last partial block
 * padded with zeros. */
static void lanes_update(uint64_t lane[8], const unsigned char *s, size_t n)
{
	/* Locals, so that the lanes stay in registers. */
	uint64_t l0 = lane[0], l1 = lane[1], l2 = lane[2], l3 = lane[3];
	uint64_t l4 = lane[4], l5 = lane[5], l6 = lane[6], l7 = lane[7];
	unsigned char last[64];
	for (size_t i = 0; i < n; i += 64) {
		uint64_t w[8];
		if (n - i >= 64) {
			memcpy(w, s + i, 64);
		} else {
			memset(last, 0, sizeof last);
			memcpy(last, s + i, n - i);
			memcpy(w, last, 64);
		}
		l0 = rotl64((l0 ^ w[0]) * GOLDEN, 31);
		l1 = rotl64((l1 ^ w[1]) * GOLDEN, 31);
		l2 = rotl64((l2 ^ w[2]) * GOLDEN, 31);
		l3 = rotl64((l3 ^ w[3]) * GOLDEN, 31);
		l4 = rotl64((l4 ^ w[4]) * GOLDEN, 31);
		l5 = rotl64((l5 ^ w[5]) * GOLDEN, 31);
		l6 = rotl64((l6 ^ w[6]) * GOLDEN, 31);
		l7 = rotl64((l7 ^ w[7]) * GOLDEN, 31);
	}
	lane[0] = l0, lane[1] = l1, lane[2] = l2, lane[3] = l3;
	lane[4] = l4, lane[5] = l5, lane[6] = l6, lane[7] = l7;
}

/* A finished segment's lanes into the fold. */
static void fold_segment(struct hash_state *h, const uint64_t lane[8])
{
	for (int i = 0; i < 8; i++) {
		h->x = mix64(h->x ^ lane[i]);
		h->y = mix64(h->y ^ lane[7 - i]);
	}
}

/* Adds n bytes; n must be a multiple of hash_block except for the last
 * call. */
static void hash_update(struct hash_state *h, const unsigned char *s, size_t n)
{
	h->total += n;
	if (h->version == FP_V2) {
		while (n > 0) {
			size_t take = SEGMENT_BYTES - h->in_segment < n ? SEGMENT_BYTES - h->in_segment : n;
			lanes_update(h->lane, s, take);
			h->in_segment += take;
			s += take;
			n -= take;
			if (h->in_segment == SEGMENT_BYTES) {
				fold_segment(h, h->lane);
				lanes_init(h->lane);
				h->in_segment = 0;
			}
		}
		return;
	}
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		for (int k = 0; k < 4; k++) {
			uint64_t w;
			memcpy(&w, s + i + 8 * k, 8);
			h->lane[k] = mix64(h->lane[k] ^ w) + GOLDEN;
		}
	}
	for (int k = 0; i < n; i++, k++)
		h->lane[k & 3] = mix64(h->lane[k & 3] ^ s[i] ^ ((uint64_t)k << 8));
}

/* Writes "SIZE-HASH" in hex: 16 digits for V1, 32 for V2. */
static void hash_final(struct hash_state *h, char *out, size_t outsz)
{
	if (h->version == FP_V1) {
		uint64_t x = mix64(h->total);
		for (int i = 0; i < 4; i++)
			x = mix64(x ^ h->lane[i]);
		snprintf(out, outsz, "%llu-%016llx", (unsigned long long)h->total, (unsigned long long)x);
		return;
	}
	if (h->in_segment > 0)
		fold_segment(h, h->lane);
	snprintf(out, outsz, "%llu-%016llx%016llx", (unsigned long long)h->total,
		 (unsigned long long)mix64(h->x ^ h->total), (unsigned long long)mix64(h->y ^ h->total ^ GOLDEN));
}

/* The file's bytes are hashed where they lie in the page cache, mapped a
 * window at a time, with the next lines prefetched: pread's copy into a
 * buffer would cost as much again. A V2 file of two whole segments or more
 * has them hashed by two threads, a segment at a time; what follows the
 * last whole segment up to the size at open is mapped by the caller. What
 * the file has beyond (it grew, or reports no size, as /proc files do) is
 * read with pread, as is all of a file that cannot be mapped. All feed the
 * hash the same bytes in whole blocks, so the fingerprint is the same
 * either way. */
#define MAP_WINDOW_BYTES ((size_t)16 << 20)
#define PREFETCH_AHEAD   2048

/* A mapped page of a file that shrank raises SIGBUS: the thread hashing it
 * jumps back to hash_guarded, which reports the file changed; any other
 * SIGBUS keeps its default action. */
static _Thread_local sigjmp_buf *sigbus_jump;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig)
{
	if (sigbus_jump != NULL)
		siglongjmp(*sigbus_jump, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void sigbus_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* Mapped bytes to a hash state (segments: NULL) or to one segment's lanes,
 * 2 KiB at a time with the lines after them prefetched. */
static void hash_mapped(struct hash_state *h, uint64_t lane[8], const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i += 64 * 32) {
		size_t k = n - i < 64 * 32 ? n - i : 64 * 32;
		for (size_t p = 0; p < k; p += 64)
			__builtin_prefetch(s + i + p + PREFETCH_AHEAD);
		if (h != NULL)
			hash_update(h, s + i, k);
		else
			lanes_update(lane, s + i, k);
	}
}

/* hash_mapped, or -1 when a page of the mapping is gone (SIGBUS). */
static int hash_guarded(struct hash_state *h, uint64_t lane[8], const unsigned char *m, size_t n)
{
	sigjmp_buf jump;
	if (sigsetjmp(jump, 0) != 0) {
		sigbus_jump = NULL;
		return -1;
	}
	sigbus_jump = &jump;
	hash_mapped(h, lane, m, n);
	sigbus_jump = NULL;
	return 0;
}

/* Hashes [*off, end) of fd through mappings (end a multiple of the hash's block),
 * advancing *off. 0 when done or when a mapping failed (the caller reads
 * the rest), -1 with e when the file shrank under the mapping. */
static int fingerprint_mapped(int fd, const char *name, struct hash_state *h, off_t *off, off_t end,
			      const _Atomic bool *stop, struct err *e)
{
	pthread_once(&sigbus_once, sigbus_install);
	while (*off < end) {
		if (stop != NULL && atomic_load_explicit(stop, memory_order_relaxed))
			return err_set(e, EXIT_SOFTWARE, "fingerprint of %s stopped", name);
		size_t n = (size_t)(end - *off) < MAP_WINDOW_BYTES ? (size_t)(end - *off) : MAP_WINDOW_BYTES;
		void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, *off);
		if (m == MAP_FAILED)
			return 0;
		if (hash_guarded(h, NULL, m, n) < 0) {
			munmap(m, n);
			return err_set(e, EXIT_NOINPUT, "%s changed while it was read (it shrank)", name);
		}
		munmap(m, n);
		*off += (off_t)n;
	}
	return 0;
}

/* The whole segments of a V2 file, hashed by the calling thread and one
 * helper, each taking the next segment not yet taken. */
struct segments {
	int fd;
	uint64_t n;            /* whole segments */
	uint64_t (*lanes)[8];  /* each segment's lanes, in file order */
	_Atomic uint64_t next; /* the next segment to take */
	_Atomic int failed;    /* 0, or SEGMENTS_UNMAPPED / _SHRANK / _STOPPED */
	const _Atomic bool *stop;
};

enum { SEGMENTS_UNMAPPED = 1, SEGMENTS_SHRANK = 2, SEGMENTS_STOPPED = 3 };

static void *segments_work(void *arg)
{
	struct segments *sg = arg;
	for (;;) {
		uint64_t i = atomic_fetch_add(&sg->next, 1);
		if (i >= sg->n || atomic_load(&sg->failed) != 0)
			return NULL;
		if (sg->stop != NULL && atomic_load_explicit(sg->stop, memory_order_relaxed)) {
			atomic_store(&sg->failed, SEGMENTS_STOPPED);
			return NULL;
		}
		void *m = mmap(NULL, SEGMENT_BYTES, PROT_READ, MAP_PRIVATE | MAP_POPULATE, sg->fd,
			       (off_t)(i * SEGMENT_BYTES));
		if (m == MAP_FAILED) {
			atomic_store(&sg->failed, SEGMENTS_UNMAPPED);
			return NULL;
		}
		lanes_init(sg->lanes[i]);
		int rc = hash_guarded(NULL, sg->lanes[i], m, SEGMENT_BYTES);
		munmap(m, SEGMENT_BYTES);
		if (rc < 0) {
			atomic_store(&sg->failed, SEGMENTS_SHRANK);
			return NULL;
		}
	}
}

/* Hashes the whole segments of [0, size) into h (V2, nothing taken yet)
 * and sets *off past them. 0 when done, or when they could not all be
 * mapped (h and *off untouched: the caller reads them), -1 with e when the
 * file shrank or the caller stopped the fingerprint. */
static int fingerprint_segments(int fd, const char *name, struct hash_state *h, off_t *off, off_t size,
				const _Atomic bool *stop, struct err *e)
{
	struct segments sg = {.fd = fd, .n = (uint64_t)size / SEGMENT_BYTES, .stop = stop};
	if (sg.n < 2)
		return 0;
	sg.lanes = malloc(sg.n * sizeof *sg.lanes);
	if (sg.lanes == NULL)
		return 0;
	pthread_once(&sigbus_once, sigbus_install);
	pthread_t helper;
	bool helped = pthread_create(&helper, NULL, segments_work, &sg) == 0;
	segments_work(&sg);
	if (helped)
		pthread_join(helper, NULL);
	int failed = atomic_load(&sg.failed);
	if (failed == 0) {
		for (uint64_t i = 0; i < sg.n; i++)
			fold_segment(h, sg.lanes[i]);
		h->total = sg.n * SEGMENT_BYTES;
		*off = (off_t)h->total;
	}
	free(sg.lanes);
	if (failed == SEGMENTS_SHRANK)
		return err_set(e, EXIT_NOINPUT, "%s changed while it was read (it shrank)", name);
	if (failed == SEGMENTS_STOPPED)
		return err_set(e, EXIT_SOFTWARE, "fingerprint of %s stopped", name);
	return 0;
}

/* fingerprint_fd in version v, giving up (-1, EXIT_SOFTWARE) once *stop is
 * set. */
static int fingerprint_fd_until(int fd, const char *name, enum fp_version v, char *out, size_t outsz,
				const _Atomic bool *stop, struct err *e)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_set(e, EXIT_NOINPUT, "cannot read %s: %s", name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return 0;
	struct hash_state h;
	hash_init(&h, v);
	off_t off = 0;
	if (v == FP_V2 && fingerprint_segments(fd, name, &h, &off, st.st_size, stop, e) < 0)
		return -1;
	if (fingerprint_mapped(fd, name, &h, &off, st.st_size & ~(off_t)(hash_block(&h) - 1), stop, e) < 0)
		return -1;
	unsigned char *buf = malloc(FINGERPRINT_READ_BYTES);
	if (buf == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	posix_fadvise(fd, off, 0, POSIX_FADV_SEQUENTIAL);
	int rc = 1;
	bool eof = false;
	while (!eof) {
		if (stop != NULL && atomic_load_explicit(stop, memory_order_relaxed)) {
			rc = err_set(e, EXIT_SOFTWARE, "fingerprint of %s stopped", name);
			break;
		}
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
		hash_final(&h, out, outsz);
	return rc;
}

int fingerprint_fd(int fd, const char *name, char *out, size_t outsz, struct err *e)
{
	return fingerprint_fd_until(fd, name, FP_V2, out, outsz, NULL, e);
}

int fingerprint_fd_v1(int fd, const char *name, char *out, size_t outsz, struct err *e)
{
	return fingerprint_fd_until(fd, name, FP_V1, out, outsz, NULL, e);
}

struct fingerprint_result {
	int rc; /* fingerprint_fd's */
	char id[FINGERPRINT_BYTES];
	struct err e;
};

struct fingerprint_set {
	const int *fds;
	const char *const *names;
	uint32_t n;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t done; /* results[0..done) are final */
	_Atomic bool stop;
	struct fingerprint_result *results;
};

static void *fingerprint_set_main(void *arg)
{
	struct fingerprint_set *s = arg;
	for (uint32_t i = 0; i < s->n; i++) {
		struct fingerprint_result *r = &s->results[i];
		err_clear(&r->e);
		r->rc = s->fds[i] < 0
			    ? 0
			    : fingerprint_fd_until(s->fds[i], s->names[i], FP_V2, r->id, sizeof r->id, &s->stop, &r->e);
		pthread_mutex_lock(&s->lock);
		s->done = i + 1;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

struct fingerprint_set *fingerprint_set_start(const int *fds, const char *const *names, uint32_t n, struct err *e)
{
	struct fingerprint_set *s = calloc(1, sizeof *s);
	if (s == NULL || (s->results = calloc(n ? n : 1, sizeof *s->results)) == NULL) {
		free(s);
		err_set(e, EXIT_SOFTWARE, "out of memory");
		return NULL;
	}
	s->fds = fds;
	s->names = names;
	s->n = n;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	int rc = pthread_create(&s->thread, NULL, fingerprint_set_main, s);
	if (rc != 0) {
		err_set(e, EXIT_SOFTWARE, "cannot start the fingerprint thread: %s", strerror(rc));
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
		free(s->results);
		free(s);
		return NULL;
	}
	return s;
}

int fingerprint_set_wait(struct fingerprint_set *s, uint32_t i, char *out, size_t outsz, struct err *e)
{
	if (i >= s->n)
		return 0;
	pthread_mutex_lock(&s->lock);
	while (s->done <= i)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	const struct fingerprint_result *r = &s->results[i];
	if (r->rc < 0 && e != NULL)
		*e = r->e;
	if (r->rc == 1)
		snprintf(out, outsz, "%s", r->id);
	return r->rc;
}

void fingerprint_set_free(struct fingerprint_set *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->results);
	free(s);
}
