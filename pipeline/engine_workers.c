/* engine_workers.c - the engine's workers: their connections, chunks and buffers, made once,
 * grown when a job needs larger chunks, attached to each job and freed with the engine. */
#include "../core/clock.h"
#include "../stages/sink_pg.h"
#include "load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* What a worker needs for chunks of rmax records in chunk_bytes: freed and
 * made again when the capacity grows. */
static void worker_free_capacity(struct worker *w)
{
	while (ring_pop(w->done) != NULL)
		;
	for (uint32_t k = 0; k < CHUNKS_PER_WORKER; k++) {
		chunk_free(w->chunks[k]);
		w->chunks[k] = NULL;
	}
	codec_free(w->codec);
	w->codec = NULL;
	free(w->refused);
	w->refused = NULL;
}

static int worker_alloc_capacity(struct worker *w, uint32_t rmax, size_t chunk_bytes, size_t record_bytes_max,
				 struct err *e)
{
	w->codec = codec_create(rmax, chunk_bytes, record_bytes_max);
	w->refused = calloc(rmax ? rmax : 1, 1);
	if (w->codec == NULL || w->refused == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	for (uint32_t k = 0; k < CHUNKS_PER_WORKER; k++) {
		struct chunk *c = chunk_create(rmax, chunk_bytes);
		if (c == NULL)
			return err_set(e, EXIT_SOFTWARE, "out of memory for chunks");
		c->owner = w->id;
		w->chunks[k] = c;
		ASSERT(ring_push(w->done, c));
	}
	return 0;
}

/* Everything of a worker but its thread, which each job starts, and its
 * session, which the first job attaches. */
static int worker_create(struct engine *eng, struct worker *w, struct err *e)
{
	pthread_mutex_init(&w->cancel_lock, NULL);
	w->todo = ring_create(WORKER_RING_SLOTS);
	w->done = ring_create(WORKER_RING_SLOTS);
	if (w->todo == NULL || w->done == NULL || sem_init(&w->todo_sem, 0, 0) < 0 ||
	    buf_init(&w->pending, 16 << 10) < 0 || buf_init(&w->ledger_rows, 16 << 10) < 0)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	if (worker_alloc_capacity(w, eng->batch_rows, eng->chunk_bytes, eng->o->max_record_bytes, e) < 0)
		return -1;
	w->sink = pgsink_create(NULL);
	if (w->sink == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	return 0;
}

int workers_create(struct engine *eng, struct err *e)
{
	eng->workers = calloc(eng->nworkers, sizeof *eng->workers);
	if (eng->workers == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	for (uint32_t i = 0; i < eng->nworkers; i++) {
		eng->workers[i].id = i;
		if (worker_create(eng, &eng->workers[i], e) < 0)
			return -1;
	}
	return 0;
}

/* The workers' sessions, once the engine's opening of them is done. */
static int workers_connect(struct engine *eng, struct err *e)
{
	PGconn **conns = calloc(eng->nworkers, sizeof *conns);
	if (conns == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	int rc = engine_open_finish(eng, conns, e);
	for (uint32_t i = 0; rc == 0 && i < eng->nworkers; i++) {
		pgsink_set_conn(eng->workers[i].sink, conns[i]);
		worker_renew_cancel(&eng->workers[i]);
	}
	free(conns);
	return rc;
}

int workers_reserve(struct engine *eng, uint32_t batch_rows, struct err *e)
{
	if (batch_rows <= eng->batch_rows)
		return 0;
	eng->batch_rows = batch_rows;
	eng->chunk_bytes = chunk_bytes_for(batch_rows);
	for (uint32_t i = 0; i < eng->nworkers; i++) {
		worker_free_capacity(&eng->workers[i]);
		if (worker_alloc_capacity(&eng->workers[i], eng->batch_rows, eng->chunk_bytes, eng->o->max_record_bytes,
					  e) < 0)
			return -1;
	}
	return 0;
}

int workers_attach(struct load *ld, struct err *e)
{
	struct engine *eng = ld->eng;
	if (eng->opening != NULL && workers_connect(eng, e) < 0)
		return -1;
	ld->workers = eng->workers;
	ld->nworkers = eng->nworkers;
	ld->batch_rows = eng->batch_rows;
	ld->chunk_bytes = eng->chunk_bytes;
	/* Every chunk is in its owner's done ring between jobs. */
	if (sem_init(&ld->free_sem, 0, eng->nworkers * CHUNKS_PER_WORKER) < 0 ||
	    sem_init(&ld->finished_sem, 0, 0) < 0 || sem_init(&ld->big_sem, 0, 1) < 0)
		return err_set(e, EXIT_SOFTWARE, "sem_init: %s", strerror(errno));
	for (uint32_t i = 0; i < eng->nworkers; i++) {
		struct worker *w = &eng->workers[i];
		ASSERT(ring_count(w->done) == CHUNKS_PER_WORKER && ring_count(w->todo) == 0);
		w->ld = ld;
		w->cur_src = NULL;
		w->line_chunk = NULL;
		memset(&w->n, 0, sizeof w->n);
		memset(&w->reasons, 0, sizeof w->reasons);
		sem_destroy(&w->todo_sem);
		sem_init(&w->todo_sem, 0, 0);
		/* The last job's statements (and staging table) are not this one's. */
		pgsink_reset(w->sink);
		w->cache = NULL;
		if (ld->cache != NULL && !ld->o->dry_run) {
			if (w->cache_part == NULL &&
			    (w->cache_part = cache_worker_create(ld->cache, eng->batch_rows, e)) == NULL)
				return -1;
			w->cache = w->cache_part;
		}
	}
	return 0;
}

void workers_detach(struct load *ld)
{
	if (ld->workers == NULL)
		return;
	for (uint32_t i = 0; i < ld->nworkers; i++) {
		ld->workers[i].cache = NULL;
		ld->workers[i].ld = NULL;
	}
	sem_destroy(&ld->free_sem);
	sem_destroy(&ld->finished_sem);
	sem_destroy(&ld->big_sem);
	ld->workers = NULL;
}

void workers_destroy(struct engine *eng)
{
	if (eng->workers == NULL)
		return;
	for (uint32_t i = 0; i < eng->nworkers; i++) {
		struct worker *w = &eng->workers[i];
		if (w->todo == NULL)
			continue; /* never made */
		worker_free_capacity(w);
		PQfreeCancel(w->cancel);
		pthread_mutex_destroy(&w->cancel_lock);
		pgsink_free(w->sink);
		ring_free(w->todo);
		ring_free(w->done);
		sem_destroy(&w->todo_sem);
		buf_free(&w->pending);
		buf_free(&w->ledger_rows);
	}
	free(eng->workers);
	eng->workers = NULL;
}
