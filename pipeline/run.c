/* run.c - the batch job: load every settled file of a spool directory once, then file it under
 * done/ or failed/; one run at a time per spool (flock), several machines by --shard. */
#include "run.h"

#include "../core/buf.h"
#include "../core/escape.h"
#include "engine.h"
#include "load.h"
#include "log.h"
#include "monitor.h"
#include "summary.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_NAME       ".edonu-ingest.lock"
#define REJECTS_SUFFIX  ".rejects.ndjson"
/* Files a spool may hold at once; a larger backlog is taken by later runs. */
#define SPOOL_FILES_MAX 100000

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

uint32_t run_shard_of(const char *name, uint32_t n)
{
	/* FNV-1a 64 of the name: stable across machines and versions, so N
	 * instances agree on who takes which file. */
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return (uint32_t)(h % n);
}

bool run_file_is_candidate(const char *name)
{
	return name[0] != '.' && !has_suffix(name, ".part") && !has_suffix(name, ".tmp") &&
	       !has_suffix(name, REJECTS_SUFFIX);
}

/* The pid a lock file holds (its holder's, or a former holder's). */
static void lock_pid(int fd, char *pid, size_t sz)
{
	ssize_t n = pread(fd, pid, sz - 1, 0);
	pid[n > 0 ? n : 0] = '\0';
	pid[strcspn(pid, "\n")] = '\0';
	if (pid[0] == '\0')
		snprintf(pid, sz, "unknown");
}

static int lock_open(const char *path, int *fd, struct err *e)
{
	/* Never through a link: a link planted at the lock's name would have
	 * the run truncate and write whatever it points to. */
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (*fd < 0)
		return err_set(e, errno == ENOENT ? EXIT_NOINPUT : EXIT_CONFIG, "cannot open %s: %s", path,
			       strerror(errno));
	return 0;
}

static int lock_write_pid(int fd, const char *path, struct err *e)
{
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		return err_set(e, EXIT_CONFIG, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* Finds a shard lock of the spool held now by a run with another shard
 * count than n (n 0: any shard count); 1 and its name, pid and K/N when
 * found. */
static int held_shard_lock(const char *dir, uint32_t n, char *what, size_t sz)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	int found = 0;
	size_t pre = strlen(LOCK_NAME);
	struct dirent *de;
	while (!found && (de = readdir(d)) != NULL) {
		unsigned k, m;
		char tail;
		if (strncmp(de->d_name, LOCK_NAME ".", pre + 1) != 0 ||
		    sscanf(de->d_name + pre + 1, "%u-of-%u%c", &k, &m, &tail) != 2 || m == n)
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			char pid[32];
			lock_pid(fd, pid, sizeof pid);
			snprintf(what, sz, "pid %s, --shard %u/%u", pid, k, m);
			found = 1;
		}
		close(fd);
	}
	closedir(d);
	return found;
}

/* Takes the spool's locks. A plain run holds LOCK_NAME exclusively; a run
 * with --shard K/N holds it shared (shards run side by side, a plain run
 * excludes them all) and LOCK_NAME.K-of-N exclusively (two runs of one
 * shard do not overlap). A sharded run then looks for a shard lock held
 * with another N: shard counts must agree, or two runs would take the same
 * file. Each run checks after taking its own locks, so of two that start
 * together at least one sees the other. On EXIT_TEMPFAIL the holder is
 * named. Files and directories are created for the spool's group as the
 * umask allows, so that several users of a group can share it. */
