#!/usr/bin/env bash
# Proves the dialect help: --delimiter takes a tab as '\t' (backslash, t),
# as the word tab and as itself, and a tab-separated CSV file with a header
# (columns in another order, quoted fields holding tabs, commas and line
# breaks) then loads exactly what psql's \copy ... csv header delimiter E'\t'
# stores, its header mapped by name as with commas; --format text --header
# loads a tab-separated file with a header line as COPY (FORMAT text,
# HEADER) does in PostgreSQL 15, while without --header that line is a
# record (COPY's default); a header that is one field holding ';', '|' or a
# tab exits 78 with a message naming --delimiter and the character, and
# the option then loads the file; an unknown table name suggests the table
# of the same name in another case (with the quoting --table needs) or in
# another schema, and a name with nothing near stays a plain "does not
# exist"; every such refusal loads nothing.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

COLS="id int PRIMARY KEY, name text, email text, amount numeric(8,2)"

# same_rows NAME A B: tables A and B hold the same rows (EXCEPT ALL both ways).
same_rows() {
	check "$1: rows only in $2 or only in $3" 0 \
		"$(psql_q "SELECT (SELECT count(*) FROM (TABLE $2 EXCEPT ALL TABLE $3) d1) + (SELECT count(*) FROM (TABLE $3 EXCEPT ALL TABLE $2) d2)")"
}

# refused NAME CODE NEEDLE ARGS...: a load that exits CODE with NEEDLE (a
# fixed string) on stderr.
refused() {
	local name="$1" code="$2" needle="$3"
	shift 3
	load "$name" "$@"
	check "$name: exit code" "$code" "$RC"
	check_true "$name: stderr says: $needle" grep -qF -- "$needle" "$WORK/$name.err" || show_err "$name"
}

