#!/usr/bin/env bash
# Proves that `run --shard K/N` splits a spool disjointly and completely: over
# 60 files with varied names (csv, zstd and none; spaces, capitals, dots
# and UTF-8 in names), the runs K = 0, 1, 2 of N = 3 each take exactly the files
# whose name's FNV-1a 64 hash mod 3 is K (computed here independently),
# every file ends in done/ once, and the table holds every file's rows
# exactly once.  Then that three shard instances started together on one
# spool, as the Indexed Job and the template units run them, do not shut
# each other out: each loads its own files and exits 0, while a plain run
# and a run with another shard count started meanwhile exit 75 and take
# nothing.
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

N=3
FILES=60
# Files of the second spool, taken by three shards at once.
FILES2=24
ROWS=10
# The generator's order_id is PREFIX * 10^9 + record number, PREFIX drawn
# from the seed: it tells which file a row came from.
ORDER_ID_FILE_DIV=1000000000

# shard_of: reads names a line and prints "K<TAB>name" with K the name's
# FNV-1a 64 hash (over its bytes) mod N.
shard_of() {
	python3 -c '
import sys
n = int(sys.argv[1])
for line in sys.stdin.buffer:
    name = line.rstrip(b"\n")
    h = 0xcbf29ce484222325
    for b in name:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    sys.stdout.buffer.write(b"%d\t%s\n" % (h % n, name))
' "$N"
}

# make_spool DIR COUNT SEED0: COUNT files of ROWS records with varied names
# and seeds SEED0, SEED0 + 1, ...; records each file's order_id prefix in
# $WORK/prefixes.
make_spool() {
	local dir="$1" count="$2" seed0="$3" i name seed
	local -a stems=(orders "ERP export" inv_2025 stock-moves "pedido-ção" Z a.b)
	mkdir -p "$dir"
	for ((i = 0; i < count; i++)); do
		seed=$((seed0 + i))
		name="${stems[i % ${#stems[@]}]}-$i"
		case $((i % 3)) in
		0) name+=.csv ;;
		1) name+=.csv.zst ;;
		2) ;; # no extension: the format by content
		esac
		gen_into "$dir/$name" "$ROWS" "$seed"
		"$EDONU_INGEST" gen --rows 1 --seed "$seed" --format ndjson |
			jq -r ".order_id / $ORDER_ID_FILE_DIV | floor" >>"$WORK/prefixes"
	done
}

# expect_shard K: the names of shard K, sorted, from the independent hash.
expect_shard() {
	awk -F '\t' -v k="$1" '$1 == k { print $2 }' "$WORK/shards" | LC_ALL=C sort
}

# rows_by_file_ok: every file's prefix has exactly ROWS rows and no other
# prefix has any.
rows_by_file_ok() {
	local want got
	want="$(LC_ALL=C sort -u "$WORK/prefixes" | awk -v r="$ROWS" '{ print $1 "|" r }')"
	got="$(psql_q "SELECT order_id / $ORDER_ID_FILE_DIV, count(*) FROM orders GROUP BY 1" | LC_ALL=C sort)"
	[[ "$want" == "$got" ]]
}

# waiting_backends: sessions blocked on a lock (loaders behind the holder).
waiting_backends() {
	psql_q "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted"
}

