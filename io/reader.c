/* reader.c - reads one input through its own io_uring, several large reads in flight for files, and decodes zstd on the fly. */
#include "reader.h"

#include "../core/clock.h"
#include "../core/limits.h"
#include "zstd_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* One buffer more than reads in flight: the consumer holds the block it was
 * last given while READ_BUFS_IN_FLIGHT reads proceed behind it. */
#define READ_SLOTS   (READ_BUFS_IN_FLIGHT + 1)
/* Bytes needed to tell zstd from plain input. */
#define MAGIC_BYTES  4
/* user_data of the cancel request sent at close, apart from slot numbers. */
#define CANCEL_TAG   UINT64_MAX
/* How often a wait for a pipe's next bytes looks at the stop flag. */
#define STOP_POLL_MS 250

enum slot_state { SLOT_FREE = 0, SLOT_BUSY, SLOT_READY, SLOT_HELD };
enum zstd_kind { ZSTD_UNKNOWN = 0, ZSTD_NO, ZSTD_YES };

struct slot {
	char *buf;
	uint64_t off; /* file offset of buf[0] (regular files) */
	size_t want;  /* bytes asked for */
	size_t got;   /* bytes arrived */
	int state;
};

struct reader {
	const _Atomic bool *stop; /* see reader_watch_stop; NULL: not watched */
	uint64_t deadline_ns;     /* streams, during reader_next_until: when to give up waiting; 0: never */
	char *name;
	int fd;
	bool own_fd;
	bool regular; /* a regular file: offsets, reads in parallel */
	int64_t size;
	uint64_t end_off; /* regular: offset where the input ends (fstat at open) */

	bool plain;   /* read(2) instead of io_uring */
	bool ring_up; /* ring initialised */
	bool fixed;   /* buffers registered: read_fixed */
	struct io_uring ring;
	char *pool;
	struct slot slots[READ_SLOTS];
	unsigned next_submit;  /* slot index for the next submission */
	unsigned next_deliver; /* slot index of the next block in order */
	uint64_t next_off;     /* regular: next offset to ask for */
	unsigned busy;         /* reads in flight */
	int held;              /* slot the consumer holds, or -1 */
	bool raw_eof;
	bool started;
	uint64_t bytes_read;

	int zkind;
	struct zstd_stream *z;
	char *zout;
	const char *zin;
	size_t zin_len;
	size_t zin_pos;
	bool zin_eof;
};

static const char *display_name(const char *path)
{
	return path == NULL || strcmp(path, "-") == 0 ? "standard input" : path;
}

/* The pool of read buffers and the ring that reads into them (registered
 * when the kernel allows). -1 on out of memory. */
static int reader_setup_ring(struct reader *r)
{
	size_t pool_bytes = (size_t)READ_SLOTS * READ_BUF_BYTES;
	if (posix_memalign((void **)&r->pool, 4096, pool_bytes) != 0) {
		r->pool = NULL;
		return -1;
	}
	for (unsigned i = 0; i < READ_SLOTS; i++)
		r->slots[i].buf = r->pool + (size_t)i * READ_BUF_BYTES;
	if (io_uring_queue_init(READ_SLOTS * 2, &r->ring, 0) == 0) {
		r->ring_up = true;
		/* Registered buffers spare the kernel a page pin per read; without
		 * them (RLIMIT_MEMLOCK, old kernels) plain reads work the same. */
		struct iovec iov[READ_SLOTS];
		for (unsigned i = 0; i < READ_SLOTS; i++)
			iov[i] = (struct iovec){r->slots[i].buf, READ_BUF_BYTES};
		r->fixed = io_uring_register_buffers(&r->ring, iov, READ_SLOTS) == 0;
	} else {
		/* No io_uring here (seccomp, old kernel): read(2) does the job. */
		r->plain = true;
	}
	return 0;
}

/* The reader of fd, named name in messages; closes fd at reader_close when
 * own (also when this fails). A regular file is read from fd's offset when
 * at_offset (standard input redirected from a file starts where the shell
 * left it), else whole, from offset 0. */
