#!/usr/bin/env bash
# Proves that --max-rejects N stops a load with exit 65 once more than N
# records are rejected and keeps exactly what was committed (the table
# holds the summary's loaded rows, which the ledger records), and that
# --dry-run writes nothing (table, ledger rows, and in a fresh database the
# ledger schema itself) while reporting exactly the rejects a real load of
# the same input makes.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

ROWS=50000
BAD_EVERY=50 # 1000 bad records, 20 in each chunk of 1000
BATCH_ROWS=1000
MAX_REJECTS=30
DRY_ROWS=20000
DRY_BAD_EVERY=100

# counts: the table's rows and the ledger's sources and chunks.
counts() {
	echo "rows $(psql_q 'SELECT count(*) FROM orders'), sources $(ledger_q 'SELECT count(*) FROM edonu_ingest.sources'), chunks $(ledger_chunks)"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-maxrej.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	orders_table orders
	local input="$WORK/bad.csv" dry="$WORK/dry.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 41 --bad-every "$BAD_EVERY" -o "$input"
	"$EDONU_INGEST" gen --rows "$DRY_ROWS" --seed 43 --bad-every "$DRY_BAD_EVERY" -o "$dry"

	# 1. --max-rejects.
	load maxrej --table orders --batch-rows "$BATCH_ROWS" --max-rejects "$MAX_REJECTS" \
		--rejects "$WORK/maxrej.ndjson" "$input"
	local loaded rejected rows
	loaded="$(sum_field maxrej loaded)"
	rejected="$(sum_field maxrej rejected)"
	rows="$(psql_q 'SELECT count(*) FROM orders')"
	check "max-rejects: exit code" 65 "$RC"
	check_true "max-rejects: stderr names --max-rejects" grep -q -- '--max-rejects' "$WORK/maxrej.err"
	check_true "max-rejects: rejected ($rejected) > $MAX_REJECTS" test "$rejected" -gt "$MAX_REJECTS"
	check_true "max-rejects: stopped before the end (loaded $loaded + rejected $rejected < $ROWS)" \
		test $((loaded + rejected)) -lt "$ROWS"
	check "max-rejects: rows in the table = summary loaded" "$loaded" "$rows"
	check "max-rejects: rows of the ledger's chunks = rows in the table" "$rows" "$(ledger_loaded)"
	check "max-rejects: rejects file lines = rejected" "$rejected" "$(wc -l <"$WORK/maxrej.ndjson")"
	check "max-rejects: source not complete" loading "$(psql_q 'SELECT state FROM edonu_ingest.sources')"

	# 2. --dry-run on the database that has the table and a ledger.
	local before
	before="$(counts)"
	load dry --table orders --batch-rows "$BATCH_ROWS" --dry-run --rejects "$WORK/dry.ndjson" "$dry"
	check "dry-run: exit code (rejects found)" 65 "$RC"
	check "dry-run: rejected" $((DRY_ROWS / DRY_BAD_EVERY)) "$(sum_field dry rejected)"
	check "dry-run: loaded (would load)" $((DRY_ROWS - DRY_ROWS / DRY_BAD_EVERY)) "$(sum_field dry loaded)"
	check "dry-run: table and ledger untouched" "$before" "$(counts)"
	# The same input without --dry-run into another table: the same rejects.
	orders_table orders_real
	load real --table orders_real --batch-rows "$BATCH_ROWS" --rejects "$WORK/real.ndjson" "$dry"
	check "real load of the dry-run input: exit code" 65 "$RC"
	check "real load: rejected = dry-run's" "$(sum_field dry rejected)" "$(sum_field real rejected)"
	check "real load: loaded = dry-run's" "$(sum_field dry loaded)" "$(psql_q 'SELECT count(*) FROM orders_real')"
	check "dry-run and real load reject the same records" \
		"$(jq -r '"\(.record) \(.message)"' "$WORK/real.ndjson" | sort | md5sum)" \
		"$(jq -r '"\(.record) \(.message)"' "$WORK/dry.ndjson" | sort | md5sum)"

	# 3. --dry-run in a database without a ledger creates none.
	psql_q "CREATE DATABASE fresh"
	PGDATABASE=fresh orders_table orders
	PGDATABASE=fresh EDONU_TEST_DSN="$(pg_dsn fresh)" load dry_fresh --table orders --dry-run "$dry"
	check "dry-run, fresh database: exit code" 65 "$RC"
	check "dry-run, fresh database: rows" 0 "$(PGDATABASE=fresh psql_q 'SELECT count(*) FROM orders')"
	check "dry-run, fresh database: no ledger schema" "" \
		"$(PGDATABASE=fresh psql_q "SELECT nspname FROM pg_namespace WHERE nspname = 'edonu_ingest'")"
	finish
}

main "$@"
