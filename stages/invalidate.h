/* invalidate.h - Redis cache invalidation: key templates, per-chunk key sets, and the pipelined Redis client. */
#ifndef EDONU_INVALIDATE_H
#define EDONU_INVALIDATE_H

#include "../core/buf.h"
#include "../core/err.h"
#include "../core/table.h"
#include "record.h"
#include "transform.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keys per UNLINK (and per PUBLISH message): large enough that a chunk of
 * 20000 rows needs a few dozen commands, small enough that Redis never blocks
 * its event loop on one command for long. */
#define INVAL_KEYS_PER_COMMAND      1000u
/* Commands written before their replies are read: one window is one round
 * trip. 64 commands of 1000 keys covers a default chunk with three templates
 * in one round trip while bounding hiredis' output buffer (~64 x 1000 keys). */
#define INVAL_PIPELINE_COMMANDS_MAX 64u
/* A rendered key longer than this is refused: Redis accepts 512 MiB keys, but
 * a key this long means a template over a free-text column, not a cache key. */
#define INVAL_KEY_BYTES_MAX         ((size_t)64 << 10)
/* Templates (--invalidate and --bump together) a record is rendered with. */
#define INVAL_TEMPLATES_MAX         32u

/* What a key in a chunk's key set is for. The values are stored in the
 * journal, so they never change. */
enum inval_kind {
	INVAL_UNLINK = 1, /* --invalidate: the key is deleted */
	INVAL_BUMP = 2,   /* --bump: the key is INCRemented once per chunk */
};

/* ------------------------------------------------------------------ templates */

/* A compiled template: literal text and references to mapped input fields. */
struct inval_template;

/* Compiles tpl ("erp:{tenant_id}:order:{order_id}") against table t and
 * mapping m. {name} names a table column (exact name, else a unique
 * case-insensitive match, as transform_find_column); "{{" and "}}" are
 * literal braces. The column must be among the mapped ones (some k with
 * m->col[k] == column) and of a type whose printed form is rendered exactly
 * here: int2, int4, int8, text, varchar, bpchar, uuid, bool, date, numeric
 * (decided by the catalog type OID, so domains and other types are refused).
 * On success *out is set and 0 returned. On error -1 with e->code =
 * EXIT_CONFIG and a message naming the template and the column; *out is not
 * set. Start-up only: allocates. */
int inval_compile(const char *tpl, const struct table_info *t, const struct mapping *m, enum inval_kind kind,
		  struct inval_template **out, struct err *e);
void inval_template_free(struct inval_template *tp);
enum inval_kind inval_template_kind(const struct inval_template *tp);
const char *inval_template_text(const struct inval_template *tp);

/* Appends the key of one record to out, from the record's input fields
 * (fields[k] fills column m->col[k], as parsed; the encoders have already
 * accepted them). Each value is written in PostgreSQL's output form of the
 * stored value (DateStyle ISO): integers without sign, zeros or spaces; uuid
 * lowercase 8-4-4-4-12; bool t/f; numeric rounded to the column's scale;
 * varchar(n) clipped and char(n) padded as the type stores them.
 * Returns 1 when rendered, 0 when a referenced field is NULL (the record has
 * no key for this template; out unchanged), -1 when a value is in a form this
 * module does not decide (e.g. a date the encoder deferred to the server,
 * "Jan 5 2024"; a value the type would refuse): out unchanged, e->code =
 * EXIT_DATAERR and the message names the column. A caller that wants that key
 * anyway can ask the server for the value's text form ($1::type::text) and
 * render again with that field replaced. No allocation beyond growing out. */
int inval_render(const struct inval_template *tp, const struct table_info *t, const struct field *fields,
		 struct buf *out, struct err *e);

/* ------------------------------------------------------------------ key sets */

