#!/usr/bin/env bash
# Proves that edonu-ingest load reports each kind of failure with its
# sysexits.h exit code and a message on stderr naming the problem: usage
# errors 64 (--from-rejects with FILE operands among them, and dialects
# that COPY itself refuses), missing input 66, unknown table or column 78,
# PostgreSQL unreachable 69.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

FAILED=()
WORK=""
# Bound on one loader run; the unreachable-server case may retry first.
RUN_TIMEOUT_S="${RUN_TIMEOUT_S:-120}"

# expect NAME RC NEEDLE_REGEX ARGS...: runs `edonu-ingest ARGS`, checks the
# exit code and that one stderr line matches NEEDLE_REGEX (case-insensitive;
# an empty NEEDLE_REGEX checks the exit code only).
expect() {
	local name="$1" want_rc="$2" needle="$3"
	shift 3
	local out="$WORK/$name.out" err="$WORK/$name.err" rc=0 line
	timeout "$RUN_TIMEOUT_S" "$EDONU_INGEST" "$@" </dev/null >"$out" 2>"$err" || rc=$?
	line="$(grep -v '^[[:space:]]*$' "$err" | grep -i -E -m1 -- "$needle" || true)"
	if [[ "$rc" != "$want_rc" ]]; then
		note "FAIL [$name]: exit code $rc, expected $want_rc; stderr:"
		head -n 5 "$err" >&2
		FAILED+=("$name")
	elif [[ -n "$needle" && -z "$line" ]]; then
		note "FAIL [$name]: exit code $rc as expected, but no stderr line matches /$needle/; stderr:"
		head -n 5 "$err" >&2
		FAILED+=("$name")
	else
		note "ok [$name]: exit $rc: $line"
	fi
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-cli.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	psql_q "CREATE TABLE t (id integer, name text)"
	printf 'id,name\n1,one\n2,two\n' >"$WORK/good.csv"
	printf 'id,bogus_col\n1,x\n' >"$WORK/badheader.csv"

	local dsn="$EDONU_TEST_DSN"
	# Usage errors.
	expect unknown_option 64 'no-such-option' load --no-such-option --dsn "$dsn" --table t "$WORK/good.csv"
	expect unknown_command 64 'frobnicate' frobnicate
	expect bad_format 64 'format|bogus' load --dsn "$dsn" --table t --format bogus "$WORK/good.csv"
	expect bad_workers 64 'workers|abc' load --dsn "$dsn" --table t --workers abc "$WORK/good.csv"
	# --from-rejects is the input: FILE operands beside it, or no --format
	# to read its records with, are usage errors.
	printf '{"source":"good.csv","record":3,"message":"m","raw":"3,three","header":"id,name"}\n' \
		>"$WORK/rejects.ndjson"
	expect from_rejects_and_file 64 'from-rejects takes no FILE operands.*good\.csv' \
		load --dsn "$dsn" --table t --format csv --from-rejects "$WORK/rejects.ndjson" "$WORK/good.csv"
	expect from_rejects_no_format 64 'from-rejects needs --format' \
		load --dsn "$dsn" --table t --from-rejects "$WORK/rejects.ndjson"
	# A dialect COPY itself refuses, refused before anything is read or
	# loaded, naming the options: a quote that is the delimiter, a NULL
	# marker that holds the delimiter or the quote, a delimiter that is a
	# line end, a text delimiter that the text format's escapes use. (An
	# escape that is the delimiter COPY takes, and so does the loader.)
	expect quote_is_delimiter 64 'quote.*delimiter.*differ|delimiter.*quote.*differ' \
		load --dsn "$dsn" --table t --format csv --quote , "$WORK/good.csv"
	expect quote_is_delimiter_auto 64 'quote.*delimiter.*differ|delimiter.*quote.*differ' \
		load --dsn "$dsn" --table t --quote , "$WORK/good.csv"
	expect null_holds_delimiter 64 'null.*delimiter' \
		load --dsn "$dsn" --table t --format csv --null 'a,b' "$WORK/good.csv"
	expect null_holds_quote 64 'null.*quote' \
		load --dsn "$dsn" --table t --format csv --null 'x"' "$WORK/good.csv"
	expect text_delimiter_backslash 64 'delimiter' \
		load --dsn "$dsn" --table t --format text --delimiter '\' "$WORK/good.csv"
	expect text_delimiter_letter 64 'delimiter' \
		load --dsn "$dsn" --table t --format text --delimiter n "$WORK/good.csv"
	expect delimiter_newline 64 'delimiter' \
		load --dsn "$dsn" --table t --format csv --delimiter $'\n' "$WORK/good.csv"

	# A text-format file whose first line names the columns, loaded without
	# --header: COPY reads that line as a record and so does the loader
	# (its integer column rejects it, 65), with a hint that it looks like a
	# header. A first line of data gives no hint.
	printf 'id\tname\n1\tone\n' >"$WORK/header.txt"
	expect text_header_hint 65 'header_suspected.*first line looks like a header.*--header' \
		load --dsn "$dsn" --table t --format text --progress never "$WORK/header.txt"
	printf '3\tthree\n4\tfour\n' >"$WORK/noheader.txt"
	expect text_no_header 0 '' load --dsn "$dsn" --table t --format text --progress never "$WORK/noheader.txt"
	if grep -q header_suspected "$WORK/text_no_header.err"; then
		note "FAIL [text_no_header]: a header hinted for a first line of data"
		FAILED+=(text_no_header_hint)
	fi
	psql_q "TRUNCATE t" >/dev/null

	# Input missing.
	expect missing_input 66 'does-not-exist' load --dsn "$dsn" --table t "$WORK/does-not-exist.csv"
	# Configuration: the table or a column does not exist.
	expect unknown_table 78 'no_such_table' load --dsn "$dsn" --table no_such_table "$WORK/good.csv"
	expect unknown_header_column 78 'bogus_col' load --dsn "$dsn" --table t "$WORK/badheader.csv"
	expect unknown_columns_option 78 'nope' load --dsn "$dsn" --table t --columns id,nope --no-header "$WORK/good.csv"
	# PostgreSQL unreachable: a socket directory with no server in it.
	local fast=()
	if "$EDONU_INGEST" load --help 2>&1 | grep -q -- '--connect-timeout'; then
		fast=(--connect-timeout 2)
	fi
	expect server_unreachable 69 'nonexistent|connect|unavailable|server' \
		load --dsn "host=/nonexistent port=5432 user=postgres dbname=postgres" "${fast[@]}" \
		--table t "$WORK/good.csv"

	# Nothing above may have loaded a row.
	assert_eq "rows in t after failed runs" 0 "$(psql_q 'SELECT count(*) FROM t')"
	# And the good file loads, so the checks above failed for their reason.
	expect good_load 0 '' load --dsn "$dsn" --table t --progress never "$WORK/good.csv"
	if [[ "$(psql_q 'SELECT count(*) FROM t')" != 2 ]]; then
		note "FAIL [good_load]: t does not hold the file's 2 rows"
		FAILED+=(good_load_rows)
	fi

	if ((${#FAILED[@]} > 0)); then
		die "failed: ${FAILED[*]}"
	fi
}

main "$@"
