#!/usr/bin/env bash
# Proves that any refusal the server ties to one record rejects that record
# alone, whatever its SQLSTATE class, while the rest commits: in 100
# records, a text value too large for its btree index row (54000), a jsonb
# value nested deeper than the server's stack allows (54001, a record the
# encoder leaves to text COPY) and a record a row trigger refuses (P0001)
# each give 99 rows, one reject line naming that record and the server's
# SQLSTATE, and exit 65, with one worker or two, small chunks or the
# default.  And that a refusal tied to no record still fails the whole load
# and rejects nothing: a role without INSERT privilege on the table
# (exit 78) and a statement trigger that refuses every COPY (exit neither 0
# nor 65).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

RECORDS=100
# Nesting that exceeds the server's default max_stack_depth (2MB) with a
# wide margin: 20000 is already refused.
JSON_DEPTH=100000

# server_refuses NAME TABLE FILE SQLSTATE: the premise that PostgreSQL's own
# \copy of FILE into TABLE (a scratch copy of the target) fails with
# SQLSTATE.
server_refuses() {
	local out
	if out="$(psql -X -v ON_ERROR_STOP=1 -c '\set VERBOSITY verbose' \
		-c "\\copy $2 from '$3' csv header" 2>&1)"; then
		die "$1: psql's \\copy of $3 succeeded; the test's premise does not hold"
	fi
	grep -q "ERROR:  $4:" <<<"$out" ||
		die "$1: psql's \\copy of $3 did not fail with $4: $(head -n 3 <<<"$out")"
	note "premise: $1: psql's \\copy fails with $(grep -m1 'ERROR:' <<<"$out" | cut -c1-120)"
}

# reject_lines FILE: lines in a rejects file (0 when it was not written).
reject_lines() {
	if [[ -f "$1" ]]; then
		wc -l <"$1"
	else
		echo 0
	fi
}

# one_refused NAME TABLE FILE RECORD SQLSTATE: loads FILE (RECORDS records,
# one of them refused by the server) into the emptied TABLE with one and two
# workers, with chunks of 10 records and the default, and checks that only
# record RECORD (whose id column is RECORD, on line RECORD + 1 after the
# header) is rejected, with SQLSTATE.
one_refused() {
	local what="$1" table="$2" file="$3" record="$4" sqlstate="$5" workers batch name rejects args
	for workers in 1 2; do
		for batch in 10 default; do
			name="$what-w$workers-b$batch"
			rejects="$WORK/$name.rejects"
			args=(--table "$table" --workers "$workers" --force --rejects "$rejects")
			if [[ "$batch" != default ]]; then
				args+=(--batch-rows "$batch")
			fi
			psql_q "TRUNCATE $table"
			load "$name" "${args[@]}" "$file"
			[[ "$RC" == 65 ]] || show_err "$name"
			check "$name: exit code" 65 "$RC"
			check "$name: rows" $((RECORDS - 1)) "$(psql_q "SELECT count(*) FROM $table")"
			check "$name: rows of record $record" 0 "$(psql_q "SELECT count(*) FROM $table WHERE id = $record")"
			check "$name: summary loaded, rejected" "$((RECORDS - 1)) 1" \
				"$(sum_field "$name" loaded) $(sum_field "$name" rejected)"
			check "$name: reject lines" 1 "$(reject_lines "$rejects")"
			if [[ -s "$rejects" ]]; then
				check "$name: rejected record, line and SQLSTATE" "$record $((record + 1)) $sqlstate" \
					"$(jq -r '"\(.record) \(.line) \(.sqlstate)"' "$rejects" | head -n 1)"
			fi
		done
	done
}

failure_not_65() {
	[[ "$1" != 0 && "$1" != 65 ]]
}

