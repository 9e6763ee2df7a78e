#!/usr/bin/env bash
# Proves that run loads a whole spool over one set of PostgreSQL
# connections: a spool of 20 small files, run with --workers 2, opens at most
# workers + 3 sessions in all (pg_stat_database.sessions), where a fresh set
# per file would take three per file; every file is loaded and filed.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

FILES=20
WORKERS=2

sessions() {
	psql_q "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-sessions.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	orders_table orders
	mkdir -p "$WORK/spool"
	local i
	for ((i = 1; i <= FILES; i++)); do
		"$EDONU_INGEST" gen --rows 100 --seed "$((700 + i))" -o "$WORK/spool/f$(printf %02d "$i").csv"
	done
	touch -d '1 minute ago' "$WORK/spool"/*.csv
	local before after
	# This query's own session is counted when it ends, before the run.
	before="$(sessions)"
	RC=0
	"$EDONU_INGEST" run --dsn "$EDONU_TEST_DSN" --table orders --spool "$WORK/spool" --workers "$WORKERS" \
		--progress never 2>"$WORK/run.err" || RC=$?
	after="$(sessions)"
	check "run: exit code" 0 "$RC"
	check "run: files in done/" "$FILES" "$(find "$WORK/spool/done" -name '*.csv' | wc -l)"
	check "rows" "$((FILES * 100))" "$(psql_q 'SELECT count(*) FROM orders')"
	local used=$((after - before - 1))
	note "the run opened $used sessions for $FILES files with $WORKERS workers"
	check_true "sessions: $used <= workers + 3" test "$used" -le $((WORKERS + 3))
	finish
}

main "$@"
