/* test_journal.c - the invalidation journal resolves its directory, survives torn tails and crashes, replays exactly the pending entries, compacts, and admits one process at a time. */
#include "../../io/journal.h"

#include <CUnit/Basic.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];
static int dir_seq;

/* A fresh empty directory under root. */
static void new_dir(char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/d%d", root, ++dir_seq);
	CU_ASSERT_EQUAL_FATAL(mkdir(out, 0700), 0);
}

static struct journal *open_ok(const char *dir, const char *target)
{
	struct journal *j = NULL;
	struct err e;
	err_clear(&e);
	int rc = journal_open(dir, target, &j, &e);
	if (rc != 0)
		fprintf(stderr, "\njournal_open: %s\n", e.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return j;
}

/* A key list of n keys "<tag>:<i>". */
static void make_keys(struct buf *b, const char *tag, int n)
{
	b->len = 0;
	char k[64];
	for (int i = 0; i < n; i++) {
		int len = snprintf(k, sizeof k, "%s:%d", tag, i);
		journal_keylist_put(b, 1, k, (uint32_t)len);
	}
}

static int64_t append_keys(struct journal *j, const char *tag, int n)
{
	struct buf b;
	buf_init(&b, 64);
	make_keys(&b, tag, n);
	struct err e;
	int64_t id = journal_append(j, b.data, b.len, (uint32_t)n, &e);
	CU_ASSERT(id > 0);
	buf_free(&b);
	return id;
}

/* What replay handed over: ids and the first key of each entry. */
struct seen {
	int n;
	uint64_t ids[64];
	char first[64][32];
	uint32_t nkeys[64];
	struct journal *j;
	bool mark_done;
	int stop_after; /* return 1 after this many (0: never) */
};

static int replay_cb(void *ctx, uint64_t id, const void *keys, size_t len, uint32_t nkeys)
{
	struct seen *s = ctx;
	CU_ASSERT_FATAL(s->n < 64);
	s->ids[s->n] = id;
	s->nkeys[s->n] = nkeys;
	size_t pos = 0;
	uint8_t kind;
	const char *k;
	uint32_t klen;
	uint32_t count = 0;
	s->first[s->n][0] = '\0';
	while (journal_keylist_next(keys, len, &pos, &kind, &k, &klen) == 1) {
		if (count++ == 0)
			snprintf(s->first[s->n], sizeof s->first[s->n], "%.*s", (int)klen, k);
	}
	CU_ASSERT_EQUAL(count, nkeys);
	s->n++;
	if (s->mark_done) {
		struct err e;
		CU_ASSERT_EQUAL(journal_done(s->j, id, &e), 0);
	}
	return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

static off_t file_size(const char *path)
{
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	return st.st_size;
}

/* The state directory comes from --state-dir, then the first path of $STATE_DIRECTORY, then $XDG_STATE_HOME, then $HOME, and is created with mode 0700. */
static void test_state_dir(void)
{
	char out[512], want[512];
	struct err e;
	unsetenv("STATE_DIRECTORY");
	unsetenv("XDG_STATE_HOME");
	snprintf(want, sizeof want, "%s/home", root);
	setenv("HOME", want, 1);
	CU_ASSERT_EQUAL(journal_state_dir(NULL, out, sizeof out, &e), 0);
	snprintf(want, sizeof want, "%s/home/.local/state/edonu-ingest", root);
	CU_ASSERT_STRING_EQUAL(out, want);
	struct stat st;
	CU_ASSERT_EQUAL(stat(out, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);

	setenv("XDG_STATE_HOME", "relative/ignored", 1);
	CU_ASSERT_EQUAL(journal_state_dir("", out, sizeof out, &e), 0);
	CU_ASSERT_STRING_EQUAL(out, want);
	snprintf(want, sizeof want, "%s/xdg", root);
	setenv("XDG_STATE_HOME", want, 1);
	CU_ASSERT_EQUAL(journal_state_dir(NULL, out, sizeof out, &e), 0);
	strcat(want, "/edonu-ingest");
	CU_ASSERT_STRING_EQUAL(out, want);

	char sd[512];
	snprintf(sd, sizeof sd, "%s/systemd:%s/second", root, root);
	setenv("STATE_DIRECTORY", sd, 1);
	CU_ASSERT_EQUAL(journal_state_dir(NULL, out, sizeof out, &e), 0);
	snprintf(want, sizeof want, "%s/systemd", root);
	CU_ASSERT_STRING_EQUAL(out, want);

	snprintf(sd, sizeof sd, "%s/opt/", root);
	CU_ASSERT_EQUAL(journal_state_dir(sd, out, sizeof out, &e), 0);
	snprintf(want, sizeof want, "%s/opt", root);
	CU_ASSERT_STRING_EQUAL(out, want);

	/* Nothing set: a clear configuration error. */
	unsetenv("STATE_DIRECTORY");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	CU_ASSERT_EQUAL(journal_state_dir(NULL, out, sizeof out, &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "--state-dir"));

	/* A path through a regular file cannot be created. */
	char file[256];
	snprintf(file, sizeof file, "%s/plainfile", root);
	close(open(file, O_CREAT | O_WRONLY, 0600));
	snprintf(sd, sizeof sd, "%s/sub", file);
	CU_ASSERT_EQUAL(journal_state_dir(sd, out, sizeof out, &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "Not a directory"));
}

/* Entries appended and not marked done are handed back on the next open, in order and with their keys; done ones are not, and a journal whose entries are all done is rewritten empty. */
static void test_append_done_replay(void)
{
	char dir[128];
	new_dir(dir, sizeof dir);
	struct journal *j = open_ok(dir, "public.orders redis://cache/0");
	int64_t a = append_keys(j, "a", 3), b = append_keys(j, "b", 1), c = append_keys(j, "c", 2);
	CU_ASSERT(a < b && b < c);
	uint64_t pe, pk;
	journal_pending(j, &pe, &pk);
	CU_ASSERT(pe == 3 && pk == 6);
	struct err e;
	CU_ASSERT_EQUAL(journal_done(j, (uint64_t)b, &e), 0);
	CU_ASSERT_EQUAL(journal_done(j, (uint64_t)b, &e), 0); /* twice: ignored */
	CU_ASSERT_EQUAL(journal_done(j, 999, &e), 0);         /* unknown: ignored */
	journal_pending(j, &pe, &pk);
	CU_ASSERT(pe == 2 && pk == 5);
	/* Replay hands over what is pending when it is called, this run's
	 * entries included (the end of a run retries them); unmarked, they stay. */
	struct seen s0 = {0};
	CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s0, &e), 0);
	CU_ASSERT_EQUAL(s0.n, 2);
	journal_pending(j, &pe, &pk);
	CU_ASSERT(pe == 2 && pk == 5);
	char path[512];
	snprintf(path, sizeof path, "%s", journal_path(j));
	journal_close(j);

	j = open_ok(dir, "public.orders redis://cache/0");
	struct seen s = {.j = j, .mark_done = true};
	CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s, &e), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	CU_ASSERT(s.ids[0] == (uint64_t)a && s.ids[1] == (uint64_t)c);
	CU_ASSERT_STRING_EQUAL(s.first[0], "a:0");
	CU_ASSERT_STRING_EQUAL(s.first[1], "c:0");
	CU_ASSERT(s.nkeys[0] == 3 && s.nkeys[1] == 2);
	journal_pending(j, &pe, &pk);
	CU_ASSERT(pe == 0 && pk == 0);
	journal_close(j);

