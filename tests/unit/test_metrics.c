/* test_metrics.c - the exposition names every metric and escapes labels, the histogram is cumulative, the textfile is replaced atomically and keeps the last success, and the HTTP server answers (/metrics, /stats and the dashboard), bounds and stops. */
#include "../../pipeline/dashboard.h"
#include "../../pipeline/metrics.h"

#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

static bool has_line(const struct buf *b, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = b->data; p != NULL && p < b->data + b->len;) {
		const char *eol = memchr(p, '\n', (size_t)(b->data + b->len - p));
		if (eol == NULL)
			return false;
		if ((size_t)(eol - p) == n && memcmp(p, line, n) == 0)
			return true;
		p = eol + 1;
	}
	return false;
}

static void render(const struct metrics_snapshot *s, struct buf *b)
{
	b->len = 0;
	CU_ASSERT_EQUAL(metrics_render(s, b), 0);
	buf_putc(b, '\0');
	b->len--;
}

/* A snapshot with every field set, tricky labels and some observations. */
static void sample(struct metrics_snapshot *s, struct metrics_histogram *h)
{
	memset(h, 0, sizeof *h);
	const double obs[] = {0.003, 0.004, 0.02, 0.2, 0.2, 1.5, 45};
	for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
		metrics_histogram_observe(h, obs[i]);
	*s = (struct metrics_snapshot){
	    .records_loaded = 49500,
	    .records_rejected = 500,
	    .records_skipped = 7,
	    .bytes_read = 5500000,
	    .batches = 3,
	    .retries = 1,
	    .isolation_retries = 9,
	    .keys_invalidated = 49500,
	    .keys_pending = 12,
	    .redis_round_trips = 40,
	    .queue_depth = 2,
	    .workers = 4,
	    .start_time_seconds = 1700000000.25,
	    .last_success_seconds = 1699990000,
	    .up = true,
	    .table = "public.orders",
	    .source = "in/\"q\"\\x\n.csv",
	};
	metrics_histogram_read(h, &s->commit_seconds);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- rendering ---- */

/* Every metric appears with its HELP and TYPE lines and the snapshot's values, labelled by table. */
static void test_render_all(void)
{
	struct metrics_snapshot s;
	struct metrics_histogram h;
	sample(&s, &h);
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 64), 0);
	render(&s, &b);

	static const char *const types[][2] = {
	    {"edonu_ingest_up", "gauge"},
	    {"edonu_ingest_info", "gauge"},
	    {"edonu_ingest_start_time_seconds", "gauge"},
	    {"edonu_ingest_last_success_timestamp_seconds", "gauge"},
	    {"edonu_ingest_records_total", "counter"},
	    {"edonu_ingest_bytes_total", "counter"},
	    {"edonu_ingest_batches_total", "counter"},
	    {"edonu_ingest_retries_total", "counter"},
	    {"edonu_ingest_isolation_retries_total", "counter"},
	    {"edonu_ingest_keys_invalidated_total", "counter"},
	    {"edonu_ingest_keys_pending", "gauge"},
	    {"edonu_ingest_redis_round_trips_total", "counter"},
	    {"edonu_ingest_queue_depth", "gauge"},
	    {"edonu_ingest_workers", "gauge"},
	    {"edonu_ingest_batch_commit_seconds", "histogram"},
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		char line[256];
		snprintf(line, sizeof line, "# TYPE %s %s", types[i][0], types[i][1]);
		CU_ASSERT_TRUE(has_line(&b, line));
		snprintf(line, sizeof line, "# HELP %s ", types[i][0]);
		CU_ASSERT_PTR_NOT_NULL(strstr(b.data, line));
	}
	static const char *const lines[] = {
	    "edonu_ingest_up{table=\"public.orders\"} 1",
	    "edonu_ingest_info{table=\"public.orders\",source=\"in/\\\"q\\\"\\\\x\\n.csv\",version=\"" EDONU_VERSION
	    "\"} 1",
	    "edonu_ingest_start_time_seconds{table=\"public.orders\"} 1700000000.25",
	    "edonu_ingest_last_success_timestamp_seconds{table=\"public.orders\"} 1699990000",
	    "edonu_ingest_records_total{table=\"public.orders\",outcome=\"loaded\"} 49500",
	    "edonu_ingest_records_total{table=\"public.orders\",outcome=\"rejected\"} 500",
	    "edonu_ingest_records_total{table=\"public.orders\",outcome=\"skipped\"} 7",
	    "edonu_ingest_bytes_total{table=\"public.orders\"} 5500000",
	    "edonu_ingest_batches_total{table=\"public.orders\"} 3",
	    "edonu_ingest_retries_total{table=\"public.orders\"} 1",
	    "edonu_ingest_isolation_retries_total{table=\"public.orders\"} 9",
	    "edonu_ingest_keys_invalidated_total{table=\"public.orders\"} 49500",
	    "edonu_ingest_keys_pending{table=\"public.orders\"} 12",
	    "edonu_ingest_redis_round_trips_total{table=\"public.orders\"} 40",
	    "edonu_ingest_queue_depth{table=\"public.orders\"} 2",
	    "edonu_ingest_workers{table=\"public.orders\"} 4",
	    "edonu_ingest_batch_commit_seconds_bucket{table=\"public.orders\",le=\"0.005\"} 2",
	    "edonu_ingest_batch_commit_seconds_bucket{table=\"public.orders\",le=\"0.025\"} 3",
	    "edonu_ingest_batch_commit_seconds_bucket{table=\"public.orders\",le=\"0.25\"} 5",
	    "edonu_ingest_batch_commit_seconds_bucket{table=\"public.orders\",le=\"2.5\"} 6",
	    "edonu_ingest_batch_commit_seconds_bucket{table=\"public.orders\",le=\"30\"} 6",
	    "edonu_ingest_batch_commit_seconds_bucket{table=\"public.orders\",le=\"+Inf\"} 7",
	    "edonu_ingest_batch_commit_seconds_sum{table=\"public.orders\"} 46.927",
	    "edonu_ingest_batch_commit_seconds_count{table=\"public.orders\"} 7",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		bool ok = has_line(&b, lines[i]);
		if (!ok)
			fprintf(stderr, "\nmissing line: %s\n", lines[i]);
		CU_ASSERT_TRUE(ok);
	}
	CU_ASSERT_EQUAL(b.data[b.len - 1], '\n');

	/* For tests/integration/metrics_promtool.sh: the sample goes to promtool. */
	const char *out = getenv("METRICS_SAMPLE_OUT");
	if (out != NULL) {
		FILE *f = fopen(out, "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_EQUAL(fwrite(b.data, 1, b.len, f), b.len);
		CU_ASSERT_EQUAL(fclose(f), 0);
	}
	buf_free(&b);
}

