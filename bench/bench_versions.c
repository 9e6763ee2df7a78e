/* bench_versions.c - the versions of the servers the bench measured against, for its report. */
#include "bench_suite.h"

#include "../stages/invalidate.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

/* A short wait: the server answered the loads a moment ago. */
#define VERSION_TIMEOUT_MS 2000

/* AUTH when the URL has a password; true when that went well or was not needed. */
static bool redis_auth(redisContext *c, const struct inval_redis_url *u)
{
	if (u->password[0] == '\0')
		return true;
	redisReply *r =
	    u->user[0] ? redisCommand(c, "AUTH %s %s", u->user, u->password) : redisCommand(c, "AUTH %s", u->password);
	bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
	if (r != NULL)
		freeReplyObject(r);
	return ok;
}

int bench_redis_version(const char *url, char *out, size_t cap)
{
	struct inval_redis_url u;
	struct err e;
	if (inval_redis_parse_url(url, &u, &e) < 0)
		return -1;
	struct timeval tv = {VERSION_TIMEOUT_MS / 1000, (VERSION_TIMEOUT_MS % 1000) * 1000};
	redisContext *c =
	    u.unix_socket ? redisConnectUnixWithTimeout(u.host, tv) : redisConnectWithTimeout(u.host, u.port, tv);
	if (c == NULL)
		return -1;
	int rc = -1;
	redisReply *r = NULL;
	if (c->err == 0 && redisSetTimeout(c, tv) == REDIS_OK && redis_auth(c, &u))
		r = redisCommand(c, "INFO server");
	if (r != NULL && r->type == REDIS_REPLY_STRING) {
		const char *v = strstr(r->str, "redis_version:");
		if (v != NULL) {
			v += strlen("redis_version:");
			snprintf(out, cap, "%.*s", (int)strcspn(v, "\r\n"), v);
			rc = 0;
		}
	}
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return rc;
}
