/* atomic_file.c - replacing a small file whole, or writing through to a device or FIFO. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_file_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The process's umask, read without setting it (umask(2) sets it, for
 * every thread, if only for a moment): Linux's /proc/self/status. 077 when
 * it cannot be read, so that a file is then no more open than a private one. */
static mode_t process_umask(void)
{
	mode_t m = 077;
	FILE *f = fopen("/proc/self/status", "re");
	if (f == NULL)
		return m;
	char line[256];
	unsigned v;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "Umask: %o", &v) == 1) {
			m = (mode_t)v & 0777;
			break;
		}
	}
	fclose(f);
	return m;
}

/* Writes data to fd and closes it, giving it mode first when mode is not 0.
 * -1 with errno and *what. */
static int write_close(int fd, mode_t mode, const void *data, size_t len, const char **what)
{
	*what = "write";
	int rc = atomic_file_write_all(fd, data, len);
	if (rc == 0 && mode != 0 && fchmod(fd, mode) < 0)
		rc = -1;
	int saved = errno;
	if (close(fd) < 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	errno = saved;
	return rc;
}

/* Creates the temporary file tmp, 0600 while it is written and never
 * through a link nor into a file that was there: a name left by an earlier
 * process with this pid, or planted, is removed (a link itself, not what
 * it points to) and made anew. It ends with the mode a new file gets. */
static int write_tmp(const char *tmp, const void *data, size_t len, const char **what)
{
	*what = "create";
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(tmp, flags, 0600);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, flags, 0600);
	if (fd < 0)
		return -1;
	return write_close(fd, 0644 & ~process_umask(), data, len, what);
}

int atomic_file_write(const char *path, const void *data, size_t len, const char **what)
{
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A device or FIFO (/dev/stdout, a pipe to a collector), also
		 * named through a link: written through, never replaced. */
		*what = "create";
		int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		return fd < 0 ? -1 : write_close(fd, 0, data, len, what);
	}
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 24);
	if (tmp == NULL) {
		*what = "create";
		errno = ENOMEM;
		return -1;
	}
	snprintf(tmp, pl + 24, "%s.tmp%ld", path, (long)getpid());
	int rc = write_tmp(tmp, data, len, what);
	if (rc == 0) {
		/* A link at path is replaced, not followed. */
		*what = "rename";
		rc = rename(tmp, path);
	}
	if (rc < 0) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
	}
	free(tmp);
	return rc;
}
