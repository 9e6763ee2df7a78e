/* codec.h - one chunk of records to COPY input: each record parsed by its format, checked against the mapping and encoded as a binary COPY tuple, or kept as a text COPY line for the server to decide; the workers' per-chunk work, and the bench's. */
#ifndef EDONU_CODEC_H
#define EDONU_CODEC_H

#include "../core/chunk.h"
#include "../core/table.h"
#include "format.h"
#include "record.h"
#include "sink_pg.h"
#include "transform.h"

#include <stddef.h>
#include <stdint.h>

/* What the codec needs of a source and its target: set once per source,
 * read-only after (workers share it). */
struct codec_source {
	const struct format_ops *format;
	struct format_conf conf;        /* the format's settings: dialect, NDJSON keys */
	const struct mapping *map;      /* input field k fills column map->col[k] */
	const struct table_info *table; /* the columns' types and the session */
};

/* Told of each record the codec rejects, in record order: its index in the
 * chunk, the column to blame (NULL when none) and PostgreSQL's message. */
typedef void codec_reject_fn(void *ctx, uint32_t rec, const char *column, const char *message);
/* Told of each record the codec accepts, binary and deferred alike, in
 * record order, with its fields (valid during the call only). -1 stops the
 * chunk: codec_encode_chunk returns -1. */
typedef int codec_accept_fn(void *ctx, uint32_t rec, const struct field *fields, uint32_t nfields);

/* Either may be NULL. */
struct codec_hooks {
	codec_reject_fn *reject;
	codec_accept_fn *accept;
	void *ctx;
};

/* What a chunk came to, besides its batch. */
struct codec_stats {
	uint32_t rejected;     /* records rejected here (the reject hook's calls) */
	uint64_t unknown_keys; /* NDJSON keys that name no mapped column */
};

/* One thread's work space: fields, parse scratch, encoded tuples and text
 * lines and their offsets, sized at start-up for a full chunk. The buffers
 * grow only for a chunk of unusually wide values or for a record longer
 * than a chunk: the parse's copy of its fields that had to be rewritten
 * (quotes, escapes), and its text line when the server decides it; its
 * long text and JSON values are not copied into the tuples. */
struct codec;

/* Work space for chunks of up to records_max records in chunk_bytes bytes;
 * record_bytes_max is the bound a REC_TOO_LONG record broke, named in its
 * message. NULL on ENOMEM. */
struct codec *codec_create(uint32_t records_max, size_t chunk_bytes, size_t record_bytes_max);
void codec_free(struct codec *k);

/* Returns buffers that a record longer than a chunk grew to their start-up
 * sizes, so that its copies do not outlive its chunk. What the last
 * codec_encode_chunk or codec_parse_record handed out is invalid after. */
void codec_trim(struct codec *k);

/* Parses, maps and encodes every record of c, as COPY would take it: a
 * record the server would certainly refuse (malformed, wrong field count,
 * a value its type refuses) goes to the reject hook; the others go to the
 * accept hook, then into *b as a binary tuple, or as a text COPY line when
 * an encoder cannot decide one of its values (or the mapping is not all
 * binary). Upserts (map->stage_sql) end each tuple and line with the
 * record's index. Text and JSON values of at least 256 KiB are not copied
 * into the tuples: b's extents point at them, in c or in k (sink_pg.h).
 * Fills b's tuples, extents and lines (valid until k's next use, and while
 * c is unchanged) and zeroes the rest of *b. Nothing is allocated per
 * record. Returns 0, or -1 when the accept hook stopped it. */
int codec_encode_chunk(struct codec *k, const struct codec_source *s, const struct chunk *c,
		       const struct codec_hooks *h, struct sink_batch *b, struct codec_stats *st);

/* Parses record i of c as codec_encode_chunk does, without encoding it:
 * *fields (valid until k's next use) gets its fields and the field count is
 * returned, and the NDJSON keys that name no column are added to
 * *unknown_keys; or -1 with PostgreSQL's message in msg and the column to
 * blame in *column (NULL when none). */
int codec_parse_record(struct codec *k, const struct codec_source *s, const struct chunk *c, uint32_t i,
		       const struct field **fields, uint64_t *unknown_keys, char *msg, size_t msgsz,
		       const char **column);

#endif
