/* log.h - one line per event on stderr, logfmt or JSON. */
#ifndef EDONU_LOG_H
#define EDONU_LOG_H

#include "options.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_format(enum log_format f);

/* Writes `ts=... level=... event=EVENT msg="..."` (or the JSON object with
 * the same keys) as one write(2), so lines from several threads never mix. */
void log_event(enum log_level level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
