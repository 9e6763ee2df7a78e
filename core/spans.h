/* spans.h - where in its input each committed chunk of a source lies (records and bytes): what a resumed load skips, and where its chunks must close. */
#ifndef EDONU_SPANS_H
#define EDONU_SPANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records first..last (1-based, header excluded, inclusive) of the input,
 * which begin at byte byte_first and end just before byte_end of the
 * (decompressed) input. */
struct span {
	uint64_t first;
	uint64_t last;
	uint64_t byte_first;
	uint64_t byte_end;
};

/* A set of spans. After spans_merge they are sorted and disjoint, and
 * spans that touch (one ends at record k, the next begins at k + 1) are
 * one: chunks of one run are then a single span of the records they hold
 * together. An empty set is all zeros. */
struct spans {
	struct span *v;
	uint32_t n;
	uint32_t cap;
};

/* Adds the records [first_record, first_record + nrecords) with their byte
 * range; nrecords 0 adds nothing. -1 on ENOMEM (the set is unchanged). */
int spans_add(struct spans *s, uint64_t first_record, uint64_t nrecords, uint64_t byte_offset, uint64_t byte_end);
/* Sorts the spans and joins those that overlap or touch. O(n log n). */
void spans_merge(struct spans *s);
void spans_free(struct spans *s);

/* How much of the records [first, first + n) a merged set covers. */
enum spans_cover {
	SPANS_NONE = 0, /* none of them */
	SPANS_ALL,      /* every one */
	SPANS_PART,     /* some but not all */
};
enum spans_cover spans_cover(const struct spans *s, uint64_t first, uint64_t n);

/* Where a chunk must close so that it lies wholly inside or wholly outside
 * the (merged) set: the smallest record number k > done at which a span
 * begins after k (k = first - 1) or ends (k = last). done is the number of
 * the last record already framed (0 before any). UINT64_MAX when no span
 * lies past done. O(log n). */
uint64_t spans_next_cut(const struct spans *s, uint64_t done);

/* The merged span that begins at record first, or NULL. O(log n). */
const struct span *spans_starting_at(const struct spans *s, uint64_t first);
/* The merged span that ends at record last, or NULL. O(log n). */
const struct span *spans_ending_at(const struct spans *s, uint64_t last);

#endif
