#!/usr/bin/env bash
# Proves that rejects are as durable as the rows they were cut from: a
# 400k-record load with 1% bad records (--workers 2, --batch-rows 5000,
# --rejects FILE) killed with kill -9 at 5 random moments, each time started
# again with the same command, and then run to completion (exit 65), leaves
# every input record exactly once either in the table or in FILE: rows +
# distinct rejected record numbers = 400000, no record in both, no row
# twice, no record twice in FILE, and the rejected ones are exactly the bad
# records, each line carrying its own raw record.  Then that a rejects file
# that cannot be written (--rejects /dev/full) leaves the source not
# complete and exits 75, and that a rerun with a writable rejects file
# writes every reject and completes the source (exit 65).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

ROWS=400000
BAD_EVERY=100 # 4000 bad records, 50 in each chunk
BATCH_ROWS=5000
WORKERS=2
KILLS=5
CHUNKS=$((ROWS / BATCH_ROWS))
# Each chunk's COPY first sleeps this long: with 2 workers a whole run then
# lasts over 3 s whatever the machine's speed, so no run ends before its
# kill.  The extra delay after the chosen progress is at most about one
# chunk's COPY, so the kill lands anywhere in a COPY, a COMMIT or the
# writing of a chunk's rejects.
SLOW_COPY_S=0.08
DELAY_MS_MAX=90
SMALL_ROWS=3000
SMALL_BAD_EVERY=30 # 100 bad records
SMALL_BATCH_ROWS=500

# line_count FILE: FILE's lines, 0 when there is no FILE (yet).
line_count() {
	{ cat -- "$1" 2>/dev/null || true; } | wc -l
}

# reject_records FILE OUT: the record numbers of FILE's lines, one a line,
# in OUT; prints how many lines of FILE are not a JSON object with a
# numeric "record" (a torn or garbled line).
reject_records() {
	{ cat -- "$1" 2>/dev/null || true; } | jq -R -r 'try (fromjson | .record | numbers) catch empty' >"$2"
	{ cat -- "$1" 2>/dev/null || true; } | jq -R -r 'try (fromjson
		| if type == "object" and (.record | type) == "number" then empty else "bad" end) catch "bad"' | wc -l
}

# records_table NAME FILE: a table NAME(record bigint) with FILE's numbers.
records_table() {
	psql_q "CREATE TABLE $1 (record bigint)"
	psql -XAtq -v ON_ERROR_STOP=1 -c "\\copy $1 from '$2'" >/dev/null
}

# id_base FILE: the generator's order_id of record 0 (order_id is the base
# plus the record number, so a row names the record it came from).
id_base() {
	echo $(($(sed -n 2p "$1" | cut -d, -f2) - 1))
}

