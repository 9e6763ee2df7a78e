/* sink_pg.h - writes a batch to PostgreSQL in one transaction with binary COPY, isolating the records the server refuses. */
#ifndef EDONU_SINK_PG_H
#define EDONU_SINK_PG_H

#include "../pipeline/buf.h"
#include "../pipeline/err.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

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
	/* Run inside the transaction after the rows (the chunk's ledger row); may be NULL. */
	const char *extra_sql;
};

/* Told of each record the server refused: its record index, SQLSTATE, the
 * server's message and the column when the server named one (else NULL). */
typedef void sink_reject_fn(void *ctx, uint32_t rec, const char *sqlstate, const char *message, const char *column);

struct pgsink;

/* Takes ownership of conn. copy_bin_sql and copy_txt_sql are the two COPY
 * statements of the target (same column list, binary and text format). */
struct pgsink *pgsink_create(PGconn *conn);
void pgsink_free(struct pgsink *s);
void pgsink_set_copy(struct pgsink *s, const char *copy_bin_sql, const char *copy_txt_sql);

/* Loads the batch in one transaction and commits it. When the server refuses
 * a record (data exception or constraint violation, SQLSTATE classes 22 and
 * 23) the transaction is retried without it, found by the line number the
 * server reports or by bisection; each such record goes to on_reject and the
 * rest commits. Returns the number of tuples committed, or -1 with e when the
 * batch could not be committed (connection lost: e->retryable; nothing of it
 * is committed then). */
long pgsink_commit(struct pgsink *s, const struct sink_batch *b, sink_reject_fn *on_reject, void *ctx, struct err *e);

/* Counters for the summary. */
uint64_t pgsink_statements(const struct pgsink *s);
uint64_t pgsink_isolation_retries(const struct pgsink *s);

#endif