/* Without a table the series carry no table label, and an ended run reports up 0. */
static void test_render_no_table(void)
{
	struct metrics_snapshot s = {.up = false};
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 64), 0);
	render(&s, &b);
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_up 0"));
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_bytes_total 0"));
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_records_total{outcome=\"loaded\"} 0"));
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_batch_commit_seconds_bucket{le=\"0.005\"} 0"));
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_batch_commit_seconds_sum 0"));
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_info{source=\"\",version=\"" EDONU_VERSION "\"} 1"));
	CU_ASSERT_PTR_NULL(strstr(b.data, "table="));
	buf_free(&b);
}

/* Backslash, double quote and line feed in label values are escaped, and bytes that are not UTF-8 become U+FFFD while valid UTF-8 passes. */
static void test_label_escaping(void)
{
	struct metrics_snapshot s = {0};
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 64), 0);
	s.table = "a\\b\"c\nd";
	render(&s, &b);
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_up{table=\"a\\\\b\\\"c\\nd\"} 0"));

	/* é and a 4-byte emoji stay; a lone 0xff, an overlong slash (C0 AF) and
	 * a UTF-16 surrogate (ED A0 80) are replaced byte by byte. */
	s.table = "\xC3\xA9\xF0\x9F\x98\x80|\xFF|\xC0\xAF|\xED\xA0\x80|\xE2\x82";
	render(&s, &b);
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_up{table=\"\xC3\xA9\xF0\x9F\x98\x80|\xEF\xBF\xBD|"
				    "\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
				    "\xEF\xBF\xBD\xEF\xBF\xBD\"} 0"));
	buf_free(&b);
}

