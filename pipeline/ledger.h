/* ledger.h - the exactly-once ledger in schema edonu_ingest: which sources and chunks are committed. */
#ifndef EDONU_LEDGER_H
#define EDONU_LEDGER_H

#include "err.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* Schema version this build writes; an older ledger is migrated, a newer one refused. */
#define LEDGER_VERSION 1

/* What the ledger knows of one source loaded into one table. */
struct ledger_source {
	char source_id[96];
	char target[160];
	uint32_t batch_rows; /* the chunking the source started with */
	bool complete;       /* loaded whole on an earlier run */
	uint64_t records;    /* when complete: records of the source */
	uint64_t loaded;
	uint64_t rejected;
	uint64_t *done; /* committed chunk numbers, ascending */
	uint32_t ndone;
	uint32_t done_cap;
};

/* Creates schema edonu_ingest and its tables when missing (under an
 * advisory lock, so concurrent first runs do not race), migrates an older
 * version, refuses a newer one (EXIT_CONFIG). */
int ledger_setup(PGconn *c, struct err *e);

/* Locks the source for this session (another run holding it: EXIT_TEMPFAIL),
 * registers it, and reads what is committed. force: forget earlier loads of
 * it and start a new one. batch_rows is used for a new source; a resumed one
 * keeps its own. */
int ledger_begin(PGconn *c, const char *source_id, const char *target, const char *name, uint32_t batch_rows,
		 bool force, struct ledger_source *ls, struct err *e);

/* Takes the source's lock again on a new connection (after the old one was
 * lost); EXIT_TEMPFAIL when another run took it meanwhile. */
int ledger_relock(PGconn *c, const struct ledger_source *ls, struct err *e);

/* Whether chunk seq is committed (binary search). */
bool ledger_chunk_done(const struct ledger_source *ls, uint64_t seq);

/* The statement that records a chunk, run in the chunk's own transaction. */
#define LEDGER_CHUNK_SQL                                                                         \
	"INSERT INTO edonu_ingest.chunks (source_id, target, chunk, records, loaded, rejected) " \
	"VALUES ($1, $2, $3, $4, $5, $6)"

/* After a lost connection: was chunk seq committed after all? 1 yes (loaded
 * set), 0 no, -1 on error. */
int ledger_chunk_committed(PGconn *c, const char *source_id, const char *target, uint64_t seq, uint64_t *loaded,
			   struct err *e);

/* Marks the source complete with its totals summed from its chunks. */
int ledger_finish(PGconn *c, struct ledger_source *ls, struct err *e);

/* Releases the source's lock and memory. */
void ledger_end(PGconn *c, struct ledger_source *ls);

#endif
