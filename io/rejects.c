/* rejects.c - the rejects file: NDJSON lines from all workers, serialised by a mutex and buffered. */
#include "rejects.h"

#include "../core/buf.h"
#include "../core/escape.h"
#include "../core/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Lines are collected and written in blocks of about this size: rejects are
 * rare enough that one write per line would be fine, but a file of bad input
 * can reject every record, and then a block write keeps up with the loader. */
#define REJECTS_FLUSH_BYTES ((size_t)64 << 10)

struct rejects {
	pthread_mutex_t lock;
	int fd; /* -1: write nothing */
	char *path;
	struct buf out;
	int write_errno; /* first failed write, reported by close */
};

/* Appends "..." with RFC 8259 escaping. Bytes that are not valid UTF-8 are
 * written as \u00XX of the byte value, so the line stays valid JSON; returns
 * whether any were. */
static bool json_put_checked(struct buf *out, const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)p;
	bool invalid = false;
	/* Worst case six output bytes per input byte, plus the quotes. */
	buf_reserve(out, 6 * len + 2);
	char *o = out->data + out->len;
	*o++ = '"';
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
			i++;
			continue;
		}
		size_t l = c < 0x20 ? 0 : escape_utf8_len(s + i, len - i);
		if (l > 0) {
			memcpy(o, s + i, l);
			o += l;
			i += l;
			continue;
		}
		if (c >= 0x80)
			invalid = true;
		memcpy(o, "\\u00", 4);
		o[4] = hex[c >> 4];
		o[5] = hex[c & 15];
		o += 6;
		i++;
	}
	*o++ = '"';
	out->len = (size_t)(o - out->data);
	return invalid;
}

void json_put_string(struct buf *out, const char *p, size_t len)
{
	json_put_checked(out, p, len);
}

static void json_put_u64(struct buf *out, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
	buf_put(out, tmp, (size_t)n);
}

static void json_put_key(struct buf *out, const char *key)
{
	buf_putc(out, ',');
	buf_putc(out, '"');
	buf_put(out, key, strlen(key));
	buf_put(out, "\":", 2);
}

/* A regular file that does not end in a newline ends in a line cut short:
 * truncate it after its last newline. fd is the file open for reading and
 * appending. Returns 0 or -1 (errno). */
static int drop_torn_line(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;
	char tail[4096];
	off_t end = st.st_size;
	while (end > 0) {
		size_t n = end < (off_t)sizeof tail ? (size_t)end : sizeof tail;
		ssize_t got = pread(fd, tail, n, end - (off_t)n);
		if (got != (ssize_t)n) {
			if (got >= 0)
				errno = EIO;
			return -1;
		}
		if (end == st.st_size && tail[n - 1] == '\n')
			return 0;
		const char *nl = memrchr(tail, '\n', n);
		if (nl != NULL) {
			end = end - (off_t)n + (nl - tail) + 1;
			break;
		}
		end -= (off_t)n;
	}
	return ftruncate(fd, end);
}

/* Opens the rejects file once: a regular file (or a new one, created 0600:
 * it holds raw records) for reading and appending, anything else that
 * stands there (a device, a FIFO) for writing only; never through a
 * symbolic link. -1 with e. */
static int rejects_open_fd(const char *path, struct err *e)
{
	struct stat st;
	bool special = lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode);
	int flags = special ? O_WRONLY | O_APPEND : O_RDWR | O_APPEND | O_CREAT;
	int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0 && errno == ELOOP)
		return err_set(
		    e, EXIT_CONFIG,
		    "the rejects file %s is a symbolic link: refused (rejects hold raw records; name the file "
		    "itself)",
		    path);
	if (fd < 0)
		return err_set(e, EXIT_CONFIG, "cannot open the rejects file %s: %s", path, strerror(errno));
	return fd;
}

