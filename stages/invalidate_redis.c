/* invalidate_redis.c - Redis URLs, and the pipelined client that sends a key set's UNLINK, INCR and PUBLISH commands. */
#include "invalidate.h"

#include "../core/ascii.h"
#include "../io/journal.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

/* ================================================================== Redis URLs */

/* Copies p[0..n) to out, decoding %XX. -1 when malformed or too long. */
static int pct_decode(const char *p, size_t n, char *out, size_t outsz)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '%') {
			if (i + 2 >= n || ascii_hex_value(p[i + 1]) < 0 || ascii_hex_value(p[i + 2]) < 0)
				return -1;
			c = (char)(ascii_hex_value(p[i + 1]) * 16 + ascii_hex_value(p[i + 2]));
			i += 2;
		}
		if (k + 1 >= outsz)
			return -1;
		out[k++] = c;
	}
	out[k] = '\0';
	return 0;
}

static int parse_uint(const char *p, size_t n, long max, int *v)
{
	if (n == 0 || n > 9)
		return -1;
	long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ascii_is_digit(p[i]))
			return -1;
		x = x * 10 + (p[i] - '0');
	}
	if (x > max)
		return -1;
	*v = (int)x;
	return 0;
}

/* "db=N&password=P" */
static int parse_query(const char *q, struct inval_redis_url *u, const char **bad)
{
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		if (n > 3 && strncmp(q, "db=", 3) == 0) {
			if (parse_uint(q + 3, n - 3, 1 << 20, &u->db) != 0) {
				*bad = "db is not a number";
				return -1;
			}
		} else if (n > 9 && strncmp(q, "password=", 9) == 0) {
			if (pct_decode(q + 9, n - 9, u->password, sizeof u->password) != 0) {
				*bad = "bad password encoding";
				return -1;
			}
		} else {
			*bad = "unknown query parameter (db and password are known)";
			return -1;
		}
		q += n + (amp ? 1 : 0);
	}
	return 0;
}

/* unix:///path[?db=N]: the socket path (sun_path holds 108 bytes with its
 * NUL). NULL, or what is wrong. */
static const char *parse_unix_url(const char *path, struct inval_redis_url *u)
{
	const char *bad = NULL;
	const char *q = strchr(path, '?');
	size_t n = q ? (size_t)(q - path) : strlen(path);
	u->unix_socket = true;
	if (n == 0 || path[0] != '/')
		return "the socket path must be absolute (unix:///path/to/sock)";
	if (pct_decode(path, n, u->host, 108) != 0)
		return "socket path too long or badly encoded";
	if (q != NULL)
		parse_query(q + 1, u, &bad);
	return bad;
}

/* [user]:password@ or user@ before the host, when present: *a and *alen
 * move past it. */
static const char *parse_credentials(const char **a, size_t *alen, struct inval_redis_url *u)
{
	const char *at = NULL;
	for (size_t i = 0; i < *alen; i++)
		if ((*a)[i] == '@')
			at = *a + i;
	if (at == NULL)
		return NULL;
	const char *colon = memchr(*a, ':', (size_t)(at - *a));
	const char *user_end = colon ? colon : at;
	if (pct_decode(*a, (size_t)(user_end - *a), u->user, sizeof u->user) != 0 ||
	    (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), u->password, sizeof u->password) != 0))
		return "user or password too long or badly encoded";
	*alen -= (size_t)(at + 1 - *a);
	*a = at + 1;
	return NULL;
}

/* host, [v6 host] and :port of a[0..alen). */
static const char *parse_host_port(const char *a, size_t alen, struct inval_redis_url *u)
{
	const char *portp = NULL;
	size_t hlen;
	if (alen > 0 && a[0] == '[') {
		const char *rb = memchr(a, ']', alen);
		if (rb == NULL)
			return "unterminated [ in the host";
		hlen = (size_t)(rb - a - 1);
		if (hlen == 0 || hlen >= sizeof u->host)
			return "bad host";
		memcpy(u->host, a + 1, hlen);
		u->host[hlen] = '\0';
		if (rb + 1 < a + alen) {
			if (rb[1] != ':')
				return "junk after ]";
			portp = rb + 2;
		}
	} else {
		const char *colon = memchr(a, ':', alen);
		hlen = colon ? (size_t)(colon - a) : alen;
		if (hlen == 0 || hlen >= sizeof u->host)
			return "missing or too long host";
		memcpy(u->host, a, hlen);
		u->host[hlen] = '\0';
		if (colon)
			portp = colon + 1;
	}
	if (portp != NULL && (parse_uint(portp, (size_t)(a + alen - portp), 65535, &u->port) != 0 || u->port == 0))
		return "bad port";
	return NULL;
}

