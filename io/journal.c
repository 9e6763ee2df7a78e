/* journal.c - append-only, checksummed, fdatasync'ed journal of invalidation key lists, replayed at start-up and compacted by rewrite. */
#include "journal.h"

#include "crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* On-disk record, little-endian:
 *   u32 crc32c of bytes [4, 24 + len)
 *   u8  type (REC_HEADER, REC_ENTRY, REC_DONE), u8[3] zero
 *   u32 len     payload bytes
 *   u32 nkeys   keys in the payload (entries)
 *   u64 id      entry id; for the header, the next id to hand out
 *   payload     header: the target string; entry: key list; done: empty
 * The file is a header record followed by entry and done records. A record
 * that runs past the end of the file is a write that a crash cut short (every
 * entry is synced before its chunk commits, so its chunk did not commit):
 * it is dropped. Anything else that does not read back (a checksum that
 * fails on a whole record, a header that makes no sense, bytes after them)
 * is damage: the file is kept aside, the damage reported, and the records
 * that still read back are kept. */
#define REC_HEAD_BYTES 24u
enum {
	REC_HEADER = 1,
	REC_ENTRY = 2,
	REC_DONE = 3,
};
/* A target string longer than this is the caller's mistake. */
#define TARGET_BYTES_MAX 4096u

/* A pending entry: appended, not done. */
struct jentry {
	uint64_t id;
	uint64_t off; /* of the record head */
	uint32_t len;
	uint32_t nkeys;
};

struct journal {
	pthread_mutex_t mu;
	/* One fdatasync at a time, outside mu: writers go on while the disk
	 * flushes, and a worker whose entry another's sync covered skips its
	 * own (group commit). */
	pthread_mutex_t sync_mu;
	bool syncing;    /* a sync is in flight on fd: no rewrite may swap it */
	uint64_t synced; /* bytes of the file known durable */
	int fd;
	int lock_fd;
	int dir_fd;
	bool broken; /* an fdatasync failed: no append can be trusted any more */
	/* Found by the open's scan: entries whose checksum failed, bytes that
	 * did not read back, and the copy of the damaged file kept aside. */
	uint64_t damaged_entries, damaged_bytes;
	char aside[PATH_MAX];
	char *target;
	char path[PATH_MAX];
	char tmp_path[PATH_MAX];
	char lock_path[PATH_MAX];
	uint64_t end; /* file size: where the next record goes */
	uint64_t next_id;
	uint64_t compact_at; /* compact when end passes this */
	size_t compact_bytes;
	struct jentry *pend; /* sorted by id */
	size_t npend, cappend;
	uint64_t pend_keys;
	uint64_t pend_bytes;
	struct buf io; /* scratch for reads and the header */
};

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* Fills head and returns the record's checksum (the payload included). */
static void rec_head(unsigned char head[REC_HEAD_BYTES], int type, uint64_t id, uint32_t nkeys, const void *payload,
		     uint32_t len)
{
	memset(head, 0, REC_HEAD_BYTES);
	head[4] = (unsigned char)type;
	put_le32(head + 8, len);
	put_le32(head + 12, nkeys);
	put_le64(head + 16, id);
	uint32_t crc = crc32c(0, head + 4, REC_HEAD_BYTES - 4);
	crc = crc32c(crc, payload, len);
	put_le32(head, crc);
}

/* ------------------------------------------------------------------ file I/O */

