#!/usr/bin/env bash
# Proves that the ledger is trusted only when its owners are: a role with
# nothing but CREATE on the database pre-creates schema edonu_ingest as a
# whole ledger (deploy/ledger.sql run as that role) with statement triggers
# on every ledger table that copy a table only the loading role may read
# into a table of their own; a load as the loading role, as a superuser,
# and `run` as the loading role each exit 78 naming that owner, and the
# triggers never fire (their table stays empty, the secret is not copied,
# nothing is loaded). The same for a single table of a trusted schema that
# another role created first. A role that is a member of the ledger's owner
# trusts it and loads. And that operators and functions another role plants
# in a schema of the loading role's search_path (public before pg_catalog)
# never stand in for the system's in the loader's own statements: a plain
# load and an upsert go through, and the planted code never runs.
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
DB=edonu_own
MALLORY=edonu_mallory
LOADER=edonu_victim
FRIEND=edonu_friend

# sql_as ROLE SQL...: psql as ROLE in the test's database (SQL on stdin
# when none is given).
sql_as() {
	local role="$1"
	shift
	psql -XAtq -v ON_ERROR_STOP=1 -U "$role" -d "$DB" "$@"
}

# as ROLE NAME ARGS...: a load as ROLE; sets RC.
as() {
	local role="$1" name="$2"
	shift 2
	RC=0
	timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" load --dsn "host=$PGHOST port=$PGPORT user=$role dbname=$DB" \
		--progress never --summary "$WORK/$name.json" "$@" 2>"$WORK/$name.err" </dev/null || RC=$?
	note "$name: exit $RC: $(grep -m1 'level=error' "$WORK/$name.err" || true)"
}

# untouched NAME: the triggers did not fire and nothing was loaded.
untouched() {
	check "$1: trigger firings" 0 "$(sql_as postgres -c 'SELECT count(*) FROM edonu_ingest.fired')"
	check "$1: rows in orders" 0 "$(sql_as postgres -c 'SELECT count(*) FROM orders')"
}

# refused NAME NEEDLE: run NAME exited 78 with one error line saying NEEDLE.
refused() {
	check "$1: exit code" 78 "$RC"
	check "$1: error lines" 1 "$(grep -c 'level=error' "$WORK/$1.err" || true)"
	check_true "$1: the error says '$2'" grep -qF -- "$2" "$WORK/$1.err"
	untouched "$1"
}

# plant TABLES...: statement triggers on edonu_ingest.TABLE that copy the
# loading role's secret into edonu_ingest.fired, as the role that fires
# them. Run as the owner of the tables.
plant() {
	local t
	{
		cat <<-'SQL'
			SET client_min_messages = error;
			CREATE TABLE IF NOT EXISTS edonu_ingest.fired (who text, what text, secret text);
			GRANT INSERT ON edonu_ingest.fired TO PUBLIC;
			CREATE OR REPLACE FUNCTION edonu_ingest.steal() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				INSERT INTO edonu_ingest.fired
				SELECT current_user, TG_TABLE_NAME || ' ' || TG_OP, s FROM public.secret;
				RETURN NULL;
			END$$;
			GRANT USAGE ON SCHEMA edonu_ingest TO PUBLIC;
		SQL
		for t in "$@"; do
			echo "CREATE TRIGGER steal AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON edonu_ingest.$t"
			echo "	FOR EACH STATEMENT EXECUTE FUNCTION edonu_ingest.steal();"
			echo "GRANT ALL ON edonu_ingest.$t TO PUBLIC;"
		done
	} >"$WORK/plant.sql"
	sql_as "$MALLORY" -f "$WORK/plant.sql" >/dev/null
}