/* redis://[[user]:password@]host[:port][/db][?query] past its scheme. */
static const char *parse_tcp_url(const char *a, struct inval_redis_url *u)
{
	size_t alen = strcspn(a, "/?");
	const char *rest = a + alen;
	const char *bad = parse_credentials(&a, &alen, u);
	if (bad == NULL)
		bad = parse_host_port(a, alen, u);
	if (bad != NULL)
		return bad;
	if (*rest == '/') {
		rest++;
		size_t dl = strcspn(rest, "?");
		if (dl > 0 && parse_uint(rest, dl, 1 << 20, &u->db) != 0)
			return "the path must be a database number";
		rest += dl;
	}
	if (*rest == '?')
		parse_query(rest + 1, u, &bad);
	return bad;
}

int inval_redis_parse_url(const char *url, struct inval_redis_url *u, struct err *e)
{
	memset(u, 0, sizeof *u);
	u->port = 6379;
	const char *bad;
	if (strncmp(url, "rediss://", 9) == 0)
		return err_set(e, EXIT_CONFIG, "--redis: TLS (rediss://) is not supported; use redis:// or unix://");
	if (strncmp(url, "unix://", 7) == 0)
		bad = parse_unix_url(url + 7, u);
	else if (strncmp(url, "redis://", 8) == 0)
		bad = parse_tcp_url(url + 8, u);
	else
		bad = "expected redis://[[user]:password@ or user@]host[:port][/db] or unix:///path/to/sock[?db=N]";
	/* Never echo the URL: it may hold a password. */
	if (bad != NULL)
		return err_set(e, EXIT_CONFIG, "--redis: bad URL: %s", bad);
	return 0;
}

/* ================================================================== Redis client */

/* What a pipelined command's reply means. */
enum cmd_kind {
	CMD_UNLINK,
	CMD_INCR,
	CMD_PUBLISH,
};

struct inval_redis {
	struct inval_redis_url url;
	char where[300]; /* "host:port/db" or the socket path, for messages */
	char *channel;
	uint32_t timeout_ms;
	redisContext *c;
	const char **argv; /* INVAL_KEYS_PER_COMMAND + 2 arguments */
	size_t *argvlen;
	struct buf msg; /* a PUBLISH message */
	struct buf cmd; /* one command in RESP, formatted here */
	struct inval_redis_stats st;
	/* A send in flight (inval_redis_send_begin): its last window's
	 * commands, and what the replies read so far said. */
	bool sending;
	uint32_t inflight;
	enum cmd_kind kinds[INVAL_PIPELINE_COMMANDS_MAX];
	int64_t removed;
	char refused[256];
	bool refused_retry;
};

/* Appends the decimal digits of v. */
static void resp_put_u64(struct buf *b, uint64_t v)
{
	char d[20];
	int n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_reserve(b, (size_t)n);
	while (n > 0)
		b->data[b->len++] = d[--n];
}

/* Formats a command as RESP and queues it. hiredis' own argv formatting
 * goes through printf-style sds calls per argument; with ~1000 keys per
 * UNLINK and a key per loaded row this formatting is on the load's path. */
static int append_resp(struct inval_redis *r, int argc, const char *const *argv, const size_t *argvlen)
{
	struct buf *b = &r->cmd;
	b->len = 0;
	buf_putc(b, '*');
	resp_put_u64(b, (uint64_t)argc);
	buf_put(b, "\r\n", 2);
	for (int i = 0; i < argc; i++) {
		buf_reserve(b, argvlen[i] + 26);
		b->data[b->len++] = '$';
		resp_put_u64(b, argvlen[i]);
		memcpy(b->data + b->len, "\r\n", 2);
		b->len += 2;
		copy_short(b->data + b->len, argv[i], argvlen[i]);
		b->len += argvlen[i];
		memcpy(b->data + b->len, "\r\n", 2);
		b->len += 2;
	}
	return redisAppendFormattedCommand(r->c, b->data, b->len);
}

/* The password from outside the URL when it has none; a user named
 * without any password is refused rather than silently ignored. */