static struct reader *reader_setup(int fd, bool own, bool at_offset, const char *name, struct err *e)
{
	struct reader *r = calloc(1, sizeof *r);
	if (r != NULL)
		r->name = strdup(name);
	if (r == NULL || r->name == NULL) {
		free(r);
		if (own)
			close(fd);
		err_set(e, EXIT_SOFTWARE, "out of memory opening %s", name);
		return NULL;
	}
	r->held = -1;
	r->fd = fd;
	r->own_fd = own;
	struct stat sb;
	if (fstat(r->fd, &sb) < 0) {
		err_set(e, EXIT_NOINPUT, "cannot open %s: %s", name, strerror(errno));
		reader_close(r);
		return NULL;
	}
	if (S_ISDIR(sb.st_mode)) {
		err_set(e, EXIT_NOINPUT, "%s: is a directory", name);
		reader_close(r);
		return NULL;
	}
	r->size = -1;
	if (S_ISREG(sb.st_mode)) {
		/* The reads go by offset and never move the descriptor's. */
		off_t start = at_offset ? lseek(r->fd, 0, SEEK_CUR) : 0;
		if (start < 0)
			start = 0;
		r->regular = true;
		r->next_off = (uint64_t)start;
		r->end_off = (uint64_t)sb.st_size > (uint64_t)start ? (uint64_t)sb.st_size : (uint64_t)start;
		r->size = (int64_t)(r->end_off - (uint64_t)start);
		posix_fadvise(r->fd, start, 0, POSIX_FADV_SEQUENTIAL);
		/* A file can be told apart at once, without disturbing the reads. */
		unsigned char magic[MAGIC_BYTES];
		ssize_t n = pread(r->fd, magic, sizeof magic, start);
		if (n < 0) {
			err_set(e, EXIT_NOINPUT, "cannot read %s: %s", name, strerror(errno));
			reader_close(r);
			return NULL;
		}
		r->zkind = zstd_stream_detect(magic, (size_t)n) ? ZSTD_YES : ZSTD_NO;
	}

	if (reader_setup_ring(r) != 0) {
		err_set(e, EXIT_SOFTWARE, "out of memory opening %s", name);
		reader_close(r);
		return NULL;
	}
	if (r->zkind == ZSTD_YES && (r->z = zstd_stream_create()) == NULL) {
		err_set(e, EXIT_SOFTWARE, "out of memory opening %s", name);
		reader_close(r);
		return NULL;
	}
	return r;
}

struct reader *reader_open(const char *path, struct err *e)
{
	if (path == NULL || strcmp(path, "-") == 0)
		return reader_setup(STDIN_FILENO, false, true, display_name(path), e);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, EXIT_NOINPUT, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	return reader_setup(fd, true, false, path, e);
}

struct reader *reader_open_fd(int fd, const char *name, struct err *e)
{
	return reader_setup(fd, false, false, name, e);
}

void reader_watch_stop(struct reader *r, const _Atomic bool *stop)
{
	r->stop = stop;
}

void reader_use_plain_read(struct reader *r)
{
	ASSERT(!r->started);
	r->plain = true;
}

int64_t reader_size(const struct reader *r)
{
	return r->size;
}

uint64_t reader_bytes_read(const struct reader *r)
{
	return r->bytes_read;
}

bool reader_is_zstd(const struct reader *r)
{
	return r->zkind == ZSTD_YES;
}

/* Queues a read into slot s for the bytes it still wants. */
static void submit_slot(struct reader *r, unsigned i)
{
	struct slot *s = &r->slots[i];
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	/* The ring has twice as many entries as slots, and each slot has at
	 * most one read queued. */
	ASSERT(sqe != NULL);
	char *dst = s->buf + s->got;
	unsigned len = (unsigned)(s->want - s->got);
	/* Pipes have no offsets: -1 reads at the current position. */
	uint64_t off = r->regular ? s->off + s->got : (uint64_t)-1;
	if (r->fixed)
		io_uring_prep_read_fixed(sqe, r->fd, dst, len, off, (int)i);
	else
		io_uring_prep_read(sqe, r->fd, dst, len, off);
	io_uring_sqe_set_data64(sqe, i);
	s->state = SLOT_BUSY;
	r->busy++;
}

