/* zstd_stream.h - streaming zstd decoder over caller-supplied blocks. */
#ifndef EDONU_ZSTD_STREAM_H
#define EDONU_ZSTD_STREAM_H

#include "../core/err.h"

#include <stdbool.h>
#include <stddef.h>

struct zstd_stream;

/* True when p[0..len) begins with a zstd frame or a skippable frame. */
bool zstd_stream_detect(const void *p, size_t len);

struct zstd_stream *zstd_stream_create(void);
void zstd_stream_free(struct zstd_stream *z);

/* Decodes from in[*in_pos..in_len) into out[*out_pos..out_cap), advancing both.
 * Returns 0 while fine, -1 on corrupt data (e: EXIT_DATAERR, message). */
int zstd_stream_decode(struct zstd_stream *z, const void *in, size_t in_len, size_t *in_pos, void *out, size_t out_cap,
		       size_t *out_pos, struct err *e);
/* At end of input: -1 with a message if the last frame was cut short. */
int zstd_stream_end(struct zstd_stream *z, struct err *e);

#endif
