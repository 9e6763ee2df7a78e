/* test_rejects.c - the rejects file holds one valid NDJSON line per reject, escaped, cut and whole under concurrent writers. */
#include "../../core/buf.h"
#include "../../core/limits.h"
#include "../../io/rejects.h"

#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void temp_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
	unlink(out);
}

/* Reads a whole file into a NUL-terminated malloc'd string. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *p = malloc((size_t)n + 1);
	size_t got = fread(p, 1, (size_t)n, fp);
	fclose(fp);
	p[got] = '\0';
	if (len)
		*len = got;
	return p;
}

static char *put_string(const char *p, size_t n)
{
	struct buf b;
	buf_init(&b, 1);
	json_put_string(&b, p, n);
	buf_putc(&b, '\0');
	return b.data;
}

/* json_put_string escapes quote, backslash and every control character as \u00XX, and keeps UTF-8 as is. */
static void test_json_escaping(void)
{
	char *s = put_string("a\"b\\c\n\t\x01\x1f\x7f/\xc3\xa9", 13);
	CU_ASSERT_STRING_EQUAL(s, "\"a\\\"b\\\\c\\u000a\\u0009\\u0001\\u001f\x7f/\xc3\xa9\"");
	free(s);
	s = put_string("x\0y", 3);
	CU_ASSERT_STRING_EQUAL(s, "\"x\\u0000y\"");
	free(s);
	s = put_string("", 0);
	CU_ASSERT_STRING_EQUAL(s, "\"\"");
	free(s);
	/* Invalid UTF-8 turns into escapes of the byte values, so the output stays valid JSON. */
	s = put_string("caf\xe9 \xed\xa0\x80", 8);
	CU_ASSERT_STRING_EQUAL(s, "\"caf\\u00e9 \\u00ed\\u00a0\\u0080\"");
	free(s);
}

/* A reject line carries every key in order, omits column, sqlstate and header when NULL, flags invalid UTF-8 in raw. */
static void test_line_format(void)
{
	char path[128];
	temp_path(path, sizeof path, "fmt.ndjson");
	struct err e;
	struct rejects *r = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	struct reject a = {.source = "in.csv",
			   .record = 7,
			   .line = 9,
			   .byte_offset = 1234,
			   .column = "quantity",
			   .sqlstate = "22P02",
			   .message = "invalid input syntax for type integer: \"12x\"",
			   .raw = "1,2,12x",
			   .raw_len = 7};
	CU_ASSERT_EQUAL(rejects_write(r, &a, &e), 0);
	struct reject b = {.source = "-",
			   .record = 1,
			   .line = 1,
			   .byte_offset = 0,
			   .message = "invalid byte sequence for encoding \"UTF8\": 0xe9 0x0a",
			   .raw = "caf\xe9",
			   .raw_len = 4};
	CU_ASSERT_EQUAL(rejects_write(r, &b, &e), 0);
	CU_ASSERT_EQUAL(rejects_close(r, &e), 0);
	char *got = slurp(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(
	    got, "{\"source\":\"in.csv\",\"record\":7,\"line\":9,\"byte_offset\":1234,\"column\":\"quantity\","
		 "\"sqlstate\":\"22P02\",\"message\":\"invalid input syntax for type integer: \\\"12x\\\"\","
		 "\"raw\":\"1,2,12x\"}\n"
		 "{\"source\":\"-\",\"record\":1,\"line\":1,\"byte_offset\":0,\"message\":\"invalid byte "
		 "sequence for encoding \\\"UTF8\\\": 0xe9 0x0a\",\"raw\":\"caf\\u00e9\",\"raw_invalid_utf8\":true}\n");
	free(got);
	/* Opening again appends. */
	r = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rejects_write(r, &a, &e), 0);
	CU_ASSERT_EQUAL(rejects_close(r, &e), 0);
	size_t len = 0;
	got = slurp(path, &len);
	int lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += got[i] == '\n';
	CU_ASSERT_EQUAL(lines, 3);
	free(got);
}

