/* test_reader.c - the reader returns a file's or a pipe's bytes exactly and in order, decodes zstd by content, and reports errors by class. */
#include "../../core/clock.h"
#include "../../core/limits.h"
#include "../../io/fingerprint.h"
#include "../../io/reader.h"
#include "../../io/zstd_stream.h"

#include <CUnit/Basic.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

static char tmp_dir[256];

static int suite_init(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmp_dir, sizeof tmp_dir, "%s/test_reader.XXXXXX", base && *base ? base : "/tmp");
	signal(SIGPIPE, SIG_IGN);
	return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

static int suite_clean(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void tmp_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmp_dir, name);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *fp = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL(fwrite(p, 1, n, fp), n);
	fclose(fp);
}

/* Bytes that differ from block to block and inside a block, so a block out of place shows. */
static char *pattern(size_t n)
{
	char *p = malloc(n);
	if (p == NULL)
		abort(); /* no memory: nothing to test */
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (char)x;
	}
	return p;
}

/* Text that compresses well, like a CSV. */
static char *csv_text(size_t n)
{
	char *p = malloc(n + 64);
	if (p == NULL)
		abort(); /* no memory: nothing to test */
	size_t len = 0;
	for (unsigned i = 0; len < n; i++)
		len += (size_t)sprintf(p + len, "%u,order-%u,%u.%02u,EUR\n", i % 97, i, i % 1000, i % 100);
	return p;
}

/* Reads everything; returns the byte count or -1, and the bytes in *out. */
static long read_all(struct reader *r, char **out, struct err *e, long *blocks)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	long nb = 0;
	for (;;) {
		const char *data;
		long n = reader_next(r, &data, e);
		if (n < 0) {
			free(buf);
			*out = NULL;
			return -1;
		}
		if (n == 0)
			break;
		nb++;
		if (len + (size_t)n > cap) {
			while (len + (size_t)n > cap)
				cap *= 2;
			buf = realloc(buf, cap);
		}
		memcpy(buf + len, data, (size_t)n);
		len += (size_t)n;
	}
	if (blocks)
		*blocks = nb;
	*out = buf;
	return (long)len;
}

static void check_file(const char *path, const char *want, size_t n, bool plain, bool zstd, size_t raw_bytes)
{
	struct err e;
	err_clear(&e);
	struct reader *r = reader_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(reader_is_zstd(r), zstd);
	CU_ASSERT_EQUAL(reader_size(r), (int64_t)raw_bytes);
	if (plain)
		reader_use_plain_read(r);
	char *got;
	long blocks = 0;
	long len = read_all(r, &got, &e, &blocks);
	CU_ASSERT_EQUAL(len, (long)n);
	if (len == (long)n)
		CU_ASSERT_EQUAL(memcmp(got, want, n), 0);
	CU_ASSERT_EQUAL(reader_bytes_read(r), raw_bytes);
	/* End of input stays the end. */
	const char *data;
	CU_ASSERT_EQUAL(reader_next(r, &data, &e), 0);
	free(got);
	reader_close(r);
}

/* A regular file larger than all read buffers together comes back byte for byte, in order, with io_uring and with read(2). */
static void test_regular_file(void)
{
	size_t n = READ_BUF_BYTES * READ_BUFS_IN_FLIGHT * 2 + 12345;
	char *p = pattern(n);
	char path[300];
	tmp_path(path, sizeof path, "big.csv");
	write_file(path, p, n);
	check_file(path, p, n, false, false, n);
	check_file(path, p, n, true, false, n);
	/* A file shorter than the zstd magic is plain input. */
	tmp_path(path, sizeof path, "tiny.csv");
	write_file(path, "ab", 2);
	check_file(path, "ab", 2, false, false, 2);
	free(p);
}

/* An empty file gives end of input at once and no error. */
static void test_empty_file(void)
{
	char path[300];
	tmp_path(path, sizeof path, "empty.csv");
	write_file(path, "", 0);
	check_file(path, "", 0, false, false, 0);
	check_file(path, "", 0, true, false, 0);
}

