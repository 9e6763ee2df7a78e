/* cache.c - cache invalidation in the load: keys of committed rows journaled before COMMIT,
 * sent to Redis after it, replayed at start-up when a run ended before Redis acknowledged them. */
#include "cache.h"
#include "../core/clock.h"

#include "../io/journal.h"
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

/* Redis timeouts and backoff: a Redis that is down costs a worker at most
 * one connect timeout per backoff period, never a stall of the load. */
#define REDIS_TIMEOUT_MS   2000u
/* Redis's password when the --redis URL has none: outside argv and ps. */
#define REDIS_PASSWORD_ENV "EDONU_REDIS_PASSWORD"
/* At the end of a run, pending keys are retried for this long. */
#define FINISH_RETRY_MS    10000
/* Journal entries are the key list as the key set holds it. Compressing it
 * (zstd's fastest levels: 600 MB/s on these keys, to a third of the bytes)
 * cost more CPU than the bigger write and sync it saved: 47 ms per million
 * keys, on the path of every chunk. Entries of earlier builds are zstd
 * frames, and are read as such. */

struct cache {
	const struct options *o;
	struct journal *journal;
	char redis_url[1024];
	uint32_t batch_rows;
	uint32_t ntemplates;
	struct inval_redis *replay_redis; /* for replay and finish, on the main thread */
	struct inval_keyset *replay_ks;
	struct buf unpacked; /* a replayed entry, decompressed */
	_Atomic uint64_t keys_invalidated;
	_Atomic uint64_t round_trips;
	_Atomic uint64_t failures;
	pthread_mutex_t lock;
	struct cache_worker **workers;
	uint32_t nworkers;
	uint32_t workers_cap;
};

struct cache_worker {
	struct cache *c;
	struct inval_keyset *ks;
	struct inval_redis *redis;
	int64_t entry;      /* journal id of the chunk, -1 before journaling */
	int64_t sent_entry; /* journal id of the send in flight, -1 when none */
	uint32_t sent_keys;
	uint64_t retry_at_ns; /* no send before this (backoff after a failure) */
	long backoff_ms;
	uint64_t round_trips_seen;
};

/* The journal's target is the table and the key templates: what a pending
 * entry must invalidate, wherever Redis is. A run that fixes a mistyped
 * --redis sends what the earlier run left pending. The table is named as
 * the ledger names it (parts quoted unless plain lower-case identifiers),
 * never the same for two tables; earlier versions named it as printed
 * (table), where "s.x".t and s."x.t" were one. */
static void journal_target(const char *table, const struct options *o, char *out, size_t outsz)
{
	size_t n = (size_t)snprintf(out, outsz, "%s", table);
	for (uint32_t i = 0; i < o->invalidate.n && n < outsz; i++)
		n += (size_t)snprintf(out + n, outsz - n, " invalidate=%s", o->invalidate.v[i]);
	for (uint32_t i = 0; i < o->bump.n && n < outsz; i++)
		n += (size_t)snprintf(out + n, outsz - n, " bump=%s", o->bump.v[i]);
	if (o->publish != NULL && n < outsz)
		snprintf(out + n, outsz - n, " publish=%s", o->publish);
}

/* Damage the journal's open found fails the job: the keys of lost entries
 * may be stale in Redis, which a later run cannot know. */
static int journal_damage_error(const struct options *o, struct journal *j, struct err *e)
{
	uint64_t entries, bytes;
	const char *aside;
	if (!journal_damage(j, &entries, &bytes, &aside))
		return 0;
	log_event(o->log_format, LOG_ERROR, "journal_damaged",
		  "journal %s: %llu entries failed their checksum, %llu bytes did not read back; kept aside as %s",
		  journal_path(j), (unsigned long long)entries, (unsigned long long)bytes, aside);
	return err_set(e, EXIT_SOFTWARE,
		       "journal %s was damaged (%llu entries failed their checksum, %llu bytes did not read back; "
		       "the file is kept as %s): the keys of the lost entries may be stale in Redis, so invalidate "
		       "the table's keys before trusting the cache; the next run sends the entries that read back",
		       journal_path(j), (unsigned long long)entries, (unsigned long long)bytes, aside);
}

/* The journal earlier versions kept for this table under its printed name,
 * when that differs from the ledger's: its pending entries move into this
 * journal (replayed with it), and the old file goes. */