/* The distinct keys of one chunk, each tagged with its kind, in insertion
 * order. Sized once at start-up; adding a key allocates nothing except when
 * the key bytes outgrow their buffer (amortized doubling).
 * Keys are stored back to back in the journal's key-list encoding (see
 * io/journal.h), so the whole set is journaled with one write. */
struct inval_keyset;

/* keys_max distinct keys (batch_rows x templates); key_bytes is the initial
 * size of the key buffer (e.g. keys_max x 48). NULL on out-of-memory. */
struct inval_keyset *inval_keyset_create(uint32_t keys_max, size_t key_bytes);
void inval_keyset_free(struct inval_keyset *ks);
/* Empties the set for the next chunk: O(keys in the set), or one memset of
 * the slots when the set filled more than an eighth of them. */
void inval_keyset_clear(struct inval_keyset *ks);

/* Adds key[0..len) of kind. Returns 1 when new, 0 when already in the set,
 * -1 when the set is full (keys_max distinct keys) or len exceeds
 * INVAL_KEY_BYTES_MAX; the set is unchanged then. */
int inval_keyset_add(struct inval_keyset *ks, enum inval_kind kind, const char *key, size_t len);

/* Renders every template of one record and adds the keys. Returns the
 * number of new keys, or -1 (e set) when a render failed (see inval_render)
 * or the set is full (EXIT_SOFTWARE: the set was sized too small); keys added
 * before the failure stay. */
int inval_keyset_add_record(struct inval_keyset *ks, struct inval_template *const *tps, uint32_t ntps,
			    const struct table_info *t, const struct field *fields, struct err *e);

/* inval_keyset_add_record for the load's hot path: renders the keys and
 * prefetches their hash slots, but looks them up only at the next call or
 * at inval_keyset_settle, when the slot is in cache (a key set of a chunk is
 * larger than the core's cache, and a lookup per record otherwise waits on
 * memory). Returns 0, or -1 as inval_keyset_add_record. */
int inval_keyset_add_record_deferred(struct inval_keyset *ks, struct inval_template *const *tps, uint32_t ntps,
				     const struct table_info *t, const struct field *fields, struct err *e);
/* Looks up the keys left pending by the deferred call; count, key and data
 * require it. 0, or -1 when the set is full (the pending keys are dropped). */
int inval_keyset_settle(struct inval_keyset *ks);

uint32_t inval_keyset_count(const struct inval_keyset *ks);
/* Key i (0 <= i < count), in insertion order. */
const char *inval_keyset_key(const struct inval_keyset *ks, uint32_t i, size_t *len, enum inval_kind *kind);

/* The set in key-list encoding: pass to journal_append. Valid until the
 * next add or clear. */
const void *inval_keyset_data(const struct inval_keyset *ks, size_t *len);
/* Replaces the set's contents with a key list read back from the journal
 * (journal_replay). Returns 0, or -1 (EXIT_SOFTWARE) when the list is
 * malformed or has more distinct keys than the set holds. */
int inval_keyset_load(struct inval_keyset *ks, const void *data, size_t len, struct err *e);

/* ------------------------------------------------------------------ Redis */

/* A parsed --redis URL. */
struct inval_redis_url {
	bool unix_socket;
	char host[256];     /* host name or address; the socket path when unix_socket */
	int port;           /* 6379 by default */
	int db;             /* SELECT db when not 0 */
	char user[128];     /* AUTH user password when both set (Redis 6 ACL) */
	char password[256]; /* AUTH password when set */
};

/* Accepts redis://[[user]:password@ or user@]host[:port][/db] (host may be
 * [v6addr]; user and password are %-decoded) and unix:///path/to/sock[?db=N][&password=P].
 * Returns 0, or -1 with EXIT_CONFIG naming the URL (the password is never
 * echoed). rediss:// (TLS) is refused: hiredis 0.14 has no TLS. */
int inval_redis_parse_url(const char *url, struct inval_redis_url *u, struct err *e);

