/* invalidate_keyset.c - a chunk's cache keys, deduplicated as they are added, in the journal's key-list encoding. */
#include "invalidate_template.h"

#include "../core/ascii.h"
#include "../io/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================== key sets */

struct ks_entry {
	size_t off;    /* of the key's head in b */
	uint32_t len;  /* key bytes */
	uint32_t hash; /* upper half of the 64-bit hash, to skip most memcmp */
	uint32_t slot; /* where it sits in slots, so clear is O(count) */
};

struct inval_keyset {
	uint32_t keys_max;
	uint32_t count;
	uint32_t slots_mask;
	/* (upper bits of hash32) | (entry index + 1), the index in the low
	 * ibits; 0 = empty. Load factor <= 1/2. The hash's bits beside the
	 * index let a probe reject a slot without touching the entry or its
	 * key: one cache miss per new key, in a table half the size of one of
	 * whole hashes. */
	uint32_t *slots;
	uint32_t index_mask; /* (1 << ibits) - 1, with keys_max < 1 << ibits */
	struct ks_entry *entries;
	struct buf b; /* keys in key-list encoding */
	/* Keys rendered by inval_keyset_add_record_deferred and not yet looked
	 * up: their slots were prefetched, and are looked up once the next
	 * record has been parsed and encoded, when the line is in cache. They
	 * sit at the tail of b, in order. */
	struct {
		size_t off;
		uint64_t hash;
	} pending[INVAL_TEMPLATES_MAX];
	uint32_t npending;
};

/* The hash of a kind and a key, in memory only (never stored): 8 bytes a
 * step with a multiply-xorshift mix, several times faster than a byte-wise
 * hash on 20-40 byte keys; the kind keeps a bumped key and an unlinked key
 * of the same name apart. */
static inline uint64_t key_mix(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	return x;
}

static uint64_t key_hash(uint8_t kind, const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)kind << 56) ^ n;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = key_mix(h ^ w);
	}
	uint64_t tail = i < n ? ascii_load_le(p + i, n - i) : 0;
	return key_mix(h ^ tail ^ 0xff51afd7ed558ccdull);
}

struct inval_keyset *inval_keyset_create(uint32_t keys_max, size_t key_bytes)
{
	ASSERT(keys_max > 0 && keys_max <= (UINT32_MAX >> 2));
	struct inval_keyset *ks = calloc(1, sizeof *ks);
	if (ks == NULL)
		return NULL;
	uint32_t nslots = 2;
	while (nslots < 2 * keys_max)
		nslots *= 2;
	ks->keys_max = keys_max;
	ks->slots_mask = nslots - 1;
	ks->index_mask = 1;
	while (ks->index_mask < keys_max)
		ks->index_mask = ks->index_mask << 1 | 1;
	ks->slots = calloc(nslots, sizeof *ks->slots);
	ks->entries = calloc(keys_max, sizeof *ks->entries);
	if (ks->slots == NULL || ks->entries == NULL || buf_init(&ks->b, key_bytes) != 0) {
		inval_keyset_free(ks);
		return NULL;
	}
	return ks;
}

void inval_keyset_free(struct inval_keyset *ks)
{
	if (ks == NULL)
		return;
	free(ks->slots);
	free(ks->entries);
	buf_free(&ks->b);
	free(ks);
}

void inval_keyset_clear(struct inval_keyset *ks)
{
	/* Clearing each used slot touches a random line per key; past an
	 * eighth of the table one sequential memset is cheaper. */
	size_t nslots = (size_t)ks->slots_mask + 1;
	if ((size_t)ks->count * 8 > nslots)
		memset(ks->slots, 0, nslots * sizeof *ks->slots);
	else
		for (uint32_t i = 0; i < ks->count; i++)
			ks->slots[ks->entries[i].slot] = 0;
	ks->count = 0;
	ks->npending = 0;
	ks->b.len = 0;
}

/* Settles pending key i (at off, not necessarily the tail): a duplicate's
 * bytes are cut out of b and the later pending keys move down. 1 new, 0
 * present, -1 full. */
static int settle_pending_one(struct inval_keyset *ks, uint32_t i)
{
	size_t off = ks->pending[i].off;
	const char *key = ks->b.data + off + JOURNAL_KEY_HEAD_BYTES;
	const unsigned char *head = (const unsigned char *)ks->b.data + off;
	uint32_t len = journal_keylist_head_len(head);
	uint8_t kind = (uint8_t)ks->b.data[off];
	uint64_t h = ks->pending[i].hash;
	uint32_t h32 = (uint32_t)(h >> 32);
	uint32_t s = (uint32_t)h & ks->slots_mask;
	bool dup = false;
	for (;; s = (s + 1) & ks->slots_mask) {
		uint32_t v = ks->slots[s];
		if (v == 0)
			break;
		if (((v ^ h32) & ~ks->index_mask) != 0)
			continue;
		const struct ks_entry *en = &ks->entries[(v & ks->index_mask) - 1];
		if (en->hash == h32 && en->len == len && ks->b.data[en->off] == (char)kind &&
		    memcmp(ks->b.data + en->off + JOURNAL_KEY_HEAD_BYTES, key, len) == 0) {
			dup = true;
			break;
		}
	}
	if (!dup && ks->count == ks->keys_max)
		return -1;
	if (dup) {
		size_t n = JOURNAL_KEY_HEAD_BYTES + len;
		memmove(ks->b.data + off, ks->b.data + off + n, ks->b.len - off - n);
		ks->b.len -= n;
		for (uint32_t j = i + 1; j < ks->npending; j++)
			ks->pending[j].off -= n;
		return 0;
	}
	ks->entries[ks->count] = (struct ks_entry){.off = off, .len = len, .hash = h32, .slot = s};
	ks->slots[s] = (h32 & ~ks->index_mask) | ++ks->count;
	return 1;
}

