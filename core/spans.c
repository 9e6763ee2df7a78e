/* spans.c - sets of committed record ranges with their byte ranges, merged and searched by record number. */
#include "spans.h"

#include <stdlib.h>

int spans_add(struct spans *s, uint64_t first_record, uint64_t nrecords, uint64_t byte_offset, uint64_t byte_end)
{
	if (nrecords == 0)
		return 0;
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 64;
		struct span *p = realloc(s->v, cap * sizeof *p);
		if (p == NULL)
			return -1;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = (struct span){first_record, first_record + nrecords - 1, byte_offset, byte_end};
	return 0;
}

static int cmp_first(const void *a, const void *b)
{
	uint64_t x = ((const struct span *)a)->first, y = ((const struct span *)b)->first;
	return x < y ? -1 : x > y;
}

void spans_merge(struct spans *s)
{
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof *s->v, cmp_first);
	uint32_t out = 0;
	for (uint32_t i = 1; i < s->n; i++) {
		struct span *cur = &s->v[out];
		const struct span *next = &s->v[i];
		if (next->first <= cur->last + 1) {
			if (next->last > cur->last) {
				cur->last = next->last;
				cur->byte_end = next->byte_end;
			}
		} else {
			s->v[++out] = *next;
		}
	}
	s->n = out + 1;
}

void spans_free(struct spans *s)
{
	free(s->v);
	*s = (struct spans){0};
}

/* Index of the first span whose last record is >= rec (n when none). */
static uint32_t first_ending_at_or_after(const struct spans *s, uint64_t rec)
{
	uint32_t lo = 0, hi = s->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].last < rec)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

enum spans_cover spans_cover(const struct spans *s, uint64_t first, uint64_t n)
{
	if (n == 0)
		return SPANS_NONE;
	uint64_t last = first + n - 1;
	uint32_t i = first_ending_at_or_after(s, first);
	if (i == s->n || s->v[i].first > last)
		return SPANS_NONE;
	/* Merged spans never touch, so one span covers all or it is a part. */
	return s->v[i].first <= first && s->v[i].last >= last ? SPANS_ALL : SPANS_PART;
}

uint64_t spans_next_cut(const struct spans *s, uint64_t done)
{
	uint32_t i = first_ending_at_or_after(s, done + 1);
	if (i == s->n)
		return UINT64_MAX;
	/* The record after done is before the span: close just before it;
	 * inside it: close at its end. */
	return s->v[i].first - 1 > done ? s->v[i].first - 1 : s->v[i].last;
}

const struct span *spans_starting_at(const struct spans *s, uint64_t first)
{
	uint32_t i = first_ending_at_or_after(s, first);
	return i < s->n && s->v[i].first == first ? &s->v[i] : NULL;
}

const struct span *spans_ending_at(const struct spans *s, uint64_t last)
{
	uint32_t i = first_ending_at_or_after(s, last);
	return i < s->n && s->v[i].last == last ? &s->v[i] : NULL;
}