static int take_password(struct inval_redis_url *u, const char *password, struct err *e)
{
	if (u->password[0] == '\0' && password != NULL && password[0] != '\0') {
		if (strlen(password) >= sizeof u->password)
			return err_set(e, EXIT_CONFIG, "--redis: the password is longer than %zu bytes",
				       sizeof u->password - 1);
		memcpy(u->password, password, strlen(password) + 1);
	}
	if (u->user[0] != '\0' && u->password[0] == '\0')
		return err_set(e, EXIT_CONFIG,
			       "--redis names a user but no password: give it in the URL or in EDONU_REDIS_PASSWORD");
	return 0;
}

struct inval_redis *inval_redis_create(const char *url, const char *password, const char *channel, uint32_t timeout_ms,
				       struct err *e)
{
	struct inval_redis *r = calloc(1, sizeof *r);
	if (r == NULL) {
		err_set(e, EXIT_SOFTWARE, "out of memory");
		return NULL;
	}
	if (inval_redis_parse_url(url, &r->url, e) != 0 || take_password(&r->url, password, e) != 0) {
		free(r);
		return NULL;
	}
	if (r->url.unix_socket)
		snprintf(r->where, sizeof r->where, "unix:%s", r->url.host);
	else
		snprintf(r->where, sizeof r->where, "%s:%d", r->url.host, r->url.port);
	r->timeout_ms = timeout_ms ? timeout_ms : 5000;
	r->argv = calloc(INVAL_KEYS_PER_COMMAND + 2, sizeof *r->argv);
	r->argvlen = calloc(INVAL_KEYS_PER_COMMAND + 2, sizeof *r->argvlen);
	r->channel = channel ? strdup(channel) : NULL;
	if (r->argv == NULL || r->argvlen == NULL || (channel && r->channel == NULL) ||
	    buf_init(&r->msg, (size_t)INVAL_KEYS_PER_COMMAND * 48) != 0 ||
	    buf_init(&r->cmd, (size_t)INVAL_KEYS_PER_COMMAND * 64) != 0) {
		inval_redis_free(r);
		err_set(e, EXIT_SOFTWARE, "out of memory");
		return NULL;
	}
	return r;
}

void inval_redis_free(struct inval_redis *r)
{
	if (r == NULL)
		return;
	if (r->c)
		redisFree(r->c);
	free(r->argv);
	free(r->argvlen);
	free(r->channel);
	buf_free(&r->msg);
	buf_free(&r->cmd);
	free(r);
}

const struct inval_redis_stats *inval_redis_stats(const struct inval_redis *r)
{
	return &r->st;
}

static void drop_connection(struct inval_redis *r)
{
	if (r->c) {
		redisFree(r->c);
		r->c = NULL;
	}
}

static int conn_failed(struct inval_redis *r, const char *what, struct err *e)
{
	err_set(e, EXIT_TEMPFAIL, "Redis at %s: %s: %s", r->where, what,
		r->c && r->c->errstr[0] ? r->c->errstr : strerror(errno ? errno : EIO));
	e->retryable = true;
	drop_connection(r);
	return -1;
}

/* Redis answers these while it is starting, busy or failing over: the same
 * command later succeeds. */
static bool reply_retryable(const char *msg)
{
	static const char *const codes[] = {"LOADING", "BUSY",     "TRYAGAIN",    "MASTERDOWN",
					    "OOM",     "READONLY", "CLUSTERDOWN", "NOREPLICAS"};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		size_t n = strlen(codes[i]);
		if (strncmp(msg, codes[i], n) == 0 && (msg[n] == ' ' || msg[n] == '\0'))
			return true;
	}
	return false;
}