# killed_runs: the load started again and killed KILLS times.
killed_runs() {
	local i lo hi gap delay_ms before t0 at_kill chunks rows lines
	for ((i = 1; i <= KILLS; i++)); do
		before="$(ledger_chunks)"
		# Kill i falls at a random chunk within the i-th of KILLS + 1 equal
		# parts of the load (and after at least one more commit), so the
		# kills spread over the load and the last leaves work to finish.
		lo=$(((i - 1) * CHUNKS / (KILLS + 1)))
		hi=$((i * CHUNKS / (KILLS + 1)))
		gap=$((lo + 1 + RANDOM % (hi - lo) - before))
		((gap >= 1)) || gap=1
		delay_ms=$((RANDOM % (DELAY_MS_MAX + 1)))
		t0="$(now_ms)"
		load_bg "kill$i" "${CMD[@]}"
		wait_until "$WAIT_TIMEOUT_S" "run $i to commit $gap chunks" chunks_at_least $((before + gap)) ||
			die "run $i committed no $gap chunks"
		# The randomised moment of the kill within the load.
		sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
		if loader_gone; then
			show_err "kill$i"
			die "run $i ended before it could be killed (test timing: raise SLOW_COPY_S or lower DELAY_MS_MAX)"
		fi
		kill -9 "$LOADER_PID"
		at_kill="$(($(now_ms) - t0))"
		reap "$LOADER_PID"
		check "run $i died of SIGKILL" 137 "$RC"
		wait_until "$WAIT_TIMEOUT_S" "the killed run's sessions to end" no_other_sessions ||
			die "the server kept the killed run's sessions"
		chunks="$(ledger_chunks)"
		rows="$(psql_q 'SELECT count(*) FROM orders')"
		lines="$(line_count "$REJECTS")"
		MOMENTS+=("run $i: killed ${at_kill} ms after start ($gap chunks + $delay_ms ms), chunks $before -> $chunks, rows $rows, rejects file lines $lines")
		note "${MOMENTS[-1]}"
		check "kill $i: rows in the table = rows of the ledger's committed chunks" "$(ledger_loaded)" "$rows"
	done
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries and the rejects"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-rejdur.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	seed_random
	pg_start
	orders_table orders
	slow_copies orders "$SLOW_COPY_S"
	local input="$WORK/orders.csv" base
	"$EDONU_INGEST" gen --rows "$ROWS" --bad-every "$BAD_EVERY" --seed 61 -o "$input"
	base="$(id_base "$input")"
	REJECTS="$WORK/rejects.ndjson"
	# The same command every time, the rejects file appended to.
	CMD=(--table orders --workers "$WORKERS" --batch-rows "$BATCH_ROWS" --rejects "$REJECTS" "$input")

	# 1. Killed five times, then run to completion.
	MOMENTS=()
	killed_runs
	load final "${CMD[@]}"
	[[ "$RC" == 65 ]] || show_err final
	check "final run exit code (records were rejected)" 65 "$RC"

	local bad rows
	bad="$(reject_records "$REJECTS" "$WORK/rejected.txt")"
	check "rejects file: lines that are not a JSON object with a record number" 0 "$bad"
	records_table rejected "$WORK/rejected.txt"
	rows="$(psql_q 'SELECT count(*) FROM orders')"
	local lines distinct
	lines="$(psql_q 'SELECT count(*) FROM rejected')"
	distinct="$(psql_q 'SELECT count(DISTINCT record) FROM rejected')"
	note "table rows $rows, rejects file lines $lines ($distinct distinct records)"
	check "rows + distinct rejected records = records" "$ROWS" $((rows + distinct))
	check "records in the rejects file more than once" 0 $((lines - distinct))
	check "rows in the table more than once" 0 \
		"$(psql_q 'SELECT count(*) - count(DISTINCT order_id) FROM orders')"
	check "records both in the table and in the rejects file" 0 \
		"$(psql_q "SELECT count(*) FROM orders WHERE order_id - $base IN (SELECT record FROM rejected)")"
	check "rows that are not records of the input" 0 \
		"$(psql_q "SELECT count(*) FROM orders WHERE order_id - $base NOT BETWEEN 1 AND $ROWS")"
	check "rows of bad records" 0 "$(psql_q "SELECT count(*) FROM orders WHERE (order_id - $base) % $BAD_EVERY = 0")"
	check "rejected records that are not bad ones" 0 \
		"$(psql_q "SELECT count(*) FROM rejected WHERE record % $BAD_EVERY <> 0 OR record NOT BETWEEN 1 AND $ROWS")"
	check "distinct rejected records = the bad records" $((ROWS / BAD_EVERY)) "$distinct"
	check "rejects whose raw text is not their record's" 0 \
		"$(jq -R -r --argjson b "$base" 'try (fromjson | ((.record + $b) | tostring) as $id
			| select(.raw | type != "string" or (contains("," + $id + ",") | not)) | .record) catch empty' \
			"$REJECTS" | wc -l)"
	check "rejects naming another source" 0 \
		"$(jq -R -r --arg s "$input" 'try (fromjson | select(.source != $s) | .record) catch empty' \
			"$REJECTS" | wc -l)"
	check "ledger: source state, records, loaded, rejected" "complete|$ROWS|$rows|$((ROWS / BAD_EVERY))" \
		"$(psql_q "SELECT state, records, loaded, rejected FROM edonu_ingest.sources WHERE target = 'public.orders'")"
	note "kill moments:"
	local m
	for m in "${MOMENTS[@]}"; do
		note "  $m"
	done

	# 2. A rejects file that cannot be written: the source stays loading
	# and the run is temporary; a rerun with a writable file writes them.
	orders_table small
	local sinput="$WORK/small.csv" srej="$WORK/small.ndjson" sbase nbad=$((SMALL_ROWS / SMALL_BAD_EVERY))
	"$EDONU_INGEST" gen --rows "$SMALL_ROWS" --bad-every "$SMALL_BAD_EVERY" --seed 62 -o "$sinput"
	sbase="$(id_base "$sinput")"
	local scmd=(--table small --batch-rows "$SMALL_BATCH_ROWS")
	load full "${scmd[@]}" --rejects /dev/full "$sinput"
	[[ "$RC" == 75 ]] || show_err full
	check "--rejects /dev/full: exit code" 75 "$RC"
	check "--rejects /dev/full: source state" loading \
		"$(psql_q "SELECT state FROM edonu_ingest.sources WHERE target = 'public.small'")"
	load writable "${scmd[@]}" --rejects "$srej" "$sinput"
	[[ "$RC" == 65 ]] || show_err writable
	check "rerun with a writable rejects file: exit code" 65 "$RC"
	check "rerun: rejects file lines" "$nbad" "$(line_count "$srej")"
	bad="$(reject_records "$srej" "$WORK/small_rejected.txt")"
	check "rerun: lines that are not a JSON object with a record number" 0 "$bad"
	records_table small_rejected "$WORK/small_rejected.txt"
	check "rerun: distinct rejected records, of which bad ones" "$nbad|$nbad" \
		"$(psql_q "SELECT count(DISTINCT record), count(DISTINCT record) FILTER (WHERE record % $SMALL_BAD_EVERY = 0) FROM small_rejected")"
	check "rerun: rows, distinct rows" "$((SMALL_ROWS - nbad))|$((SMALL_ROWS - nbad))" \
		"$(psql_q 'SELECT count(*), count(DISTINCT order_id) FROM small')"
	check "rerun: rows of bad records" 0 \
		"$(psql_q "SELECT count(*) FROM small WHERE (order_id - $sbase) % $SMALL_BAD_EVERY = 0")"
	check "rerun: source state, records, rejected" "complete|$SMALL_ROWS|$nbad" \
		"$(psql_q "SELECT state, records, rejected FROM edonu_ingest.sources WHERE target = 'public.small'")"
	finish
}

main "$@"
