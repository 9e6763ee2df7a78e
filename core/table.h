/* table.h - the target table as the loader models it: its columns, their PostgreSQL types and the session settings that change what input means. */
#ifndef EDONU_TABLE_H
#define EDONU_TABLE_H

#include "pgtype.h"

#include <stdbool.h>
#include <stdint.h>

/* The types that have a binary encoder. ENC_NONE: no encoder, the table is
 * loaded with text COPY throughout. */
enum enc_kind {
	ENC_NONE = 0,
	ENC_INT2,
	ENC_INT4,
	ENC_INT8,
	ENC_FLOAT4,
	ENC_FLOAT8,
	ENC_NUMERIC,
	ENC_BOOL,
	ENC_TEXT,    /* text, name-less unbounded strings */
	ENC_VARCHAR, /* varchar(n): typmod = n + 4, or -1 */
	ENC_BPCHAR,  /* char(n): typmod = n + 4, or -1 */
	ENC_DATE,
	ENC_TIMESTAMP,
	ENC_TIMESTAMPTZ,
	ENC_UUID,
	ENC_JSON,
	ENC_JSONB,
	ENC_BYTEA,
};

/* A target column as the catalog describes it. */
struct enc_column {
	char name[64];     /* NAMEDATALEN */
	uint32_t type_oid; /* pg_attribute.atttypid */
	int32_t typmod;    /* pg_attribute.atttypmod */
	enum enc_kind kind;
};

/* Session settings that change what an input string means. */
struct enc_session {
	/* TimeZone is UTC (or another zone with offset 0 and no DST), so a
	 * timestamptz without an explicit offset can be decided locally. */
	bool tz_utc;
};

struct table_column {
	struct enc_column enc;
	bool not_null;
	bool generated; /* GENERATED ALWAYS AS ... STORED: never a COPY target */
};

struct table_info {
	char sql_name[2 * 64 * 2 + 8]; /* "schema"."name", quoted for SQL */
	char display[2 * 64 + 2];      /* schema.name as the user reads it */
	/* schema.name with each part double-quoted (quote characters doubled)
	 * unless it is a plain lower-case identifier ([a-z_][a-z0-9_$]*): the
	 * table's name in the ledger, never the same for two tables as display
	 * can be ("s.x".t and s."x.t" both show as s.x.t), and the same
	 * whatever the server's keywords (quote_ident's output changes when a
	 * new version reserves a word). */
	char ident[2 * (2 * 63 + 2) + 2];
	uint32_t oid;
	uint32_t ncols;
	struct table_column *cols; /* ncols entries, in attnum order */
	bool all_binary;           /* every column has a binary encoder */
	struct enc_session session;
	char timezone[64];
	char datestyle[64];
	char server_encoding[64];
};

#endif