tab_csv() {
	local f="$WORK/customers.csv"
	# Columns in another order than the table's; quoted fields with a
	# tab, a comma, a quote and a line break; an empty (NULL) amount.
	printf 'email\tid\tamount\tname\n' >"$f"
	printf 'a@x.example\t1\t10.50\tAda\n' >>"$f"
	printf '"tab\there@x.example"\t2\t\t"Lovelace, Ada"\n' >>"$f"
	printf 'c@x.example\t3\t-7\t"two\nlines ""quoted"""\n' >>"$f"
	printf 'd@x.example\t4\t1e2\tplain\n' >>"$f"
	echo "$f"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-dialect.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	local t
	for t in ref_csv tab_escaped tab_word tab_literal ref_text text_header text_plain semi pipe; do
		psql_q "CREATE TABLE $t ($COLS)"
	done

	# 1. A tab-separated CSV file with a header, three spellings of a tab.
	local csv
	csv="$(tab_csv)"
	psql -XAtq -v ON_ERROR_STOP=1 \
		-c "\\copy ref_csv (email, id, amount, name) from '$csv' csv header delimiter E'\\t'" >/dev/null
	check "premise: psql's \\copy stores 4 rows" 4 "$(psql_q 'SELECT count(*) FROM ref_csv')"
	load tab_escaped --table tab_escaped --delimiter '\t' "$csv"
	check "tab_escaped: exit code" 0 "$RC"
	check "tab_escaped: loaded" 4 "$(sum_field tab_escaped loaded)"
	same_rows tab_escaped ref_csv tab_escaped
	load tab_word --table tab_word --delimiter tab "$csv"
	check "tab_word: exit code" 0 "$RC"
	same_rows tab_word ref_csv tab_word
	load tab_literal --table tab_literal --delimiter "$(printf '\t')" "$csv"
	check "tab_literal: exit code" 0 "$RC"
	same_rows tab_literal ref_csv tab_literal
	check "a multi-line quoted field survives" 'two
lines "quoted"' "$(psql_q 'SELECT name FROM tab_escaped WHERE id = 3')"
	# A rerun with another spelling of the same delimiter is the same
	# load: skipped, not refused as "other settings".
	load tab_rerun --table tab_escaped --delimiter tab "$csv"
	check "rerun with --delimiter tab after '\\t': exit code" 0 "$RC"
	check "rerun: skipped" 4 "$(sum_field tab_rerun skipped)"
	refused bad_delimiter 64 "--delimiter must be a single one-byte character (\\t or tab for a tab)" \
		--table tab_word --delimiter '\x09' "$csv"
	# Without the option the tab file's header is one field with tabs.
	refused tab_no_option 78 "the header is one field with a tab in it: is the file tab-separated? try --delimiter '\\t'" \
		--table tab_word --force "$csv"

	# 2. The text format with a header line.
	local tsv="$WORK/customers.tsv"
	printf 'email\tid\tamount\tname\n' >"$tsv"
	printf 'a@x.example\t1\t10.50\tAda\n' >>"$tsv"
	printf 'tab\\there@x.example\t2\t\\N\tLovelace, Ada\n' >>"$tsv"
	printf 'c@x.example\t3\t-7\ttwo\\nlines\n' >>"$tsv"
	psql -XAtq -v ON_ERROR_STOP=1 \
		-c "\\copy ref_text (email, id, amount, name) from '$tsv' (format text, header true)" >/dev/null
	check "premise: psql's \\copy (format text, header) stores 3 rows" 3 "$(psql_q 'SELECT count(*) FROM ref_text')"
	load text_header --table text_header --format text --header "$tsv"
	check "text_header: exit code" 0 "$RC"
	check "text_header: records read (header excluded)" 3 "$(sum_field text_header records_read)"
	same_rows text_header ref_text text_header
	# Without --header the text format has none, as in COPY: the header
	# line is a record, refused for its id.
	load text_plain --table text_plain --columns email,id,amount,name --format text \
		--rejects "$WORK/text_plain.ndjson" "$tsv"
	check "text_plain: exit code" 65 "$RC"
	check "text_plain: rejected" 1 "$(sum_field text_plain rejected)"
	check "text_plain: the reject is line 1, refused for its id" \
		'1 id invalid input syntax for type integer: "id"' \
		"$(jq -r '"\(.line) \(.column) \(.message)"' "$WORK/text_plain.ndjson")"

	# 3. ';' and '|' files: a hint naming the option, which then loads them.
	local semi="$WORK/semi.csv" pipe="$WORK/pipe.csv"
	printf 'id;name;email;amount\n1;Ada;a@x.example;1.5\n2;Bob;b@x.example;2\n' >"$semi"
	printf 'id|name|email|amount\n1|Ada|a@x.example|1.5\n' >"$pipe"
	refused semi_no_option 78 "column \"id;name;email;amount\"" --table semi "$semi"
	check_true "semi_no_option: stderr names --delimiter ';'" \
		grep -qF "the header is one field with ';' in it: is the file ';'-separated? try --delimiter ';'" \
		"$WORK/semi_no_option.err"
	check "semi_no_option: summary error names --delimiter" true \
		"$(jq -r '.error | contains("--delimiter '"';'"'")' "$WORK/semi_no_option.json")"
	check "semi_no_option: rows" 0 "$(psql_q 'SELECT count(*) FROM semi')"
	load semi_option --table semi --delimiter ';' "$semi"
	check "semi_option: exit code" 0 "$RC"
	check "semi_option: rows" 2 "$(psql_q 'SELECT count(*) FROM semi')"
	refused pipe_no_option 78 "try --delimiter '|'" --table pipe "$pipe"
	load pipe_option --table pipe --delimiter '|' "$pipe"
	check "pipe_option: exit code" 0 "$RC"
	check "pipe_option: rows" 1 "$(psql_q 'SELECT count(*) FROM pipe')"
	# A header of several fields that name no column gets no such hint.
	printf 'id,nom,email,amount\n1,Ada,a@x.example,1\n' >"$WORK/nom.csv"
	load nom --table pipe "$WORK/nom.csv"
	check "nom: exit code" 78 "$RC"
	check_true "nom: no delimiter hint" bash -c "! grep -q -- '--delimiter' '$WORK/nom.err'"

	# 4. Table names: another case, another schema, nothing near.
	psql_q "CREATE TABLE \"CustomerMaster\" ($COLS)"
	psql_q "CREATE SCHEMA archive"
	psql_q "CREATE TABLE archive.invoices ($COLS)"
	refused case_hint 78 \
		"table \\\"customermaster\\\" does not exist; did you mean \\\"CustomerMaster\\\" (quote it: --table '\\\"CustomerMaster\\\"')?" \
		--table CustomerMaster "$semi"
	load case_quoted --table '"CustomerMaster"' --delimiter ';' "$semi"
	check "case_quoted: the suggested name loads: exit code" 0 "$RC"
	check "case_quoted: rows" 2 "$(psql_q 'SELECT count(*) FROM "CustomerMaster"')"
	refused schema_hint 78 \
		"table \\\"invoices\\\" does not exist; did you mean archive.invoices (--table archive.invoices)?" \
		--table invoices "$semi"
	refused schema_wrong 78 "table \\\"sales.invoices\\\" does not exist; did you mean archive.invoices" \
		--table sales.invoices "$semi"
	refused nothing_near 78 "table \\\"no_such_table\\\" does not exist" --table no_such_table "$semi"
	check_true "nothing_near: no suggestion" bash -c "! grep -q 'did you mean' '$WORK/nothing_near.err'"
	check "no refusal loaded a row into archive.invoices" 0 "$(psql_q 'SELECT count(*) FROM archive.invoices')"
	finish
}

main "$@"
