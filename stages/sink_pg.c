/* sink_pg.c - one transaction per batch: binary COPY of the encoded tuples, text COPY of the
 * records left to the server, then COMMIT; records the server refuses are isolated and the
 * rest still commits. */
#include "sink_pg.h"
#include "../core/clock.h"

#include "../core/limits.h"
#include "../core/secret.h"
#include "encode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pgsink {
	PGconn *conn;
	struct sink_statements st;
	bool staged;    /* the staging table exists on this connection */
	struct buf hdr; /* binary COPY header and trailer, built once */
	uint64_t statements;
	uint64_t isolation_retries;
	long merged; /* rows written by merge in this batch (see pgsink_merged) */
};

/* A batch's transaction commits without waiting for its WAL to reach the
 * disk: the wait (a flush of the chunk's megabytes of WAL) would idle the
 * worker and its backend for every chunk. The rows and their ledger row
 * still commit or vanish together; the job makes them durable at its end
 * with one synchronous commit (ledger_sync) before it reports. */
#define BEGIN_BATCH     "BEGIN; SET LOCAL synchronous_commit = off"

/* The bytes of a failed statement that its error shows. */
#define STATEMENT_SHOWN 48

bool pg_sqlstate_transient(const char *st)
{
	if (st == NULL || strlen(st) != 5)
		return false;
	return strncmp(st, "08", 2) == 0 || strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
	       strncmp(st, "53", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 ||
	       strcmp(st, "57P03") == 0;
}

bool pg_sqlstate_refuses_record(const char *st, bool at_record)
{
	if (st == NULL || strlen(st) != 5 || pg_sqlstate_transient(st))
		return false;
	static const char always[][3] = {"22", "23", "54"};
	for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
		if (strncmp(st, always[i], 2) == 0)
			return true;
	static const char never[][3] = {"08", "25", "28", "3D", "3F", "42", "53", "57", "58", "XX"};
	for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
		if (strncmp(st, never[i], 2) == 0)
			return false;
	return at_record;
}

/* Fills e from a failed result or the connection; a lost connection or a
 * transient SQLSTATE is retryable (EXIT_UNAVAILABLE when it persists). */
static int result_error(PGconn *c, PGresult *r, const char *what, struct err *e)
{
	char m[768];
	pg_first_line(m, sizeof m, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	if (m[0] == '\0')
		pg_first_line(m, sizeof m, PQerrorMessage(c));
	bool lost = PQstatus(c) != CONNECTION_OK;
	bool transient = lost || (r && pg_sqlstate_transient(PQresultErrorField(r, PG_DIAG_SQLSTATE)));
	/* Class 42 (undefined column, no unique index for ON CONFLICT,
	 * permission denied) is a matter of configuration. */
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	int code = transient ? EXIT_UNAVAILABLE : st && strncmp(st, "42", 2) == 0 ? EXIT_CONFIG : EXIT_SOFTWARE;
	/* what may be a statement: its start names it, the rest would be a
	 * dump in the user's face. */
	size_t wlen = strlen(what);
	int shown = wlen > STATEMENT_SHOWN ? STATEMENT_SHOWN : (int)wlen;
	err_set(e, code, "%.*s%s: %s", shown, what, (size_t)shown < wlen ? "..." : "", m);
	e->retryable = transient;
	return -1;
}

int pg_exec(PGconn *c, const char *sql, struct err *e)
{
	PGresult *r = PQexec(c, sql);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
		result_error(c, r, sql, e);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

struct pgsink *pgsink_create(PGconn *conn)
{
	struct pgsink *s = calloc(1, sizeof *s);
	if (s == NULL || buf_init(&s->hdr, 64) < 0) {
		free(s);
		return NULL;
	}
	s->conn = conn;
	encode_copy_header(&s->hdr);
	return s;
}

void pgsink_free(struct pgsink *s)
{
	if (s == NULL)
		return;
	PQfinish(s->conn);
	buf_free(&s->hdr);
	free(s);
}

void pgsink_set_conn(struct pgsink *s, PGconn *conn)
{
	PQfinish(s->conn);
	s->conn = conn;
	s->staged = false;
}

PGconn *pgsink_conn(struct pgsink *s)
{
	return s->conn;
}

void pgsink_set_statements(struct pgsink *s, const struct sink_statements *st)
{
	if (s->st.stage != st->stage)
		s->staged = false;
	s->st = *st;
}

void pgsink_reset(struct pgsink *s)
{
	memset(&s->st, 0, sizeof s->st);
	s->staged = false;
}

long pgsink_merged(const struct pgsink *s)
{
	return s->st.merge != NULL ? s->merged : -1;
}

uint64_t pgsink_statements(const struct pgsink *s)
{
	return s->statements;
}

uint64_t pgsink_isolation_retries(const struct pgsink *s)
{
	return s->isolation_retries;
}

/* What a failed COPY said. */
struct copy_failure {
	char sqlstate[6];
	char message[768];
	char column[64];
	uint64_t line; /* 1-based tuple of this COPY, 0 when the server named none */
};

/* The error context of COPY reads "COPY t, line N[, column c]: ..." (binary
 * COPY counts tuples as lines). Takes the first such line. */
static void parse_copy_context(const char *ctx, struct copy_failure *f)
{
	f->line = 0;
	f->column[0] = '\0';
	if (ctx == NULL)
		return;
	const char *p = strstr(ctx, "COPY ");
	if (p == NULL)
		return;
	const char *eol = strchr(p, '\n');
	const char *l = strstr(p, ", line ");
	if (l == NULL || (eol && l > eol))
		return;
	f->line = strtoull(l + 7, NULL, 10);
	const char *c = strstr(l, ", column ");
	if (c != NULL && (eol == NULL || c < eol)) {
		c += 9;
		size_t n = strcspn(c, ":\n");
		if (n >= sizeof f->column)
			n = sizeof f->column - 1;
		memcpy(f->column, c, n);
		f->column[n] = '\0';
	}
}

enum copy_outcome { COPY_DONE = 0, COPY_REFUSED = 1, COPY_FATAL = -1 };

/* Sends bytes to an open COPY in pieces of COPY_SEND_BYTES. */
static int put_copy(PGconn *c, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = n < COPY_SEND_BYTES ? n : COPY_SEND_BYTES;
		if (PQputCopyData(c, p, (int)k) != 1)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

/* Sends binary tuples [lo, hi) of b: the bytes of bin with the extents that
 * fall among them spliced in, so a large value goes from where it lies to
 * libpq's buffer, COPY_SEND_BYTES at a time, with no copy of its own. */
static int put_tuples(PGconn *c, const struct sink_batch *b, uint32_t lo, uint32_t hi)
{
	size_t at = b->bin_off[lo], end = b->bin_off[hi];
	for (uint32_t x = 0; x < b->next; x++) {
		const struct sink_extent *ex = &b->ext[x];
		if (ex->at <= b->bin_off[lo] || ex->at > end)
			continue;
		if (put_copy(c, b->bin->data + at, ex->at - at) < 0 || put_copy(c, ex->p, ex->len) < 0)
			return -1;
		at = ex->at;
	}
	return put_copy(c, b->bin->data + at, end - at);
}

int pg_copy_text(PGconn *c, const char *sql, const char *data, size_t len, struct err *e)
{
	PGresult *r = PQexec(c, sql);
	if (r == NULL || PQresultStatus(r) != PGRES_COPY_IN) {
		result_error(c, r, sql, e);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	int rc = put_copy(c, data, len);
	if (PQputCopyEnd(c, rc < 0 ? "aborted" : NULL) != 1)
		rc = -1;
	int failed = 0;
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) == PGRES_COPY_IN)
			PQputCopyEnd(c, "aborted");
		else if (PQresultStatus(r) != PGRES_COMMAND_OK && !failed)
			failed = result_error(c, r, sql, e);
		PQclear(r);
	}
	if (rc < 0 && !failed)
		failed = result_error(c, NULL, sql, e);
	return failed ? -1 : 0;
}

/* Sorts a failed statement into a refusal of some record (see
 * pg_sqlstate_refuses_record; the connection still up) or a failure of the
 * whole batch. */
static enum copy_outcome classify(PGconn *c, PGresult *r, const char *what, struct copy_failure *f, struct err *e)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && PQstatus(c) == CONNECTION_OK) {
		parse_copy_context(PQresultErrorField(r, PG_DIAG_CONTEXT), f);
		if (pg_sqlstate_refuses_record(state, f->line > 0)) {
			memcpy(f->sqlstate, state, 5);
			f->sqlstate[5] = '\0';
			const char *pm = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
			snprintf(f->message, sizeof f->message, "%s", pm ? pm : "");
			return COPY_REFUSED;
		}
	}
	result_error(c, r, what, e);
	return COPY_FATAL;
}

