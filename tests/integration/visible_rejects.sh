#!/usr/bin/env bash
# Proves that rejects are visible without --rejects: a load of a file whose
# refused records are known (three values an integer refuses, two records
# with too many fields, one with too few, a duplicate key and a CHECK the
# server refuses), spread over chunks of three records on two workers,
# names on stderr, as log events (logfmt and JSON), the first five rejects
# with FILE:LINE and PostgreSQL's message for that very line, and then how
# to keep them all; with --rejects nothing of that is shown. The summary
# counts rejects by key, SQLSTATE or the loader's word, in JSON
# (rejects_by_reason) and in the text table, adding up to rejected, for
# this run only (a rerun that skips the file counts none, and writes them
# all to --rejects FILE as the hint promised); run sums them over its
# files. --dry-run is labelled in both summaries (dry_run true, false
# otherwise) and counts the rejects the loader finds by itself.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

# The refused lines of bad.csv and what PostgreSQL says of each.
declare -A EXPECT=(
	[3]='column qty: invalid input syntax for type integer: \"x\"'
	[4]='extra data after last expected column'
	[6]='column qty: missing data for column \"qty\"'
	[7]='column id: invalid input syntax for type integer: \"y\"'
	[8]='duplicate key value violates unique constraint \"acct_pkey\" (SQLSTATE 23505)'
	[9]='violates check constraint \"acct_qty_check\"'
	[10]='extra data after last expected column'
	[11]='column qty: invalid input syntax for type integer: \"z\"'
)
BY_REASON='{"22P02":3,"23505":1,"23514":1,"too few columns":1,"too many columns":2}'
CLIENT_BY_REASON='{"22P02":3,"too few columns":1,"too many columns":2}'

# bad_csv FILE: the records, one per line after the header (line 1).
bad_csv() {
	cat >"$1" <<-'CSV'
		id,name,qty
		1,a,1
		2,b,x
		3,c,1,extra
		4,d,1
		5,e
		y,f,1
		1,g,1
		6,h,-1
		7,i,2,3
		8,j,z
		9,k,1
	CSV
}

# shown_lines NAME: the FILE:LINE: MESSAGE of run NAME's reject events,
# from logfmt lines.
shown_lines() {
	sed -n 's/.* event=reject msg="\(.*\)"$/\1/p' "$WORK/$1.err"
}

