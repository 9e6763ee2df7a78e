/* secret.h - passwords kept out of messages: libpq repeats parts of a connection string (a
 * malformed URI whole, a bad token of it) in its errors, and those errors reach logs and
 * summaries. */
#ifndef EDONU_SECRET_H
#define EDONU_SECRET_H

#include <stddef.h>

/* Copies msg to out (outsz bytes, always terminated) with the passwords of
 * the connection string dsn (key=value or URI; NULL: none) masked as "***":
 * every double-quoted token of msg (libpq quotes what it repeats) that
 * repeats a part of dsn has the bytes of that part that belong to a
 * password masked, or is masked whole when it is a password as libpq
 * decodes it (%XX, backslash escapes); and every occurrence of a password
 * of 4 bytes or more anywhere in msg, as written and as decoded, is masked
 * (a shorter one would mask letters of every word). A URI's password
 * is taken generously: everything between the first ':' after "://" and
 * the last '@', so that a password holding '/' or '@' (which libpq reads
 * as host, port or database) is masked too, and every password=
 * parameter of its query. */
void secret_mask_dsn(const char *dsn, const char *msg, char *out, size_t outsz);

#endif