/* A missing file and a directory fail at open with EXIT_NOINPUT and a message naming them. */
static void test_missing_and_directory(void)
{
	struct err e;
	err_clear(&e);
	char path[300];
	tmp_path(path, sizeof path, "orders.csv");
	CU_ASSERT_PTR_NULL(reader_open(path, &e));
	CU_ASSERT_EQUAL(e.code, EXIT_NOINPUT);
	char want[400];
	snprintf(want, sizeof want, "cannot open %s: No such file or directory", path);
	CU_ASSERT_STRING_EQUAL(e.msg, want);
	err_clear(&e);
	CU_ASSERT_PTR_NULL(reader_open(tmp_dir, &e));
	CU_ASSERT_EQUAL(e.code, EXIT_NOINPUT);
	snprintf(want, sizeof want, "%s: is a directory", tmp_dir);
	CU_ASSERT_STRING_EQUAL(e.msg, want);
}

/* Forks a writer that sends p[0..n) into a pipe in uneven pieces, the first one a single byte; returns the read end. */
static int pipe_writer(const char *p, size_t n, pid_t *pid)
{
	int fds[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	*pid = fork();
	CU_ASSERT_FATAL(*pid >= 0);
	if (*pid == 0) {
		close(fds[0]);
		size_t at = 0, piece = 1;
		while (at < n) {
			size_t k = n - at < piece ? n - at : piece;
			ssize_t w = write(fds[1], p + at, k);
			if (w <= 0)
				_exit(1);
			at += (size_t)w;
			piece = piece * 7 % 200003 + 1;
		}
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

static void check_pipe(const char *want_raw, size_t raw_n, const char *want, size_t n, bool via_stdin, bool plain,
		       bool zstd)
{
	pid_t pid;
	int fd = pipe_writer(want_raw, raw_n, &pid);
	int saved = -1;
	char path[64];
	if (via_stdin) {
		saved = dup(STDIN_FILENO);
		CU_ASSERT_FATAL(dup2(fd, STDIN_FILENO) == STDIN_FILENO);
		close(fd);
		snprintf(path, sizeof path, "-");
	} else {
		snprintf(path, sizeof path, "/dev/fd/%d", fd);
	}
	struct err e;
	err_clear(&e);
	struct reader *r = reader_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(reader_size(r), -1);
	if (plain)
		reader_use_plain_read(r);
	char *got;
	long len = read_all(r, &got, &e, NULL);
	CU_ASSERT_EQUAL(len, (long)n);
	if (len == (long)n)
		CU_ASSERT_EQUAL(memcmp(got, want, n), 0);
	CU_ASSERT_EQUAL(reader_is_zstd(r), zstd);
	CU_ASSERT_EQUAL(reader_bytes_read(r), raw_n);
	free(got);
	reader_close(r);
	int status;
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (via_stdin) {
		dup2(saved, STDIN_FILENO);
		close(saved);
	} else {
		close(fd);
	}
}

/* A pipe (by path and as standard input) delivers all the writer's bytes in order, with io_uring and with read(2). */
static void test_pipe(void)
{
	size_t n = READ_BUF_BYTES * 3 + 999;
	char *p = pattern(n);
	check_pipe(p, n, p, n, false, false, false);
	check_pipe(p, n, p, n, true, false, false);
	check_pipe(p, n, p, n, false, true, false);
	free(p);
}

static size_t compress_into(char *dst, size_t cap, const char *src, size_t n)
{
	size_t z = ZSTD_compress(dst, cap, src, n, 3);
	CU_ASSERT_FATAL(!ZSTD_isError(z));
	return z;
}

/* A zstd file is recognised by its magic whatever its name and decodes to the original, across read buffers and output buffers. */
static void test_zstd_file(void)
{
	size_t n = READ_BUF_BYTES * 5 + 77;
	char *text = csv_text(n);
	/* Incompressible bytes too, so the compressed file spans several read buffers. */
	char *noise = pattern(n);
	memcpy(text + n / 2, noise, n / 2);
	size_t cap = ZSTD_compressBound(n);
	char *z = malloc(cap);
	size_t zn = compress_into(z, cap, text, n);
	CU_ASSERT_TRUE(zn > READ_BUF_BYTES);
	char path[300];
	tmp_path(path, sizeof path, "orders.csv");
	write_file(path, z, zn);
	check_file(path, text, n, false, true, zn);
	check_file(path, text, n, true, true, zn);
	free(z);
	free(noise);
	free(text);
}

/* Concatenated zstd frames, with a skippable frame first and between them, decode to the concatenated contents. */
static void test_zstd_frames(void)
{
	size_t n1 = 300000, n2 = 2500000;
	char *a = csv_text(n1), *b = csv_text(n2);
	size_t cap = ZSTD_compressBound(n1) + ZSTD_compressBound(n2) + 64;
	char *z = malloc(cap);
	size_t zn = 0;
	static const unsigned char skip[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'n', 'o', 't', 'e'};
	memcpy(z, skip, sizeof skip);
	zn += sizeof skip;
	zn += compress_into(z + zn, cap - zn, a, n1);
	memcpy(z + zn, skip, sizeof skip);
	zn += sizeof skip;
	zn += compress_into(z + zn, cap - zn, b, n2);
	CU_ASSERT_TRUE(zstd_stream_detect(skip, sizeof skip));
	char *want = malloc(n1 + n2);
	memcpy(want, a, n1);
	memcpy(want + n1, b, n2);
	char path[300];
	tmp_path(path, sizeof path, "two.zst");
	write_file(path, z, zn);
	check_file(path, want, n1 + n2, false, true, zn);
	free(want);
	free(z);
	free(a);
	free(b);
}

/* A zstd file cut short, or with damaged bytes, ends in EXIT_DATAERR naming the file. */
static void test_zstd_truncated(void)
{
	size_t n = 2000000;
	char *text = csv_text(n);
	size_t cap = ZSTD_compressBound(n);
	char *z = malloc(cap);
	size_t zn = compress_into(z, cap, text, n);
	char path[300];
	tmp_path(path, sizeof path, "cut.csv.zst");
	write_file(path, z, zn / 2);
	struct err e;
	err_clear(&e);
	struct reader *r = reader_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	char *got;
	CU_ASSERT_EQUAL(read_all(r, &got, &e, NULL), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_DATAERR);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, path));
	reader_close(r);
	/* Damage in the middle of the frame. */
	for (size_t i = zn / 3; i < zn / 3 + 64; i++)
		z[i] = (char)~z[i];
	write_file(path, z, zn);
	err_clear(&e);
	r = reader_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(read_all(r, &got, &e, NULL), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_DATAERR);
	reader_close(r);
	free(z);
	free(text);
}

/* zstd arriving through a pipe (first byte alone) is detected and decoded, with io_uring and with read(2). */
static void test_zstd_pipe(void)
{
	size_t n = READ_BUF_BYTES * 3 + 5;
	char *text = csv_text(n);
	size_t cap = ZSTD_compressBound(n);
	char *z = malloc(cap);
	size_t zn = compress_into(z, cap, text, n);
	check_pipe(z, zn, text, n, true, false, true);
	check_pipe(z, zn, text, n, false, true, true);
	free(z);
	free(text);
}

/* Closing a reader early, with reads still in flight on a file and on a pipe whose writer is still writing, is safe. */
static void test_close_early(void)
{
	size_t n = READ_BUF_BYTES * 6;
	char *p = pattern(n);
	char path[300];
	tmp_path(path, sizeof path, "early.csv");
	write_file(path, p, n);
	struct err e;
	struct reader *r = reader_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	const char *data;
	CU_ASSERT_TRUE(reader_next(r, &data, &e) > 0);
	reader_close(r);
	/* A pipe that stays open: the pending read must be cancelled, not waited for. */
	int fds[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	CU_ASSERT_EQUAL(write(fds[1], "hello", 5), 5);
	char fdpath[64];
	snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", fds[0]);
	r = reader_open(fdpath, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(reader_next(r, &data, &e), 5);
	reader_close(r);
	close(fds[0]);
	close(fds[1]);
	free(p);
}

/* reader_next_until on a pipe: bytes already there come back at once;
 * when none come by the deadline it returns READER_WAITING (not before),
 * and the next call gets the bytes written meanwhile, none lost, then the
 * end. The first block waits whatever the deadline. */
static void check_deadline(bool plain, bool zstd)
{
	static const char one[] = "1,first\n", two[] = "2,second\n";
	char z1[128], z2[128];
	size_t n1 = strlen(one), n2 = strlen(two), zn2 = 0;
	const char *w1 = one, *w2 = two;
	if (zstd) {
		n1 = compress_into(z1, sizeof z1, one, strlen(one));
		zn2 = compress_into(z2, sizeof z2, two, strlen(two));
		w1 = z1;
		w2 = z2;
		n2 = zn2;
	}
	int fds[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	char path[64];
	snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
	struct err e;
	err_clear(&e);
	struct reader *r = reader_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	reader_watch_stop(r, NULL);
	if (plain)
		reader_use_plain_read(r);
	CU_ASSERT_TRUE(reader_is_stream(r));
	/* The first block, and half of the second record's bytes. */
	CU_ASSERT_EQUAL(write(fds[1], w1, n1), (ssize_t)n1);
	CU_ASSERT_EQUAL(write(fds[1], w2, n2 / 2), (ssize_t)(n2 / 2));
	const char *data;
	long got = reader_next_until(r, &data, clock_mono_ns(), &e);
	if (zstd) {
		CU_ASSERT_EQUAL_FATAL(got, (long)strlen(one));
		CU_ASSERT_EQUAL(memcmp(data, one, strlen(one)), 0);
		/* Half a frame decodes to nothing yet. */
		uint64_t deadline = clock_mono_ns() + 20000000;
		CU_ASSERT_EQUAL(reader_next_until(r, &data, deadline, &e), READER_WAITING);
		CU_ASSERT_TRUE(clock_mono_ns() >= deadline);
	} else {
		CU_ASSERT_TRUE_FATAL(got >= (long)n1);
		CU_ASSERT_EQUAL(memcmp(data, one, n1), 0);
		if (got < (long)(n1 + n2 / 2)) {
			/* The first block was the first bytes only. */
			long more = reader_next_until(r, &data, clock_mono_ns() + 1000000000ull * 60, &e);
			CU_ASSERT_EQUAL(got + more, (long)(n1 + n2 / 2));
		}
	}
	uint64_t deadline = clock_mono_ns() + 20000000;
	CU_ASSERT_EQUAL(reader_next_until(r, &data, deadline, &e), READER_WAITING);
	CU_ASSERT_TRUE(clock_mono_ns() >= deadline);
	/* A deadline already past: no wait at all, the read still queued. */
	CU_ASSERT_EQUAL(reader_next_until(r, &data, clock_mono_ns(), &e), READER_WAITING);
	CU_ASSERT_EQUAL(write(fds[1], w2 + n2 / 2, n2 - n2 / 2), (ssize_t)(n2 - n2 / 2));
	got = reader_next_until(r, &data, clock_mono_ns() + 1000000000ull * 60, &e);
	const char *rest = zstd ? two : two + n2 / 2;
	CU_ASSERT_EQUAL_FATAL(got, (long)strlen(rest));
	CU_ASSERT_EQUAL(memcmp(data, rest, strlen(rest)), 0);
	CU_ASSERT_EQUAL(reader_next_until(r, &data, clock_mono_ns() + 10000000, &e), READER_WAITING);
	close(fds[1]);
	CU_ASSERT_EQUAL(reader_next_until(r, &data, clock_mono_ns() + 10000000, &e), 0);
	reader_close(r);
	close(fds[0]);
}

static void test_deadline(void)
{
	check_deadline(false, false);
	check_deadline(true, false);
	check_deadline(false, true);
	check_deadline(true, true);
}

/* Files ignore the deadline: their reads end. */
static void test_deadline_file(void)
{
	char path[300];
	tmp_path(path, sizeof path, "deadline.csv");
	write_file(path, "a\nb\n", 4);
	struct err e;
	struct reader *r = reader_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_FALSE(reader_is_stream(r));
	const char *data;
	CU_ASSERT_EQUAL(reader_next_until(r, &data, 1, &e), 4);
	CU_ASSERT_EQUAL(reader_next_until(r, &data, 1, &e), 0);
	reader_close(r);
}

/* An input opened once: its fingerprint and its load read the same
 * descriptor, so a name swapped for another file in between (a link, a
 * rename) changes neither. The fingerprint moves no offset, the reader
 * leaves the descriptor open for its owner, and the descriptor of a pipe
 * has no fingerprint. */
static void test_one_descriptor(void)
{
	size_t n = READ_BUF_BYTES + 123;
	char *p = pattern(n);
	char path[300], other[300];
	tmp_path(path, sizeof path, "once.csv");
	tmp_path(other, sizeof other, "other.csv");
	write_file(path, p, n);
	write_file(other, "swapped in\n", 11);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	struct err e;
	char fp1[64], fp2[64], fp3[64];
	CU_ASSERT_EQUAL(fingerprint_fd(fd, path, fp1, sizeof fp1, &e), 1);
	CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_CUR), 0);
	/* The name now stands for another file. */
	CU_ASSERT_EQUAL_FATAL(rename(other, path), 0);
	CU_ASSERT_EQUAL(fingerprint_fd(fd, path, fp2, sizeof fp2, &e), 1);
	CU_ASSERT_STRING_EQUAL(fp1, fp2);
	int fd2 = open(path, O_RDONLY | O_CLOEXEC);
	CU_ASSERT_FATAL(fd2 >= 0);
	CU_ASSERT_EQUAL(fingerprint_fd(fd2, path, fp3, sizeof fp3, &e), 1);
	CU_ASSERT_STRING_NOT_EQUAL(fp1, fp3);
	close(fd2);
	/* Read whole, wherever the descriptor's offset stands. */
	CU_ASSERT_EQUAL(lseek(fd, 77, SEEK_SET), 77);
	struct reader *r = reader_open_fd(fd, path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(reader_size(r), (int64_t)n);
	size_t got = 0;
	bool same = true;
	const char *data;
	long k;
	while ((k = reader_next(r, &data, &e)) > 0) {
		same = same && got + (size_t)k <= n && memcmp(data, p + got, (size_t)k) == 0;
		got += (size_t)k;
	}
	CU_ASSERT_EQUAL(k, 0);
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT_TRUE(same);
	reader_close(r);
	/* Still open (the reader did not close what it did not open), its
	 * offset where it was. */
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_CUR), 77);
	close(fd);
	int fds[2];
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	CU_ASSERT_EQUAL(fingerprint_fd(fds[0], "pipe", fp1, sizeof fp1, &e), 0);
	close(fds[0]);
	close(fds[1]);
	free(p);
}

/* Fingerprints are ledger identities: they never change across builds.
 * The earlier builds' fingerprint (fingerprint_fd_v1, under which their
 * ledgers know files): these were taken by the build that first wrote them
 * (reading with pread), and the mapped read must give them too, at every
 * size around its 32-byte steps, its 1 MiB read blocks and its 16 MiB
 * windows. */
static void test_fingerprint_v1_stable(void)
{
	static const struct {
		size_t n;
		const char *fp;
	} want[] = {
	    {1, "1-ef20c1ddc7ff58f8"},
	    {31, "31-ff6f5cf55e2f3cef"},
	    {32, "32-773624ddf66bb0c9"},
	    {33, "33-8bc846242664cce8"},
	    {1048576, "1048576-33edf0c3ac202d07"},
	    {1048581, "1048581-db5bd347e0bece03"},
	    {16777293, "16777293-885ada8f948a740d"},
	    {34603040, "34603040-4fa5f32e8a002016"},
	};
	char path[300];
	tmp_path(path, sizeof path, "stable.bin");
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		char *p = pattern(want[i].n);
		write_file(path, p, want[i].n);
		free(p);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		CU_ASSERT_FATAL(fd >= 0);
		char got[FINGERPRINT_BYTES];
		struct err e;
		CU_ASSERT_EQUAL(fingerprint_fd_v1(fd, path, got, sizeof got, &e), 1);
		CU_ASSERT_STRING_EQUAL(got, want[i].fp);
		close(fd);
	}
}

