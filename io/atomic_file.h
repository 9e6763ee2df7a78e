/* atomic_file.h - replacing a small file whole, so that readers never see half of it, without ever replacing what is not a regular file. */
#ifndef EDONU_ATOMIC_FILE_H
#define EDONU_ATOMIC_FILE_H

#include <stddef.h>

/* Writes data to path: a regular file (or a new one) is replaced by
 * writing PATH.tmpPID beside it and renaming it over path, so a reader sees
 * the old content or the new. The temporary file is created 0600 with
 * O_EXCL|O_NOFOLLOW (never through a link, never into a file that was
 * there) and given, before the rename, the mode a new file gets: 0644 less
 * the umask. A symbolic link at path is replaced, not written through,
 * unless it leads to a device or FIFO: anything else that stands at path
 * (a device such as /dev/null or /dev/stdout, a FIFO) is written to as it
 * is, never replaced. Returns 0, or -1 with errno and *what ("create",
 * "write", "rename") naming the step that failed. */
int atomic_file_write(const char *path, const void *data, size_t len, const char **what);

/* Writes all of data to fd, resuming after signals and short writes.
 * Returns 0 or -1 (errno). */
int atomic_file_write_all(int fd, const void *data, size_t n);

#endif
