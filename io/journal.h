/* journal.h - the at-least-once journal of cache invalidations, one append-only file per target in the state directory. */
#ifndef EDONU_JOURNAL_H
#define EDONU_JOURNAL_H

#include "../core/buf.h"
#include "../core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The file is rewritten without its done entries once it grows past this:
 * 64 MiB is a few hundred chunks' keys, replayed in well under a second. */
#define JOURNAL_COMPACT_BYTES   ((size_t)64 << 20)
/* A record claiming more payload than this is treated as torn: no chunk has
 * a gigabyte of keys (1M rows x 16 templates x 64 bytes). */
#define JOURNAL_ENTRY_BYTES_MAX ((uint32_t)1 << 30)

/* ------------------------------------------------------------------ key lists
 * An entry's payload is a key list: per key one byte of kind, the key length
 * as a little-endian uint32, then the key bytes. The invalidation key set
 * stores its keys in this encoding, so a chunk is journaled with one write. */
#define JOURNAL_KEY_HEAD_BYTES  5u

static inline void journal_keylist_put_head(char *p, uint8_t kind, uint32_t len)
{
	p[0] = (char)kind;
	p[1] = (char)(len & 0xff);
	p[2] = (char)((len >> 8) & 0xff);
	p[3] = (char)((len >> 16) & 0xff);
	p[4] = (char)((len >> 24) & 0xff);
}

