/* fingerprint.h - a file's identity from its content: its size and a hash of all its bytes. */
#ifndef EDONU_FINGERPRINT_H
#define EDONU_FINGERPRINT_H

#include "../core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read size while hashing. */
#define FINGERPRINT_READ_BYTES ((size_t)1 << 20)

/* Room for a fingerprint and its NUL. */
#define FINGERPRINT_BYTES      64

/* Writes "SIZE-HASH" (size in decimal, a 128-bit hash in 32 hex digits) of
 * the regular file open as fd into out (at least FINGERPRINT_BYTES),
 * reading it from offset 0 (fd's offset does not move): the caller then
 * loads the very file it fingerprinted, through the same descriptor,
 * whatever happens to its name meanwhile. A rename or copy keeps the
 * fingerprint; a change of any byte changes it. The whole file is hashed: a
 * file changed only in its middle (a corrected price) is a new source, never
 * mistaken for one already loaded. Cost: one extra sequential pass, mapped,
 * at memory speed (about 12 GB/s from the page cache); a file that shrinks
 * meanwhile is a read error. Returns 1 when done, 0 when fd is not a regular
 * file (a pipe has no fingerprint), -1 on a read error (e set, EXIT_NOINPUT,
 * naming name). */
int fingerprint_fd(int fd, const char *name, char *out, size_t outsz, struct err *e);

/* The fingerprint earlier builds took ("SIZE-HASH", 16 hex digits; about 4x
 * slower), under which their ledgers know the files they loaded. Same
 * contract as fingerprint_fd. */
int fingerprint_fd_v1(int fd, const char *name, char *out, size_t outsz, struct err *e);

/* The fingerprints of several descriptors, taken by one background thread in
 * order while the caller does other things (connects, reads the catalog):
 * the whole-file hash is then off the path to the first chunk. */
struct fingerprint_set;

/* Starts fingerprinting fds[0..n) (names for the errors; a descriptor < 0
 * gets none). Both arrays must outlive the set. NULL with e when no thread
 * could start. */
struct fingerprint_set *fingerprint_set_start(const int *fds, const char *const *names, uint32_t n, struct err *e);

/* Waits for descriptor i's fingerprint: what fingerprint_fd returns for it
 * (a descriptor < 0 gives 0). */
int fingerprint_set_wait(struct fingerprint_set *s, uint32_t i, char *out, size_t outsz, struct err *e);

/* Stops the thread at its next read and frees the set (NULL: nothing). */
void fingerprint_set_free(struct fingerprint_set *s);

#endif
