#!/usr/bin/env bash
# Proves that SIGTERM to `edonu-ingest run` in the middle of a 1M-record
# spool file (--batch-rows 20000) makes it exit 75 as an exit code (not a
# death by the signal), with the table holding exactly the committed chunks'
# rows and the file still in the spool, and that the next run completes the
# file with every record exactly once (no key on the table, so a duplicate
# would show) and moves it to done/.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"
# shellcheck source=spool_helpers.sh
source "$HERE/spool_helpers.sh"

ROWS=1000000
BATCH_ROWS=20000
# A signal must stop a run within this once its chunks in flight can finish.
STOP_TIMEOUT_S=30

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-spool-term.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	pg_start
	orders_table orders

	local spool="$WORK/spool" args
	mkdir "$spool"
	gen_into "$spool/orders-1m.csv" "$ROWS" 11
	args=(--dsn "$EDONU_TEST_DSN" --table orders --progress never --batch-rows "$BATCH_ROWS"
		--spool "$spool" --settle 0)

	# Half the file committed, then the table locked: the run is surely in
	# the middle of the file, its next chunks waiting, when the signal comes.
	run_spool_bg term "${args[@]}"
	wait_until "$WAIT_TIMEOUT_S" "the run to commit a chunk" chunks_at_least 1 || true
	table_lock_take orders
	wait_until "$WAIT_TIMEOUT_S" "the run to wait on the table" loader_waits_on_lock || true
	loader_gone && { show_err term; die "the run ended before the signal"; }
	kill -TERM "$LOADER_PID"
	# The chunks in flight may finish (or roll back) once the lock goes.
	table_lock_release
	wait_until "$STOP_TIMEOUT_S" "the run to stop after SIGTERM" loader_gone || true
	if ! loader_gone; then
		kill -9 "$LOADER_PID"
		die "the run still ran ${STOP_TIMEOUT_S}s after SIGTERM"
	fi
	reap "$LOADER_PID"
	[[ "$RC" == 75 ]] || show_err term
	# A death by SIGTERM would show as 143 (128 + 15).
	check "SIGTERM: exit code (exited, not killed)" 75 "$RC"
	check "SIGTERM: summary's exit_code" 75 "$(sum_field term exit_code)"
	local rows
	rows="$(psql_q 'SELECT count(*) FROM orders')"
	check "SIGTERM: rows = the ledger's committed rows" "$(ledger_loaded)" "$rows"
	check "SIGTERM: summary's loaded = rows" "$rows" "$(sum_field term loaded)"
	check_true "SIGTERM: stopped in the middle ($rows rows)" test "$rows" -gt 0 -a "$rows" -lt "$ROWS"
	check "SIGTERM: the file stays in the spool" "$(printf '%s\n' .edonu-ingest.lock orders-1m.csv)" \
		"$(files_in "$spool")"
	check "SIGTERM: done/ and failed/ empty" "" "$(files_in "$spool/done")$(files_in "$spool/failed")"

	local committed
	committed="$(ledger_q 'SELECT coalesce(sum(records), 0) FROM edonu_ingest.chunks')"
	run_spool resume "${args[@]}"
	[[ "$RC" == 0 ]] || show_err resume
	check "resume: exit code" 0 "$RC"
	check "resume: skipped the committed chunks" "$committed" "$(sum_field resume skipped)"
	check "resume: loaded + skipped" "$ROWS" "$(($(sum_field resume loaded) + $(sum_field resume skipped)))"
	check "resume: rejected" 0 "$(sum_field resume rejected)"
	check "rows" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders')"
	check "distinct order_id" "$ROWS" "$(psql_q 'SELECT count(DISTINCT order_id) FROM orders')"
	check "resume: the file in done/" orders-1m.csv "$(files_in "$spool/done")"
	check "resume: spool emptied" .edonu-ingest.lock "$(files_in "$spool")"
	finish
}

main "$@"
