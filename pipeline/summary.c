/* summary.c - the run's figures, as a table for people and JSON for programs. */
#include "summary.h"

#include "../core/buf.h"
#include "../core/escape.h"
#include "../io/atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

double summary_records_per_minute(const struct summary *s)
{
	/* Records this run processed: skipped ones cost nothing and would flatter it. */
	return s->seconds > 0 ? (double)(s->loaded + s->rejected + s->ignored) * 60.0 / s->seconds : 0.0;
}

/* The tally in key order (a copy: the summary stays as it is). */
static void sorted_reasons(const struct summary *s, struct reject_tally *t)
{
	*t = s->by_reason;
	reject_tally_sort(t);
}

/* s on a terminal: input-derived text (a header in the error, the table
 * name) with nothing a terminal acts on. Into *b, NUL-terminated. */
static const char *printable(struct buf *b, const char *s)
{
	b->len = 0;
	escape_text(b, s, strlen(s));
	buf_putc(b, '\0');
	return b->data;
}

void summary_print(FILE *out, const struct summary *s)
{
	struct buf table, error;
	if (buf_init(&table, sizeof s->table) < 0 || buf_init(&error, sizeof s->error) < 0) {
		fprintf(out, "edonu-ingest summary: out of memory\n");
		return;
	}
	fprintf(out,
		"edonu-ingest summary: %s%s\n"
		"  records read   %12llu\n"
		"  loaded         %12llu\n"
		"  rejected       %12llu\n"
		"  skipped        %12llu\n"
		"  bytes          %12llu\n"
		"  seconds        %12.3f\n"
		"  records/min    %12.0f\n"
		"  batches        %12llu   workers %u, files %u, retries %llu\n",
		printable(&table, s->table), s->dry_run ? " (dry run: nothing was written)" : "",
		(unsigned long long)s->records_read, (unsigned long long)s->loaded, (unsigned long long)s->rejected,
		(unsigned long long)s->skipped, (unsigned long long)s->bytes, s->seconds, summary_records_per_minute(s),
		(unsigned long long)s->batches, s->workers, s->files, (unsigned long long)s->retries);
	if (s->dry_run)
		fprintf(out, "  dry run        nothing was written; loaded counts the records that would load\n");
	if (s->rejected) {
		struct reject_tally t;
		sorted_reasons(s, &t);
		for (uint32_t i = 0; i < t.n; i++)
			fprintf(out, "    %-16s%9llu\n", t.e[i].key, (unsigned long long)t.e[i].count);
	}
	if (s->rejected_earlier)
		fprintf(out, "  rejected before%12llu   of the skipped records, by the run that loaded them\n",
			(unsigned long long)s->rejected_earlier);
	if (s->ignored)
		fprintf(out, "  ignored        %12llu   key already in the table (--on-conflict ignore)\n",
			(unsigned long long)s->ignored);
	if (s->keys_invalidated || s->keys_pending)
		fprintf(out, "  keys           %12llu   invalidated, %llu pending, %llu Redis round trips\n",
			(unsigned long long)s->keys_invalidated, (unsigned long long)s->keys_pending,
			(unsigned long long)s->redis_round_trips);
	if (s->ndjson_unknown_keys)
		fprintf(out, "  unknown keys   %12llu   NDJSON keys that name no column, ignored\n",
			(unsigned long long)s->ndjson_unknown_keys);
	if (s->error[0])
		fprintf(out, "  error          %s\n", printable(&error, s->error));
	buf_free(&table);
	buf_free(&error);
}

static void put_kv_u64(struct buf *b, const char *k, uint64_t v, bool comma)
{
	char tmp[96];
	int n = snprintf(tmp, sizeof tmp, "\"%s\":%llu%s", k, (unsigned long long)v, comma ? "," : "");
	buf_put(b, tmp, (size_t)n);
}

static void put_kv_f(struct buf *b, const char *k, double v, bool comma)
{
	char tmp[96];
	int n = snprintf(tmp, sizeof tmp, "\"%s\":%.3f%s", k, v, comma ? "," : "");
	buf_put(b, tmp, (size_t)n);
}

