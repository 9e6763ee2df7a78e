/* grants.h - what the loading role may do, checked before anything runs: the privileges a load
 * needs on its table and on the ledger, and whether the ledger's owners are to be trusted. Each
 * refusal is EXIT_CONFIG with one line naming the role, the privilege and the grant that gives it
 * (the README's "Privileges" lists them all). */
#ifndef EDONU_GRANTS_H
#define EDONU_GRANTS_H

#include "../core/err.h"
#include "../core/table.h"
#include "options.h"

#include <libpq-fe.h>
#include <stdbool.h>

/* The ledger's schema and tables (see ledger.c). */
#define GRANTS_LEDGER_SCHEMA "edonu_ingest"
#define GRANTS_LEDGER_TABLES 4

/* The session's role and database, as said and as SQL identifiers. */
struct grants_who {
	char role[64];
	char role_sql[132];
	char db[64];
	char db_sql[132];
};
int grants_who(PGconn *c, struct grants_who *w, struct err *e);

/* The privileges the load o needs on table t: INSERT; with --on-conflict,
 * SELECT on the --key columns and TEMPORARY on the database (the staging
 * table); with update, UPDATE. */
int grants_target(PGconn *c, const struct grants_who *w, const struct table_info *t, const struct options *o,
		  struct err *e);

/* The ledger as the catalog shows it, read without touching it. */
struct grants_ledger {
	bool schema;          /* schema edonu_ingest exists */
	int tables;           /* how many of its tables exist */
	bool can_create;      /* CREATE on the database (to create the schema) */
	bool can_alter;       /* the role has its owners' privileges: may create and migrate */
	char alter_owner[64]; /* when not: an owner whose privileges it lacks */
};

/* Reads the ledger's objects and their owners. Every one that exists must
 * belong to the current role, to a role it is a member of (granted,
 * directly or through other roles: pg_has_role's MEMBER, except that a
 * superuser is not taken for a member of every role), or to a superuser:
 * otherwise a trigger, rule or view there would run its owner's code with
 * this role's rights, and the ledger is refused (EXIT_CONFIG, naming the
 * owner) before any statement touches it. */
int grants_ledger_inspect(PGconn *c, const struct grants_who *w, struct grants_ledger *l, struct err *e);

/* USAGE on the schema and the privileges the loader uses on each ledger
 * table; EXIT_CONFIG naming the first one missing. */
int grants_ledger_use(PGconn *c, const struct grants_who *w, struct err *e);

#endif
