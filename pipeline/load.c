/* load.c - the load command (an engine running one job, then the summary) and the stop signals
 * that every job of the process heeds. */
#include "load.h"
#include "../io/fingerprint.h"

#include "engine.h"
#include "log.h"
#include "monitor.h"
#include "sources.h"
#include "summary.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The process's one mutable global: what the signal handler saw. */
static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t signals_seen;

/* The files, opened once (fds), or the rejects file to replay, exist and
 * can be read. */
static int load_open_inputs(const struct options *o, int *fds, int64_t *total, struct err *e)
{
	if (o->from_rejects == NULL)
		return sources_open_inputs(o, fds, total, e);
	if (access(o->from_rejects, R_OK) < 0)
		return err_set(e, EXIT_NOINPUT, "cannot read %s: %s", o->from_rejects, strerror(errno));
	return 0;
}

/* The files' fingerprints are taken from now on, while the engine connects
 * and the job checks the catalog, the privileges and the ledger: the whole
 * file's hash is then off the path to the first chunk. */
static int start_fingerprints(struct options *lo, const int *fds, struct err *e)
{
	if (lo->dry_run || lo->from_rejects != NULL || lo->nfiles <= 0)
		return 0;
	lo->file_prints = fingerprint_set_start(fds, lo->files, (uint32_t)lo->nfiles, e);
	return lo->file_prints == NULL ? -1 : 0;
}

static void on_signal(int sig)
{
	got_signal = sig;
	signals_seen = signals_seen + 1;
}

int load_main(const struct options *o)
{
	struct summary s;
	memset(&s, 0, sizeof s);
	struct err e;
	err_clear(&e);
	int code;
	int64_t total;
	/* Inputs are opened before anything connects: a missing file is 66
	 * whether or not the server is up. The job reads them through these
	 * descriptors. */
	struct options lo = *o;
	int *fds = calloc(o->nfiles > 0 ? (size_t)o->nfiles : 1, sizeof *fds);
	lo.file_fds = o->from_rejects == NULL ? fds : NULL;
	struct engine *eng = NULL;
	struct monitor *mon = NULL;
	if (fds == NULL)
		err_set(&e, EXIT_SOFTWARE, "out of memory");
	else if (load_open_inputs(o, fds, &total, &e) == 0 && start_fingerprints(&lo, fds, &e) == 0 &&
		 (mon = monitor_create(o, &e)) != NULL)
		eng = engine_create(o, mon, &e);
	if (eng == NULL) {
		log_event(o->log_format, LOG_ERROR, "load_failed", "%s", e.msg);
		code = s.exit_code = e.code ? e.code : EXIT_SOFTWARE;
		snprintf(s.error, sizeof s.error, "%s", e.msg);
		snprintf(s.table, sizeof s.table, "%s", o->table);
	} else {
		code = engine_run(eng, &lo, &s);
		engine_free(eng);
	}
	fingerprint_set_free(lo.file_prints);
	if (o->from_rejects == NULL)
		sources_close_inputs(fds, o->nfiles);
	free(fds);
	monitor_free(mon);
	s.dry_run = o->dry_run != 0;
	if (s.started)
		summary_print(stderr, &s);
	if (o->summary && summary_write_json(o->summary, &s) < 0) {
		log_event(o->log_format, LOG_ERROR, "summary_failed", "cannot write the summary to %s: %s", o->summary,
			  strerror(errno));
		if (code == EXIT_OK)
			code = EXIT_NOINPUT;
	}
	return code;
}

void load_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool load_interrupted(void)
{
	return got_signal != 0;
}

int load_signal(void)
{
	return got_signal;
}

int load_signals_seen(void)
{
	return signals_seen;
}