# whole_load_fails NAME DSN TABLE FILE EXPECTED: a load whose refusal names
# no record; EXPECTED is an exit code, or "not65" for any failure but 65.
whole_load_fails() {
	local name="$1" dsn="$2" table="$3" file="$4" expected="$5" rejects="$WORK/$1.rejects"
	RC=0
	timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" load --dsn "$dsn" --progress never --summary "$WORK/$name.json" \
		--table "$table" --rejects "$rejects" "$file" </dev/null 2>"$WORK/$name.err" || RC=$?
	note "load $name: exit $RC: $(summary_line "$name")"
	show_err "$name"
	if [[ "$expected" == not65 ]]; then
		check_true "$name: exit code $RC is a failure other than 65" failure_not_65 "$RC"
	else
		check "$name: exit code" "$expected" "$RC"
	fi
	check "$name: reject lines" 0 "$(reject_lines "$rejects")"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the rejects"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-refusals.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start

	# a) A btree index row too large: incompressible text of 10000 bytes
	# in record 37.
	psql_q "CREATE TABLE idx (id int, t text); CREATE INDEX ON idx (t)"
	psql_q "CREATE TABLE idx_psql (LIKE idx INCLUDING INDEXES)"
	local big idx_csv="$WORK/idx.csv"
	big="$(head -c 7500 /dev/urandom | base64 -w0)"
	awk -v n="$RECORDS" -v bad=37 -v big="$big" \
		'BEGIN { print "id,t"; for (i = 1; i <= n; i++) print i "," (i == bad ? big : "value " i) }' >"$idx_csv"
	server_refuses index-row idx_psql "$idx_csv" 54000
	one_refused index-row idx "$idx_csv" 37 54000

	# b) jsonb nested too deep in record 61 (the encoder leaves it to the
	# server: it goes through text COPY).
	psql_q "CREATE TABLE deep (id int, doc jsonb)"
	psql_q "CREATE TABLE deep_psql (LIKE deep)"
	local deep_csv="$WORK/deep.csv"
	awk -v n="$RECORDS" -v bad=61 -v depth="$JSON_DEPTH" '
		BEGIN {
			for (o = "["; length(o) < depth; o = o o)
				;
			c = o
			gsub(/\[/, "]", c)
			nested = substr(o, 1, depth) substr(c, 1, depth)
			print "id,doc"
			for (i = 1; i <= n; i++)
				print i "," (i == bad ? nested : "[" i "]")
		}' >"$deep_csv"
	server_refuses json-depth deep_psql "$deep_csv" 54001
	one_refused json-depth deep "$deep_csv" 61 54001

	# c) A row trigger that raises for record 50.
	psql -XAtq -v ON_ERROR_STOP=1 >/dev/null <<-'SQL'
		CREATE TABLE trg (id int, t text);
		CREATE FUNCTION refuse_50() RETURNS trigger LANGUAGE plpgsql AS
		$$BEGIN
			IF NEW.id = 50 THEN
				RAISE EXCEPTION 'record % is not welcome', NEW.id;
			END IF;
			RETURN NEW;
		END$$;
		CREATE TRIGGER refuse_50 BEFORE INSERT ON trg FOR EACH ROW EXECUTE FUNCTION refuse_50();
		CREATE TABLE trg_psql (LIKE trg);
		CREATE TRIGGER refuse_50 BEFORE INSERT ON trg_psql FOR EACH ROW EXECUTE FUNCTION refuse_50();
	SQL
	local plain_csv="$WORK/plain.csv"
	awk -v n="$RECORDS" 'BEGIN { print "id,t"; for (i = 1; i <= n; i++) print i ",value " i }' >"$plain_csv"
	server_refuses row-trigger trg_psql "$plain_csv" P0001
	one_refused row-trigger trg "$plain_csv" 50 P0001

	# d) Refusals tied to no record.  A role that may read the table but not
	# insert into it, in a database of its own where it creates its own
	# ledger.
	psql_q "CREATE ROLE edonu_loader LOGIN"
	psql_q "CREATE DATABASE refusals_priv"
	psql_q "GRANT CREATE ON DATABASE refusals_priv TO edonu_loader"
	psql -XAtq -v ON_ERROR_STOP=1 -d refusals_priv -c \
		"CREATE TABLE priv (id int, t text); GRANT SELECT ON priv TO edonu_loader" >/dev/null
	whole_load_fails no-insert-privilege \
		"host=$PGHOST port=$PGPORT user=edonu_loader dbname=refusals_priv" priv "$plain_csv" 78
	check "no-insert-privilege: rows" 0 "$(psql -XAtq -d refusals_priv -c 'SELECT count(*) FROM priv')"

	# A statement trigger that refuses every insert: its error names no line.
	psql -XAtq -v ON_ERROR_STOP=1 >/dev/null <<-'SQL'
		CREATE TABLE stmt (id int, t text);
		CREATE FUNCTION refuse_all() RETURNS trigger LANGUAGE plpgsql AS
		$$BEGIN RAISE EXCEPTION 'no inserts into %', TG_TABLE_NAME; END$$;
		CREATE TRIGGER refuse_all BEFORE INSERT ON stmt FOR EACH STATEMENT EXECUTE FUNCTION refuse_all();
	SQL
	whole_load_fails statement-trigger "$EDONU_TEST_DSN" stmt "$plain_csv" not65
	check "statement-trigger: rows" 0 "$(psql_q 'SELECT count(*) FROM stmt')"
	finish
}

main "$@"