/* One connection, owned by one worker (not thread-safe). hiredis writes
 * with write(2), so the process must ignore SIGPIPE (signal(SIGPIPE,
 * SIG_IGN) in main) or a Redis that goes away kills it. */
struct inval_redis;

struct inval_redis_stats {
	uint64_t round_trips;  /* pipeline windows written and read back, AUTH/SELECT included */
	uint64_t connects;     /* successful connects, including reconnects */
	uint64_t failures;     /* sends that returned -1 */
	uint64_t keys_sent;    /* keys in UNLINK commands */
	uint64_t keys_removed; /* sum of the UNLINK replies */
	uint64_t bumps;        /* INCRs sent */
	uint64_t messages;     /* PUBLISH messages sent */
};

/* Parses url (EXIT_CONFIG on error) and prepares a client; does not connect:
 * the first send does, so a Redis that is down at start-up is a retry, not a
 * failure. password (NULL: none) is the AUTH password when url has none
 * (the caller's EDONU_REDIS_PASSWORD); a user without a password is
 * EXIT_CONFIG. channel is the --publish channel or NULL. timeout_ms bounds
 * connect, each read and each write. NULL with e set on error. */
struct inval_redis *inval_redis_create(const char *url, const char *password, const char *channel, uint32_t timeout_ms,
				       struct err *e);
void inval_redis_free(struct inval_redis *r);

/* Connects now (AUTH, SELECT) when not connected. 0, or -1 with e: retryable
 * for connection failures (EXIT_TEMPFAIL), not retryable when Redis refused
 * AUTH or SELECT (EXIT_CONFIG). Optional: inval_redis_send connects too. */
int inval_redis_connect(struct inval_redis *r, struct err *e);
/* Connects and asks PING: a refusal that no retry cures (a password
 * missing or wrong, no permission) is EXIT_CONFIG; an unreachable or busy
 * server is retryable (e->retryable). */
int inval_redis_check(struct inval_redis *r, struct err *e);

/* Sends the set: UNLINK of its INVAL_UNLINK keys in commands of up to
 * INVAL_KEYS_PER_COMMAND keys, then one INCR per INVAL_BUMP key, then (with a
 * channel) PUBLISH of all keys (unlinked and bumped, in insertion order),
 * newline-separated, one message per up to INVAL_KEYS_PER_COMMAND keys (a key
 * that itself holds a newline is ambiguous to subscribers); pipelined in windows of
 * INVAL_PIPELINE_COMMANDS_MAX commands, all replies read.
 * Returns the number of keys Redis reported removed (>= 0): the chunk is
 * invalidated, mark its journal entry done. Returns -1 with e set when it is
 * not: e->retryable and EXIT_TEMPFAIL when the connection failed or timed
 * out (it is dropped and the next call reconnects; retry with backoff), or
 * when Redis answered LOADING/BUSY/OOM/READONLY-style errors; not retryable
 * (EXIT_TEMPFAIL, Redis' message quoted) for other error replies, e.g. a bump
 * key that holds a non-integer. Either way some commands may have been
 * applied; resending is harmless. An empty set sends nothing and returns 0. */
int64_t inval_redis_send(struct inval_redis *r, const struct inval_keyset *ks, struct err *e);

/* The same send in two halves, so that Redis works while the caller goes on:
 * send_begin queues and writes every command (reading the replies of all
 * but the last window of INVAL_PIPELINE_COMMANDS_MAX commands); send_end reads
 * the rest and returns what inval_redis_send would. The key set may change
 * between the two. 0 or -1 (e set) from begin; a failed begin needs no end. */
int inval_redis_send_begin(struct inval_redis *r, const struct inval_keyset *ks, struct err *e);
int64_t inval_redis_send_end(struct inval_redis *r, struct err *e);
/* A send was begun and not yet ended. */
bool inval_redis_sending(const struct inval_redis *r);

const struct inval_redis_stats *inval_redis_stats(const struct inval_redis *r);

#endif
