/* load.h - the load command's shared state: sources, workers, rings and counters. */
#ifndef EDONU_LOAD_H
#define EDONU_LOAD_H

#include "../core/buf.h"
#include "../core/chunk.h"
#include "../core/limits.h"
#include "../core/ring.h"
#include "../io/rejects.h"
#include "../io/replay.h"
#include "../stages/codec.h"
#include "../stages/parse_ndjson.h"
#include "../stages/record.h"
#include "../stages/reject_reason.h"
#include "../stages/sink_pg.h"
#include "../stages/transform.h"
#include "cache.h"
#include "catalog.h"
#include "ledger.h"
#include "options.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdalign.h>
#include <stdatomic.h>

/* One input: a file or standard input. Written by the reader thread before
 * its first chunk is handed on; read-only for the workers after that. */
struct source {
	const char *name;  /* as given; "-" for standard input; for a replay, the rejects file */
	const char *path;  /* what the reader opens when fd is -1 (standard input, a FIFO) */
	int fd;            /* the input opened once (a file, a replay group's memfd), not the source's to close */
	int header_forced; /* -1: the options say whether there is a header line; else a replay group does */
	struct dialect dialect;
	struct mapping map;
	struct ndjson_map ndjson;          /* NDJSON: which key fills which field of map */
	struct sink_statements statements; /* from map, once mapped */
	struct cache_templates templates;  /* cache keys of its records */
	bool mapped;
	/* The header line as read (end-of-line stripped), NULL when none:
	 * recorded with each reject, so that a replay maps its fields. */
	char *header;
	size_t header_len;
	/* Exactly once: the ledger's view of this input (see ledger.h). */
	struct ledger_source ledger;
	uint32_t batch_rows; /* the source's chunking: a resumed source keeps its own */
	uint64_t next_chunk; /* reader: where the search for the next chunk number starts (ledger_chunk_number) */
	/* Set by the reader. */
	uint64_t records;          /* records framed, header excluded */
	uint64_t skipped;          /* records of chunks committed on an earlier run */
	uint64_t rejected_earlier; /* of those, rejected by that run */
	bool rejects_unwritten;    /* its rejects of this run did not reach the rejects file */
	uint64_t bytes;
	bool read_whole; /* read to its end without error or interruption */
	int64_t size;    /* at the job's start, for the dashboard; -1 unknown (a pipe) */
};

/* Counters a worker updates and the monitor reads; on a cache line of their own. */
struct worker_counters {
	alignas(CACHE_LINE_BYTES) _Atomic uint64_t loaded;
	_Atomic uint64_t rejected;
	_Atomic uint64_t ignored; /* --on-conflict ignore: the key was there already */
	_Atomic uint64_t batches;
	_Atomic uint64_t deferred; /* records sent through text COPY */
	_Atomic uint64_t statements;
	_Atomic uint64_t isolation_retries;
	_Atomic uint64_t retries;      /* whole-chunk retries after transient failures */
	_Atomic uint64_t unknown_keys; /* NDJSON keys naming no mapped column, in committed chunks */
	_Atomic uint64_t parse_ns;     /* parse + transform + encode */
	_Atomic uint64_t sink_ns;      /* COPY and COMMIT */
};

struct load;

