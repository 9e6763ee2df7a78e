/* metrics_http.c - the /metrics endpoint, with the dashboard's / and /stats: a small HTTP/1.1 server on its own thread, serving the last published snapshot. */
#include "metrics.h"

#include "../core/buf.h"
#include "dashboard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* What the server answers with: two published bodies and the page. */
enum route { ROUTE_METRICS, ROUTE_STATS, ROUTE_PAGE, ROUTE_NONE };
#define BODIES 2 /* ROUTE_METRICS and ROUTE_STATS */

struct body {
	struct buf cur;     /* under lock: what a request gets */
	bool published;     /* under lock */
	struct buf staging; /* the publisher's; swapped with cur */
};

struct metrics_server {
	int listen_fd;
	int wake[2]; /* a byte on wake[1] tells the thread to stop */
	uint16_t port;
	pthread_t thread;
	pthread_mutex_t lock;
	struct body bodies[BODIES];
	uint64_t accept_paused_until_ms;
	struct conn conns[METRICS_HTTP_CONNECTIONS];
};

/* The page may run its own inline script and style and fetch from the
 * loader that served it, nothing else: a browser refuses any other
 * request the page might make. */
#define PAGE_HEADERS                                                                                           \
	"Content-Type: text/html; charset=utf-8\r\n"                                                           \
	"Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " \
	"connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'\r\n"                           \
	"X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"

static const char *const route_headers[] = {
    [ROUTE_METRICS] = "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n",
    [ROUTE_STATS] = "Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n"
		    "X-Content-Type-Options: nosniff\r\n",
    [ROUTE_PAGE] = PAGE_HEADERS,
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

/* A 200 with body[0..len) into c->out. */
static void put_ok(struct conn *c, enum route r, const char *body, size_t len, bool head)
{
	buf_printf(&c->out, "HTTP/1.1 200 OK\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n", route_headers[r],
		   len);
	if (!head)
		buf_put(&c->out, body, len);
}

/* Fills c->out with a whole response and starts sending it. A 200 copies
 * the published body under the lock; the copy lives in the connection so
 * that a publish during a slow send does not matter. The page is a
 * constant and needs no lock. */
static void conn_respond(struct metrics_server *m, struct conn *c, int status, enum route r, bool head)
{
	c->out.len = 0;
	c->out_off = 0;
	if (status == 200 && r == ROUTE_PAGE) {
		put_ok(c, r, dashboard_page, dashboard_page_len, head);
	} else if (status == 200) {
		struct body *b = &m->bodies[r];
		pthread_mutex_lock(&m->lock);
		if (b->published)
			put_ok(c, r, b->cur.data, b->cur.len, head);
		pthread_mutex_unlock(&m->lock);
		if (c->out.len == 0)
			status = 503;
	}
	if (status != 200) {
		const char *text = status_text(status);
		buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n", status, text);
		if (status == 405)
			buf_puts(&c->out, "Allow: GET, HEAD\r\n");
		buf_printf(&c->out, "Content-Length: %zu\r\nConnection: close\r\n\r\n", strlen(text) + 1);
		if (!head) {
			buf_puts(&c->out, text);
			buf_putc(&c->out, '\n');
		}
	}
	c->state = CONN_WRITE;
	conn_write(c);
}

/* The route of a request target; the query string is ignored. */
static enum route route_of(const char *target)
{
	static const struct {
		const char *path;
		enum route r;
	} routes[] = {
	    {"/metrics", ROUTE_METRICS}, {"/stats", ROUTE_STATS}, {"/", ROUTE_PAGE}, {"/index.html", ROUTE_PAGE}};
	size_t path_len = strcspn(target, "?");
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (path_len == strlen(routes[i].path) && strncmp(target, routes[i].path, path_len) == 0)
			return routes[i].r;
	return ROUTE_NONE;
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
		conn_respond(m, c, 400, ROUTE_NONE, false);
		return;
	}
	*sp1 = '\0';
	*sp2 = '\0';
	const char *method = line, *target = sp1 + 1;
	bool head = strcmp(method, "HEAD") == 0;
	enum route r = route_of(target);
	if (r == ROUTE_NONE)
		conn_respond(m, c, 404, r, head);
	else if (!head && strcmp(method, "GET") != 0)
		conn_respond(m, c, 405, r, false);
	else
		conn_respond(m, c, 200, r, head);
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
		conn_respond(m, c, 431, ROUTE_NONE, false);
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

/* Splits "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT"; host is "" when
 * none is given: the loopback address, never every interface unless asked
 * for (0.0.0.0, [::]). */
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
		hlen = colon != NULL ? (size_t)(colon - hp) : 0;
		if (memchr(hp, ':', hlen) != NULL)
			return err_set(e, EXIT_CONFIG,
				       "--metrics-listen %s: put an IPv6 address in brackets, as [::1]:9187", hp);
	}
	const char *p = colon != NULL ? colon + 1 : hp;
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

/* Binds and listens on the first address of host that works (no host:
 * 127.0.0.1, the metrics are nobody else's business). An IPv6 address is
 * tried first; "[::]" takes IPv4 as well. */
static int open_listener(const char *hp, const char *host, const char *port, uint16_t *bound, struct err *e)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res;
	int rc = getaddrinfo(host[0] != '\0' ? host : "127.0.0.1", port, &hints, &res);
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
			if (ai->ai_family == AF_INET6 && strcmp(host, "::") == 0)
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
	for (unsigned i = 0; i < BODIES; i++) {
		buf_free(&m->bodies[i].cur);
		buf_free(&m->bodies[i].staging);
	}
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
	bool mem = true;
	for (unsigned i = 0; mem && i < BODIES; i++)
		mem = buf_init(&m->bodies[i].cur, CONN_OUT_BYTES) == 0 &&
		      buf_init(&m->bodies[i].staging, CONN_OUT_BYTES) == 0;
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

/* Makes the staging buffer the body under the lock. */
static void swap_in(struct metrics_server *m, struct body *b)
{
	pthread_mutex_lock(&m->lock);
	struct buf t = b->cur;
	b->cur = b->staging;
	b->staging = t;
	b->published = true;
	pthread_mutex_unlock(&m->lock);
}

void metrics_server_publish(struct metrics_server *m, const struct metrics_snapshot *s)
{
	struct body *b = &m->bodies[ROUTE_METRICS];
	b->staging.len = 0;
	metrics_render(s, &b->staging);
	swap_in(m, b);
}

void metrics_server_publish_stats(struct metrics_server *m, const char *json, size_t len)
{
	struct body *b = &m->bodies[ROUTE_STATS];
	b->staging.len = 0;
	buf_put(&b->staging, json, len);
	swap_in(m, b);
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
