/* bench_proc.c - the bench's files and child processes: loaders and psql run to their end, their output captured, and the throwaway servers of bench/servers.sh. */
#include "bench_suite.h"

#include "../core/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Bytes of a failed child's log shown to the user. */
#define LOG_TAIL_BYTES   1500
/* The most loaders started at once: the floor's, one per worker. */
#define CHILDREN_MAX     256u
/* How long a finished load's backends may take to end, and how often
 * that is looked at. */
#define SETTLE_TIMEOUT_S 10.0
#define SETTLE_POLL_MS   10

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0)
		fprintf(stderr, "edonu-ingest: bench: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* Removes the tree under path (our temporary directory, nothing else). */
void bench_remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int64_t bench_file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Looks name up in PATH; fills out (PATH_MAX) and returns true when found. */
bool bench_find_in_path(const char *name, char *out)
{
	const char *path = getenv("PATH");
	if (path == NULL)
		return false;
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n > 0 && snprintf(out, PATH_MAX, "%.*s/%s", (int)n, path, name) < PATH_MAX &&
		    access(out, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* Waits for pid, also through signals; returns the exit code, or 128 + the
 * signal that killed it, as a shell reports it. *cpu_s (when not NULL)
 * gets its CPU-seconds, user and system, its own reaped children's too. */
static int reap_cpu(pid_t pid, double *cpu_s)
{
	int status;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR)
			return 128;
	}
	if (cpu_s != NULL)
		*cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
			 (double)ru.ru_stime.tv_usec / 1e6;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static int reap(pid_t pid)
{
	return reap_cpu(pid, NULL);
}

/* In a child: standard input from /dev/null, standard output to out_fd (or
 * /dev/null when -1), standard error appended to the log file, then exec
 * argv. Only async-signal-safe calls, since the parent may have threads
 * (libpq). */
static _Noreturn void child_exec(char *const argv[], int out_fd, const char *log)
{
	int null_fd = open("/dev/null", O_RDWR);
	int log_fd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
	if (null_fd < 0)
		_exit(127);
	dup2(null_fd, STDIN_FILENO);
	dup2(out_fd >= 0 ? out_fd : null_fd, STDOUT_FILENO);
	if (log_fd >= 0)
		dup2(log_fd, STDERR_FILENO);
	execvp(argv[0], argv);
	_exit(127);
}

/* Runs the n commands at once with their stderr in b->log (emptied first);
 * the time is from the first fork to the last reap. A command that cannot
 * be started exits 127. */
int bench_run_children(const struct bench *b, char *const *const argvs[], uint32_t n, struct run_cost *c)
{
	ASSERT(n > 0 && n <= CHILDREN_MAX);
	int log_fd = open(b->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log_fd >= 0)
		close(log_fd);
	pid_t pid[CHILDREN_MAX];
	double t0 = clock_mono_s();
	for (uint32_t i = 0; i < n; i++) {
		pid[i] = fork();
		if (pid[i] == 0)
			child_exec(argvs[i], -1, b->log);
	}
	int rc = 0;
	c->cpu_loader_s = 0;
	for (uint32_t i = 0; i < n; i++) {
		double cpu = 0;
		int one = pid[i] < 0 ? 127 : reap_cpu(pid[i], &cpu);
		c->cpu_loader_s += cpu;
		if (rc == 0)
			rc = one;
	}
	c->seconds = clock_mono_s() - t0;
	return rc;
}

/* Runs argv and keeps the first cap - 1 bytes of its standard output in out
 * (NUL-terminated). Returns its exit code, or -1 when it could not run. */
int bench_capture_output(char *const argv[], char *out, size_t cap)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0)
		child_exec(argv, p[1], NULL);
	close(p[1]);
	size_t len = 0;
	for (;;) {
		char sink[4096];
		char *dst = len + 1 < cap ? out + len : sink;
		size_t room = len + 1 < cap ? cap - 1 - len : sizeof sink;
		ssize_t n = read(p[0], dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != sink)
			len += (size_t)n;
	}
	out[len] = '\0';
	close(p[0]);
	return reap(pid);
}

/* Shows the end of the last child's stderr, to say why it failed. */
void bench_show_log_tail(const struct bench *b)
{
	FILE *f = fopen(b->log, "r");
	if (f == NULL)
		return;
	char tail[LOG_TAIL_BYTES + 1];
	if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > LOG_TAIL_BYTES)
		fseek(f, -LOG_TAIL_BYTES, SEEK_END);
	else
		rewind(f);
	size_t n = fread(tail, 1, LOG_TAIL_BYTES, f);
	tail[n] = '\0';
	fclose(f);
	if (n > 0)
		fprintf(stderr, "%s%s", tail, tail[n - 1] == '\n' ? "" : "\n");
}

/* ------------------------------------------------------------------------
 * The server's CPU-seconds, from /proc. */

/* One process's /proc stat: its parent, and its CPU time and that of its
 * reaped children, in clock ticks. false when it is gone. */
static bool proc_stat(pid_t pid, pid_t *ppid, unsigned long long *own, unsigned long long *reaped)
{
	char path[64], line[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, line, sizeof line - 1);
	close(fd);
	if (n <= 0)
		return false;
	line[n] = '\0';
	/* The command name may hold anything, even ')': skip to the last. */
	const char *p = strrchr(line, ')');
	int parent;
	unsigned long long ut, st, cut, cst;
	if (p == NULL || sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &parent, &ut,
				&st, &cut, &cst) != 5)
		return false;
	*ppid = (pid_t)parent;
	*own = ut + st;
	*reaped = cut + cst;
	return true;
}

