/* pgtype.h - PostgreSQL's built-in type OIDs, fixed in its catalog (pg_type.dat): the one place the loader names them. */
#ifndef EDONU_PGTYPE_H
#define EDONU_PGTYPE_H

enum pg_type_oid {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_CHAR = 18,
	OID_NAME = 19,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_TEXT = 25,
	OID_JSON = 114,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_BPCHAR = 1042,
	OID_VARCHAR = 1043,
	OID_DATE = 1082,
	OID_TIME = 1083,
	OID_TIMESTAMP = 1114,
	OID_TIMESTAMPTZ = 1184,
	OID_INTERVAL = 1186,
	OID_TIMETZ = 1266,
	OID_NUMERIC = 1700,
	OID_UUID = 2950,
	OID_JSONB = 3802,
};

/* varlena header bytes: typmods of varchar(n) and char(n) are n + VARHDRSZ. */
#define VARHDRSZ 4

#endif