	/* All done: the next open rewrites the file down to its header, and ids keep growing. */
	off_t before = file_size(path);
	j = open_ok(dir, "public.orders redis://cache/0");
	CU_ASSERT(file_size(path) < before);
	CU_ASSERT(journal_size_bytes(j) == (uint64_t)file_size(path));
	int64_t d = append_keys(j, "d", 1);
	CU_ASSERT(d > c);
	journal_close(j);

	/* Another target in the same directory is another file. */
	j = open_ok(dir, "public.invoices redis://cache/0");
	CU_ASSERT_STRING_NOT_EQUAL(journal_path(j), path);
	struct seen s2 = {0};
	CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s2, &e), 0);
	CU_ASSERT_EQUAL(s2.n, 0);
	journal_close(j);
}

/* A journal under an old target: its pending entries (not its done ones)
 * move into the journal of the new target, keys intact, and the old one
 * can then go. */
static void test_move(void)
{
	char dir[128];
	new_dir(dir, sizeof dir);
	CU_ASSERT_FALSE(journal_exists(dir, "public.Orders"));
	struct journal *old = open_ok(dir, "public.Orders");
	CU_ASSERT_TRUE(journal_exists(dir, "public.Orders"));
	int64_t a = append_keys(old, "a", 2);
	append_keys(old, "b", 3);
	struct err e;
	CU_ASSERT_EQUAL(journal_done(old, (uint64_t)a, &e), 0);
	journal_close(old);

	struct journal *to = open_ok(dir, "public.\"Orders\"");
	old = open_ok(dir, "public.Orders");
	CU_ASSERT_EQUAL(journal_move(old, to, &e), 1);
	uint64_t pe, pk;
	journal_pending(old, &pe, &pk);
	CU_ASSERT(pe == 0 && pk == 0);
	char path[512], lock[512];
	snprintf(path, sizeof path, "%s", journal_path(old));
	snprintf(lock, sizeof lock, "%.*s.lock", (int)(strlen(path) - 4), path);
	CU_ASSERT_EQUAL(access(lock, F_OK), 0);
	CU_ASSERT_EQUAL(journal_remove(old, &e), 0);
	CU_ASSERT_FALSE(journal_exists(dir, "public.Orders"));
	CU_ASSERT_NOT_EQUAL(access(lock, F_OK), 0);
	journal_pending(to, &pe, &pk);
	CU_ASSERT(pe == 1 && pk == 3);
	struct seen s = {.j = to, .mark_done = true};
	CU_ASSERT_EQUAL(journal_replay(to, replay_cb, &s, &e), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 1);
	CU_ASSERT_STRING_EQUAL(s.first[0], "b:0");
	CU_ASSERT_EQUAL(s.nkeys[0], 3);
	journal_close(to);
}

