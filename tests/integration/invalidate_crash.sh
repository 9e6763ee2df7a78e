#!/usr/bin/env bash
# Proves that a loader killed with kill -9 after a COMMIT and before Redis
# took the chunk's UNLINK forgets no invalidation: with Redis writes paused
# (so that UNLINKs wait) the loader commits chunks and is killed; the keys
# of those committed rows are still in Redis, and the same command run
# again replays the journal's pending entries before anything else; after
# two more kills at random moments with Redis up and a run to completion,
# every row is in the table once, no key of a committed row is left in
# Redis, and the rejected records' keys and the unrelated keys all are.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"
# shellcheck source=cache_helpers.sh
source "$HERE/cache_helpers.sh"

ROWS=200000
BAD_EVERY=50
UNRELATED=1000
BATCH_ROWS=2000
# Chunks committed before Redis writes are paused, and chunks committed
# while they are paused before the kill.
PAUSE_AT_CHUNKS=5
CHUNKS_WHILE_PAUSED=3
# Longer than the waits below: unpaused by the test, not by the timeout.
PAUSE_MS=60000
# The random kills with Redis up: after up to GAP_CHUNKS_MAX more chunks
# and up to DELAY_MS_MAX ms.
RANDOM_KILLS=2
GAP_CHUNKS_MAX=4
DELAY_MS_MAX=150

# committed_keys_left: how many keys of rows in the table are still in
# Redis.
committed_keys_left() {
	psql_q "SELECT 'erp:' || tenant_id || ':order:' || order_id FROM orders" | LC_ALL=C sort >"$WORK/table.keys"
	redis_key_list "$WORK/now.keys"
	comm -12 "$WORK/table.keys" "$WORK/now.keys" | wc -l
}

