/* log.h - one line per event on stderr, logfmt or JSON. */
#ifndef EDONU_LOG_H
#define EDONU_LOG_H

#include "options.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Writes `ts=... level=... event=EVENT msg="..."` (format LOG_TEXT) or the
 * JSON object with the same keys (LOG_JSON) as one write(2), so lines from
 * several threads never mix. The format is the caller's (--log-format, in
 * its options): the log keeps no state of its own. */
void log_event(enum log_format format, enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
