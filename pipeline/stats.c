/* stats.c - the live dashboard's figures: the rate history the monitor samples, and the JSON body of /stats. */
#include "stats.h"

#include "../io/rejects.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* meson defines it for every target; a bare compile gets an empty one. */
#ifndef EDONU_VERSION
#define EDONU_VERSION ""
#endif

/* ---- History ---- */

static const struct stats_sample *sample_at(const struct stats_history *h, uint32_t age)
{
	/* age 0 is the newest. */
	return &h->s[(h->head + STATS_HISTORY_SAMPLES - 1 - age) % STATS_HISTORY_SAMPLES];
}

bool stats_history_add(struct stats_history *h, double t, uint64_t records, uint64_t bytes,
		       const struct metrics_histogram_values *commit, bool force)
{
	if (h->n > 0 && !force && t - sample_at(h, 0)->t < STATS_SAMPLE_INTERVAL_S)
		return false;
	h->s[h->head] = (struct stats_sample){t, records, bytes, commit->count, commit->sum_seconds};
	h->head = (h->head + 1) % STATS_HISTORY_SAMPLES;
	if (h->n < STATS_HISTORY_SAMPLES)
		h->n++;
	return true;
}

/* b - a, or 0 when a counter went backwards (it never should). */
static double delta(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) : 0;
}

void stats_history_rates(const struct stats_history *h, double window_s, double *records_per_s, double *bytes_per_s)
{
	*records_per_s = *bytes_per_s = 0;
	if (h->n < 2)
		return;
	const struct stats_sample *last = sample_at(h, 0), *first = sample_at(h, 1);
	for (uint32_t age = 2; age < h->n && last->t - sample_at(h, age)->t <= window_s; age++)
		first = sample_at(h, age);
	double dt = last->t - first->t;
	if (!(dt > 0))
		return;
	*records_per_s = delta(first->records, last->records) / dt;
	*bytes_per_s = delta(first->bytes, last->bytes) / dt;
}

double stats_histogram_quantile(const struct metrics_histogram_values *v, double q)
{
	if (v->count == 0)
		return 0;
	double rank = q * (double)v->count;
	double lower = 0;
	uint64_t below = 0;
	for (unsigned i = 0; i < METRICS_HISTOGRAM_BUCKETS; i++) {
		uint64_t c = v->cumulative[i];
		double upper = metrics_histogram_bounds[i];
		if ((double)c >= rank && c > below)
			return lower + (upper - lower) * (rank - (double)below) / (double)(c - below);
		lower = upper;
		below = c;
	}
	return metrics_histogram_bounds[METRICS_HISTOGRAM_BUCKETS - 1];
}

/* ---- Run ---- */

void stats_run_note(struct stats_run *r, const char *name, enum stats_run_outcome outcome, uint64_t loaded,
		    uint64_t rejected)
{
	if (outcome == STATS_RUN_DONE)
		r->done++;
	else if (outcome == STATS_RUN_FAILED)
		r->failed++;
	else
		r->left++;
	struct stats_run_file *f = &r->recent[r->recent_head];
	snprintf(f->name, sizeof f->name, "%s", name);
	f->outcome = outcome;
	f->loaded = loaded;
	f->rejected = rejected;
	r->recent_head = (r->recent_head + 1) % STATS_RUN_RECENT;
	if (r->nrecent < STATS_RUN_RECENT)
		r->nrecent++;
	r->current[0] = '\0';
}

/* ---- JSON ---- */

/* A finite number, or null: JSON has no NaN or infinity. */
static void put_num(struct buf *b, double v, const char *fmt)
{
	if (isfinite(v))
		buf_printf(b, fmt, v);
	else
		buf_puts(b, "null");
}

static void put_str(struct buf *b, const char *s)
{
	json_put_string(b, s, strlen(s));
}

static void put_key(struct buf *b, const char *key)
{
	char last = b->len > 0 ? b->data[b->len - 1] : '\0';
	if (last != '{' && last != '[')
		buf_putc(b, ',');
	buf_printf(b, "\"%s\":", key);
}

static void put_u64(struct buf *b, const char *key, uint64_t v)
{
	put_key(b, key);
	buf_printf(b, "%" PRIu64, v);
}

/* A size in bytes, null when it is not known (negative: a pipe's). */
static void put_size(struct buf *b, const char *key, int64_t v)
{
	put_key(b, key);
	if (v >= 0)
		buf_printf(b, "%" PRId64, v);
	else
		buf_puts(b, "null");
}

