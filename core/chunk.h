/* chunk.h - a numbered run of whole records: the unit of work, of a batch and of a transaction. */
#ifndef EDONU_CHUNK_H
#define EDONU_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct source;

/* Flags of a record in a chunk. */
enum {
	/* The record is longer than --max-record-bytes: it is rejected
	 * without being parsed. */
	REC_TOO_LONG = 1u << 0,
	/* And data keeps only its first RECORD_CUT_BYTES (limits.h), end of
	 * line excluded; a record flagged REC_TOO_LONG alone is whole. */
	REC_CUT = 1u << 1,
};

/* Filled by the framer on the reader thread, consumed by one worker, then
 * handed back to the reader. All arrays are allocated once by chunk_create;
 * only a record longer than the data buffer gets one of its own
 * (chunk_grow), which lives until the chunk is reset. */
struct chunk {
	const struct source *src; /* which input this chunk came from */
	uint64_t seq;             /* chunk number within the source, from 0 */
	uint64_t order;           /* position among the chunks this run hands to workers (upserts commit in it) */
	uint64_t first_record;    /* record number (1-based, header excluded) of record 0 */
	uint64_t first_line;      /* physical line (1-based) where record 0 starts */
	uint64_t byte_offset;     /* offset of record 0 in the (decompressed) input */
	uint64_t byte_end;        /* offset just past its last record: the chunk's place in the input is
				   * [byte_offset, byte_end), the ledger's identity of it */
	uint32_t nrecords;
	uint32_t records_max; /* capacity of rec_off/rec_flags: --batch-rows */
	uint32_t *rec_off;    /* nrecords + 1 entries; record i is data[rec_off[i] .. rec_off[i+1]) */
	uint8_t *rec_flags;   /* nrecords entries, REC_* */
	char *data;           /* records as read, end-of-line bytes included */
	size_t data_len;
	size_t data_cap;
	char *base;      /* the data buffer made by chunk_create; data is base unless grown */
	size_t base_cap; /* its size */
	uint8_t eol;     /* line-ending style of the input, FRAME_EOL_* (stages/frame.h) */
	uint32_t owner;  /* index of the worker that owns this chunk's memory */
};

/* Allocates a chunk for records_max records in data_cap bytes; NULL on ENOMEM. */
struct chunk *chunk_create(uint32_t records_max, size_t data_cap);
void chunk_free(struct chunk *c);
/* Empties the chunk for reuse; keeps the memory chunk_create made and
 * frees a buffer chunk_grow made. */
void chunk_reset(struct chunk *c);

/* Gives c a data buffer of its own of cap bytes (more than data_cap), for a
 * record longer than its buffer; the bytes it holds are kept. Returns 0, or
 * -1 on ENOMEM with c unchanged. */
int chunk_grow(struct chunk *c, size_t cap);

/* Whether c holds a buffer of chunk_grow's. */
static inline bool chunk_grown(const struct chunk *c)
{
	return c->data != c->base;
}

/* Chunk buffer size for a --batch-rows value (see limits.h). */
size_t chunk_bytes_for(uint32_t batch_rows);

#endif
