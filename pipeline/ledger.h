/* ledger.h - the exactly-once ledger in schema edonu_ingest: which sources and chunks are committed. */
#ifndef EDONU_LEDGER_H
#define EDONU_LEDGER_H

#include "../core/err.h"
#include "../core/spans.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* Schema version this build writes; an older ledger is migrated, a newer one refused. */
#define LEDGER_VERSION      4

/* The options that decide what a load stores (dialect, columns, conflict
 * handling), as text: a rerun with other settings is not the same load. */
#define LEDGER_SETTINGS_MAX 512

/* What the ledger knows of one source loaded into one table: target is the
 * table's name "schema"."table", always quoted (table_info.ident). */
struct ledger_source {
	char source_id[96];
	char target[264];
	uint32_t batch_rows; /* the chunking the source started with */
	bool complete;       /* loaded whole on an earlier run */
	uint64_t records;    /* when complete: records of the source */
	uint64_t loaded;
	uint64_t rejected;                  /* when complete: all its rejects; else those of its committed chunks */
	uint64_t ignored;                   /* when complete: records --on-conflict ignore left out */
	char settings[LEDGER_SETTINGS_MAX]; /* of the earlier load; "" when unknown */
	char finished_at[40];               /* when complete, as the server prints it */
	uint64_t committed_records;         /* records of its committed chunks */
	uint64_t *done;                     /* committed chunk numbers, ascending */
	uint32_t ndone;
	uint32_t done_cap;
	/* Where the committed chunks lie in the input (records and bytes),
	 * merged: a resumed load skips these records, whatever chunks it cuts
	 * them into. */
	struct spans committed;
	/* Some committed chunk was written by a version that did not record
	 * positions: the source resumes by chunk numbers, as it did then (its
	 * chunks were cut by count and size alone, which a rerun repeats). */
	bool by_number;
};

/* Trusts the ledger only when the current role is, or is a member of, the
 * owner of its schema and each of its tables, or that owner is a
 * superuser (else EXIT_CONFIG naming the owner, before any statement
 * touches it: see grants.h). Creates schema edonu_ingest and its tables
 * when missing (under an advisory lock, so concurrent first runs do not
 * race), migrates an older version, refuses a newer one; checks the
 * privileges the loader uses on it. A role that may not create or migrate
 * the ledger, or lacks a privilege, is EXIT_CONFIG naming what to grant
 * or run. On a connection whose search_path is pg_catalog's. */
int ledger_setup(PGconn *c, struct err *e);

/* Locks the source for this session (another run holding it: EXIT_TEMPFAIL),
 * registers it, and reads what is committed. force: forget earlier loads of
 * it and start a new one. batch_rows is used for a new source; a resumed one
 * keeps its own. */
int ledger_begin(PGconn *c, const char *source_id, const char *target, const char *name, uint32_t batch_rows,
		 const char *settings, bool force, struct ledger_source *ls, struct err *e);

/* Which identities of a file the ledger knows for target: file_id is the
 * file's identity ("file:SIZE-HASH"), legacy_len the length of the identity
 * an earlier build's fingerprint gives a file of that size. Returns 1 when
 * the ledger knows file_id, 2 when it does not but has a source of target
 * with an identity of that shape (the file may be among them, under its
 * earlier identity), 0 when neither, -1 on error. */
int ledger_file_known(PGconn *c, const char *file_id, size_t legacy_len, const char *target, struct err *e);

/* 1 when the ledger has source_id for target, 0 when not, -1 on error. */
int ledger_has_source(PGconn *c, const char *source_id, const char *target, struct err *e);

/* Takes the source's lock again on a new connection (after the old one was
 * lost); EXIT_TEMPFAIL when another run took it meanwhile. */
int ledger_relock(PGconn *c, const struct ledger_source *ls, struct err *e);

/* Whether chunk seq is committed (binary search). */
bool ledger_chunk_done(const struct ledger_source *ls, uint64_t seq);

/* The number for the next chunk a run commits: the smallest at or after
 * *next that no earlier run committed; *next moves past it. Chunk numbers
 * name a source's chunks in the ledger and its rejects; where a chunk lies
 * is its first record and byte range, so the numbers only need to be
 * unique. For input cut as an earlier run cut it, they are that run's. */
uint64_t ledger_chunk_number(const struct ledger_source *ls, uint64_t *next);

/* A chunk's row in edonu_ingest.chunks is written by the sink
 * (stages/sink_pg.c) in the chunk's own transaction, with its position
 * (first_record and records, byte_offset and byte_end), the rows merged
 * for upserts and rejects_written true only when it has no rejects. Its
 * rejects (LEDGER_REJECTS_COPY) go in the same transaction and count as
 * written to the rejects file once ledger_rejects_written says so. */

/* The COPY (text format) that records a chunk's rejects: one line per
 * rejected record. raw and header are bytea (\\x hex in text format). */
#define LEDGER_REJECTS_COPY                                                                                       \
	"COPY edonu_ingest.rejects (source_id, target, chunk, record, line, byte_offset, column_name, sqlstate, " \
	"message, raw, header) FROM STDIN"

/* One recorded reject, as ledger_rejects_read hands it over. Strings are
 * valid until the callback returns; column, sqlstate, header may be NULL. */
struct ledger_reject {
	uint64_t chunk;
	uint64_t record;
	uint64_t line;
	uint64_t byte_offset;
	const char *column;
	const char *sqlstate;
	const char *message;
	const char *raw;
	size_t raw_len;
	const char *header;
	size_t header_len;
};
typedef int ledger_reject_fn(void *ctx, const struct ledger_reject *r, struct err *e);

/* Streams the source's recorded rejects in record order to fn: all of
 * them, or (pending_only) those of chunks whose rejects are not yet known
 * to be in a rejects file. fn returning -1 stops with its error. Returns
 * the number handed to fn, or -1 with e. */
long ledger_rejects_read(PGconn *c, const struct ledger_source *ls, bool pending_only, ledger_reject_fn *fn, void *ctx,
			 struct err *e);

/* The rejects of chunks (n chunk numbers) are durable in the rejects file. */
int ledger_rejects_written(PGconn *c, const struct ledger_source *ls, const uint64_t *chunks, uint32_t n,
			   struct err *e);

/* After a lost connection: was chunk seq committed after all? 1 yes (loaded
 * set), 0 no, -1 on error. */
int ledger_chunk_committed(PGconn *c, const char *source_id, const char *target, uint64_t seq, uint64_t *loaded,
			   struct err *e);

/* Marks the source complete with its totals summed from its chunks
 * (ignore: --on-conflict ignore, whose records left out are counted as
 * ignored). */
int ledger_finish(PGconn *c, struct ledger_source *ls, bool ignore, struct err *e);

/* Makes every commit so far durable: the batches commit without waiting
 * for the disk (stages/sink_pg.h), and a synchronous commit that writes
 * (here, of the source's row, unchanged) flushes the log up to itself. */
int ledger_sync(PGconn *c, const struct ledger_source *ls, struct err *e);

/* Releases the source's lock and memory. */
void ledger_end(PGconn *c, struct ledger_source *ls);

#endif