# kill_loader NAME: kill -9 of the background loader; waits until the
# server has dropped its sessions.
kill_loader() {
	loader_gone && die "$1: the load ended before it could be killed (test timing)"
	kill -9 "$LOADER_PID"
	reap "$LOADER_PID"
	check "$1: died of SIGKILL" 137 "$RC"
	wait_until "$WAIT_TIMEOUT_S" "the killed run's sessions to end" no_other_sessions ||
		die "the server kept the killed run's sessions"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	command -v python3 >/dev/null || die "python3 is needed to read the CSV"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-icrash.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	seed_random
	pg_start
	redis_start
	on_exit "redis-cli -s '$REDIS_SOCKET' CLIENT UNPAUSE >/dev/null 2>&1 || true"
	orders_table orders

	local input="$WORK/orders.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 31 --bad-every "$BAD_EVERY" -o "$input"
	csv_keys "$input" "$BAD_EVERY" "$WORK/keys"
	seed_keys "$WORK/keys.all" "$UNRELATED"
	local cmd=(--table orders --batch-rows "$BATCH_ROWS" --redis "$EDONU_TEST_REDIS"
		--invalidate "$KEY_TEMPLATE" --state-dir "$WORK/state" "$input")

	# Each COPY first sleeps 20 ms, from the first run on, so that chunks
	# commit at a bounded pace (a chunk of 2000 rows commits in a few ms
	# here): the runs below wait for chunks by polling, and every kill must
	# still find chunks left to load, however fast the loader.
	slow_copies orders 0.02

	# Kill 1: between COMMIT and UNLINK.
	load_bg paused "${cmd[@]}"
	wait_until "$WAIT_TIMEOUT_S" "$PAUSE_AT_CHUNKS chunks" chunks_at_least "$PAUSE_AT_CHUNKS" ||
		die "no $PAUSE_AT_CHUNKS chunks committed"
	rcli CLIENT PAUSE "$PAUSE_MS" WRITE >/dev/null
	local at_pause
	at_pause="$(ledger_chunks)"
	wait_until "$WAIT_TIMEOUT_S" "$CHUNKS_WHILE_PAUSED chunks committed with Redis paused" \
		chunks_at_least $((at_pause + CHUNKS_WHILE_PAUSED)) ||
		die "no chunks committed while Redis was paused"
	kill_loader paused
	rcli CLIENT UNPAUSE >/dev/null
	local rows left
	rows="$(psql_q 'SELECT count(*) FROM orders')"
	left="$(committed_keys_left)"
	note "paused: killed after $(ledger_chunks) chunks ($at_pause before the pause), $rows rows, $left of their keys still in Redis"
	check_true "paused: keys of committed rows are still in Redis after the kill" test "$left" -gt 0
	check_true "paused: the state directory holds a journal" test -n "$(state_dir_listing "$WORK/state")"
	# Rows committed by the killed run: their keys must go first thing.
	cp "$WORK/table.keys" "$WORK/first.keys"

	# The rerun replays the pending entries first: killed again as soon as
	# it has committed a chunk, those keys are gone already.
	load_bg replay "${cmd[@]}"
	wait_until "$WAIT_TIMEOUT_S" "the rerun to commit a chunk" chunks_at_least $(($(ledger_chunks) + 1)) ||
		die "the rerun committed no chunk"
	local keys_after_replay
	kill_loader replay
	redis_key_list "$WORK/now.keys"
	keys_after_replay="$(comm -12 "$WORK/first.keys" "$WORK/now.keys" | wc -l)"
	grep -q invalidation_replayed "$WORK/replay.err" ||
		check "replay: the rerun logged the replay of pending keys" present "absent: $(head -n 3 "$WORK/replay.err")"
	check "replay: keys of rows committed so far left in Redis" 0 "$keys_after_replay"

	# Random kills with Redis up.
	local i gap delay_ms before
	for ((i = 1; i <= RANDOM_KILLS; i++)); do
		before="$(ledger_chunks)"
		# A random moment within an equal share of the chunks still to
		# commit, so that every kill finds the load still running.
		local share=$(((ROWS / BATCH_ROWS - before) / (RANDOM_KILLS - i + 2)))
		((share >= 2)) || share=2
		local gap_max=$((share / 2 < GAP_CHUNKS_MAX ? share / 2 : GAP_CHUNKS_MAX))
		local delay_max=$((share < DELAY_MS_MAX ? share : DELAY_MS_MAX))
		gap=$((RANDOM % gap_max + 1))
		delay_ms=$((RANDOM % (delay_max + 1)))
		load_bg "random$i" "${cmd[@]}"
		wait_until "$WAIT_TIMEOUT_S" "run $i to commit $gap chunks" chunks_at_least $((before + gap)) ||
			die "run $i committed no $gap chunks"
		sleep "0.$(printf '%03d' "$delay_ms")"
		kill_loader "random$i"
		note "random$i: killed $delay_ms ms after $gap chunks: chunks $before -> $(ledger_chunks)"
	done
	psql_q "DROP TRIGGER edonu_test_slow ON orders"

	# To completion, then once more.
	load complete "${cmd[@]}"
	# 65: the source had rejected records, whether this run or an earlier
	# one met them; so does a rerun of it.
	check "complete: exit code (the source had rejects)" 65 "$RC"
	check "complete: keys_pending" 0 "$(sum_field complete keys_pending)"
	load again "${cmd[@]}"
	check "again: exit code (the source had rejects)" 65 "$RC"
	check "again: loaded" 0 "$(sum_field again loaded)"
	check "rows" $((ROWS - ROWS / BAD_EVERY)) "$(psql_q 'SELECT count(*) FROM orders')"
	check "rows are distinct orders" $((ROWS - ROWS / BAD_EVERY)) "$(psql_q 'SELECT count(DISTINCT order_id) FROM orders')"
	check "keys of committed rows left in Redis" 0 "$(committed_keys_left)"
	expected_left "$WORK/keys.bad" "$UNRELATED" "$WORK/left.expected"
	redis_key_list "$WORK/left.actual"
	same_keys "keys left = rejected records' keys + unrelated keys" "$WORK/left.expected" "$WORK/left.actual"
	finish
}

main "$@"