/* A replay callback that stops (Redis down) leaves the rest pending for the next run. */
static void test_replay_stops(void)
{
	char dir[128];
	new_dir(dir, sizeof dir);
	struct journal *j = open_ok(dir, "t");
	for (int i = 0; i < 4; i++)
		append_keys(j, "k", 1);
	journal_close(j);
	j = open_ok(dir, "t");
	struct err e;
	struct seen s = {.j = j, .mark_done = true, .stop_after = 2};
	CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s, &e), 1);
	CU_ASSERT_EQUAL(s.n, 2);
	uint64_t pe;
	journal_pending(j, &pe, NULL);
	CU_ASSERT_EQUAL(pe, 2);
	journal_close(j);
	j = open_ok(dir, "t");
	struct seen s2 = {.j = j};
	CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s2, &e), 0);
	CU_ASSERT_EQUAL(s2.n, 2);
	CU_ASSERT(s2.ids[0] == 3 && s2.ids[1] == 4);
	journal_close(j);
}

/* A record cut short at the end (a crash mid-write) is cut off silently; garbage after the last record or a flipped byte in the last entry is cut off and reported as damage (the file kept aside); later appends are replayed normally. */
static void test_torn_tail(void)
{
	char dir[128], path[512];
	struct err e;
	for (int mode = 0; mode < 3; mode++) {
		new_dir(dir, sizeof dir);
		struct journal *j = open_ok(dir, "t");
		append_keys(j, "first", 2);
		append_keys(j, "second", 5);
		snprintf(path, sizeof path, "%s", journal_path(j));
		journal_close(j);
		off_t size = file_size(path);
		int fd = open(path, O_RDWR);
		CU_ASSERT_FATAL(fd >= 0);
		if (mode == 0) {
			CU_ASSERT_EQUAL(ftruncate(fd, size - 7), 0);
		} else if (mode == 1) {
			/* An entry appended with both done: then junk bytes after it. */
			CU_ASSERT_EQUAL(pwrite(fd, "\x13\x37garbage-garbage-garbage", 25, size), 25);
		} else {
			char c;
			CU_ASSERT_EQUAL(pread(fd, &c, 1, size - 3), 1);
			c ^= 0x20;
			CU_ASSERT_EQUAL(pwrite(fd, &c, 1, size - 3), 1);
		}
		close(fd);
		j = open_ok(dir, "t");
		uint64_t entries, bytes;
		const char *aside;
		CU_ASSERT_EQUAL(journal_damage(j, &entries, &bytes, &aside), mode != 0);
		CU_ASSERT_EQUAL(entries, mode == 2 ? 1u : 0u);
		if (mode != 0)
			CU_ASSERT_EQUAL(access(aside, R_OK), 0);
		int64_t third = append_keys(j, "third", 1);
		journal_close(j);
		j = open_ok(dir, "t");
		struct seen s = {0};
		CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s, &e), 0);
		if (mode == 1) {
			CU_ASSERT_EQUAL_FATAL(s.n, 3);
			CU_ASSERT_STRING_EQUAL(s.first[1], "second:0");
			CU_ASSERT_STRING_EQUAL(s.first[2], "third:0");
		} else {
			CU_ASSERT_EQUAL_FATAL(s.n, 2);
			CU_ASSERT_STRING_EQUAL(s.first[0], "first:0");
			CU_ASSERT_STRING_EQUAL(s.first[1], "third:0");
			CU_ASSERT_EQUAL(s.ids[1], (uint64_t)third);
		}
		journal_close(j);
	}
	/* An empty file (created, crash before the header was written) is a new journal. */
	new_dir(dir, sizeof dir);
	struct journal *j = open_ok(dir, "t");
	snprintf(path, sizeof path, "%s", journal_path(j));
	journal_close(j);
	CU_ASSERT_EQUAL(truncate(path, 0), 0);
	j = open_ok(dir, "t");
	struct seen s = {0};
	CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s, &e), 0);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT(append_keys(j, "x", 1) > 0);
	journal_close(j);
}