/* The postmaster's CPU time with its reaped children's (a backend that has
 * ended is there), plus its live children's: the whole server's. */
double bench_server_cpu_s(pid_t postmaster, pid_t *kids, uint32_t cap, uint32_t *nkids)
{
	pid_t ppid;
	unsigned long long own, reaped;
	if (!proc_stat(postmaster, &ppid, &own, &reaped))
		return -1;
	unsigned long long ticks = own + reaped;
	*nkids = 0;
	DIR *d = opendir("/proc");
	if (d == NULL)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (pid <= 0 || *end != '\0' || !proc_stat((pid_t)pid, &ppid, &own, &reaped) || ppid != postmaster)
			continue;
		ticks += own + reaped;
		if (*nkids < cap)
			kids[(*nkids)++] = (pid_t)pid;
	}
	closedir(d);
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

pid_t bench_parent_of(pid_t pid)
{
	pid_t ppid;
	unsigned long long own, reaped;
	return proc_stat(pid, &ppid, &own, &reaped) ? ppid : 0;
}

static bool pid_in(pid_t pid, const pid_t *set, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (set[i] == pid)
			return true;
	}
	return false;
}

void bench_server_settle(pid_t postmaster, const pid_t *kids, uint32_t nkids)
{
	double until = clock_mono_s() + SETTLE_TIMEOUT_S;
	for (;;) {
		static pid_t now[SERVER_KIDS_MAX];
		uint32_t n = 0;
		if (bench_server_cpu_s(postmaster, now, SERVER_KIDS_MAX, &n) < 0)
			return;
		bool new_one = false;
		for (uint32_t i = 0; i < n && !new_one; i++)
			new_one = !pid_in(now[i], kids, nkids);
		if (!new_one || clock_mono_s() > until || bench_interrupted())
			return;
		nanosleep(&(struct timespec){.tv_nsec = SETTLE_POLL_MS * 1000000L}, NULL);
	}
}

/* ------------------------------------------------------------------------
 * Throwaway servers. */

/* Starts bench/servers.sh for the servers named and reads their addresses.
 * On error the script has been reaped and e says why (EXIT_UNAVAILABLE). */
int bench_servers_start(struct servers *s, const char *root, bool pg, bool redis, struct err *e)
{
	char script[PATH_MAX + 32];
	snprintf(script, sizeof script, "%s/bench/servers.sh", root);
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return err_set(e, EXIT_SOFTWARE, "pipe: %s", strerror(errno));
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return err_set(e, EXIT_SOFTWARE, "pipe: %s", strerror(errno));
	}
	char *argv[] = {"bash", script, pg ? "pg" : "redis", pg && redis ? "redis" : NULL, NULL};
	s->pid = fork();
	if (s->pid == 0) {
		/* Its stderr stays ours: lib.sh says what it started, or why not. */
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (s->pid < 0) {
		close(in[1]);
		close(out[0]);
		return err_set(e, EXIT_SOFTWARE, "fork: %s", strerror(errno));
	}
	s->to_fd = in[1];
	FILE *f = fdopen(out[0], "r");
	bool ready = false;
	char line[768];
	while (f != NULL && !ready && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "dsn=", 4) == 0)
			snprintf(s->dsn, sizeof s->dsn, "%s", line + 4);
		else if (strncmp(line, "redis=", 6) == 0)
			snprintf(s->redis, sizeof s->redis, "%s", line + 6);
		else if (strcmp(line, "ready") == 0)
			ready = true;
	}
	if (f != NULL)
		fclose(f);
	else
		close(out[0]);
	if (!ready) {
		close(s->to_fd);
		int rc = reap(s->pid);
		s->pid = 0;
		return err_set(e, EXIT_UNAVAILABLE,
			       "could not start a throwaway %s (%s exited %d); pass --dsn%s to use a running server",
			       pg ? "PostgreSQL" : "Redis", script, rc, pg ? "" : " and --redis");
	}
	return 0;
}

/* Closing the script's standard input stops its servers; wait for that. */
void bench_servers_stop(struct servers *s)
{
	if (s->pid <= 0)
		return;
	close(s->to_fd);
	reap(s->pid);
	s->pid = 0;
}

/* The source tree holds bench/servers.sh: EDONU_SOURCE_ROOT, else the
 * directory above the one this executable is in (build/edonu-ingest). */
int bench_find_source_root(struct bench *b, struct err *e)
{
	const char *env = getenv("EDONU_SOURCE_ROOT");
	char probe[PATH_MAX + 32];
	if (env != NULL && *env) {
		snprintf(b->root, sizeof b->root, "%s", env);
	} else {
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s", b->self);
		char *slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
		if (snprintf(b->root, sizeof b->root, "%s/..", dir) >= (int)sizeof b->root)
			return err_set(e, EXIT_CONFIG, "path too long: %s", dir);
	}
	snprintf(probe, sizeof probe, "%s/bench/servers.sh", b->root);
	if (access(probe, R_OK) < 0 ||
	    (snprintf(probe, sizeof probe, "%s/tests/integration/lib.sh", b->root), access(probe, R_OK) < 0))
		return err_set(e, EXIT_CONFIG,
			       "no source tree with bench/servers.sh at %s to start throwaway servers; pass --dsn "
			       "(and --redis), or set EDONU_SOURCE_ROOT",
			       b->root);
	return 0;
}