/* The fingerprint as its definition in io/fingerprint.c states it, one
 * segment and one block at a time from memory: the oracle for the mapped,
 * two-thread and read paths. */
static uint64_t ref_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static void ref_fingerprint(const unsigned char *p, size_t n, char *out, size_t outsz)
{
	const uint64_t golden = 0x9e3779b97f4a7c15ULL, seed = 0x65646f6e75ULL;
	const size_t segment = (size_t)8 << 20;
	uint64_t x = ref_mix64(seed), y = ref_mix64(seed ^ golden);
	for (size_t at = 0; at < n; at += segment) {
		size_t end = n - at < segment ? n : at + segment;
		uint64_t lane[8];
		for (int k = 0; k < 8; k++)
			lane[k] = ref_mix64(seed + (uint64_t)k * golden);
		for (size_t i = at; i < end; i += 64) {
			unsigned char block[64] = {0};
			memcpy(block, p + i, end - i < 64 ? end - i : 64);
			for (int k = 0; k < 8; k++) {
				uint64_t w = 0;
				for (int b = 7; b >= 0; b--)
					w = w << 8 | block[8 * k + b];
				uint64_t m = (lane[k] ^ w) * golden;
				lane[k] = m << 31 | m >> 33;
			}
		}
		for (int k = 0; k < 8; k++) {
			x = ref_mix64(x ^ lane[k]);
			y = ref_mix64(y ^ lane[7 - k]);
		}
	}
	snprintf(out, outsz, "%zu-%016llx%016llx", n, (unsigned long long)ref_mix64(x ^ n),
		 (unsigned long long)ref_mix64(y ^ n ^ golden));
}

