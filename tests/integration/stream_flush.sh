#!/usr/bin/env bash
# Proves that a stream's rows become visible while the stream pauses, and
# that a stream cut into chunks by time still loads every record exactly
# once across a kill -9 and a resume:
#  1. A producer writes 1,000 records and half of the next one (cut inside a
#     quoted field) into `load -` through a pipe, then pauses: the table
#     holds exactly those 1,000 before the producer writes again (the pause
#     lasts until the test has seen them, or 30 s; the test fails when the
#     rows only came with the second write). Then the rest of the stream
#     loads, the split record whole, and the table equals psql's \copy of
#     the same bytes.
#  2. A stream written in bursts (--flush-interval 200ms, chunks of each
#     burst's records) is killed with kill -9 after a few bursts; the same
#     input fed again at once (other chunk boundaries) skips exactly the
#     committed records and loads the rest: every record once. A different
#     input under the same --source-id is refused (78) before it loads.
#  3. A source that a ledger of version 3 recorded (chunks without
#     positions) is migrated and resumes by chunk numbers from a pipe, every
#     record once.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

# Part 1: the issue's figures.
FIRST=1000
TOTAL=2000
# How long the producer waits for the test to see the first records before
# it writes the rest anyway (the test then fails): far longer than a
# second plus a commit, even on a slow machine.
PAUSE_MAX_S=30
# Part 2: bursts of records, each flushed and committed on its own.
BURST=150
BURSTS_BEFORE_KILL=6
BURSTS=12
BATCH_ROWS=500

# stream_csv FILE N: a CSV with a header and N records "i,note" whose note
# is quoted and holds a newline, so that a cut inside it leaves the framer
# inside quotes.
stream_csv() {
	awk -v n="$2" 'BEGIN {
		print "id,note"
		for (i = 1; i <= n; i++)
			printf "%d,\"record %d first line\nrecord %d, second line\"\n", i, i, i
	}' >"$1"
}

# record_offset FILE I: the byte offset where record I (1-based) begins.
record_offset() {
	grep -b -m1 "^$2,\"record " "$1" | cut -d: -f1
}