# check_shown NAME FILE: run NAME showed exactly five rejects, each naming a
# refused line of FILE with that line's message.
check_shown() {
	local name="$1" file="$2" line n=0 where msg
	check "$name: rejects shown on stderr" 5 "$(shown_lines "$name" | wc -l)"
	while IFS= read -r line; do
		where="${line%%: *}"
		msg="${line#*: }"
		n="${where##*:}"
		check "$name: shown reject names $file" "$file" "${where%:*}"
		if [[ -n "${EXPECT[$n]:-}" ]] && [[ "$msg" == *"${EXPECT[$n]}"* ]]; then
			note "ok: $name: line $n: $msg"
		else
			note "FAIL: $name: shown '$line' is not line $n's reject"
			FAILED+=("$name: line $n")
		fi
	done < <(shown_lines "$name")
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-visible.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	local t
	for t in acct acct_json acct_file acct_stdin acct_run; do
		psql_q "CREATE TABLE $t (id int PRIMARY KEY, name text, qty int CONSTRAINT ${t}_qty_check CHECK (qty >= 0))"
	done
	local bad="$WORK/bad.csv"
	bad_csv "$bad"
	local common=(--workers 2 --batch-rows 3)

	# 1. No --rejects: five shown, with line and reason, then the hint.
	load plain --table acct "${common[@]}" "$bad"
	check "plain: exit code" 65 "$RC"
	check "plain: loaded, rejected" "3 8" "$(sum_field plain loaded) $(sum_field plain rejected)"
	check_shown plain "$bad"
	check_true "plain: the hint names --rejects FILE" \
		grep -qF 'event=rejects_not_kept msg="8 records rejected, the first 5 shown above; they are kept in the ledger: the same command with --rejects FILE writes them all' \
		"$WORK/plain.err"
	check "plain: rejects_by_reason" "$BY_REASON" "$(jq -c -S .rejects_by_reason "$WORK/plain.json")"
	check "plain: reasons add up to rejected" 8 "$(jq '[.rejects_by_reason[]] | add' "$WORK/plain.json")"
	check "plain: dry_run" false "$(sum_field plain dry_run)"
	check_true "plain: text summary counts 22P02" grep -qE '^    22P02 +3$' "$WORK/plain.err"
	check_true "plain: text summary counts too many columns" grep -qE '^    too many columns +2$' "$WORK/plain.err"
	check_true "plain: text summary is not labelled a dry run" bash -c "! grep -q 'dry run' '$WORK/plain.err'"

	# The rerun skips the file: no rejects of its own, and with
	# --rejects FILE it writes all eight from the ledger.
	load rerun --table acct "${common[@]}" --rejects "$WORK/rerun.ndjson" "$bad"
	check "rerun: exit code" 65 "$RC"
	check "rerun: skipped, rejected, rejected_earlier" "11 0 8" \
		"$(sum_field rerun skipped) $(sum_field rerun rejected) $(sum_field rerun rejected_earlier)"
	check "rerun: rejects_by_reason (this run's)" '{}' "$(jq -c .rejects_by_reason "$WORK/rerun.json")"
	check "rerun: the rejects file holds all eight" 8 "$(wc -l <"$WORK/rerun.ndjson")"
	check "rerun: their lines" "3 4 6 7 8 9 10 11" "$(jq -r .line "$WORK/rerun.ndjson" | sort -n | xargs)"

	# 2. --log-format json: the same events as JSON objects.
	load json --table acct_json "${common[@]}" --log-format json "$bad"
	check "json: exit code" 65 "$RC"
	check "json: every stderr line that is an event parses" 0 \
		"$(grep '^{' "$WORK/json.err" | jq -c . >/dev/null 2>&1; echo $?)"
	check "json: reject events" 5 "$(grep '^{' "$WORK/json.err" | jq -r 'select(.event == "reject") | .level' | grep -c warn)"
	check "json: hint events" 1 "$(grep '^{' "$WORK/json.err" | jq -r 'select(.event == "rejects_not_kept") | .msg' | grep -c -- '--rejects FILE')"
	check "json: a reject names FILE:LINE" 5 \
		"$(grep '^{' "$WORK/json.err" | jq -r 'select(.event == "reject") | .msg' | grep -c "^$bad:[0-9]*: ")"
	check "json: rejects_by_reason" "$BY_REASON" "$(jq -c -S .rejects_by_reason "$WORK/json.json")"

	# 3. With --rejects nothing is shown: the file has them.
	load file --table acct_file "${common[@]}" --rejects "$WORK/file.ndjson" "$bad"
	check "file: exit code" 65 "$RC"
	check "file: no reject events" 0 "$(grep -c 'event=reject' "$WORK/file.err" || true)"
	check "file: no hint" 0 "$(grep -c 'event=rejects_not_kept' "$WORK/file.err" || true)"
	check "file: rejects_by_reason" "$BY_REASON" "$(jq -c -S .rejects_by_reason "$WORK/file.json")"

	# 4. Standard input without --source-id: shown as stdin, and the hint
	# says to add --rejects (nothing of this run can be found again).
	LOAD_STDIN="$bad" load stdin --table acct_stdin "${common[@]}" -
	check "stdin: exit code" 65 "$RC"
	check "stdin: rejects shown" 5 "$(shown_lines stdin | grep -c '^stdin:[0-9]*: ')"
	check_true "stdin: hint says add --rejects FILE" \
		grep -qF 'the first 5 shown above; add --rejects FILE to keep them all' "$WORK/stdin.err"

	# 5. --dry-run: labelled; the loader's own rejects counted.
	psql_q "TRUNCATE acct_file"
	load dry --table acct_file "${common[@]}" --dry-run "$bad"
	check "dry: exit code" 65 "$RC"
	check "dry: dry_run" true "$(sum_field dry dry_run)"
	check "dry: rejects_by_reason" "$CLIENT_BY_REASON" "$(jq -c -S .rejects_by_reason "$WORK/dry.json")"
	check_true "dry: text summary labelled" grep -qF 'edonu-ingest summary: public.acct_file (dry run: nothing was written)' "$WORK/dry.err"
	check_true "dry: hint says add --rejects FILE" grep -qF 'add --rejects FILE to keep them all' "$WORK/dry.err"
	check "dry: nothing written" 0 "$(psql_q 'SELECT count(*) FROM acct_file')"
	check "dry: labelled in a summary on stdout too" true \
		"$("$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never --table acct_file --dry-run \
			--summary - "$bad" 2>/dev/null | jq .dry_run)"

	load dry_failed --table no_such_table --dry-run "$bad"
	check "dry_failed: exit code" 78 "$RC"
	check "dry_failed: a dry run that failed early is labelled too" true "$(sum_field dry_failed dry_run)"

	# 6. run sums the reasons over its files.
	local spool="$WORK/spool"
	mkdir -p "$spool"
	cp "$bad" "$spool/a.csv"
	sed 's/^9,k,1$/9,k,q/' "$bad" >"$spool/b.csv"
	RC=0
	"$EDONU_INGEST" run --dsn "$EDONU_TEST_DSN" --spool "$spool" --settle 0 --table acct_run --progress never \
		--summary "$WORK/run.json" 2>"$WORK/run.err" || RC=$?
	check "run: exit code" 65 "$RC"
	check "run: rejected" 19 "$(jq .rejected "$WORK/run.json")"
	check "run: rejects_by_reason summed over files" \
		'{"22P02":7,"23505":4,"23514":2,"too few columns":2,"too many columns":4}' \
		"$(jq -c -S .rejects_by_reason "$WORK/run.json")"
	check "run: reasons add up to rejected" 19 "$(jq '[.rejects_by_reason[]] | add' "$WORK/run.json")"
	check "run: no reject events (its files' rejects go beside them)" 0 "$(grep -c 'event=reject ' "$WORK/run.err" || true)"
	finish
}

main "$@"