int inval_redis_connect(struct inval_redis *r, struct err *e)
{
	if (r->c != NULL)
		return 0;
	struct timeval tv = {.tv_sec = r->timeout_ms / 1000, .tv_usec = (r->timeout_ms % 1000) * 1000};
	errno = 0;
	if (r->url.unix_socket)
		r->c = redisConnectUnixWithTimeout(r->url.host, tv);
	else
		r->c = redisConnectWithTimeout(r->url.host, r->url.port, tv);
	if (r->c == NULL || r->c->err)
		return conn_failed(r, "cannot connect", e);
	if (redisSetTimeout(r->c, tv) != REDIS_OK)
		return conn_failed(r, "cannot set timeouts", e);
	/* AUTH and SELECT go out in one round trip. */
	int ncmd = 0;
	char dbs[16];
	if (r->url.password[0]) {
		const char *argv[3] = {"AUTH", r->url.user, r->url.password};
		size_t lens[3] = {4, strlen(r->url.user), strlen(r->url.password)};
		if (r->url.user[0])
			redisAppendCommandArgv(r->c, 3, argv, lens);
		else {
			argv[1] = r->url.password;
			lens[1] = lens[2];
			redisAppendCommandArgv(r->c, 2, argv, lens);
		}
		ncmd++;
	}
	if (r->url.db != 0) {
		snprintf(dbs, sizeof dbs, "%d", r->url.db);
		const char *argv[2] = {"SELECT", dbs};
		size_t lens[2] = {6, strlen(dbs)};
		redisAppendCommandArgv(r->c, 2, argv, lens);
		ncmd++;
	}
	char refused[256] = "";
	bool retry = false;
	for (int i = 0; i < ncmd; i++) {
		redisReply *rep = NULL;
		if (redisGetReply(r->c, (void **)&rep) != REDIS_OK)
			return conn_failed(r, "connection lost during AUTH/SELECT", e);
		if (rep->type == REDIS_REPLY_ERROR && refused[0] == '\0') {
			snprintf(refused, sizeof refused, "%s", rep->str);
			retry = reply_retryable(rep->str);
		}
		freeReplyObject(rep);
	}
	if (ncmd > 0)
		r->st.round_trips++;
	if (refused[0]) {
		drop_connection(r);
		err_set(e, retry ? EXIT_TEMPFAIL : EXIT_CONFIG, "Redis at %s refused AUTH/SELECT: %s", r->where,
			refused);
		e->retryable = retry;
		return -1;
	}
	r->st.connects++;
	return 0;
}

int inval_redis_check(struct inval_redis *r, struct err *e)
{
	if (inval_redis_connect(r, e) != 0)
		return -1;
	redisReply *rep = redisCommand(r->c, "PING");
	if (rep == NULL)
		return conn_failed(r, "connection lost during PING", e);
	r->st.round_trips++;
	int rc = 0;
	if (rep->type == REDIS_REPLY_ERROR) {
		bool retry = reply_retryable(rep->str);
		err_set(e, retry ? EXIT_TEMPFAIL : EXIT_CONFIG, "Redis at %s refused PING: %s", r->where, rep->str);
		e->retryable = retry;
		rc = -1;
	}
	freeReplyObject(rep);
	if (rc != 0)
		drop_connection(r);
	return rc;
}

/* Walks the commands of one send: UNLINK groups, INCRs, PUBLISH groups. */
struct send_cursor {
	int phase;  /* 0 unlink, 1 incr, 2 publish, 3 done */
	uint32_t i; /* next key index in the set */
};

/* Appends the next command to the pipeline; returns its kind, or -1 when
 * there are no more commands, -2 when hiredis failed (out of memory). */
static int append_next(struct inval_redis *r, const struct inval_keyset *ks, struct send_cursor *cur)
{
	uint32_t n = inval_keyset_count(ks);
	for (;;) {
		if (cur->phase == 3)
			return -1;
		if (cur->i >= n || (cur->phase == 2 && r->channel == NULL)) {
			cur->phase++;
			cur->i = 0;
			continue;
		}
		size_t len;
		enum inval_kind kind;
		if (cur->phase == 0) {
			int argc = 1;
			r->argv[0] = "UNLINK";
			r->argvlen[0] = 6;
			for (; cur->i < n && argc <= (int)INVAL_KEYS_PER_COMMAND; cur->i++) {
				const char *k = inval_keyset_key(ks, cur->i, &len, &kind);
				if (kind != INVAL_UNLINK)
					continue;
				r->argv[argc] = k;
				r->argvlen[argc++] = len;
			}
			if (argc == 1)
				continue;
			r->st.keys_sent += (uint64_t)(argc - 1);
			return append_resp(r, argc, r->argv, r->argvlen) == REDIS_OK ? CMD_UNLINK : -2;
		}
		if (cur->phase == 1) {
			const char *k = inval_keyset_key(ks, cur->i++, &len, &kind);
			if (kind != INVAL_BUMP)
				continue;
			r->argv[0] = "INCR";
			r->argvlen[0] = 4;
			r->argv[1] = k;
			r->argvlen[1] = len;
			r->st.bumps++;
			return append_resp(r, 2, r->argv, r->argvlen) == REDIS_OK ? CMD_INCR : -2;
		}
		r->msg.len = 0;
		for (uint32_t j = 0; cur->i < n && j < INVAL_KEYS_PER_COMMAND; cur->i++, j++) {
			const char *k = inval_keyset_key(ks, cur->i, &len, NULL);
			if (j > 0)
				buf_putc(&r->msg, '\n');
			buf_put(&r->msg, k, len);
		}
		r->argv[0] = "PUBLISH";
		r->argvlen[0] = 7;
		r->argv[1] = r->channel;
		r->argvlen[1] = strlen(r->channel);
		r->argv[2] = r->msg.data;
		r->argvlen[2] = r->msg.len;
		r->st.messages++;
		return append_resp(r, 3, r->argv, r->argvlen) == REDIS_OK ? CMD_PUBLISH : -2;
	}
}