/* A flipped byte in an entry in the middle loses that entry only: it is reported, the file is kept aside as it was, and the entries after it still replay; a zeroed file is reported whole. */
static void test_damage(void)
{
	char dir[128], path[512];
	struct err e;
	new_dir(dir, sizeof dir);
	struct journal *j = open_ok(dir, "t");
	append_keys(j, "first", 2);
	append_keys(j, "second", 3);
	append_keys(j, "third", 4);
	snprintf(path, sizeof path, "%s", journal_path(j));
	journal_close(j);
	off_t size = file_size(path);
	/* The second entry's last key byte: the third entry (4 keys of
	 * "third:N", 5 + 7 bytes each, plus a 24-byte head) follows it. */
	off_t at = size - (24 + 4 * 12) - 2;
	int fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	char c;
	CU_ASSERT_EQUAL(pread(fd, &c, 1, at), 1);
	c ^= 0x01;
	CU_ASSERT_EQUAL(pwrite(fd, &c, 1, at), 1);
	close(fd);
	j = open_ok(dir, "t");
	uint64_t entries, bytes;
	const char *aside;
	CU_ASSERT_TRUE(journal_damage(j, &entries, &bytes, &aside));
	CU_ASSERT_EQUAL(entries, 1u);
	CU_ASSERT_EQUAL(file_size(aside), size);
	struct seen s = {0};
	CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s, &e), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	CU_ASSERT_STRING_EQUAL(s.first[0], "first:0");
	CU_ASSERT_STRING_EQUAL(s.first[1], "third:0");
	journal_close(j);
	/* Opened again: the rewritten journal holds no damage. */
	j = open_ok(dir, "t");
	CU_ASSERT_FALSE(journal_damage(j, &entries, &bytes, &aside));
	journal_close(j);
	/* A zeroed file: nothing reads back, all of it is reported. */
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd >= 0);
	static const char zeros[256];
	CU_ASSERT_EQUAL(pwrite(fd, zeros, sizeof zeros, 0), (ssize_t)sizeof zeros);
	close(fd);
	off_t zsize = file_size(path);
	j = open_ok(dir, "t");
	CU_ASSERT_TRUE(journal_damage(j, &entries, &bytes, &aside));
	CU_ASSERT_EQUAL(bytes, (uint64_t)zsize);
	journal_close(j);
}