struct rejects *rejects_open(const char *path, struct err *e)
{
	struct rejects *r = calloc(1, sizeof *r);
	if (r == NULL) {
		err_set(e, EXIT_SOFTWARE, "out of memory");
		return NULL;
	}
	r->fd = -1;
	if (path != NULL) {
		r->path = strdup(path);
		if (r->path == NULL) {
			free(r);
			err_set(e, EXIT_SOFTWARE, "out of memory");
			return NULL;
		}
		r->fd = rejects_open_fd(path, e);
		if (r->fd < 0) {
			free(r->path);
			free(r);
			return NULL;
		}
		if (drop_torn_line(r->fd) < 0) {
			err_set(e, EXIT_CONFIG, "cannot repair the rejects file %s: %s", path, strerror(errno));
			close(r->fd);
			free(r->path);
			free(r);
			return NULL;
		}
		if (buf_init(&r->out, 2 * REJECTS_FLUSH_BYTES) < 0) {
			close(r->fd);
			free(r->path);
			free(r);
			err_set(e, EXIT_SOFTWARE, "out of memory");
			return NULL;
		}
	}
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

/* Writes the buffer out; called with the lock held. Keeps the first error. */
static int rejects_flush_locked(struct rejects *r)
{
	size_t off = 0;
	while (off < r->out.len) {
		ssize_t n = write(r->fd, r->out.data + off, r->out.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (r->write_errno == 0)
				r->write_errno = errno;
			r->out.len = 0;
			return -1;
		}
		off += (size_t)n;
	}
	r->out.len = 0;
	return 0;
}

/* The length p[0..len) is written with when at most max bytes may be: cut at
 * a character boundary, so a cut multi-byte character does not look like
 * invalid input. */
static size_t reject_cut(const char *p, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	for (int k = 0; k < 3 && n > 0; k++) {
		unsigned char c = (unsigned char)p[n];
		if ((c & 0xc0) != 0x80)
			break;
		n--;
	}
	return n;
}

int rejects_write(struct rejects *r, const struct reject *rej, struct err *e)
{
	if (r->fd < 0)
		return 0;
	size_t raw_len_in = rej->raw ? rej->raw_len : 0;
	size_t raw_len = reject_cut(rej->raw, raw_len_in, REJECT_RAW_BYTES_MAX);
	size_t header_len = rej->header ? reject_cut(rej->header, rej->header_len, REJECT_HEADER_BYTES_MAX) : 0;
	const char *msg = rej->message ? rej->message : "";

	pthread_mutex_lock(&r->lock);
	struct buf *o = &r->out;
	buf_put(o, "{\"source\":", 10);
	if (rej->source)
		json_put_checked(o, rej->source, strlen(rej->source));
	else
		buf_put(o, "null", 4);
	json_put_key(o, "record");
	json_put_u64(o, rej->record);
	json_put_key(o, "line");
	json_put_u64(o, rej->line);
	json_put_key(o, "byte_offset");
	json_put_u64(o, rej->byte_offset);
	if (rej->column) {
		json_put_key(o, "column");
		json_put_checked(o, rej->column, strlen(rej->column));
	}
	if (rej->sqlstate) {
		json_put_key(o, "sqlstate");
		json_put_checked(o, rej->sqlstate, strlen(rej->sqlstate));
	}
	json_put_key(o, "message");
	json_put_checked(o, msg, strlen(msg));
	json_put_key(o, "raw");
	bool invalid = json_put_checked(o, rej->raw ? rej->raw : "", raw_len);
	if (invalid)
		buf_put(o, ",\"raw_invalid_utf8\":true", 24);
	if (raw_len < raw_len_in)
		buf_put(o, ",\"raw_truncated\":true", 21);
	/* Last, so that the keys before it keep their places for readers that
	 * predate it. The header is repeated on every line: a line stands on
	 * its own however workers and sources interleave, and headers are short
	 * next to the records of a file that is rejected whole. */
	if (rej->header) {
		json_put_key(o, "header");
		if (json_put_checked(o, rej->header, header_len))
			buf_put(o, ",\"header_invalid_utf8\":true", 27);
		if (header_len < rej->header_len)
			buf_put(o, ",\"header_truncated\":true", 24);
	}
	buf_put(o, "}\n", 2);
	int rc = 0;
	if (o->len >= REJECTS_FLUSH_BYTES)
		rc = rejects_flush_locked(r);
	int err_no = r->write_errno;
	pthread_mutex_unlock(&r->lock);
	if (rc < 0)
		return err_set(e, EXIT_SOFTWARE, "cannot write the rejects file %s: %s", r->path, strerror(err_no));
	return 0;
}

int rejects_close(struct rejects *r, struct err *e)
{
	if (r == NULL)
		return 0;
	int rc = 0;
	if (r->fd >= 0) {
		pthread_mutex_lock(&r->lock);
		rejects_flush_locked(r);
		pthread_mutex_unlock(&r->lock);
		if (close(r->fd) < 0 && r->write_errno == 0)
			r->write_errno = errno;
		if (r->write_errno != 0)
			rc = err_set(e, EXIT_SOFTWARE, "cannot write the rejects file %s: %s", r->path,
				     strerror(r->write_errno));
		buf_free(&r->out);
	}
	pthread_mutex_destroy(&r->lock);
	free(r->path);
	free(r);
	return rc;
}

bool rejects_enabled(const struct rejects *r)
{
	return r != NULL && r->fd >= 0;
}

int rejects_sync(struct rejects *r, struct err *e)
{
	if (!rejects_enabled(r))
		return 0;
	pthread_mutex_lock(&r->lock);
	rejects_flush_locked(r);
	if (r->write_errno == 0 && fdatasync(r->fd) < 0 && errno != EINVAL && errno != EROFS)
		r->write_errno = errno;
	int err_no = r->write_errno;
	pthread_mutex_unlock(&r->lock);
	if (err_no != 0)
		return err_set(e, EXIT_TEMPFAIL, "cannot write the rejects file %s: %s", r->path, strerror(err_no));
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int rejects_recorded(const struct rejects *r, const char *source, uint64_t **records, size_t *n, struct err *e)
{
	*records = NULL;
	*n = 0;
	if (!rejects_enabled(r))
		return 0;
	struct stat st;
	if (fstat(r->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;
	/* Lines start {"source":<source as written>,"record":N (rejects_write). */
	struct buf prefix;
	if (buf_init(&prefix, 64) < 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	buf_put(&prefix, "{\"source\":", 10);
	json_put_checked(&prefix, source, strlen(source));
	buf_put(&prefix, ",\"record\":", 10);
	/* Read through the descriptor the lines are appended to (its own
	 * offset: appends go to the end whatever it is). */
	int rfd = dup(r->fd);
	FILE *f = rfd >= 0 && lseek(rfd, 0, SEEK_SET) == 0 ? fdopen(rfd, "r") : NULL;
	if (f == NULL) {
		if (rfd >= 0)
			close(rfd);
		buf_free(&prefix);
		return err_set(e, EXIT_CONFIG, "cannot read the rejects file %s: %s", r->path, strerror(errno));
	}
	size_t cap = 0;
	int rc = 0;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t len;
	while ((len = getline(&line, &line_cap, f)) > 0) {
		if ((size_t)len <= prefix.len || memcmp(line, prefix.data, prefix.len) != 0)
			continue;
		uint64_t rec = strtoull(line + prefix.len, NULL, 10);
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			uint64_t *p = realloc(*records, cap * sizeof *p);
			if (p == NULL) {
				rc = err_set(e, EXIT_SOFTWARE, "out of memory");
				break;
			}
			*records = p;
		}
		(*records)[(*n)++] = rec;
	}
	if (rc == 0 && ferror(f))
		rc = err_set(e, EXIT_CONFIG, "cannot read the rejects file %s: %s", r->path, strerror(errno));
	free(line);
	fclose(f);
	buf_free(&prefix);
	if (rc < 0) {
		free(*records);
		*records = NULL;
		*n = 0;
		return -1;
	}
	if (*n > 1)
		qsort(*records, *n, sizeof **records, cmp_u64);
	return 0;
}
