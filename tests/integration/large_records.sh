#!/usr/bin/env bash
# Proves that records longer than a chunk load as PostgreSQL stores them: a
# 20 MiB jsonb document and a 100 MiB text field (quotes, commas, tabs,
# newlines, backslashes, multibyte UTF-8), among short records, in CSV, text
# and NDJSON, from files and standard input, plain and zstd, with the
# default options and with --batch-rows 7, give a table equal (EXCEPT ALL
# both ways on the values' md5) to psql's \copy of the CSV, with the
# loader's peak RSS under 512 MiB every time (the premises: psql's \copy of
# the text file and json_populate_record over the NDJSON lines store the
# same).  That a record longer than --max-record-bytes is rejected with the
# reason and its first 64 KiB, exit 65, while a record exactly at the bound
# and the others load, with chunks of 5 MiB and of 1 MiB.  And that a load of
# many records longer than a chunk, killed with kill -9 twice and run again,
# leaves every record in the table exactly once.  And that records the
# server refuses among long values sent from where they lie (text of 300
# KiB, not copied into the batch) are rejected alone while the others
# commit with their values intact.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

DOC_MIB=20
BODY_MIB=100
RSS_LIMIT_KB=$((512 * 1024))
# The records of the big inputs: 9 short ones, the document and the body.
BIG_ROWS=11
# --max-record-bytes in its part: 1 MiB.
BOUND=1048576
# The resumed load: records of ~3 MiB among short ones; chunks of 7
# records are 1 MiB, so each long record fills a chunk of its own.
RESUME_ROWS=60
KILLS=2

