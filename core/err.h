/* err.h - error values carried to the caller: an exit-code class and one line of text. */
#ifndef EDONU_ERR_H
#define EDONU_ERR_H

#include <stdbool.h>

/* Exit codes, sysexits.h values (see the README's table). */
enum exit_code {
	EXIT_OK = 0,
	EXIT_USAGE = 64,       /* bad command line */
	EXIT_DATAERR = 65,     /* finished but records were rejected, or past --max-rejects */
	EXIT_NOINPUT = 66,     /* input missing or unreadable */
	EXIT_UNAVAILABLE = 69, /* PostgreSQL unavailable after retries */
	EXIT_SOFTWARE = 70,    /* internal error */
	EXIT_TEMPFAIL = 75,    /* interrupted, lock held, invalidations pending: rerun */
	EXIT_CONFIG = 78,      /* unknown table or column, bad template, bad config */
};

#define ERR_MSG_BYTES 1024

/* What failed and where. code is an enum exit_code; retryable marks errors
 * that a retry of the same operation may cure (lost connection, deadlock). */
struct err {
	int code;
	bool retryable;
	char msg[ERR_MSG_BYTES];
};

/* Sets e (when not NULL) and returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void err_clear(struct err *e);

/* Programmer errors: always checked, also in release builds. */
#define ASSERT(cond)                                            \
	do {                                                    \
		if (!(cond))                                    \
			assert_fail(#cond, __FILE__, __LINE__); \
	} while (0)
_Noreturn void assert_fail(const char *what, const char *file, int line);

#endif