/* Observations land in the first bucket whose bound is >= the value, buckets are cumulative, +Inf equals the count, and odd inputs count as 0. */
static void test_histogram_buckets(void)
{
	struct metrics_histogram h = {0};
	const double obs[] = {0.001, 0.005, 0.007, 0.3, 31, 100, -1, NAN};
	for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
		metrics_histogram_observe(&h, obs[i]);
	struct metrics_histogram_values v;
	metrics_histogram_read(&h, &v);
	CU_ASSERT_EQUAL(v.count, 8);
	CU_ASSERT_EQUAL(v.cumulative[0], 4); /* 0.001, 0.005 (le is inclusive), -1, NaN */
	CU_ASSERT_EQUAL(v.cumulative[1], 5); /* + 0.007 */
	CU_ASSERT_EQUAL(v.cumulative[5], 5); /* le 0.25 */
	CU_ASSERT_EQUAL(v.cumulative[6], 6); /* le 0.5: + 0.3 */
	CU_ASSERT_EQUAL(v.cumulative[METRICS_HISTOGRAM_BUCKETS - 1], 6);
	CU_ASSERT_DOUBLE_EQUAL(v.sum_seconds, 131.313, 1e-6);
	for (unsigned i = 1; i < METRICS_HISTOGRAM_BUCKETS; i++) {
		CU_ASSERT_TRUE(metrics_histogram_bounds[i - 1] < metrics_histogram_bounds[i]);
		CU_ASSERT_TRUE(v.cumulative[i - 1] <= v.cumulative[i]);
	}

	/* In the text, the buckets never decrease and +Inf and _count equal the count. */
	struct metrics_snapshot s = {.commit_seconds = v};
	struct buf b;
	CU_ASSERT_EQUAL_FATAL(buf_init(&b, 64), 0);
	render(&s, &b);
	const char *key = "edonu_ingest_batch_commit_seconds_bucket{le=\"";
	unsigned long long prev = 0;
	unsigned buckets = 0;
	for (const char *p = strstr(b.data, key); p != NULL; p = strstr(p + 1, key)) {
		const char *val = strchr(p, ' ');
		unsigned long long c = strtoull(val + 1, NULL, 10);
		CU_ASSERT_TRUE(c >= prev);
		prev = c;
		buckets++;
	}
	CU_ASSERT_EQUAL(buckets, METRICS_HISTOGRAM_BUCKETS + 1);
	CU_ASSERT_EQUAL(prev, 8);
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_batch_commit_seconds_bucket{le=\"+Inf\"} 8"));
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_batch_commit_seconds_count 8"));

	/* A hand-filled snapshot whose buckets exceed the count is clamped. */
	s.commit_seconds.cumulative[0] = 99;
	render(&s, &b);
	CU_ASSERT_TRUE(has_line(&b, "edonu_ingest_batch_commit_seconds_bucket{le=\"0.005\"} 8"));
	buf_free(&b);
}

#define OBS_THREADS 4
#define OBS_EACH    100000

static void *observer(void *arg)
{
	struct metrics_histogram *h = arg;
	for (int i = 0; i < OBS_EACH; i++)
		metrics_histogram_observe(h, i % 2 ? 0.002 : 0.75);
	return NULL;
}

/* Four threads observing at once lose no observation and no nanosecond of the sum. */
static void test_histogram_threads(void)
{
	struct metrics_histogram h = {0};
	pthread_t t[OBS_THREADS];
	for (int i = 0; i < OBS_THREADS; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, observer, &h), 0);
	for (int i = 0; i < OBS_THREADS; i++)
		pthread_join(t[i], NULL);
	struct metrics_histogram_values v;
	metrics_histogram_read(&h, &v);
	CU_ASSERT_EQUAL(v.count, OBS_THREADS * OBS_EACH);
	CU_ASSERT_EQUAL(v.cumulative[0], OBS_THREADS * OBS_EACH / 2);
	CU_ASSERT_EQUAL(v.cumulative[7], OBS_THREADS * OBS_EACH);
	CU_ASSERT_DOUBLE_EQUAL(v.sum_seconds, OBS_THREADS * (OBS_EACH / 2) * (0.002 + 0.75), 1e-6);
}

/* ---- textfile ---- */

static char tmpdir[64];

