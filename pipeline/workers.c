/* workers.c - one thread per core: parse, map and encode each record of a chunk, then commit the
 * chunk with the worker's own PostgreSQL connection, and hand the chunk back to the reader. */
#include "load.h"

#include "../stages/encode.h"
#include "../stages/parse_csv.h"
#include "../stages/parse_text.h"
#include "../stages/sink_pg.h"
#include "log.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void load_fail(struct load *ld, const struct err *e)
{
	pthread_mutex_lock(&ld->fatal_lock);
	if (atomic_load(&ld->fatal_code) == 0) {
		ld->fatal = *e;
		atomic_store(&ld->fatal_code, e->code ? e->code : EXIT_SOFTWARE);
	}
	pthread_mutex_unlock(&ld->fatal_lock);
	atomic_store(&ld->stop, true);
	/* Wake the reader if it waits for a chunk. */
	sem_post(&ld->free_sem);
}

/* Physical line where record rec of c starts. */
static uint64_t record_line(struct worker *w, const struct chunk *c, uint32_t rec)
{
	if (w->line_chunk != c || w->line_rec > rec) {
		w->line_chunk = c;
		w->line_rec = 0;
		w->line_no = c->first_line;
	}
	const char *p = c->data + c->rec_off[w->line_rec];
	const char *end = c->data + c->rec_off[rec];
	uint64_t n = w->line_no;
	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	w->line_rec = rec;
	w->line_no = n;
	return n;
}

struct reject_ctx {
	struct worker *w;
	const struct chunk *c;
};

static void write_reject(struct worker *w, const struct chunk *c, uint32_t rec, const char *column,
			 const char *sqlstate, const char *message)
{
	const char *raw = c->data + c->rec_off[rec];
	size_t raw_len = c->rec_off[rec + 1] - c->rec_off[rec];
	if (!(c->rec_flags[rec] & REC_TOO_LONG)) {
		/* The end-of-line is not part of the record. */
		if (raw_len > 0 && raw[raw_len - 1] == '\n')
			raw_len--;
		if (raw_len > 0 && raw[raw_len - 1] == '\r')
			raw_len--;
	}
	struct reject r = {
		.source = c->src->name,
		.record = c->first_record + rec,
		.line = record_line(w, c, rec),
		.byte_offset = c->byte_offset + c->rec_off[rec],
		.column = column,
		.sqlstate = sqlstate,
		.message = message,
		.raw = raw,
		.raw_len = raw_len,
	};
	struct err e;
	if (rejects_write(w->ld->rejects, &r, &e) < 0)
		load_fail(w->ld, &e);
	atomic_fetch_add_explicit(&w->n.rejected, 1, memory_order_relaxed);
}

static void on_server_reject(void *ctx, uint32_t rec, const char *sqlstate, const char *message, const char *column)
{
	struct reject_ctx *rc = ctx;
	write_reject(rc->w, rc->c, rec, column, sqlstate, message);
}

/* Appends record fields as one text COPY line (tab, \N, escapes). */
static void put_text_line(struct buf *out, const struct field *f, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		if (k > 0)
			buf_putc(out, '\t');
		if (f[k].null)
			buf_put(out, "\\N", 2);
		else
			text_escape_value('\t', f[k].ptr, f[k].len, out);
	}
	buf_putc(out, '\n');
}

