#!/usr/bin/env bash
# Proves the ledger's idea of a source: a rerun of a completed file exits 0
# with every record skipped and says so; a renamed copy of the file is the
# same source, a file differing in one byte is another, and the same file
# into another table is another load; --force loads a completed source
# again; a source stopped half-way resumes with the --batch-rows it started
# with whatever the rerun asks for; standard input resumes by --source-id;
# a file an earlier version half loaded, known to its ledger by that
# version's fingerprint, resumes under that identity; in every case each
# record ends up in the table exactly once.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

ROWS=20000
BATCH_ROWS=1000
BAD_EVERY=5500 # records 5500, 11000 and 16500 are bad

# v1_identity FILE: the ledger identity earlier versions gave FILE (their
# fingerprint, io/fingerprint.c FP_V1), computed here independently.
v1_identity() {
	python3 - "$1" <<'PY'
import struct, sys
M = (1 << 64) - 1
G = 0x9e3779b97f4a7c15
def mix64(x):
    x ^= x >> 30; x = (x * 0xbf58476d1ce4e5b9) & M
    x ^= x >> 27; x = (x * 0x94d049bb133111eb) & M
    return x ^ (x >> 31)
data = open(sys.argv[1], 'rb').read()
lane = [mix64((0x65646f6e75 + i * G) & M) for i in range(4)]
full = len(data) & ~31
for i in range(0, full, 32):
    for k, w in enumerate(struct.unpack_from('<4Q', data, i)):
        lane[k] = (mix64(lane[k] ^ w) + G) & M
for k, b in enumerate(data[full:]):
    lane[k & 3] = mix64(lane[k & 3] ^ b ^ (k << 8))
x = mix64(len(data))
for l in lane:
    x = mix64(x ^ l)
print('file:%d-%016x' % (len(data), x))
PY
}

rows_of() {
	psql_q "SELECT count(*) || '/' || count(DISTINCT order_id) FROM $1"
}

# expect_skip NAME TABLE FILE ARGS...: a run that must find FILE loaded.
expect_skip() {
	local name="$1" table="$2" file="$3"
	shift 3
	load "$name" --table "$table" --batch-rows "$BATCH_ROWS" "$@" "$file"
	check "$name: exit code" 0 "$RC"
	check "$name: skipped, loaded" "$ROWS $ROWS 0" \
		"$(sum_field "$name" records_read) $(sum_field "$name" skipped) $(sum_field "$name" loaded)"
	check_true "$name: stderr says the input is already loaded" grep -qi 'already loaded' "$WORK/$name.err"
}

# expect_load NAME TABLE FILE ARGS...: a run that must load all of FILE.
expect_load() {
	local name="$1" table="$2" file="$3"
	shift 3
	load "$name" --table "$table" --batch-rows "$BATCH_ROWS" "$@" "$file"
	check "$name: exit code" 0 "$RC"
	check "$name: loaded, skipped" "$ROWS 0" "$(sum_field "$name" loaded) $(sum_field "$name" skipped)"
}

