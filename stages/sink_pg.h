/* sink_pg.h - writes a batch to PostgreSQL in one transaction with binary COPY, isolating the records the server refuses. */
#ifndef EDONU_SINK_PG_H
#define EDONU_SINK_PG_H

#include "../pipeline/buf.h"
#include "../pipeline/err.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* True for SQLSTATEs worth retrying the whole transaction for. */
bool pg_sqlstate_transient(const char *sqlstate);

/* Connects with dsn (NULL: libpq defaults and PG* variables), retrying with
 * capped exponential backoff while the server does not answer, for at most
 * timeout_s seconds; sets client_encoding UTF8. NULL with e (EXIT_UNAVAILABLE)
 * when it gives up or the server refuses the login. */
PGconn *pg_connect(const char *dsn, uint32_t timeout_s, struct err *e);

/* Runs a statement that returns no rows; -1 with e on failure. */
int pg_exec(PGconn *c, const char *sql, struct err *e);

/* One batch: tuples already encoded for binary COPY (tuple k is
 * bin->data[bin_off[k] .. bin_off[k+1])) and, for records an encoder left to
 * the server, text COPY lines (txt->data[txt_off[k] .. txt_off[k+1])).
 * bin_rec/txt_rec give each tuple's record index in its chunk. */
struct sink_batch {
	const struct buf *bin;
	const uint32_t *bin_off;
	const uint32_t *bin_rec;
	uint32_t nbin;
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
	/* Runs last before COMMIT, once the refused records are known (the
	 * chunk's cache keys go to the journal there); -1 with e rolls back. */
	int (*before_commit)(void *ctx, struct err *e);
	void *before_commit_ctx;
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
 * fill it, and merge_sql moves its rows into the table (INSERT ... ON
 * CONFLICT) and empties it; both NULL for plain loads. The strings must
 * outlive their use. */
struct sink_statements {
	const char *copy_bin;
	const char *copy_txt;
	const char *stage;
	const char *merge;
};
void pgsink_set_statements(struct pgsink *s, const struct sink_statements *st);
/* Rows the last committed batch wrote through merge (inserted, or updated
 * by DO UPDATE): fewer than it committed when ON CONFLICT DO NOTHING left
 * records out. -1 for plain loads (no merge). */
long pgsink_merged(const struct pgsink *s);

/* Loads the batch in one transaction and commits it. When the server refuses
 * a record (data exception or constraint violation, SQLSTATE classes 22 and
 * 23) the transaction is retried without it, found by the line number the
 * server reports or by bisection; each such record goes to on_reject and the
 * rest commits. Returns the number of tuples committed, or -1 with e when the
 * batch could not be committed. e->retryable marks failures that a retry of
 * the whole batch may cure: a lost connection (then whether COMMIT happened
 * is unknown: ask the ledger), serialization failure, deadlock, too many
 * connections or out of resources (53xxx), administrator shutdown (57P01-03). */
long pgsink_commit(struct pgsink *s, const struct sink_batch *b, sink_reject_fn *on_reject, void *ctx, struct err *e);

/* Counters for the summary. */
uint64_t pgsink_statements(const struct pgsink *s);
uint64_t pgsink_isolation_retries(const struct pgsink *s);

#endif
