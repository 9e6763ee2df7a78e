/* limits.h - every fixed bound of edonu-ingest, with the reason for it. */
#ifndef EDONU_LIMITS_H
#define EDONU_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* io_uring reads: 1 MiB is large enough that one syscall-free completion moves
 * a meaningful amount of data, small enough that four in flight stay in L2/L3. */
#define READ_BUF_BYTES      ((size_t)1 << 20)
/* Reads kept in flight on a regular file; a pipe gets one at a time since
 * concurrent reads of a pipe have no defined order. */
#define READ_BUFS_IN_FLIGHT 4
_Static_assert((READ_BUF_BYTES & (READ_BUF_BYTES - 1)) == 0, "read buffers are a power of two");

/* One chunk = one batch = one transaction = one COPY. 40000 rows of ~104
 * bytes is ~4 MiB of input: the server's cost of each COPY (~1 ms, setting
 * up its tuple slots anew) is 2% of the chunk's rows; at 20000 it was 4%,
 * and 1M orders loaded 3% slower. A retried chunk is still cheap. */
#define BATCH_ROWS_DEFAULT    40000u
#define BATCH_ROWS_MAX        1000000u

/* Bytes reserved per row when sizing a chunk buffer from --batch-rows; a
 * chunk also closes early when its buffer is full, so wide rows shorten
 * chunks instead of growing memory. The chunk size depends only on
 * --batch-rows, so chunk boundaries still depend only on input and options. */
#define CHUNK_BYTES_PER_ROW   256u
#define CHUNK_BYTES_MIN       ((size_t)1 << 20)
#define CHUNK_BYTES_MAX       ((size_t)32 << 20)

/* A plain file at least this long has its chunks shaped (stages/frame.h):
 * two small ones first, shrinking ones at the end. Below it the start and
 * end are short anyway, and every chunk holds --batch-rows records. */
#define FRAME_SHAPE_MIN_BYTES ((uint64_t)32 << 20)
#define FRAME_RAMP_CHUNKS     2u
#define FRAME_SHAPE_ROWS_MIN  256u
#define FRAME_SHAPE_BYTES_MIN ((size_t)256 << 10)

/* Chunks owned by each worker: one being processed, the rest queued so the
 * reader never waits on a worker that is committing. */
#define CHUNKS_PER_WORKER     3u
/* Power of two >= CHUNKS_PER_WORKER, for the SPSC rings that carry them. */
#define WORKER_RING_SLOTS     4u
_Static_assert(WORKER_RING_SLOTS >= CHUNKS_PER_WORKER, "a worker's ring holds all its chunks");
_Static_assert((WORKER_RING_SLOTS & (WORKER_RING_SLOTS - 1)) == 0, "ring sizes are powers of two");

#define WORKERS_MAX          256u

/* PostgreSQL allows 1600 columns per table; COPY input may carry more fields
 * than that only in error, and such a record is rejected. */
#define COLUMNS_MAX          1600u
#define FIELDS_MAX           (COLUMNS_MAX + 1u)

/* libpq copies each PQputCopyData call into its output buffer; 256 KiB keeps
 * that buffer small while making each socket write large. */
#define COPY_SEND_BYTES      ((size_t)256 << 10)

/* A reject line keeps at most this many bytes of the raw record. */
#define REJECT_RAW_BYTES_MAX ((size_t)64 << 10)

#define CACHE_LINE_BYTES     64u
/* alignas and aligned_alloc take only powers of two; this also ends the
 * aligned block of defines above. */
_Static_assert((CACHE_LINE_BYTES & (CACHE_LINE_BYTES - 1)) == 0, "cache lines are a power of two");

/* A record longer than a chunk is carried in a buffer of its own, grown as
 * it is read and freed once its chunk has committed; one such chunk is in
 * flight at a time, so memory stays the fixed budget plus about twice the
 * largest record: its bytes, and the parse's copy of values with quotes or
 * escapes. Long text and JSON values are sent from where they lie
 * (stages/codec.c); long bytea and numeric values encode smaller than their
 * text; a text COPY line (the server decides) is one more copy, escaped,
 * for the rare record that needs one. --max-record-bytes
 * bounds it: 256 MiB by default, a large JSON document or text several
 * times over. PostgreSQL takes at most 1 GB for one value and for one COPY
 * line (MaxAllocSize), so a larger bound could only load what the server
 * refuses. Counted without the line end (LF, CR or CRLF). */
#define RECORD_BYTES_DEFAULT ((size_t)256 << 20)
#define RECORD_BYTES_LIMIT   ((size_t)1 << 30)
/* Bytes of a record over the bound kept for its reject: a few past what a
 * rejects line holds, so that the line says it was cut. The rest of the
 * record is read and dropped. */
#define RECORD_CUT_BYTES     (REJECT_RAW_BYTES_MAX + 4)
/* rec_off and the batch's offsets are 32 bits: one record, escaped twice
 * over as a text COPY line at worst, still fits them. */
_Static_assert(2 * RECORD_BYTES_LIMIT + 2 < UINT32_MAX, "a record's offsets fit 32 bits");

/* A reject line keeps at most this many bytes of the source's header line,
 * which --from-rejects needs whole to map the fields. The longest header that
 * can map to a table names 1600 columns of at most 63 bytes, each byte
 * escaped in at most 4 (text's \xHH) plus a delimiter: about 405 KB. A
 * longer line cannot be a header that loaded, so cutting it loses nothing a
 * replay could use. */
#define REJECT_HEADER_BYTES_MAX ((size_t)1 << 20)
_Static_assert(REJECT_HEADER_BYTES_MAX >= (size_t)COLUMNS_MAX * (63 * 4 + 1), "a mappable header is never cut");
/* The writer escapes each byte in at most 6 (\u00XX); raw and header
 * dominate, and 64 KiB covers the source name, message, column and numbers.
 * --from-rejects refuses longer lines rather than growing without bound. */
#define REJECT_LINE_BYTES_MAX ((size_t)8 << 20)
_Static_assert(6 * (REJECT_RAW_BYTES_MAX + REJECT_HEADER_BYTES_MAX) + ((size_t)64 << 10) <= REJECT_LINE_BYTES_MAX,
	       "every line the rejects writer makes can be read back");

/* Keys of the summary's rejects_by_reason: a SQLSTATE (5 bytes) or one of
 * the short words of stages/reject_reason.h, with room to spare. */
#define REJECT_REASON_BYTES 24u
/* Distinct keys a tally keeps. The loader's own words are four and a load
 * meets a handful of SQLSTATEs; past this the rest count as "other". */
#define REJECT_REASONS_MAX  32u
/* Without --rejects, the rejects shown on stderr as they commit: enough to
 * see what is wrong, few enough that a file of bad records does not flood
 * the log. */
#define REJECTS_SHOWN_MAX   5u

#endif