/* fingerprint_fd gives what its definition gives, at every size around its
 * 64-byte blocks, its 1 MiB read blocks, its 8 MiB segments (two whole ones
 * and more are hashed by two threads) and its 16 MiB windows; a few are
 * pinned as well, so that the definition itself cannot drift. */
static void test_fingerprint_stable(void)
{
	static const size_t sizes[] = {0,       1,       63,      64,      65,       127,      128,      1048576,
				       1048581, 8388607, 8388608, 8388609, 16777216, 16777293, 25165829, 34603040};
	static const struct {
		size_t n;
		const char *fp;
	} pinned[] = {
	    {1, "1-b592ca451d675ca555f6ed29268d4c2c"},
	    {65, "65-c461c0b5fe82bffcbfe1c0ba4dbed9a2"},
	    {16777293, "16777293-1f439850c2f1af03a616541a563f37c7"},
	};
	char path[300];
	tmp_path(path, sizeof path, "stable2.bin");
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		char *p = pattern(n ? n : 1);
		write_file(path, p, n);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		CU_ASSERT_FATAL(fd >= 0);
		char got[FINGERPRINT_BYTES], want[FINGERPRINT_BYTES];
		struct err e;
		CU_ASSERT_EQUAL(fingerprint_fd(fd, path, got, sizeof got, &e), 1);
		ref_fingerprint((const unsigned char *)p, n, want, sizeof want);
		CU_ASSERT_STRING_EQUAL(got, want);
		for (size_t k = 0; k < sizeof pinned / sizeof pinned[0]; k++)
			if (pinned[k].n == n)
				CU_ASSERT_STRING_EQUAL(got, pinned[k].fp);
		close(fd);
		free(p);
	}
}

