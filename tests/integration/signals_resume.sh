#!/usr/bin/env bash
# Proves that SIGTERM during a 1M-record load (--batch-rows 20000) makes the
# loader finish or roll back its chunks in flight and exit 75 (not die of the
# signal) with its summary written, that the table then holds exactly the
# committed chunks' rows, and that the next run completes the load with
# every record exactly once (table with no primary key) and exits 0; SIGINT
# behaves the same.  And that a load whose chunks are stuck in the server
# (behind another session's lock on the table) still stops: 10 s after
# SIGTERM it cancels them (they roll back) and exits 75, at once after a
# second signal, committing nothing; and that a load from a pipe that has
# gone quiet (its writer still open) stops within a second of SIGTERM, both
# with chunks closing only when full (it committed nothing) and after its
# flush interval committed what had arrived (the summary counts those rows).
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
# A signal must stop a run within this: it only finishes the chunks in flight.
STOP_TIMEOUT_S=30

# await_stop NAME SINCE_MS WHAT: waits for the loader to end after a signal
# sent at SINCE_MS; kills it (and records a failure) when it still runs
# after STOP_TIMEOUT_S; reaps it into RC and sets STOP_MS.
await_stop() {
	local name="$1" since_ms="$2" what="$3"
	wait_until "$STOP_TIMEOUT_S" "$name to stop after $what" loader_gone || true
	STOP_MS=$(($(now_ms) - since_ms))
	if ! loader_gone; then
		FAILED+=("$name: still running ${STOP_TIMEOUT_S}s after $what")
		kill -9 "$LOADER_PID"
	fi
	reap "$LOADER_PID"
}

# interrupt NAME SIGNAL: starts the load, sends SIGNAL once it has
# committed a few chunks and a random moment later, and checks how it ends.
interrupt() {
	local name="$1" sig="$2" gap delay_ms
	gap=$((1 + RANDOM % 3))
	delay_ms=$((RANDOM % 200))
	load_bg "$name" --table orders --batch-rows "$BATCH_ROWS" "$INPUT"
	wait_until "$WAIT_TIMEOUT_S" "$name to commit $gap chunks" chunks_at_least $(($(ledger_chunks) + gap)) ||
		die "$name committed no $gap chunks"
	sleep "0.$(printf '%03d' "$delay_ms")"
	loader_gone && die "$name ended before the signal (test timing)"
	kill -s "$sig" "$LOADER_PID"
	await_stop "$name" "$(now_ms)" "SIG$sig"
	note "$name: SIG$sig after $gap chunks + $delay_ms ms; exited $RC ${STOP_MS} ms later"
	[[ "$RC" == 75 ]] || show_err "$name"
	check "$name: exit code after SIG$sig" 75 "$RC"
	check "$name: summary's exit_code" 75 "$(sum_field "$name" exit_code)"
	check_true "$name: summary names the interruption" grep -qi signal <<<"$(sum_field "$name" error)"
	local rows
	rows="$(psql_q 'SELECT count(*) FROM orders')"
	check "$name: rows = rows of the ledger's committed chunks" "$(ledger_loaded)" "$rows"
	check "$name: rejected" 0 "$(sum_field "$name" rejected)"
	check_true "$name: stopped before the end ($rows rows)" test "$rows" -lt "$ROWS"
}

# interrupt_stuck NAME SIGNAL... LIMIT_MS: with the table locked by another
# session, starts the load, waits until its COPY waits on the lock, sends the
# signals 0.5 s apart, and expects exit 75 within LIMIT_MS of the last one
# with nothing committed.
interrupt_stuck() {
	local name="$1" limit_ms="${*: -1}" sig t_sig
	local -a sigs=("${@:2:$#-2}")
	local before
	before="$(ledger_chunks)"
	load_bg "$name" --table orders --batch-rows "$BATCH_ROWS" "$INPUT"
	wait_until "$WAIT_TIMEOUT_S" "$name to wait on the table" loader_waits_on_lock ||
		die "$name did not wait on the table"
	loader_gone && die "$name ended while the table was locked"
	for sig in "${sigs[@]}"; do
		kill -s "$sig" "$LOADER_PID"
		t_sig="$(now_ms)"
		sleep 0.5
	done
	await_stop "$name" "$t_sig" "SIG${sigs[*]}"
	note "$name: SIG${sigs[*]} while stuck on a lock; exited $RC ${STOP_MS} ms after the last"
	[[ "$RC" == 75 ]] || show_err "$name"
	check "$name: exit code" 75 "$RC"
	check_true "$name: stopped within $limit_ms ms of the last signal (took $STOP_MS)" test "$STOP_MS" -le "$limit_ms"
	check_true "$name: the error says the chunks in flight were canceled" \
		grep -q "canceled" <<<"$(sum_field "$name" error) $(cat "$WORK/$name.err")"
	check "$name: committed no chunk" "$before" "$(ledger_chunks)"
	check "$name: loaded" 0 "$(sum_field "$name" loaded)"
}

