/* gen.h - deterministic synthetic ERP records (CSV or NDJSON), good and deliberately bad, for tests and benchmarks. */
#ifndef EDONU_GEN_H
#define EDONU_GEN_H

#include "../core/err.h"
#include "../stages/record.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Record shapes; gen_table_sql gives each one's table. */
enum gen_shape {
	GEN_ORDERS, /* 10 columns: tenant_id, order_id, customer_id, sku, quantity, unit_price, currency, status, created_at, note */
	GEN_WIDE, /* 30 columns of mixed types: every type the binary encoders handle */
};

/* Kinds of bad record, in the order they rotate through: the n-th bad
 * record (1-based) is of kind (n - 1) % GEN_BAD_KINDS. */
enum gen_bad_kind {
	GEN_BAD_NOT_A_NUMBER,     /* an integer column holds "12x" */
	GEN_BAD_NUMERIC_OVERFLOW, /* a numeric(p,s) value above its precision */
	GEN_BAD_IMPOSSIBLE_DATE,  /* 2026-02-30 */
	GEN_BAD_FIELD_COUNT,      /* CSV: the last column is missing; NDJSON: the object is not closed */
	GEN_BAD_TOO_LONG,         /* a char(n) value longer than n */
	GEN_BAD_INVALID_UTF8,     /* a Latin-1 byte inside a text value */
	GEN_BAD_KINDS,
};

struct gen_opts {
	enum gen_shape shape;
	enum input_format format; /* FORMAT_CSV or FORMAT_NDJSON */
	uint64_t rows;
	uint64_t seed;
	uint64_t bad_every; /* 0: none; else records K, 2K, 3K... (1-based) are bad */
	bool header;        /* CSV: first line names the columns (callers normally set true) */
};

/* Writes o->rows records to fd, compressed as one zstd frame (level 3) when
 * zstd is set. The same options give the same bytes. A record that is not
 * bad is the same whatever bad_every is. Returns 0, or -1 with e set. */
int gen_write(const struct gen_opts *o, int fd, bool zstd, struct err *e);

/* Writes "CREATE TABLE table (...)" for the shape into out (NUL-terminated;
 * table is used as given, so it may be schema-qualified). Returns the
 * length, or -1 when out is too small. */
int gen_table_sql(enum gen_shape shape, const char *table, char *out, size_t outsz);

/* "orders" or "wide"; returns 0, or -1 for any other name. */
int gen_parse_shape(const char *name, enum gen_shape *shape);

/* Number of columns of a shape (10 or 30). */
uint32_t gen_shape_columns(enum gen_shape shape);

#endif
