/* test_stats.c - the dashboard's figures: the history keeps one sample a second and its rates, latency quantiles interpolate within buckets, a run counts its files, and /stats is valid JSON with every figure (a name that is not UTF-8 included). */
#include "../../pipeline/stats.h"
#include "../../stages/json_lex.h"

#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a JSON checker over the project's lexer ---- */

static bool json_value(struct json_lex *lx, enum json_lex_tok t, int depth);

static bool json_next(struct json_lex *lx, enum json_lex_tok *t)
{
	return json_lex_next(lx, t) == JSON_LEX_OK;
}

/* After an opening bracket: members (or elements) up to the closing one. */
static bool json_container(struct json_lex *lx, bool object, int depth)
{
	enum json_lex_tok t, close = object ? JSON_LEX_TOK_OBJECT_END : JSON_LEX_TOK_ARRAY_END;
	if (!json_next(lx, &t))
		return false;
	if (t == close)
		return true;
	for (;;) {
		if (object) {
			if (t != JSON_LEX_TOK_STRING || !json_next(lx, &t) || t != JSON_LEX_TOK_COLON ||
			    !json_next(lx, &t))
				return false;
		}
		if (!json_value(lx, t, depth + 1) || !json_next(lx, &t))
			return false;
		if (t == close)
			return true;
		if (t != JSON_LEX_TOK_COMMA || !json_next(lx, &t))
			return false;
	}
}

static bool json_value(struct json_lex *lx, enum json_lex_tok t, int depth)
{
	if (depth > 32)
		return false;
	switch (t) {
	case JSON_LEX_TOK_OBJECT_START: return json_container(lx, true, depth);
	case JSON_LEX_TOK_ARRAY_START: return json_container(lx, false, depth);
	case JSON_LEX_TOK_STRING:
	case JSON_LEX_TOK_NUMBER:
	case JSON_LEX_TOK_TRUE:
	case JSON_LEX_TOK_FALSE:
	case JSON_LEX_TOK_NULL: return true;
	default: return false;
	}
}

/* One JSON value, then only the newline the renderer ends it with. */
static bool json_valid(const struct buf *b)
{
	struct json_lex lx;
	json_lex_init(&lx, b->data, b->len, JSON_LEX_ESCAPES_REFUSE);
	enum json_lex_tok t;
	return json_next(&lx, &t) && json_value(&lx, t, 0) && json_next(&lx, &t) && t == JSON_LEX_TOK_END;
}

static bool has(const struct buf *b, const char *needle)
{
	return memmem(b->data, b->len, needle, strlen(needle)) != NULL;
}

/* ---- history ---- */

static const struct metrics_histogram_values no_commits;

/* Samples closer than a second apart are dropped unless forced; the ring keeps the newest. */
static void test_history_interval(void)
{
	static struct stats_history h;
	memset(&h, 0, sizeof h);
	CU_ASSERT_TRUE(stats_history_add(&h, 10.0, 0, 0, &no_commits, false));
	CU_ASSERT_FALSE(stats_history_add(&h, 10.5, 5, 5, &no_commits, false));
	CU_ASSERT_TRUE(stats_history_add(&h, 10.6, 6, 6, &no_commits, true));
	CU_ASSERT_TRUE(stats_history_add(&h, 11.6, 7, 7, &no_commits, false));
	CU_ASSERT_EQUAL(h.n, 3);
	for (unsigned i = 0; i < 2 * STATS_HISTORY_SAMPLES; i++)
		stats_history_add(&h, 20.0 + i, i, i, &no_commits, false);
	CU_ASSERT_EQUAL(h.n, STATS_HISTORY_SAMPLES);
	double r, bps;
	stats_history_rates(&h, 5.0, &r, &bps);
	CU_ASSERT_DOUBLE_EQUAL(r, 1.0, 1e-9);
}