static int suite_init(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_metrics.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int suite_clean(void)
{
	DIR *d = opendir(tmpdir);
	if (d != NULL) {
		struct dirent *de;
		char p[512];
		while ((de = readdir(d)) != NULL) {
			snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
	return 0;
}

static char *slurp_fd(int fd)
{
	static char data[1 << 16];
	ssize_t n = pread(fd, data, sizeof data - 1, 0);
	data[n > 0 ? n : 0] = '\0';
	return data;
}

static unsigned dir_entries(void)
{
	unsigned n = 0;
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A second write replaces the file by rename: a reader holding the old file still reads all of it, the new one is complete, and no temporary file is left. */
static void test_textfile_replace(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/replace.prom", tmpdir);
	struct metrics_snapshot s;
	struct metrics_histogram h;
	sample(&s, &h);
	struct err e = {0};
	CU_ASSERT_EQUAL_FATAL(metrics_write_textfile(path, &s, &e), 0);
	struct buf want;
	CU_ASSERT_EQUAL_FATAL(buf_init(&want, 64), 0);
	render(&s, &want);

	int old = open(path, O_RDONLY);
	CU_ASSERT_FATAL(old >= 0);
	struct stat st_old, st_new;
	fstat(old, &st_old);
	CU_ASSERT_STRING_EQUAL(slurp_fd(old), want.data);
	CU_ASSERT_EQUAL(st_old.st_mode & 0444, 0444); /* node_exporter must be able to read it */

	s.records_loaded = 50000;
	s.up = false;
	CU_ASSERT_EQUAL(metrics_write_textfile(path, &s, &e), 0);
	CU_ASSERT_STRING_EQUAL(slurp_fd(old), want.data); /* the old file, intact */
	int cur = open(path, O_RDONLY);
	CU_ASSERT_FATAL(cur >= 0);
	fstat(cur, &st_new);
	CU_ASSERT_NOT_EQUAL(st_old.st_ino, st_new.st_ino);
	render(&s, &want);
	CU_ASSERT_STRING_EQUAL(slurp_fd(cur), want.data);
	close(old);
	close(cur);
	CU_ASSERT_EQUAL(dir_entries(), 1);
	unlink(path);
	buf_free(&want);
}

/* A write whose snapshot has no last success keeps the one in the existing file (even behind labels holding braces), and a new success replaces it. */
static void test_textfile_last_success(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/last.prom", tmpdir);
	CU_ASSERT_EQUAL(metrics_textfile_last_success(path), 0); /* no file yet */

	struct metrics_snapshot s = {.table = "we}ird \"t\"", .last_success_seconds = 1700000123.5};
	struct err e = {0};
	CU_ASSERT_EQUAL_FATAL(metrics_write_textfile(path, &s, &e), 0);
	CU_ASSERT_EQUAL(metrics_textfile_last_success(path), 1700000123.5);

	s.last_success_seconds = 0; /* this run failed */
	s.records_rejected = 3;
	CU_ASSERT_EQUAL_FATAL(metrics_write_textfile(path, &s, &e), 0);
	CU_ASSERT_EQUAL(metrics_textfile_last_success(path), 1700000123.5);
	int fd = open(path, O_RDONLY);
	char *text = slurp_fd(fd);
	close(fd);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, "edonu_ingest_last_success_timestamp_seconds{table=\"we}ird \\\"t\\\"\"} 1700000123.5\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "outcome=\"rejected\"} 3\n"));

	s.last_success_seconds = 1800000000;
	CU_ASSERT_EQUAL_FATAL(metrics_write_textfile(path, &s, &e), 0);
	CU_ASSERT_EQUAL(metrics_textfile_last_success(path), 1800000000);

	/* A file without the line, or someone else's, yields 0. */
	FILE *f = fopen(path, "w");
	fputs("# other\nedonu_ingest_last_success_timestamp_seconds_x "
	      "5\nedonu_ingest_last_success_timestamp_seconds{a=\"1\" 7\n",
	      f);
	fclose(f);
	CU_ASSERT_EQUAL(metrics_textfile_last_success(path), 0);
	unlink(path);
}

/* A textfile in a missing directory is an EXIT_CONFIG error naming the path, and nothing is created. */
static void test_textfile_error(void)
{
	char path[160];
	snprintf(path, sizeof path, "%s/no/such/dir/m.prom", tmpdir);
	struct metrics_snapshot s = {0};
	struct err e = {0};
	CU_ASSERT_EQUAL(metrics_write_textfile(path, &s, &e), -1);
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "No such file"));
	CU_ASSERT_EQUAL(dir_entries(), 0);
}

/* ---- HTTP ---- */

