/* replay.h - a rejects file read back: its raw records, grouped by the header they came with, as files to load. */
#ifndef EDONU_REPLAY_H
#define EDONU_REPLAY_H

#include "../core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Groups held at once: each is an open memfd, and a rejects file mixes the
 * headers of few sources. 256 stays far below the usual limit of 1024 open
 * files, which the loader's connections and files also use. */
#define REPLAY_GROUPS_MAX         256u
/* Lines that are not replayed are all counted; the first this many are
 * listed, enough for a message that names them. */
#define REPLAY_SKIPPED_LISTED_MAX 100u
/* The rejects file is read in blocks of this size, line by line: reading
 * needs this and a few buffers of the longest line (REJECT_LINE_BYTES_MAX),
 * whatever the file's size; the memfds hold the records (see replay_open). */
#define REPLAY_READ_BYTES         ((size_t)256 << 10)

/* How the loader will frame the replayed records. When read, each raw record
 * was framed from a record start to its end-of-line or to the end of its
 * source; in a replay file others follow it. A record that ends inside a
 * quoted field (CSV) or after an unpaired backslash (text) would run into the
 * next one (its source ended in the middle of it), so it ends its group (see
 * struct replay_group). A record holding a CR outside quotes (not escaped, in
 * text) is not replayed (REPLAY_SKIP_CR): COPY refuses it in any table, and
 * as the first line of a file without header it would make the framer take
 * CR as the end-of-line of the whole file, cut itself into records that might
 * load, and refuse every LF after it. */
enum replay_format {
	REPLAY_LINES = 0, /* NDJSON: a record is a line, nothing runs on */
	REPLAY_CSV,
	REPLAY_TEXT,
};
struct replay_framing {
	enum replay_format format;
	char quote;  /* csv; 0: '"' */
	char escape; /* csv; 0 or equal to quote: a quote toggles, as in PostgreSQL */
};

/* The records to load as one source: in a memfd (rewound, sealed against
 * writes), the header line and "\n" when header is not NULL, then each raw
 * record and "\n", byte for byte as the rejects file recorded them, in the
 * order of its lines. Records with the same header value (or none) share a
 * group in order of first appearance, except that a group ends after a
 * record that must end its file (struct replay_framing); the next record
 * with that header then opens a new group after it. Loading the groups in
 * array order thus keeps the file's order within each header. */
struct replay_group {
	char *header; /* NUL-terminated for messages; may hold NULs of its own */
	size_t header_len;
	int fd; /* owned: set to -1 to keep it past replay_close */
	uint64_t records;
	uint64_t bytes;      /* the memfd's size */
	uint64_t first_line; /* the rejects file's line of the group's first record */
};

/* Why a line is not replayed. */
enum replay_skip_why {
	REPLAY_SKIP_CUT = 1, /* "raw_truncated" or "header_truncated": the record is not whole */
	REPLAY_SKIP_CR,      /* a CR outside quotes (struct replay_framing) */
};

struct replay_skip {
	enum replay_skip_why why;
	char *source; /* NULL when the line named none */
	uint64_t record;
	uint64_t line; /* in the rejects file */
};

struct replay {
	struct replay_group *groups;
	uint32_t ngroups;
	uint64_t records;            /* replayed records, all groups */
	uint64_t skipped_cut;        /* lines not replayed: REPLAY_SKIP_CUT */
	uint64_t skipped_cr;         /* lines not replayed: REPLAY_SKIP_CR */
	struct replay_skip *skipped; /* the first REPLAY_SKIPPED_LISTED_MAX of both, in file order */
	uint32_t nskipped;
};

/* Reads the rejects file at path into r (zeroed first), streaming it line by
 * line; framing NULL means REPLAY_LINES. Lines of white space only are passed
 * over. Every other line must be one JSON object with a string "raw";
 * "header" (a string, or null for none), "source" (string or null), "record"
 * (a whole number >= 0) and the flags raw_invalid_utf8, raw_truncated,
 * header_invalid_utf8 and header_truncated (booleans) are read when present,
 * other keys are checked as JSON and ignored; keys come in any order, and a
 * later duplicate wins. String escapes are undone, surrogate pairs included;
 * when a string's *_invalid_utf8 flag is true, its \u0080..\u00ff escapes are
 * single bytes (the writer escapes only bytes that are not UTF-8 so), else
 * characters. Cost: the replayed records are held in the memfds, in memory
 * (swappable): about the size of the rejects file less its escapes and other
 * keys. Returns 0, or -1 with e and r empty: EXIT_NOINPUT when the file cannot
 * be opened or read, EXIT_DATAERR when a line is not as above (the message
 * names the file, the line and the byte) or the file needs more than
 * REPLAY_GROUPS_MAX groups, EXIT_SOFTWARE when a memfd cannot be made or
 * written. */
int replay_open(const char *path, const struct replay_framing *framing, struct replay *r, struct err *e);

/* Why, in words for a message: "record 12 of a.csv: cut short in the rejects file". */
const char *replay_skip_reason(enum replay_skip_why why);

/* Closes the groups' fds (those not set to -1) and frees all of r; r is left
 * empty, so a second call does nothing. */
void replay_close(struct replay *r);

#endif
