/* encode.h - field values to PostgreSQL binary COPY, matching the server's input functions exactly. */
#ifndef EDONU_ENCODE_H
#define EDONU_ENCODE_H

#include "../core/buf.h"
#include "../core/table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum enc_status {
	ENC_OK = 0,     /* the field was appended to out */
	ENC_DEFER = 1,  /* not certain (unusual form, zone name): let the server decide via text COPY; out unchanged */
	ENC_REJECT = 2, /* the server would refuse it: msg holds PostgreSQL's message; out unchanged */
};

/* Maps a type OID (and typmod) to its encoder; ENC_NONE when there is none. */
enum enc_kind encode_kind_for(uint32_t type_oid);

/* Appends one non-NULL field in binary COPY form (int32 length, then the
 * bytes the type's receive function reads) for value p[0..len), text as
 * COPY text/csv input would present it. On ENC_DEFER or ENC_REJECT out is
 * left as it was. The message follows PostgreSQL's wording, e.g.
 *   invalid input syntax for type integer: "12x"
 *   value "99999999999" is out of range for type integer
 *   numeric field overflow
 *   value too long for type character varying(5) */
enum enc_status encode_binary(const struct enc_column *col, const struct enc_session *s, const char *p, size_t len,
			      struct buf *out, char *msg, size_t msgsz);

/* PostgreSQL's boolin: surrounding white space trimmed, then a unique
 * prefix of true/false/yes/no (any case), on/off (two letters at least), 1
 * or 0. Returns 1, 0, or -1 when the server would refuse it. */
int encode_parse_bool(const char *p, size_t len);

/* Binary COPY framing. */
void encode_copy_header(struct buf *out);             /* PGCOPY signature, flags, extension length */
void encode_copy_trailer(struct buf *out);            /* int16 -1 */
void encode_tuple_begin(struct buf *out, uint16_t n); /* int16 field count */
void encode_null(struct buf *out);                    /* int32 -1 */
void encode_int4(struct buf *out, int32_t v);         /* an int4 field: length 4, value */

/* Validates JSON text exactly as PostgreSQL 15's json lexer and parser do
 * (jsonb: also \u0000 and unpaired surrogates are refused, as jsonb_in does).
 * ENC_OK: valid; ENC_REJECT: invalid, msg holds the server's message;
 * ENC_DEFER: cannot be decided here (nesting deeper than we check, or for
 * jsonb a number whose magnitude numeric_in might refuse). */
enum enc_status json_validate(const char *p, size_t len, bool jsonb, char *msg, size_t msgsz);

/* Per-type encoders behind encode_binary, exposed for the tests and for
 * callers that already know the type. Each appends one whole field (int32
 * length and payload) on ENC_OK and leaves out unchanged otherwise. typmod
 * is pg_attribute.atttypmod (-1: none). */
enum enc_status encode_numeric(const char *p, size_t len, int32_t typmod, struct buf *out, char *msg, size_t msgsz);
enum enc_status encode_date(const char *p, size_t len, struct buf *out, char *msg, size_t msgsz);
enum enc_status encode_timestamp(const char *p, size_t len, int32_t typmod, bool with_tz, bool tz_utc, struct buf *out,
				 char *msg, size_t msgsz);
enum enc_status encode_json(const char *p, size_t len, bool jsonb, struct buf *out, char *msg, size_t msgsz);

/* Writes PostgreSQL's message for a refused value into msg (printf-style;
 * truncated to msgsz). Used by all encoders so wording stays in one place. */
void encode_set_msg(char *msg, size_t msgsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
