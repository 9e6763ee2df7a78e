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

/* Opens, writes and closes path with flags; -1 with errno and *what. */
static int write_file(const char *path, int flags, const void *data, size_t len, const char **what)
{
	*what = "create";
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	*what = "write";
	int rc = atomic_file_write_all(fd, data, len);
	int saved = errno;
	if (close(fd) < 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	errno = saved;
	return rc;
}

int atomic_file_write(const char *path, const void *data, size_t len, const char **what)
{
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return write_file(path, O_WRONLY, data, len, what);
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 24);
	if (tmp == NULL) {
		*what = "create";
		errno = ENOMEM;
		return -1;
	}
	snprintf(tmp, pl + 24, "%s.tmp%ld", path, (long)getpid());
	int rc = write_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, data, len, what);
	if (rc == 0) {
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