/* Fills free slots with reads at increasing offsets, up to the end of the file. */
static void submit_regular(struct reader *r)
{
	while (r->next_off < r->end_off) {
		unsigned i = r->next_submit;
		struct slot *s = &r->slots[i];
		if (s->state != SLOT_FREE)
			break;
		uint64_t left = r->end_off - r->next_off;
		s->off = r->next_off;
		s->want = left < READ_BUF_BYTES ? (size_t)left : READ_BUF_BYTES;
		s->got = 0;
		submit_slot(r, i);
		r->next_off += s->want;
		r->next_submit = (i + 1) % READ_SLOTS;
	}
}

static bool stopped(const struct reader *r)
{
	return r->stop != NULL && atomic_load(r->stop);
}

static int stop_error(const struct reader *r, struct err *e)
{
	return err_set(e, EXIT_TEMPFAIL, "%s: reading stopped before the end of the input", r->name);
}

static bool deadline_passed(const struct reader *r)
{
	return r->deadline_ns != 0 && clock_mono_ns() >= r->deadline_ns;
}

/* How long a wait for a stream's next bytes may last before the stop flag
 * or the deadline must be looked at: nanoseconds, or -1 for no bound. */
static int64_t stream_wait_ns(const struct reader *r)
{
	int64_t ns = r->stop != NULL ? STOP_POLL_MS * 1000000LL : -1;
	if (r->deadline_ns != 0) {
		uint64_t now = clock_mono_ns();
		int64_t left = r->deadline_ns > now ? (int64_t)(r->deadline_ns - now) : 0;
		if (ns < 0 || left < ns)
			ns = left;
	}
	return ns;
}

/* Waits for the next completion. A pipe may stay silent for ever: its
 * wait wakes every STOP_POLL_MS to look at the stop flag, and at the
 * deadline returns READER_WAITING with its read still queued (a timed
 * wait for the completion rather than a timeout linked to the read: a
 * canceled pipe read would have to be queued again, and one that raced
 * its cancellation could have taken bytes). */
static int wait_cqe(struct reader *r, struct io_uring_cqe **cqe, struct err *e)
{
	int rc;
	do {
		rc = io_uring_submit(&r->ring);
	} while (rc == -EINTR);
	if (rc < 0)
		return err_set(e, EXIT_NOINPUT, "cannot read %s: %s", r->name, strerror(-rc));
	for (;;) {
		int64_t ns = r->regular ? -1 : stream_wait_ns(r);
		if (ns < 0) {
			rc = io_uring_wait_cqe(&r->ring, cqe);
		} else {
			struct __kernel_timespec ts = {ns / 1000000000LL, ns % 1000000000LL};
			rc = io_uring_wait_cqe_timeout(&r->ring, cqe, &ts);
		}
		if (rc == 0)
			return 0;
		if (rc != -EINTR && rc != -ETIME)
			return err_set(e, EXIT_NOINPUT, "cannot read %s: %s", r->name, strerror(-rc));
		if (stopped(r))
			return stop_error(r, e);
		if (deadline_passed(r))
			return READER_WAITING;
	}
}

/* Waits for one completion and files it. Returns -1 on a read error,
 * READER_WAITING at the deadline. */
static int reap_one(struct reader *r, struct err *e)
{
	struct io_uring_cqe *cqe;
	int rc = wait_cqe(r, &cqe, e);
	if (rc < 0)
		return rc;
	unsigned i = (unsigned)io_uring_cqe_get_data64(cqe);
	int res = cqe->res;
	io_uring_cqe_seen(&r->ring, cqe);
	ASSERT(i < READ_SLOTS);
	struct slot *s = &r->slots[i];
	r->busy--;
	if (res == -EINTR || res == -EAGAIN) {
		submit_slot(r, i);
		return 0;
	}
	if (res < 0)
		return err_set(e, EXIT_NOINPUT, "cannot read %s: %s", r->name, strerror(-res));
	s->got += (size_t)res;
	if (res == 0) {
		/* End of input: a file that shrank while read, or a pipe's writer closed. */
		s->want = s->got;
		if (r->regular)
			r->end_off = s->off + s->got;
		else
			r->raw_eof = true;
	}
	if (r->regular && s->got < s->want) {
		submit_slot(r, i); /* a short read: ask for the rest */
		return 0;
	}
	if (!r->regular && !r->started && s->got < MAGIC_BYTES && res > 0) {
		/* The first bytes of a pipe decide zstd or not; collect enough of them. */
		submit_slot(r, i);
		return 0;
	}
	s->state = SLOT_READY;
	return 0;
}

