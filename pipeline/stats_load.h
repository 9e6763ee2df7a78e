/* stats_load.h - what the dashboard shows of a running job: its workers' queues and counts, and where the reader is in its inputs. */
#ifndef EDONU_STATS_LOAD_H
#define EDONU_STATS_LOAD_H

#include "load.h"
#include "monitor.h"
#include "stats.h"

/* Fills live's per_worker, files, nfiles, files_first, files_total and
 * bytes_total from ld, into workers (ld->nworkers of them, at most
 * WORKERS_MAX) and files (STATS_FILES_MAX), which must outlive the use of
 * live. Called by the main thread while the reader and workers run: it
 * reads their atomics, and a source's figures only once the reader has
 * moved past it. */
void stats_load_collect(const struct load *ld, struct monitor_live *live, struct stats_worker *workers,
			struct stats_file *files);

#endif
