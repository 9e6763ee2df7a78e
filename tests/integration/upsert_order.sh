#!/usr/bin/env bash
# Proves that upserts follow input order across chunks and workers: 200k
# records over 100 keys (record i is key i % 100, value i), loaded with two
# workers and --batch-rows 1000, 5000 and 20000, several times each, leave
# every key at its last record's value with --on-conflict update and at its
# first with --on-conflict ignore, as one COPY followed by INSERT ... ON
# CONFLICT in file order would; and that within a chunk, a record the binary
# encoder defers to text COPY (a time zone name) keeps its place among the
# binary records of the same key.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

ROWS=200000
KEYS=100
WORKERS=2
BATCHES="1000 5000 20000"
RUNS="${UPSERT_ORDER_RUNS:-3}"

# wrong_keys MODE: how many keys of kv do not hold the value MODE calls for
# (update: the key's last record, ignore: its first), or are missing.
wrong_keys() {
	local want
	if [[ "$1" == update ]]; then
		want="$((ROWS - KEYS)) + k"
	else
		want="k"
	fi
	psql_q "SELECT count(*) FROM generate_series(0, $((KEYS - 1))) AS g(k)
		LEFT JOIN kv USING (k) WHERE kv.v IS DISTINCT FROM $want"
}

# winners_chunks BATCH: the chunks (of BATCH records) whose records hold
# the keys now, for a failure report.
winners_chunks() {
	psql_q "SELECT string_agg(c::text, ',' ORDER BY c) FROM (SELECT DISTINCT v / $1 AS c FROM kv) d"
}

# Table kv2 after loading mixed.csv: the rows each mode must leave.  Key 1:
# binary, then deferred; key 2: deferred, then binary; key 3: binary,
# deferred, binary; key 4: deferred, binary, deferred.
expected_mixed() {
	if [[ "$1" == update ]]; then
		echo "VALUES (1, 12, '2024-01-01 10:00 Europe/Paris'::timestamptz),
			(2, 22, '2024-01-02 10:00:00+00'), (3, 33, '2024-01-03 12:00:00+00'),
			(4, 43, '2024-01-04 12:00 Asia/Tokyo')"
	else
		echo "VALUES (1, 11, '2024-01-01 10:00:00+00'::timestamptz),
			(2, 21, '2024-01-02 10:00 Europe/Paris'), (3, 31, '2024-01-03 10:00:00+00'),
			(4, 41, '2024-01-04 10:00 Europe/Paris')"
	fi
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-uporder.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	psql_q "CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)"
	psql_q "CREATE TABLE kv2 (k int PRIMARY KEY, v int NOT NULL, t timestamptz)"

	local input="$WORK/kv.csv"
	awk -v rows="$ROWS" -v keys="$KEYS" \
		'BEGIN { print "k,v"; for (i = 0; i < rows; i++) print i % keys "," i }' >"$input"

	# 1. Across chunks and workers.  Each run loads the same file into the
	# emptied table; the ledger knows the file by its content, so --force.
	local batch run mode name wrong workers
	for batch in $BATCHES; do
		for ((run = 1; run <= RUNS; run++)); do
			for mode in update ignore; do
				name="$mode-b$batch-r$run"
				psql_q "TRUNCATE kv"
				load "$name" --table kv --workers "$WORKERS" --batch-rows "$batch" --force \
					--on-conflict "$mode" --key k "$input"
				[[ "$RC" == 0 ]] || show_err "$name"
				check "$name: exit code" 0 "$RC"
				check "$name: records read" "$ROWS" "$(sum_field "$name" records_read)"
				check "$name: rows" "$KEYS" "$(psql_q 'SELECT count(*) FROM kv')"
				wrong="$(wrong_keys "$mode")"
				check "$name: keys not at their $([[ $mode == update ]] && echo last || echo first) record's value" 0 "$wrong"
				if [[ "$wrong" != 0 ]]; then
					note "$name: the values now in kv come from chunks $(winners_chunks "$batch")" \
						"of $((ROWS / batch)) (expected only chunk" \
						"$([[ $mode == update ]] && echo $((ROWS / batch - 1)) || echo 0))"
				fi
			done
		done
	done

	# 2. Within one chunk: the records with a zone name are deferred to
	# text COPY, the ones with a numeric offset encoded in binary.
	local mixed="$WORK/mixed.csv"
	cat >"$mixed" <<-'EOF'
		k,v,t
		1,11,2024-01-01 10:00:00+00
		2,21,2024-01-02 10:00 Europe/Paris
		3,31,2024-01-03 10:00:00+00
		4,41,2024-01-04 10:00 Europe/Paris
		1,12,2024-01-01 10:00 Europe/Paris
		2,22,2024-01-02 10:00:00+00
		3,32,2024-01-03 11:00 Europe/Paris
		4,42,2024-01-04 11:00:00+00
		3,33,2024-01-03 12:00:00+00
		4,43,2024-01-04 12:00 Asia/Tokyo
	EOF
	for mode in update ignore; do
		for workers in 1 2; do
			name="mixed-$mode-w$workers"
			psql_q "TRUNCATE kv2"
			load "$name" --table kv2 --workers "$workers" --force \
				--on-conflict "$mode" --key k "$mixed"
			[[ "$RC" == 0 ]] || show_err "$name"
			check "$name: exit code" 0 "$RC"
			check "$name: records deferred to text COPY" 5 "$(sum_field "$name" deferred_to_text)"
			check "$name: rows" 4 "$(psql_q 'SELECT count(*) FROM kv2')"
			check "$name: rows not from each key's $([[ $mode == update ]] && echo last || echo first) record" 0 \
				"$(psql_q "SELECT count(*) FROM (($(expected_mixed "$mode")) EXCEPT TABLE kv2) d")"
			note "$name: kv2 holds $(psql_q "SELECT string_agg(k || '=' || v, ' ' ORDER BY k) FROM kv2")"
		done
	done
	finish
}

main "$@"
