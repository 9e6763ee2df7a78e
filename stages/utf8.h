/* utf8.h - UTF-8 validation as PostgreSQL's pg_verify_mbstr does it for server_encoding UTF8. */
#ifndef EDONU_UTF8_H
#define EDONU_UTF8_H

#include <stddef.h>

/* Returns len when p[0..len) is valid UTF-8 without NUL bytes, else the offset
 * of the first invalid byte. Fast path for ASCII. */
size_t utf8_valid_prefix(const char *p, size_t len);

/* Writes PostgreSQL's message for the invalid sequence at p (as returned by
 * utf8_valid_prefix): invalid byte sequence for encoding "UTF8": 0xc3 0x28 */
void utf8_error_message(const char *p, size_t avail, char *msg, size_t msgsz);

#endif