# gen_inputs DIR: writes DIR/big.{csv,txt,ndjson} (the same records in each
# format), DIR/bound.csv (records around the bound) and DIR/resume.csv.
gen_inputs() {
	python3 - "$1" "$DOC_MIB" "$BODY_MIB" "$BOUND" "$RESUME_ROWS" <<-'EOF'
		import base64, json, random, sys
		out, doc_mib, body_mib, bound, resume_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

		def body_text(n, seed):
		    # Random text with the bytes each format must quote or escape at a
		    # few percent each, and multibyte characters every 4 KiB.
		    raw = base64.b64encode(random.Random(seed).randbytes(n * 3 // 4 + 3))[:n]
		    raw = raw.translate(bytes.maketrans(b'+/ZYX', b',"\n\t\\'))
		    return 'é€😀'.encode().join(raw[i:i + 4096] for i in range(0, len(raw), 4096)).decode()

		def document(n, seed):
		    rnd, items, size = random.Random(seed), [], 0
		    while size < n:
		        t = json.dumps({"k": len(items), "s": 'say "hi" \\ back é€ %r' % rnd.random(),
		                        "n": rnd.randint(-10**9, 10**9), "f": 1.5e3,
		                        "a": [1, None, True, {"x": "y\tz"}]}, ensure_ascii=False)
		        items.append(t)
		        size += len(t) + 1
		    return '{"items": [' + ','.join(items) + '], "u": "\\u00e9\\ud83d\\ude00"}'

		def short_rows(ids):
		    return [(i, None if i % 3 == 0 else '{"small": %d, "q": "a\\"b"}' % i,
		             None if i % 4 == 0 else 'row %d, "quoted"\tand\\back\nnext é' % i) for i in ids]

		def csv_field(v):
		    return '' if v is None else '"' + v.replace('"', '""') + '"'

		def text_field(v):
		    if v is None:
		        return '\\N'
		    return v.replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n').replace('\r', '\\r')

		def write_csv(path, rows):
		    with open(path, 'w', encoding='utf-8', newline='') as f:
		        f.write('id,doc,body\n')
		        for i, d, b in rows:
		            f.write('%d,%s,%s\n' % (i, csv_field(d), csv_field(b)))

		rows = short_rows(range(1, 6)) + [(1000, document(doc_mib << 20, 1), 'the document'),
		                                  (1001, None, body_text(body_mib << 20, 2))] + short_rows(range(6, 10))
		write_csv(out + '/big.csv', rows)
		with open(out + '/big.txt', 'w', encoding='utf-8', newline='') as f:
		    for i, d, b in rows:
		        f.write('%d\t%s\t%s\n' % (i, text_field(d), text_field(b)))
		with open(out + '/big.ndjson', 'w', encoding='utf-8', newline='') as f:
		    for i, d, b in rows:
		        f.write('{"id": %d, "doc": %s, "body": %s}\n' % (i, d if d is not None else 'null',
		                                                         json.dumps(b, ensure_ascii=False)))

		# Records whose length (the line without its LF) is the bound, the
		# bound plus one, and 6 MiB (longer than a default chunk too).
		def sized(i, n):
		    pre = '%d,,"' % i
		    return (i, None, 'b' * (n - len(pre) - 1))
		write_csv(out + '/bound.csv', short_rows([1]) + [sized(2, bound), sized(3, bound + 1), sized(4, 6 << 20)] +
		          short_rows([5]))

		# Six records with text of 300 KiB that needs no quotes (sent from
		# the chunk's bytes), for a table that refuses ids 3 and 5.
		write_csv(out + '/refused.csv', [(i, None, chr(ord('a') + i) * (300 << 10) + str(i)) for i in range(1, 7)])

		rows = []
		for i in range(1, resume_rows + 1):
		    if i % 3 == 0:
		        rows.append((i, document(1 << 20, i) if i % 2 else None, body_text(3 << 20, i)))
		    else:
		        rows += short_rows([i])
		write_csv(out + '/resume.csv', rows)
	EOF
}

# load_rss NAME ARGS...: load as ledger_helpers.sh's load does, under GNU
# time: RSS_KB is the loader's peak resident set in KiB.
load_rss() {
	local name="$1"
	shift
	RC=0
	timeout "$LOAD_TIMEOUT_S" /usr/bin/time -f %M -o "$WORK/$name.rss" "$EDONU_INGEST" load \
		--dsn "$EDONU_TEST_DSN" --progress never --summary "$WORK/$name.json" "$@" \
		<"${LOAD_STDIN:-/dev/null}" 2>"$WORK/$name.err" || RC=$?
	RSS_KB="$(tail -n 1 "$WORK/$name.rss")"
	note "load $name: exit $RC, peak RSS $((RSS_KB / 1024)) MiB: $(summary_line "$name")"
}

# same_tables NAME A B: tables A and B hold the same rows, compared by id
# and the md5 of the values (each computed once).
same_tables() {
	psql_q "DROP TABLE IF EXISTS sums_a, sums_b;
		CREATE TABLE sums_a AS SELECT id, md5(doc::text) AS doc, md5(body) AS body FROM $2;
		CREATE TABLE sums_b AS SELECT id, md5(doc::text) AS doc, md5(body) AS body FROM $3"
	check "$1: rows of $2 missing from $3" 0 \
		"$(psql_q "SELECT count(*) FROM (TABLE sums_a EXCEPT ALL TABLE sums_b) d")"
	check "$1: rows of $3 not in $2" 0 "$(psql_q "SELECT count(*) FROM (TABLE sums_b EXCEPT ALL TABLE sums_a) d")"
}

# premises: psql's \copy of the text file, and json_populate_record over
# the NDJSON lines, store what psql's \copy of the CSV stores.
premises() {
	psql_q "CREATE TABLE ref_text (LIKE ref); CREATE TABLE nd_lines (l text)"
	psql -XAtq -v ON_ERROR_STOP=1 -c "\\copy ref_text from '$WORK/big.txt'" >/dev/null
	same_tables "premise: psql's \\copy of big.txt" ref ref_text
	# Whole lines as text: a CSV whose quote and delimiter never occur.
	psql -XAtq -v ON_ERROR_STOP=1 \
		-c "\\copy nd_lines from '$WORK/big.ndjson' (format csv, quote e'\\x01', delimiter e'\\x02')" >/dev/null
	psql_q "CREATE TABLE ref_nd AS SELECT p.* FROM nd_lines, json_populate_record(null::ref, l::json) p"
	same_tables "premise: json_populate_record over big.ndjson" ref ref_nd
	psql_q "DROP TABLE ref_text, nd_lines, ref_nd"
}

# big_load NAME ARGS...: loads into the emptied table big; it must load
# every record, hold what psql's \copy stored, and stay under the RSS limit.
big_load() {
	local name="$1"
	shift
	psql_q "TRUNCATE big"
	load_rss "$name" --table big --force "$@"
	[[ "$RC" == 0 ]] || show_err "$name"
	check "$name: exit code" 0 "$RC"
	check "$name: loaded, rejected" "$BIG_ROWS 0" "$(sum_field "$name" loaded) $(sum_field "$name" rejected)"
	same_tables "$name" ref big
	check_true "$name: peak RSS ${RSS_KB} KiB under $RSS_LIMIT_KB KiB" test "$RSS_KB" -lt "$RSS_LIMIT_KB"
}

# formats: every format from a file with the default chunks and with
# --batch-rows 7, and from standard input as zstd; CSV also from a .zst
# file, and from standard input as it is.
formats() {
	local fmt ext
	for fmt in csv text ndjson; do
		case "$fmt" in
		csv) ext=csv ;;
		text) ext=txt ;;
		ndjson) ext=ndjson ;;
		esac
		big_load "$fmt-file" "$WORK/big.$ext"
		big_load "$fmt-file-batch7" --batch-rows 7 "$WORK/big.$ext"
		LOAD_STDIN="$WORK/big.$ext.zst" big_load "$fmt-stdin-zst-batch7" --format "$fmt" --batch-rows 7 -
	done
	big_load csv-zst "$WORK/big.csv.zst"
	LOAD_STDIN="$WORK/big.csv" big_load csv-stdin --format csv -
}

