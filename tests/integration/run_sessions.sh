#!/usr/bin/env bash
# Proves that run loads a whole spool over one set of connections: a spool
# of 20 small files, run with --workers 2, opens at most workers + 3
# PostgreSQL sessions in all (pg_stat_database.sessions), where a fresh set
# per file would take three per file; every file is loaded and filed. With
# cache invalidation, the same run opens at most workers + 1 Redis
# connections (INFO stats), and the summary counts each key once.
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

redis_connections() {
	redis-cli -s "$REDIS_SOCKET" INFO stats | sed -n 's/^total_connections_received:\([0-9]*\).*/\1/p'
}

# spool DIR SEED: FILES files of 100 orders, settled.
spool() {
	mkdir -p "$1"
	local i
	for ((i = 1; i <= FILES; i++)); do
		"$EDONU_INGEST" gen --rows 100 --seed "$(($2 + i))" -o "$1/f$(printf %02d "$i").csv"
	done
	touch -d '1 minute ago' "$1"/*.csv
}

# The second run invalidates a key per order in Redis.
invalidating_run() {
	redis_start
	psql_q "TRUNCATE orders" >/dev/null
	spool "$WORK/spool2" 800
	local before after
	before="$(redis_connections)"
	RC=0
	"$EDONU_INGEST" run --dsn "$EDONU_TEST_DSN" --table orders --spool "$WORK/spool2" --workers "$WORKERS" \
		--redis "$EDONU_TEST_REDIS" --invalidate 'erp:{tenant_id}:order:{order_id}' --state-dir "$WORK/state" \
		--summary "$WORK/inval.json" --progress never 2>"$WORK/run2.err" || RC=$?
	after="$(redis_connections)"
	check "invalidating run: exit code" 0 "$RC"
	check "invalidating run: files in done/" "$FILES" "$(find "$WORK/spool2/done" -name '*.csv' | wc -l)"
	check "invalidating run: keys invalidated, summed over the files" "$((FILES * 100))" \
		"$(sum_field inval keys_invalidated)"
	# redis-cli's own connection is counted too.
	local used=$((after - before - 1))
	note "the run opened $used Redis connections for $FILES files with $WORKERS workers"
	check_true "Redis connections: $used <= workers + 1" test "$used" -le $((WORKERS + 1))
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-sessions.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	orders_table orders
	spool "$WORK/spool" 700
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
	invalidating_run
	finish
}

main "$@"
