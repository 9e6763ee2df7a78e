/* reject_reason.h - why a record was refused, as a short stable key for counting (the summary's
 * rejects_by_reason), and a bounded tally of those keys. */
#ifndef EDONU_REJECT_REASON_H
#define EDONU_REJECT_REASON_H

#include "../core/limits.h"

#include <stdint.h>

/* The keys that are not SQLSTATEs: what the loader finds in a record's shape
 * before any value is read. The server calls all of them 22P04
 * (bad_copy_file_format), which would not tell a wrong delimiter from a
 * broken quote. */
#define REJECT_REASON_TOO_MANY_COLUMNS "too many columns"
#define REJECT_REASON_TOO_FEW_COLUMNS  "too few columns"
#define REJECT_REASON_MALFORMED        "malformed record"
#define REJECT_REASON_TOO_LONG         "record too long"
/* A message no rule below knows: never given by this version's parsers and
 * encoders (tests/unit/test_reject_reason.c checks each of them). */
#define REJECT_REASON_OTHER            "other"

/* The key of one refusal. sqlstate, when the server gave one, is the key.
 * Otherwise the loader found it first, and message is PostgreSQL's wording
 * for it: a value's refusal gets the SQLSTATE the server gives that message
 * (22P02 for "invalid input syntax for type ...", 22003 out of range, ...),
 * so that a value counts under the same key whichever side refused it; a
 * record's shape gets one of the words above. The string is sqlstate
 * itself or static. */
const char *reject_reason(const char *sqlstate, const char *message);

/* Counts per key, for a worker's committed chunks and for a summary.
 * Bounded: past REJECT_REASONS_MAX - 1 distinct keys the rest count as
 * REJECT_REASON_OTHER. Filled by one thread at a time. */
struct reject_tally {
	uint32_t n;
	struct reject_count {
		char key[REJECT_REASON_BYTES];
		uint64_t count;
	} e[REJECT_REASONS_MAX];
};

void reject_tally_add(struct reject_tally *t, const char *key, uint64_t count);
/* Adds every count of from into into. */
void reject_tally_merge(struct reject_tally *into, const struct reject_tally *from);
/* Orders the entries by key (byte order), so that printed tallies compare. */
void reject_tally_sort(struct reject_tally *t);

#endif