/* Upserts: moves the staged records lo <= index < hi into the table and
 * out of the stage. A refusal here names no line: the caller bisects. */
static enum copy_outcome merge_stage(struct pgsink *s, uint32_t lo, uint32_t hi, struct copy_failure *f, struct err *e)
{
	char a[16], z[16];
	snprintf(a, sizeof a, "%u", lo);
	snprintf(z, sizeof z, "%u", hi);
	const char *p[2] = {a, z};
	s->statements++;
	PGresult *r = PQexecParams(s->conn, s->st.merge, 2, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		enum copy_outcome out = classify(s->conn, r, "INSERT ... ON CONFLICT", f, e);
		f->line = 0;
		PQclear(r);
		return out;
	}
	s->merged += strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return COPY_DONE;
}

/* One COPY of tuples [lo, hi) of one kind (into the stage, for upserts).
 * COPY_REFUSED fills f when the server refused a record; COPY_FATAL sets e. */
static enum copy_outcome copy_range(struct pgsink *s, bool binary, const struct sink_batch *b, uint32_t lo, uint32_t hi,
				    struct copy_failure *f, struct err *e)
{
	PGconn *c = s->conn;
	s->statements++;
	PGresult *r = PQexec(c, binary ? s->st.copy_bin : s->st.copy_txt);
	if (r == NULL || PQresultStatus(r) != PGRES_COPY_IN) {
		result_error(c, r, "COPY", e);
		if (r && !e->retryable)
			e->code = EXIT_CONFIG;
		PQclear(r);
		return COPY_FATAL;
	}
	PQclear(r);
	int rc;
	if (binary) {
		static const unsigned char trailer[2] = {0xff, 0xff};
		rc = put_copy(c, s->hdr.data, s->hdr.len);
		if (rc == 0)
			rc = put_tuples(c, b, lo, hi);
		if (rc == 0)
			rc = put_copy(c, (const char *)trailer, sizeof trailer);
	} else {
		rc = put_copy(c, b->txt->data + b->txt_off[lo], b->txt_off[hi] - b->txt_off[lo]);
	}
	if (PQputCopyEnd(c, NULL) != 1)
		rc = -1;
	enum copy_outcome out = COPY_DONE;
	while ((r = PQgetResult(c)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_COPY_IN) {
			/* Only if sending failed half-way: end the COPY. */
			PQputCopyEnd(c, "aborted");
		} else if (st != PGRES_COMMAND_OK && out == COPY_DONE) {
			out = classify(c, r, "COPY", f, e);
		}
		PQclear(r);
	}
	if (rc < 0 && out == COPY_DONE) {
		result_error(c, NULL, "COPY", e);
		out = COPY_FATAL;
	}
	return out;
}

