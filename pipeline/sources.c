/* sources.c - a job's sources and the ledger: their identity, what an earlier run did with them
 * (resume, skip, reload, refuse), their rejects recorded in the ledger and written to the rejects
 * file, and marking them complete. */
#include "sources.h"

#include "../io/fingerprint.h"
#include "../stages/charset.h"
#include "intake.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Opens one input named on the command line: a regular file now, once
 * (*fd), anything else later by its reader (*fd -1). */
static int open_input(const char *p, int *fd, int64_t *total, struct err *e)
{
	*fd = -1;
	struct stat st;
	if (stat(p, &st) < 0)
		return err_set(e, EXIT_NOINPUT, "cannot open %s: %s", p, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return err_set(e, EXIT_NOINPUT, "%s: is a directory", p);
	if (!S_ISREG(st.st_mode)) {
		/* A FIFO is opened by the reader when its turn comes: opening
		 * it now would wait for its writer, or, undone, break one. */
		if (access(p, R_OK) < 0)
			return err_set(e, EXIT_NOINPUT, "cannot read %s: %s", p, strerror(errno));
		*total = -1;
		return 0;
	}
	/* O_NONBLOCK: a FIFO put in the file's place since the stat does not
	 * hold the open up; it is refused below. */
	int f = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (f < 0)
		return err_set(e, EXIT_NOINPUT, "cannot open %s: %s", p, strerror(errno));
	int fl = fcntl(f, F_GETFL);
	if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode) || fl < 0 || fcntl(f, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		close(f);
		return err_set(e, EXIT_NOINPUT, "%s: changed while it was opened", p);
	}
	*fd = f;
	if (*total >= 0)
		*total += st.st_size;
	return 0;
}

int sources_open_inputs(const struct options *o, int *fds, int64_t *total, struct err *e)
{
	*total = 0;
	for (int i = 0; i < o->nfiles; i++)
		fds[i] = -1;
	for (int i = 0; i < o->nfiles; i++) {
		if (strcmp(o->files[i], "-") == 0) {
			*total = -1;
			continue;
		}
		if (open_input(o->files[i], &fds[i], total, e) < 0) {
			sources_close_inputs(fds, o->nfiles);
			return -1;
		}
	}
	return 0;
}

