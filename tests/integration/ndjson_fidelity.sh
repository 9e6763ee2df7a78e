#!/usr/bin/env bash
# Proves that edonu-ingest loading NDJSON stores exactly the rows that
# PostgreSQL's own json_populate_record(null::fid, line) gives and rejects
# exactly the lines it refuses, on a corpus of tricky lines for every
# encoded type and every NDJSON rule (keys, duplicates, nulls, escapes,
# nested values, non-objects, blank lines), whether the input is found by
# its .ndjson name, named by --format, compressed with zstd, read from
# stdin, loaded by one or two workers, or in tiny batches.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

GEN="$SOURCE_ROOT/tests/data/fidelity/gen_ndjson.py"
LOADER_TIMEOUT_S="${FID_LOADER_TIMEOUT_S:-180}"
FAILED=()

fail() {
	note "FAIL [$1]: $2"
	FAILED+=("$1")
}

# The oracle: each record through json_populate_record in one psql
# session that goes on after errors; every record is a row or an error.
oracle() {
	psql_q "CREATE DATABASE nd_oracle"
	PGDATABASE=nd_oracle psql_q "$(python3 "$SOURCE_ROOT/tests/data/fidelity/gen_corpus.py" --ddl) CREATE TABLE fid_pg (LIKE fid);"
	python3 "$GEN" --oracle "$WORK/oracle.sql"
	PGDATABASE=nd_oracle psql -X -q -v ON_ERROR_STOP=0 -f "$WORK/oracle.sql" \
		>"$WORK/oracle.out" 2>"$WORK/oracle.err" || true
	ORACLE_FAILED="$(grep -c '^psql:.*: ERROR:  ' "$WORK/oracle.err" || true)"
	local rows
	rows="$(PGDATABASE=nd_oracle psql_q "SELECT count(*) FROM fid_pg")"
	assert_eq "oracle: records = rows + errors" "$RECORDS" "$((rows + ORACLE_FAILED))"
	note "oracle: $RECORDS records, json_populate_record refused $ORACLE_FAILED, stored $rows"
}