/* Reads the replies of the window in flight. */
static int read_window(struct inval_redis *r, struct err *e)
{
	for (uint32_t i = 0; i < r->inflight; i++) {
		redisReply *rep = NULL;
		if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
			r->inflight = 0;
			r->st.failures++;
			return conn_failed(r, "connection lost", e);
		}
		enum cmd_kind kind = r->kinds[i];
		if (rep->type == REDIS_REPLY_ERROR) {
			if (r->refused[0] == '\0') {
				snprintf(r->refused, sizeof r->refused, "%s: %s",
					 kind == CMD_UNLINK ? "UNLINK"
					 : kind == CMD_INCR ? "INCR"
							    : "PUBLISH",
					 rep->str);
				r->refused_retry = reply_retryable(rep->str);
			}
		} else if (kind == CMD_UNLINK && rep->type == REDIS_REPLY_INTEGER) {
			r->removed += rep->integer;
		}
		freeReplyObject(rep);
	}
	r->inflight = 0;
	r->st.round_trips++;
	return 0;
}

int inval_redis_send_begin(struct inval_redis *r, const struct inval_keyset *ks, struct err *e)
{
	ASSERT(r->inflight == 0);
	r->removed = 0;
	r->refused[0] = '\0';
	r->refused_retry = false;
	r->sending = false;
	if (inval_keyset_count(ks) == 0)
		return 0;
	if (inval_redis_connect(r, e) != 0) {
		r->st.failures++;
		return -1;
	}
	struct send_cursor cur = {0, 0};
	for (bool more = true; more;) {
		uint32_t ncmd = 0;
		while (ncmd < INVAL_PIPELINE_COMMANDS_MAX) {
			int k = append_next(r, ks, &cur);
			if (k == -1) {
				more = false;
				break;
			}
			if (k == -2) {
				r->st.failures++;
				return conn_failed(r, "cannot queue a command", e);
			}
			r->kinds[ncmd++] = (enum cmd_kind)k;
		}
		if (ncmd == 0)
			break;
		r->inflight = ncmd;
		if (more) {
			/* A full window is not the last: its replies are read now,
			 * bounding what is queued at once. */
			if (read_window(r, e) < 0)
				return -1;
			continue;
		}
		/* The last window is written and left in flight. */
		int done = 0;
		while (!done) {
			if (redisBufferWrite(r->c, &done) != REDIS_OK) {
				r->inflight = 0;
				r->st.failures++;
				return conn_failed(r, "connection lost", e);
			}
		}
	}
	r->sending = true;
	return 0;
}

int64_t inval_redis_send_end(struct inval_redis *r, struct err *e)
{
	if (!r->sending)
		return 0;
	r->sending = false;
	if (r->inflight > 0 && read_window(r, e) < 0)
		return -1;
	if (r->refused[0]) {
		r->st.failures++;
		err_set(e, EXIT_TEMPFAIL, "Redis at %s refused %s", r->where, r->refused);
		e->retryable = r->refused_retry;
		return -1;
	}
	r->st.keys_removed += (uint64_t)r->removed;
	return r->removed;
}

bool inval_redis_sending(const struct inval_redis *r)
{
	return r->sending;
}

int64_t inval_redis_send(struct inval_redis *r, const struct inval_keyset *ks, struct err *e)
{
	if (inval_redis_send_begin(r, ks, e) < 0)
		return -1;
	return inval_redis_send_end(r, e);
}
