/* metrics.c - Prometheus text exposition of the load's counters, and the node_exporter textfile (served over HTTP by metrics_http.c). */
#include "metrics.h"

#include "../io/atomic_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* meson defines it for every target; a bare compile gets an empty label. */
#ifndef EDONU_VERSION
#define EDONU_VERSION ""
#endif

const double metrics_histogram_bounds[METRICS_HISTOGRAM_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

/* ---- Histogram ---- */

void metrics_histogram_observe(struct metrics_histogram *h, double seconds)
{
	if (!(seconds > 0)) /* also NaN */
		seconds = 0;
	unsigned i = 0;
	while (i < METRICS_HISTOGRAM_BUCKETS && seconds > metrics_histogram_bounds[i])
		i++;
	/* Relaxed: the reader wants eventually consistent totals, not an
	 * ordering with any other memory. */
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	double ns = seconds * 1e9;
	uint64_t add = ns >= 1.8e19 ? UINT64_C(18000000000000000000) : (uint64_t)ns;
	atomic_fetch_add_explicit(&h->sum_ns, add, memory_order_relaxed);
}

void metrics_histogram_read(const struct metrics_histogram *h, struct metrics_histogram_values *v)
{
	uint64_t run = 0;
	for (unsigned i = 0; i < METRICS_HISTOGRAM_BUCKETS; i++) {
		run += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
		v->cumulative[i] = run;
	}
	run += atomic_load_explicit(&h->counts[METRICS_HISTOGRAM_BUCKETS], memory_order_relaxed);
	v->count = run;
	v->sum_seconds = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
}

/* ---- Rendering ---- */

/* A float as Prometheus (Go's strconv) reads it: the shortest of %.15g and
 * %.17g that reads back exactly, so 0.1 stays "0.1". */
static void format_double(char *out, size_t n, double v)
{
	if (isnan(v)) {
		snprintf(out, n, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	snprintf(out, n, "%.15g", v);
	if (strtod(out, NULL) != v)
		snprintf(out, n, "%.17g", v);
}

static void put_double(struct buf *b, double v)
{
	char tmp[40];
	format_double(tmp, sizeof tmp, v);
	buf_puts(b, tmp);
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. p is NUL-terminated,
 * and NUL is never a continuation byte, so reading ahead stops in time. */
static unsigned utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xBF;
	unsigned n;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (unsigned i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* A label value between quotes: backslash, double quote and line feed
 * escaped as the format requires; invalid UTF-8 replaced by U+FFFD. */
static void put_label_value(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	buf_putc(b, '"');
	while (*p) {
		unsigned n;
		if (*p == '\\') {
			buf_puts(b, "\\\\");
			p++;
		} else if (*p == '"') {
			buf_puts(b, "\\\"");
			p++;
		} else if (*p == '\n') {
			buf_puts(b, "\\n");
			p++;
		} else if (*p < 0x80) {
			buf_putc(b, (char)*p++);
		} else if ((n = utf8_len(p)) > 0) {
			buf_put(b, p, n);
			p += n;
		} else {
			buf_puts(b, "\xEF\xBF\xBD");
			p++;
		}
	}
	buf_putc(b, '"');
}

static void put_header(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* "name{table="t",k1="v1",...} " - the labels present, then a space for
 * the value. kv holds nkv name/value pairs. */
static void put_series_labels(struct buf *b, const char *name, const char *suffix, const char *table,
			      const char *const *kv, unsigned nkv)
{
	buf_puts(b, name);
	buf_puts(b, suffix);
	char sep = '{';
	if (table != NULL) {
		buf_puts(b, "{table=");
		put_label_value(b, table);
		sep = ',';
	}
	for (unsigned i = 0; i < nkv; i++) {
		buf_putc(b, sep);
		buf_puts(b, kv[2 * i]);
		buf_putc(b, '=');
		put_label_value(b, kv[2 * i + 1]);
		sep = ',';
	}
	if (sep == ',')
		buf_putc(b, '}');
	buf_putc(b, ' ');
}

/* The same with at most one label besides table; k NULL for none. */
static void put_series(struct buf *b, const char *name, const char *suffix, const char *table, const char *k,
		       const char *v)
{
	const char *kv[2] = {k, v};
	put_series_labels(b, name, suffix, table, kv, k != NULL ? 1 : 0);
}

static void put_u64_metric(struct buf *b, const char *name, const char *type, const char *help, const char *table,
			   uint64_t v)
{
	put_header(b, name, type, help);
	put_series(b, name, "", table, NULL, NULL);
	buf_printf(b, "%llu\n", (unsigned long long)v);
}

static void put_double_metric(struct buf *b, const char *name, const char *help, const char *table, double v)
{
	put_header(b, name, "gauge", help);
	put_series(b, name, "", table, NULL, NULL);
	put_double(b, v);
	buf_putc(b, '\n');
}

int metrics_render(const struct metrics_snapshot *s, struct buf *out)
{
	const char *t = s->table != NULL && s->table[0] != '\0' ? s->table : NULL;

	put_u64_metric(out, "edonu_ingest_up", "gauge", "1 while the load runs, 0 once it has ended.", t,
		       s->up ? 1 : 0);

	put_header(out, "edonu_ingest_info", "gauge", "The loader's version and input; always 1.");
	const char *info[4] = {"source", s->source != NULL ? s->source : "", "version", EDONU_VERSION};
	put_series_labels(out, "edonu_ingest_info", "", t, info, 2);
	buf_puts(out, "1\n");

	put_double_metric(out, "edonu_ingest_start_time_seconds", "Unix time the load started.", t,
			  s->start_time_seconds);
	put_double_metric(out, "edonu_ingest_last_success_timestamp_seconds",
			  "Unix time a load last finished without error; 0 if none has.", t, s->last_success_seconds);

	const char *rec = "edonu_ingest_records_total";
	put_header(out, rec, "counter",
		   "Records by outcome: loaded, rejected, ignored (--on-conflict ignore: the key was there), or "
		   "skipped as committed by an earlier run.");
	put_series(out, rec, "", t, "outcome", "loaded");
	buf_printf(out, "%llu\n", (unsigned long long)s->records_loaded);
	put_series(out, rec, "", t, "outcome", "rejected");
	buf_printf(out, "%llu\n", (unsigned long long)s->records_rejected);
	put_series(out, rec, "", t, "outcome", "ignored");
	buf_printf(out, "%llu\n", (unsigned long long)s->records_ignored);
	put_series(out, rec, "", t, "outcome", "skipped");
	buf_printf(out, "%llu\n", (unsigned long long)s->records_skipped);

	put_u64_metric(out, "edonu_ingest_bytes_total", "counter", "Bytes of input read.", t, s->bytes_read);
	put_u64_metric(out, "edonu_ingest_batches_total", "counter", "Batches (chunks) committed.", t, s->batches);
	put_u64_metric(out, "edonu_ingest_retries_total", "counter", "Whole-batch retries after transient failures.", t,
		       s->retries);
	put_u64_metric(out, "edonu_ingest_isolation_retries_total", "counter",
		       "Statements rerun to isolate records PostgreSQL refused.", t, s->isolation_retries);
	put_u64_metric(out, "edonu_ingest_keys_invalidated_total", "counter",
		       "Cache keys invalidated in Redis and acknowledged.", t, s->keys_invalidated);
	put_u64_metric(out, "edonu_ingest_keys_pending", "gauge", "Cache keys journaled but not yet invalidated.", t,
		       s->keys_pending);
	put_u64_metric(out, "edonu_ingest_redis_round_trips_total", "counter", "Pipelined round trips to Redis.", t,
		       s->redis_round_trips);
	put_u64_metric(out, "edonu_ingest_queue_depth", "gauge", "Chunks read and waiting for a worker.", t,
		       s->queue_depth);
	put_u64_metric(out, "edonu_ingest_workers", "gauge", "Worker threads, one PostgreSQL connection each.", t,
		       s->workers);

	const char *h = "edonu_ingest_batch_commit_seconds";
	const struct metrics_histogram_values *hv = &s->commit_seconds;
	put_header(out, h, "histogram", "Time to COPY and COMMIT one batch.");
	for (unsigned i = 0; i < METRICS_HISTOGRAM_BUCKETS; i++) {
		char le[40];
		format_double(le, sizeof le, metrics_histogram_bounds[i]);
		put_series(out, h, "_bucket", t, "le", le);
		/* Cumulative counts may not exceed the total; a hand-filled
		 * snapshot that breaks this would be rejected by Prometheus. */
		uint64_t c = hv->cumulative[i] < hv->count ? hv->cumulative[i] : hv->count;
		buf_printf(out, "%llu\n", (unsigned long long)c);
	}
	put_series(out, h, "_bucket", t, "le", "+Inf");
	buf_printf(out, "%llu\n", (unsigned long long)hv->count);
	put_series(out, h, "_sum", t, NULL, NULL);
	put_double(out, hv->sum_seconds);
	buf_putc(out, '\n');
	put_series(out, h, "_count", t, NULL, NULL);
	buf_printf(out, "%llu\n", (unsigned long long)hv->count);
	return 0;
}

/* ---- Textfile ---- */

#define LAST_SUCCESS_NAME "edonu_ingest_last_success_timestamp_seconds"

/* The value on a line "NAME[{labels}] VALUE", or 0. Label values may hold
 * '}' inside quotes, so the braces are skipped quote-aware. */
static double parse_last_success(const char *line)
{
	size_t n = strlen(LAST_SUCCESS_NAME);
	if (strncmp(line, LAST_SUCCESS_NAME, n) != 0)
		return 0;
	const char *p = line + n;
	if (*p == '{') {
		bool quoted = false;
		for (p++; *p != '\0'; p++) {
			if (quoted && *p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = !quoted;
			else if (!quoted && *p == '}')
				break;
		}
		if (*p != '}')
			return 0;
		p++;
	}
	if (*p != ' ' && *p != '\t')
		return 0;
	char *end;
	double v = strtod(p, &end);
	if (end == p || !isfinite(v) || v < 0)
		return 0;
	return v;
}

double metrics_textfile_last_success(const char *path)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0;
	char *line = NULL;
	size_t cap = 0;
	double v = 0;
	/* Bounded: our file is a few KiB; stop after 1 MiB of someone else's. */
	size_t seen = 0;
	ssize_t n;
	while (v == 0 && seen < ((size_t)1 << 20) && (n = getline(&line, &cap, f)) > 0) {
		seen += (size_t)n;
		v = parse_last_success(line);
	}
	free(line);
	fclose(f);
	return v;
}

int metrics_write_textfile(const char *path, const struct metrics_snapshot *s, struct err *e)
{
	struct metrics_snapshot copy = *s;
	if (!(copy.last_success_seconds > 0))
		copy.last_success_seconds = metrics_textfile_last_success(path);
	struct buf b;
	if (buf_init(&b, 8192) < 0)
		return err_set(e, EXIT_SOFTWARE, "metrics textfile %s: out of memory", path);
	metrics_render(&copy, &b);

	const char *what;
	int rc = atomic_file_write(path, b.data, b.len, &what);
	int saved = errno;
	buf_free(&b);
	if (rc < 0)
		return err_set(e, EXIT_CONFIG, "metrics textfile %s: cannot %s: %s", path, what, strerror(saved));
	return 0;
}