/* The key length a head written by journal_keylist_put_head holds. */
static inline uint32_t journal_keylist_head_len(const unsigned char *p)
{
	return (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24;
}

static inline void journal_keylist_put(struct buf *b, uint8_t kind, const char *key, uint32_t len)
{
	buf_reserve(b, JOURNAL_KEY_HEAD_BYTES + len);
	journal_keylist_put_head(b->data + b->len, kind, len);
	memcpy(b->data + b->len + JOURNAL_KEY_HEAD_BYTES, key, len);
	b->len += JOURNAL_KEY_HEAD_BYTES + len;
}

/* Reads the key at *pos of list[0..n) and advances *pos. Returns 1 with
 * kind, key and len set, 0 at the end, -1 when the list is malformed. */
static inline int journal_keylist_next(const void *list, size_t n, size_t *pos, uint8_t *kind, const char **key,
				       uint32_t *len)
{
	const unsigned char *p = (const unsigned char *)list + *pos;
	if (*pos == n)
		return 0;
	if (n - *pos < JOURNAL_KEY_HEAD_BYTES)
		return -1;
	uint32_t l = journal_keylist_head_len(p);
	if (n - *pos - JOURNAL_KEY_HEAD_BYTES < l)
		return -1;
	*kind = p[0];
	*key = (const char *)p + JOURNAL_KEY_HEAD_BYTES;
	*len = l;
	*pos += JOURNAL_KEY_HEAD_BYTES + l;
	return 1;
}

/* ------------------------------------------------------------------ state dir */

/* Resolves the state directory: opt (--state-dir) when not NULL/empty, else
 * the first path of $STATE_DIRECTORY (systemd; colon-separated), else
 * $XDG_STATE_HOME/edonu-ingest (absolute values only, as the XDG spec says),
 * else $HOME/.local/state/edonu-ingest. Creates it and missing parents with
 * mode 0700. Writes the path to out. Returns 0, or -1 with EXIT_CONFIG when
 * none is set, the path does not fit, or it cannot be created. */
int journal_state_dir(const char *opt, char *out, size_t outsz, struct err *e);

/* ------------------------------------------------------------------ journal */

/* One open journal, shared by all workers of a process; every call takes
 * its mutex. */
struct journal;

/* Opens (creating) the journal of target in dir. target is a caller-chosen
 * string that identifies where invalidations go, e.g. "public.orders
 * redis://cache:6379/0" (leave passwords out: it is stored in the file);
 * the file is dir/journal-<16 hex digits of its FNV-1a 64 hash>.log, with a
 * sibling .lock file that is flock'ed for the lifetime of the journal.
 * At open the file is scanned: a torn or corrupt record ends it (the file is
 * cut there: only entries never acknowledged can be torn, since each append
 * is synced before it returns), and appended-but-not-done entries become
 * the pending ones that journal_replay hands back. A file with no pending
 * entries is rewritten empty.
 * Returns 0 with *out set, or -1 with e: EXIT_TEMPFAIL when another open
 * journal (another process, or a second open in this one) holds the lock;
 * EXIT_CONFIG when the directory is not usable (read-only, missing) or the
 * file belongs to another target; EXIT_SOFTWARE on out-of-memory. */
int journal_open(const char *dir, const char *target, struct journal **out, struct err *e);

/* Whether the open found damage: entries whose checksum failed (passed
 * over), bytes that did not read back in all, and the path where the file
 * was kept aside as it was (a hard link, before the journal was rewritten
 * with the records that read back). */
bool journal_damage(const struct journal *j, uint64_t *entries, uint64_t *bytes, const char **aside);
/* Releases the lock and frees j. Pending entries stay in the file. */
void journal_close(struct journal *j);
/* Removes the journal's file and then its lock file, and closes it (j is
 * freed either way): for a journal whose entries went elsewhere. 0, or -1
 * with EXIT_TEMPFAIL naming the file that stayed. */
int journal_remove(struct journal *j, struct err *e);

/* Appends an entry of nkeys keys (keys[0..len) in key-list encoding) and
 * fdatasyncs it: call BEFORE committing the chunk. Returns the entry id
 * (> 0, increasing across runs), or -1 with EXIT_TEMPFAIL when it could not
 * be made durable (disk full, I/O error): do not commit then. After an
 * fdatasync failure the journal refuses further appends (the kernel may have
 * dropped the dirty pages; nothing written after can be trusted).
 * Cost: the fsyncs of all workers are serialized under the mutex; at ~1 ms
 * each and one per 20000-row chunk that caps at ~20M rows/s. May compact. */
int64_t journal_append(struct journal *j, const void *keys, size_t len, uint32_t nkeys, struct err *e);

/* journal_append in two halves: journal_write puts the entry in the file
 * and starts its disk write without waiting (returns its id, or -1 as
 * journal_append); journal_sync waits until everything written so far is
 * durable (0, or -1 with EXIT_TEMPFAIL; the journal then refuses further
 * writes). A chunk's entry is written before its COPY and synced before its
 * COMMIT, so the disk works while the server does. */
int64_t journal_write(struct journal *j, const void *keys, size_t len, uint32_t nkeys, struct err *e);
int journal_sync(struct journal *j, struct err *e);

/* Marks entry id done (Redis acknowledged its keys). Not synced: a lost done
 * mark only means one more invalidation after a crash. An unknown or
 * already-done id is ignored. Returns 0, or -1 with EXIT_TEMPFAIL when the
 * write failed (the entry then stays pending in the file). */
int journal_done(struct journal *j, uint64_t id, struct err *e);

/* fn gets each entry pending when the call starts (left by an earlier run,
 * or by this one when Redis was down), in id order, with its key list (valid
 * during the call). It should send the keys and call journal_done(j, id) on
 * success. It returns 0 to go on, anything else to stop (e.g. Redis is
 * down): journal_replay then returns that value, and the rest stays pending.
 * Call while no worker appends: at start-up, or after the workers stopped.
 * Returns 0 when every entry was handed over, or -1 with e on a read error. */
typedef int (*journal_replay_fn)(void *ctx, uint64_t id, const void *keys, size_t len, uint32_t nkeys);
int journal_replay(struct journal *j, journal_replay_fn fn, void *ctx, struct err *e);

/* Whether dir holds a journal for target (without opening or creating it). */
bool journal_exists(const char *dir, const char *target);
/* Moves the pending entries of from into to: each appended to to and synced,
 * then marked done in from. For a journal whose target string changed from
 * one version to the next: opened under the old target, drained into the
 * new one, then removed. Returns the entries moved, or -1 with e (the rest
 * stay pending in from). */
int64_t journal_move(struct journal *from, struct journal *to, struct err *e);

/* Entries and keys appended and not done, for the summary ("N keys pending"). */
void journal_pending(struct journal *j, uint64_t *entries, uint64_t *keys);

/* Rewrites the file with only the pending entries (new file, fsync, rename,
 * fsync dir). Done automatically past the compaction bound; exposed for
 * tests and for a caller that wants a small file at exit. 0 or -1 with e
 * (the old file is still intact then). */
int journal_compact(struct journal *j, struct err *e);
/* Changes the compaction bound (default JOURNAL_COMPACT_BYTES). */
void journal_set_compact_bytes(struct journal *j, size_t bytes);

/* The journal file's path and current size in bytes. */
const char *journal_path(const struct journal *j);
uint64_t journal_size_bytes(struct journal *j);

#endif