# mid_record FILE I: an offset inside record I's quoted note, before its
# quoted newline.
mid_record() {
	echo $(($(record_offset "$1" "$2") + ${#2} + 10))
}

# bytes FILE FROM TO: the bytes [FROM, TO) of FILE.
bytes() {
	dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count=$(($3 - $2)) bs=64K status=none
}

# load_pipe NAME FILE ARGS...: like load, with FILE's bytes coming through
# a pipe (a stream, not a regular file) on standard input.
load_pipe() {
	local name="$1" file="$2"
	shift 2
	RC=0
	{
		cat -- "$file" | timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" \
			--progress never --summary "$WORK/$name.json" "$@" 2>"$WORK/$name.err"
		RC="${PIPESTATUS[1]}"
	} || true
	note "load $name: exit $RC: $(summary_line "$name")"
}

rows_of() {
	psql_q "SELECT count(*) FROM $1"
}

# same_table A B: the two tables hold the same rows (EXCEPT ALL both ways).
same_table() {
	psql_q "SELECT (SELECT count(*) FROM (TABLE $1 EXCEPT ALL TABLE $2) x) + (SELECT count(*) FROM (TABLE $2 EXCEPT ALL TABLE $1) y)"
}

# reference NAME FILE: table NAME holds what psql's \copy stores from FILE.
reference() {
	psql_q "CREATE TABLE $1 (id integer, note text)"
	copy_into "$1" "$2"
}

# ---------------------------------------------------------------------------
# Part 1.

# paused_producer FILE SPLIT: writes FILE's bytes before SPLIT, stamps
# first.done, waits until the test says it saw the rows (or PAUSE_MAX_S),
# stamps second.started, writes the rest.
paused_producer() {
	local file="$1" split="$2" size
	size="$(stat -c %s "$file")"
	bytes "$file" 0 "$split"
	now_ms >"$WORK/first.done"
	wait_until "$PAUSE_MAX_S" "the test to see the first records" test -e "$WORK/seen" || true
	touch "$WORK/second.started"
	bytes "$file" "$split" "$size"
}

# first_rows_seen: the table holds the first records, or the producer has
# gone on, or the loader is gone.
first_rows_seen() {
	loader_gone || [[ -e "$WORK/second.started" ]] || (($(rows_of s) >= FIRST))
}

part_visible() {
	local input="$WORK/s.csv" fifo="$WORK/s.fifo" split seen_rows seen_ms
	stream_csv "$input" "$TOTAL"
	reference s_ref "$input"
	psql_q "CREATE TABLE s (id integer, note text)"
	split="$(mid_record "$input" $((FIRST + 1)))"
	mkfifo "$fifo"
	"$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never --summary "$WORK/s.json" \
		--table s - <"$fifo" 2>"$WORK/s.err" &
	LOADER_PID=$!
	paused_producer "$input" "$split" >"$fifo" &
	local producer=$!
	wait_until "$WAIT_TIMEOUT_S" "the producer's first write" test -s "$WORK/first.done" ||
		die "the producer never wrote"
	wait_until $((PAUSE_MAX_S + WAIT_TIMEOUT_S)) "the first $FIRST rows" first_rows_seen || true
	# The count first, then whether the producer had gone on: rows counted
	# before the second write began came from the first.
	seen_rows="$(rows_of s)"
	seen_ms=$(($(now_ms) - $(cat "$WORK/first.done")))
	check_true "part 1: the rows were there before the second write" test ! -e "$WORK/second.started"
	touch "$WORK/seen"
	check "part 1: rows while the producer paused" "$FIRST" "$seen_rows"
	note "part 1: the first $FIRST rows were visible ${seen_ms} ms after the first write ended"
	wait "$producer" || true
	wait_until "$LOAD_TIMEOUT_S" "the loader to end" loader_gone || kill -9 "$LOADER_PID"
	reap "$LOADER_PID"
	[[ "$RC" == 0 ]] || show_err s
	check "part 1: exit code" 0 "$RC"
	check "part 1: loaded" "$TOTAL" "$(sum_field s loaded)"
	check "part 1: rows" "$TOTAL" "$(rows_of s)"
	check "part 1: the split record whole" "record $((FIRST + 1)) first line
record $((FIRST + 1)), second line" "$(psql_q "SELECT note FROM s WHERE id = $((FIRST + 1))")"
	check "part 1: table = psql \\copy of the same bytes" 0 "$(same_table s s_ref)"
}

# ---------------------------------------------------------------------------
# Part 2.

# burst_producer FILE STOPFILE: writes FILE in bursts of BURST records,
# each ending inside the next record's quoted note; after each burst waits
# until the table has its records (they were flushed and committed) before
# the next, until STOPFILE exists.
burst_producer() {
	local file="$1" stop="$2" size from=0 to k
	size="$(stat -c %s "$file")"
	for ((k = 1; k <= BURSTS; k++)); do
		[[ -e "$stop" ]] && return 0
		if ((k == BURSTS)); then
			to="$size"
		else
			to="$(mid_record "$file" $((k * BURST + 1)))"
		fi
		bytes "$file" "$from" "$to" || return 0
		from="$to"
		wait_until "$WAIT_TIMEOUT_S" "burst $k to commit" burst_committed "$stop" $((k * BURST)) || return 0
	done
}

burst_committed() {
	[[ -e "$1" ]] || (($(rows_of t) >= $2))
}

# ledger_chunks_of ID: the committed chunks of source ID, as
# "first_record|records|byte_offset|byte_end" lines in input order.
ledger_chunks_of() {
	psql_q "SELECT first_record, records, byte_offset, byte_end FROM edonu_ingest.chunks
		WHERE source_id = 'id:$1' ORDER BY first_record"
}

# chunks_tile ID SIZE N: the source's chunks cover records 1..N and the
# input's bytes after the header to SIZE, each where the one before ended.
chunks_tile() {
	local id="$1" size="$2" n="$3" header_bytes=8 next=1 at first records off end
	at="$header_bytes"
	while IFS='|' read -r first records off end; do
		[[ "$first" == "$next" && "$off" == "$at" ]] || return 1
		next=$((first + records))
		at="$end"
	done < <(ledger_chunks_of "$id")
	[[ "$next" == $((n + 1)) && "$at" == "$size" ]]
}

part_resume() {
	local input="$WORK/t.csv" n=$((BURST * BURSTS)) committed rows
	stream_csv "$input" "$n"
	reference t_ref "$input"
	psql_q "CREATE TABLE t (id integer, note text)"
	local args=(--table t --batch-rows "$BATCH_ROWS" --flush-interval 200ms --source-id feed-1 -)
	local stop="$WORK/t.stop" fifo="$WORK/t.fifo"
	mkfifo "$fifo"
	"$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never --summary "$WORK/t1.json" \
		"${args[@]}" <"$fifo" 2>"$WORK/t1.err" &
	LOADER_PID=$!
	burst_producer "$input" "$stop" >"$fifo" &
	local producer=$!
	wait_until "$WAIT_TIMEOUT_S" "$BURSTS_BEFORE_KILL bursts to commit" \
		burst_committed "$stop" $((BURSTS_BEFORE_KILL * BURST)) || die "the stream's bursts did not commit"
	loader_gone && { show_err t1; die "the loader ended before the kill"; }
	# The next burst is on its way: the kill lands somewhere in it.
	sleep "0.$(printf '%03d' $((RANDOM % 300)))"
	kill -9 "$LOADER_PID"
	reap "$LOADER_PID"
	touch "$stop"
	wait "$producer" || true
	check "part 2: run 1 died of SIGKILL" 137 "$RC"
	wait_until "$WAIT_TIMEOUT_S" "the killed run's sessions to end" no_other_sessions ||
		die "the server kept the killed run's sessions"
	committed="$(psql_q "SELECT coalesce(sum(records), 0) FROM edonu_ingest.chunks WHERE source_id = 'id:feed-1'")"
	rows="$(rows_of t)"
	note "part 2: killed after $committed records committed in $(ledger_chunks_of feed-1 | wc -l) chunks"
	check "part 2: rows = the committed chunks' records" "$committed" "$rows"
	check_true "part 2: at least $BURSTS_BEFORE_KILL bursts committed" test "$committed" -ge $((BURSTS_BEFORE_KILL * BURST))

	# Other bytes under the same id: refused before anything loads.
	sed '2s/^1,"record 1 /1,"record one /' "$input" >"$WORK/t-other.csv"
	load_pipe t-other "$WORK/t-other.csv" "${args[@]}"
	check "part 2: other input under the same --source-id: exit code" 78 "$RC"
	check_true "part 2: other input: the message names --source-id" grep -q -- '--source-id' "$WORK/t-other.err"
	check "part 2: other input: rows unchanged" "$rows" "$(rows_of t)"

	# The same input again, all at once: chunks cut elsewhere.
	load_pipe t2 "$input" "${args[@]}"
	[[ "$RC" == 0 ]] || show_err t2
	check "part 2: resumed run: exit code" 0 "$RC"
	check "part 2: resumed run: skipped the committed records" "$committed" "$(sum_field t2 skipped)"
	check "part 2: resumed run: loaded the rest" $((n - committed)) "$(sum_field t2 loaded)"
	check "part 2: rows" "$n" "$(rows_of t)"
	check "part 2: distinct ids" "$n" "$(psql_q 'SELECT count(DISTINCT id) FROM t')"
	check "part 2: table = psql \\copy of the same bytes" 0 "$(same_table t t_ref)"
	check_true "part 2: the ledger's chunks tile the input, records and bytes" \
		chunks_tile feed-1 "$(stat -c %s "$input")" "$n"
	check "part 2: source complete" "complete|$n|$n" \
		"$(psql_q "SELECT state, records, loaded FROM edonu_ingest.sources WHERE source_id = 'id:feed-1'")"
	load_pipe t3 "$input" "${args[@]}"
	check "part 2: third run: exit code" 0 "$RC"
	check "part 2: third run: skipped, loaded" "$n 0" "$(sum_field t3 skipped) $(sum_field t3 loaded)"
}

# ---------------------------------------------------------------------------
# Part 3.

# to_version_3: the ledger as version 3 left it: chunks without positions.
to_version_3() {
	psql_q "ALTER TABLE edonu_ingest.chunks DROP COLUMN first_record, DROP COLUMN byte_offset, DROP COLUMN byte_end;
		UPDATE edonu_ingest.version SET version = 3" >/dev/null
}

part_legacy() {
	local input="$WORK/u.csv" bad="$WORK/u-bad.csv" n=3000 committed
	stream_csv "$input" "$n"
	# Record 1,234 is refused: with --max-rejects 0 the first run stops
	# after the chunk holding it; the rerun loads the fixed input.
	sed 's/^1234,/x1234,/' "$input" >"$bad"
	psql_q "CREATE TABLE u (id integer, note text)"
	# A regular file as standard input: chunks cut by count, as before.
	LOAD_STDIN="$bad" load u1 --table u --batch-rows 200 --workers 1 --max-rejects 0 --source-id legacy -
	check "part 3: first run stops at the reject" 65 "$RC"
	committed="$(psql_q "SELECT coalesce(sum(records), 0) FROM edonu_ingest.chunks WHERE source_id = 'id:legacy'")"
	to_version_3
	load_pipe u2 "$bad" --table u --batch-rows 200 --source-id legacy -
	check "part 3: resumed run: exit code (its source has a reject)" 65 "$RC"
	check "part 3: resumed run: ledger migrated" 4 "$(psql_q 'SELECT version FROM edonu_ingest.version')"
	check_true "part 3: resumed run: chunks by number, closing only when full" \
		grep -q 'flush_interval_off' "$WORK/u2.err"
	check "part 3: resumed run: skipped" "$committed" "$(sum_field u2 skipped)"
	check "part 3: rows" $((n - 1)) "$(rows_of u)"
	check "part 3: distinct ids" $((n - 1)) "$(psql_q 'SELECT count(DISTINCT id) FROM u')"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-stream.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	seed_random
	pg_start
	part_visible
	part_resume
	part_legacy
	finish
}

main "$@"