struct isolate {
	struct pgsink *s;
	const struct sink_batch *b;
	bool binary;
	sink_reject_fn *on_reject;
	void *ctx;
	long committed;
};

static void reject_tuple(struct isolate *is, uint32_t k, const struct copy_failure *f)
{
	const uint32_t *rec = is->binary ? is->b->bin_rec : is->b->txt_rec;
	is->on_reject(is->ctx, rec[k], f->sqlstate, f->message, f->column[0] ? f->column : NULL);
}

/* Loads tuples [lo, hi) each attempt under its own savepoint, so that a
 * refused record costs a rollback of that attempt only. After a refusal at
 * line L the L-1 tuples before it are known to load, the refused one is
 * rejected, and the rest goes on in windows that start near the distance
 * between refusals and double while they succeed: a batch with k bad records
 * costs O(k log n) statements and not k resends of the whole batch. */
static int isolate_range(struct isolate *is, uint32_t lo, uint32_t hi, struct err *e)
{
	uint32_t window = hi - lo;
	while (lo < hi) {
		uint32_t end = hi - lo > window ? lo + window : hi;
		struct copy_failure f;
		if (pg_exec(is->s->conn, "SAVEPOINT edonu_isolate", e) < 0)
			return -1;
		enum copy_outcome out = copy_range(is->s, is->binary, is->b, lo, end, &f, e);
		if (out == COPY_FATAL)
			return -1;
		if (out == COPY_DONE) {
			if (pg_exec(is->s->conn, "RELEASE SAVEPOINT edonu_isolate", e) < 0)
				return -1;
			is->committed += end - lo;
			lo = end;
			window = window > UINT32_MAX / 2 ? UINT32_MAX : window * 2;
			continue;
		}
		is->s->isolation_retries++;
		if (pg_exec(is->s->conn, "ROLLBACK TO SAVEPOINT edonu_isolate", e) < 0 ||
		    pg_exec(is->s->conn, "RELEASE SAVEPOINT edonu_isolate", e) < 0)
			return -1;
		if (f.line >= 1 && f.line <= end - lo) {
			uint32_t bad = lo + (uint32_t)f.line - 1;
			if (bad > lo && isolate_range(is, lo, bad, e) < 0)
				return -1;
			reject_tuple(is, bad, &f);
			lo = bad + 1;
			window = (uint32_t)f.line * 2;
		} else if (end - lo == 1) {
			reject_tuple(is, lo, &f);
			lo = end;
		} else {
			uint32_t mid = lo + (end - lo) / 2;
			if (isolate_range(is, lo, mid, e) < 0 || isolate_range(is, mid, end, e) < 0)
				return -1;
			lo = end;
		}
	}
	return 0;
}

