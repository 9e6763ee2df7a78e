/* sink_pg.h - writes a batch to PostgreSQL in one transaction with binary COPY, isolating the records the server refuses. */
#ifndef EDONU_SINK_PG_H
#define EDONU_SINK_PG_H

#include "../core/buf.h"
#include "../core/err.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* True for SQLSTATEs worth retrying the whole transaction for. */
bool pg_sqlstate_transient(const char *sqlstate);

/* Whether an error is the server refusing one record rather than the whole
 * batch: data exceptions (class 22), constraint violations (23) and program
 * limits a value can hit (54: an index row too large, JSON nested too deep)
 * always are; any other error is when the server tied it to one record
 * (at_record: a "COPY t, line N" context), except a lost connection,
 * transient failures (pg_sqlstate_transient), privileges, undefined or
 * misconfigured objects (classes 28, 3D, 3F, 42), a canceled statement or an
 * operator's intervention (57), and the server's own faults (58, XX, 25). */
bool pg_sqlstate_refuses_record(const char *sqlstate, bool at_record);

/* Connects with dsn (NULL: libpq defaults and PG* variables), retrying with
 * capped exponential backoff while the server does not answer (or is
 * starting up, or has no free connection slot), for at most timeout_s
 * seconds; sets client_encoding UTF8. NULL with e: EXIT_UNAVAILABLE when it
 * gives up, EXIT_CONFIG at once for a bad connection string or a login the
 * server refuses (password, role, database). */
typedef void pg_retry_fn(void *ctx, const char *why, long wait_ms, double left_s);
/* on_retry (NULL: none) is told of each failed attempt that will be
 * retried: why, how long until the next one, how long retries go on. */
PGconn *pg_connect(const char *dsn, uint32_t timeout_s, pg_retry_fn *on_retry, void *ctx, struct err *e);

/* Sessions opened side by side: pg_open_start starts n of them (the
 * startup packets sent, so that the server starts their backends while the
 * caller goes on), pg_open_finish waits for them. A session not up at the
 * first try goes on as pg_connect, for what is left of timeout_s (one more
 * try at least). start: NULL with e (EXIT_CONFIG) for a bad dsn. finish: 0
 * with conns[0..n) set, or -1 with e as pg_connect and none left open; it
 * frees op either way, as abandon (which closes them all) does. */
struct pg_opening;
struct pg_opening *pg_open_start(const char *dsn, uint32_t n, uint32_t timeout_s, struct err *e);
int pg_open_finish(struct pg_opening *op, PGconn **conns, pg_retry_fn *on_retry, void *ctx, struct err *e);
void pg_open_abandon(struct pg_opening *op);

/* The first line of src (libpq's messages end in a newline and may span
 * lines) into dst. */
void pg_first_line(char *dst, size_t dstsz, const char *src);

/* Runs a statement that returns no rows; -1 with e on failure. */
int pg_exec(PGconn *c, const char *sql, struct err *e);

/* Runs COPY ... FROM STDIN (sql) with data as its input; -1 with e. */
int pg_copy_text(PGconn *c, const char *sql, const char *data, size_t len, struct err *e);

/* Bytes of a binary COPY tuple that are not in the batch's buffer: a large
 * value sent from where it lies (stages/codec.c), spliced in at offset at of
 * bin, after the field's header. */
struct sink_extent {
	uint32_t at;
	const char *p;
	size_t len;
};

/* One batch: tuples already encoded for binary COPY (tuple k is
 * bin->data[bin_off[k] .. bin_off[k+1]) with the extents that fall in it, at
 * > bin_off[k] and at <= bin_off[k+1]; a tuple starts with its field count,
 * never with an extent) and, for records an encoder left to the server,
 * text COPY lines (txt->data[txt_off[k] .. txt_off[k+1])). bin_rec/txt_rec
 * give each tuple's record index in its chunk. */