/* Past the compaction bound the file is rewritten with only the pending entries, which survive with their ids and keys. */
static void test_compaction(void)
{
	char dir[128];
	new_dir(dir, sizeof dir);
	struct journal *j = open_ok(dir, "t");
	journal_set_compact_bytes(j, 4096);
	struct err e;
	int64_t keep1 = append_keys(j, "keep1", 3);
	uint64_t max_size = 0;
	for (int i = 0; i < 200; i++) {
		int64_t id = append_keys(j, "tmp", 20);
		CU_ASSERT_EQUAL(journal_done(j, (uint64_t)id, &e), 0);
		uint64_t sz = journal_size_bytes(j);
		if (sz > max_size)
			max_size = sz;
	}
	int64_t keep2 = append_keys(j, "keep2", 1);
	/* Each entry is ~250 bytes: without compaction the file would be ~50 KB. */
	CU_ASSERT(max_size < 8192);
	CU_ASSERT_EQUAL((uint64_t)file_size(journal_path(j)), journal_size_bytes(j));
	CU_ASSERT_EQUAL(journal_compact(j, &e), 0);
	uint64_t pe, pk;
	journal_pending(j, &pe, &pk);
	CU_ASSERT(pe == 2 && pk == 4);
	/* Appends after a compaction land in the new file. */
	int64_t keep3 = append_keys(j, "keep3", 2);
	journal_close(j);
	j = open_ok(dir, "t");
	struct seen s = {0};
	CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s, &e), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 3);
	CU_ASSERT(s.ids[0] == (uint64_t)keep1 && s.ids[1] == (uint64_t)keep2 && s.ids[2] == (uint64_t)keep3);
	CU_ASSERT_STRING_EQUAL(s.first[0], "keep1:0");
	CU_ASSERT_STRING_EQUAL(s.first[1], "keep2:0");
	CU_ASSERT_STRING_EQUAL(s.first[2], "keep3:0");
	CU_ASSERT(keep3 > keep2 && keep2 > keep1);
	journal_close(j);
}

/* While one journal is open, a second open of the same target is refused as temporary (exit 75) naming the holder; after close it opens. */
static void test_second_open_refused(void)
{
	char dir[128];
	new_dir(dir, sizeof dir);
	struct journal *j = open_ok(dir, "t"), *j2 = NULL;
	struct err e;
	err_clear(&e);
	CU_ASSERT_EQUAL(journal_open(dir, "t", &j2, &e), -1);
	CU_ASSERT_PTR_NULL(j2);
	CU_ASSERT_EQUAL(e.code, EXIT_TEMPFAIL);
	char pid[32];
	snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, pid));
	/* Another process is refused too. */
	pid_t child = fork();
	if (child == 0) {
		struct journal *jc = NULL;
		struct err ec;
		_exit(journal_open(dir, "t", &jc, &ec) == -1 && ec.code == EXIT_TEMPFAIL ? 0 : 1);
	}
	int status;
	waitpid(child, &status, 0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	journal_close(j);
	j = open_ok(dir, "t");
	journal_close(j);
}

/* A run that dies without closing leaves its entries pending and its lock released, and the next run replays them. */
static void test_crashed_run(void)
{
	char dir[128];
	new_dir(dir, sizeof dir);
	pid_t child = fork();
	if (child == 0) {
		struct journal *jc = NULL;
		struct err ec;
		if (journal_open(dir, "t", &jc, &ec) != 0)
			_exit(1);
		struct buf b;
		buf_init(&b, 64);
		for (int i = 0; i < 3; i++) {
			make_keys(&b, "crash", 4);
			int64_t id = journal_append(jc, b.data, b.len, 4, &ec);
			if (id < 0)
				_exit(1);
			if (i == 1)
				journal_done(jc, (uint64_t)id, &ec);
		}
		_exit(0); /* no close: as if killed after the syncs */
	}
	int status;
	waitpid(child, &status, 0);
	CU_ASSERT_FATAL(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct journal *j = open_ok(dir, "t");
	struct seen s = {0};
	struct err e;
	CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s, &e), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT(s.ids[0] == 1 && s.ids[1] == 3);
	journal_close(j);
}

