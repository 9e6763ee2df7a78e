#!/usr/bin/env bash
# Proves that a Redis that is down, or goes down during a load, costs no row
# and no invalidation: with Redis stopped, 100k records (every 50th bad)
# load 98000 rows once, the run exits 75 with 98000 keys pending; with Redis
# back and the keys seeded again, the same command loads nothing and leaves
# exactly the 3000 keys of the rejected records and the unrelated ones.
# Then, with Redis killed during a larger load (restarted before the load
# ends, and in a second load not), rows are loaded exactly once and after a
# rerun no key of a committed row is left in Redis, while the rejected
# records' and the unrelated keys all are.
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

ROWS=100000
BAD_EVERY=50
UNRELATED=1000
# The loads during which Redis is killed: long enough (100 chunks) that the
# kill and the restart land while rows are still being loaded.
MID_ROWS=200000
MID_BATCH_ROWS=2000
KILL_AT_CHUNKS=10
RESTART_AT_CHUNKS=40

# freeze_and_kill_redis: kills Redis with kill -9 keeping what it holds at
# that moment: writes are paused (the loader's UNLINKs wait), the data set
# is saved, then the server is killed.  The restart loads the saved data,
# so that a key the loader did not get acknowledged is still there, like
# a cache whose server came back with its data.
freeze_and_kill_redis() {
	rcli CLIENT PAUSE 30000 WRITE >/dev/null
	rcli SAVE >/dev/null
	redis_kill
}

# mid_run NAME TABLE RESTART: a load of the large file into TABLE during
# which Redis is killed after KILL_AT_CHUNKS chunks; with RESTART=yes it
# is restarted after RESTART_AT_CHUNKS chunks while the load goes on.
# Then the same command once more, with Redis up.  Checks rows and keys.
mid_run() {
	local name="$1" table="$2" restart="$3"
	local input="$WORK/mid.csv"
	orders_table "$table"
	rcli FLUSHALL >/dev/null
	seed_keys "$WORK/mid.all" "$UNRELATED"
	local cmd=(--table "$table" --batch-rows "$MID_BATCH_ROWS" --redis "$EDONU_TEST_REDIS"
		--invalidate "$KEY_TEMPLATE" --state-dir "$WORK/state" "$input")
	load_bg "$name" "${cmd[@]}"
	wait_until "$WAIT_TIMEOUT_S" "$KILL_AT_CHUNKS chunks" chunks_of_at_least "$table" "$KILL_AT_CHUNKS" ||
		die "$name: no $KILL_AT_CHUNKS chunks committed"
	loader_gone && die "$name: the load ended before Redis could be killed (test timing)"
	freeze_and_kill_redis
	local at_kill
	at_kill="$(chunks_of "$table")"
	if [[ "$restart" == yes ]]; then
		wait_until "$WAIT_TIMEOUT_S" "$RESTART_AT_CHUNKS chunks" chunks_of_at_least "$table" "$RESTART_AT_CHUNKS" ||
			die "$name: no $RESTART_AT_CHUNKS chunks committed"
		loader_gone && note "$name: the load ended before Redis was restarted (it still retries for a while)"
		redis_restart
		note "$name: Redis killed after $at_kill chunks, restarted after $(chunks_of "$table")"
	fi
	reap "$LOADER_PID"
	note "load $name: exit $RC: $(summary_line "$name"), keys_pending $(sum_field "$name" keys_pending)"
	if [[ "$restart" == yes ]]; then
		check_true "$name: exit 65 (rejects) or 75 (keys pending)" test "$RC" -eq 65 -o "$RC" -eq 75
	else
		note "$name: Redis killed after $at_kill chunks, not restarted before the end"
		check "$name: exit code (keys pending)" 75 "$RC"
		check_true "$name: keys pending > 0" test "$(sum_field "$name" keys_pending)" -gt 0
		grep -q "$(sum_field "$name" keys_pending) cache keys still pending" "$WORK/$name.err" ||
			check "$name: stderr gives the keys pending" "present" "absent"
		redis_restart
	fi
	check "$name: rows" $((MID_ROWS - MID_ROWS / BAD_EVERY)) "$(psql_q "SELECT count(*) FROM $table")"
	check "$name: rows are distinct orders" $((MID_ROWS - MID_ROWS / BAD_EVERY)) \
		"$(psql_q "SELECT count(DISTINCT order_id) FROM $table")"
	# The rerun: nothing to load, the pending keys sent first.
	load "$name-rerun" "${cmd[@]}"
	# Its load had rejects: a rerun says so (65), and sends the keys all the same.
	check "$name-rerun: exit code" 65 "$RC"
	check "$name-rerun: skipped" "$MID_ROWS" "$(sum_field "$name-rerun" skipped)"
	check "$name-rerun: loaded" 0 "$(sum_field "$name-rerun" loaded)"
	check "$name-rerun: keys_pending" 0 "$(sum_field "$name-rerun" keys_pending)"
	check "$name: rows after the rerun" $((MID_ROWS - MID_ROWS / BAD_EVERY)) \
		"$(psql_q "SELECT count(*) FROM $table")"
	expected_left "$WORK/mid.bad" "$UNRELATED" "$WORK/mid.left.expected"
	redis_key_list "$WORK/$name.left"
	same_keys "$name: keys left after the rerun = rejected records' keys + unrelated keys" \
		"$WORK/mid.left.expected" "$WORK/$name.left"
}