static int dial(int family, uint16_t port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	int rc;
	if (family == AF_INET6) {
		struct sockaddr_in6 a = {
		    .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_loopback};
		rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	} else {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	}
	if (rc < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Reads to EOF; returns the status code, -1 on error. */
static int read_response(int fd, struct buf *resp)
{
	resp->len = 0;
	for (;;) {
		buf_reserve(resp, 4096);
		ssize_t r = recv(fd, resp->data + resp->len, resp->cap - resp->len - 1, 0);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		resp->len += (size_t)r;
	}
	resp->data[resp->len] = '\0';
	int status;
	if (sscanf(resp->data, "HTTP/1.1 %d ", &status) != 1)
		return -1;
	return status;
}

/* Sends req on a fresh connection and reads the whole response. */
static int http(int family, uint16_t port, const char *req, struct buf *resp)
{
	int fd = dial(family, port);
	if (fd < 0)
		return -1;
	size_t n = strlen(req);
	int status = send(fd, req, n, MSG_NOSIGNAL) == (ssize_t)n ? read_response(fd, resp) : -1;
	close(fd);
	return status;
}

static const char *body_of(const struct buf *resp)
{
	const char *p = strstr(resp->data, "\r\n\r\n");
	return p != NULL ? p + 4 : "";
}

static long content_length(const struct buf *resp)
{
	const char *p = strstr(resp->data, "\r\nContent-Length: ");
	return p != NULL ? strtol(p + 18, NULL, 10) : -1;
}

/* GET /metrics returns 200 with the published text and its headers; before a publish 503; HEAD has no body; other paths 404, other methods 405, garbage 400, an oversized request 431. */
static void test_http_responses(void)
{
	struct err e = {0};
	struct metrics_server *m = metrics_server_start("127.0.0.1:0", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	uint16_t port = metrics_server_port(m);
	CU_ASSERT_NOT_EQUAL(port, 0);
	struct buf resp, want;
	CU_ASSERT_EQUAL_FATAL(buf_init(&resp, 4096), 0);
	CU_ASSERT_EQUAL_FATAL(buf_init(&want, 4096), 0);

	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &resp), 503);

	struct metrics_snapshot s;
	struct metrics_histogram h;
	sample(&s, &h);
	metrics_server_publish(m, &s);
	render(&s, &want);

	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", &resp), 200);
	CU_ASSERT_STRING_EQUAL(body_of(&resp), want.data);
	CU_ASSERT_EQUAL(content_length(&resp), (long)want.len);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.data, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.data, "\r\nConnection: close\r\n"));

	/* A bare-LF request and a query string are fine too. */
	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /metrics?name[]=x HTTP/1.0\n\n", &resp), 200);
	CU_ASSERT_STRING_EQUAL(body_of(&resp), want.data);

	CU_ASSERT_EQUAL(http(AF_INET, port, "HEAD /metrics HTTP/1.1\r\n\r\n", &resp), 200);
	CU_ASSERT_EQUAL(content_length(&resp), (long)want.len);
	CU_ASSERT_STRING_EQUAL(body_of(&resp), "");

	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /nothing HTTP/1.1\r\n\r\n", &resp), 404);
	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /metricsx HTTP/1.1\r\n\r\n", &resp), 404);
	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /stats/x HTTP/1.1\r\n\r\n", &resp), 404);
	CU_ASSERT_EQUAL(http(AF_INET, port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &resp), 405);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.data, "\r\nAllow: GET, HEAD\r\n"));
	CU_ASSERT_EQUAL(http(AF_INET, port, "hello\r\n\r\n", &resp), 400);

	char big[METRICS_HTTP_REQUEST_BYTES + 100];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	CU_ASSERT_EQUAL(http(AF_INET, port, big, &resp), 431);

	/* The request's end may arrive in pieces. */
	int fd = dial(AF_INET, port);
	CU_ASSERT_FATAL(fd >= 0);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	const char *parts[] = {"GET /met", "rics HTTP/1.1\r", "\nHost: x\r\n\r", "\n"};
	for (int i = 0; i < 4; i++)
		send(fd, parts[i], strlen(parts[i]), MSG_NOSIGNAL);
	CU_ASSERT_EQUAL(read_response(fd, &resp), 200);
	close(fd);

	metrics_server_stop(m);
	buf_free(&resp);
	buf_free(&want);
}

struct client_arg {
	uint16_t port;
	int ok;
};