struct worker {
	uint32_t id;
	pthread_t thread;
	struct engine *eng;
	uint64_t job_seen; /* the engine's job_gen this worker last took */
	struct load *ld;   /* the job it works for */
	struct ring *todo; /* reader -> worker: chunks to load */
	struct ring *done; /* worker -> reader: chunks to refill */
	sem_t todo_sem;
	struct pgsink *sink;
	const struct source *cur_src;
	struct chunk *chunks[CHUNKS_PER_WORKER];
	struct codec_source codec_src; /* cur_src as the codec reads it */
	/* Per-chunk work space, sized at start-up for a full chunk. */
	struct codec *codec;             /* fields, encoded tuples and text lines */
	struct buf pending;              /* the chunk's rejects: to the ledger with its COMMIT, then to the file */
	struct buf ledger_rows;          /* the chunk's rejects as rows of edonu_ingest.rejects */
	struct cache_worker *cache_part; /* the engine's: made with its cache */
	struct cache_worker *cache;      /* cache_part while a job invalidates, else NULL */
	/* The main thread cancels the statement in flight with this when a stop
	 * signal is not heeded in time; renewed on each reconnection. */
	pthread_mutex_t cancel_lock;
	PGcancel *cancel;
	uint8_t *refused;            /* per record of the chunk: refused by the server this attempt */
	bool keys_partial;           /* the key set leaves out refused records */
	long merged;                 /* rows the chunk's commit wrote through merge; -1: unknown or no merge */
	uint64_t chunk_unknown_keys; /* NDJSON keys naming no column in this chunk, counted once it commits */
	/* Where the last reject's line was computed, so that the next one in
	 * the same chunk continues from there instead of from the start. */
	const struct chunk *line_chunk;
	uint32_t line_rec;
	uint64_t line_no;
	/* The job's committed rejects by SQLSTATE or reason: written by this
	 * worker only, read once the workers have ended. */
	struct reject_tally reasons;
	struct worker_counters n;
};

/* What outlives a job: the workers with their connections, chunks and
 * buffers, and the control connection, sized at start-up (the chunk
 * capacity grows when a resumed source needs larger chunks). */
struct engine {
	const struct options *o;
	uint32_t nworkers;
	uint32_t batch_rows; /* chunk capacity in records */
	size_t chunk_bytes;  /* and in bytes */
	struct worker *workers;
	PGconn *control; /* catalog, ledger set-up and the sources' locks */
	/* The workers' sessions while they come up, until the first job
	 * attaches the workers; NULL after. */
	struct pg_opening *opening;
	/* The session's search_path as the user set it (the control
	 * connection's own is pg_catalog's): --table is resolved with it. */
	char *search_path;
	struct monitor *mon;
	struct cache *cache;  /* opened by the first job that invalidates */
	uint32_t cache_table; /* the oid of the table its templates were checked on */
	/* The worker threads wait here between jobs: job_gen is bumped to
	 * hand them the next, closing ends them; a job's last worker
	 * broadcasts when it is done. */
	pthread_mutex_t jobs_lock;
	pthread_cond_t jobs_cond;
	uint64_t job_gen;
	bool closing;
	uint32_t threads; /* worker threads running */
};

/* One job: a set of sources loaded into one table by the engine. */
struct load {
	struct engine *eng;
	const struct options *o;
	struct table_info table;
	struct rejects *rejects;
	struct cache *cache;           /* the engine's; NULL without --invalidate/--bump */
	struct cache_stats cache_base; /* its figures when the job began */
	uint32_t nworkers;
	uint32_t batch_rows;             /* the largest of the sources' batch_rows: chunk capacity */
	_Atomic uint64_t rejected_total; /* for --max-rejects */
	_Atomic uint32_t rejects_shown;  /* without --rejects: shown on stderr so far */
	size_t chunk_bytes;
	struct worker *workers;
	sem_t free_sem; /* counts chunks in the workers' done rings */
	/* 1 while no chunk holds a buffer of its own (a record longer than a
	 * chunk): the reader takes it before growing one, and resetting that
	 * chunk gives it back (load_chunk_reset). */
	sem_t big_sem;
	sem_t finished_sem; /* posted when the last worker has finished the job */
	_Atomic uint32_t workers_alive;
	_Atomic bool reader_done;
	_Atomic bool stop;      /* a fatal error or a signal: stop reading */
	_Atomic bool cancelled; /* statements in flight canceled after a stop signal */
	_Atomic int fatal_code;
	pthread_mutex_t fatal_lock;
	struct err fatal; /* the first fatal error */
	/* Reader-side counters. */
	_Atomic uint64_t bytes_read;
	_Atomic uint64_t skipped_total; /* records of chunks skipped as committed earlier */
	_Atomic uint64_t read_ns;
	double reader_wait_s; /* reader thread only; read after it is joined */
	struct source *sources;
	uint32_t nsources;
	struct replay replay; /* --from-rejects: the groups the sources read */
	int64_t total_bytes;  /* of the inputs, for progress; -1 unknown */
	int *own_fds;         /* inputs the job opened itself (no o->file_fds), closed at its end */
	/* The sources' fingerprints, taken while the job sets up (NULL for a
	 * dry run): o->file_prints when the command started them, else the
	 * job's own, reading print_fds and print_names. */
	struct fingerprint_set *prints;
	int *print_fds;
	const char **print_names;
	_Atomic uint32_t cur_source;
	/* Chunks whose rejects went to the rejects file this run: marked
	 * written in the ledger once the file is synced (sources_finish). */
	pthread_mutex_t written_lock;
	struct written_chunk {
		uint32_t source;
		uint64_t chunk;
	} * written;
	size_t nwritten, written_cap;
	/* Upserts touch the table in input order: the chunk numbered
	 * turn_next (chunk.order) merges and commits next, the others wait. */
	bool ordered;
	uint64_t emitted; /* reader only: chunks handed to workers so far */
	pthread_mutex_t turn_lock;
	pthread_cond_t turn_cond;
	uint64_t turn_next;
};

