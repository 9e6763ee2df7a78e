/* pg_connect.c - PostgreSQL sessions for the loader: one at a time with retries and backoff
 * (pg_connect), or several started side by side and finished later (pg_open_*). */
#include "../core/clock.h"
#include "sink_pg.h"

#include "../core/secret.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pg_first_line(char *dst, size_t dstsz, const char *src)
{
	size_t n = strcspn(src, "\n");
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Whether a failed connection is worth retrying. The server refusing us
 * (libpq's message then carries its "FATAL:") is not, unless it is starting
 * up, shutting down or out of connection slots; failing to reach it is.
 * Neither is an option libpq refuses before it tries at all (a port that is
 * no number, an sslmode it does not know: "invalid ..." or "could not match
 * ...", where a failed attempt says "connection to server ... failed").
 * Deciding on the message spares a second login (a ping is one): an
 * authentication failure is logged once by the server, not per probe. */
static bool connect_retryable(const char *m)
{
	if (strncmp(m, "invalid ", 8) == 0 || strncmp(m, "could not match ", 16) == 0)
		return false;
	if (strstr(m, "FATAL:") == NULL)
		return true;
	static const char *const busy[] = {"starting up",      "shutting down",    "in recovery",
					   "too many clients", "connection slots", "not yet accepting connections"};
	for (size_t i = 0; i < sizeof busy / sizeof busy[0]; i++)
		if (strstr(m, busy[i]) != NULL)
			return true;
	return false;
}

/* Server notices and warnings (CREATE ... IF NOT EXISTS, a trigger's RAISE
 * NOTICE on every row) are not the user's business: libpq would print
 * them on stderr. */
static void drop_notice(void *ctx, const PGresult *r)
{
	(void)ctx;
	(void)r;
}

/* The first line of libpq's message m, the passwords of dsn masked. */
static void masked_line(const char *dsn, const char *m, char *out, size_t outsz)
{
	char line[1024];
	pg_first_line(line, sizeof line, m);
	secret_mask_dsn(dsn, line, out, outsz);
}

/* -1 with EXIT_CONFIG when conninfo does not parse. */
static int check_conninfo(const char *conninfo, struct err *e)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
	if (opts == NULL) {
		char m[512];
		masked_line(conninfo, perr ? perr : "out of memory", m, sizeof m);
		PQfreemem(perr);
		return err_set(e, EXIT_CONFIG, "invalid connection string: %s", m);
	}
	PQconninfoFree(opts);
	return 0;
}

/* A new session made ready for the loader: notices dropped, client_encoding
 * UTF8. NULL with e (c finished) when the encoding is refused. */
static PGconn *session_ready(PGconn *c, const char *conninfo, struct err *e)
{
	PQsetNoticeReceiver(c, drop_notice, NULL);
	if (PQsetClientEncoding(c, "UTF8") != 0) {
		char m[512];
		masked_line(conninfo, PQerrorMessage(c), m, sizeof m);
		err_set(e, EXIT_UNAVAILABLE, "cannot set client_encoding UTF8: %s", m);
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* pg_connect's attempts, until deadline (at least one): timeout_s is what
 * the message of giving up names. */
static PGconn *connect_until(const char *conninfo, double deadline, uint32_t timeout_s, pg_retry_fn *on_retry,
			     void *ctx, struct err *e)
{
	long backoff = BACKOFF_MS_MIN;
	for (;;) {
		PGconn *c = PQconnectdb(conninfo);
		if (c != NULL && PQstatus(c) == CONNECTION_OK)
			return session_ready(c, conninfo, e);
		char full[1024], m[512];
		secret_mask_dsn(conninfo, c ? PQerrorMessage(c) : "out of memory", full, sizeof full);
		pg_first_line(m, sizeof m, full);
		PQfinish(c);
		if (!connect_retryable(full)) {
			/* The server's own words are on the message's second line. */
			const char *fatal = strstr(full, "FATAL:");
			pg_first_line(m, sizeof m, fatal ? fatal : full);
			err_set(e, EXIT_CONFIG,
				fatal ? "PostgreSQL refused the connection: %s" : "invalid connection string: %s", m);
			return NULL;
		}
		double left_s = deadline - clock_mono_s();
		if (left_s <= 0) {
			err_set(e, EXIT_UNAVAILABLE, "PostgreSQL unavailable after %u s: %s", timeout_s, m);
			return NULL;
		}
		/* The last wait ends at the deadline, for one more attempt. */
		long wait_ms = backoff < left_s * 1000 ? backoff : (long)(left_s * 1000) + 1;
		if (on_retry != NULL)
			on_retry(ctx, m, wait_ms, left_s);
		clock_sleep_ms(wait_ms, NULL);
		backoff = backoff_next_ms(backoff);
	}
}

/* Sessions being opened side by side (pg_open_start). */
struct pg_opening {
	char *conninfo;
	uint32_t n, timeout_s;
	double deadline;
	PGconn **c;
	/* What the last PQconnectPoll asked for: reading or writing while the
	 * session is being driven, then OK, or FAILED (also for a session
	 * that did not start, or whose poll failed). */
	PostgresPollingStatusType *want;
	struct pollfd *fds; /* opening_step's, n of each */
	uint32_t *at;
};

static bool driving(PostgresPollingStatusType want)
{
	return want == PGRES_POLLING_READING || want == PGRES_POLLING_WRITING;
}

/* Polls the sessions still pending, waiting at most until deadline (now:
 * not at all), and drives those that are ready one step. */
static void opening_step(struct pg_opening *op, double deadline)
{
	struct pollfd *fds = op->fds;
	uint32_t *at = op->at, k = 0;
	for (uint32_t i = 0; i < op->n; i++)
		if (driving(op->want[i])) {
			fds[k] = (struct pollfd){.fd = PQsocket(op->c[i]),
						 .events = op->want[i] == PGRES_POLLING_READING ? POLLIN : POLLOUT};
			at[k++] = i;
		}
	double wait_s = deadline - clock_mono_s();
	int rc = k == 0 ? 0 : poll(fds, k, wait_s <= 0 ? 0 : wait_s > 3600 ? 3600 * 1000 : (int)(wait_s * 1000) + 1);
	if (rc < 0 && errno != EINTR)
		for (uint32_t j = 0; j < k; j++)
			op->want[at[j]] = PGRES_POLLING_FAILED; /* the finish opens them one at a time */
	for (uint32_t j = 0; rc > 0 && j < k; j++) {
		if (fds[j].revents == 0)
			continue;
		op->want[at[j]] = PQconnectPoll(op->c[at[j]]);
	}
}

static uint32_t opening_left(const struct pg_opening *op)
{
	uint32_t left = 0;
	for (uint32_t i = 0; i < op->n; i++)
		left += driving(op->want[i]);
	return left;
}

void pg_open_abandon(struct pg_opening *op)
{
	if (op == NULL)
		return;
	for (uint32_t i = 0; i < op->n; i++)
		PQfinish(op->c[i]);
	free(op->c);
	free(op->want);
	free(op->fds);
	free(op->at);
	free(op->conninfo);
	free(op);
}

struct pg_opening *pg_open_start(const char *dsn, uint32_t n, uint32_t timeout_s, struct err *e)
{
	const char *conninfo = dsn ? dsn : "";
	if (check_conninfo(conninfo, e) < 0)
		return NULL;
	struct pg_opening *op = calloc(1, sizeof *op);
	if (op == NULL || (op->conninfo = strdup(conninfo)) == NULL || (op->c = calloc(n, sizeof *op->c)) == NULL ||
	    (op->want = calloc(n, sizeof *op->want)) == NULL || (op->fds = calloc(n, sizeof *op->fds)) == NULL ||
	    (op->at = calloc(n, sizeof *op->at)) == NULL) {
		pg_open_abandon(op);
		err_set(e, EXIT_SOFTWARE, "out of memory");
		return NULL;
	}
	op->n = n;
	op->timeout_s = timeout_s;
	op->deadline = clock_mono_s() + timeout_s;
	for (uint32_t i = 0; i < n; i++) {
		op->c[i] = PQconnectStart(op->conninfo);
		/* Just started: as if the last poll asked to write. */
		bool started = op->c[i] != NULL && PQstatus(op->c[i]) != CONNECTION_BAD;
		op->want[i] = started ? PGRES_POLLING_WRITING : PGRES_POLLING_FAILED;
	}
	/* The startup packets go now (a local socket takes them at once), so
	 * that the server starts the backends while the caller goes on. */
	opening_step(op, 0);
	return op;
}

int pg_open_finish(struct pg_opening *op, PGconn **conns, pg_retry_fn *on_retry, void *ctx, struct err *e)
{
	/* Sessions that came up while the caller was busy need only be read:
	 * a second at least for that, however late the caller comes. */
	double now = clock_mono_s(), until = op->deadline > now + 1 ? op->deadline : now + 1;
	while (opening_left(op) > 0 && clock_mono_s() < until)
		opening_step(op, until);
	int rc = 0;
	for (uint32_t i = 0; i < op->n; i++) {
		PGconn *c = op->c[i];
		op->c[i] = NULL;
		if (rc < 0) {
			PQfinish(c);
			conns[i] = NULL;
			continue;
		}
		if (op->want[i] == PGRES_POLLING_OK) {
			conns[i] = session_ready(c, op->conninfo, e);
		} else {
			/* Not up at the first try: the one-at-a-time path, with its
			 * retries and its reading of the server's refusal, for what is
			 * left of the time. */
			PQfinish(c);
			conns[i] = connect_until(op->conninfo, op->deadline, op->timeout_s, on_retry, ctx, e);
		}
		if (conns[i] == NULL) {
			for (uint32_t j = 0; j < i; j++) {
				PQfinish(conns[j]);
				conns[j] = NULL;
			}
			rc = -1;
		}
	}
	pg_open_abandon(op);
	return rc;
}

PGconn *pg_connect(const char *dsn, uint32_t timeout_s, pg_retry_fn *on_retry, void *ctx, struct err *e)
{
	const char *conninfo = dsn ? dsn : "";
	if (check_conninfo(conninfo, e) < 0)
		return NULL;
	return connect_until(conninfo, clock_mono_s() + timeout_s, timeout_s, on_retry, ctx, e);
}
