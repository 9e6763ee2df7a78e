#!/usr/bin/env bash
# Proves the grants the README's "Privileges" lists: a role that has only
# them loads a file (plain and upsert) into a table and a ledger that a
# superuser created beforehand with deploy/ledger.sql; a role that lacks
# any one of them exits 78 with one error line naming the role, the
# privilege and the grant (INSERT on the table; CREATE on the database when
# there is no ledger; USAGE on the ledger's schema; each privilege on each
# ledger table; for upserts TEMPORARY on the database, UPDATE on the table
# and SELECT on the key), with no server NOTICE and no SQL statement in any
# output; `run` refuses the same before its first file. A ledger at an older
# version that the role may not migrate is 78 naming its owner and
# deploy/ledger.sql, and is left as it was; its owner's load migrates it
# without a NOTICE, and the role loads again. deploy/ledger.sql makes the
# same ledger as a first load does, and migrates an older one the same way.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

LEDGER_SQL="$SOURCE_ROOT/deploy/ledger.sql"
DB=edonu_lp
LOADER=edonu_loader
NOBODY=edonu_nobody
ROWS=1000

# sql SQL: as the superuser, in the test's database.
sql() {
	psql -XAtq -v ON_ERROR_STOP=1 -d "$DB" -c "$1"
}

# ledger_sql ARGS...: deploy/ledger.sql as the superuser, in the test's
# database.
ledger_sql() {
	psql -XAtq -v ON_ERROR_STOP=1 -d "$DB" "$@" -f "$LEDGER_SQL" >/dev/null
}

# as ROLE NAME ARGS...: a load as ROLE in the test's database; sets RC.
as() {
	local role="$1" name="$2"
	shift 2
	RC=0
	timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" load --dsn "host=$PGHOST port=$PGPORT user=$role dbname=$DB" \
		--progress never --summary "$WORK/$name.json" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null ||
		RC=$?
	note "$name: exit $RC: $(grep -m1 'level=error' "$WORK/$name.err" || true)"
}

# quiet NAME: no server NOTICE and no statement of the ledger's in run
# NAME's outputs.
quiet() {
	local name="$1"
	check "$name: NOTICE lines" 0 "$(cat "$WORK/$name".{out,err} | grep -c 'NOTICE' || true)"
	check "$name: SQL statements said" 0 \
		"$(cat "$WORK/$name".{out,err} "$WORK/$name.json" 2>/dev/null | grep -c 'CREATE TABLE\|CREATE SCHEMA' || true)"
}

# refused NAME NEEDLE: run NAME exited 78 with one error line saying
# NEEDLE (fixed text), and said it quietly.
refused() {
	local name="$1" needle="$2"
	check "$name: exit code" 78 "$RC"
	check "$name: error lines" 1 "$(grep -c 'level=error' "$WORK/$name.err" || true)"
	check_true "$name: the error says '$needle'" grep -qF -- "$needle" "$WORK/$name.err"
	quiet "$name"
}

# loads NAME ROWS: run NAME exited 0 having loaded ROWS records, quietly.
loads() {
	local name="$1" rows="$2"
	check "$name: exit code" 0 "$RC"
	check "$name: loaded" "$rows" "$(sum_field "$name" loaded)"
	check "$name: error or warning lines" 0 "$(grep -c 'level=error\|level=warn' "$WORK/$name.err" || true)"
	quiet "$name"
}

# dump DB: the ledger's definition in database DB, without privileges.
dump() {
	pg_dump -s -x -n edonu_ingest -d "$1" | grep -v '^\\restrict\|^\\unrestrict'
}

