#!/usr/bin/env bash
# Proves that `edonu-ingest run --spool DIR` with a --config file giving dsn,
# table and progress loads a spool of 300k + 1k (100 bad) + 20k (zstd)
# orders records in one run (320900 rows), exits 65 because of the bad file,
# and files them under done/ and failed/ (the bad file with its 100 rejects
# beside it); that a second run, plain or sharded, started while the first
# holds the spool's lock exits 75 at once, names the holder's pid and loads
# nothing; that a loaded file dropped again under another name loads nothing
# and goes to done/; and that hidden, .part and .tmp files and files younger
# than --settle are left where they are.
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

# Old files are 1 hour old; the young one is new: this --settle tells them
# apart whatever the machine's speed.
SETTLE_S=600

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-spool.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	pg_start
	orders_table orders

	local spool="$WORK/spool" conf="$WORK/edonu-ingest.conf"
	mkdir "$spool"
	gen_into "$spool/a-orders-300k.csv" 300000 1
	gen_into "$spool/b-orders-1k.csv" 1000 2 --bad-every 10
	gen_into "$spool/c-orders-20k.csv.zst" 20000 3
	# Not to be taken: hidden, still being written under a temporary name,
	# or modified too recently.
	gen_into "$spool/.hidden.csv" 100 4
	gen_into "$spool/d-orders.csv.part" 100 5
	gen_into "$spool/e-orders.csv.tmp" 100 6
	"$EDONU_INGEST" gen --rows 500 --seed 7 -o "$spool/f-young.csv"
	cat >"$conf" <<-EOF
		# The loader's connection, table and progress come from here only.
		dsn = $EDONU_TEST_DSN
		table = orders
		progress = never
	EOF

	# The first run waits behind a lock on the table, so that it surely
	# holds the spool while the second starts.
	table_lock_take orders
	run_spool_bg first --config "$conf" --spool "$spool" --settle "$SETTLE_S"
	local first_pid="$LOADER_PID"
	wait_until "$WAIT_TIMEOUT_S" "the first run to lock the spool" spool_locked_by "$spool" "$first_pid" || true
	wait_until "$WAIT_TIMEOUT_S" "the first run to wait on the table" loader_waits_on_lock || true
	loader_gone && { show_err first; die "the first run ended before the second started"; }
	local before
	before="$(files_in "$spool")"

	run_spool second --config "$conf" --spool "$spool" --settle "$SETTLE_S"
	check "second run: exit code while the first holds the lock" 75 "$RC"
	check_true "second run: names the holder's pid $first_pid" grep -q "pid $first_pid" "$WORK/second.err"
	check "second run: summary's loaded" 0 "$(sum_field second loaded)"
	check "second run: summary's records_read" 0 "$(sum_field second records_read)"
	check "second run: spool untouched" "$before" "$(files_in "$spool")"
	# A sharded run is kept out by a plain run as well.
	run_spool sharded --config "$conf" --spool "$spool" --settle "$SETTLE_S" --shard 0/2
	check "sharded run: exit code while a plain run holds the spool" 75 "$RC"
	check_true "sharded run: names the holder's pid $first_pid" grep -q "pid $first_pid" "$WORK/sharded.err"
	check "sharded run: summary's records_read" 0 "$(sum_field sharded records_read)"
	check "sharded run: spool untouched (but for its lock file)" "$before" \
		"$(files_in "$spool" | grep -v '^\.edonu-ingest\.lock\.0-of-2$')"
	loader_gone && die "the first run ended while the table was locked"

	table_lock_release
	wait_until "$LOAD_TIMEOUT_S" "the first run to finish" loader_gone || die "the first run did not finish"
	reap "$first_pid"
	[[ "$RC" == 65 ]] || show_err first
	check "first run: exit code (worst file: rejects)" 65 "$RC"
	check "first run: summary's exit_code" 65 "$(sum_field first exit_code)"
	check "first run: loaded" 320900 "$(sum_field first loaded)"
	check "first run: rejected" 100 "$(sum_field first rejected)"
	check "first run: records_read" 321000 "$(sum_field first records_read)"
	check "rows after the first run" 320900 "$(psql_q 'SELECT count(*) FROM orders')"
	check "distinct order_id after the first run" 320900 "$(psql_q 'SELECT count(DISTINCT order_id) FROM orders')"
	check "done/" "$(printf '%s\n' a-orders-300k.csv c-orders-20k.csv.zst)" "$(files_in "$spool/done")"
	check "failed/" "$(printf '%s\n' b-orders-1k.csv b-orders-1k.csv.rejects.ndjson)" "$(files_in "$spool/failed")"
	local rej="$spool/failed/b-orders-1k.csv.rejects.ndjson"
	check "rejects beside the bad file: lines" 100 "$(count_lines "$rej")"
	check "rejects beside the bad file: JSON objects" 100 "$(jq -c 'select(type == "object")' "$rej" 2>/dev/null | wc -l | tr -d ' ')"
	check "left in the spool: hidden, .part, .tmp, young, lock" \
		"$(printf '%s\n' .edonu-ingest.lock .hidden.csv d-orders.csv.part e-orders.csv.tmp f-young.csv)" \
		"$(files_in "$spool")"

	# The same content dropped again under another name: recognised by the
	# ledger, nothing loaded, filed under done/.
	cp "$spool/done/c-orders-20k.csv.zst" "$spool/c-again.csv.zst"
	touch -d '1 hour ago' "$spool/c-again.csv.zst"
	run_spool again --config "$conf" --spool "$spool" --settle "$SETTLE_S"
	[[ "$RC" == 0 ]] || show_err again
	check "again: exit code" 0 "$RC"
	check "again: loaded" 0 "$(sum_field again loaded)"
	check "again: skipped" 20000 "$(sum_field again skipped)"
	check "rows after the file came again" 320900 "$(psql_q 'SELECT count(*) FROM orders')"
	check_true "again: moved to done/" test -f "$spool/done/c-again.csv.zst"
	check_true "again: gone from the spool" test ! -e "$spool/c-again.csv.zst"
	check_true "again: the log says it was loaded before" grep -qi "already loaded" "$WORK/again.err"

	# --settle 0: the young file is taken now; the others stay left alone.
	run_spool settled --config "$conf" --spool "$spool" --settle 0
	[[ "$RC" == 0 ]] || show_err settled
	check "settle 0: exit code" 0 "$RC"
	check "settle 0: loaded the young file" 500 "$(sum_field settled loaded)"
	check "rows after the young file" 321400 "$(psql_q 'SELECT count(*) FROM orders')"
	check_true "settle 0: young file in done/" test -f "$spool/done/f-young.csv"
	check "still left in the spool: hidden, .part, .tmp, lock" \
		"$(printf '%s\n' .edonu-ingest.lock .hidden.csv d-orders.csv.part e-orders.csv.tmp)" \
		"$(files_in "$spool")"
	finish
}

main "$@"