# chunks_of TABLE: ledger chunks committed into TABLE.
chunks_of() {
	ledger_q "SELECT count(*) FROM edonu_ingest.chunks WHERE target LIKE '%$1%'"
}

chunks_of_at_least() {
	loader_gone || (($(chunks_of "$1") >= $2))
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	command -v python3 >/dev/null || die "python3 is needed to read the CSV"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-rdown.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	pg_start
	redis_start
	orders_table orders

	local input="$WORK/orders.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 21 --bad-every "$BAD_EVERY" -o "$input"
	csv_keys "$input" "$BAD_EVERY" "$WORK/keys"
	local cmd=(--table orders --redis "$EDONU_TEST_REDIS" --invalidate "$KEY_TEMPLATE"
		--state-dir "$WORK/state" "$input")

	# Must hold 2, first half: Redis down for the whole load.
	redis_kill
	load down "${cmd[@]}"
	check "down: exit code" 75 "$RC"
	check "down: rows" 98000 "$(psql_q 'SELECT count(*) FROM orders')"
	check "down: rows are distinct orders" 98000 "$(psql_q 'SELECT count(DISTINCT order_id) FROM orders')"
	check "down: summary loaded" 98000 "$(sum_field down loaded)"
	check "down: summary rejected" 2000 "$(sum_field down rejected)"
	check "down: summary keys_pending" 98000 "$(sum_field down keys_pending)"
	check "down: summary keys_invalidated" 0 "$(sum_field down keys_invalidated)"
	grep -q '98000 cache keys still pending' "$WORK/down.err" ||
		check "down: stderr says 98000 cache keys still pending" present "absent: $(tail -n 2 "$WORK/down.err")"

	# Second half: Redis back, keys seeded again, the same command.
	redis_restart
	seed_keys "$WORK/keys.all" "$UNRELATED"
	load back "${cmd[@]}"
	check "back: exit code (the load had rejects)" 65 "$RC"
	check "back: summary skipped" "$ROWS" "$(sum_field back skipped)"
	check "back: summary loaded" 0 "$(sum_field back loaded)"
	check "back: summary keys_invalidated" 98000 "$(sum_field back keys_invalidated)"
	check "back: summary keys_pending" 0 "$(sum_field back keys_pending)"
	check "back: rows" 98000 "$(psql_q 'SELECT count(*) FROM orders')"
	check "back: keys left in Redis" 3000 "$(rcli DBSIZE)"
	expected_left "$WORK/keys.bad" "$UNRELATED" "$WORK/left.expected"
	redis_key_list "$WORK/back.left"
	same_keys "back: keys left = rejected records' keys + unrelated keys" "$WORK/left.expected" "$WORK/back.left"

	# Redis killed during a load.
	"$EDONU_INGEST" gen --rows "$MID_ROWS" --seed 22 --bad-every "$BAD_EVERY" -o "$WORK/mid.csv"
	csv_keys "$WORK/mid.csv" "$BAD_EVERY" "$WORK/mid"
	mid_run killed_restarted orders_mid1 yes
	mid_run killed_stays_down orders_mid2 no
	finish
}

main "$@"