/* raw longer than REJECT_RAW_BYTES_MAX is cut there (back to a character boundary) and marked. */
static void test_truncation(void)
{
	char path[128];
	temp_path(path, sizeof path, "cut.ndjson");
	size_t n = REJECT_RAW_BYTES_MAX + 100;
	char *raw = malloc(n);
	memset(raw, 'x', n);
	/* A 2-byte character straddling the cut. */
	raw[REJECT_RAW_BYTES_MAX - 1] = (char)0xc3;
	raw[REJECT_RAW_BYTES_MAX] = (char)0xa9;
	struct err e;
	struct rejects *r = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	struct reject a = {
	    .source = "big.csv", .record = 1, .line = 1, .message = "too long", .raw = raw, .raw_len = n};
	CU_ASSERT_EQUAL(rejects_write(r, &a, &e), 0);
	CU_ASSERT_EQUAL(rejects_close(r, &e), 0);
	size_t len = 0;
	char *got = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	char *rs = strstr(got, "\"raw\":\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	rs += 7;
	char *re = strchr(rs, '"');
	CU_ASSERT_PTR_NOT_NULL_FATAL(re);
	CU_ASSERT_EQUAL((size_t)(re - rs), REJECT_RAW_BYTES_MAX - 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(re, "\"raw_truncated\":true}\n"));
	CU_ASSERT_PTR_NULL(strstr(got, "raw_invalid_utf8"));
	free(got);
	free(raw);
}

/* A header comes last, escaped like raw, with flags of its own for invalid UTF-8 and a cut; no header, no key. */
static void test_header(void)
{
	char path[128];
	temp_path(path, sizeof path, "hdr.ndjson");
	struct err e;
	struct rejects *r = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	struct reject a = {.source = "in.csv",
			   .record = 2,
			   .line = 3,
			   .byte_offset = 20,
			   .message = "m",
			   .raw = "1,\xff",
			   .raw_len = 3,
			   .header = "id,\"na\nme\"",
			   .header_len = 10};
	CU_ASSERT_EQUAL(rejects_write(r, &a, &e), 0);
	/* Invalid bytes in the header only: raw's flag stays off. */
	struct reject b = {.source = "in.csv",
			   .record = 3,
			   .line = 4,
			   .byte_offset = 30,
			   .message = "m",
			   .raw = "2,x",
			   .raw_len = 3,
			   .header = "id,n\xe9\0x",
			   .header_len = 7};
	CU_ASSERT_EQUAL(rejects_write(r, &b, &e), 0);
	/* An empty header line is a header, unlike none. */
	struct reject c = {.source = "in.csv", .message = "m", .raw = "", .raw_len = 0, .header = "", .header_len = 0};
	CU_ASSERT_EQUAL(rejects_write(r, &c, &e), 0);
	CU_ASSERT_EQUAL(rejects_close(r, &e), 0);
	char *got = slurp(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(
	    got,
	    "{\"source\":\"in.csv\",\"record\":2,\"line\":3,\"byte_offset\":20,\"message\":\"m\",\"raw\":\"1,\\u00ff\","
	    "\"raw_invalid_utf8\":true,\"header\":\"id,\\\"na\\u000ame\\\"\"}\n"
	    "{\"source\":\"in.csv\",\"record\":3,\"line\":4,\"byte_offset\":30,\"message\":\"m\",\"raw\":\"2,x\","
	    "\"header\":\"id,n\\u00e9\\u0000x\",\"header_invalid_utf8\":true}\n"
	    "{\"source\":\"in.csv\",\"record\":0,\"line\":0,\"byte_offset\":0,\"message\":\"m\",\"raw\":\"\","
	    "\"header\":\"\"}\n");
	free(got);
}

/* A header longer than REJECT_HEADER_BYTES_MAX is cut there, back to a character boundary, and marked. */
static void test_header_truncation(void)
{
	char path[128];
	temp_path(path, sizeof path, "hdrcut.ndjson");
	size_t n = REJECT_HEADER_BYTES_MAX + 10;
	char *h = malloc(n);
	memset(h, 'h', n);
	/* A 3-byte character straddling the cut. */
	memcpy(h + REJECT_HEADER_BYTES_MAX - 2, "\xe2\x82\xac", 3);
	struct err e;
	struct rejects *r = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	struct reject a = {.source = "wide.csv",
			   .record = 1,
			   .line = 2,
			   .message = "m",
			   .raw = "x",
			   .raw_len = 1,
			   .header = h,
			   .header_len = n};
	CU_ASSERT_EQUAL(rejects_write(r, &a, &e), 0);
	CU_ASSERT_EQUAL(rejects_close(r, &e), 0);
	char *got = slurp(path, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	char *hs = strstr(got, "\"header\":\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hs);
	hs += 10;
	char *he = strchr(hs, '"');
	CU_ASSERT_PTR_NOT_NULL_FATAL(he);
	CU_ASSERT_EQUAL((size_t)(he - hs), REJECT_HEADER_BYTES_MAX - 2);
	CU_ASSERT_STRING_EQUAL(he, "\",\"header_truncated\":true}\n");
	CU_ASSERT_PTR_NULL(strstr(got, "raw_truncated"));
	free(got);
	free(h);
}

/* A NULL path makes a handle that writes nothing and closes cleanly; an unwritable path fails with a message. */
static void test_null_and_bad_path(void)
{
	struct err e;
	err_clear(&e);
	struct rejects *r = rejects_open(NULL, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	struct reject a = {.source = "x", .message = "m", .raw = "r", .raw_len = 1};
	CU_ASSERT_EQUAL(rejects_write(r, &a, &e), 0);
	CU_ASSERT_EQUAL(rejects_close(r, &e), 0);
	r = rejects_open("/nonexistent-dir/rejects.ndjson", &e);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "/nonexistent-dir/rejects.ndjson"));
}

/* A rejects file holds raw records: a new one is created 0600 whatever the
 * umask allows, and a symbolic link at its name is refused (EXIT_CONFIG,
 * saying so) without touching what it points to. An existing file keeps its
 * mode, and a device is written through. */
static void test_private_and_no_links(void)
{
	struct err e;
	char path[128], target[128], link[128];
	temp_path(path, sizeof path, "private.ndjson");
	temp_path(target, sizeof target, "target.txt");
	temp_path(link, sizeof link, "link.ndjson");
	mode_t old = umask(022);
	struct rejects *r = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	struct reject a = {.source = "x", .message = "m", .raw = "secret", .raw_len = 6};
	CU_ASSERT_EQUAL(rejects_write(r, &a, &e), 0);
	CU_ASSERT_EQUAL(rejects_close(r, &e), 0);
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

	FILE *f = fopen(target, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("private\n", f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(symlink(target, link), 0);
	err_clear(&e);
	CU_ASSERT_PTR_NULL(rejects_open(link, &e));
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "symbolic link"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, link));
	char *t = slurp(target, NULL);
	CU_ASSERT_STRING_EQUAL(t, "private\n");
	free(t);
	/* A dangling link is refused the same: nothing is created through it. */
	unlink(target);
	err_clear(&e);
	CU_ASSERT_PTR_NULL(rejects_open(link, &e));
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_NOT_EQUAL(access(target, F_OK), 0);

	CU_ASSERT_EQUAL(chmod(path, 0640), 0);
	r = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rejects_write(r, &a, &e), 0);
	CU_ASSERT_EQUAL(rejects_close(r, &e), 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0640);
	size_t len = 0;
	t = slurp(path, &len);
	CU_ASSERT_EQUAL(len > 0 && t[len - 1] == '\n', 1);
	free(t);

	r = rejects_open("/dev/null", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(rejects_write(r, &a, &e), 0);
	CU_ASSERT_EQUAL(rejects_close(r, &e), 0);
	umask(old);
	unlink(link);
	unlink(path);
}

#define THREADS          8
#define LINES_PER_THREAD 5000

struct writer_arg {
	struct rejects *r;
	int id;
};

static void *writer(void *p)
{
	struct writer_arg *w = p;
	char raw[300];
	struct err e;
	for (int i = 0; i < LINES_PER_THREAD; i++) {
		/* Lines of varying length so buffer flushes fall mid-stream. */
		int n = snprintf(
		    raw, sizeof raw, "t%d,r%d,%.*s", w->id, i, i % 200,
		    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
		    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
		    "y");
		struct reject a = {.source = "c.csv",
				   .record = (uint64_t)i + 1,
				   .line = (uint64_t)i + 1,
				   .message = "bad",
				   .raw = raw,
				   .raw_len = (size_t)n};
		if (rejects_write(w->r, &a, &e) < 0)
			return (void *)1;
	}
	return NULL;
}

/* Eight threads writing at once produce whole lines only: every line parses back to one thread's record, none lost. */
static void test_concurrent_writers(void)
{
	char path[128];
	temp_path(path, sizeof path, "mt.ndjson");
	struct err e;
	struct rejects *r = rejects_open(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	pthread_t th[THREADS];
	struct writer_arg args[THREADS];
	for (int t = 0; t < THREADS; t++) {
		args[t] = (struct writer_arg){r, t};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, writer, &args[t]), 0);
	}
	for (int t = 0; t < THREADS; t++) {
		void *rv;
		pthread_join(th[t], &rv);
		CU_ASSERT_PTR_NULL(rv);
	}
	CU_ASSERT_EQUAL(rejects_close(r, &e), 0);
	size_t len = 0;
	char *got = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	static int next[THREADS];
	int lines = 0, bad = 0;
	char *line = got;
	while (line < got + len) {
		char *nl = strchr(line, '\n');
		if (nl == NULL) {
			bad++;
			break;
		}
		*nl = '\0';
		int t, i, rec;
		/* Each thread's lines appear in its own order, whole. */
		if (sscanf(line, "{\"source\":\"c.csv\",\"record\":%d,", &rec) != 1 ||
		    sscanf(strstr(line, "\"raw\":\"") + 7, "t%d,r%d,", &t, &i) != 2 || t < 0 || t >= THREADS ||
		    i != next[t] || rec != i + 1 || strcmp(nl - 2, "\"}") != 0)
			bad++;
		else
			next[t]++;
		lines++;
		line = nl + 1;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(lines, THREADS * LINES_PER_THREAD);
	for (int t = 0; t < THREADS; t++)
		CU_ASSERT_EQUAL(next[t], LINES_PER_THREAD);
	free(got);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_rejects.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("rejects", NULL, NULL);
	CU_add_test(s, "json escaping", test_json_escaping);
	CU_add_test(s, "line format", test_line_format);
	CU_add_test(s, "truncation", test_truncation);
	CU_add_test(s, "header", test_header);
	CU_add_test(s, "header truncation", test_header_truncation);
	CU_add_test(s, "null and bad path", test_null_and_bad_path);
	CU_add_test(s, "private and no links", test_private_and_no_links);
	CU_add_test(s, "concurrent writers", test_concurrent_writers);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		failed++;
	return failed ? 1 : 0;
}
