/* log.c - event lines on stderr; each line is formatted whole, then written with one call. */
#include "log.h"

#include "../core/buf.h"
#include "../core/escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *level_name(enum log_level l)
{
	switch (l) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_WARN: return "warn";
	default: return "error";
	}
}

/* logfmt values are quoted when they hold anything but printable ASCII
 * other than quotes, '=' and '\\'; quoted, nothing a terminal acts on is
 * left raw (messages quote the input: a header's escape sequence). */
static void put_logfmt_value(struct buf *b, const char *s, size_t n)
{
	bool plain = n > 0;
	for (size_t i = 0; i < n && plain; i++)
		plain = s[i] > ' ' && s[i] < 0x7f && s[i] != '"' && s[i] != '=' && s[i] != '\\';
	if (plain) {
		buf_put(b, s, n);
		return;
	}
	escape_json(b, s, n);
}

void log_event(enum log_format format, enum log_level level, const char *event, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t msg_len = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;

	char ts[40];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	size_t tl = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + tl, sizeof ts - tl, ".%03ldZ", now.tv_nsec / 1000000L);

	struct buf b;
	if (buf_init(&b, 256 + msg_len * 2) < 0)
		return;
	const char *lv = level_name(level);
	if (format == LOG_JSON) {
		buf_put(&b, "{\"ts\":\"", 7);
		buf_put(&b, ts, strlen(ts));
		buf_put(&b, "\",\"level\":\"", 11);
		buf_put(&b, lv, strlen(lv));
		buf_put(&b, "\",\"event\":", 10);
		escape_json(&b, event, strlen(event));
		buf_put(&b, ",\"msg\":", 7);
		escape_json(&b, msg, msg_len);
		buf_put(&b, "}\n", 2);
	} else {
		buf_put(&b, "ts=", 3);
		buf_put(&b, ts, strlen(ts));
		buf_put(&b, " level=", 7);
		buf_put(&b, lv, strlen(lv));
		buf_put(&b, " event=", 7);
		put_logfmt_value(&b, event, strlen(event));
		buf_put(&b, " msg=", 5);
		put_logfmt_value(&b, msg, msg_len);
		buf_putc(&b, '\n');
	}
	ssize_t w = write(STDERR_FILENO, b.data, b.len);
	(void)w;
	buf_free(&b);
}