/* Parse, map and encode every record; rejects what is certainly bad. */
static void encode_chunk(struct worker *w, const struct chunk *c, struct sink_batch *b)
{
	const struct source *src = c->src;
	const struct dialect *d = &src->dialect;
	const struct mapping *m = &src->map;
	const struct table_info *t = &w->ld->table;
	const struct enc_session *sess = &t->session;
	char msg[512];
	uint32_t nbin = 0, ntxt = 0;
	w->bin.len = 0;
	w->txt.len = 0;
	w->bin_off[0] = 0;
	w->txt_off[0] = 0;

	for (uint32_t i = 0; i < c->nrecords; i++) {
		if (c->rec_flags[i] & REC_TOO_LONG) {
			snprintf(msg, sizeof msg, "record is longer than %zu bytes, the most a chunk holds",
				 w->ld->chunk_bytes);
			write_reject(w, c, i, NULL, NULL, msg);
			continue;
		}
		const char *rec = c->data + c->rec_off[i];
		size_t len = c->rec_off[i + 1] - c->rec_off[i];
		w->scratch.len = 0;
		buf_reserve(&w->scratch, len + 1);
		int nf = d->format == FORMAT_TEXT
				 ? text_parse_record(d, rec, len, w->fields, FIELDS_MAX, &w->scratch, msg, sizeof msg)
				 : csv_parse_record(d, rec, len, w->fields, FIELDS_MAX, &w->scratch, msg, sizeof msg);
		if (nf < 0) {
			write_reject(w, c, i, NULL, NULL, msg);
			continue;
		}
		const char *column = NULL;
		if (transform_check_fields(m, t, (uint32_t)nf, msg, sizeof msg, &column) < 0) {
			write_reject(w, c, i, column, NULL, msg);
			continue;
		}
		bool defer = !m->all_binary;
		if (!defer) {
			size_t start = w->bin.len;
			encode_tuple_begin(&w->bin, (uint16_t)nf);
			bool rejected = false;
			for (int k = 0; k < nf; k++) {
				const struct field *f = &w->fields[k];
				if (f->null) {
					if (!defer)
						encode_null(&w->bin);
					continue;
				}
				const struct enc_column *col = &t->cols[m->col[k]].enc;
				size_t before = w->bin.len;
				enum enc_status st = encode_binary(col, sess, f->ptr, f->len, &w->bin, msg, sizeof msg);
				if (st == ENC_REJECT) {
					write_reject(w, c, i, col->name, NULL, msg);
					rejected = true;
					break;
				}
				if (st == ENC_DEFER) {
					/* Keep checking the other fields: a certain reject
					 * still wins over a deferral. */
					defer = true;
				}
				if (defer)
					w->bin.len = before;
			}
			if (rejected || defer) {
				w->bin.len = start;
				if (rejected)
					continue;
			} else {
				w->bin_rec[nbin] = i;
				w->bin_off[++nbin] = (uint32_t)w->bin.len;
				continue;
			}
		}
		put_text_line(&w->txt, w->fields, (uint32_t)nf);
		w->txt_rec[ntxt] = i;
		w->txt_off[++ntxt] = (uint32_t)w->txt.len;
	}
	*b = (struct sink_batch){
		.bin = &w->bin,
		.bin_off = w->bin_off,
		.bin_rec = w->bin_rec,
		.nbin = nbin,
		.txt = &w->txt,
		.txt_off = w->txt_off,
		.txt_rec = w->txt_rec,
		.ntxt = ntxt,
	};
	atomic_fetch_add_explicit(&w->n.deferred, ntxt, memory_order_relaxed);
}

static void process_chunk(struct worker *w, struct chunk *c)
{
	if (w->cur_src != c->src) {
		pgsink_set_copy(w->sink, c->src->map.copy_bin_sql, c->src->map.copy_txt_sql);
		w->cur_src = c->src;
	}
	uint64_t t0 = now_ns();
	struct sink_batch b;
	encode_chunk(w, c, &b);
	uint64_t t1 = now_ns();
	long committed = 0;
	if (b.nbin + b.ntxt > 0) {
		struct reject_ctx rc = {w, c};
		struct err e;
		err_clear(&e);
		committed = pgsink_commit(w->sink, &b, on_server_reject, &rc, &e);
		if (committed < 0) {
			load_fail(w->ld, &e);
			committed = 0;
		}
	}
	uint64_t t2 = now_ns();
	atomic_fetch_add_explicit(&w->n.loaded, (uint64_t)committed, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.parse_ns, t1 - t0, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n.sink_ns, t2 - t1, memory_order_relaxed);
	atomic_store_explicit(&w->n.statements, pgsink_statements(w->sink), memory_order_relaxed);
	atomic_store_explicit(&w->n.isolation_retries, pgsink_isolation_retries(w->sink), memory_order_relaxed);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct load *ld = w->ld;
	for (;;) {
		while (sem_wait(&w->todo_sem) < 0 && errno == EINTR)
			;
		struct chunk *c = ring_pop(w->todo);
		if (c == NULL) {
			if (atomic_load(&ld->reader_done))
				break;
			continue;
		}
		/* After a fatal error chunks are handed back unprocessed so the
		 * reader can notice the stop and end. */
		if (!atomic_load(&ld->fatal_code))
			process_chunk(w, c);
		chunk_reset(c);
		ASSERT(ring_push(w->done, c));
		sem_post(&ld->free_sem);
	}
	if (atomic_fetch_sub(&ld->workers_alive, 1) == 1)
		sem_post(&ld->finished_sem);
	return NULL;
}