static int adopt_journal(struct cache *c, const char *dir, const struct table_info *t, struct err *e)
{
	char old_target[4096], path[4096];
	journal_target(t->display, c->o, old_target, sizeof old_target);
	if (strcmp(t->display, t->ident) == 0 || !journal_exists(dir, old_target))
		return 0;
	struct journal *old;
	if (journal_open(dir, old_target, &old, e) < 0)
		return -1;
	int64_t moved = journal_damage_error(c->o, old, e) < 0 ? -1 : journal_move(old, c->journal, e);
	snprintf(path, sizeof path, "%s", journal_path(old));
	if (moved < 0) {
		journal_close(old);
		return -1;
	}
	struct err re;
	if (journal_remove(old, &re) < 0)
		log_event(c->o->log_format, LOG_WARN, "journal_adopted", "%s", re.msg);
	if (moved > 0)
		log_event(c->o->log_format, LOG_INFO, "journal_adopted", "%lld pending entries of %s moved into %s",
			  (long long)moved, path, journal_path(c->journal));
	return 0;
}

int cache_open(struct cache **out, const struct options *o, const struct table_info *t, uint32_t batch_rows,
	       struct err *e)
{
	*out = NULL;
	if (o->invalidate.n == 0 && o->bump.n == 0)
		return 0;
	struct cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	c->o = o;
	c->batch_rows = batch_rows;
	c->ntemplates = o->invalidate.n + o->bump.n;
	snprintf(c->redis_url, sizeof c->redis_url, "%s", o->redis);
	pthread_mutex_init(&c->lock, NULL);

	/* A mapping of every column: templates are checked against the table
	 * now, and against each source's columns when it is mapped. */
	struct mapping all;
	if (transform_map_list(&all, t, NULL, e) < 0) {
		cache_close(c);
		return -1;
	}
	struct cache_templates tt;
	int rc = cache_compile(c, t, &all, &tt, e);
	transform_free(&all);
	if (rc < 0) {
		cache_close(c);
		return -1;
	}
	cache_templates_free(&tt);

	char dir[4096], target[4096];
	if (journal_state_dir(o->state_dir, dir, sizeof dir, e) < 0) {
		cache_close(c);
		return -1;
	}
	journal_target(t->ident, o, target, sizeof target);
	if (journal_open(dir, target, &c->journal, e) < 0 || journal_damage_error(o, c->journal, e) < 0 ||
	    adopt_journal(c, dir, t, e) < 0) {
		cache_close(c);
		return -1;
	}
	c->replay_redis = inval_redis_create(o->redis, getenv(REDIS_PASSWORD_ENV), o->publish, REDIS_TIMEOUT_MS, e);
	c->replay_ks = inval_keyset_create(batch_rows * c->ntemplates, 64);
	if (c->replay_redis == NULL || c->replay_ks == NULL) {
		if (c->replay_ks == NULL)
			err_set(e, EXIT_SOFTWARE, "out of memory");
		cache_close(c);
		return -1;
	}
	/* A Redis that refuses us (password, permissions) is configuration:
	 * 78 before anything loads. One that does not answer is retried while
	 * the load goes on, its keys pending. */
	struct err re;
	err_clear(&re);
	if (inval_redis_check(c->replay_redis, &re) != 0) {
		if (!re.retryable) {
			*e = re;
			cache_close(c);
			return -1;
		}
		log_event(o->log_format, LOG_WARN, "redis_unavailable",
			  "%s; loading goes on, keys stay pending and are retried", re.msg);
	}
	*out = c;
	return 0;
}

void cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->journal) {
		/* An empty journal is opened without reading through this run's
		 * done entries next time. */
		uint64_t entries, keys;
		journal_pending(c->journal, &entries, &keys);
		if (entries == 0)
			journal_compact(c->journal, NULL);
		journal_close(c->journal);
	}
	inval_redis_free(c->replay_redis);
	inval_keyset_free(c->replay_ks);
	buf_free(&c->unpacked);
	free(c->workers);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int cache_compile(struct cache *c, const struct table_info *t, const struct mapping *m, struct cache_templates *out,
		  struct err *e)
{
	memset(out, 0, sizeof *out);
	const struct option_list *lists[2] = {&c->o->invalidate, &c->o->bump};
	const enum inval_kind kinds[2] = {INVAL_UNLINK, INVAL_BUMP};
	for (int l = 0; l < 2; l++) {
		for (uint32_t i = 0; i < lists[l]->n; i++) {
			if (inval_compile(lists[l]->v[i], t, m, kinds[l], &out->v[out->n], e) < 0) {
				cache_templates_free(out);
				return -1;
			}
			out->n++;
		}
	}
	return 0;
}

void cache_templates_free(struct cache_templates *tt)
{
	for (uint32_t i = 0; i < tt->n; i++)
		inval_template_free(tt->v[i]);
	tt->n = 0;
}

static void count_round_trips(struct cache *c, const struct inval_redis *r, uint64_t *seen)
{
	uint64_t now = inval_redis_stats(r)->round_trips;
	atomic_fetch_add(&c->round_trips, now - *seen);
	*seen = now;
}

/* A journal entry is the key list, or a zstd frame of it (written by
 * earlier builds; a key list never starts with zstd's magic). */
