/* test_gen.c - the generator is deterministic, writes the promised records, bad ones only where asked, and output the CSV parser reads. */
#include "../../bench/gen.h"
#include "../../stages/parse_csv.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

/* Runs gen_write into a temporary file and returns its bytes (malloc'd). */
static char *gen_mem(const struct gen_opts *o, bool zstd, size_t *len)
{
	FILE *fp = tmpfile();
	if (fp == NULL)
		return NULL;
	struct err e;
	err_clear(&e);
	if (gen_write(o, fileno(fp), zstd, &e) < 0) {
		fprintf(stderr, "gen_write: %s\n", e.msg);
		fclose(fp);
		return NULL;
	}
	long n = lseek(fileno(fp), 0, SEEK_END);
	char *p = malloc((size_t)n + 1);
	if (pread(fileno(fp), p, (size_t)n, 0) != n) {
		free(p);
		fclose(fp);
		return NULL;
	}
	p[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return p;
}

static struct gen_opts opts(enum gen_shape shape, enum input_format format, uint64_t rows, uint64_t seed,
			    uint64_t bad_every)
{
	struct gen_opts o = {
	    .shape = shape, .format = format, .rows = rows, .seed = seed, .bad_every = bad_every, .header = true};
	return o;
}

/* Splits CSV text into records at line ends outside quotes; returns the count, offsets in off[0..n]. */
static size_t split_csv(const char *p, size_t len, size_t *off, size_t max)
{
	size_t n = 0;
	bool q = false;
	off[0] = 0;
	for (size_t i = 0; i < len && n < max; i++) {
		if (p[i] == '"')
			q = !q;
		else if (p[i] == '\n' && !q)
			off[++n] = i + 1;
	}
	return n;
}

/* The same options give the same bytes, a different seed different bytes, for both shapes and formats. */
static void test_determinism(void)
{
	enum gen_shape shapes[] = {GEN_ORDERS, GEN_WIDE};
	enum input_format formats[] = {FORMAT_CSV, FORMAT_NDJSON};
	for (int s = 0; s < 2; s++)
		for (int f = 0; f < 2; f++) {
			struct gen_opts o = opts(shapes[s], formats[f], 3000, 42, 11);
			size_t la, lb, lc;
			char *a = gen_mem(&o, false, &la);
			char *b = gen_mem(&o, false, &lb);
			o.seed = 43;
			char *c = gen_mem(&o, false, &lc);
			CU_ASSERT_PTR_NOT_NULL_FATAL(a);
			CU_ASSERT_PTR_NOT_NULL_FATAL(b);
			CU_ASSERT_PTR_NOT_NULL_FATAL(c);
			CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
			CU_ASSERT(la != lc || memcmp(a, c, la) != 0);
			free(a);
			free(b);
			free(c);
		}
}

/* A CSV file has the header line (or none when asked) and exactly rows records; NDJSON has one object per line and no header. */
static void test_rows_and_header(void)
{
	struct gen_opts o = opts(GEN_ORDERS, FORMAT_CSV, 5000, 1, 0);
	size_t len;
	char *p = gen_mem(&o, false, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	const char hdr[] = "tenant_id,order_id,customer_id,sku,quantity,unit_price,currency,status,created_at,note\n";
	CU_ASSERT(strncmp(p, hdr, sizeof hdr - 1) == 0);
	static size_t off[6000];
	CU_ASSERT_EQUAL(split_csv(p, len, off, 5999), 5001);
	CU_ASSERT_EQUAL(off[5001], len);
	free(p);

	o.header = false;
	p = gen_mem(&o, false, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT(strncmp(p, "tenant_id", 9) != 0);
	CU_ASSERT_EQUAL(split_csv(p, len, off, 5999), 5000);
	free(p);

	o = opts(GEN_WIDE, FORMAT_CSV, 10, 1, 0);
	p = gen_mem(&o, false, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT(strncmp(p, "id,line_no,", 11) == 0);
	CU_ASSERT_EQUAL(split_csv(p, len, off, 5999), 11);
	free(p);

	o = opts(GEN_ORDERS, FORMAT_NDJSON, 5000, 1, 0);
	p = gen_mem(&o, false, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	size_t lines = 0, objects = 0;
	const char *line = p;
	for (size_t i = 0; i < len; i++)
		if (p[i] == '\n') {
			lines++;
			objects += line[0] == '{' && p[i - 1] == '}';
			line = p + i + 1;
		}
	CU_ASSERT_EQUAL(lines, 5000);
	CU_ASSERT_EQUAL(objects, 5000);
	CU_ASSERT(strncmp(p, "{\"tenant_id\":", 13) == 0);
	free(p);
}

static struct field fields[40];

/* Parses record k of a split CSV buffer; returns the field count or -1 (msg set). */
static int parse_rec(const char *p, const size_t *off, size_t k, struct buf *scratch, char *msg, size_t msgsz)
{
	struct dialect d = {
	    .format = FORMAT_CSV, .delimiter = ',', .quote = '"', .escape = '"', .null = "", .null_len = 0};
	scratch->len = 0;
	buf_reserve(scratch, off[k + 1] - off[k] + 1);
	return csv_parse_record(&d, p + off[k], off[k + 1] - off[k], fields, 40, scratch, msg, msgsz);
}

static bool field_eq(int k, const char *s)
{
	return !fields[k].null && fields[k].len == strlen(s) && memcmp(fields[k].ptr, s, fields[k].len) == 0;
}

/* Records K, 2K, 3K... are bad, rotating through the six kinds, and every other record is byte-identical to the output without bad records. */
static void test_bad_every(void)
{
	enum { ROWS = 120, K = 7 };
	struct gen_opts o = opts(GEN_ORDERS, FORMAT_CSV, ROWS, 9, K);
	size_t la, lg;
	char *a = gen_mem(&o, false, &la);
	o.bad_every = 0;
	char *g = gen_mem(&o, false, &lg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	static size_t oa[ROWS + 2], og[ROWS + 2];
	CU_ASSERT_EQUAL_FATAL(split_csv(a, la, oa, ROWS + 1), ROWS + 1);
	CU_ASSERT_EQUAL_FATAL(split_csv(g, lg, og, ROWS + 1), ROWS + 1);
	struct buf scratch;
	buf_init(&scratch, 4096);
	char msg[256];
	int bad_seen = 0;
	for (size_t n = 1; n <= ROWS; n++) {
		size_t na = oa[n + 1] - oa[n], ng = og[n + 1] - og[n];
		bool same = na == ng && memcmp(a + oa[n], g + og[n], na) == 0;
		if (n % K != 0) {
			CU_ASSERT(same);
			CU_ASSERT_EQUAL(parse_rec(a, oa, n, &scratch, msg, sizeof msg), 10);
			continue;
		}
		CU_ASSERT(!same);
		int nf = parse_rec(a, oa, n, &scratch, msg, sizeof msg);
		switch ((n / K - 1) % GEN_BAD_KINDS) {
		case GEN_BAD_NOT_A_NUMBER: CU_ASSERT(nf == 10 && field_eq(4, "12x")); break;
		case GEN_BAD_NUMERIC_OVERFLOW: CU_ASSERT(nf == 10 && field_eq(5, "100000000000.00")); break;
		case GEN_BAD_IMPOSSIBLE_DATE:
			CU_ASSERT(nf == 10 && fields[8].len > 10 && memcmp(fields[8].ptr, "2026-02-30T", 11) == 0);
			break;
		case GEN_BAD_FIELD_COUNT: CU_ASSERT_EQUAL(nf, 9); break;
		case GEN_BAD_TOO_LONG: CU_ASSERT(nf == 10 && field_eq(6, "EURO")); break;
		case GEN_BAD_INVALID_UTF8:
			CU_ASSERT_EQUAL(nf, -1);
			CU_ASSERT(strncmp(msg, "invalid byte sequence for encoding \"UTF8\": 0xe9", 47) == 0);
			break;
		}
		bad_seen++;
	}
	CU_ASSERT_EQUAL(bad_seen, ROWS / K);
	buf_free(&scratch);
	free(a);
	free(g);

	/* NDJSON: the same positions differ, and the field-count kind is an unclosed object. */
	o = opts(GEN_ORDERS, FORMAT_NDJSON, ROWS, 9, K);
	a = gen_mem(&o, false, &la);
	o.bad_every = 0;
	g = gen_mem(&o, false, &lg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	char *sa = a, *sg = g;
	for (size_t n = 1; n <= ROWS; n++) {
		char *ea = strchr(sa, '\n'), *eg = strchr(sg, '\n');
		CU_ASSERT_PTR_NOT_NULL_FATAL(ea);
		CU_ASSERT_PTR_NOT_NULL_FATAL(eg);
		bool same = ea - sa == eg - sg && memcmp(sa, sg, (size_t)(ea - sa)) == 0;
		CU_ASSERT_EQUAL(same, n % K != 0);
		if (n % K == 0 && (n / K - 1) % GEN_BAD_KINDS == GEN_BAD_FIELD_COUNT)
			CU_ASSERT(ea[-1] != '}');
		sa = ea + 1;
		sg = eg + 1;
	}
	free(a);
	free(g);
}

static int cmp_keys(const void *x, const void *y)
{
	const unsigned long long *a = x, *b = y;
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	if (a[1] != b[1])
		return a[1] < b[1] ? -1 : 1;
	return 0;
}

/* (tenant_id, order_id) is unique over a file, tenant_id stays in 1..50, and notes come as NULL, empty, quoted and non-ASCII. */
static void test_unique_keys_and_variety(void)
{
	enum { ROWS = 20000 };
	struct gen_opts o = opts(GEN_ORDERS, FORMAT_CSV, ROWS, 5, 0);
	size_t len;
	char *p = gen_mem(&o, false, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	static size_t off[ROWS + 2];
	CU_ASSERT_EQUAL_FATAL(split_csv(p, len, off, ROWS + 1), ROWS + 1);
	static unsigned long long keys[ROWS][2];
	struct buf scratch;
	buf_init(&scratch, 4096);
	char msg[256];
	int nulls = 0, empties = 0, multiline = 0, non_ascii = 0, out_of_range = 0, bad = 0;
	bool currencies[4] = {false};
	for (size_t n = 1; n <= ROWS; n++) {
		if (parse_rec(p, off, n, &scratch, msg, sizeof msg) != 10) {
			bad++;
			continue;
		}
		char tmp[32];
		snprintf(tmp, sizeof tmp, "%.*s", (int)fields[0].len, fields[0].ptr);
		keys[n - 1][0] = strtoull(tmp, NULL, 10);
		snprintf(tmp, sizeof tmp, "%.*s", (int)fields[1].len, fields[1].ptr);
		keys[n - 1][1] = strtoull(tmp, NULL, 10);
		out_of_range += keys[n - 1][0] < 1 || keys[n - 1][0] > 50;
		const char *cur[4] = {"EUR", "USD", "GBP", "NGN"};
		for (int c = 0; c < 4; c++)
			currencies[c] |= field_eq(6, cur[c]);
		const struct field *note = &fields[9];
		nulls += note->null;
		empties += !note->null && note->len == 0;
		multiline += !note->null && memchr(note->ptr, '\n', note->len) != NULL;
		for (uint32_t i = 0; i < note->len; i++)
			if ((unsigned char)note->ptr[i] >= 0x80) {
				non_ascii++;
				break;
			}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(out_of_range, 0);
	CU_ASSERT(nulls > 0 && empties > 0 && multiline > 0 && non_ascii > 0);
	CU_ASSERT(currencies[0] && currencies[1] && currencies[2] && currencies[3]);
	qsort(keys, ROWS, sizeof keys[0], cmp_keys);
	int dups = 0;
	for (size_t i = 1; i < ROWS; i++)
		dups += cmp_keys(keys[i - 1], keys[i]) == 0;
	CU_ASSERT_EQUAL(dups, 0);
	buf_free(&scratch);
	free(p);
}

/* Every good wide record parses into 30 fields. */
static void test_wide_parses(void)
{
	enum { ROWS = 3000 };
	struct gen_opts o = opts(GEN_WIDE, FORMAT_CSV, ROWS, 77, 0);
	size_t len;
	char *p = gen_mem(&o, false, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	static size_t off[ROWS + 2];
	CU_ASSERT_EQUAL_FATAL(split_csv(p, len, off, ROWS + 1), ROWS + 1);
	struct buf scratch;
	buf_init(&scratch, 4096);
	char msg[256];
	int ok = 0;
	CU_ASSERT_EQUAL(parse_rec(p, off, 0, &scratch, msg, sizeof msg), 30);
	for (size_t n = 1; n <= ROWS; n++)
		ok += parse_rec(p, off, n, &scratch, msg, sizeof msg) == 30;
	CU_ASSERT_EQUAL(ok, ROWS);
	buf_free(&scratch);
	free(p);
}

/* zstd output is one frame that decompresses to exactly the plain output. */
static void test_zstd(void)
{
	struct gen_opts o = opts(GEN_ORDERS, FORMAT_CSV, 30000, 3, 13);
	size_t lp, lz;
	char *plain = gen_mem(&o, false, &lp);
	char *z = gen_mem(&o, true, &lz);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT(lz < lp);
	char *out = malloc(lp + 1);
	size_t n = ZSTD_decompress(out, lp + 1, z, lz);
	CU_ASSERT_FALSE(ZSTD_isError(n));
	CU_ASSERT(n == lp && memcmp(out, plain, lp) == 0);
	free(out);
	free(plain);
	free(z);
}

/* Shape names parse, the DDL lists every column with its type, and a short buffer is refused. */
static void test_shapes_and_sql(void)
{
	enum gen_shape s;
	CU_ASSERT(gen_parse_shape("orders", &s) == 0 && s == GEN_ORDERS);
	CU_ASSERT(gen_parse_shape("wide", &s) == 0 && s == GEN_WIDE);
	CU_ASSERT_EQUAL(gen_parse_shape("narrow", &s), -1);
	CU_ASSERT_EQUAL(gen_shape_columns(GEN_ORDERS), 10);
	CU_ASSERT_EQUAL(gen_shape_columns(GEN_WIDE), 30);
	char sql[4096];
	int n = gen_table_sql(GEN_ORDERS, "erp.orders", sql, sizeof sql);
	CU_ASSERT(n > 0 && (size_t)n == strlen(sql));
	CU_ASSERT(strncmp(sql, "CREATE TABLE erp.orders (", 25) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(sql, "tenant_id integer,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sql, "unit_price numeric(12,2),"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sql, "note text\n);"));
	n = gen_table_sql(GEN_WIDE, "w", sql, sizeof sql);
	CU_ASSERT(n > 0);
	const char *types[] = {
	    "smallint", "integer", "bigint", "real",       "double precision", "numeric(18,4)", "boolean", "text",
	    "varchar(", "char(2)", "date",   "timestamp,", "timestamptz",      "uuid",          "jsonb",   "bytea"};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(sql, types[i]));
	CU_ASSERT_EQUAL(gen_table_sql(GEN_ORDERS, "orders", sql, 40), -1);
}

/* Generates a million order records into a file to report the rate; asserts only success. */
static void test_gen_speed(void)
{
	struct gen_opts o = opts(GEN_ORDERS, FORMAT_CSV, 1000000, 1, 0);
	FILE *fp = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	struct err e;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(gen_write(&o, fileno(fp), false, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fclose(fp);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "\n  gen orders csv: %.0f records/s\n", 1e6 / s);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("gen", NULL, NULL);
	CU_add_test(s, "determinism", test_determinism);
	CU_add_test(s, "rows and header", test_rows_and_header);
	CU_add_test(s, "bad_every", test_bad_every);
	CU_add_test(s, "unique keys and variety", test_unique_keys_and_variety);
	CU_add_test(s, "wide parses", test_wide_parses);
	CU_add_test(s, "zstd", test_zstd);
	CU_add_test(s, "shapes and sql", test_shapes_and_sql);
	CU_add_test(s, "gen speed", test_gen_speed);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