# variant NAME INPUT LOADER_ARGS...: loads INPUT ("-": STDIN_FILE on stdin)
# into a copy of the oracle's database and compares.
variant() {
	local name="$1" input="$2"
	shift 2
	local db="nd_${name}" rej="$WORK/rejects-$name.ndjson" log="$WORK/loader-$name.log"
	local sum="$WORK/summary-$name.json" rc=0 expected_rc=0
	((ORACLE_FAILED > 0)) && expected_rc=65
	psql_q "CREATE DATABASE $db TEMPLATE nd_oracle"
	PGDATABASE="$db" psql_q "CREATE TABLE fid_ei (LIKE fid)"
	local cmd=("$EDONU_INGEST" load --dsn "$(pg_dsn "$db")" --table fid_ei --rejects "$rej"
		--summary "$sum" --progress never "$@" "$input")
	note "[$name] ${cmd[*]}${STDIN_FILE:+ < $STDIN_FILE}"
	if [[ "$input" == "-" ]]; then
		timeout "$LOADER_TIMEOUT_S" "${cmd[@]}" <"$STDIN_FILE" >"$log" 2>&1 || rc=$?
	else
		timeout "$LOADER_TIMEOUT_S" "${cmd[@]}" </dev/null >"$log" 2>&1 || rc=$?
	fi
	if ((rc != expected_rc)); then
		fail "$name" "exit code $rc, expected $expected_rc; loader output:"
		tail -n 20 "$log" >&2
	fi
	local only_pg only_ei
	only_pg="$(PGDATABASE="$db" psql_q "SELECT count(*) FROM (SELECT p::text FROM fid_pg p EXCEPT ALL SELECT e::text FROM fid_ei e) d")"
	only_ei="$(PGDATABASE="$db" psql_q "SELECT count(*) FROM (SELECT e::text FROM fid_ei e EXCEPT ALL SELECT p::text FROM fid_pg p) d")"
	if [[ "$only_pg" != 0 || "$only_ei" != 0 ]]; then
		fail "$name" "$only_pg rows only in json_populate_record's table, $only_ei only in edonu-ingest's; first of them:"
		PGDATABASE="$db" psql -X -q -c "
			(SELECT 'pg' AS side, p::text AS row FROM fid_pg p EXCEPT ALL SELECT 'pg', e::text FROM fid_ei e)
			UNION ALL
			(SELECT 'edonu', e::text FROM fid_ei e EXCEPT ALL SELECT 'edonu', p::text FROM fid_pg p)
			ORDER BY 2, 1 LIMIT 20" >&2 || true
	else
		note "ok [$name]: tables equal ($(PGDATABASE="$db" psql_q "SELECT count(*) FROM fid_ei") rows)"
	fi
	local rejected=0
	[[ -e "$rej" ]] && rejected="$(wc -l <"$rej")"
	if [[ "$rejected" != "$ORACLE_FAILED" ]]; then
		fail "$name" "$rejected rejects written, json_populate_record refused $ORACLE_FAILED"
	else
		note "ok [$name]: $rejected rejects, as json_populate_record"
	fi
	# The same records refused, with the same messages: the oracle's
	# script has record N on line N.
	local diff
	diff="$(python3 - "$WORK/oracle.err" "$rej" <<-'PY'
		import json, re, sys
		pg = {}
		for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
		    m = re.match(r"psql:[^:]*:(\d+): ERROR:  (.*)", line.rstrip("\n"))
		    if m:
		        pg[int(m.group(1))] = m.group(2)
		ei = {}
		try:
		    for line in open(sys.argv[2], encoding="utf-8"):
		        r = json.loads(line)
		        ei[r["record"]] = r["message"]
		except FileNotFoundError:
		    pass
		if not pg or len(pg) != len(ei):
		    print("oracle errors: %d, rejects: %d" % (len(pg), len(ei)))
		bad = [(n, pg.get(n), ei.get(n)) for n in sorted(set(pg) | set(ei)) if pg.get(n) != ei.get(n)]
		for n, a, b in bad[:10]:
		    print("record %d: json_populate_record: %r, edonu-ingest: %r" % (n, a, b))
		PY
	)"
	if [[ -n "$diff" ]]; then
		fail "$name" "rejects differ from json_populate_record's errors:"
		printf '%s\n' "$diff" >&2
	fi
	# Blank lines are not records; unknown keys are counted.
	local counts
	counts="$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["records_read"], s["loaded"] + s["rejected"], s["ndjson_unknown_keys"] > 0)' "$sum" 2>&1 || true)"
	if [[ "$counts" != "$RECORDS $RECORDS True" ]]; then
		fail "$name" "summary: records_read, loaded + rejected, unknown keys seen: '$counts', expected '$RECORDS $RECORDS True'"
	fi
	psql_q "DROP DATABASE $db" >/dev/null
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v python3 >/dev/null || die "python3 is needed for the corpus generator"
	command -v zstd >/dev/null || die "zstd is needed for the .zst variant"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-ndfid.XXXXXX")"
	on_exit "rm -rf '$WORK'"

	local corpus="$SOURCE_ROOT/tests/data/fidelity/corpus.ndjson"
	python3 "$GEN" -o "$WORK/regenerated"
	cmp -s "$corpus" "$WORK/regenerated" || die "$corpus is stale: run python3 $GEN -o $corpus"
	RECORDS="$(python3 "$GEN" --count)"

	pg_start
	oracle

	cp "$corpus" "$WORK/corpus.ndjson"
	cp "$corpus" "$WORK/corpus.data"
	zstd -q -f "$WORK/corpus.ndjson" -o "$WORK/corpus.ndjson.zst"
	variant by_name "$WORK/corpus.ndjson"
	variant format "$WORK/corpus.data" --format ndjson
	variant zst "$WORK/corpus.ndjson.zst"
	STDIN_FILE="$WORK/corpus.ndjson" variant stdin - --format ndjson --source-id nd-stdin
	variant workers1 "$WORK/corpus.ndjson" --workers 1
	variant workers2 "$WORK/corpus.ndjson" --workers 2
	variant batch7 "$WORK/corpus.ndjson" --batch-rows 7 --format ndjson

	if ((${#FAILED[@]} > 0)); then
		die "failed variants: $(printf '%s\n' "${FAILED[@]}" | sort -u | tr '\n' ' ')"
	fi
	note "all variants agree with json_populate_record"
}

main "$@"