/* Fingerprints taken in the background are those fingerprint_fd takes, in
 * any order of waiting; a descriptor < 0 or a pipe has none, and a set
 * freed before anyone waited stops cleanly. */
static void test_fingerprint_set(void)
{
	size_t n = 3 * FINGERPRINT_READ_BYTES + 77;
	char *p = pattern(n);
	char a[300], b[300];
	tmp_path(a, sizeof a, "set_a.csv");
	tmp_path(b, sizeof b, "set_b.csv");
	write_file(a, p, n);
	write_file(b, p, n - 1);
	int pfd[2];
	CU_ASSERT_EQUAL_FATAL(pipe(pfd), 0);
	int fds[4] = {open(a, O_RDONLY | O_CLOEXEC), -1, pfd[0], open(b, O_RDONLY | O_CLOEXEC)};
	const char *names[4] = {a, "-", "pipe", b};
	CU_ASSERT_FATAL(fds[0] >= 0 && fds[3] >= 0);
	char want_a[64], want_b[64], got[64];
	struct err e;
	CU_ASSERT_EQUAL(fingerprint_fd(fds[0], a, want_a, sizeof want_a, &e), 1);
	CU_ASSERT_EQUAL(fingerprint_fd(fds[3], b, want_b, sizeof want_b, &e), 1);
	CU_ASSERT_STRING_NOT_EQUAL(want_a, want_b);
	struct fingerprint_set *s = fingerprint_set_start(fds, names, 4, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(fingerprint_set_wait(s, 3, got, sizeof got, &e), 1);
	CU_ASSERT_STRING_EQUAL(got, want_b);
	CU_ASSERT_EQUAL(fingerprint_set_wait(s, 0, got, sizeof got, &e), 1);
	CU_ASSERT_STRING_EQUAL(got, want_a);
	CU_ASSERT_EQUAL(fingerprint_set_wait(s, 1, got, sizeof got, &e), 0);
	CU_ASSERT_EQUAL(fingerprint_set_wait(s, 2, got, sizeof got, &e), 0);
	CU_ASSERT_EQUAL(fingerprint_set_wait(s, 4, got, sizeof got, &e), 0);
	fingerprint_set_free(s);
	s = fingerprint_set_start(fds, names, 4, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	fingerprint_set_free(s);
	fingerprint_set_free(NULL);
	close(fds[0]);
	close(fds[3]);
	close(pfd[0]);
	close(pfd[1]);
	free(p);
}

/* A file cut short while its fingerprint reads it through mappings: the
 * thread that touches a page past the new end (either of the two hashing
 * whole segments, or the one mapping the rest) gets SIGBUS, and the
 * fingerprint fails with EXIT_NOINPUT, "it shrank", instead of the process
 * dying. The cut races the hash (a background fingerprint, the file cut a
 * moment after it starts), so a few tries are allowed for the cut to land
 * while the hash runs; a cut that lands before or after gives a fingerprint
 * (rc 1), never anything else. */
static void test_fingerprint_file_shrinks(void)
{
	size_t n = (size_t)64 << 20;
	char *p = pattern(n);
	char path[300];
	tmp_path(path, sizeof path, "shrinks.bin");
	int shrank = 0;
	for (int attempt = 0; attempt < 8 && shrank == 0; attempt++) {
		write_file(path, p, n);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		CU_ASSERT_FATAL(fd >= 0);
		const char *names[1] = {path};
		struct err e;
		err_clear(&e);
		struct fingerprint_set *s = fingerprint_set_start(&fd, names, 1, &e);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		usleep(2000);
		CU_ASSERT_EQUAL(truncate(path, 4096), 0);
		char got[FINGERPRINT_BYTES];
		int rc = fingerprint_set_wait(s, 0, got, sizeof got, &e);
		CU_ASSERT(rc == 1 || rc == -1);
		if (rc == -1) {
			CU_ASSERT_EQUAL(e.code, EXIT_NOINPUT);
			CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "shrank"));
			shrank++;
		}
		fingerprint_set_free(s);
		close(fd);
	}
	CU_ASSERT(shrank > 0);
	unlink(path);
	free(p);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("reader", suite_init, suite_clean);
	if (s == NULL)
		return 1;
	CU_add_test(s, "regular_file", test_regular_file);
	CU_add_test(s, "empty_file", test_empty_file);
	CU_add_test(s, "missing_and_directory", test_missing_and_directory);
	CU_add_test(s, "pipe", test_pipe);
	CU_add_test(s, "zstd_file", test_zstd_file);
	CU_add_test(s, "zstd_frames", test_zstd_frames);
	CU_add_test(s, "zstd_truncated", test_zstd_truncated);
	CU_add_test(s, "zstd_pipe", test_zstd_pipe);
	CU_add_test(s, "close_early", test_close_early);
	CU_add_test(s, "deadline", test_deadline);
	CU_add_test(s, "deadline_file", test_deadline_file);
	CU_add_test(s, "one_descriptor", test_one_descriptor);
	CU_add_test(s, "fingerprint_set", test_fingerprint_set);
	CU_add_test(s, "fingerprint_stable", test_fingerprint_stable);
	CU_add_test(s, "fingerprint_v1_stable", test_fingerprint_v1_stable);
	CU_add_test(s, "fingerprint_file_shrinks", test_fingerprint_file_shrinks);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