/* Ends a transaction that went wrong; the connection may be gone. */
static void rollback_quietly(PGconn *c)
{
	if (PQstatus(c) != CONNECTION_OK)
		return;
	PGresult *r = PQexec(c, "ROLLBACK");
	PQclear(r);
}

/* The chunk's ledger row, in the batch's transaction. */
static int write_ledger_row(struct pgsink *s, const struct sink_batch *b, long committed, struct err *e)
{
	char chunk[24], records[24], loaded[24], rejected[24], merged[24], first[24], boff[24], bend[24];
	snprintf(chunk, sizeof chunk, "%llu", (unsigned long long)b->chunk);
	snprintf(first, sizeof first, "%llu", (unsigned long long)b->first_record);
	snprintf(boff, sizeof boff, "%llu", (unsigned long long)b->byte_offset);
	snprintf(bend, sizeof bend, "%llu", (unsigned long long)b->byte_end);
	snprintf(records, sizeof records, "%u", b->records);
	snprintf(loaded, sizeof loaded, "%ld", committed);
	snprintf(rejected, sizeof rejected, "%ld", (long)b->records - committed);
	snprintf(merged, sizeof merged, "%ld", s->merged);
	/* Its rejects count as written to the rejects file only when it has
	 * none (see pipeline/ledger.h). No operator or function: the
	 * session's search_path is the user's. */
	const char *p[11] = {b->ledger_source_id,
			     b->ledger_target,
			     chunk,
			     records,
			     loaded,
			     rejected,
			     s->st.merge != NULL ? merged : NULL,
			     (long)b->records == committed ? "t" : "f",
			     first,
			     boff,
			     bend};
	s->statements++;
	PGresult *r = PQexecParams(s->conn,
				   "INSERT INTO edonu_ingest.chunks (source_id, target, chunk, records, loaded, "
				   "rejected, merged, rejects_written, first_record, byte_offset, byte_end) "
				   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
				   11, NULL, p, NULL, NULL, 0);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
		result_error(s->conn, r, "ledger row", e);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

/* Merges the staged records [lo, hi) under a savepoint; when the server
 * refuses, bisects in input order until the refused records stand alone,
 * so the records merged keep the input's order and each refusal costs
 * O(log n) merges. Returns the records refused, or -1 with e. */
static long isolate_merge(struct pgsink *s, const struct sink_batch *b, uint32_t lo, uint32_t hi,
			  sink_reject_fn *on_reject, void *ctx, struct err *e)
{
	struct copy_failure f;
	if (pg_exec(s->conn, "SAVEPOINT edonu_merge", e) < 0)
		return -1;
	long before = s->merged;
	enum copy_outcome out = merge_stage(s, lo, hi, &f, e);
	if (out == COPY_FATAL)
		return -1;
	if (out == COPY_DONE)
		return pg_exec(s->conn, "RELEASE SAVEPOINT edonu_merge", e) < 0 ? -1 : 0;
	s->merged = before;
	s->isolation_retries++;
	if (pg_exec(s->conn, "ROLLBACK TO SAVEPOINT edonu_merge", e) < 0 ||
	    pg_exec(s->conn, "RELEASE SAVEPOINT edonu_merge", e) < 0)
		return -1;
	if (hi - lo == 1) {
		on_reject(ctx, lo, f.sqlstate, f.message, f.column[0] ? f.column : NULL);
		return 1;
	}
	uint32_t mid = lo + (hi - lo) / 2;
	long left = isolate_merge(s, b, lo, mid, on_reject, ctx, e);
	if (left < 0)
		return -1;
	long right = isolate_merge(s, b, mid, hi, on_reject, ctx, e);
	return right < 0 ? -1 : left + right;
}

long pgsink_commit(struct pgsink *s, const struct sink_batch *b, sink_reject_fn *on_reject, void *ctx, struct err *e)
{
	PGconn *c = s->conn;
	struct copy_failure f;
	if (s->st.stage != NULL && !s->staged) {
		/* An earlier job on this connection may have left its stage. */
		if (pg_exec(c, "DISCARD TEMP", e) < 0 || pg_exec(c, s->st.stage, e) < 0) {
			if (!e->retryable)
				e->code = EXIT_CONFIG;
			return -1;
		}
		s->staged = true;
	}
	s->merged = 0;
	if (pg_exec(c, BEGIN_BATCH, e) < 0)
		return -1;
	/* Fast path: everything in one COPY of each kind. */
	enum copy_outcome ob = COPY_DONE, ot = COPY_DONE;
	if (b->nbin > 0)
		ob = copy_range(s, true, b, 0, b->nbin, &f, e);
	if (ob == COPY_DONE && b->ntxt > 0)
		ot = copy_range(s, false, b, 0, b->ntxt, &f, e);
	if (ob == COPY_FATAL || ot == COPY_FATAL) {
		rollback_quietly(c);
		return -1;
	}
	long committed;
	if (ob == COPY_DONE && ot == COPY_DONE) {
		committed = (long)b->nbin + (long)b->ntxt;
	} else {
		/* Some record was refused: start over and isolate. */
		if (pg_exec(c, "ROLLBACK", e) < 0 || pg_exec(c, BEGIN_BATCH, e) < 0)
			return -1;
		struct isolate is = {s, b, true, on_reject, ctx, 0};
		if (isolate_range(&is, 0, b->nbin, e) < 0) {
			rollback_quietly(c);
			return -1;
		}
		is.binary = false;
		if (isolate_range(&is, 0, b->ntxt, e) < 0) {
			rollback_quietly(c);
			return -1;
		}
		committed = is.committed;
	}
	/* Upserts: what touches the table waits for its turn (the chunks
	 * before this one have committed), then merges all staged records
	 * at once, ordered by their index in the chunk. */
	if (s->st.merge != NULL && committed > 0) {
		if (b->before_target != NULL && b->before_target(b->before_commit_ctx, e) < 0) {
			rollback_quietly(c);
			return -1;
		}
		long refused = isolate_merge(s, b, 0, b->records, on_reject, ctx, e);
		if (refused < 0) {
			rollback_quietly(c);
			return -1;
		}
		committed -= refused;
	}
	if (b->ledger_source_id != NULL && write_ledger_row(s, b, committed, e) < 0) {
		rollback_quietly(c);
		return -1;
	}
	if (b->before_commit != NULL && b->before_commit(b->before_commit_ctx, e) < 0) {
		rollback_quietly(c);
		return -1;
	}
	if (pg_exec(c, "COMMIT", e) < 0) {
		rollback_quietly(c);
		return -1;
	}
	return committed;
}
