#!/usr/bin/env bash
# demo.sh - the quick start: builds edonu-ingest, starts a throwaway
# PostgreSQL 15 and Redis, generates ROWS synthetic orders (default 1,000,000),
# loads them, prints the loader's summary and the row count, and stops the
# servers again.  Nothing outside temporary directories is touched.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${ROWS:-1000000}"
EI="$ROOT/build/edonu-ingest"

main() {
	bash "$ROOT/scripts/setup.sh"
	# shellcheck source=../tests/integration/lib.sh
	source "$ROOT/tests/integration/lib.sh"
	pg_start
	redis_start

	local tmp ddl
	tmp="$(mktemp -d "${TMPDIR:-/tmp}/edonu-demo.XXXXXX")"
	on_exit "rm -rf '$tmp'"

	ddl="$("$EI" gen --table-sql orders)"
	psql_q "$ddl"

	echo "== generating $ROWS orders"
	"$EI" gen --shape orders --rows "$ROWS" --seed 1 -o "$tmp/orders.csv"
	ls -l "$tmp/orders.csv"

	echo "== loading into PostgreSQL 15 (TimeZone $(psql_q 'SHOW TimeZone')), invalidating one Redis key per row"
	local rc=0
	"$EI" load --dsn "$EDONU_TEST_DSN" --table orders \
		--redis "$EDONU_TEST_REDIS" --invalidate 'erp:{tenant_id}:order:{order_id}' --state-dir "$tmp/state" \
		--summary - "$tmp/orders.csv" || rc=$?
	echo "== loader exit code: $rc"

	echo "== SELECT count(*) FROM orders"
	psql_q "SELECT count(*) FROM orders"
	echo "== stopping the servers"
	return "$rc"
}

main "$@"