/* "percent" and "eta_s" of done bytes out of size, at bytes_per_s. */
static void put_progress(struct buf *b, uint64_t done, int64_t size, double bytes_per_s, bool eta)
{
	put_key(b, "percent");
	if (size > 0)
		put_num(b, (double)done >= (double)size ? 100.0 : 100.0 * (double)done / (double)size, "%.2f");
	else
		buf_puts(b, size == 0 ? "100" : "null");
	put_key(b, "eta_s");
	if (eta && size >= 0 && bytes_per_s > 0)
		put_num(b, (double)done >= (double)size ? 0.0 : ((double)size - (double)done) / bytes_per_s, "%.1f");
	else
		buf_puts(b, "null");
}

static void put_records(struct buf *b, const struct metrics_snapshot *s)
{
	put_key(b, "records");
	buf_putc(b, '{');
	put_u64(b, "loaded", s->records_loaded);
	put_u64(b, "rejected", s->records_rejected);
	put_u64(b, "ignored", s->records_ignored);
	put_u64(b, "skipped", s->records_skipped);
	buf_putc(b, '}');
	put_u64(b, "bytes_read", s->bytes_read);
	put_u64(b, "batches", s->batches);
	put_u64(b, "retries", s->retries);
	put_u64(b, "isolation_retries", s->isolation_retries);
	put_key(b, "cache");
	buf_putc(b, '{');
	put_u64(b, "keys_invalidated", s->keys_invalidated);
	put_u64(b, "keys_pending", s->keys_pending);
	put_u64(b, "round_trips", s->redis_round_trips);
	buf_putc(b, '}');
}

/* The samples as rates between neighbours, oldest first; seconds_ago is
 * counted back from the newest sample. */
static void put_history(struct buf *b, const struct stats_history *h)
{
	static const char *const series[] = {"seconds_ago", "records_per_s", "bytes_per_s", "commit_mean_ms"};
	put_key(b, "history");
	buf_putc(b, '{');
	put_key(b, "interval_s");
	put_num(b, STATS_SAMPLE_INTERVAL_S, "%g");
	double newest = h->n > 0 ? sample_at(h, 0)->t : 0;
	for (unsigned k = 0; k < sizeof series / sizeof series[0]; k++) {
		put_key(b, series[k]);
		buf_putc(b, '[');
		for (uint32_t age = h->n > 0 ? h->n - 1 : 0; age >= 1; age--) {
			const struct stats_sample *a = sample_at(h, age), *z = sample_at(h, age - 1);
			double dt = z->t - a->t;
			if (age != h->n - 1)
				buf_putc(b, ',');
			if (k == 0)
				put_num(b, newest - z->t, "%.2f");
			else if (k == 1)
				put_num(b, dt > 0 ? delta(a->records, z->records) / dt : 0, "%.1f");
			else if (k == 2)
				put_num(b, dt > 0 ? delta(a->bytes, z->bytes) / dt : 0, "%.1f");
			else if (z->commits > a->commits)
				put_num(b,
					1000 * (z->commit_seconds - a->commit_seconds) / delta(a->commits, z->commits),
					"%.3f");
			else
				buf_puts(b, "null");
		}
		buf_putc(b, ']');
	}
	buf_putc(b, '}');
}

static void put_commit(struct buf *b, const struct metrics_histogram_values *v)
{
	put_key(b, "commit_seconds");
	buf_putc(b, '{');
	put_u64(b, "count", v->count);
	put_key(b, "sum");
	put_num(b, v->sum_seconds, "%.6f");
	put_key(b, "mean");
	put_num(b, v->count > 0 ? v->sum_seconds / (double)v->count : 0, "%.6f");
	static const double qs[] = {0.5, 0.9, 0.99};
	static const char *const names[] = {"p50", "p90", "p99"};
	for (unsigned i = 0; i < 3; i++) {
		put_key(b, names[i]);
		put_num(b, stats_histogram_quantile(v, qs[i]), "%.6f");
	}
	/* Per bucket (not cumulative), the last one above the largest bound. */
	put_key(b, "buckets");
	buf_putc(b, '[');
	uint64_t below = 0;
	for (unsigned i = 0; i <= METRICS_HISTOGRAM_BUCKETS; i++) {
		uint64_t c = i < METRICS_HISTOGRAM_BUCKETS ? v->cumulative[i] : v->count;
		if (i > 0)
			buf_putc(b, ',');
		buf_puts(b, "{\"le\":");
		if (i < METRICS_HISTOGRAM_BUCKETS)
			put_num(b, metrics_histogram_bounds[i], "%g");
		else
			buf_puts(b, "null");
		buf_printf(b, ",\"count\":%" PRIu64 "}", c > below ? c - below : 0);
		below = c > below ? c : below;
	}
	buf_puts(b, "]}");
}

static const char *file_state_name(enum stats_file_state s)
{
	switch (s) {
	case STATS_FILE_WAITING: return "waiting";
	case STATS_FILE_READING: return "reading";
	case STATS_FILE_READ: return "read";
	case STATS_FILE_SKIPPED: return "skipped";
	}
	return "?";
}

