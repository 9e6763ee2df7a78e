/* cache.h - the load's cache invalidation: templates, one key set and Redis connection per worker, and the journal. */
#ifndef EDONU_CACHE_H
#define EDONU_CACHE_H

#include "../core/err.h"
#include "../stages/invalidate.h"
#include "catalog.h"
#include "options.h"

#include <stdbool.h>
#include <stdint.h>

/* The engine's: the options' templates, the journal, the figures. */
struct cache;
/* One worker's part: its chunk's key set and its own Redis connection. */
struct cache_worker;

/* Templates of one source, compiled against its mapping. */
struct cache_templates {
	struct inval_template *v[2 * OPTION_LIST_MAX];
	uint32_t n;
};
_Static_assert(2 * OPTION_LIST_MAX <= INVAL_TEMPLATES_MAX, "every template fits a record's pending keys");

/* Checks the templates against every column of the table (a typo is a
 * configuration error before anything loads: EXIT_CONFIG), opens the journal
 * in the state directory (another run holds it: EXIT_TEMPFAIL) and prepares
 * the Redis client. *out is NULL when the options ask for no invalidation. */
int cache_open(struct cache **out, const struct options *o, const struct table_info *t, uint32_t batch_rows,
	       struct err *e);
void cache_close(struct cache *c);

/* Sends the keys of entries left pending by earlier runs. Returns 0 when none
 * is left, 1 when Redis could not take them now (they stay pending). */
int cache_replay(struct cache *c);

/* Compiles the templates for a source's mapping (EXIT_CONFIG when a template
 * names a column the source does not load). */
int cache_compile(struct cache *c, const struct table_info *t, const struct mapping *m, struct cache_templates *out,
		  struct err *e);
void cache_templates_free(struct cache_templates *tt);

/* The cache lives as long as the engine: a job whose chunks hold more
 * records than it was sized for grows its key sets (no job running). */
int cache_reserve(struct cache *c, uint32_t batch_rows, struct err *e);

/* A worker's part, freed before the cache is closed. */
struct cache_worker *cache_worker_create(struct cache *c, uint32_t batch_rows, struct err *e);
void cache_worker_free(struct cache_worker *w);

/* Starts a chunk: empties the key set. */
void cache_worker_begin(struct cache_worker *w);
/* Adds the keys of one accepted record. -1 with e when a key cannot be
 * rendered exactly (the load must stop: a key left out is a stale cache). */
int cache_worker_add(struct cache_worker *w, const struct cache_templates *tt, const struct table_info *t,
		     const struct field *fields, struct err *e);
/* Once the chunk is encoded: its keys are written to the journal, not yet
 * synced (the disk works while the server runs the COPY). -1 with e. */
int cache_worker_stage(struct cache_worker *w, struct err *e);
/* Right before COMMIT: the keys made durable. changed: the key set was
 * rebuilt since it was staged (the server refused records), so the staged
 * entry is replaced. -1 with e: do not commit. */
int cache_worker_journal(struct cache_worker *w, bool changed, struct err *e);
/* After COMMIT: sends the chunk's keys, and takes the replies of the
 * previous chunk's send, which Redis handled meanwhile. When Redis is
 * unavailable the entry stays pending and sends pause with capped
 * exponential backoff; loading goes on. */
void cache_worker_send(struct cache_worker *w);
/* Takes the replies of the send in flight, if any: call when the worker
 * has no more chunks. */
void cache_worker_flush(struct cache_worker *w);

/* After the load: sends what is still pending, trying for a bounded time.
 * Returns the number of keys left pending (the run then exits 75). */
uint64_t cache_finish(struct cache *c);

/* Figures for the summary and metrics. */
struct cache_stats {
	uint64_t keys_invalidated; /* keys sent to Redis and acknowledged (UNLINK and INCR) */
	uint64_t keys_pending;
	uint64_t round_trips;
	uint64_t failures;
};
void cache_stats(struct cache *c, struct cache_stats *s);

#endif