struct sink_batch {
	const struct buf *bin;
	const uint32_t *bin_off;
	const uint32_t *bin_rec;
	uint32_t nbin;
	const struct sink_extent *ext; /* in order of at; NULL when next is 0 */
	uint32_t next;
	const struct buf *txt;
	const uint32_t *txt_off;
	const uint32_t *txt_rec;
	uint32_t ntxt;
	/* The chunk's ledger row, written in the same transaction when
	 * ledger_source_id is not NULL (see pipeline/ledger.h). */
	const char *ledger_source_id;
	const char *ledger_target;
	uint64_t chunk;
	uint32_t records; /* all records of the chunk, rejected ones included */
	/* Where the chunk lies in its input: its first record's number and
	 * the bytes [byte_offset, byte_end) its records span. */
	uint64_t first_record;
	uint64_t byte_offset;
	uint64_t byte_end;
	/* Upserts: runs before the first statement that touches the table
	 * (the merge), to keep the chunks' merges in input order; may run
	 * again for a retried batch. -1 with e rolls back. */
	int (*before_target)(void *ctx, struct err *e);
	/* Runs last before COMMIT, once the refused records are known (the
	 * chunk's cache keys go to the journal there); -1 with e rolls back. */
	int (*before_commit)(void *ctx, struct err *e);
	void *before_commit_ctx; /* for both hooks */
};

/* Told of each record the server refused: its record index, SQLSTATE, the
 * server's message and the column when the server named one (else NULL). */
typedef void sink_reject_fn(void *ctx, uint32_t rec, const char *sqlstate, const char *message, const char *column);

struct pgsink;

/* Takes ownership of conn. */
struct pgsink *pgsink_create(PGconn *conn);
void pgsink_free(struct pgsink *s);
/* Replaces a lost connection (the old one is closed); per-connection set-up
 * such as the staging table is redone on next use. */
void pgsink_set_conn(struct pgsink *s, PGconn *conn);
PGconn *pgsink_conn(struct pgsink *s);

/* The statements of the target: two COPY statements with the same column
 * list (binary and text format). For upserts, stage_sql creates the
 * session's staging table (run once per connection), the COPY statements
 * fill it (each tuple ends with its record index, int4), and merge_sql
 * ($1, $2: a range of record indexes) moves those rows into the table
 * (INSERT ... ON CONFLICT) and out of the stage; both NULL for plain loads.
 * The strings must outlive their use. */
struct sink_statements {
	const char *copy_bin;
	const char *copy_txt;
	const char *stage;
	const char *merge;
};
void pgsink_set_statements(struct pgsink *s, const struct sink_statements *st);
/* Forgets the statements of an earlier job on this connection: the next
 * upsert makes its staging table anew (temporary tables of earlier jobs
 * are discarded then). */
void pgsink_reset(struct pgsink *s);
/* Rows the last committed batch wrote through merge (inserted, or updated
 * by DO UPDATE): fewer than it committed when ON CONFLICT DO NOTHING left
 * records out. -1 for plain loads (no merge). */
long pgsink_merged(const struct pgsink *s);

/* Loads the batch in one transaction and commits it, without waiting for
 * the commit to reach the disk (synchronous_commit off): a later
 * synchronous commit on any session makes it durable. When the server refuses
 * a record (pg_sqlstate_refuses_record) the transaction is retried without
 * it, found by the line number the server reports or by bisection; each such
 * record goes to on_reject and the rest commits. Upserts stage every record,
 * then merge them in one statement (bisected under savepoints when the
 * table refuses one). Returns the number of tuples committed, or -1 with e when the
 * batch could not be committed. e->retryable marks failures that a retry of
 * the whole batch may cure: a lost connection (then whether COMMIT happened
 * is unknown: ask the ledger), serialization failure, deadlock, too many
 * connections or out of resources (53xxx), administrator shutdown (57P01-03). */
long pgsink_commit(struct pgsink *s, const struct sink_batch *b, sink_reject_fn *on_reject, void *ctx, struct err *e);

/* Counters for the summary. */
uint64_t pgsink_statements(const struct pgsink *s);
uint64_t pgsink_isolation_retries(const struct pgsink *s);

#endif
