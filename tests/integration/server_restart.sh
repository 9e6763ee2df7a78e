#!/usr/bin/env bash
# Proves that a load survives its server going away under it: across a
# `pg_ctl restart -m fast` triggered while a 1M-record load runs, and across
# pg_terminate_backend of the sessions running its COPYs, the loader
# reconnects, retries the chunks in flight, exits 0 and leaves every
# record exactly once (table with no primary key) with the source complete
# in the ledger.  And that a SIGTERM while the server is down and the loader
# retries ends the run with 75 once the stop's grace period (10 s) is over,
# not after --retry-timeout, and the rerun completes it.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

ROWS=1000000
BATCH_ROWS=20000
TERMINATE_ROWS=300000
TERMINATE_BATCH_ROWS=5000

# expect_exactly_once NAME TABLE ROWS: the run's exit code, the table and
# the ledger after a load that was disturbed.
expect_exactly_once() {
	local name="$1" table="$2" rows="$3"
	[[ "$RC" == 0 ]] || show_err "$name"
	check "$name: exit code" 0 "$RC"
	check "$name: loaded" "$rows" "$(sum_field "$name" loaded)"
	check "$name: rejected" 0 "$(sum_field "$name" rejected)"
	check "$name: rows" "$rows" "$(psql_q "SELECT count(*) FROM $table")"
	check "$name: distinct order_id" "$rows" "$(psql_q "SELECT count(DISTINCT order_id) FROM $table")"
	check "$name: ledger: source state and loaded" "complete|$rows" \
		"$(psql_q "SELECT state, loaded FROM edonu_ingest.sources WHERE target = 'public.$table'")"
	check "$name: ledger: chunks' rows" "$rows" \
		"$(psql_q "SELECT coalesce(sum(loaded), 0) FROM edonu_ingest.chunks WHERE target = 'public.$table'")"
}

# terminate_copies: terminates the sessions running a COPY now; succeeds
# once it has terminated one (or the loader is gone).  Sets TERMINATED.
terminate_copies() {
	loader_gone && return 0
	TERMINATED="$(psql_q "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_progress_copy")"
	((TERMINATED > 0))
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-restart.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	seed_random
	pg_start
	orders_table orders
	orders_table orders_t
	orders_table orders_s
	slow_copies orders_s 0.05
	# 60 chunks of ~5 ms each would end before the test could act.
	slow_copies orders_t 0.05
	local input="$WORK/orders.csv" input_t="$WORK/orders_t.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 13 -o "$input"
	"$EDONU_INGEST" gen --rows "$TERMINATE_ROWS" --seed 17 -o "$input_t"

	# 1. pg_ctl restart -m fast once the load has committed a few chunks.
	local gap=$((2 + RANDOM % 8)) t0 restart_ms
	load_bg restart --table orders --batch-rows "$BATCH_ROWS" --retry-timeout 60 "$input"
	wait_until "$WAIT_TIMEOUT_S" "the load to commit $gap chunks" chunks_at_least "$gap" ||
		die "the load committed no $gap chunks"
	loader_gone && die "the load ended before the restart (test timing)"
	local at_restart
	at_restart="$(ledger_chunks)"
	t0="$(now_ms)"
	_lib_as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -m fast -w -t 60 restart >/dev/null ||
		die "pg_ctl restart failed; see $PG_DIR/server.log"
	restart_ms=$(($(now_ms) - t0))
	local running_after=yes
	loader_gone && running_after=no
	note "restarted the server after $at_restart of $((ROWS / BATCH_ROWS)) chunks, in ${restart_ms} ms; loader still running: $running_after"
	wait_until "$LOAD_TIMEOUT_S" "the load to end" loader_gone || die "the load did not end"
	reap "$LOADER_PID"
	note "load restart: exit $RC: $(summary_line restart)"
	check_true "restart: the loader retried a chunk" test "$(sum_field restart retries)" -gt 0
	expect_exactly_once restart orders "$ROWS"

	# 2. The sessions running the load's COPYs terminated by an
	# administrator (57P01): the loader reconnects, the control session
	# stays.
	gap=$((2 + RANDOM % 10))
	local before
	before="$(ledger_chunks)"
	load_bg terminate --table orders_t --batch-rows "$TERMINATE_BATCH_ROWS" "$input_t"
	wait_until "$WAIT_TIMEOUT_S" "the load to commit $gap chunks" chunks_at_least $((before + gap)) ||
		die "the load committed no $gap chunks"
	TERMINATED=0
	wait_until "$WAIT_TIMEOUT_S" "a COPY session to terminate" terminate_copies || die "no COPY session ran"
	loader_gone && die "the load ended before a session was terminated (test timing)"
	note "terminated $TERMINATED COPY sessions after the run had committed at least $gap chunks"
	wait_until "$LOAD_TIMEOUT_S" "the load to end" loader_gone || die "the load did not end"
	reap "$LOADER_PID"
	note "load terminate: exit $RC: $(summary_line terminate)"
	check_true "terminate: the loader retried a chunk" test "$(sum_field terminate retries)" -gt 0
	expect_exactly_once terminate orders_t "$TERMINATE_ROWS"

	# 3. SIGTERM while the server is down: the loader is retrying.
	before="$(ledger_chunks)"
	load_bg stopped --table orders_s --batch-rows "$TERMINATE_BATCH_ROWS" --retry-timeout 120 "$input_t"
	wait_until "$WAIT_TIMEOUT_S" "the load to commit 2 chunks" chunks_at_least $((before + 2)) ||
		die "the load committed no 2 chunks"
	_lib_as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null ||
		die "pg_ctl stop failed; see $PG_DIR/server.log"
	sleep 1
	loader_gone && die "the load ended while the server was down (it should retry)"
	kill -TERM "$LOADER_PID"
	t0="$(now_ms)"
	wait_until 60 "the load to stop after SIGTERM" loader_gone || true
	local stop_ms=$(($(now_ms) - t0))
	if ! loader_gone; then
		FAILED+=("stopped: still running 60 s after SIGTERM")
		kill -9 "$LOADER_PID"
	fi
	reap "$LOADER_PID"
	note "stopped: SIGTERM while the server was down; exited $RC ${stop_ms} ms later"
	check "stopped: exit code" 75 "$RC"
	check_true "stopped: within the grace period (took $stop_ms ms)" test "$stop_ms" -le 13000
	_lib_as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null ||
		die "pg_ctl start failed; see $PG_DIR/server.log"
	load stopped_rerun --table orders_s --batch-rows "$TERMINATE_BATCH_ROWS" "$input_t"
	check "stopped: rerun: exit code" 0 "$RC"
	check "stopped: rows" "$TERMINATE_ROWS" "$(psql_q 'SELECT count(*) FROM orders_s')"
	check "stopped: distinct order_id" "$TERMINATE_ROWS" "$(psql_q 'SELECT count(DISTINCT order_id) FROM orders_s')"
	finish
}

main "$@"
