/* parse_ndjson.h - one NDJSON line to field slices, as PostgreSQL 15's json_populate_record(null::table, line) maps it. */
#ifndef EDONU_PARSE_NDJSON_H
#define EDONU_PARSE_NDJSON_H

#include "../core/buf.h"
#include "record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting the parser follows. PostgreSQL's limit is its stack
 * (max_stack_depth): at the default 2MB a PostgreSQL 15 server parses
 * about 14,500 levels; deeper lines are refused here with the server's
 * message, "stack depth limit exceeded", from this bound on. */
#define NDJSON_DEPTH_MAX     10000

/* Keys of NAMEDATALEN bytes or more never match a column (the server
 * ignores them: they cannot be a column name). */
#define NDJSON_KEY_BYTES_MAX 63

/* Which key fills which field: built once per source from the mapping's
 * column names, read by every worker. */
struct ndjson_slot;
struct ndjson_map {
	uint32_t nfields;
	uint32_t mask; /* slots - 1; slots are a power of two */
	struct ndjson_slot *slots;
	bool *json; /* per field: a json/jsonb column, whose string values stay JSON strings */
};

/* Builds the map for fields named names[0..n) (NUL-terminated, distinct);
 * json[k] says field k fills a json or jsonb column. Returns 0, or -1 on
 * ENOMEM with m left empty. */
int ndjson_map_init(struct ndjson_map *m, const char *const *names, const bool *json, uint32_t n);
void ndjson_map_free(struct ndjson_map *m);

/* The field a key names, compared exactly (case-sensitive, as the server's
 * hash of keys does); -1 when none. */
int ndjson_map_find(const struct ndjson_map *m, const char *key, size_t len);

/* Parses the line rec[0..len) (without its LF) into m->nfields fields, in
 * the map's order: a key's field gets its value (the last of duplicate keys
 * wins), a missing key or JSON null is NULL, strings are de-escaped (json
 * and jsonb fields get them as a JSON string, re-escaped as the server's
 * escape_json does), numbers and true/false are their literal text, and
 * nested objects and arrays their JSON text as written. Values point into
 * rec when they need no rewriting, else into scratch, which the caller
 * empties before each record; it is reserved here for len bytes, which is
 * all the rewriting can take, so it never moves while fields point into it.
 * Returns m->nfields and adds to *unknown_keys the keys that fill no field,
 * or -1 with PostgreSQL's message in msg (and *unknown_keys unchanged):
 *   invalid byte sequence for encoding "UTF8": 0x..
 *   invalid input syntax for type json
 *   unsupported Unicode escape sequence
 *   cannot call populate_composite on a scalar / on an array
 *   stack depth limit exceeded
 * A syntax error anywhere in the line wins over the others, as the
 * server's json_in checks the whole text before json_populate_record
 * looks at it; otherwise the first in the text wins. */
int ndjson_parse_record(const struct ndjson_map *m, const char *rec, size_t len, struct field *fields,
			struct buf *scratch, uint32_t *unknown_keys, char *msg, size_t msgsz);

#endif