int inval_keyset_settle(struct inval_keyset *ks)
{
	int rc = 0;
	for (uint32_t i = 0; i < ks->npending && rc == 0; i++)
		if (settle_pending_one(ks, i) < 0) {
			/* Full: the unsettled keys are dropped from the buffer. */
			ks->b.len = ks->pending[i].off;
			rc = -1;
		}
	ks->npending = 0;
	return rc;
}

int inval_keyset_add_record_deferred(struct inval_keyset *ks, struct inval_template *const *tps, uint32_t ntps,
				     const struct table_info *t, const struct field *fields, struct err *e)
{
	ASSERT(ntps <= INVAL_TEMPLATES_MAX);
	if (inval_keyset_settle(ks) < 0)
		return err_set(e, EXIT_SOFTWARE, "invalidation key set full (%u keys): sized too small", ks->keys_max);
	/* A record's keys go in whole or not at all. */
	size_t record_start = ks->b.len;
	for (uint32_t i = 0; i < ntps; i++) {
		size_t off = ks->b.len;
		buf_reserve(&ks->b, JOURNAL_KEY_HEAD_BYTES);
		ks->b.len += JOURNAL_KEY_HEAD_BYTES;
		int rc = inval_render(tps[i], t, fields, &ks->b, e);
		if (rc == 0) {
			ks->b.len = off;
			continue;
		}
		size_t len = ks->b.len - off - JOURNAL_KEY_HEAD_BYTES;
		if (rc < 0 || len > INVAL_KEY_BYTES_MAX) {
			ks->b.len = record_start;
			ks->npending = 0;
			if (rc < 0)
				return -1;
			return err_set(e, EXIT_DATAERR, "key '%s': rendered key is %zu bytes, more than %zu",
				       tps[i]->text, len, INVAL_KEY_BYTES_MAX);
		}
		journal_keylist_put_head(ks->b.data + off, (uint8_t)tps[i]->kind, (uint32_t)len);
		uint64_t h = key_hash((uint8_t)tps[i]->kind, ks->b.data + off + JOURNAL_KEY_HEAD_BYTES, len);
		__builtin_prefetch(&ks->slots[(uint32_t)h & ks->slots_mask]);
		ks->pending[ks->npending].off = off;
		ks->pending[ks->npending].hash = h;
		ks->npending++;
	}
	return 0;
}

int inval_keyset_add(struct inval_keyset *ks, enum inval_kind kind, const char *key, size_t len)
{
	if (inval_keyset_settle(ks) < 0)
		return -1;
	if (len > INVAL_KEY_BYTES_MAX)
		return -1;
	size_t off = ks->b.len;
	journal_keylist_put(&ks->b, (uint8_t)kind, key, (uint32_t)len);
	ks->pending[0].off = off;
	ks->pending[0].hash = key_hash((uint8_t)kind, key, len);
	ks->npending = 1;
	int rc = settle_pending_one(ks, 0);
	if (rc < 0)
		ks->b.len = off;
	ks->npending = 0;
	return rc;
}

int inval_keyset_add_record(struct inval_keyset *ks, struct inval_template *const *tps, uint32_t ntps,
			    const struct table_info *t, const struct field *fields, struct err *e)
{
	if (inval_keyset_settle(ks) < 0)
		return err_set(e, EXIT_SOFTWARE, "invalidation key set full (%u keys): sized too small", ks->keys_max);
	uint32_t before = ks->count;
	if (inval_keyset_add_record_deferred(ks, tps, ntps, t, fields, e) < 0)
		return -1;
	if (inval_keyset_settle(ks) < 0)
		return err_set(e, EXIT_SOFTWARE, "invalidation key set full (%u keys): sized too small", ks->keys_max);
	return (int)(ks->count - before);
}

uint32_t inval_keyset_count(const struct inval_keyset *ks)
{
	ASSERT(ks->npending == 0);
	return ks->count;
}

const char *inval_keyset_key(const struct inval_keyset *ks, uint32_t i, size_t *len, enum inval_kind *kind)
{
	ASSERT(i < ks->count && ks->npending == 0);
	const struct ks_entry *en = &ks->entries[i];
	*len = en->len;
	if (kind != NULL)
		*kind = (enum inval_kind)(uint8_t)ks->b.data[en->off];
	return ks->b.data + en->off + JOURNAL_KEY_HEAD_BYTES;
}

const void *inval_keyset_data(const struct inval_keyset *ks, size_t *len)
{
	ASSERT(ks->npending == 0);
	*len = ks->b.len;
	return ks->b.data;
}

int inval_keyset_load(struct inval_keyset *ks, const void *data, size_t len, struct err *e)
{
	inval_keyset_clear(ks);
	size_t pos = 0;
	uint8_t kind;
	const char *key;
	uint32_t klen;
	int rc;
	while ((rc = journal_keylist_next(data, len, &pos, &kind, &key, &klen)) == 1) {
		if (kind != INVAL_UNLINK && kind != INVAL_BUMP) {
			inval_keyset_clear(ks);
			return err_set(e, EXIT_SOFTWARE, "journal entry has a key of unknown kind %u", kind);
		}
		if (inval_keyset_add(ks, (enum inval_kind)kind, key, klen) < 0) {
			inval_keyset_clear(ks);
			return err_set(e, EXIT_SOFTWARE, "journal entry has more than %u keys or an oversized key",
				       ks->keys_max);
		}
	}
	if (rc < 0) {
		inval_keyset_clear(ks);
		return err_set(e, EXIT_SOFTWARE, "journal entry has a malformed key list");
	}
	return 0;
}
