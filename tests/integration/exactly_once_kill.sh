#!/usr/bin/env bash
# Proves that a 1M-record load (--batch-rows 20000) killed with kill -9 at 5
# random moments, each time started again with the same command, and then
# run once more to completion, leaves every record in a table with no
# primary key exactly once: after each kill the table holds exactly the rows
# of the chunks the ledger records as committed, the completing run rejects
# nothing and marks the source complete, and one more run loads nothing
# and exits 0.
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
KILLS=5
# The most chunks a run must commit before its kill clock starts, and the
# longest extra delay: small enough that no run can finish first (a run
# commits 50 chunks in a few seconds), large enough to land anywhere in a
# chunk's COPY and COMMIT.
GAP_CHUNKS_MAX=3
DELAY_MS_MAX=150

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-kill.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	seed_random
	pg_start
	orders_table orders
	# Each chunk's COPY first sleeps 20 ms: a run then lasts over half a
	# second more, whatever the machine's speed, and the kills below land
	# while it runs.
	slow_copies orders 0.02
	local input="$WORK/orders.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 7 -o "$input"
	# The same command every time.
	local cmd=(--table orders --batch-rows "$BATCH_ROWS" "$input")

	local i gap delay_ms before t0 at_kill moments=()
	for ((i = 1; i <= KILLS; i++)); do
		before="$(ledger_chunks)"
		# Each kill gets an equal share of the chunks still to commit, so
		# that the later runs still have work left to be killed in: the
		# moment is random within that share (~20 ms a chunk here).
		local share=$(((ROWS / BATCH_ROWS - before) / (KILLS - i + 2)))
		((share >= 1)) || share=1
		local gap_max=$((share / 2 < GAP_CHUNKS_MAX ? share / 2 : GAP_CHUNKS_MAX))
		local delay_max=$((share * 8 < DELAY_MS_MAX ? share * 8 : DELAY_MS_MAX))
		gap=$((RANDOM % (gap_max + 1)))
		delay_ms=$((RANDOM % (delay_max + 1)))
		t0="$(now_ms)"
		load_bg "kill$i" "${cmd[@]}"
		if ((gap == 0)); then
			wait_until "$WAIT_TIMEOUT_S" "run $i to start a COPY" copy_running ||
				die "run $i never started loading"
		else
			wait_until "$WAIT_TIMEOUT_S" "run $i to commit $gap chunks" chunks_at_least $((before + gap)) ||
				die "run $i committed no $gap chunks"
		fi
		# The randomised moment of the kill within the load.
		sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
		if loader_gone; then
			show_err "kill$i"
			die "run $i ended before it could be killed (test timing: lower GAP_CHUNKS_MAX or DELAY_MS_MAX)"
		fi
		kill -9 "$LOADER_PID"
		at_kill="$(($(now_ms) - t0))"
		reap "$LOADER_PID"
		check "run $i died of SIGKILL" 137 "$RC"
		# The killed run's connections end when the server notices; a
		# new run would otherwise find the source still locked.
		wait_until "$WAIT_TIMEOUT_S" "the killed run's sessions to end" no_other_sessions ||
			die "the server kept the killed run's sessions"
		local chunks loaded rows
		chunks="$(ledger_chunks)"
		loaded="$(ledger_loaded)"
		rows="$(psql_q 'SELECT count(*) FROM orders')"
		moments+=("run $i: killed ${at_kill} ms after start (${gap} chunks + ${delay_ms} ms), chunks $before -> $chunks, rows $rows")
		note "${moments[-1]}"
		check "kill $i: rows in the table = rows of the ledger's committed chunks" "$loaded" "$rows"
	done

	# The completing run: skips exactly what the ledger holds, rejects nothing.
	local committed_before
	committed_before="$(ledger_q "SELECT coalesce(sum(records), 0) FROM edonu_ingest.chunks")"
	load final "${cmd[@]}"
	[[ "$RC" == 0 ]] || show_err final
	check "final run exit code" 0 "$RC"
	check "final run rejected" 0 "$(sum_field final rejected)"
	check "final run skipped the committed chunks' records" "$committed_before" "$(sum_field final skipped)"
	check "final run loaded the rest" $((ROWS - committed_before)) "$(sum_field final loaded)"
	check "rows" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders')"
	check "distinct order_id" "$ROWS" "$(psql_q 'SELECT count(DISTINCT order_id) FROM orders')"
	check "ledger: source state, records, loaded, rejected" "complete|$ROWS|$ROWS|0" \
		"$(psql_q "SELECT state, records, loaded, rejected FROM edonu_ingest.sources")"
	# The chunks tile the input: from record 1, each where the one before
	# ended, none over --batch-rows (a file this long starts with smaller
	# chunks and ends with shrinking ones).
	check "ledger: chunks tile the input" "1|$ROWS|0|0" \
		"$(psql_q "SELECT min(first_record), sum(records),
			count(*) FILTER (WHERE records > $BATCH_ROWS),
			count(*) FILTER (WHERE prev_end IS NOT NULL AND prev_end <> first_record)
			FROM (SELECT first_record, records,
				lag(first_record + records) OVER (ORDER BY first_record) AS prev_end
				FROM edonu_ingest.chunks) t")"

	# A completed source is skipped whole.
	load again "${cmd[@]}"
	check "rerun of the completed source: exit code" 0 "$RC"
	check "rerun of the completed source: skipped" "$ROWS" "$(sum_field again skipped)"
	check "rerun of the completed source: loaded" 0 "$(sum_field again loaded)"
	check "rows after the rerun" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders')"

	note "kill moments:"
	for i in "${moments[@]}"; do
		note "  $i"
	done
	finish
}

main "$@"