static int lock_spool(const struct options *o, int fds[2], struct err *e)
{
	const char *dir = o->spool;
	char path[4096], pid[32], what[128];
	snprintf(path, sizeof path, "%s/%s", dir, LOCK_NAME);
	if (lock_open(path, &fds[0], e) < 0)
		return -1;
	if (flock(fds[0], (o->shard_n ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		if (o->shard_n == 0 && held_shard_lock(dir, 0, what, sizeof what))
			return err_set(e, EXIT_TEMPFAIL, "spool %s is being loaded by sharded runs (%s)", dir, what);
		lock_pid(fds[0], pid, sizeof pid);
		return err_set(e, EXIT_TEMPFAIL, "spool %s is being loaded by another run (pid %s)", dir, pid);
	}
	if (o->shard_n == 0)
		return lock_write_pid(fds[0], path, e);
	snprintf(path, sizeof path, "%s/%s.%u-of-%u", dir, LOCK_NAME, o->shard_k, o->shard_n);
	if (lock_open(path, &fds[1], e) < 0)
		return -1;
	if (flock(fds[1], LOCK_EX | LOCK_NB) < 0) {
		lock_pid(fds[1], pid, sizeof pid);
		return err_set(e, EXIT_TEMPFAIL, "spool %s (this shard) is being loaded by another run (pid %s)", dir,
			       pid);
	}
	if (lock_write_pid(fds[1], path, e) < 0)
		return -1;
	if (held_shard_lock(dir, o->shard_n, what, sizeof what))
		return err_set(e, EXIT_TEMPFAIL,
			       "spool %s is being loaded with another shard count (%s): every run of a spool must "
			       "use the same N in --shard K/N",
			       dir, what);
	return 0;
}

static void unlock_spool(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of the spool a run leaves for later, and why. */
struct spool_left {
	size_t settling;    /* modified less than --settle seconds ago */
	size_t temporary;   /* .part, .tmp or hidden names: still being written */
	size_t not_regular; /* FIFOs, sockets, devices, symbolic links: never loaded */
};

/* A symbolic link in the spool is never followed: whoever may drop files
 * there could otherwise have the run read any file the run may read (a
 * private key, another user's data) into the table, the rejects file and
 * the log. It is left in place, like the other entries that are not
 * regular files, and named in the log at each run. */
static void note_symlink(const struct options *o, const char *name)
{
	log_event(o->log_format, LOG_WARN, "spool_symlink",
		  "%s/%s: a symbolic link: not followed and left in place (the spool loads regular files only: move "
		  "or copy the file itself in)",
		  o->spool, name);
}

/* The settled candidate files of this shard, in name order. */
static int list_spool(const struct options *o, int spool_fd, char ***names_out, size_t *n_out, struct spool_left *left,
		      struct err *e)
{
	/* A descriptor of its own: readdir keeps its position in it. */
	int dfd = openat(spool_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL) {
		int saved = errno;
		if (dfd >= 0)
			close(dfd);
		return err_set(e, EXIT_NOINPUT, "cannot open spool %s: %s", o->spool, strerror(saved));
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	time_t now = time(NULL);
	struct dirent *de;
	memset(left, 0, sizeof *left);
	while ((de = readdir(d)) != NULL && n < SPOOL_FILES_MAX) {
		struct stat st;
		/* done/ and failed/ may be links an administrator made. */
		bool subdir = strcmp(de->d_name, "done") == 0 || strcmp(de->d_name, "failed") == 0;
		if (fstatat(spool_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode) || subdir)
			continue;
		if (!S_ISREG(st.st_mode)) {
			left->not_regular += run_file_is_candidate(de->d_name);
			if (S_ISLNK(st.st_mode) && run_file_is_candidate(de->d_name))
				note_symlink(o, de->d_name);
			continue;
		}
		if (!run_file_is_candidate(de->d_name)) {
			left->temporary += strcmp(de->d_name, LOCK_NAME) != 0 &&
					   strncmp(de->d_name, LOCK_NAME ".", strlen(LOCK_NAME) + 1) != 0 &&
					   !has_suffix(de->d_name, REJECTS_SUFFIX);
			continue;
		}
		if (o->settle_s > 0 && st.st_mtime > now - (time_t)o->settle_s) {
			left->settling++; /* still being written, by the documented rule */
			continue;
		}
		if (o->shard_n > 0 && run_shard_of(de->d_name, o->shard_n) != o->shard_k)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **p = realloc(names, cap * sizeof *p);
			if (p == NULL)
				break;
			names = p;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			break;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_names);
	*names_out = names;
	*n_out = n;
	return 0;
}

/* Moves from into dir/sub/ as name, or as name.N when name is there
 * already (the same name dropped again); as_name (asz bytes; NULL: not
 * wanted) gets the name it went under, so that what goes beside it (its
 * .error, its rejects) takes the same one. */
static int file_under(const char *dir, const char *sub, const char *name, const char *from, char *as_name, size_t asz,
		      struct err *e)
{
	char to[4096];
	int n = snprintf(to, sizeof to, "%s/%s/", dir, sub);
	snprintf(to + n, sizeof to - (size_t)n, "%s", name);
	for (int i = 1; access(to, F_OK) == 0 && i < 10000; i++)
		snprintf(to + n, sizeof to - (size_t)n, "%s.%d", name, i);
	if (as_name != NULL)
		snprintf(as_name, asz, "%s", to + n);
	if (rename(from, to) < 0)
		return err_set(e, EXIT_CONFIG, "cannot move %s to %s: %s", from, to, strerror(errno));
	return 0;
}

/* How bad an exit code is, for the run's own: the worst file decides. */
static int severity(int code)
{
	switch (code) {
	case EXIT_OK: return 0;
	case EXIT_DATAERR: return 1;
	case EXIT_NOINPUT: return 2;
	case EXIT_TEMPFAIL: return 3;
	case EXIT_UNAVAILABLE: return 4;
	case EXIT_CONFIG: return 5;
	default: return 6;
	}
}

/* Where a file goes after its load: done/, failed/, or nowhere (left in
 * place, and the run stops: the failure is not the file's). */
enum disposition { LEAVE = 0, TO_DONE, TO_FAILED };

static enum disposition dispose(int code, const struct summary *s, bool interrupted)
{
	if (interrupted)
		return LEAVE;
	if (code == EXIT_OK || (code == EXIT_TEMPFAIL && s->keys_pending > 0 && s->started))
		return TO_DONE;
	if (code == EXIT_DATAERR || code == EXIT_NOINPUT)
		return TO_FAILED; /* rejects, unreadable or corrupt input */
	/* Once its reading began (the run's own set-up held), a header that
	 * maps to no column or a chunk the server refused whole is the file's
	 * own fault; unavailable servers, signals and locks are not. */
	if ((code == EXIT_CONFIG || code == EXIT_SOFTWARE) && s->started)
		return TO_FAILED;
	return LEAVE;
}

/* failed/NAME.error: why the file is there, in one line that a terminal
 * shows as text (the reason may quote the file's content: a header's
 * escape sequence, a line feed). Created 0600 and never through a link. */
static void write_error_file(const struct options *o, const char *name, const char *why)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/failed/%s.error", o->spool, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		log_event(o->log_format, LOG_ERROR, "spool_move_failed", "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	struct buf line;
	if (buf_init(&line, strlen(why) + 2) == 0) {
		escape_text(&line, why, strlen(why));
		buf_putc(&line, '\n');
		fwrite(line.data, 1, line.len, f);
		buf_free(&line);
	}
	if (fclose(f) != 0)
		log_event(o->log_format, LOG_ERROR, "spool_move_failed", "cannot write %s: %s", path, strerror(errno));
}

/* Files the file and its rejects under done/ or failed/ and says so. */
static int file_away(const struct options *o, const char *name, const char *path, const char *rej_tmp,
		     enum disposition where_to, int code, const struct summary *s)
{
	const char *where = where_to == TO_DONE ? "done" : "failed";
	struct err me;
	char as[1024];
	if (file_under(o->spool, where, name, path, as, sizeof as, &me) < 0) {
		log_event(o->log_format, LOG_ERROR, "spool_move_failed", "%s", me.msg);
		code = me.code;
	}
	struct stat rs;
	if (stat(rej_tmp, &rs) == 0 && S_ISREG(rs.st_mode) && rs.st_size > 0) {
		char rej_name[1100];
		snprintf(rej_name, sizeof rej_name, "%s%s", as, REJECTS_SUFFIX);
		if (file_under(o->spool, where, rej_name, rej_tmp, NULL, 0, &me) < 0)
			log_event(o->log_format, LOG_ERROR, "spool_move_failed", "%s", me.msg);
	} else {
		unlink(rej_tmp);
	}
	if (where_to == TO_FAILED && s->error[0])
		write_error_file(o, as, s->error);
	if (s->started && s->skipped > 0 && s->skipped == s->records_read)
		log_event(o->log_format, LOG_INFO, "spool_file",
			  "%s: already loaded earlier (same content): moved to %s/%s", name, where, as);
	else if (s->error[0] && where_to == TO_FAILED)
		log_event(o->log_format, LOG_WARN, "spool_file", "%s: moved to failed/%s (exit %d): %s", name, as, code,
			  s->error);
	else
		log_event(o->log_format, code == EXIT_OK ? LOG_INFO : LOG_WARN, "spool_file",
			  "%s: %llu loaded, %llu rejected: moved to %s/%s", name, (unsigned long long)s->loaded,
			  (unsigned long long)s->rejected, where, as);
	return code;
}

/* Opens spool file name once, without following a link, for its load: 1
 * with *fd; 0 when it is gone or no longer a regular file (a link or a FIFO
 * put in its place since the listing: left where it is, and logged); -1
 * with e (EXIT_NOINPUT) when it cannot be opened. */
static int open_spool_file(const struct options *o, int spool_fd, const char *name, int *fd, struct err *e)
{
	/* O_NONBLOCK: a FIFO put in its place does not hold the run up. */
	*fd = openat(spool_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (*fd < 0 && errno == ELOOP) {
		note_symlink(o, name);
		return 0;
	}
	if (*fd < 0 && errno == ENOENT) {
		log_event(o->log_format, LOG_INFO, "spool_file", "%s: gone from the spool before its turn", name);
		return 0;
	}
	if (*fd < 0)
		return err_set(e, EXIT_NOINPUT, "cannot open %s/%s: %s", o->spool, name, strerror(errno));
	struct stat st;
	int fl = fcntl(*fd, F_GETFL);
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode) || fl < 0 || fcntl(*fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		close(*fd);
		*fd = -1;
		log_event(o->log_format, LOG_WARN, "spool_file",
			  "%s: no longer a regular file when its turn came: not loaded, left in place", name);
		return 0;
	}
	return 1;
}

/* Loads one spool file as a job of the engine and files it. Returns its
 * exit code; *stop when the run must not go on (not the file's fault). */
static int run_file(struct engine *eng, const struct options *o, int spool_fd, const char *name, struct summary *total,
		    bool *stop)
{
	char path[4096], rej_tmp[4096];
	snprintf(path, sizeof path, "%s/%s", o->spool, name);
	/* Hidden while written, so that no run takes it for input. */
	snprintf(rej_tmp, sizeof rej_tmp, "%s/.%s%s", o->spool, name, REJECTS_SUFFIX);
	struct summary s;
	memset(&s, 0, sizeof s);
	*stop = false;
	struct err oe;
	int fd = -1, code;
	int opened = open_spool_file(o, spool_fd, name, &fd, &oe);
	if (opened == 0) {
		monitor_run_file_end(eng->mon, name, STATS_RUN_LEFT, &s);
		return EXIT_OK;
	}
	struct stat rs;
	if (opened < 0) {
		code = s.exit_code = oe.code;
		s.files = 1;
		snprintf(s.error, sizeof s.error, "%s", oe.msg);
	} else if (lstat(rej_tmp, &rs) == 0 && !S_ISREG(rs.st_mode)) {
		/* Something else stands where its rejects go: the file's own problem. */
		code = s.exit_code = EXIT_CONFIG;
		s.started = true;
		s.files = 1;
		snprintf(s.error, sizeof s.error, "%.900s is in the way of its rejects file: remove it", rej_tmp);
	} else {
		unlink(rej_tmp);
		struct options fo = *o;
		const char *files[1] = {path};
		fo.cmd = CMD_LOAD;
		fo.files = files;
		fo.nfiles = 1;
		fo.file_fds = &fd;
		fo.rejects = rej_tmp;
		fo.summary = NULL;
		code = engine_run(eng, &fo, &s);
	}
	if (fd >= 0)
		close(fd);
	summary_add(total, &s);
	enum disposition d = dispose(code, &s, load_interrupted());
	if (d != LEAVE) {
		code = file_away(o, name, path, rej_tmp, d, code, &s);
	} else {
		unlink(rej_tmp);
		log_event(o->log_format, LOG_WARN, "spool_file", "%s: left in place (exit %d): %s", name, code,
			  s.error[0] ? s.error : "interrupted");
	}
	/* Once filed: the dashboard's counts follow the spool's directories. */
	monitor_run_file_end(eng->mon, name,
			     d == TO_DONE     ? STATS_RUN_DONE
			     : d == TO_FAILED ? STATS_RUN_FAILED
					      : STATS_RUN_LEFT,
			     &s);
	if (code != EXIT_OK && (total->exit_code == EXIT_OK || severity(code) > severity(total->exit_code))) {
		total->exit_code = code;
		if (s.error[0])
			snprintf(total->error, sizeof total->error, "%.200s: %.800s", name, s.error);
		else
			snprintf(total->error, sizeof total->error, "%.200s: %llu records rejected", name,
				 (unsigned long long)s.rejected);
	}
	/* Past a failure that is not the file's own (server, configuration,
	 * signal), the next files would fail the same way: stop. */
	*stop = d == LEAVE;
	return code;
}

/* The spool is a directory (*spool_fd: the run lists and opens its files
 * through it), locked, with done/ and failed/. */
static int open_spool(const struct options *o, int *spool_fd, int lock_fds[2], struct err *e)
{
	*spool_fd = open(o->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*spool_fd < 0 && errno == ENOTDIR)
		return err_set(e, EXIT_NOINPUT, "spool %s is not a directory", o->spool);
	if (*spool_fd < 0)
		return err_set(e, EXIT_NOINPUT, "cannot open spool %s: %s", o->spool, strerror(errno));
	if (lock_spool(o, lock_fds, e) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		const char *sub = i ? "failed" : "done";
		if (mkdirat(*spool_fd, sub, 0777) < 0 && errno != EEXIST)
			return err_set(e, EXIT_CONFIG, "cannot create %s/%s: %s", o->spool, sub, strerror(errno));
	}
	return 0;
}

/* The run's summary on stderr and --summary; the worst code. */
static int run_report(const struct options *o, struct summary *total)
{
	int worst = total->exit_code;
	if (load_interrupted() && severity(EXIT_TEMPFAIL) > severity(worst)) {
		worst = total->exit_code = EXIT_TEMPFAIL;
		snprintf(total->error, sizeof total->error, "interrupted by a signal; run again to finish");
	}
	if (total->table[0] == '\0')
		snprintf(total->table, sizeof total->table, "%s", o->table);
	total->started = true;
	total->dry_run = o->dry_run != 0;
	summary_print(stderr, total);
	if (o->summary && summary_write_json(o->summary, total) < 0) {
		log_event(o->log_format, LOG_ERROR, "summary_failed", "cannot write the summary to %s: %s", o->summary,
			  strerror(errno));
		if (worst == EXIT_OK)
			worst = EXIT_NOINPUT;
	}
	return worst;
}

int run_main(const struct options *o)
{
	struct err e;
	err_clear(&e);
	/* Between two files a signal must end the run as gracefully as during one. */
	load_catch_signals();
	if (o->rejects != NULL) {
		fprintf(stderr,
			"edonu-ingest: run writes each file's rejects beside it in failed/; --rejects is for load\n");
		return EXIT_USAGE;
	}
	struct summary total;
	memset(&total, 0, sizeof total);
	int lock_fds[2] = {-1, -1}, spool_fd = -1;
	struct engine *eng = NULL;
	struct monitor *mon = NULL;
	char **names = NULL;
	size_t n = 0;
	struct spool_left left = {0, 0, 0};
	int worst;
	if (open_spool(o, &spool_fd, lock_fds, &e) < 0 || list_spool(o, spool_fd, &names, &n, &left, &e) < 0)
		goto fail;
	log_event(o->log_format, LOG_INFO, "spool",
		  "%s: %zu files to load%s; left for later: %zu settling (changed less than %u s ago, --settle), %zu "
		  "with temporary names (.part, .tmp, hidden); %zu not regular files (never loaded: FIFOs, devices, "
		  "symbolic links)",
		  o->spool, n, o->shard_n ? " in this shard" : "", left.settling, o->settle_s, left.temporary,
		  left.not_regular);
	/* One engine, one set of connections, for every file of the run; its
	 * connection and the table are checked even when no file waits, so
	 * that a broken job does not look healthy until files arrive. */
	if ((mon = monitor_create(o, &e)) == NULL || (eng = engine_create(o, mon, &e)) == NULL ||
	    engine_check(eng, o, &e) < 0)
		goto fail;
	monitor_run_begin(mon, n);
	for (size_t i = 0; i < n && !load_interrupted(); i++) {
		bool stop;
		monitor_run_file_start(mon, names[i]);
		run_file(eng, o, spool_fd, names[i], &total, &stop);
		if (stop)
			break;
	}
	worst = run_report(o, &total);
	goto done;

fail:
	log_event(o->log_format, LOG_ERROR, "run_failed", "%s", e.msg);
	worst = e.code ? e.code : EXIT_SOFTWARE;
	if (o->summary) {
		total.exit_code = worst;
		total.dry_run = o->dry_run != 0;
		snprintf(total.table, sizeof total.table, "%s", o->table);
		snprintf(total.error, sizeof total.error, "%s", e.msg);
		summary_write_json(o->summary, &total);
	}
done:
	engine_free(eng);
	monitor_free(mon);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	unlock_spool(lock_fds);
	if (spool_fd >= 0)
		close(spool_fd);
	return worst;
}
