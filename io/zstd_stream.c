/* zstd_stream.c - streaming zstd decoding of concatenated (and skippable) frames into a caller's fixed buffer. */
#include "zstd_stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <zstd.h>

/* Little-endian magic numbers from the zstd format (RFC 8878). */
#define ZSTD_FRAME_MAGIC     0xFD2FB528u
#define ZSTD_SKIPPABLE_MAGIC 0x184D2A50u /* the low four bits are free */

struct zstd_stream {
	ZSTD_DStream *ds;
	/* The last return of ZSTD_decompressStream: 0 when a frame ended and
	 * everything was flushed, else a frame is still open. */
	size_t hint;
	bool started;
};

bool zstd_stream_detect(const void *p, size_t len)
{
	if (len < 4)
		return false;
	const unsigned char *b = p;
	uint32_t m = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return m == ZSTD_FRAME_MAGIC || (m & 0xFFFFFFF0u) == ZSTD_SKIPPABLE_MAGIC;
}

struct zstd_stream *zstd_stream_create(void)
{
	struct zstd_stream *z = calloc(1, sizeof *z);
	if (z == NULL)
		return NULL;
	z->ds = ZSTD_createDStream();
	if (z->ds == NULL) {
		free(z);
		return NULL;
	}
	ZSTD_initDStream(z->ds);
	return z;
}

void zstd_stream_free(struct zstd_stream *z)
{
	if (z == NULL)
		return;
	ZSTD_freeDStream(z->ds);
	free(z);
}

int zstd_stream_decode(struct zstd_stream *z, const void *in, size_t in_len, size_t *in_pos, void *out, size_t out_cap,
		       size_t *out_pos, struct err *e)
{
	ZSTD_inBuffer ib = {in, in_len, *in_pos};
	ZSTD_outBuffer ob = {out, out_cap, *out_pos};
	/* One call may stop early (output full, or input used up mid-block);
	 * loop while it makes progress so the caller sees a full buffer or
	 * consumed input. The loop ends: each pass consumes or produces. */
	for (;;) {
		size_t before_in = ib.pos, before_out = ob.pos;
		size_t r = ZSTD_decompressStream(z->ds, &ob, &ib);
		if (ZSTD_isError(r)) {
			*in_pos = ib.pos;
			*out_pos = ob.pos;
			return err_set(e, EXIT_DATAERR, "corrupt zstd data: %s", ZSTD_getErrorName(r));
		}
		/* A call that moved nothing (say, after a frame's end with no input
		 * left) answers for the next frame; keep the answer about the data. */
		if (ib.pos > before_in || ob.pos > before_out) {
			z->hint = r;
			z->started = true;
		}
		if (ob.pos == ob.size || (ib.pos == ib.size && ob.pos == before_out) ||
		    (ib.pos == before_in && ob.pos == before_out))
			break;
	}
	*in_pos = ib.pos;
	*out_pos = ob.pos;
	return 0;
}

int zstd_stream_end(struct zstd_stream *z, struct err *e)
{
	if (z->started && z->hint != 0)
		return err_set(e, EXIT_DATAERR, "corrupt zstd data: the input ends inside a frame");
	return 0;
}
