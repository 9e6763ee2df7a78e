/* stats_load.c - the running job's figures for /stats: per worker from its ring and counters, per input from the reader's progress. */
#include "stats_load.h"

#include "../core/ring.h"

/* The window of inputs listed: the one being read a quarter of the way
 * down, so that the last few read stay in view. */
static uint32_t first_listed(uint32_t cur, uint32_t n)
{
	if (n <= STATS_FILES_MAX)
		return 0;
	uint32_t first = cur > STATS_FILES_MAX / 4 ? cur - STATS_FILES_MAX / 4 : 0;
	return first + STATS_FILES_MAX > n ? n - STATS_FILES_MAX : first;
}

/* One input: those before cur are read (their figures were written before
 * the reader moved cur past them), cur is being read until the reader is
 * done, the rest wait. ld->bytes_read counts every input read so far, so
 * the current one's bytes are what the earlier ones leave of it. */
static void file_of(const struct load *ld, uint32_t i, uint32_t cur, bool reader_done, uint64_t before,
		    struct stats_file *f)
{
	const struct source *s = &ld->sources[i];
	f->name = s->name;
	f->size = s->size;
	f->bytes = 0;
	if (s->ledger.complete) {
		f->state = STATS_FILE_SKIPPED;
	} else if (i < cur || (i == cur && reader_done)) {
		f->state = STATS_FILE_READ;
		f->bytes = s->bytes;
	} else if (i == cur) {
		uint64_t all = atomic_load(&ld->bytes_read);
		f->state = STATS_FILE_READING;
		f->bytes = all > before ? all - before : 0;
	} else {
		f->state = STATS_FILE_WAITING;
	}
}

void stats_load_collect(const struct load *ld, struct monitor_live *live, struct stats_worker *workers,
			struct stats_file *files)
{
	/* The engine never makes more (engine_create clamps --workers). */
	ASSERT(ld->nworkers <= WORKERS_MAX);
	for (uint32_t i = 0; i < ld->nworkers; i++) {
		const struct worker *w = &ld->workers[i];
		workers[i] = (struct stats_worker){
		    .queue_depth = ring_count(w->todo),
		    .loaded = atomic_load(&w->n.loaded),
		    .batches = atomic_load(&w->n.batches),
		};
	}
	live->per_worker = workers;
	/* reader_done before cur_source: once it is seen, cur is final. */
	bool reader_done = atomic_load(&ld->reader_done);
	uint32_t cur = atomic_load(&ld->cur_source);
	uint32_t first = first_listed(cur, ld->nsources);
	uint64_t before = 0;
	for (uint32_t i = 0; i < cur && i < ld->nsources; i++)
		before += ld->sources[i].bytes;
	uint32_t n = 0;
	for (uint32_t i = first; i < ld->nsources && n < STATS_FILES_MAX; i++)
		file_of(ld, i, cur, reader_done, before, &files[n++]);
	live->files = files;
	live->nfiles = n;
	live->files_first = first;
	live->files_total = ld->nsources;
	live->bytes_total = ld->total_bytes;
}
