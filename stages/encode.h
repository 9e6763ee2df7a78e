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

/* encode_binary for a value sent from where it lies: for the types whose
 * binary form is a header and then the value's own bytes (text, varchar(n),
 * json, jsonb), appends the header only and sets *tail to the bytes of p
 * that follow it in the field (the first *tail; varchar(n) may keep fewer
 * than len). For the other types the whole field is appended, as
 * encode_binary does, and *tail is 0. The checks and messages are
 * encode_binary's. */
enum enc_status encode_binary_head(const struct enc_column *col, const struct enc_session *s, const char *p, size_t len,
				   struct buf *out, size_t *tail, char *msg, size_t msgsz);

/* ------------------------------------------------------------------ input rules
 * The reading halves of the encoders: PostgreSQL's input rules, each written
 * once, for the encoders and for key rendering (stages/key_template.c),
 * which prints the same values in their text form. */

/* PostgreSQL's boolin: surrounding white space trimmed, then a unique
 * prefix of true/false/yes/no (any case), on/off (two letters at least), 1
 * or 0. Returns 1, 0, or -1 when the server would refuse it. */
int encode_parse_bool(const char *p, size_t len);

/* pg_strtoint16/32/64's reading: white space, an optional sign, decimal
 * digits, white space. Returns 0 with *neg and *magnitude set; -1 when the
 * text is not an integer; -2 when its magnitude exceeds magnitude_max, which
 * is found while the digits are read, before any trailing junk
 * ("99999999999x" is out of range for integer, as the server says). */
int encode_read_int(const char *p, size_t len, uint64_t magnitude_max, bool *neg, uint64_t *magnitude);

/* string_to_uuid: 32 hex digits, optionally in braces, with at most one
 * hyphen after any group of four digits (not after the last); no white
 * space. Returns 0 with the 16 bytes in u, or -1 when the server would
 * refuse the text. */
int encode_parse_uuid(const char *p, size_t len, unsigned char u[16]);

/* The length rule of varchar(n) and char(n) input (varchar_input,
 * bpchar_input) for valid UTF-8: a value of more than maxchars characters
 * keeps its first maxchars when the rest is spaces, else the server refuses
 * it. Returns 0 with *kept (the bytes kept: all of len when the value is not
 * longer) and *nchars (the characters in them), or -1 when refused. */
int encode_clip_string(const char *p, size_t len, size_t maxchars, size_t *kept, size_t *nchars);

/* A date in the forms the encoder decides ([ws] YYYY-M[M]-D[D] [ws] with a
 * four-digit year, infinity, -infinity; see encode_datetime.c): ENC_OK with
 * d set; ENC_DEFER for every other form date_in may accept (they depend on
 * DateStyle or the clock); ENC_REJECT with the server's message for a date
 * that does not exist. */
struct enc_date {
	int special; /* +1 infinity, -1 -infinity, 0 a date */
	int year, mon, mday;
};
enum enc_status encode_parse_date(const char *p, size_t len, struct enc_date *d, char *msg, size_t msgsz);

/* numeric_in's reading of the text, before any rounding: a special value,
 * or the sign, the digits before and after the point (spans of the input)
 * and the exponent. */
enum enc_numeric_special {
	ENC_NUMERIC_NUMBER = 0,
	ENC_NUMERIC_NAN,
	ENC_NUMERIC_PINF,
	ENC_NUMERIC_NINF,
};
struct enc_numeric_text {
	enum enc_numeric_special special;
	bool neg;
	const char *int_digits, *frac_digits;
	size_t int_len, frac_len; /* int_len + frac_len >= 1 */
	long exponent;            /* |exponent| < INT_MAX / 2 */
};
/* ENC_OK with nt set; ENC_REJECT with the server's message for text that is
 * not a number or an exponent it refuses; ENC_DEFER for white space after
 * the 'e' (the server's strtol would skip it). */
enum enc_status encode_read_numeric(const char *p, size_t len, struct enc_numeric_text *nt, char *msg, size_t msgsz);

/* The scale of a numeric(p,s) typmod: an 11-bit signed field (PostgreSQL 15
 * allows negative scales: numeric(5,-2) rounds to hundreds). */
static inline int encode_numeric_typmod_scale(int32_t typmod)
{
	return (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;
}

/* Binary COPY framing. */
void encode_copy_header(struct buf *out);  /* PGCOPY signature, flags, extension length */
void encode_copy_trailer(struct buf *out); /* int16 -1 */
/* int16 field count; inline, as the codec writes one per record. */
static inline void encode_tuple_begin(struct buf *out, uint16_t n)
{
	buf_put_be16(out, n);
}
/* int32 -1; inline, as the codec writes one per NULL field. */
static inline void encode_null(struct buf *out)
{
	buf_put_be32(out, 0xffffffffu);
}
void encode_int4(struct buf *out, int32_t v); /* an int4 field: length 4, value */

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