static void put_job(struct buf *b, const struct stats_view *v, double bytes_per_s)
{
	put_key(b, "job");
	if (!v->job) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '{');
	put_u64(b, "bytes", v->job_bytes);
	put_size(b, "bytes_total", v->job_bytes_total);
	put_progress(b, v->job_bytes, v->job_bytes_total, bytes_per_s, true);
	put_u64(b, "files_total", v->files_total);
	put_u64(b, "files_first", v->files_first);
	put_key(b, "files");
	buf_putc(b, '[');
	for (uint32_t i = 0; i < v->nfiles; i++) {
		const struct stats_file *f = &v->files[i];
		buf_puts(b, i ? ",{" : "{");
		put_key(b, "name");
		put_str(b, f->name != NULL ? f->name : "");
		put_key(b, "state");
		put_str(b, file_state_name(f->state));
		put_u64(b, "bytes", f->bytes);
		put_size(b, "size", f->size);
		put_progress(b, f->bytes, f->size, bytes_per_s, f->state == STATS_FILE_READING);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
}

static void put_workers(struct buf *b, const struct stats_view *v)
{
	put_u64(b, "queue_depth", v->snap->queue_depth);
	put_key(b, "workers");
	buf_putc(b, '[');
	for (uint32_t i = 0; v->workers != NULL && i < v->snap->workers; i++) {
		const struct stats_worker *w = &v->workers[i];
		buf_printf(b, "%s{\"id\":%" PRIu32, i ? "," : "", i);
		put_u64(b, "queue_depth", w->queue_depth);
		put_u64(b, "loaded", w->loaded);
		put_u64(b, "batches", w->batches);
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}

static void put_run(struct buf *b, const struct stats_run *r)
{
	static const char *const outcome[] = {
	    [STATS_RUN_DONE] = "done", [STATS_RUN_FAILED] = "failed", [STATS_RUN_LEFT] = "left"};
	put_key(b, "run");
	if (r == NULL) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '{');
	put_u64(b, "files_total", r->total);
	put_u64(b, "done", r->done);
	put_u64(b, "failed", r->failed);
	put_u64(b, "left", r->left);
	uint64_t settled = r->done + r->failed + r->left + (r->current[0] ? 1 : 0);
	put_u64(b, "waiting", r->total > settled ? r->total - settled : 0);
	put_key(b, "current");
	if (r->current[0])
		put_str(b, r->current);
	else
		buf_puts(b, "null");
	put_key(b, "recent");
	buf_putc(b, '[');
	for (uint32_t k = 0; k < r->nrecent; k++) {
		/* Newest first. */
		const struct stats_run_file *f =
		    &r->recent[(r->recent_head + STATS_RUN_RECENT - 1 - k) % STATS_RUN_RECENT];
		buf_puts(b, k ? ",{" : "{");
		put_key(b, "name");
		put_str(b, f->name);
		put_key(b, "outcome");
		put_str(b, outcome[f->outcome]);
		put_u64(b, "loaded", f->loaded);
		put_u64(b, "rejected", f->rejected);
		buf_putc(b, '}');
	}
	buf_puts(b, "]}");
}

void stats_render_json(const struct stats_view *v, const struct stats_history *h, struct buf *out)
{
	const struct metrics_snapshot *s = v->snap;
	double records_per_s, bytes_per_s;
	stats_history_rates(h, STATS_RATE_WINDOW_S, &records_per_s, &bytes_per_s);
	buf_putc(out, '{');
	put_key(out, "version");
	put_str(out, EDONU_VERSION);
	put_key(out, "command");
	put_str(out, v->command);
	put_key(out, "up");
	buf_puts(out, s->up ? "true" : "false");
	put_key(out, "time_unix");
	put_num(out, v->now_unix, "%.3f");
	put_key(out, "start_time_unix");
	put_num(out, s->start_time_seconds, "%.3f");
	put_key(out, "last_success_unix");
	if (s->last_success_seconds > 0)
		put_num(out, s->last_success_seconds, "%.3f");
	else
		buf_puts(out, "null");
	put_key(out, "table");
	put_str(out, s->table != NULL ? s->table : "");
	put_key(out, "source");
	put_str(out, s->source != NULL ? s->source : "");
	put_u64(out, "workers_count", s->workers);
	put_records(out, s);
	put_key(out, "rate");
	buf_puts(out, "{\"window_s\":");
	put_num(out, STATS_RATE_WINDOW_S, "%g");
	put_key(out, "records_per_s");
	put_num(out, records_per_s, "%.1f");
	put_key(out, "bytes_per_s");
	put_num(out, bytes_per_s, "%.1f");
	buf_putc(out, '}');
	put_history(out, h);
	put_commit(out, &s->commit_seconds);
	put_job(out, v, bytes_per_s);
	put_workers(out, v);
	put_run(out, v->run);
	buf_puts(out, "}\n");
}