int workers_create(struct load *ld, struct err *e)
{
	ld->workers = calloc(ld->nworkers, sizeof *ld->workers);
	if (ld->workers == NULL)
		return err_set(e, EXIT_SOFTWARE, "out of memory");
	if (sem_init(&ld->free_sem, 0, 0) < 0 || sem_init(&ld->finished_sem, 0, 0) < 0)
		return err_set(e, EXIT_SOFTWARE, "sem_init: %s", strerror(errno));
	for (uint32_t i = 0; i < ld->nworkers; i++) {
		struct worker *w = &ld->workers[i];
		w->id = i;
		w->ld = ld;
		w->todo = ring_create(WORKER_RING_SLOTS);
		w->done = ring_create(WORKER_RING_SLOTS);
		if (w->todo == NULL || w->done == NULL || sem_init(&w->todo_sem, 0, 0) < 0)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		uint32_t rmax = ld->batch_rows;
		/* Encoded tuples take about as much room as their text; start
		 * there and let a rare wide chunk grow the buffer. */
		if (buf_init(&w->scratch, ld->chunk_bytes) < 0 || buf_init(&w->bin, ld->chunk_bytes + ld->chunk_bytes / 2) < 0 ||
		    buf_init(&w->txt, 64 << 10) < 0)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		w->fields = calloc(FIELDS_MAX, sizeof *w->fields);
		w->bin_off = malloc(((size_t)rmax + 1) * sizeof(uint32_t));
		w->bin_rec = malloc(((size_t)rmax + 1) * sizeof(uint32_t));
		w->txt_off = malloc(((size_t)rmax + 1) * sizeof(uint32_t));
		w->txt_rec = malloc(((size_t)rmax + 1) * sizeof(uint32_t));
		if (!w->fields || !w->bin_off || !w->bin_rec || !w->txt_off || !w->txt_rec)
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		for (uint32_t k = 0; k < CHUNKS_PER_WORKER; k++) {
			struct chunk *c = chunk_create(rmax, ld->chunk_bytes);
			if (c == NULL)
				return err_set(e, EXIT_SOFTWARE, "out of memory for chunks");
			c->owner = i;
			w->chunks[k] = c;
			ASSERT(ring_push(w->done, c));
			sem_post(&ld->free_sem);
		}
		PGconn *conn = pg_connect(ld->o->dsn, ld->o->connect_timeout_s, e);
		if (conn == NULL)
			return -1;
		w->sink = pgsink_create(conn);
		if (w->sink == NULL) {
			PQfinish(conn);
			return err_set(e, EXIT_SOFTWARE, "out of memory");
		}
	}
	return 0;
}

int workers_start(struct load *ld, struct err *e)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	atomic_store(&ld->workers_alive, ld->nworkers);
	for (uint32_t i = 0; i < ld->nworkers; i++) {
		struct worker *w = &ld->workers[i];
		int rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc == 0)
			ld->workers_started = i + 1;
		if (rc != 0) {
			/* Threads already running end when told the reader is done. */
			atomic_fetch_sub(&ld->workers_alive, ld->nworkers - i);
			return err_set(e, EXIT_SOFTWARE, "cannot start worker thread: %s", strerror(rc));
		}
		/* One worker per core: pinning keeps each worker's buffers in its
		 * core's cache. A failure to pin is harmless. */
		if (ncpu > 1) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET((int)(i % (uint32_t)ncpu), &set);
			pthread_setaffinity_np(w->thread, sizeof set, &set);
		}
	}
	return 0;
}

void workers_join(struct load *ld)
{
	atomic_store(&ld->reader_done, true);
	for (uint32_t i = 0; i < ld->workers_started; i++)
		sem_post(&ld->workers[i].todo_sem);
	for (uint32_t i = 0; i < ld->workers_started; i++)
		pthread_join(ld->workers[i].thread, NULL);
	ld->workers_started = 0;
}

void workers_destroy(struct load *ld)
{
	if (ld->workers == NULL)
		return;
	for (uint32_t i = 0; i < ld->nworkers; i++) {
		struct worker *w = &ld->workers[i];
		pgsink_free(w->sink);
		for (uint32_t k = 0; k < CHUNKS_PER_WORKER; k++)
			chunk_free(w->chunks[k]);
		ring_free(w->todo);
		ring_free(w->done);
		sem_destroy(&w->todo_sem);
		buf_free(&w->scratch);
		buf_free(&w->bin);
		buf_free(&w->txt);
		free(w->fields);
		free(w->bin_off);
		free(w->bin_rec);
		free(w->txt_off);
		free(w->txt_rec);
	}
	free(ld->workers);
	ld->workers = NULL;
	sem_destroy(&ld->free_sem);
	sem_destroy(&ld->finished_sem);
}