static int write_all_at(int fd, const struct iovec *iov_in, int n, uint64_t off)
{
	struct iovec iov[2];
	ASSERT(n <= 2);
	memcpy(iov, iov_in, sizeof iov[0] * (size_t)n);
	int i = 0;
	while (i < n) {
		ssize_t w = pwritev(fd, iov + i, n - i, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (uint64_t)w;
		while (i < n && (size_t)w >= iov[i].iov_len) {
			w -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < n) {
			iov[i].iov_base = (char *)iov[i].iov_base + w;
			iov[i].iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Reads exactly n bytes at off; 0, or -1 (errno set; 0 at end of file). */
static int read_all_at(int fd, void *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return -1;
		}
		p = (char *)p + r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int write_record(int fd, uint64_t off, int type, uint64_t id, uint32_t nkeys, const void *payload, uint32_t len)
{
	unsigned char head[REC_HEAD_BYTES];
	rec_head(head, type, id, nkeys, payload, len);
	struct iovec iov[2] = {{head, REC_HEAD_BYTES}, {(void *)payload, len}};
	return write_all_at(fd, iov, len ? 2 : 1, off);
}

/* ------------------------------------------------------------------ pending table */

static int pend_push(struct journal *j, struct jentry en)
{
	if (j->npend == j->cappend) {
		size_t cap = j->cappend ? 2 * j->cappend : 64;
		struct jentry *p = realloc(j->pend, cap * sizeof *p);
		if (p == NULL)
			return -1;
		j->pend = p;
		j->cappend = cap;
	}
	/* Ids only grow, so appending keeps the table sorted. */
	ASSERT(j->npend == 0 || j->pend[j->npend - 1].id < en.id);
	j->pend[j->npend++] = en;
	j->pend_keys += en.nkeys;
	j->pend_bytes += REC_HEAD_BYTES + en.len;
	return 0;
}

static ssize_t pend_find(const struct journal *j, uint64_t id)
{
	size_t lo = 0, hi = j->npend;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (j->pend[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < j->npend && j->pend[lo].id == id ? (ssize_t)lo : -1;
}

/* O(pending): fine, since pending entries are the chunks in flight plus
 * whatever piled up while Redis was down. */
static void pend_remove(struct journal *j, size_t i)
{
	j->pend_keys -= j->pend[i].nkeys;
	j->pend_bytes -= REC_HEAD_BYTES + j->pend[i].len;
	memmove(j->pend + i, j->pend + i + 1, (j->npend - i - 1) * sizeof *j->pend);
	j->npend--;
}

/* ------------------------------------------------------------------ open */

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* dir/journal-<h in hex>.ext, the name of a target's journal (log), its
 * rewrite (tmp) and its lock file, into out; false when it does not fit. */
static bool journal_file(char *out, size_t outsz, const char *dir, uint64_t h, const char *ext)
{
	int n = snprintf(out, outsz, "%s/journal-%016llx.%s", dir, (unsigned long long)h, ext);
	return n > 0 && (size_t)n < outsz;
}

/* read_all_at failed: an error (-2), or the end of the file (0). */
static int read_failed(struct journal *j, struct err *e)
{
	if (errno == 0)
		return 0;
	err_set(e, EXIT_TEMPFAIL, "reading %s: %s", j->path, strerror(errno));
	return -2;
}

/* One record read back at off. 1: good (type, id, len set; payload in
 * j->io), 0: the end (or a record a crash cut short), -1: damaged (a whole
 * record whose checksum fails: *len says how far to skip; or *len 0: the
 * rest of the file cannot be read as records), -2: a read error (e set). */
static int read_record(struct journal *j, uint64_t off, uint64_t size, int *type, uint64_t *id, uint32_t *len,
		       uint32_t *nkeys, struct err *e)
{
	unsigned char head[REC_HEAD_BYTES];
	*len = 0;
	if (off >= size)
		return 0;
	if (size - off < REC_HEAD_BYTES)
		return 0; /* a head cut short */
	if (read_all_at(j->fd, head, REC_HEAD_BYTES, off) != 0)
		return read_failed(j, e);
	uint32_t n = get_le32(head + 8);
	*type = head[4];
	if (n > JOURNAL_ENTRY_BYTES_MAX || *type < REC_HEADER || *type > REC_DONE)
		return -1;
	if (size - off - REC_HEAD_BYTES < n)
		return 0; /* a payload cut short */
	buf_reserve(&j->io, n);
	if (read_all_at(j->fd, j->io.data, n, off + REC_HEAD_BYTES) != 0)
		return read_failed(j, e);
	uint32_t crc = crc32c(0, head + 4, REC_HEAD_BYTES - 4);
	crc = crc32c(crc, j->io.data, n);
	*len = n;
	if (crc != get_le32(head))
		return -1;
	*id = get_le64(head + 16);
	*nkeys = get_le32(head + 12);
	return 1;
}

/* Takes one good record into the table of pending entries. */
static int scan_record(struct journal *j, int type, uint64_t id, uint64_t off, uint32_t len, uint32_t nkeys,
		       uint64_t *max_id, struct err *e)
{
	if (type == REC_ENTRY) {
		if (id > *max_id)
			*max_id = id;
		/* A replayed id appearing twice cannot happen; keep the table sorted anyway. */
		if (j->npend == 0 || j->pend[j->npend - 1].id < id) {
			struct jentry en = {.id = id, .off = off, .len = len, .nkeys = nkeys};
			if (pend_push(j, en) != 0)
				return err_set(e, EXIT_SOFTWARE, "out of memory");
		}
	} else if (type == REC_DONE) {
		ssize_t i = pend_find(j, id);
		if (i >= 0)
			pend_remove(j, (size_t)i);
	}
	return 0;
}

/* Reads the file: the header, then records to the end. A whole record whose
 * checksum fails is counted and passed over; bytes that cannot be read as
 * records end the scan and are counted (see the format above). Sets j->end
 * to the end of the last good record. */
static int scan(struct journal *j, struct err *e)
{
	struct stat st;
	if (fstat(j->fd, &st) != 0)
		return err_set(e, EXIT_TEMPFAIL, "stat %s: %s", j->path, strerror(errno));
	uint64_t size = (uint64_t)st.st_size, off = 0, good_end = 0, max_id = 0;
	bool have_header = false;
	for (;;) {
		int type = 0;
		uint64_t id = 0;
		uint32_t len = 0, nkeys = 0;
		int rc = read_record(j, off, size, &type, &id, &len, &nkeys, e);
		if (rc == -2)
			return -1;
		if (rc == 0)
			break;
		if (rc == -1 || (type == REC_HEADER) != !have_header) {
			if (rc == -1 && len > 0 && have_header) {
				j->damaged_entries++; /* a whole record: pass over it */
				j->damaged_bytes += REC_HEAD_BYTES + len;
				off += REC_HEAD_BYTES + len;
				continue;
			}
			j->damaged_bytes += size - off;
			break;
		}
		if (type == REC_HEADER) {
			if (len != strlen(j->target) || memcmp(j->io.data, j->target, len) != 0)
				return err_set(e, EXIT_CONFIG, "journal %s belongs to another target (\"%.*s\")",
					       j->path, (int)(len > 200 ? 200 : len), j->io.data);
			have_header = true;
			if (id > max_id)
				max_id = id - 1;
		} else if (scan_record(j, type, id, off, len, nkeys, &max_id, e) != 0) {
			return -1;
		}
		off += REC_HEAD_BYTES + len;
		good_end = off;
	}
	j->end = have_header ? good_end : 0;
	j->synced = j->end; /* what a crash left in the file is on disk as far as it can be */
	j->next_id = max_id + 1;
	return 0;
}

/* A damaged journal is kept aside, as it was, for inspection: a hard link
 * to the file that the rewrite then replaces. */
static int keep_aside(struct journal *j, struct err *e)
{
	int base = (int)(strlen(j->path) - 4); /* less ".log" */
	long long now = (long long)time(NULL);
	for (int k = 0; k < 1000; k++) {
		if (k == 0)
			snprintf(j->aside, sizeof j->aside, "%.*s.damaged-%lld", base, j->path, now);
		else
			snprintf(j->aside, sizeof j->aside, "%.*s.damaged-%lld.%d", base, j->path, now, k);
		if (link(j->path, j->aside) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	return err_set(e, EXIT_TEMPFAIL, "cannot keep the damaged journal aside as %s: %s", j->aside, strerror(errno));
}

bool journal_damage(const struct journal *j, uint64_t *entries, uint64_t *bytes, const char **aside)
{
	*entries = j->damaged_entries;
	*bytes = j->damaged_bytes;
	*aside = j->aside;
	return j->damaged_bytes > 0;
}

/* Writes a fresh file holding the header and the pending entries, syncs it
 * and renames it over the journal. Caller holds the mutex (or is opening). */
static int rewrite(struct journal *j, struct err *e)
{
	int fd = open(j->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, EXIT_TEMPFAIL, "cannot create %s: %s", j->tmp_path, strerror(errno));
	uint32_t tlen = (uint32_t)strlen(j->target);
	uint64_t off = 0;
	if (write_record(fd, off, REC_HEADER, j->next_id, 0, j->target, tlen) != 0)
		goto fail;
	off += REC_HEAD_BYTES + tlen;
	uint64_t *newoff = NULL;
	if (j->npend > 0 && (newoff = malloc(j->npend * sizeof *newoff)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < j->npend; i++) {
		/* Copy the record as it is: its checksum still holds. */
		size_t n = REC_HEAD_BYTES + j->pend[i].len;
		buf_reserve(&j->io, n);
		struct iovec iov = {j->io.data, n};
		if (read_all_at(j->fd, j->io.data, n, j->pend[i].off) != 0 || write_all_at(fd, &iov, 1, off) != 0) {
			if (errno == 0)
				errno = EIO;
			free(newoff);
			goto fail;
		}
		newoff[i] = off;
		off += n;
	}
	if (fsync(fd) != 0 || rename(j->tmp_path, j->path) != 0) {
		free(newoff);
		goto fail;
	}
	/* From here the new file is the journal; a failed directory fsync only
	 * risks the old file reappearing after a crash, which replays more. */
	(void)fsync(j->dir_fd);
	for (size_t i = 0; i < j->npend; i++)
		j->pend[i].off = newoff[i];
	free(newoff);
	if (j->fd >= 0)
		close(j->fd);
	j->fd = fd;
	j->end = off;
	j->synced = off; /* the new file was fsynced whole */
	j->compact_at = 2 * off > j->compact_bytes ? 2 * off : j->compact_bytes;
	return 0;
fail:;
	int saved = errno;
	close(fd);
	unlink(j->tmp_path);
	return err_set(e, EXIT_TEMPFAIL, "cannot rewrite %s: %s", j->path, strerror(saved));
}

/* Takes the journal's lock (one process per target), on a file of its own:
 * compaction replaces the journal file, and a lock on a replaced inode would
 * no longer exclude anyone. The pid written there is for messages only. */
static int lock_journal(struct journal *j, struct err *e)
{
	const char *lock_path = j->lock_path;
	j->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lock_fd < 0)
		return err_set(e, EXIT_CONFIG,
			       "cannot create %s: %s (is the state directory writable? see --state-dir)", lock_path,
			       strerror(errno));
	if (flock(j->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int err = errno;
		char pid[32] = "";
		ssize_t r = pread(j->lock_fd, pid, sizeof pid - 1, 0);
		if (r > 0)
			pid[strcspn(pid, "\n")] = '\0';
		if (err == EWOULDBLOCK)
			return err_set(e, EXIT_TEMPFAIL, "another edonu-ingest process (pid %s) holds the journal %s",
				       pid[0] ? pid : "unknown", lock_path);
		return err_set(e, EXIT_CONFIG, "cannot lock %s: %s", lock_path, strerror(err));
	}
	/* Failing to write the pid is harmless. */
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(j->lock_fd, 0) != 0 || pwrite(j->lock_fd, pid, (size_t)n, 0) != n)
		(void)0;
	return 0;
}

int journal_open(const char *dir, const char *target, struct journal **out, struct err *e)
{
	if (strlen(target) > TARGET_BYTES_MAX)
		return err_set(e, EXIT_SOFTWARE, "journal target string too long");
	struct journal *j = calloc(1, sizeof *j);
	if (j == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	j->fd = j->lock_fd = j->dir_fd = -1;
	j->compact_bytes = JOURNAL_COMPACT_BYTES;
	pthread_mutex_init(&j->mu, NULL);
	pthread_mutex_init(&j->sync_mu, NULL);
	j->target = strdup(target);
	if (j->target == NULL || buf_init(&j->io, 64 << 10) != 0) {
		journal_close(j);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	uint64_t h = fnv1a64(target);
	if (!journal_file(j->path, sizeof j->path, dir, h, "log") ||
	    !journal_file(j->tmp_path, sizeof j->tmp_path, dir, h, "tmp") ||
	    !journal_file(j->lock_path, sizeof j->lock_path, dir, h, "lock")) {
		journal_close(j);
		return err_set(e, EXIT_CONFIG, "state directory path too long: %s", dir);
	}
	j->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dir_fd < 0) {
		int err = errno;
		journal_close(j);
		return err_set(e, EXIT_CONFIG, "state directory %s: %s", dir, strerror(err));
	}
	if (lock_journal(j, e) != 0) {
		journal_close(j);
		return -1;
	}
	bool created = false;
	j->fd = open(j->path, O_RDWR | O_CLOEXEC);
	if (j->fd < 0 && errno == ENOENT) {
		j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		created = true;
	}
	if (j->fd < 0) {
		int err = errno;
		journal_close(j);
		return err_set(e, EXIT_CONFIG, "cannot open %s: %s", j->path, strerror(err));
	}
	if (scan(j, e) != 0 || (j->damaged_bytes > 0 && keep_aside(j, e) != 0)) {
		journal_close(j);
		return -1;
	}
	j->compact_at = j->compact_bytes;
	struct stat st;
	if (fstat(j->fd, &st) != 0) {
		int err = errno;
		journal_close(j);
		return err_set(e, EXIT_TEMPFAIL, "stat %s: %s", j->path, strerror(err));
	}
	/* Rewrite when there is nothing to keep (new file, all done), when the
	 * tail is torn (so new records are not written behind garbage), or when
	 * the file is past the bound. */
	if (created || j->end == 0 || j->npend == 0 || (uint64_t)st.st_size != j->end || j->end > j->compact_at ||
	    j->damaged_bytes > 0) {
		if (rewrite(j, e) != 0) {
			journal_close(j);
			return -1;
		}
	}
	*out = j;
	return 0;
}

void journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->fd >= 0)
		close(j->fd);
	if (j->lock_fd >= 0)
		close(j->lock_fd); /* releases the flock */
	if (j->dir_fd >= 0)
		close(j->dir_fd);
	pthread_mutex_destroy(&j->mu);
	pthread_mutex_destroy(&j->sync_mu);
	free(j->pend);
	free(j->target);
	buf_free(&j->io);
	free(j);
}

int journal_remove(struct journal *j, struct err *e)
{
	int rc = 0;
	/* The lock goes last, so that no other process takes the journal
	 * between the two. */
	if (unlink(j->path) != 0 && errno != ENOENT)
		rc = err_set(e, EXIT_TEMPFAIL, "cannot remove %s: %s", j->path, strerror(errno));
	else if (unlink(j->lock_path) != 0 && errno != ENOENT)
		rc = err_set(e, EXIT_TEMPFAIL, "cannot remove %s: %s", j->lock_path, strerror(errno));
	journal_close(j);
	return rc;
}

/* ------------------------------------------------------------------ append, done, replay */

int64_t journal_write(struct journal *j, const void *keys, size_t len, uint32_t nkeys, struct err *e)
{
	if (len > JOURNAL_ENTRY_BYTES_MAX)
		return err_set(e, EXIT_SOFTWARE, "journal entry of %zu bytes is too large", len);
	pthread_mutex_lock(&j->mu);
	if (j->broken) {
		pthread_mutex_unlock(&j->mu);
		return err_set(e, EXIT_TEMPFAIL, "journal %s failed to sync earlier; refusing to append", j->path);
	}
	uint64_t id = j->next_id;
	uint64_t off = j->end;
	if (write_record(j->fd, off, REC_ENTRY, id, nkeys, keys, (uint32_t)len) != 0) {
		int err = errno;
		/* Cut the partial record so the next append does not land behind it. */
		if (ftruncate(j->fd, (off_t)off) != 0)
			j->broken = true;
		pthread_mutex_unlock(&j->mu);
		return err_set(e, EXIT_TEMPFAIL, "writing %s: %s", j->path, strerror(err));
	}
	/* Start the disk write now, so that journal_sync finds it done: an
	 * entry is written while its chunk's COPY runs and synced just before
	 * its COMMIT. */
	sync_file_range(j->fd, (off_t)off, (off_t)(REC_HEAD_BYTES + len), SYNC_FILE_RANGE_WRITE);
	j->end = off + REC_HEAD_BYTES + len;
	j->next_id++;
	struct jentry en = {.id = id, .off = off, .len = (uint32_t)len, .nkeys = nkeys};
	if (pend_push(j, en) != 0) {
		/* The entry is in the file and will be replayed on the next run;
		 * only the in-memory accounting is short. */
		pthread_mutex_unlock(&j->mu);
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	}
	if (j->end > j->compact_at && !j->syncing) {
		struct err ce;
		/* A failed compaction leaves the old file intact: try again later. */
		if (rewrite(j, &ce) != 0)
			j->compact_at = 2 * j->end;
	}
	pthread_mutex_unlock(&j->mu);
	return (int64_t)id;
}

int journal_sync(struct journal *j, struct err *e)
{
	pthread_mutex_lock(&j->mu);
	bool broken = j->broken;
	uint64_t want = j->end;
	pthread_mutex_unlock(&j->mu);
	if (broken)
		return err_set(e, EXIT_TEMPFAIL, "journal %s failed to sync earlier", j->path);
	pthread_mutex_lock(&j->sync_mu);
	pthread_mutex_lock(&j->mu);
	if (j->synced >= want && !j->broken) {
		/* A sync that started after this caller's write covered it. */
		pthread_mutex_unlock(&j->mu);
		pthread_mutex_unlock(&j->sync_mu);
		return 0;
	}
	uint64_t upto = j->end;
	int fd = j->fd;
	j->syncing = true;
	pthread_mutex_unlock(&j->mu);
	int rc = fdatasync(fd);
	int err = errno;
	pthread_mutex_lock(&j->mu);
	j->syncing = false;
	if (rc != 0)
		j->broken = true;
	else if (upto > j->synced)
		j->synced = upto;
	pthread_mutex_unlock(&j->mu);
	pthread_mutex_unlock(&j->sync_mu);
	if (rc != 0)
		return err_set(e, EXIT_TEMPFAIL, "syncing %s: %s", j->path, strerror(err));
	return 0;
}

int64_t journal_append(struct journal *j, const void *keys, size_t len, uint32_t nkeys, struct err *e)
{
	int64_t id = journal_write(j, keys, len, nkeys, e);
	if (id < 0 || journal_sync(j, e) < 0)
		return -1;
	return id;
}

int journal_done(struct journal *j, uint64_t id, struct err *e)
{
	pthread_mutex_lock(&j->mu);
	ssize_t i = pend_find(j, id);
	if (i < 0) {
		pthread_mutex_unlock(&j->mu);
		return 0;
	}
	if (write_record(j->fd, j->end, REC_DONE, id, 0, NULL, 0) != 0) {
		int err = errno;
		if (ftruncate(j->fd, (off_t)j->end) != 0)
			j->broken = true;
		pthread_mutex_unlock(&j->mu);
		return err_set(e, EXIT_TEMPFAIL, "writing %s: %s", j->path, strerror(err));
	}
	j->end += REC_HEAD_BYTES;
	pend_remove(j, (size_t)i);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

int journal_replay(struct journal *j, journal_replay_fn fn, void *ctx, struct err *e)
{
	struct buf payload;
	if (buf_init(&payload, 0) != 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	uint64_t last = 0;
	int rc = 0;
	/* Entries appended while replaying (none, when used as documented)
	 * wait for the next replay. */
	pthread_mutex_lock(&j->mu);
	uint64_t below = j->next_id;
	pthread_mutex_unlock(&j->mu);
	for (;;) {
		/* Find the next pending entry after the last one handed over; fn may
		 * have marked entries done, which shifts the table. */
		pthread_mutex_lock(&j->mu);
		size_t lo = 0, hi = j->npend;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (j->pend[mid].id <= last)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == j->npend || j->pend[lo].id >= below) {
			pthread_mutex_unlock(&j->mu);
			break;
		}
		struct jentry en = j->pend[lo];
		payload.len = 0;
		buf_reserve(&payload, en.len);
		int r = read_all_at(j->fd, payload.data, en.len, en.off + REC_HEAD_BYTES);
		int err = errno;
		pthread_mutex_unlock(&j->mu);
		if (r != 0) {
			rc = err_set(e, EXIT_TEMPFAIL, "reading %s: %s", j->path, err ? strerror(err) : "short file");
			break;
		}
		last = en.id;
		rc = fn(ctx, en.id, payload.data, en.len, en.nkeys);
		if (rc != 0)
			break;
	}
	buf_free(&payload);
	return rc;
}

bool journal_exists(const char *dir, const char *target)
{
	char path[PATH_MAX];
	return journal_file(path, sizeof path, dir, fnv1a64(target), "log") && access(path, F_OK) == 0;
}

struct move_ctx {
	struct journal *from, *to;
	int64_t moved;
	struct err e;
};

static int move_one(void *ctx, uint64_t id, const void *keys, size_t len, uint32_t nkeys)
{
	struct move_ctx *m = ctx;
	if (journal_append(m->to, keys, len, nkeys, &m->e) < 0)
		return 1;
	/* Durable in to: done in from (a crash between the two replays the
	 * entry twice, which only invalidates twice). */
	journal_done(m->from, id, NULL);
	m->moved++;
	return 0;
}

int64_t journal_move(struct journal *from, struct journal *to, struct err *e)
{
	struct move_ctx m = {.from = from, .to = to};
	err_clear(&m.e);
	int rc = journal_replay(from, move_one, &m, e);
	if (rc > 0)
		*e = m.e;
	return rc == 0 ? m.moved : -1;
}

void journal_pending(struct journal *j, uint64_t *entries, uint64_t *keys)
{
	pthread_mutex_lock(&j->mu);
	if (entries)
		*entries = j->npend;
	if (keys)
		*keys = j->pend_keys;
	pthread_mutex_unlock(&j->mu);
}

int journal_compact(struct journal *j, struct err *e)
{
	/* No sync may be in flight on the file a rewrite replaces. */
	pthread_mutex_lock(&j->sync_mu);
	pthread_mutex_lock(&j->mu);
	int rc = rewrite(j, e);
	pthread_mutex_unlock(&j->mu);
	pthread_mutex_unlock(&j->sync_mu);
	return rc;
}

void journal_set_compact_bytes(struct journal *j, size_t bytes)
{
	pthread_mutex_lock(&j->mu);
	j->compact_bytes = bytes;
	j->compact_at = bytes;
	pthread_mutex_unlock(&j->mu);
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

uint64_t journal_size_bytes(struct journal *j)
{
	pthread_mutex_lock(&j->mu);
	uint64_t n = j->end;
	pthread_mutex_unlock(&j->mu);
	return n;
}
