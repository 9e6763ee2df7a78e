/* err.c - error values and always-on assertions. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
	if (e == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	e->code = code;
	e->retryable = false;
	return -1;
}

void err_clear(struct err *e)
{
	e->code = 0;
	e->retryable = false;
	e->msg[0] = '\0';
}

_Noreturn void assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "edonu-ingest: internal error: assertion %s failed at %s:%d\n", what, file, line);
	abort();
}
