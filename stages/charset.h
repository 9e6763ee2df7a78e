/* charset.h - the input encodings COPY's ENCODING option names, as PostgreSQL names them, and input in a single-byte one converted to UTF-8 the way the server converts it. */
#ifndef EDONU_CHARSET_H
#define EDONU_CHARSET_H

#include <stddef.h>

/* A single-byte encoding ready to convert: a table of the UTF-8 of each
 * byte, built once at start-up and read-only after (workers share it). */
struct charset;

/* What charset_open found. */
enum charset_status {
	CHARSET_OK = 0,
	CHARSET_UNKNOWN = -1,      /* PostgreSQL knows no encoding of that name */
	CHARSET_UNSUPPORTED = -2,  /* PostgreSQL's, but not one this loader converts */
	CHARSET_NO_CONVERTER = -3, /* the C library (iconv) has no converter for it */
};

/* Resolves name as PostgreSQL's pg_char_to_encoding does (only letters and
 * digits count, in any case: "latin1", "ISO-8859-1", "windows-1252" and
 * "WIN1252" are all accepted) and prepares its conversion. UTF8 (and its
 * alias UNICODE) needs none: *cs is set to NULL. A single-byte encoding gets
 * a new charset in *cs (charset_free releases it). Other encodings are
 * refused: SQL_ASCII (the server neither converts nor checks it, so it would
 * store bytes that are not UTF-8) and the multi-byte ones other than UTF8.
 * Returns CHARSET_OK, or another status with a one-line reason in msg that
 * names the encodings supported. */
enum charset_status charset_open(const char *name, struct charset **cs, char *msg, size_t msgsz);
void charset_free(struct charset *cs);

/* PostgreSQL's name of the encoding ("WIN1252"); "UTF8" for NULL. */
const char *charset_name(const struct charset *cs);

/* The number of bytes src[0..len) takes in UTF-8; or -1 with PostgreSQL's
 * message in msg for its first byte that is a NUL (the server's 22021,
 * invalid byte sequence for encoding "LATIN1": 0x00) or that has no
 * character in the encoding (22P05, character with byte sequence 0x81 in
 * encoding "WIN1252" has no equivalent in encoding "UTF8"). */
long charset_utf8_len(const struct charset *cs, const char *src, size_t len, char *msg, size_t msgsz);

/* Writes the UTF-8 of src[0..len), which charset_utf8_len accepted, to dst
 * (room for as many bytes as it said); returns the bytes written. */
size_t charset_to_utf8(const struct charset *cs, const char *src, size_t len, char *dst);

/* The encodings charset_open accepts, for messages and --help. */
extern const char charset_supported[];

#endif