static void *client(void *arg)
{
	struct client_arg *a = arg;
	struct buf resp;
	if (buf_init(&resp, 4096) < 0)
		return NULL;
	for (int i = 0; i < 50; i++) {
		int st = http(AF_INET, a->port, "GET /metrics HTTP/1.1\r\n\r\n", &resp);
		const char *body = body_of(&resp);
		size_t n = strlen(body);
		/* Each response is one whole rendering, whatever publish did meanwhile. */
		if (st == 200 && content_length(&resp) == (long)n &&
		    strncmp(body, "# HELP edonu_ingest_up ", 23) == 0 && n > 0 &&
		    strstr(body, "edonu_ingest_batch_commit_seconds_count{") != NULL && body[n - 1] == '\n')
			a->ok++;
	}
	buf_free(&resp);
	return NULL;
}

/* Four clients scraping fifty times each while the monitor publishes all get whole, consistent responses. */
static void test_http_concurrent(void)
{
	struct err e = {0};
	struct metrics_server *m = metrics_server_start("127.0.0.1:0", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	struct metrics_snapshot s;
	struct metrics_histogram h;
	sample(&s, &h);
	metrics_server_publish(m, &s);
	enum { CLIENTS = 4 };
	_Static_assert(2 * CLIENTS <= METRICS_HTTP_CONNECTIONS, "a closing and a new connection per client fit");
	struct client_arg args[CLIENTS];
	pthread_t t[CLIENTS];
	for (int i = 0; i < CLIENTS; i++) {
		args[i] = (struct client_arg){metrics_server_port(m), 0};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, client, &args[i]), 0);
	}
	for (int i = 0; i < 2000; i++) {
		s.records_loaded += 1000;
		s.table = i % 2 ? "public.orders" : "a much longer table name, to change the length";
		metrics_server_publish(m, &s);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(args[i].ok, 50);
	}
	metrics_server_stop(m);
}