# same_as_first_load: deploy/ledger.sql and a first load make the same
# ledger; an older ledger's targets are migrated by the script as by the
# loader (tests/integration/ledger_target_quoting.sh).
same_as_first_load() {
	psql_q "CREATE DATABASE edonu_lp_script" >/dev/null
	psql_q "CREATE DATABASE edonu_lp_load" >/dev/null
	psql -XAtq -v ON_ERROR_STOP=1 -d edonu_lp_script -f "$LEDGER_SQL" >/dev/null
	psql -XAtq -v ON_ERROR_STOP=1 -d edonu_lp_load -c 'CREATE SCHEMA "Sch"; CREATE TABLE "Sch".t (a int)'
	printf 'a\n1\n' >"$WORK/one.csv"
	RC=0
	"$EDONU_INGEST" load --dsn "$(pg_dsn edonu_lp_load)" --table '"Sch".t' --progress never "$WORK/one.csv" \
		2>"$WORK/first_load.err" || RC=$?
	check "first load: exit code" 0 "$RC"
	dump edonu_lp_script >"$WORK/script.sql"
	dump edonu_lp_load >"$WORK/load.sql"
	check_true "deploy/ledger.sql makes the ledger a first load makes" diff -u "$WORK/script.sql" "$WORK/load.sql"
	# Back to version 2, as an older build wrote it; the script migrates.
	psql -XAtq -v ON_ERROR_STOP=1 -d edonu_lp_load >/dev/null <<-'SQL'
		UPDATE edonu_ingest.sources SET target = 'Sch.t';
		UPDATE edonu_ingest.chunks SET target = 'Sch.t';
		UPDATE edonu_ingest.version SET version = 2;
	SQL
	psql -XAtq -v ON_ERROR_STOP=1 -d edonu_lp_load -f "$LEDGER_SQL" >/dev/null
	check "deploy/ledger.sql migrates targets" '"Sch".t|"Sch".t|4' \
		"$(psql -XAtq -d edonu_lp_load -c "SELECT (SELECT string_agg(target, ',') FROM edonu_ingest.sources),
			(SELECT string_agg(target, ',') FROM edonu_ingest.chunks), (SELECT version FROM edonu_ingest.version)")"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-lp.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	psql_q "CREATE DATABASE $DB" >/dev/null
	psql_q "CREATE ROLE $LOADER LOGIN; CREATE ROLE $NOBODY LOGIN" >/dev/null
	"$EDONU_INGEST" gen --table-sql orders | psql -XAtq -v ON_ERROR_STOP=1 -d "$DB" >/dev/null
	sql "CREATE TABLE items (k int PRIMARY KEY, v text, w text)"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 81 -o "$WORK/orders.csv"
	printf 'k,v,w\n1,a,b\n2,c,d\n3,e,f\n' >"$WORK/items.csv"

	# The table.
	as "$NOBODY" no_insert --table orders "$WORK/orders.csv"
	refused no_insert "role $NOBODY lacks INSERT on table public.orders: GRANT INSERT ON public.orders TO $NOBODY"
	RC=0
	mkdir -p "$WORK/spool"
	"$EDONU_INGEST" run --dsn "host=$PGHOST port=$PGPORT user=$NOBODY dbname=$DB" --spool "$WORK/spool" \
		--table orders --progress never >"$WORK/run_no_insert.out" 2>"$WORK/run_no_insert.err" || RC=$?
	refused run_no_insert "role $NOBODY lacks INSERT on table public.orders"

	# No ledger, and no right to create one.
	sql "GRANT INSERT ON orders TO $LOADER"
	as "$LOADER" no_create --table orders "$WORK/orders.csv"
	refused no_create "role $LOADER lacks CREATE on database $DB to create the ledger schema edonu_ingest"
	check "no_create: nothing loaded" 0 "$(sql 'SELECT count(*) FROM orders')"

	# A ledger a DBA created, and the grants on it one by one.
	ledger_sql
	as "$LOADER" no_usage --table orders "$WORK/orders.csv"
	refused no_usage "role $LOADER lacks USAGE on the ledger's schema edonu_ingest: GRANT USAGE ON SCHEMA edonu_ingest TO $LOADER"
	sql "GRANT USAGE ON SCHEMA edonu_ingest TO $LOADER"
	as "$LOADER" no_select --table orders "$WORK/orders.csv"
	refused no_select "role $LOADER lacks SELECT on table edonu_ingest.version: GRANT SELECT ON edonu_ingest.version TO $LOADER"
	ledger_sql -v loader="$LOADER"
	sql "REVOKE DELETE ON edonu_ingest.rejects FROM $LOADER"
	as "$LOADER" no_delete --table orders "$WORK/orders.csv"
	refused no_delete "role $LOADER lacks DELETE on table edonu_ingest.rejects: GRANT SELECT, INSERT, DELETE ON edonu_ingest.rejects TO $LOADER"
	check "the refusals loaded nothing" 0 "$(sql 'SELECT count(*) FROM orders')"

	# Exactly the documented grants: the load works, and a rerun skips.
	ledger_sql -v loader="$LOADER"
	as "$LOADER" granted --table orders "$WORK/orders.csv"
	loads granted "$ROWS"
	as "$LOADER" granted_rerun --table orders "$WORK/orders.csv"
	loads granted_rerun 0
	check "granted_rerun: skipped" "$ROWS" "$(sum_field granted_rerun skipped)"

	# Upserts.
	sql "GRANT INSERT ON items TO $LOADER"
	as "$LOADER" upsert_no_update --table items --on-conflict update --key k "$WORK/items.csv"
	refused upsert_no_update "role $LOADER lacks UPDATE on table public.items, which --on-conflict update needs: GRANT SELECT, UPDATE ON public.items TO $LOADER"
	sql "GRANT UPDATE ON items TO $LOADER"
	as "$LOADER" upsert_no_select --table items --on-conflict update --key k "$WORK/items.csv"
	refused upsert_no_select "role $LOADER lacks SELECT on column k of table public.items, which --on-conflict needs to find conflicts: GRANT SELECT (k) ON public.items TO $LOADER"
	sql "REVOKE TEMPORARY ON DATABASE $DB FROM PUBLIC"
	sql "GRANT SELECT ON items TO $LOADER"
	as "$LOADER" upsert_no_temp --table items --on-conflict ignore --key k "$WORK/items.csv"
	refused upsert_no_temp "role $LOADER lacks TEMPORARY on database $DB, which --on-conflict needs for its staging table: GRANT TEMPORARY ON DATABASE $DB TO $LOADER"
	sql "GRANT TEMPORARY ON DATABASE $DB TO PUBLIC"
	as "$LOADER" upsert --table items --on-conflict update --key k "$WORK/items.csv"
	loads upsert 3
	check "upsert: rows" 3 "$(sql 'SELECT count(*) FROM items')"

	# An older ledger the role may not migrate: 78, the ledger untouched.
	sql "UPDATE edonu_ingest.version SET version = 2"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 82 -o "$WORK/more.csv"
	as "$LOADER" old_ledger --table orders "$WORK/more.csv"
	refused old_ledger "the ledger schema edonu_ingest is at version 2, this edonu-ingest needs version 4, and role $LOADER may not make it so (the ledger belongs to role postgres): have postgres or a superuser run deploy/ledger.sql once (psql -d $DB -f deploy/ledger.sql)"
	check "old_ledger: version" 2 "$(sql 'SELECT version FROM edonu_ingest.version')"
	# Its owner's load migrates it, quietly (CREATE ... IF NOT EXISTS
	# notices included).
	as postgres owner_migrates --table items --on-conflict ignore --key k "$WORK/items.csv"
	check "owner_migrates: exit code" 0 "$RC"
	quiet owner_migrates
	check "owner_migrates: version" 4 "$(sql 'SELECT version FROM edonu_ingest.version')"
	as "$LOADER" after_migration --table orders "$WORK/more.csv"
	loads after_migration "$ROWS"
	check "orders: rows" $((2 * ROWS)) "$(sql 'SELECT count(*) FROM orders')"

	same_as_first_load
	finish
}

main "$@"