void summary_add(struct summary *a, const struct summary *b)
{
	if (a->table[0] == '\0')
		snprintf(a->table, sizeof a->table, "%s", b->table);
	a->records_read += b->records_read;
	a->loaded += b->loaded;
	a->rejected += b->rejected;
	a->ignored += b->ignored;
	a->skipped += b->skipped;
	a->rejected_earlier += b->rejected_earlier;
	reject_tally_merge(&a->by_reason, &b->by_reason);
	a->deferred += b->deferred;
	a->bytes += b->bytes;
	a->seconds += b->seconds;
	a->batches += b->batches;
	a->retries += b->retries;
	a->isolation_retries += b->isolation_retries;
	a->statements += b->statements;
	a->keys_invalidated += b->keys_invalidated;
	a->keys_pending = b->keys_pending; /* the journal's count after the latest file */
	a->redis_round_trips += b->redis_round_trips;
	a->ndjson_unknown_keys += b->ndjson_unknown_keys;
	if (b->workers > a->workers)
		a->workers = b->workers;
	a->files += b->files;
	a->read_s += b->read_s;
	a->parse_s += b->parse_s;
	a->sink_s += b->sink_s;
	a->started |= b->started;
	a->dry_run |= b->dry_run;
}

int summary_write_json(const char *path, const struct summary *s)
{
	struct buf b;
	if (buf_init(&b, 1024) < 0)
		return -1;
	buf_put(&b, "{\"table\":", 9);
	escape_json(&b, s->table, strlen(s->table));
	buf_putc(&b, ',');
	put_kv_u64(&b, "records_read", s->records_read, true);
	put_kv_u64(&b, "loaded", s->loaded, true);
	put_kv_u64(&b, "rejected", s->rejected, true);
	put_kv_u64(&b, "ignored", s->ignored, true);
	put_kv_u64(&b, "skipped", s->skipped, true);
	put_kv_u64(&b, "rejected_earlier", s->rejected_earlier, true);
	buf_put(&b, "\"rejects_by_reason\":{", 21);
	struct reject_tally t;
	sorted_reasons(s, &t);
	for (uint32_t i = 0; i < t.n; i++) {
		escape_json(&b, t.e[i].key, strlen(t.e[i].key));
		char num[32];
		int n = snprintf(num, sizeof num, ":%llu%s", (unsigned long long)t.e[i].count, i + 1 < t.n ? "," : "");
		buf_put(&b, num, (size_t)n);
	}
	buf_put(&b, "},", 2);
	buf_put(&b, s->dry_run ? "\"dry_run\":true," : "\"dry_run\":false,", s->dry_run ? 15 : 16);
	put_kv_u64(&b, "deferred_to_text", s->deferred, true);
	put_kv_u64(&b, "bytes", s->bytes, true);
	put_kv_f(&b, "seconds", s->seconds, true);
	put_kv_f(&b, "records_per_minute", summary_records_per_minute(s), true);
	buf_put(&b, "\"stage_seconds\":{", 17);
	put_kv_f(&b, "read", s->read_s, true);
	put_kv_f(&b, "parse_encode", s->parse_s, true);
	put_kv_f(&b, "sink", s->sink_s, false);
	buf_put(&b, "},", 2);
	put_kv_u64(&b, "batches", s->batches, true);
	put_kv_u64(&b, "retries", s->retries, true);
	put_kv_u64(&b, "isolation_retries", s->isolation_retries, true);
	put_kv_u64(&b, "statements", s->statements, true);
	put_kv_u64(&b, "keys_invalidated", s->keys_invalidated, true);
	put_kv_u64(&b, "keys_pending", s->keys_pending, true);
	put_kv_u64(&b, "redis_round_trips", s->redis_round_trips, true);
	put_kv_u64(&b, "ndjson_unknown_keys", s->ndjson_unknown_keys, true);
	put_kv_u64(&b, "workers", s->workers, true);
	put_kv_u64(&b, "files", s->files, true);
	put_kv_u64(&b, "exit_code", (uint64_t)s->exit_code, s->error[0] != '\0');
	if (s->error[0]) {
		buf_put(&b, "\"error\":", 8);
		escape_json(&b, s->error, strlen(s->error));
	}
	buf_put(&b, "}\n", 2);

	int rc = 0;
	if (strcmp(path, "-") == 0) {
		if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0)
			rc = -1;
	} else {
		const char *what;
		rc = atomic_file_write(path, b.data, b.len, &what);
	}
	buf_free(&b);
	return rc;
}
