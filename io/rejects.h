/* rejects.h - the rejects file: one NDJSON object per rejected record, shared by all workers. */
#ifndef EDONU_REJECTS_H
#define EDONU_REJECTS_H

#include "../core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rejects;

/* What one line says. Strings may be NULL (the key is then omitted, except
 * message). raw is the record as read, end-of-line stripped. header is the
 * source's header line as read, end-of-line stripped, or NULL when the
 * source had none: --from-rejects maps a record's fields with it. */
struct reject {
	const char *source; /* file name or "-" */
	uint64_t record;    /* 1-based record number, header excluded */
	uint64_t line;      /* 1-based physical line where the record starts */
	uint64_t byte_offset;
	const char *column;   /* column name when one is to blame */
	const char *sqlstate; /* when the server said it */
	const char *message;
	const char *raw;
	size_t raw_len;
	const char *header;
	size_t header_len;
};

/* Opens path for appending, once: a new file is created 0600 (rejects hold
 * raw records), an existing one keeps its mode, a device or FIFO is written
 * through, and a symbolic link at path is refused. A regular file whose
 * last line was cut off (a writer killed in the middle of a write) loses
 * that fragment, so that appended lines stand on lines of their own. path
 * NULL: rejects are counted by the caller but written nowhere. NULL with e
 * (EXIT_CONFIG for a path that cannot be opened or is a link) on failure. */
struct rejects *rejects_open(const char *path, struct err *e);

/* Writes one line; safe to call from several threads (a mutex serialises
 * lines; rejects are off the hot path). Keys, in this order: source, record,
 * line, byte_offset, column, sqlstate, message, raw, raw_invalid_utf8,
 * raw_truncated, header, header_invalid_utf8, header_truncated. raw is cut at
 * REJECT_RAW_BYTES_MAX (back to a character boundary) and "raw_truncated":true
 * is then added; invalid UTF-8 bytes in raw are written as \u00XX escapes of
 * the byte value and "raw_invalid_utf8":true is added. header follows the same
 * rules with REJECT_HEADER_BYTES_MAX and its own two flags. Valid UTF-8 is
 * written as is and control characters as \u00XX (below \u0020), so a
 * \u0080..\u00ff escape always stands for one byte that is not UTF-8. Lines
 * are buffered and written in blocks of 64 KiB and at close. Returns 0 or -1
 * (e set). */
int rejects_write(struct rejects *r, const struct reject *rej, struct err *e);

/* Whether lines go to a file (a path was given). */
bool rejects_enabled(const struct rejects *r);

/* Flushes what is buffered and makes the file durable (fdatasync; a device
 * or pipe that cannot sync is taken as it is). -1 with e when a write since
 * the open or this sync failed: lines may be missing. */
int rejects_sync(struct rejects *r, struct err *e);

/* The record numbers of source's lines already in the file (as this run
 * opened it), sorted ascending, in *records (malloc'd, *n of them; NULL
 * when none). Reads the file from its start: meant for a rerun that must
 * not write a line twice. A file that is not a regular one holds none. */
int rejects_recorded(const struct rejects *r, const char *source, uint64_t **records, size_t *n, struct err *e);

/* Flushes and closes; returns -1 (e set) when the data did not reach the file. */
int rejects_close(struct rejects *r, struct err *e);

/* The rejects file's JSON string escaping (invalid UTF-8 bytes as \u00XX): appends "..." */
struct buf;
void json_put_string(struct buf *out, const char *p, size_t len);

#endif