/* Plain read(2) into slot i; for a pipe's first block reads until the
 * magic fits. READER_WAITING at the deadline, nothing read. */
static int plain_fill(struct reader *r, unsigned i, struct err *e)
{
	struct slot *s = &r->slots[i];
	s->got = 0;
	s->want = READ_BUF_BYTES;
	for (;;) {
		int64_t ns = r->regular ? -1 : stream_wait_ns(r);
		if (ns >= 0) {
			struct pollfd p = {.fd = r->fd, .events = POLLIN};
			int ready = poll(&p, 1, (int)((ns + 999999) / 1000000));
			if (ready <= 0) {
				if (ready < 0 && errno != EINTR)
					return err_set(e, EXIT_NOINPUT, "cannot read %s: %s", r->name, strerror(errno));
				if (stopped(r))
					return stop_error(r, e);
				if (s->got == 0 && deadline_passed(r))
					return READER_WAITING;
				continue;
			}
		}
		ssize_t n = read(r->fd, s->buf + s->got, s->want - s->got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, EXIT_NOINPUT, "cannot read %s: %s", r->name, strerror(errno));
		s->got += (size_t)n;
		if (n == 0) {
			r->raw_eof = true;
			break;
		}
		if (r->started || s->got >= MAGIC_BYTES)
			break;
	}
	s->state = SLOT_READY;
	return 0;
}

/* The next raw block in input order: > 0 bytes, 0 at end, -1 on error. The
 * previous block goes back to the pool (and into a new read) first. */
static long raw_next(struct reader *r, const char **data, struct err *e)
{
	if (r->held >= 0) {
		r->slots[r->held].state = SLOT_FREE;
		r->held = -1;
	}
	for (;;) {
		unsigned i = r->next_deliver;
		struct slot *s = &r->slots[i];
		if (r->plain) {
			if (r->raw_eof)
				return 0;
			int rc = plain_fill(r, i, e);
			if (rc < 0)
				return rc;
		} else if (r->regular) {
			submit_regular(r);
			if (s->state == SLOT_FREE)
				return 0; /* nothing left to ask for and nothing pending */
			while (s->state == SLOT_BUSY)
				if (reap_one(r, e) < 0)
					return -1;
		} else {
			if (s->state == SLOT_FREE) {
				if (r->raw_eof)
					return 0;
				s->got = 0;
				s->want = READ_BUF_BYTES;
				submit_slot(r, i);
			}
			while (s->state == SLOT_BUSY) {
				/* At the deadline the read stays queued in s. */
				int rc = reap_one(r, e);
				if (rc < 0)
					return rc;
			}
			/* Keep one read of the pipe going while this block is used:
			 * one at a time, since parallel pipe reads have no order. */
			unsigned nx = (i + 1) % READ_SLOTS;
			if (!r->raw_eof && r->slots[nx].state == SLOT_FREE) {
				r->slots[nx].got = 0;
				r->slots[nx].want = READ_BUF_BYTES;
				submit_slot(r, nx);
				io_uring_submit(&r->ring);
			}
		}
		r->started = true;
		r->next_deliver = (i + 1) % READ_SLOTS;
		if (s->got == 0) {
			s->state = SLOT_FREE;
			if (!r->regular || r->plain)
				return 0;
			continue; /* a file that shrank: later slots come back empty too */
		}
		s->state = SLOT_HELD;
		r->held = (int)i;
		r->bytes_read += s->got;
		if (r->regular && !r->plain) {
			submit_regular(r);
			io_uring_submit(&r->ring);
		}
		*data = s->buf;
		return (long)s->got;
	}
}