/* With every connection slot held by idle clients, one more client gets 503 at once; freed slots serve again. */
static void test_http_limit(void)
{
	struct err e = {0};
	struct metrics_server *m = metrics_server_start("127.0.0.1:0", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	uint16_t port = metrics_server_port(m);
	struct metrics_snapshot s = {0};
	metrics_server_publish(m, &s);
	int idle[METRICS_HTTP_CONNECTIONS];
	for (int i = 0; i < METRICS_HTTP_CONNECTIONS; i++) {
		idle[i] = dial(AF_INET, port);
		CU_ASSERT_FATAL(idle[i] >= 0);
	}
	struct buf resp;
	CU_ASSERT_EQUAL_FATAL(buf_init(&resp, 4096), 0);
	/* Accepted in order, so the idle ones hold the slots before this one. */
	int fd = dial(AF_INET, port);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(read_response(fd, &resp), 503);
	close(fd);
	for (int i = 0; i < METRICS_HTTP_CONNECTIONS; i++)
		close(idle[i]);
	/* The server notices the closes on its next wake-up; wait for it, bounded. */
	int st = -1;
	for (uint64_t end = now_ms() + 2000; st != 200 && now_ms() < end;)
		st = http(AF_INET, port, "GET /metrics HTTP/1.1\r\n\r\n", &resp);
	CU_ASSERT_EQUAL(st, 200);
	buf_free(&resp);
	metrics_server_stop(m);
}

/* Stop returns promptly with an idle client connected, having joined the thread and closed the listener. */
static void test_http_stop(void)
{
	struct err e = {0};
	struct metrics_server *m = metrics_server_start("127.0.0.1:0", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	uint16_t port = metrics_server_port(m);
	int fd = dial(AF_INET, port);
	CU_ASSERT_FATAL(fd >= 0);
	/* Connections are accepted in order: once a later one is answered, the
	 * idle one holds a slot in the server. */
	struct buf resp;
	CU_ASSERT_EQUAL_FATAL(buf_init(&resp, 4096), 0);
	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /metrics HTTP/1.1\r\n\r\n", &resp), 503);
	buf_free(&resp);
	uint64_t t0 = now_ms();
	metrics_server_stop(m);
	CU_ASSERT_TRUE(now_ms() - t0 < 1000);
	char c;
	CU_ASSERT_EQUAL(recv(fd, &c, 1, 0), 0); /* the server closed it */
	close(fd);
	CU_ASSERT_EQUAL(dial(AF_INET, port), -1);
	CU_ASSERT_EQUAL(errno, ECONNREFUSED);
	metrics_server_stop(NULL);
}

/* A port in use, a malformed address, an unknown host and an address not on this machine are EXIT_CONFIG errors that say what is wrong. */
static void test_http_bind_errors(void)
{
	struct err e = {0};
	struct metrics_server *m = metrics_server_start("127.0.0.1:0", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	char hp[64];
	snprintf(hp, sizeof hp, "127.0.0.1:%u", metrics_server_port(m));
	CU_ASSERT_PTR_NULL(metrics_server_start(hp, &e));
	CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "Address already in use"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, hp));
	metrics_server_stop(m);

	static const char *const bad[][2] = {
	    {"9187x", "port"},
	    {"", "port"},
	    {"127.0.0.1:", "port"},
	    {"127.0.0.1:70000", "port"},
	    {"127.0.0.1:http", "port"},
	    {"::1:9187", "brackets"},
	    {"[::1", "[IPV6]:PORT"},
	    {"[::1]9187", "[IPV6]:PORT"},
	    {"no-such-host.invalid:0", "cannot resolve"},
	    {"192.0.2.1:0", "Cannot assign requested address"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&e);
		CU_ASSERT_PTR_NULL(metrics_server_start(bad[i][0], &e));
		CU_ASSERT_EQUAL(e.code, EXIT_CONFIG);
		bool ok = strstr(e.msg, bad[i][1]) != NULL && strstr(e.msg, "--metrics-listen") != NULL;
		if (!ok)
			fprintf(stderr, "\n%s: %s\n", bad[i][0], e.msg);
		CU_ASSERT_TRUE(ok);
	}
}

/* Whether a TCP connection to the IPv4 address a (host order) and port is accepted. */
static bool reachable_v4(uint32_t a, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(a);
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

/* ":PORT" and a bare "PORT" listen on 127.0.0.1 alone: another loopback
 * address (127.0.0.2, which stands for every other interface here) is
 * refused; "0.0.0.0:PORT" asks for every IPv4 interface and gets it. */
static void test_http_loopback_default(void)
{
	static const char *const loopback[] = {":0", "0"};
	struct err e = {0};
	struct buf resp;
	CU_ASSERT_EQUAL_FATAL(buf_init(&resp, 4096), 0);
	struct metrics_snapshot s = {0};
	for (size_t i = 0; i < 2; i++) {
		struct metrics_server *m = metrics_server_start(loopback[i], &e);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		metrics_server_publish(m, &s);
		uint16_t port = metrics_server_port(m);
		CU_ASSERT_EQUAL(http(AF_INET, port, "GET /metrics HTTP/1.1\r\n\r\n", &resp), 200);
		CU_ASSERT_FALSE(reachable_v4(0x7f000002, port));
		metrics_server_stop(m);
	}
	struct metrics_server *m = metrics_server_start("0.0.0.0:0", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_TRUE(reachable_v4(0x7f000002, metrics_server_port(m)));
	metrics_server_stop(m);
	buf_free(&resp);
}

/* The server listens on [::1], and "[::]:PORT" on every address, IPv4 and IPv6 alike. */
static void test_http_ipv6(void)
{
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
	bool have_v6 = probe >= 0 && bind(probe, (struct sockaddr *)&a, sizeof a) == 0;
	if (probe >= 0)
		close(probe);
	if (!have_v6) {
		fprintf(stderr, "(no IPv6 loopback here: nothing to try) ");
		return;
	}
	struct err e = {0};
	struct buf resp;
	CU_ASSERT_EQUAL_FATAL(buf_init(&resp, 4096), 0);
	struct metrics_snapshot s = {0};
	struct metrics_server *m = metrics_server_start("[::1]:0", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	metrics_server_publish(m, &s);
	CU_ASSERT_EQUAL(http(AF_INET6, metrics_server_port(m), "GET /metrics HTTP/1.1\r\n\r\n", &resp), 200);
	CU_ASSERT_FALSE(reachable_v4(0x7f000001, metrics_server_port(m)));
	metrics_server_stop(m);
	m = metrics_server_start("[::]:0", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	metrics_server_publish(m, &s);
	CU_ASSERT_EQUAL(http(AF_INET, metrics_server_port(m), "GET /metrics HTTP/1.1\r\n\r\n", &resp), 200);
	CU_ASSERT_EQUAL(http(AF_INET6, metrics_server_port(m), "GET /metrics HTTP/1.1\r\n\r\n", &resp), 200);
	metrics_server_stop(m);
	buf_free(&resp);
}

/* GET / is the dashboard's page as HTML with a policy that keeps it to the
 * loader; GET /stats is 503 until a publish, then the JSON last published,
 * which a later publish replaces; HEAD has no body; POST is 405. */
static void test_http_dashboard(void)
{
	struct err e = {0};
	struct metrics_server *m = metrics_server_start("127.0.0.1:0", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	uint16_t port = metrics_server_port(m);
	struct buf resp;
	CU_ASSERT_EQUAL_FATAL(buf_init(&resp, 4096), 0);

	CU_ASSERT_EQUAL(http(AF_INET, port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &resp), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.data, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.data, "\r\nContent-Security-Policy: default-src 'none';"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.data, "connect-src 'self'"));
	CU_ASSERT_EQUAL(content_length(&resp), (long)dashboard_page_len);
	CU_ASSERT_EQUAL(strlen(body_of(&resp)), dashboard_page_len);
	CU_ASSERT_EQUAL(memcmp(body_of(&resp), dashboard_page, dashboard_page_len), 0);
	CU_ASSERT_EQUAL(strlen(dashboard_page), dashboard_page_len);
	CU_ASSERT_PTR_NULL(strstr(dashboard_page, "http://"));
	CU_ASSERT_PTR_NULL(strstr(dashboard_page, "https://"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dashboard_page, "fetch(\"stats\""));
	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /index.html?x=1 HTTP/1.1\r\n\r\n", &resp), 200);
	CU_ASSERT_EQUAL(http(AF_INET, port, "HEAD / HTTP/1.1\r\n\r\n", &resp), 200);
	CU_ASSERT_STRING_EQUAL(body_of(&resp), "");
	CU_ASSERT_EQUAL(http(AF_INET, port, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &resp), 405);

	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /stats HTTP/1.1\r\n\r\n", &resp), 503);
	const char one[] = "{\"up\":true}\n", two[] = "{\"up\":false}\n";
	metrics_server_publish_stats(m, one, strlen(one));
	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /stats HTTP/1.1\r\n\r\n", &resp), 200);
	CU_ASSERT_STRING_EQUAL(body_of(&resp), one);
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.data, "\r\nContent-Type: application/json; charset=utf-8\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(resp.data, "\r\nCache-Control: no-store\r\n"));
	metrics_server_publish_stats(m, two, strlen(two));
	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /stats?t=1 HTTP/1.1\r\n\r\n", &resp), 200);
	CU_ASSERT_STRING_EQUAL(body_of(&resp), two);
	CU_ASSERT_EQUAL(http(AF_INET, port, "HEAD /stats HTTP/1.1\r\n\r\n", &resp), 200);
	CU_ASSERT_EQUAL(content_length(&resp), (long)strlen(two));
	/* /metrics is still unpublished: the two bodies are apart. */
	CU_ASSERT_EQUAL(http(AF_INET, port, "GET /metrics HTTP/1.1\r\n\r\n", &resp), 503);

	metrics_server_stop(m);
	buf_free(&resp);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("metrics", suite_init, suite_clean);
	CU_add_test(s, "render every metric", test_render_all);
	CU_add_test(s, "render without a table", test_render_no_table);
	CU_add_test(s, "label escaping", test_label_escaping);
	CU_add_test(s, "histogram buckets", test_histogram_buckets);
	CU_add_test(s, "histogram from threads", test_histogram_threads);
	CU_add_test(s, "textfile atomic replace", test_textfile_replace);
	CU_add_test(s, "textfile keeps last success", test_textfile_last_success);
	CU_add_test(s, "textfile error", test_textfile_error);
	CU_add_test(s, "http responses", test_http_responses);
	CU_add_test(s, "http concurrent clients", test_http_concurrent);
	CU_add_test(s, "http connection limit", test_http_limit);
	CU_add_test(s, "http stop", test_http_stop);
	CU_add_test(s, "http bind errors", test_http_bind_errors);
	CU_add_test(s, "http loopback by default", test_http_loopback_default);
	CU_add_test(s, "http ipv6", test_http_ipv6);
	CU_add_test(s, "http dashboard and stats", test_http_dashboard);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
