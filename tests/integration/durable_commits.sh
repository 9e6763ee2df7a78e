#!/usr/bin/env bash
# Proves that what a load committed is on disk when the loader exits, though
# its batches commit without waiting for the disk (synchronous_commit off):
# right after the loader ends, the server's WAL is flushed as far as it is
# written, for a load that completes and for one that --max-rejects stops
# half-way (no source marked complete). The server keeps unflushed WAL for
# 10 s (wal_writer_delay) and writes none of its own (wal_level minimal,
# autovacuum off), and the test first shows that an asynchronous commit
# leaves the WAL unflushed there, so the checks can fail.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

ROWS=20000
BATCH_ROWS=1000

# unflushed: "yes" when WAL is written but not yet flushed to disk.
unflushed() {
	psql_q "SELECT CASE WHEN pg_current_wal_flush_lsn() < pg_current_wal_insert_lsn() THEN 'yes' ELSE 'no' END"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-durable.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	PG_EXTRA_CONF="$(printf '%s\n' "wal_level = minimal" "max_wal_senders = 0" "wal_writer_delay = 10s" \
		"wal_writer_flush_after = 1GB" "autovacuum = off")"
	export PG_EXTRA_CONF
	pg_start
	orders_table orders
	local good="$WORK/good.csv" bad="$WORK/bad.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 5 -o "$good"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 6 --bad-every 15000 -o "$bad"

	# 0. The server shows an asynchronous commit as unflushed WAL.
	psql -XAtq -v ON_ERROR_STOP=1 -c "CREATE TABLE probe (x int)" -c "CHECKPOINT"
	psql -XAtq -v ON_ERROR_STOP=1 -c "SET synchronous_commit = off" -c "INSERT INTO probe VALUES (1)"
	check "an asynchronous commit leaves WAL unflushed" yes "$(unflushed)"
	psql -XAtq -v ON_ERROR_STOP=1 -c "CHECKPOINT"

	# 1. A load that completes.
	load good --table orders --workers 2 --batch-rows "$BATCH_ROWS" "$good"
	check "complete load: exit code" 0 "$RC"
	check "complete load: WAL unflushed after exit" no "$(unflushed)"
	check "complete load: rows" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders')"

	# 2. A load stopped by --max-rejects: its committed chunks stay, on disk.
	psql -XAtq -v ON_ERROR_STOP=1 -c "TRUNCATE orders" -c "CHECKPOINT"
	load bad --table orders --workers 2 --batch-rows "$BATCH_ROWS" --max-rejects 0 "$bad"
	check "stopped load: exit code" 65 "$RC"
	local loaded
	loaded="$(sum_field bad loaded)"
	check_true "stopped load: some chunks committed ($loaded)" test "$loaded" -gt 0
	check "stopped load: WAL unflushed after exit" no "$(unflushed)"
	check "stopped load: rows are the summary's" "$loaded" "$(psql_q 'SELECT count(*) FROM orders')"
	finish
}

main "$@"