# planted: the loading role's search_path puts public before pg_catalog,
# and another role planted there operators and functions with the
# signatures the loader's statements use, each recording that it ran.
planted() {
	sql_as postgres >/dev/null <<-SQL
		SET client_min_messages = warning;
		DROP SCHEMA edonu_ingest CASCADE;
		CREATE TABLE public.ran (what text);
		GRANT INSERT ON public.ran TO PUBLIC;
		GRANT CREATE ON SCHEMA public TO $MALLORY;
		ALTER ROLE $LOADER SET search_path = public, pg_catalog;
		CREATE TABLE items (k int PRIMARY KEY, v text);
		GRANT SELECT, INSERT, UPDATE ON items TO $LOADER;
	SQL
	local spec op l r ret val n=0
	{
		echo "SET client_min_messages = error;"
		for spec in '=,text,text,boolean,true' '=,name,name,boolean,true' '=,oid,oid,boolean,true' \
			'=,bigint,bigint,boolean,true' '>=,integer,integer,boolean,true' '<,integer,integer,boolean,true' \
			'>,smallint,integer,boolean,true' '||,text,text,text,$1'; do
			IFS=, read -r op l r ret val <<<"$spec"
			n=$((n + 1))
			echo "CREATE FUNCTION public.planted_$n($l, $r) RETURNS $ret LANGUAGE sql AS"
			echo "\$\$INSERT INTO public.ran VALUES ('$op $l $r') RETURNING $val\$\$;"
			echo "CREATE OPERATOR public.$op (LEFTARG = $l, RIGHTARG = $r, FUNCTION = public.planted_$n);"
		done
		cat <<-'SQL'
			CREATE FUNCTION public.hashtext(text) RETURNS integer LANGUAGE sql AS
			$$INSERT INTO public.ran VALUES ('hashtext') RETURNING 1$$;
			CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS
			$$INSERT INTO public.ran VALUES ('now') RETURNING pg_catalog.now()$$;
		SQL
	} >"$WORK/planted.sql"
	sql_as "$MALLORY" -f "$WORK/planted.sql" >/dev/null
	printf 'k,v\n1,a\n2,b\n1,c\n' >"$WORK/items.csv"
	as "$LOADER" planted_plain --table orders "$WORK/orders.csv"
	check "planted_plain: exit code" 0 "$RC"
	check "planted_plain: loaded" 500 "$(sum_field planted_plain loaded)"
	as "$LOADER" planted_upsert --table items --on-conflict update --key k "$WORK/items.csv"
	check "planted_upsert: exit code" 0 "$RC"
	check "planted_upsert: rows" "1:c 2:b" "$(sql_as postgres -c "SELECT string_agg(k || ':' || v, ' ' ORDER BY k) FROM items")"
	as "$LOADER" planted_rerun --table orders "$WORK/orders.csv"
	check "planted_rerun: skipped" 500 "$(sum_field planted_rerun skipped)"
	check "planted code that ran" "" "$(sql_as postgres -c "SELECT string_agg(DISTINCT what, ', ') FROM public.ran")"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-owner.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	psql_q "CREATE DATABASE $DB" >/dev/null
	psql_q "CREATE ROLE $MALLORY LOGIN; CREATE ROLE $LOADER LOGIN; CREATE ROLE $FRIEND LOGIN" >/dev/null
	"$EDONU_INGEST" gen --table-sql orders | sql_as postgres >/dev/null
	sql_as postgres >/dev/null <<-SQL
		CREATE TABLE secret (s text);
		INSERT INTO secret VALUES ('the payroll');
		REVOKE ALL ON secret FROM PUBLIC;
		GRANT SELECT ON secret TO $LOADER;
		GRANT INSERT ON orders TO $LOADER, $FRIEND;
		GRANT CREATE ON DATABASE $DB TO $MALLORY, $LOADER;
		GRANT $MALLORY TO $FRIEND;
	SQL
	"$EDONU_INGEST" gen --rows 500 --seed 91 -o "$WORK/orders.csv"

	# A whole ledger of another role's, triggers on every table.
	sql_as "$MALLORY" -f "$LEDGER_SQL" >/dev/null
	plant version sources chunks rejects
	check "mallory cannot read the secret" 1 \
		"$(sql_as "$MALLORY" -c 'SELECT count(*) FROM public.secret' >/dev/null 2>&1 && echo 0 || echo 1)"
	local says="the ledger's schema edonu_ingest belongs to role $MALLORY, which is not a superuser"
	as "$LOADER" victim --table orders "$WORK/orders.csv"
	refused victim "$says and of which role $LOADER is not a member"
	as postgres superuser --table orders "$WORK/orders.csv"
	refused superuser "$says and of which role postgres is not a member"
	mkdir -p "$WORK/spool"
	cp "$WORK/orders.csv" "$WORK/spool/"
	RC=0
	"$EDONU_INGEST" run --dsn "host=$PGHOST port=$PGPORT user=$LOADER dbname=$DB" --spool "$WORK/spool" \
		--table orders --settle 0 --progress never 2>"$WORK/run.err" || RC=$?
	refused run "$says"
	check_true "run: the file stays in the spool" test -e "$WORK/spool/orders.csv"

	# A member of the owner trusts it (and would run its triggers: they go
	# first).
	sql_as "$MALLORY" -c 'DROP FUNCTION edonu_ingest.steal() CASCADE' 2>/dev/null
	as "$FRIEND" member --table orders "$WORK/orders.csv"
	check "member: exit code" 0 "$RC"
	check "member: loaded" 500 "$(sum_field member loaded)"

	# A trusted schema, one table of which another role created first.
	sql_as postgres >/dev/null <<-SQL
		SET client_min_messages = warning;
		DROP SCHEMA edonu_ingest CASCADE;
		TRUNCATE orders;
		CREATE SCHEMA edonu_ingest;
		GRANT CREATE, USAGE ON SCHEMA edonu_ingest TO $MALLORY, $LOADER;
	SQL
	sql_as "$MALLORY" -c "CREATE TABLE edonu_ingest.chunks (source_id text, target text, chunk bigint,
		records integer, loaded integer, rejected integer, committed_at timestamptz,
		PRIMARY KEY (source_id, target, chunk))" >/dev/null
	plant chunks
	as "$LOADER" one_table --table orders "$WORK/orders.csv"
	refused one_table "the ledger's table edonu_ingest.chunks belongs to role $MALLORY"
	planted
	finish
}

main "$@"