static int unpack_keys(struct cache *c, const void **keys, size_t *len, struct err *e)
{
	const unsigned char *p = *keys;
	if (*len < 4 || !(p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd))
		return 0;
	unsigned long long n = ZSTD_getFrameContentSize(p, *len);
	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > ((size_t)1 << 31))
		return err_set(e, EXIT_TEMPFAIL, "journal entry is not a valid key list");
	c->unpacked.len = 0;
	buf_reserve(&c->unpacked, (size_t)n);
	size_t got = ZSTD_decompress(c->unpacked.data, (size_t)n, p, *len);
	if (ZSTD_isError(got) || got != n)
		return err_set(e, EXIT_TEMPFAIL, "journal entry is not a valid key list");
	*keys = c->unpacked.data;
	*len = got;
	return 0;
}

struct replay_ctx {
	struct cache *c;
	uint64_t seen;
	struct err e;
};

static int replay_one(void *ctx, uint64_t id, const void *keys, size_t len, uint32_t nkeys)
{
	struct replay_ctx *rc = ctx;
	struct cache *c = rc->c;
	(void)nkeys;
	if (unpack_keys(c, &keys, &len, &rc->e) < 0 || inval_keyset_load(c->replay_ks, keys, len, &rc->e) < 0)
		return 1;
	int64_t n = inval_redis_send(c->replay_redis, c->replay_ks, &rc->e);
	count_round_trips(c, c->replay_redis, &rc->seen);
	if (n < 0) {
		atomic_fetch_add(&c->failures, 1);
		return 1;
	}
	atomic_fetch_add(&c->keys_invalidated, inval_keyset_count(c->replay_ks));
	journal_done(c->journal, id, NULL);
	return 0;
}

int cache_replay(struct cache *c)
{
	uint64_t entries, keys;
	journal_pending(c->journal, &entries, &keys);
	if (entries == 0)
		return 0;
	struct replay_ctx rc = {c, inval_redis_stats(c->replay_redis)->round_trips, {0}};
	err_clear(&rc.e);
	int r = journal_replay(c->journal, replay_one, &rc, &rc.e);
	if (r != 0) {
		log_event(c->o->log_format, LOG_WARN, "invalidation_pending",
			  "%llu keys from an earlier run still pending: %s", (unsigned long long)keys, rc.e.msg);
		return 1;
	}
	log_event(c->o->log_format, LOG_INFO, "invalidation_replayed",
		  "%llu keys left pending by an earlier run invalidated", (unsigned long long)keys);
	return 0;
}