/* Rates are over the window's samples; none with one sample; a counter going back counts as 0. */
static void test_history_rates(void)
{
	static struct stats_history h;
	memset(&h, 0, sizeof h);
	double r, bps;
	stats_history_add(&h, 0.0, 0, 0, &no_commits, false);
	stats_history_rates(&h, 10, &r, &bps);
	CU_ASSERT_EQUAL(r, 0);
	/* 100 records/s for 20 s, then 1000/s for 5 s. */
	for (int t = 1; t <= 20; t++)
		stats_history_add(&h, t, (uint64_t)t * 100, (uint64_t)t * 1000, &no_commits, false);
	for (int t = 21; t <= 25; t++)
		stats_history_add(&h, t, 2000 + (uint64_t)(t - 20) * 1000, 20000, &no_commits, false);
	stats_history_rates(&h, 5.0, &r, &bps);
	CU_ASSERT_DOUBLE_EQUAL(r, 1000.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(bps, 0.0, 1e-9);
	stats_history_rates(&h, 10.0, &r, &bps);
	CU_ASSERT_DOUBLE_EQUAL(r, (7000.0 - 1500.0) / 10.0, 1e-9);
	stats_history_add(&h, 26, 5, 5, &no_commits, false);
	stats_history_rates(&h, 1.0, &r, &bps);
	CU_ASSERT_EQUAL(r, 0);
}

/* ---- quantiles ---- */

static void test_quantiles(void)
{
	struct metrics_histogram_values v;
	memset(&v, 0, sizeof v);
	CU_ASSERT_EQUAL(stats_histogram_quantile(&v, 0.5), 0);
	/* 10 observations in (0.01, 0.025], 10 in (0.1, 0.25]. */
	for (unsigned i = 0; i < METRICS_HISTOGRAM_BUCKETS; i++)
		v.cumulative[i] = metrics_histogram_bounds[i] >= 0.25    ? 20
				  : metrics_histogram_bounds[i] >= 0.025 ? 10
									 : 0;
	v.count = 20;
	CU_ASSERT_DOUBLE_EQUAL(stats_histogram_quantile(&v, 0.25), 0.0175, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(stats_histogram_quantile(&v, 0.5), 0.025, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(stats_histogram_quantile(&v, 1.0), 0.25, 1e-12);
	/* Above the largest bound: the largest bound, as Prometheus says. */
	v.count = 40;
	CU_ASSERT_DOUBLE_EQUAL(stats_histogram_quantile(&v, 0.99), 30.0, 1e-12);
}

/* ---- run ---- */

static void test_run_counts(void)
{
	struct stats_run r;
	memset(&r, 0, sizeof r);
	r.total = 40;
	for (unsigned i = 0; i < 20; i++) {
		char name[32];
		snprintf(name, sizeof name, "f%02u.csv", i);
		snprintf(r.current, sizeof r.current, "%s", name);
		stats_run_note(&r, name, i % 5 == 4 ? STATS_RUN_FAILED : STATS_RUN_DONE, i, 0);
		CU_ASSERT_STRING_EQUAL(r.current, "");
	}
	CU_ASSERT_EQUAL(r.done, 16);
	CU_ASSERT_EQUAL(r.failed, 4);
	CU_ASSERT_EQUAL(r.nrecent, STATS_RUN_RECENT);
	CU_ASSERT_STRING_EQUAL(r.recent[(r.recent_head + STATS_RUN_RECENT - 1) % STATS_RUN_RECENT].name, "f19.csv");
}

/* ---- JSON ---- */

static void view_sample(struct metrics_snapshot *s, struct metrics_histogram *h)
{
	memset(h, 0, sizeof *h);
	metrics_histogram_observe(h, 0.02);
	metrics_histogram_observe(h, 0.2);
	*s = (struct metrics_snapshot){
	    .records_loaded = 1234,
	    .records_rejected = 5,
	    .records_ignored = 6,
	    .records_skipped = 7,
	    .bytes_read = 1000,
	    .batches = 3,
	    .keys_invalidated = 99,
	    .keys_pending = 4,
	    .queue_depth = 2,
	    .workers = 2,
	    .start_time_seconds = 1700000000,
	    .up = true,
	    .table = "public.\"orders\"",
	    .source = "-",
	};
	metrics_histogram_read(h, &s->commit_seconds);
}

/* A load's /stats: every figure, valid JSON, escaped names. */
static void test_json_load(void)
{
	static struct stats_history hist;
	memset(&hist, 0, sizeof hist);
	struct metrics_snapshot s;
	struct metrics_histogram h;
	view_sample(&s, &h);
	stats_history_add(&hist, 0, 0, 0, &no_commits, false);
	stats_history_add(&hist, 1, 500, 400, &s.commit_seconds, false);
	stats_history_add(&hist, 2, 1000, 800, &s.commit_seconds, false);
	struct stats_file files[3] = {
	    {"old.csv", 0, 10, STATS_FILE_SKIPPED},
	    {"bad\xff\"name\n.csv", 600, 600, STATS_FILE_READ},
	    {"big.csv", 400, 1200, STATS_FILE_READING},
	};
	struct stats_worker workers[2] = {{2, 1000, 2}, {0, 234, 1}};
	struct stats_view v = {
	    .snap = &s,
	    .command = "load",
	    .now_unix = 1700000100.5,
	    .job = true,
	    .job_bytes = 1000,
	    .job_bytes_total = 1810,
	    .files = files,
	    .nfiles = 3,
	    .files_first = 0,
	    .files_total = 3,
	    .workers = workers,
	};
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 64), 0);
	stats_render_json(&v, &hist, &b);
	CU_ASSERT_TRUE(json_valid(&b));
	CU_ASSERT_TRUE(has(&b, "\"records\":{\"loaded\":1234,\"rejected\":5,\"ignored\":6,\"skipped\":7}"));
	CU_ASSERT_TRUE(has(&b, "\"cache\":{\"keys_invalidated\":99,\"keys_pending\":4,"));
	CU_ASSERT_TRUE(has(&b, "\"table\":\"public.\\\"orders\\\"\""));
	CU_ASSERT_TRUE(has(&b, "\"name\":\"bad\\u00ff\\\"name\\u000a.csv\""));
	CU_ASSERT_TRUE(has(&b, "\"records_per_s\":[500.0,500.0]"));
	CU_ASSERT_TRUE(has(&b, "\"commit_mean_ms\":[110.000,null]"));
	/* 400 of 1200 bytes at 400 bytes/s: 2 s to go; the job: 810 bytes. */
	CU_ASSERT_TRUE(has(&b,
			   "\"name\":\"big.csv\",\"state\":\"reading\",\"bytes\":400,\"size\":1200,\"percent\":33.33,"
			   "\"eta_s\":2.0}"));
	CU_ASSERT_TRUE(has(&b, "\"state\":\"read\",\"bytes\":600,\"size\":600,\"percent\":100.00,\"eta_s\":null}"));
	CU_ASSERT_TRUE(has(&b, "\"bytes_total\":1810,\"percent\":55.25,\"eta_s\":2.0"));
	CU_ASSERT_TRUE(has(&b, "\"workers\":[{\"id\":0,\"queue_depth\":2,\"loaded\":1000,\"batches\":2},"));
	CU_ASSERT_TRUE(has(&b, "\"count\":2,\"sum\":0.220000,\"mean\":0.110000,"));
	CU_ASSERT_TRUE(has(&b, "\"run\":null"));
	CU_ASSERT_TRUE(b.data[b.len - 1] == '\n');
	buf_free(&b);
}

/* Between jobs, with no samples and no commits: still valid JSON, no NaN; a run's files. */
static void test_json_run_idle(void)
{
	static struct stats_history hist;
	memset(&hist, 0, sizeof hist);
	struct metrics_snapshot s;
	memset(&s, 0, sizeof s);
	struct stats_run r;
	memset(&r, 0, sizeof r);
	r.total = 5;
	stats_run_note(&r, "a.csv", STATS_RUN_DONE, 10, 0);
	stats_run_note(&r, "b.csv", STATS_RUN_FAILED, 8, 2);
	snprintf(r.current, sizeof r.current, "c.csv");
	struct stats_view v = {.snap = &s, .command = "run", .now_unix = 1, .run = &r};
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 64), 0);
	stats_render_json(&v, &hist, &b);
	CU_ASSERT_TRUE(json_valid(&b));
	CU_ASSERT_FALSE(has(&b, "nan"));
	CU_ASSERT_FALSE(has(&b, "inf"));
	CU_ASSERT_TRUE(has(&b, "\"job\":null"));
	CU_ASSERT_TRUE(has(&b, "\"workers\":[]"));
	CU_ASSERT_TRUE(has(&b, "\"records_per_s\":[]"));
	CU_ASSERT_TRUE(has(&b, "\"run\":{\"files_total\":5,\"done\":1,\"failed\":1,\"left\":0,\"waiting\":2,"
			       "\"current\":\"c.csv\",\"recent\":[{\"name\":\"b.csv\",\"outcome\":\"failed\""));
	buf_free(&b);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("stats", NULL, NULL);
	CU_add_test(s, "history interval and ring", test_history_interval);
	CU_add_test(s, "history rates", test_history_rates);
	CU_add_test(s, "latency quantiles", test_quantiles);
	CU_add_test(s, "run counts", test_run_counts);
	CU_add_test(s, "json of a load", test_json_load);
	CU_add_test(s, "json of an idle run", test_json_run_idle);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