# bound: --max-record-bytes 1MB over bound.csv (records 2, 3, 4: the bound,
# the bound plus one, 6 MiB), with chunks of 5 MiB (default) and 1 MiB.
bound() {
	local batch name rejects
	psql_q "CREATE TABLE bound_ref (LIKE ref)"
	copy_into bound_ref "$WORK/bound.csv"
	psql_q "DELETE FROM bound_ref WHERE id IN (3, 4)"
	for batch in default 7; do
		name="bound-$batch"
		rejects="$WORK/$name.rejects"
		local args=(--table big --force --max-record-bytes 1MB --rejects "$rejects")
		if [[ "$batch" != default ]]; then
			args+=(--batch-rows "$batch")
		fi
		psql_q "TRUNCATE big"
		load_rss "$name" "${args[@]}" "$WORK/bound.csv"
		check "$name: exit code" 65 "$RC"
		check "$name: loaded, rejected" "3 2" "$(sum_field "$name" loaded) $(sum_field "$name" rejected)"
		same_tables "$name" bound_ref big
		# Record 1 spans lines 2 and 3.
		check "$name: rejected records and lines" "3 5|4 6" \
			"$(jq -r '"\(.record) \(.line)"' "$rejects" | sort -n | paste -sd '|')"
		check "$name: the reason" "record is longer than $BOUND bytes (--max-record-bytes)" \
			"$(jq -r .message "$rejects" | sort -u)"
		check "$name: raw cut to its first 64 KiB, marked" "65536 true|65536 true" \
			"$(jq -r '"\(.raw | length) \(.raw_truncated)"' "$rejects" | paste -sd '|')"
		check "$name: raw is the record's start" "4,,\"bbbb" "$(jq -r 'select(.record == 4) | .raw[0:8]' "$rejects")"
	done
	psql_q "DROP TABLE bound_ref"
}

# refused: the server refuses two records of a chunk whose long values are
# spliced into the COPY; the chunk is sent again in parts without them.
refused() {
	psql_q "CREATE TABLE refused_ref (LIKE ref); CREATE TABLE refusing (LIKE ref, CHECK (id NOT IN (3, 5)))"
	copy_into refused_ref "$WORK/refused.csv"
	psql_q "DELETE FROM refused_ref WHERE id IN (3, 5)"
	load_rss refused --table refusing --rejects "$WORK/refused.rejects" "$WORK/refused.csv"
	check "refused: exit code" 65 "$RC"
	check "refused: loaded, rejected" "4 2" "$(sum_field refused loaded) $(sum_field refused rejected)"
	check "refused: rejected records, SQLSTATE" "3 23514|5 23514" \
		"$(jq -r '"\(.record) \(.sqlstate)"' "$WORK/refused.rejects" | sort -n | paste -sd '|')"
	same_tables refused refused_ref refusing
}