/* Records the first fatal error and asks everyone to stop. */
void load_fail(struct load *ld, const struct err *e);

/* Wakes the reader if it waits for a free chunk or for the buffer of a long
 * record, after ld->stop was set. */
void load_wake_reader(struct load *ld);

/* Empties chunk c for reuse (chunk_reset); a buffer of its own is freed and
 * ld->big_sem given back. */
void load_chunk_reset(struct load *ld, struct chunk *c);

/* Chunk chunk of src had its rejects written to the rejects file. */
void load_note_rejects_written(struct load *ld, const struct source *src, uint64_t chunk);

/* The CPUs this process may run on (its affinity mask: taskset, systemd's
 * CPUAffinity=, a container's cpuset), at least 1. The default worker count,
 * and where workers are pinned: never outside what the process was given. */
uint32_t workers_cpus(cpu_set_t *set);

/* A new PostgreSQL session for the engine, waiting for the server up to
 * --connect-timeout (reconnect: --retry-timeout), logging each retry. */
PGconn *engine_connect(const struct options *o, bool reconnect, struct err *e);
/* Waits for the workers' sessions the engine started (eng->opening) and
 * sets conns[0..nworkers); -1 with e as engine_connect. */
int engine_open_finish(struct engine *eng, PGconn **conns, struct err *e);

/* The engine's workers (pipeline/engine_workers.c): their connections, chunks and
 * buffers, made once; a job attaches to them (per-job state reset, cache
 * workers made) and detaches at its end. */
int workers_create(struct engine *eng, struct err *e);
int workers_reserve(struct engine *eng, uint32_t batch_rows, struct err *e);
int workers_attach(struct load *ld, struct err *e);
void workers_detach(struct load *ld);
void workers_destroy(struct engine *eng);
/* A worker's cancel handle, renewed after a reconnection. */
void worker_renew_cancel(struct worker *w);

/* The engine's worker threads take a job (started with the first job), and
 * the job waits until every worker has finished its chunks. */
int workers_start(struct load *ld, struct err *e);
void workers_join(struct load *ld);
/* Ends the worker threads (no job running). */
void workers_stop(struct engine *eng);
/* Cancels every worker's statement in flight (PQcancel); from then on a
 * failed chunk is not retried but rolled back, and the run exits 75. Safe
 * to call again while workers are still running. */
void workers_cancel(struct load *ld);

/* The load command: an engine runs the job, then the summary on stderr and --summary. */
int load_main(const struct options *o);
/* From now on SIGINT and SIGTERM stop loads gracefully (exit 75) instead
 * of killing the process. */
void load_catch_signals(void);
/* A SIGINT or SIGTERM arrived since load_catch_signals. */
bool load_interrupted(void);
/* The last stop signal (0: none), and how many arrived. */
int load_signal(void);
int load_signals_seen(void);

#endif