/* A state directory the process may not write to is a clear configuration error, not a crash. */
static void test_read_only_dir(void)
{
	char dir[128];
	new_dir(dir, sizeof dir);
	CU_ASSERT_EQUAL(chmod(dir, 0555), 0);
	CU_ASSERT_EQUAL(chmod(root, 0755), 0);
	/* Root ignores permission bits: check as an unprivileged user in a child. */
	pid_t child = fork();
	if (child == 0) {
		if (geteuid() == 0 && setuid(65534) != 0)
			_exit(2);
		struct journal *j = NULL;
		struct err e;
		err_clear(&e);
		int rc = journal_open(dir, "t", &j, &e);
		_exit(rc == -1 && e.code == EXIT_CONFIG && strstr(e.msg, "Permission denied") &&
			      strstr(e.msg, "state directory")
			  ? 0
			  : 1);
	}
	int status;
	waitpid(child, &status, 0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	chmod(dir, 0700);
	chmod(root, 0700);
	/* A directory that does not exist. */
	char missing[160];
	snprintf(missing, sizeof missing, "%s/nope", root);
	struct journal *j = NULL;
	struct err e;
	CU_ASSERT_EQUAL(journal_open(missing, "t", &j, &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "No such file"));
}

struct worker_arg {
	struct journal *j;
	int base;
	int64_t ids[50];
};

static void *worker(void *p)
{
	struct worker_arg *a = p;
	struct buf b;
	buf_init(&b, 64);
	char tag[16];
	for (int i = 0; i < 50; i++) {
		snprintf(tag, sizeof tag, "w%d", a->base + i);
		make_keys(&b, tag, 2);
		struct err e;
		a->ids[i] = journal_append(a->j, b.data, b.len, 2, &e);
		if (i % 2 == 0)
			journal_done(a->j, (uint64_t)a->ids[i], &e);
	}
	buf_free(&b);
	return NULL;
}

/* Workers appending and marking done concurrently get distinct ids, and exactly the entries not done are pending afterwards, also across compactions. */
static void test_concurrent_workers(void)
{
	char dir[128];
	new_dir(dir, sizeof dir);
	struct journal *j = open_ok(dir, "t");
	journal_set_compact_bytes(j, 2048);
	pthread_t th[4];
	struct worker_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct worker_arg){.j = j, .base = i * 1000};
		pthread_create(&th[i], NULL, worker, &args[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	uint64_t pe, pk;
	journal_pending(j, &pe, &pk);
	CU_ASSERT(pe == 100 && pk == 200);
	journal_close(j);
	j = open_ok(dir, "t");
	struct err e;
	struct seen s = {0};
	/* The callback holds 64; stop there and check what came is odd-numbered work. */
	s.stop_after = 64;
	CU_ASSERT_EQUAL(journal_replay(j, replay_cb, &s, &e), 1);
	for (int i = 0; i < s.n; i++) {
		int w = atoi(s.first[i] + 1);
		CU_ASSERT_EQUAL((w % 1000) % 2, 1);
		if (i > 0)
			CU_ASSERT(s.ids[i] > s.ids[i - 1]);
	}
	journal_pending(j, &pe, &pk);
	CU_ASSERT(pe == 100);
	journal_close(j);
}

static void rm_rf(const char *path)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

int main(void)
{
	strcpy(root, "/tmp/edonu-journal-XXXXXX");
	if (mkdtemp(root) == NULL)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("journal", NULL, NULL);
	CU_add_test(s, "state dir", test_state_dir);
	CU_add_test(s, "append, done, replay", test_append_done_replay);
	CU_add_test(s, "replay stops", test_replay_stops);
	CU_add_test(s, "torn tail", test_torn_tail);
	CU_add_test(s, "damage", test_damage);
	CU_add_test(s, "compaction", test_compaction);
	CU_add_test(s, "second open refused", test_second_open_refused);
	CU_add_test(s, "crashed run", test_crashed_run);
	CU_add_test(s, "read-only dir", test_read_only_dir);
	CU_add_test(s, "concurrent workers", test_concurrent_workers);
	CU_add_test(s, "move", test_move);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	rm_rf(root);
	return failed ? 1 : 0;
}
