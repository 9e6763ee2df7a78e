/* engine.h - the long-lived loader: worker threads' connections and buffers and a control connection, made once, running jobs (a set of sources into one table) one after another. */
#ifndef EDONU_ENGINE_H
#define EDONU_ENGINE_H

#include "../core/err.h"
#include "options.h"
#include "summary.h"

struct engine;

/* Connects the control connection and one connection per worker (o->dsn,
 * --connect-timeout) and allocates every buffer for o->batch_rows. NULL
 * with e: EXIT_UNAVAILABLE, EXIT_CONFIG for a refused login or a bad
 * connection string, EXIT_SOFTWARE out of memory. Jobs report to mon. */
struct monitor;
struct engine *engine_create(const struct options *o, struct monitor *mon, struct err *e);

/* Runs one job: o's files (standard input when none, or o->from_rejects)
 * into o->table, with o's dialect, mapping and rejects file; o's dsn and
 * worker count are the engine's. Fills *out (also on failure), logs what
 * goes wrong and returns the exit code. */
int engine_run(struct engine *eng, const struct options *o, struct summary *out);

/* Checks what every job of o will need before any runs: the table exists
 * and the role may insert into it (EXIT_CONFIG otherwise). */
int engine_check(struct engine *eng, const struct options *o, struct err *e);

/* Closes the connections and frees everything. */
void engine_free(struct engine *eng);

#endif