# resume: kill -9 a load of resume.csv twice at random moments, then let it
# finish; every record is in the table once.
resume() {
	local i cmd before
	psql_q "CREATE TABLE resume_ref (LIKE ref); CREATE TABLE resumed (LIKE ref)"
	copy_into resume_ref "$WORK/resume.csv"
	# Each chunk's COPY sleeps first, so the kills land while it runs.
	slow_copies resumed 0.3
	cmd=(--table resumed --batch-rows 7 --workers 2 "$WORK/resume.csv")
	for ((i = 1; i <= KILLS; i++)); do
		before="$(ledger_chunks)"
		load_bg "kill$i" "${cmd[@]}"
		wait_until "$WAIT_TIMEOUT_S" "run $i to commit 3 chunks" chunks_at_least $((before + 3)) ||
			die "run $i committed no 3 chunks"
		sleep "0.$((RANDOM % 10))"
		if loader_gone; then
			show_err "kill$i"
			die "run $i ended before it could be killed"
		fi
		kill -9 "$LOADER_PID"
		reap "$LOADER_PID"
		check "kill $i: died of SIGKILL" 137 "$RC"
		wait_until "$WAIT_TIMEOUT_S" "the killed run's sessions to end" no_other_sessions ||
			die "the server kept the killed run's sessions"
		note "kill $i: chunks $before -> $(ledger_chunks)"
		check "kill $i: rows = rows of the committed chunks" "$(ledger_q "SELECT coalesce(sum(loaded), 0)
			FROM edonu_ingest.chunks WHERE target = 'public.resumed'")" "$(psql_q 'SELECT count(*) FROM resumed')"
	done
	local committed
	committed="$(ledger_q "SELECT coalesce(sum(records), 0) FROM edonu_ingest.chunks WHERE target = 'public.resumed'")"
	load_rss resume-final "${cmd[@]}"
	[[ "$RC" == 0 ]] || show_err resume-final
	check "resume: final exit code" 0 "$RC"
	check "resume: skipped what the killed runs committed" "$committed" "$(sum_field resume-final skipped)"
	check "resume: loaded the rest" $((RESUME_ROWS - committed)) "$(sum_field resume-final loaded)"
	check "resume: every id once" "$RESUME_ROWS $RESUME_ROWS" \
		"$(psql_q 'SELECT count(*), count(DISTINCT id) FROM resumed' | tr '|' ' ')"
	same_tables resume resume_ref resumed
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	command -v python3 >/dev/null || die "python3 is needed to write the inputs"
	command -v zstd >/dev/null || die "zstd is needed to compress the inputs"
	[[ -x /usr/bin/time ]] || die "GNU time is needed to measure peak RSS (apt-get install time)"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-large.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	seed_random
	gen_inputs "$WORK"
	local f
	for f in big.csv big.txt big.ndjson; do
		zstd -q -1 -T0 "$WORK/$f" -o "$WORK/$f.zst"
	done
	pg_start
	psql_q "CREATE TABLE ref (id int, doc jsonb, body text); CREATE TABLE big (LIKE ref)"
	copy_into ref "$WORK/big.csv"
	check "psql's \\copy: rows" "$BIG_ROWS" "$(psql_q 'SELECT count(*) FROM ref')"
	check "psql's \\copy: a document of $DOC_MIB MiB, a body of $BODY_MIB MiB" "t t" \
		"$(psql_q "SELECT octet_length(doc::text) >= $((DOC_MIB << 20)) FROM ref WHERE id = 1000") $(psql_q \
			"SELECT octet_length(body) >= $((BODY_MIB << 20)) FROM ref WHERE id = 1001")"
	premises
	formats
	bound
	refused
	resume
	finish
}

main "$@"