int cache_reserve(struct cache *c, uint32_t batch_rows, struct err *e)
{
	if (batch_rows <= c->batch_rows)
		return 0;
	uint32_t keys = batch_rows * c->ntemplates;
	struct inval_keyset *ks = inval_keyset_create(keys, 64);
	if (ks == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	inval_keyset_free(c->replay_ks);
	c->replay_ks = ks;
	for (uint32_t i = 0; i < c->nworkers; i++) {
		struct cache_worker *w = c->workers[i];
		ks = inval_keyset_create(keys, 64);
		if (ks == NULL)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		inval_keyset_free(w->ks);
		w->ks = ks;
	}
	c->batch_rows = batch_rows;
	return 0;
}

struct cache_worker *cache_worker_create(struct cache *c, uint32_t batch_rows, struct err *e)
{
	struct cache_worker *w = calloc(1, sizeof *w);
	if (w == NULL) {
		err_set(e, EXIT_SOFTWARE, "out of memory");
		return NULL;
	}
	w->c = c;
	w->entry = -1;
	w->sent_entry = -1;
	w->backoff_ms = BACKOFF_MS_MIN;
	w->ks = inval_keyset_create(batch_rows * c->ntemplates, 64);
	w->redis = inval_redis_create(c->redis_url, getenv(REDIS_PASSWORD_ENV), c->o->publish, REDIS_TIMEOUT_MS, e);
	if (w->ks == NULL || w->redis == NULL) {
		if (w->redis != NULL)
			err_set(e, EXIT_SOFTWARE, "out of memory");
		cache_worker_free(w);
		return NULL;
	}
	pthread_mutex_lock(&c->lock);
	if (c->nworkers == c->workers_cap) {
		uint32_t cap = c->workers_cap ? c->workers_cap * 2 : 8;
		struct cache_worker **p = realloc(c->workers, cap * sizeof *p);
		if (p == NULL) {
			pthread_mutex_unlock(&c->lock);
			cache_worker_free(w);
			err_set(e, EXIT_SOFTWARE, "out of memory");
			return NULL;
		}
		c->workers = p;
		c->workers_cap = cap;
	}
	c->workers[c->nworkers++] = w;
	pthread_mutex_unlock(&c->lock);
	return w;
}

void cache_worker_free(struct cache_worker *w)
{
	if (w == NULL)
		return;
	inval_keyset_free(w->ks);
	inval_redis_free(w->redis);
	free(w);
}

void cache_worker_begin(struct cache_worker *w)
{
	inval_keyset_clear(w->ks);
	w->entry = -1;
}

int cache_worker_add(struct cache_worker *w, const struct cache_templates *tt, const struct table_info *t,
		     const struct field *fields, struct err *e)
{
	if (inval_keyset_add_record_deferred(w->ks, tt->v, tt->n, t, fields, e) < 0) {
		if (e->code == EXIT_DATAERR)
			e->code = EXIT_CONFIG;
		return -1;
	}
	return 0;
}

int cache_worker_stage(struct cache_worker *w, struct err *e)
{
	w->entry = -1;
	if (inval_keyset_settle(w->ks) < 0)
		return err_set(e, EXIT_SOFTWARE, "invalidation key set full: sized too small");
	if (inval_keyset_count(w->ks) == 0)
		return 0;
	size_t len;
	const void *d = inval_keyset_data(w->ks, &len);
	int64_t id = journal_write(w->c->journal, d, len, inval_keyset_count(w->ks), e);
	if (id < 0)
		return -1;
	w->entry = id;
	return 0;
}

int cache_worker_journal(struct cache_worker *w, bool changed, struct err *e)
{
	if (changed) {
		/* The staged entry is superseded: its done mark and the new
		 * entry become durable together, in the sync below. */
		if (w->entry >= 0 && journal_done(w->c->journal, (uint64_t)w->entry, e) < 0)
			return -1;
		if (cache_worker_stage(w, e) < 0)
			return -1;
	}
	if (w->entry < 0)
		return 0;
	return journal_sync(w->c->journal, e);
}

/* A failed send: the entry stays pending in the journal (cache_finish and
 * the next run replay it), and sends pause with backoff. */
static void send_failed(struct cache_worker *w, const struct err *e)
{
	atomic_fetch_add(&w->c->failures, 1);
	log_event(w->c->o->log_format, LOG_WARN, "redis_unavailable", "keys stay pending, next try in %ld ms: %s",
		  w->backoff_ms, e->msg);
	w->retry_at_ns = clock_mono_ns() + (uint64_t)w->backoff_ms * 1000000u;
	w->backoff_ms = backoff_next_ms(w->backoff_ms);
}

void cache_worker_flush(struct cache_worker *w)
{
	if (w->sent_entry < 0)
		return;
	struct err e;
	err_clear(&e);
	int64_t n = inval_redis_send_end(w->redis, &e);
	count_round_trips(w->c, w->redis, &w->round_trips_seen);
	uint64_t entry = (uint64_t)w->sent_entry;
	w->sent_entry = -1;
	if (n < 0) {
		send_failed(w, &e);
		return;
	}
	w->backoff_ms = BACKOFF_MS_MIN;
	w->retry_at_ns = 0;
	atomic_fetch_add(&w->c->keys_invalidated, w->sent_keys);
	journal_done(w->c->journal, entry, NULL);
}

void cache_worker_send(struct cache_worker *w)
{
	/* The previous chunk's replies first: Redis worked on them while this
	 * chunk was parsed, encoded and committed. */
	cache_worker_flush(w);
	if (w->entry < 0)
		return;
	if (clock_mono_ns() < w->retry_at_ns)
		return; /* Redis failed recently: the entry stays pending for later */
	struct err e;
	err_clear(&e);
	if (inval_redis_send_begin(w->redis, w->ks, &e) < 0) {
		count_round_trips(w->c, w->redis, &w->round_trips_seen);
		send_failed(w, &e);
		return;
	}
	w->sent_entry = w->entry;
	w->sent_keys = inval_keyset_count(w->ks);
	w->entry = -1;
}

uint64_t cache_finish(struct cache *c)
{
	uint64_t entries, keys;
	journal_pending(c->journal, &entries, &keys);
	uint64_t deadline = clock_mono_ns() + (uint64_t)FINISH_RETRY_MS * 1000000u;
	long backoff = BACKOFF_MS_MIN;
	while (entries > 0 && cache_replay(c) != 0) {
		if (clock_mono_ns() + (uint64_t)backoff * 1000000u > deadline)
			break;
		clock_sleep_ms(backoff, NULL);
		backoff = backoff_next_ms(backoff);
	}
	journal_pending(c->journal, &entries, &keys);
	return keys;
}

void cache_stats(struct cache *c, struct cache_stats *s)
{
	memset(s, 0, sizeof *s);
	if (c == NULL)
		return;
	uint64_t entries;
	journal_pending(c->journal, &entries, &s->keys_pending);
	s->keys_invalidated = atomic_load(&c->keys_invalidated);
	s->round_trips = atomic_load(&c->round_trips);
	s->failures = atomic_load(&c->failures);
}