# others_settled PID...: each of these shard runs has ended or waits on the
# table like shard 0 (one waiting session each, --workers 1).
others_settled() {
	local p alive=0
	for p in "$@"; do
		if kill -0 "$p" 2>/dev/null; then
			alive=$((alive + 1))
		fi
	done
	(($(waiting_backends) >= 1 + alive))
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	command -v python3 >/dev/null || die "python3 is needed to hash the names"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-shard.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	pg_start
	orders_table orders

	local spool="$WORK/spool" k args want got total=0
	make_spool "$spool" "$FILES" 100
	files_in "$spool" | shard_of >"$WORK/shards"
	check "distinct files made" "$FILES" "$(LC_ALL=C sort -u "$WORK/prefixes" | wc -l | tr -d ' ')"
	args=(--dsn "$EDONU_TEST_DSN" --table orders --progress never --settle 0 --spool "$spool")

	# --- one shard after another ----------------------------------------
	for ((k = 0; k < N; k++)); do
		want="$(expect_shard "$k")"
		local before after
		before="$(files_in "$spool/done" 2>/dev/null || true)"
		run_spool "shard$k" "${args[@]}" --shard "$k/$N"
		[[ "$RC" == 0 ]] || show_err "shard$k"
		check "shard $k/$N: exit code" 0 "$RC"
		after="$(files_in "$spool/done")"
		got="$(LC_ALL=C comm -13 <(printf '%s\n' "$before" | sed '/^$/d') <(printf '%s\n' "$after"))"
		check "shard $k/$N: took exactly its files" "$want" "$got"
		check "shard $k/$N: loaded its files' records" "$(($(printf '%s' "$want" | grep -c '^') * ROWS))" \
			"$(sum_field "shard$k" loaded)"
		total=$((total + $(printf '%s' "$want" | grep -c '^')))
	done
	check "the shards together: every file" "$FILES" "$total"
	check "done/: every file once" "$(cut -f2 "$WORK/shards" | LC_ALL=C sort)" "$(files_in "$spool/done")"
	check "spool emptied (but for the lock files)" "" "$(files_in "$spool" | grep -v '^\.edonu-ingest\.lock' || true)"
	check "failed/ empty" "" "$(files_in "$spool/failed")"
	check "rows" "$((FILES * ROWS))" "$(psql_q 'SELECT count(*) FROM orders')"
	check "distinct order_id" "$((FILES * ROWS))" "$(psql_q 'SELECT count(DISTINCT order_id) FROM orders')"
	check_true "each file's rows exactly once" rows_by_file_ok

	# --- the shards at once, on one spool -------------------------------
	# Shard 0 waits behind a lock on the table while shards 1 and 2 start,
	# so that all three surely overlap.
	local spool2="$WORK/spool2" i
	local -a pids=()
	make_spool "$spool2" "$FILES2" 1000
	files_in "$spool2" | shard_of >"$WORK/shards"
	for ((k = 0; k < N; k++)); do
		[[ -n "$(expect_shard "$k")" ]] || die "no file of shard $k among the names (test data)"
	done
	args=(--dsn "$EDONU_TEST_DSN" --table orders --progress never --settle 0 --spool "$spool2" --workers 1)
	table_lock_take orders
	run_spool_bg par0 "${args[@]}" --shard "0/$N"
	pids+=("$LOADER_PID")
	wait_until "$WAIT_TIMEOUT_S" "shard 0 to wait on the table" loader_waits_on_lock || true
	for ((k = 1; k < N; k++)); do
		run_spool_bg "par$k" "${args[@]}" --shard "$k/$N"
		pids+=("$LOADER_PID")
	done
	wait_until "$WAIT_TIMEOUT_S" "shards 1 and 2 to wait on the table or end" \
		others_settled "${pids[@]:1}" || true
	# While the shards hold the spool, neither a plain run nor a run with
	# another shard count takes a file of it.
	LOADER_PID="${pids[0]}"
	loader_gone && die "shard 0 ended while the table was locked"
	local before_others
	before_others="$(files_in "$spool2")"
	run_spool plain "${args[@]}"
	check "at once: a plain run: exit code" 75 "$RC"
	check_true "at once: a plain run: names the sharded runs" grep -q "being loaded by sharded runs" "$WORK/plain.err"
	run_spool other_n "${args[@]}" --shard "0/$((N + 1))"
	check "at once: --shard 0/$((N + 1)): exit code" 75 "$RC"
	check_true "at once: --shard 0/$((N + 1)): names the shard count" grep -q "another shard count" "$WORK/other_n.err"
	check "at once: the spool untouched by both (but for lock files)" \
		"$(printf '%s\n' "$before_others" | grep -v '^\.edonu-ingest\.lock')" \
		"$(files_in "$spool2" | grep -v '^\.edonu-ingest\.lock')"
	table_lock_release
	for ((k = 0; k < N; k++)); do
		LOADER_PID="${pids[k]}"
		wait_until "$LOAD_TIMEOUT_S" "shard $k to finish" loader_gone || die "shard $k did not finish"
		reap "${pids[k]}"
		[[ "$RC" == 0 ]] || show_err "par$k"
		check "at once: shard $k/$N: exit code" 0 "$RC"
		check "at once: shard $k/$N: loaded its files' records" \
			"$(($(expect_shard "$k" | grep -c '^') * ROWS))" "$(sum_field "par$k" loaded)"
	done
	check "at once: done/: every file once" "$(cut -f2 "$WORK/shards" | LC_ALL=C sort)" "$(files_in "$spool2/done")"
	i=$(((FILES + FILES2) * ROWS))
	check "at once: rows" "$i" "$(psql_q 'SELECT count(*) FROM orders')"
	check "at once: distinct order_id" "$i" "$(psql_q 'SELECT count(DISTINCT order_id) FROM orders')"
	finish
}

main "$@"