# rows_in TABLE: rows of TABLE (or the loader gone).
rows_in() {
	loader_gone || (($(psql_q "SELECT count(*) FROM $1") > 0))
}

# interrupt_quiet_pipe NAME TABLE FLUSH: a load from standard input into
# TABLE, a FIFO whose writer has sent 1000 records and stays open, gets
# SIGTERM. FLUSH 0: --flush-interval 0, chunks close only when full, so the
# load commits nothing (the file's load below owns these records in
# orders); else the default interval, and the signal comes once the
# records that arrived have committed.
interrupt_quiet_pipe() {
	local name="$1" table="$2" flush="$3" fifo="$WORK/$1.fifo" args=()
	((flush)) || args=(--flush-interval 0)
	mkfifo "$fifo"
	"$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never --summary "$WORK/$name.json" \
		--table "$table" --format csv "${args[@]}" - <"$fifo" 2>"$WORK/$name.err" &
	LOADER_PID=$!
	exec 3>"$fifo"
	head -n 1001 "$INPUT" >&3
	if ((flush)); then
		wait_until "$WAIT_TIMEOUT_S" "$name to commit what arrived" rows_in "$table" || true
	else
		sleep 1
	fi
	loader_gone && { exec 3>&-; die "$name ended while its input was open"; }
	kill -s TERM "$LOADER_PID"
	await_stop "$name" "$(now_ms)" SIGTERM
	exec 3>&-
	note "$name: SIGTERM while its pipe was quiet; exited $RC ${STOP_MS} ms later"
	check "$name: exit code" 75 "$RC"
	check_true "$name: stopped within 1000 ms (took $STOP_MS)" test "$STOP_MS" -le 1000
	check_true "$name: summary names the interruption" grep -qi signal <<<"$(sum_field "$name" error)"
	if ((flush)); then
		check_true "$name: loaded some" test "$(sum_field "$name" loaded)" -gt 0
		check "$name: loaded = rows" "$(psql_q "SELECT count(*) FROM $table")" "$(sum_field "$name" loaded)"
	else
		check "$name: loaded" 0 "$(sum_field "$name" loaded)"
	fi
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-sig.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	seed_random
	pg_start
	orders_table orders
	# Each chunk's COPY first sleeps 20 ms: a run then lasts over half a
	# second more, whatever the machine's speed, and the signals below land
	# while it runs.
	slow_copies orders 0.02
	INPUT="$WORK/orders.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 11 -o "$INPUT"

	interrupt term TERM
	# What the first run reported as loaded is what the ledger holds.
	check "term: summary loaded = ledger" "$(ledger_loaded)" "$(sum_field term loaded)"
	interrupt int INT

	table_lock_take orders
	interrupt_stuck stuck_term TERM 20000
	interrupt_stuck stuck_twice TERM INT 4000
	table_lock_release
	interrupt_quiet_pipe quiet_pipe orders 0
	orders_table orders_stream
	interrupt_quiet_pipe quiet_pipe_flushed orders_stream 1

	local committed
	committed="$(ledger_q "SELECT coalesce(sum(records), 0) FROM edonu_ingest.chunks WHERE source_id LIKE 'file:%'")"
	load resume --table orders --batch-rows "$BATCH_ROWS" "$INPUT"
	[[ "$RC" == 0 ]] || show_err resume
	check "resume: exit code" 0 "$RC"
	check "resume: skipped the committed chunks" "$committed" "$(sum_field resume skipped)"
	check "resume: loaded + skipped" "$ROWS" "$(($(sum_field resume loaded) + $(sum_field resume skipped)))"
	check "resume: rejected" 0 "$(sum_field resume rejected)"
	check "rows" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders')"
	check "distinct order_id" "$ROWS" "$(psql_q 'SELECT count(DISTINCT order_id) FROM orders')"
	check "ledger: the file's source" "complete|$ROWS" \
		"$(psql_q "SELECT state, loaded FROM edonu_ingest.sources WHERE source_id LIKE 'file:%'")"
	finish
}

main "$@"
