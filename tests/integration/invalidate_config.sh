#!/usr/bin/env bash
# Proves that a key template that cannot work is a configuration error
# found before anything is loaded: an unknown column, unbalanced braces, an
# empty placeholder, a column of a type that cannot be rendered exactly
# (created_at timestamptz), and a column the input does not have, in
# --invalidate or --bump, each end the run with exit 78 and a message
# naming the problem, with the table still empty and Redis untouched;
# --invalidate, --bump or --publish without --redis (and --redis without a
# template) are usage errors, exit 64; and the same file with a good
# template loads and takes its keys, through redis:// and unix:// URLs.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"
# shellcheck source=cache_helpers.sh
source "$HERE/cache_helpers.sh"

# config_error NAME EXPECTED_CODE MESSAGE_PART ARGS...: a load of the test
# file with ARGS that must exit EXPECTED_CODE, say MESSAGE_PART in its error,
# and leave the table empty and Redis as it was.
config_error() {
	local name="$1" code="$2" part="$3"
	shift 3
	load "$name" --table orders --state-dir "$WORK/state" "$@"
	check "$name: exit code" "$code" "$RC"
	# The summary's error, or stderr for usage errors (no summary).
	local said
	said="$(sum_field "$name" error)"
	[[ "$said" != none ]] || said="$(cat "$WORK/$name.err")"
	if grep -qF -- "$part" <<<"$said"; then
		note "ok: $name: the error says '$part'"
	else
		check "$name: the error says '$part'" present "absent: $said"
	fi
	check "$name: rows in the table" 0 "$(psql_q 'SELECT count(*) FROM orders')"
	check "$name: keys in Redis" 1 "$(rcli DBSIZE)"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-iconf.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	redis_start
	orders_table orders
	local input="$WORK/orders.csv" r="$EDONU_TEST_REDIS"
	"$EDONU_INGEST" gen --rows 1000 --seed 41 -o "$input"
	# The first record's key: it must survive every failed run.
	local key
	key="$(awk -F, 'NR == 2 { print "erp:" $1 ":order:" $2 }' "$input")"
	rcli SET "$key" cached >/dev/null

	config_error unknown_column 78 'column "tenant" does not exist' \
		--redis "$r" --invalidate 'erp:{tenant}:order:{order_id}' "$input"
	config_error open_brace 78 "unbalanced '{'" \
		--redis "$r" --invalidate 'erp:{tenant_id:order:{order_id}' "$input"
	config_error open_brace_at_end 78 "unbalanced '{'" \
		--redis "$r" --invalidate 'erp:{tenant_id}:order:{order_id' "$input"
	config_error close_brace 78 "unbalanced '}'" \
		--redis "$r" --invalidate 'erp:tenant_id}:order:{order_id}' "$input"
	config_error empty_placeholder 78 'empty column name' \
		--redis "$r" --invalidate 'erp:{}:order:{order_id}' "$input"
	config_error timestamptz 78 'cannot render column "created_at"' \
		--redis "$r" --invalidate 'erp:{tenant_id}:order:{order_id}:{created_at}' "$input"
	config_error bump_unknown_column 78 'column "nope" does not exist' \
		--redis "$r" --invalidate "$KEY_TEMPLATE" --bump 'erp:{nope}:version' "$input"
	config_error second_template 78 "unbalanced '}'" \
		--redis "$r" --invalidate "$KEY_TEMPLATE" --invalidate 'erp:}' "$input"
	# A column of the table that the input does not carry has no value.
	local cut="$WORK/no_tenant.csv"
	python3 - "$input" "$cut" <<-'EOF'
		import csv, sys
		with open(sys.argv[1], newline="", errors="surrogateescape") as f, \
		        open(sys.argv[2], "w", newline="", errors="surrogateescape") as g:
		    w = csv.writer(g, lineterminator="\n")
		    for rec in csv.reader(f):
		        w.writerow(rec[1:])
	EOF
	config_error column_not_loaded 78 'is not loaded' \
		--redis "$r" --invalidate "$KEY_TEMPLATE" "$cut"

	config_error invalidate_without_redis 64 'need --redis' --invalidate "$KEY_TEMPLATE" "$input"
	config_error bump_without_redis 64 'need --redis' --bump 'erp:version' "$input"
	config_error publish_without_redis 64 'need --redis' --publish erp "$input"
	config_error redis_without_template 64 '--redis needs --invalidate or --bump' --redis "$r" "$input"

	# The same file with a good template loads, and takes the key.
	load good --table orders --state-dir "$WORK/state" --redis "$r" --invalidate "$KEY_TEMPLATE" "$input"
	check "good: exit code" 0 "$RC"
	check "good: rows in the table" 1000 "$(psql_q 'SELECT count(*) FROM orders')"
	check "good: keys in Redis" 0 "$(rcli DBSIZE)"
	# The same through the Unix socket URL form, into another table.
	orders_table orders_unix
	rcli SET "$key" cached >/dev/null
	load unix --table orders_unix --state-dir "$WORK/state" --redis "unix://$REDIS_SOCKET" \
		--invalidate "$KEY_TEMPLATE" "$input"
	check "unix: exit code" 0 "$RC"
	check "unix: rows in the table" 1000 "$(psql_q 'SELECT count(*) FROM orders_unix')"
	check "unix: keys_invalidated" 1000 "$(sum_field unix keys_invalidated)"
	check "unix: keys in Redis" 0 "$(rcli DBSIZE)"
	finish
}

main "$@"