/* Puts the input's name in front of a decoder's message. Returns -1. */
static int name_error(struct reader *r, struct err *e)
{
	if (e == NULL)
		return -1;
	char msg[ERR_MSG_BYTES];
	memcpy(msg, e->msg, sizeof msg);
	msg[sizeof msg - 1] = '\0';
	return err_set(e, e->code, "%s: %s", r->name, msg);
}

/* Decodes zstd into the output buffer until it is full or the input ends. */
static long zstd_next(struct reader *r, const char **data, struct err *e)
{
	size_t out_pos = 0;
	for (;;) {
		if (r->zin_pos < r->zin_len || out_pos == 0) {
			/* With no input left this flushes what the decoder still holds. */
			if (zstd_stream_decode(r->z, r->zin, r->zin_len, &r->zin_pos, r->zout, READ_BUF_BYTES, &out_pos,
					       e) < 0)
				return name_error(r, e);
			if (out_pos == READ_BUF_BYTES)
				break;
		}
		if (r->zin_pos < r->zin_len)
			continue;
		if (out_pos > 0)
			break;
		if (r->zin_eof) {
			if (zstd_stream_end(r->z, e) < 0)
				return name_error(r, e);
			return 0;
		}
		long n = raw_next(r, &r->zin, e);
		if (n < 0)
			return n; /* an error, or READER_WAITING with all input decoded */
		r->zin_len = (size_t)n;
		r->zin_pos = 0;
		if (n == 0)
			r->zin_eof = true;
	}
	*data = r->zout;
	return (long)out_pos;
}

long reader_next(struct reader *r, const char **data, struct err *e)
{
	if (r->zkind == ZSTD_UNKNOWN) {
		/* A pipe: its first block tells. */
		long n = raw_next(r, data, e);
		if (n == READER_WAITING)
			return n;
		if (n <= 0) {
			r->zkind = ZSTD_NO;
			return n;
		}
		if (!zstd_stream_detect(*data, (size_t)n)) {
			r->zkind = ZSTD_NO;
			return n;
		}
		r->zkind = ZSTD_YES;
		r->z = zstd_stream_create();
		if (r->z == NULL)
			return err_set(e, EXIT_SOFTWARE, "out of memory reading %s", r->name);
		r->zin = *data;
		r->zin_len = (size_t)n;
		r->zin_pos = 0;
	}
	if (r->zkind == ZSTD_NO)
		return raw_next(r, data, e);
	if (r->zout == NULL && (r->zout = malloc(READ_BUF_BYTES)) == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory reading %s", r->name);
	r->started = true;
	return zstd_next(r, data, e);
}

long reader_next_until(struct reader *r, const char **data, uint64_t deadline_ns, struct err *e)
{
	/* The first block is waited for: it may be only the first bytes of
	 * what decides zstd. */
	r->deadline_ns = r->started && !r->regular ? deadline_ns : 0;
	long n = reader_next(r, data, e);
	r->deadline_ns = 0;
	return n;
}

bool reader_is_stream(const struct reader *r)
{
	return !r->regular;
}

void reader_close(struct reader *r)
{
	if (r == NULL)
		return;
	if (r->ring_up) {
		/* Reads still in flight write into the pool: cancel them (a pipe's
		 * read may never finish by itself) and wait until each one is done
		 * before the pool is freed. */
		bool cancel_pending = false;
		if (r->busy > 0) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
			if (sqe != NULL) {
				io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
				io_uring_sqe_set_data64(sqe, CANCEL_TAG);
				cancel_pending = io_uring_submit(&r->ring) == 1;
			}
		}
		while (r->busy > 0 || cancel_pending) {
			struct io_uring_cqe *cqe;
			int rc = io_uring_wait_cqe(&r->ring, &cqe);
			if (rc == -EINTR)
				continue;
			if (rc < 0)
				break;
			if (io_uring_cqe_get_data64(cqe) == CANCEL_TAG)
				cancel_pending = false;
			else
				r->busy--;
			io_uring_cqe_seen(&r->ring, cqe);
		}
		io_uring_queue_exit(&r->ring);
	}
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	zstd_stream_free(r->z);
	free(r->zout);
	free(r->pool);
	free(r->name);
	free(r);
}