void sources_close_inputs(int *fds, int n)
{
	for (int i = 0; fds != NULL && i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* What decides what a load of name stores, as text (see ledger.h): a
 * rerun with other settings is not the same load. --format auto is taken
 * as the name's extension says, when it does. */
static void load_settings(const struct options *o, const char *name, char *out, size_t outsz)
{
	static const char *const formats[] = {
	    [FORMAT_AUTO] = "auto", [FORMAT_CSV] = "csv", [FORMAT_TEXT] = "text", [FORMAT_NDJSON] = "ndjson"};
	static const char *const conflicts[] = {
	    [CONFLICT_ERROR] = "error", [CONFLICT_IGNORE] = "ignore", [CONFLICT_UPDATE] = "update"};
	int fmt = o->format;
	if (fmt == FORMAT_AUTO && strcmp(name, "-") != 0)
		fmt = intake_format_from_name(name);
	snprintf(out, outsz,
		 "format=%s header=%s delimiter=%s quote=%s escape=%s null=%s columns=%s on-conflict=%s key=%s",
		 formats[fmt],
		 o->header < 0 ? "default"
		 : o->header   ? "yes"
			       : "no",
		 o->delimiter ? o->delimiter : "", o->quote ? o->quote : "", o->escape ? o->escape : "",
		 o->null ? o->null : "", o->columns ? o->columns : "", conflicts[o->on_conflict], o->key ? o->key : "");
	/* Named only when it is not UTF-8, so that the settings of UTF-8 loads
	 * read as they did before --encoding existed. */
	if (o->charset != NULL) {
		size_t n = strlen(out);
		snprintf(out + n, outsz - n, " encoding=%s", charset_name(o->charset));
	}
}

/* The identity of an input that only this run knows (standard input or a
 * pipe without --source-id). */
#define RUN_ID_PREFIX "run:"

bool sources_known_later(const struct source *s)
{
	const char *id = s->ledger.source_id;
	return id[0] != '\0' && strncmp(id, RUN_ID_PREFIX, strlen(RUN_ID_PREFIX)) != 0;
}

/* A file loaded by an earlier build is known to the ledger by that build's
 * fingerprint: when the ledger does not know id ("file:" and the
 * fingerprint) but has a source of the same size under an identity of the
 * earlier shape, the earlier fingerprint is taken too, and id becomes it
 * when the ledger knows it, so that the file resumes or is skipped as its
 * load left it rather than loaded again. */
static int file_identity(struct load *ld, PGconn *conn, const struct source *s, char *id, size_t idsz, struct err *e)
{
	const char *dash = strchr(id, '-');
	size_t legacy_len = dash == NULL ? 0 : (size_t)(dash + 1 - id) + 16;
	int known = ledger_file_known(conn, id, legacy_len, ld->table.ident, e);
	if (known != 2 || s->fd < 0)
		return known < 0 ? -1 : 0;
	char old[96] = "file:";
	int fp = fingerprint_fd_v1(s->fd, s->name, old + 5, sizeof old - 5, e);
	if (fp != 1)
		return fp;
	int has = ledger_has_source(conn, old, ld->table.ident, e);
	if (has < 0)
		return -1;
	if (has) {
		log_event(ld->o->log_format, LOG_INFO, "source_identity",
			  "%s: known to the ledger by the fingerprint of an earlier version (%s)", s->name, old);
		snprintf(id, idsz, "%s", old);
	}
	return 0;
}

/* Finds the source's ledger identity and what of it is committed. Files are
 * known by their content; standard input and pipes by --source-id, or, without
 * it, by an identity of this run alone (the ledger then still guards a retried
 * commit, but a rerun cannot resume). A source loaded before with other
 * settings is loaded again whole when this run upserts (it cannot store a
 * key twice), and refused otherwise (--force decides). */
int sources_begin(struct load *ld, PGconn *conn, struct source *s, struct err *e)
{
	const struct options *o = ld->o;
	if (o->dry_run)
		return 0;
	char id[96];
	/* The descriptor the reader will read: what is identified is what is
	 * loaded. Standard input and FIFOs have none. */
	int fp = ld->prints != NULL
		     ? fingerprint_set_wait(ld->prints, (uint32_t)(s - ld->sources), id + 5, sizeof id - 5, e)
		 : s->fd >= 0 ? fingerprint_fd(s->fd, s->name, id + 5, sizeof id - 5, e)
			      : 0;
	if (fp < 0)
		return -1;
	if (fp == 1) {
		memcpy(id, "file:", 5);
		if (file_identity(ld, conn, s, id, sizeof id, e) < 0)
			return -1;
	} else if (o->source_id != NULL) {
		snprintf(id, sizeof id, "id:%s", o->source_id);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(id, sizeof id, RUN_ID_PREFIX "%lld.%09ld:%ld", (long long)ts.tv_sec, ts.tv_nsec,
			 (long)getpid());
	}
	char settings[LEDGER_SETTINGS_MAX];
	load_settings(o, s->name, settings, sizeof settings);
	struct ledger_source *ls = &s->ledger;
	if (ledger_begin(conn, id, ld->table.ident, s->name, o->batch_rows, settings, o->force != 0, ls, e) < 0)
		return -1;
	bool earlier = ls->complete || ls->ndone > 0;
	if (earlier && ls->settings[0] && strcmp(ls->settings, settings) != 0) {
		if (o->on_conflict == CONFLICT_ERROR)
			return err_set(e, EXIT_CONFIG,
				       "%s: %s into %s with other settings (%s; now %s): loading it again could store "
				       "its records twice or differently; --force loads it again whole as a new load, "
				       "and --on-conflict update|ignore --key does so without duplicate keys",
				       s->name, ls->complete ? "loaded" : "partly loaded", ld->table.display,
				       ls->settings, settings);
		log_event(ld->o->log_format, LOG_INFO, "source_reloaded",
			  "%s: %s into %s with other settings (%s); loading it again whole as an upsert (%s)", s->name,
			  ls->complete ? "loaded" : "partly loaded", ld->table.display, ls->settings, settings);
		ledger_end(conn, ls);
		if (ledger_begin(conn, id, ld->table.ident, s->name, o->batch_rows, settings, true, ls, e) < 0)
			return -1;
	}
	s->batch_rows = ls->batch_rows;
	s->rejected_earlier = ls->rejected;
	if (ls->complete) {
		s->records = ls->records;
		s->skipped = ls->records;
		log_event(ld->o->log_format, LOG_INFO, "source_skipped",
			  "%s: already loaded into %s on %s: %llu records, %llu loaded, %llu rejected, %llu ignored; "
			  "%s--force loads it again",
			  s->name, ld->table.display, ls->finished_at, (unsigned long long)ls->records,
			  (unsigned long long)ls->loaded, (unsigned long long)ls->rejected,
			  (unsigned long long)ls->ignored,
			  ls->rejected ? "--rejects FILE writes its rejects again, load --from-rejects FILE loads just "
					 "them once their cause is fixed; "
				       : "");
	} else if (ls->ndone > 0) {
		log_event(ld->o->log_format, LOG_INFO, "source_resumed",
			  "%s: resuming: %llu records in %u chunks committed earlier, with %llu records rejected",
			  s->name, (unsigned long long)ls->committed_records, ls->ndone,
			  (unsigned long long)ls->rejected);
	}
	return 0;
}

void load_note_rejects_written(struct load *ld, const struct source *src, uint64_t chunk)
{
	if (!src->ledger.source_id[0])
		return;
	pthread_mutex_lock(&ld->written_lock);
	if (ld->nwritten == ld->written_cap) {
		size_t cap = ld->written_cap ? ld->written_cap * 2 : 64;
		struct written_chunk *p = realloc(ld->written, cap * sizeof *p);
		if (p != NULL) {
			ld->written = p;
			ld->written_cap = cap;
		}
	}
	/* Without room the chunk stays unwritten in the ledger: a rerun finds
	 * its lines in the file and does not write them twice. */
	if (ld->nwritten < ld->written_cap)
		ld->written[ld->nwritten++] = (struct written_chunk){(uint32_t)(src - ld->sources), chunk};
	pthread_mutex_unlock(&ld->written_lock);
}

/* Writing recorded rejects to the rejects file: those already there (by
 * record number) are passed over. */
struct rewrite {
	struct load *ld;
	struct source *src;
	const uint64_t *have;
	size_t nhave;
	uint64_t written;
	uint64_t last_chunk;
	bool any_chunk;
};

static int rewrite_one(void *ctx, const struct ledger_reject *lr, struct err *e)
{
	struct rewrite *rw = ctx;
	if (!rw->any_chunk || lr->chunk != rw->last_chunk) {
		load_note_rejects_written(rw->ld, rw->src, lr->chunk);
		rw->last_chunk = lr->chunk;
		rw->any_chunk = true;
	}
	if (rw->nhave > 0 && bsearch(&lr->record, rw->have, rw->nhave, sizeof *rw->have, cmp_u64) != NULL)
		return 0;
	struct reject r = {
	    .source = rw->src->name,
	    .record = lr->record,
	    .line = lr->line,
	    .byte_offset = lr->byte_offset,
	    .column = lr->column,
	    .sqlstate = lr->sqlstate,
	    .message = lr->message ? lr->message : "",
	    .raw = lr->raw,
	    .raw_len = lr->raw_len,
	    .header = lr->header,
	    .header_len = lr->header_len,
	};
	rejects_write(rw->ld->rejects, &r, e);
	rw->written++;
	return 0;
}

/* Rejects that the ledger holds and the rejects file may not: of a complete
 * source all of them (a rerun writes them again), else those of chunks an
 * earlier run committed but did not see to the file. */
int sources_rewrite_rejects(struct load *ld, PGconn *conn, struct source *s, struct err *e)
{
	struct ledger_source *ls = &s->ledger;
	if (!rejects_enabled(ld->rejects) || !ls->source_id[0] || (!ls->complete && ls->ndone == 0) ||
	    ls->rejected == 0)
		return 0;
	struct rewrite rw = {.ld = ld, .src = s};
	uint64_t *have;
	if (rejects_recorded(ld->rejects, s->name, &have, &rw.nhave, e) < 0)
		return -1;
	rw.have = have;
	long n = ledger_rejects_read(conn, ls, !ls->complete, rewrite_one, &rw, e);
	free(have);
	if (n < 0)
		return -1;
	if (rw.written > 0)
		log_event(ld->o->log_format, LOG_INFO, "rejects_rewritten",
			  "%s: %llu rejected records written to %s from the ledger", s->name,
			  (unsigned long long)rw.written, ld->o->rejects);
	return 0;
}

/* Marks the chunks whose rejects reached the file (once it is synced) in
 * the ledger. A source whose rejects of this run did not reach it is left
 * with rejects_unwritten. Returns whether the rejects file is sound. */
static bool mark_rejects_written(struct load *ld, PGconn *conn, struct err *rej_err)
{
	bool ok = rejects_sync(ld->rejects, rej_err) == 0;
	if (!ok)
		log_event(ld->o->log_format, LOG_ERROR, "rejects_failed", "%s", rej_err->msg);
	for (uint32_t i = 0; i < ld->nsources; i++) {
		struct source *src = &ld->sources[i];
		uint64_t *chunks = NULL;
		uint32_t n = 0;
		src->rejects_unwritten = false;
		for (size_t k = 0; k < ld->nwritten; k++) {
			if (ld->written[k].source != i)
				continue;
			src->rejects_unwritten = !ok;
			uint64_t *p = ok ? realloc(chunks, (n + 1) * sizeof *p) : NULL;
			if (p == NULL)
				continue;
			chunks = p;
			chunks[n++] = ld->written[k].chunk;
		}
		struct err e;
		/* Not fatal: a rerun finds these lines in the file. */
		if (n > 0 && ledger_rejects_written(conn, &src->ledger, chunks, n, &e) < 0)
			log_event(ld->o->log_format, LOG_WARN, "ledger_failed", "%s", e.msg);
		free(chunks);
	}
	return ok;
}

bool sources_finish(struct load *ld, PGconn *conn, bool interrupted, bool committed, struct err *rej_err)
{
	bool rejects_ok = mark_rejects_written(ld, conn, rej_err);
	/* Sources read whole in a run that did not fail are complete. */
	const struct ledger_source *sync = NULL;
	bool synced = false;
	for (uint32_t i = 0; i < ld->nsources; i++) {
		struct source *src = &ld->sources[i];
		if (src->ledger.source_id[0] && sync == NULL)
			sync = &src->ledger;
		if (!src->read_whole || src->ledger.complete || !src->ledger.source_id[0] ||
		    atomic_load(&ld->fatal_code) || interrupted || src->rejects_unwritten)
			continue;
		struct err e;
		if (ledger_finish(conn, &src->ledger, ld->o->on_conflict == CONFLICT_IGNORE, &e) < 0)
			load_fail(ld, &e);
		else
			synced = true;
	}
	/* What the workers committed is durable before the job reports it,
	 * whether the job ended well or not: marking a source complete did
	 * that, else one more synchronous commit does. */
	if (!synced && sync != NULL && committed) {
		struct err e;
		if (ledger_sync(conn, sync, &e) < 0)
			load_fail(ld, &e);
	}
	return rejects_ok;
}
