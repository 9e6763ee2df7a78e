/* sources.h - a job's sources against the ledger: identity, reruns, durable rejects, completion. */
#ifndef EDONU_SOURCES_H
#define EDONU_SOURCES_H

#include "load.h"

/* Opens the inputs o names (o->files), each once, before anything
 * connects: fds[i] (o->nfiles of them) is files[i]'s descriptor when it is a
 * regular file, which the fingerprint and the reader then share; -1 for
 * standard input ("-") and for what is not a regular file (a FIFO, a
 * device), which its reader opens when its turn comes. Names are followed
 * as given: a symbolic link named on the command line is the user's
 * choice. EXIT_NOINPUT naming the first input that is missing, unreadable
 * or a directory, and then none is left open. *total: their bytes, -1 when
 * a pipe or standard input makes it unknown. */
int sources_open_inputs(const struct options *o, int *fds, int64_t *total, struct err *e);
/* Closes what sources_open_inputs opened (fds may be NULL). */
void sources_close_inputs(int *fds, int n);

/* Finds the source's ledger identity and what of it is committed (see
 * sources.c for reruns with other settings). -1 with e. */
int sources_begin(struct load *ld, PGconn *conn, struct source *s, struct err *e);

/* The source's ledger identity outlives this run (a file's content, or
 * --source-id): a rerun finds what it committed, rejects included. False for
 * a dry run and for a pipe known only to this run. */
bool sources_known_later(const struct source *s);

/* Writes to the rejects file the rejects the ledger holds and the file may
 * not: of a complete source all, else those of chunks not marked written;
 * lines the file already holds are passed over. */
int sources_rewrite_rejects(struct load *ld, PGconn *conn, struct source *s, struct err *e);

/* After the workers: syncs the rejects file, marks the chunks whose rejects
 * reached it, and marks complete each source read whole in a job that did
 * not fail (nor was interrupted) and whose rejects are all written; when
 * the workers committed chunks (committed) and no source was marked
 * complete, makes them durable (ledger_sync) all the same. Returns whether
 * the rejects file is sound (else rej_err says why). */
bool sources_finish(struct load *ld, PGconn *conn, bool interrupted, bool committed, struct err *rej_err);

#endif