# resume_checks NAME TABLE: after a stopped run and its rerun of the input
# with BAD_EVERY, every good record is in TABLE once, each bad one was
# rejected once over both runs, and the ledger kept BATCH_ROWS.
resume_checks() {
	local name="$1" table="$2" bad=$((ROWS / BAD_EVERY))
	check "$name: rows/distinct" "$((ROWS - bad))/$((ROWS - bad))" "$(rows_of "$table")"
	check "$name: rejected over both runs" "$bad" \
		"$(($(sum_field "$name-1" rejected) + $(sum_field "$name-2" rejected)))"
	check "$name: rerun skipped what the first run committed" \
		"$(($(sum_field "$name-1" loaded) + $(sum_field "$name-1" rejected)))" "$(sum_field "$name-2" skipped)"
	check "$name: ledger: batch_rows, state, loaded, rejected" "$BATCH_ROWS|complete|$((ROWS - bad))|$bad" \
		"$(psql_q "SELECT batch_rows, state, loaded, rejected FROM edonu_ingest.sources WHERE target = 'public.$table'")"
	check "$name: ledger: chunks, largest chunk" "$((ROWS / BATCH_ROWS))|$BATCH_ROWS" \
		"$(psql_q "SELECT count(*), max(records) FROM edonu_ingest.chunks WHERE target = 'public.$table'")"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-ledger.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	local t
	for t in t1 t2 t3 t4 t5; do
		orders_table "$t"
	done
	local clean="$WORK/clean.csv" bad="$WORK/bad.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 51 -o "$clean"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 52 --bad-every "$BAD_EVERY" -o "$bad"

	# Completed sources.
	expect_load first t1 "$clean"
	expect_skip rerun t1 "$clean"
	mkdir "$WORK/elsewhere"
	cp "$clean" "$WORK/elsewhere/renamed.csv"
	expect_skip renamed_copy t1 "$WORK/elsewhere/renamed.csv"
	check "t1 after the reruns" "$ROWS/$ROWS" "$(rows_of t1)"
	expect_load other_table t2 "$clean"
	check "t2" "$ROWS/$ROWS" "$(rows_of t2)"
	psql_q "TRUNCATE t1"
	expect_load force t1 "$clean" --force
	check "t1 after --force" "$ROWS/$ROWS" "$(rows_of t1)"
	check "ledger: loads of the file into t1" 2 \
		"$(psql_q "SELECT loads FROM edonu_ingest.sources WHERE target = 'public.t1'")"
	expect_skip rerun_after_force t1 "$clean"
	# One byte changed in the middle, same size: another source.
	local changed="$WORK/changed.csv"
	csv_rewrite "$clean" "$changed" 'if (r == 10000) f[5] = (f[5] == 1 ? 2 : 1)'
	check "the changed file has the same size" "$(wc -c <"$clean")" "$(wc -c <"$changed")"
	check "the changed file differs in one byte" 1 "$(cmp -l "$clean" "$changed" | wc -l)"
	psql_q "TRUNCATE t2"
	expect_load changed_file t2 "$changed"

	# A file stopped by --max-rejects 0 at its first bad record, resumed
	# with another --batch-rows and no limit.
	load batch-1 --table t3 --batch-rows "$BATCH_ROWS" --max-rejects 0 "$bad"
	check "batch-1: exit code" 65 "$RC"
	check_true "batch-1: stopped before the end" test "$(sum_field batch-1 loaded)" -lt $((ROWS - ROWS / BAD_EVERY))
	load batch-2 --table t3 --batch-rows 700 "$bad"
	check "batch-2: exit code (a bad record was left)" 65 "$RC"
	check_true "batch-2: stderr says it resumes" grep -qi 'resum' "$WORK/batch-2.err"
	resume_checks batch t3

	# A file an earlier version stopped half-way, its ledger rows under
	# that version's identity: the rerun finds them and resumes.
	load legacy-1 --table t5 --batch-rows "$BATCH_ROWS" --max-rejects 0 "$bad"
	check "legacy-1: exit code" 65 "$RC"
	local old new
	old="$(v1_identity "$bad")"
	new="$(psql_q "SELECT source_id FROM edonu_ingest.sources WHERE target = 'public.t5'")"
	check_true "legacy: the identity of this version differs" test "$old" != "$new"
	psql_q "UPDATE edonu_ingest.sources SET source_id = '$old' WHERE target = 'public.t5';
		UPDATE edonu_ingest.chunks SET source_id = '$old' WHERE target = 'public.t5';
		UPDATE edonu_ingest.rejects SET source_id = '$old' WHERE target = 'public.t5'" >/dev/null
	load legacy-2 --table t5 --batch-rows 700 "$bad"
	check "legacy-2: exit code (a bad record was left)" 65 "$RC"
	check_true "legacy-2: stderr says it resumes" grep -qi 'resum' "$WORK/legacy-2.err"
	check_true "legacy-2: stderr names the earlier identity" grep -q "$old" "$WORK/legacy-2.err"
	resume_checks legacy t5
	check "legacy: the ledger knows the file once, by its earlier identity" "$old" \
		"$(psql_q "SELECT string_agg(source_id, ',') FROM edonu_ingest.sources WHERE target = 'public.t5'")"
	load legacy-3 --table t5 "$bad"
	check "legacy-3: skipped, loaded" "$ROWS 0" "$(sum_field legacy-3 skipped) $(sum_field legacy-3 loaded)"

	# Standard input, known by --source-id.
	LOAD_STDIN="$bad" load stdin-1 --table t4 --batch-rows "$BATCH_ROWS" --max-rejects 0 --source-id feed-1 -
	check "stdin-1: exit code" 65 "$RC"
	LOAD_STDIN="$bad" load stdin-2 --table t4 --batch-rows "$BATCH_ROWS" --source-id feed-1 -
	check "stdin-2: exit code" 65 "$RC"
	resume_checks stdin t4
	LOAD_STDIN="$bad" load stdin-3 --table t4 --batch-rows "$BATCH_ROWS" --source-id feed-1 -
	# A rerun of a load that had rejects says so: 65, never 0.
	check "stdin-3: exit code (its load had rejects)" 65 "$RC"
	check "stdin-3: rejected earlier" "$((ROWS / BAD_EVERY))" "$(sum_field stdin-3 rejected_earlier)"
	check "stdin-3: skipped, loaded" "$ROWS 0" "$(sum_field stdin-3 skipped) $(sum_field stdin-3 loaded)"
	check "t4 after stdin-3" "$((ROWS - ROWS / BAD_EVERY))" "$(psql_q 'SELECT count(*) FROM t4')"
	finish
}

main "$@"
