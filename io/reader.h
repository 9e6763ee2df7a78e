/* reader.h - reads a file or stdin with io_uring, several large reads in flight, zstd decoded transparently. */
#ifndef EDONU_READER_H
#define EDONU_READER_H

#include "../core/err.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reader;

/* Opens path ("-" or NULL: standard input) and its io_uring. The first bytes
 * decide whether the stream is zstd (magic 28 b5 2f fd, also skippable frames),
 * whatever the name. On error returns NULL with e->code EXIT_NOINPUT and a
 * message naming the file and the reason. */
struct reader *reader_open(const char *path, struct err *e);

/* The same over fd, opened by the caller and left open (the caller closes
 * it after reader_close): an input is opened once, and what identifies it
 * (io/fingerprint.h) reads the very file that is loaded. A regular file is
 * read whole, from offset 0 whatever fd's offset, with reads at offsets
 * that leave it where it was. name is for messages. */
struct reader *reader_open_fd(int fd, const char *name, struct err *e);

/* Returns the next block of input bytes (decompressed when zstd) in *data:
 * > 0 its length, 0 at end of input, -1 on a read or decode error (e set,
 * EXIT_NOINPUT for read errors, EXIT_DATAERR for corrupt zstd). The block stays
 * valid until the next call. Blocks from a file arrive in file order. */
long reader_next(struct reader *r, const char **data, struct err *e);

/* What reader_next_until returns when its deadline passed first. */
#define READER_WAITING (-2)

/* reader_next for a stream (reader_is_stream) whose bytes may pause: when
 * none have arrived by deadline_ns (clock_mono_ns; 0: no deadline) it
 * returns READER_WAITING, and the read stays queued, so that calling it
 * again goes on waiting for the same bytes and none are lost. Files, and
 * a stream's first block (it decides zstd), ignore the deadline. */
long reader_next_until(struct reader *r, const char **data, uint64_t deadline_ns, struct err *e);

/* Whether the input is a stream (a pipe, a FIFO, a socket, a terminal):
 * its bytes arrive as a writer writes them, and its end is the writer's. */
bool reader_is_stream(const struct reader *r);

/* Total size of the input file in bytes, or -1 when unknown (a pipe). */
int64_t reader_size(const struct reader *r);
/* Raw bytes read from the file so far (compressed bytes for zstd). */
uint64_t reader_bytes_read(const struct reader *r);
bool reader_is_zstd(const struct reader *r);
/* While a pipe keeps the reader waiting for its next bytes, *stop is looked
 * at every 250 ms; once it is true, reader_next returns -1 with
 * EXIT_TEMPFAIL. Files are not waited on that way: their reads end. */
void reader_watch_stop(struct reader *r, const _Atomic bool *stop);
/* Uses plain read(2) instead of io_uring (the bench's comparison). Call before the first reader_next. */
void reader_use_plain_read(struct reader *r);

void reader_close(struct reader *r);

#endif
