/* metrics.c - Prometheus text exposition of the load's counters, written as a node_exporter textfile or served over HTTP. */
#include "metrics.h"

#include "../io/atomic_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

static void put_str(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void put_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	buf_reserve(b, 128);
	va_start(ap, fmt);
	int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	ASSERT(n >= 0);
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

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
	put_str(b, tmp);
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
			put_str(b, "\\\\");
			p++;
		} else if (*p == '"') {
			put_str(b, "\\\"");
			p++;
		} else if (*p == '\n') {
			put_str(b, "\\n");
			p++;
		} else if (*p < 0x80) {
			buf_putc(b, (char)*p++);
		} else if ((n = utf8_len(p)) > 0) {
			buf_put(b, p, n);
			p += n;
		} else {
			put_str(b, "\xEF\xBF\xBD");
			p++;
		}
	}
	buf_putc(b, '"');
}

static void put_header(struct buf *b, const char *name, const char *type, const char *help)
{
	put_fmt(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* "name{table="t",k1="v1",...} " - the labels present, then a space for
 * the value. kv holds nkv name/value pairs. */
static void put_series_labels(struct buf *b, const char *name, const char *suffix, const char *table,
			      const char *const *kv, unsigned nkv)
{
	put_str(b, name);
	put_str(b, suffix);
	char sep = '{';
	if (table != NULL) {
		put_str(b, "{table=");
		put_label_value(b, table);
		sep = ',';
	}
	for (unsigned i = 0; i < nkv; i++) {
		buf_putc(b, sep);
		put_str(b, kv[2 * i]);
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
	put_fmt(b, "%llu\n", (unsigned long long)v);
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
	put_str(out, "1\n");

	put_double_metric(out, "edonu_ingest_start_time_seconds", "Unix time the load started.", t,
			  s->start_time_seconds);
	put_double_metric(out, "edonu_ingest_last_success_timestamp_seconds",
			  "Unix time a load last finished without error; 0 if none has.", t, s->last_success_seconds);

	const char *rec = "edonu_ingest_records_total";
	put_header(out, rec, "counter",
		   "Records by outcome: loaded, rejected, ignored (--on-conflict ignore: the key was there), or "
		   "skipped as committed by an earlier run.");
	put_series(out, rec, "", t, "outcome", "loaded");
	put_fmt(out, "%llu\n", (unsigned long long)s->records_loaded);
	put_series(out, rec, "", t, "outcome", "rejected");
	put_fmt(out, "%llu\n", (unsigned long long)s->records_rejected);
	put_series(out, rec, "", t, "outcome", "ignored");
	put_fmt(out, "%llu\n", (unsigned long long)s->records_ignored);
	put_series(out, rec, "", t, "outcome", "skipped");
	put_fmt(out, "%llu\n", (unsigned long long)s->records_skipped);

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
		put_fmt(out, "%llu\n", (unsigned long long)c);
	}
	put_series(out, h, "_bucket", t, "le", "+Inf");
	put_fmt(out, "%llu\n", (unsigned long long)hv->count);
	put_series(out, h, "_sum", t, NULL, NULL);
	put_double(out, hv->sum_seconds);
	buf_putc(out, '\n');
	put_series(out, h, "_count", t, NULL, NULL);
	put_fmt(out, "%llu\n", (unsigned long long)hv->count);
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

/* ---- HTTP server ---- */

#define LISTEN_BACKLOG   16
/* Accepts per wake-up, so a flood of connects cannot starve the others. */
#define ACCEPTS_PER_WAKE 32
/* After accept fails for lack of descriptors the listener stays readable;
 * pause it rather than spin. */
#define ACCEPT_PAUSE_MS  100
#define CONN_OUT_BYTES   ((size_t)16 << 10)

enum conn_state { CONN_FREE, CONN_READ, CONN_WRITE, CONN_DRAIN };

struct conn {
	int fd;
	enum conn_state state;
	uint64_t deadline_ms;
	size_t req_len;
	char req[METRICS_HTTP_REQUEST_BYTES];
	struct buf out; /* headers and a copy of the body */
	size_t out_off;
};

struct metrics_server {
	int listen_fd;
	int wake[2]; /* a byte on wake[1] tells the thread to stop */
	uint16_t port;
	pthread_t thread;
	pthread_mutex_t lock;
	struct buf body;    /* under lock: what a scrape gets */
	bool published;     /* under lock */
	struct buf staging; /* the publisher's; swapped with body */
	uint64_t accept_paused_until_ms;
	struct conn conns[METRICS_HTTP_CONNECTIONS];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CONN_FREE;
}

/* Sends what is left; after the last byte, half-closes and waits for the
 * client's end, because closing with unread input would reset the
 * connection and could discard the response in flight. */
static void conn_write(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(c);
			return;
		}
		c->out_off += (size_t)w;
	}
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_DRAIN;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* Fills c->out with a whole response and starts sending it. A 200 copies
 * the published body under the lock; the copy lives in the connection so
 * that a publish during a slow send does not matter. */
static void conn_respond(struct metrics_server *m, struct conn *c, int status, bool head)
{
	c->out.len = 0;
	c->out_off = 0;
	if (status == 200) {
		pthread_mutex_lock(&m->lock);
		if (m->published) {
			put_fmt(&c->out,
				"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
				"Content-Length: %zu\r\nConnection: close\r\n\r\n",
				m->body.len);
			if (!head)
				buf_put(&c->out, m->body.data, m->body.len);
		}
		pthread_mutex_unlock(&m->lock);
		if (c->out.len == 0)
			status = 503;
	}
	if (status != 200) {
		const char *text = status_text(status);
		put_fmt(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n", status, text);
		if (status == 405)
			put_str(&c->out, "Allow: GET, HEAD\r\n");
		put_fmt(&c->out, "Content-Length: %zu\r\nConnection: close\r\n\r\n", strlen(text) + 1);
		if (!head) {
			put_str(&c->out, text);
			buf_putc(&c->out, '\n');
		}
	}
	c->state = CONN_WRITE;
	conn_write(c);
}

/* The request line of a complete head: METHOD SP TARGET SP HTTP/1.x. */
static void conn_handle_request(struct metrics_server *m, struct conn *c)
{
	char *line = c->req;
	char *eol = memchr(line, '\n', c->req_len);
	ASSERT(eol != NULL);
	*eol = '\0';
	if (eol > line && eol[-1] == '\r')
		eol[-1] = '\0';
	char *sp1 = strchr(line, ' ');
	char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		conn_respond(m, c, 400, false);
		return;
	}
	*sp1 = '\0';
	*sp2 = '\0';
	const char *method = line, *target = sp1 + 1;
	bool head = strcmp(method, "HEAD") == 0;
	size_t path_len = strcspn(target, "?");
	if (path_len != strlen("/metrics") || strncmp(target, "/metrics", path_len) != 0)
		conn_respond(m, c, 404, head);
	else if (!head && strcmp(method, "GET") != 0)
		conn_respond(m, c, 405, false);
	else
		conn_respond(m, c, 200, head);
}

static void conn_read(struct metrics_server *m, struct conn *c)
{
	if (c->state == CONN_DRAIN) {
		char sink[512];
		ssize_t r = recv(c->fd, sink, sizeof sink, 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			conn_close(c);
		return;
	}
	ssize_t r = recv(c->fd, c->req + c->req_len, sizeof c->req - c->req_len, 0);
	if (r < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_close(c);
		return;
	}
	if (r == 0) {
		conn_close(c);
		return;
	}
	/* Look for the blank line from just before the new bytes, since the
	 * terminator may straddle two reads. */
	size_t from = c->req_len >= 3 ? c->req_len - 3 : 0;
	c->req_len += (size_t)r;
	for (size_t i = from; i < c->req_len; i++) {
		if (c->req[i] != '\n')
			continue;
		if ((i >= 1 && c->req[i - 1] == '\n') || (i >= 2 && c->req[i - 1] == '\r' && c->req[i - 2] == '\n')) {
			conn_handle_request(m, c);
			return;
		}
	}
	if (c->req_len == sizeof c->req)
		conn_respond(m, c, 431, false);
}

static void accept_clients(struct metrics_server *m, uint64_t now)
{
	for (int k = 0; k < ACCEPTS_PER_WAKE; k++) {
		int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				m->accept_paused_until_ms = now + ACCEPT_PAUSE_MS;
			return;
		}
		struct conn *c = NULL;
		for (unsigned i = 0; i < METRICS_HTTP_CONNECTIONS; i++) {
			if (m->conns[i].state == CONN_FREE) {
				c = &m->conns[i];
				break;
			}
		}
		if (c == NULL) {
			/* Full: say so at once rather than leave a scraper
			 * hanging; best effort, the socket buffer takes it. */
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
						   "Connection: close\r\n\r\n";
			(void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
			shutdown(fd, SHUT_WR);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = CONN_READ;
		c->req_len = 0;
		c->deadline_ms = now + METRICS_HTTP_TIMEOUT_MS;
	}
}

static void *server_main(void *arg)
{
	struct metrics_server *m = arg;
	struct pollfd pfd[2 + METRICS_HTTP_CONNECTIONS];
	struct conn *owner[2 + METRICS_HTTP_CONNECTIONS];
	for (;;) {
		uint64_t now = mono_ms();
		nfds_t n = 0;
		pfd[n++] = (struct pollfd){.fd = m->wake[0], .events = POLLIN};
		int timeout = -1;
		nfds_t listen_at = 0;
		if (now >= m->accept_paused_until_ms) {
			listen_at = n;
			pfd[n++] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
		} else {
			timeout = (int)(m->accept_paused_until_ms - now);
		}
		for (unsigned i = 0; i < METRICS_HTTP_CONNECTIONS; i++) {
			struct conn *c = &m->conns[i];
			if (c->state == CONN_FREE)
				continue;
			owner[n] = c;
			pfd[n++] = (struct pollfd){.fd = c->fd, .events = c->state == CONN_WRITE ? POLLOUT : POLLIN};
			int left = c->deadline_ms > now ? (int)(c->deadline_ms - now) : 0;
			if (timeout < 0 || left < timeout)
				timeout = left;
		}
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			/* Only EFAULT, EINVAL or ENOMEM are left; none is curable here. */
			break;
		}
		if (pfd[0].revents != 0)
			break;
		now = mono_ms();
		for (nfds_t i = 1; i < n; i++) {
			if (i == listen_at && listen_at != 0)
				continue;
			struct conn *c = owner[i];
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				if (c->state == CONN_WRITE)
					conn_write(c);
				else
					conn_read(m, c);
			} else if (pfd[i].revents & POLLOUT) {
				conn_write(c);
			}
			if (c->state != CONN_FREE && now >= c->deadline_ms)
				conn_close(c);
		}
		if (listen_at != 0 && (pfd[listen_at].revents & POLLIN))
			accept_clients(m, now);
	}
	for (unsigned i = 0; i < METRICS_HTTP_CONNECTIONS; i++)
		if (m->conns[i].state != CONN_FREE)
			conn_close(&m->conns[i]);
	return NULL;
}

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT"; host is "" for all addresses. */
static int split_host_port(const char *hp, char *host, size_t host_cap, char *port, size_t port_cap, struct err *e)
{
	const char *colon;
	const char *h = hp;
	size_t hlen;
	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');
		if (close == NULL || close[1] != ':')
			return err_set(e, EXIT_CONFIG, "--metrics-listen %s: expected [IPV6]:PORT", hp);
		h = hp + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (colon == NULL)
			return err_set(e, EXIT_CONFIG, "--metrics-listen %s: expected HOST:PORT", hp);
		hlen = (size_t)(colon - hp);
		if (memchr(hp, ':', hlen) != NULL)
			return err_set(e, EXIT_CONFIG,
				       "--metrics-listen %s: put an IPv6 address in brackets, as [::1]:9187", hp);
	}
	const char *p = colon + 1;
	size_t plen = strlen(p);
	unsigned long v = 0;
	bool digits = plen > 0 && plen <= 5;
	for (size_t i = 0; digits && i < plen; i++) {
		if (p[i] < '0' || p[i] > '9')
			digits = false;
		else
			v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (!digits || v > 65535)
		return err_set(e, EXIT_CONFIG, "--metrics-listen %s: the port must be a number from 0 to 65535", hp);
	if (hlen >= host_cap || plen >= port_cap)
		return err_set(e, EXIT_CONFIG, "--metrics-listen %s: the host name is too long", hp);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memcpy(port, p, plen);
	port[plen] = '\0';
	return 0;
}

/* Binds and listens on the first address of host that works. For "all
 * addresses" an IPv6 socket that also takes IPv4 is tried first. */
static int open_listener(const char *hp, const char *host, const char *port, uint16_t *bound, struct err *e)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res;
	int rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (rc != 0)
		return err_set(e, EXIT_CONFIG, "--metrics-listen %s: cannot resolve %s: %s", hp, host,
			       gai_strerror(rc));
	int fd = -1, saved = EADDRNOTAVAIL;
	for (int pass = 0; pass < 2 && fd < 0; pass++) {
		for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
			/* Pass 0 takes IPv6, pass 1 the rest. */
			if ((ai->ai_family == AF_INET6) != (pass == 0))
				continue;
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd < 0) {
				saved = errno;
				continue;
			}
			/* A restarted loader rebinds while old connections sit in TIME_WAIT. */
			int one = 1, zero = 0;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			if (ai->ai_family == AF_INET6 && host[0] == '\0')
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
				saved = errno;
				close(fd);
				fd = -1;
			}
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err_set(e, EXIT_CONFIG, "--metrics-listen %s: cannot listen: %s", hp, strerror(saved));
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		saved = errno;
		close(fd);
		return err_set(e, EXIT_SOFTWARE, "--metrics-listen %s: getsockname: %s", hp, strerror(saved));
	}
	*bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						: ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void server_free(struct metrics_server *m)
{
	for (unsigned i = 0; i < METRICS_HTTP_CONNECTIONS; i++)
		buf_free(&m->conns[i].out);
	buf_free(&m->body);
	buf_free(&m->staging);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	if (m->wake[0] >= 0)
		close(m->wake[0]);
	if (m->wake[1] >= 0)
		close(m->wake[1]);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

struct metrics_server *metrics_server_start(const char *host_port, struct err *e)
{
	char host[256], port[8];
	if (split_host_port(host_port, host, sizeof host, port, sizeof port, e) < 0)
		return NULL;
	struct metrics_server *m = calloc(1, sizeof *m);
	if (m == NULL) {
		err_set(e, EXIT_SOFTWARE, "--metrics-listen %s: out of memory", host_port);
		return NULL;
	}
	m->listen_fd = m->wake[0] = m->wake[1] = -1;
	pthread_mutex_init(&m->lock, NULL);
	for (unsigned i = 0; i < METRICS_HTTP_CONNECTIONS; i++)
		m->conns[i].fd = -1;
	bool mem = buf_init(&m->body, CONN_OUT_BYTES) == 0 && buf_init(&m->staging, CONN_OUT_BYTES) == 0;
	for (unsigned i = 0; mem && i < METRICS_HTTP_CONNECTIONS; i++)
		mem = buf_init(&m->conns[i].out, CONN_OUT_BYTES) == 0;
	if (!mem) {
		err_set(e, EXIT_SOFTWARE, "--metrics-listen %s: out of memory", host_port);
		goto fail;
	}
	m->listen_fd = open_listener(host_port, host, port, &m->port, e);
	if (m->listen_fd < 0)
		goto fail;
	if (pipe2(m->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		m->wake[0] = m->wake[1] = -1;
		err_set(e, EXIT_SOFTWARE, "--metrics-listen %s: pipe: %s", host_port, strerror(errno));
		goto fail;
	}
	/* The thread blocks every signal so that SIGINT and SIGTERM keep going
	 * to the threads that handle them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&m->thread, NULL, server_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		err_set(e, EXIT_SOFTWARE, "--metrics-listen %s: cannot start a thread: %s", host_port, strerror(rc));
		goto fail;
	}
	return m;
fail:
	server_free(m);
	return NULL;
}

uint16_t metrics_server_port(const struct metrics_server *m)
{
	return m->port;
}

void metrics_server_publish(struct metrics_server *m, const struct metrics_snapshot *s)
{
	m->staging.len = 0;
	metrics_render(s, &m->staging);
	pthread_mutex_lock(&m->lock);
	struct buf t = m->body;
	m->body = m->staging;
	m->staging = t;
	m->published = true;
	pthread_mutex_unlock(&m->lock);
}

void metrics_server_stop(struct metrics_server *m)
{
	if (m == NULL)
		return;
	char one = 1;
	while (write(m->wake[1], &one, 1) < 0 && errno == EINTR)
		;
	pthread_join(m->thread, NULL);
	server_free(m);
}
