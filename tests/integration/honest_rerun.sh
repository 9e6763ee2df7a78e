#!/usr/bin/env bash
# Proves that a rerun of a loaded input tells the truth about it: a rerun of
# a completed source that had rejects exits 65 (never 0), says on stderr
# that it was already loaded, when, and how many records were rejected, and
# with --rejects FILE2 writes that source's rejects again (the same records
# as the first rejects file); a rerun of a clean completed source exits 0
# and loads nothing.  And that a rerun whose options change what would be
# stored is never silently skipped: --on-conflict update --key after a
# plain load loads every record again (rows updated, exit 0), while a
# different --columns, --format, --delimiter or --null, or --on-conflict
# ignore followed by error, exits 78 naming --force and stores nothing,
# and with --force loads again.
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
BAD_EVERY=100 # 200 bad records
BATCH_ROWS=2000
# The input's fields with status and note swapped: a --columns that loads
# cleanly but stores something else.
SWAPPED="tenant_id,order_id,customer_id,sku,quantity,unit_price,currency,note,created_at,status"

# keyed_table NAME: the orders table with order_id as its primary key.
keyed_table() {
	orders_table "$1"
	psql_q "ALTER TABLE $1 ADD PRIMARY KEY (order_id)"
}

rows_of() {
	psql_q "SELECT count(*) FROM $1"
}

# line_count FILE: FILE's lines, 0 when there is no FILE.
line_count() {
	{ cat -- "$1" 2>/dev/null || true; } | wc -l
}

# records_of FILE: the sorted record numbers of a rejects file.
records_of() {
	{ cat -- "$1" 2>/dev/null || true; } | jq -r '.record' | sort -n
}

# already_line NAME: the message of run NAME's log line saying the source
# was already loaded (the text after msg=, so not the line's timestamp).
already_line() {
	{ grep -m1 'already loaded' "$WORK/$1.err" || true; } | sed -n 's/.*msg=//p'
}

# refused NAME WHAT ARGS...: run NAME with ARGS changes what would be stored
# against the earlier load of table TABLE: exit 78 naming --force, nothing
# loaded.
refused() {
	local name="$1" what="$2" before
	shift 2
	before="$(rows_of "$TABLE")"
	load "$name" "$@"
	[[ "$RC" == 78 ]] || show_err "$name"
	check "$what, without --force: exit code" 78 "$RC"
	check_true "$what, without --force: stderr names --force" grep -q -- '--force' "$WORK/$name.err"
	check "$what, without --force: rows" "$before" "$(rows_of "$TABLE")"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries and the rejects"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-rerun.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	local bad="$WORK/bad.csv" clean="$WORK/clean.csv" clean2="$WORK/clean2.csv" nbad=$((ROWS / BAD_EVERY))
	"$EDONU_INGEST" gen --rows "$ROWS" --bad-every "$BAD_EVERY" --seed 71 -o "$bad"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 72 -o "$clean"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 73 -o "$clean2"

	# 1. A completed source with rejects: every rerun says so and exits 65.
	orders_table rej
	load first --table rej --batch-rows "$BATCH_ROWS" --rejects "$WORK/first.ndjson" "$bad"
	check "first load with rejects: exit code" 65 "$RC"
	check "first load: rejects file lines" "$nbad" "$(line_count "$WORK/first.ndjson")"
	load again --table rej --batch-rows "$BATCH_ROWS" --rejects "$WORK/again.ndjson" "$bad"
	[[ "$RC" == 65 ]] || show_err again
	check "rerun of a source with rejects: exit code" 65 "$RC"
	check "rerun: rows" $((ROWS - nbad)) "$(rows_of rej)"
	local msg
	msg="$(already_line again)"
	note "rerun says: ${msg:-nothing with 'already loaded'}"
	check_true "rerun: stderr says it was already loaded" test -n "$msg"
	check_true "rerun: that message says how many records were rejected ($nbad)" \
		grep -qE "(\\b$nbad\\b.*rejected|rejected.*\\b$nbad\\b)" <<<"$msg"
	check_true "rerun: that message says when it was loaded (a date)" \
		grep -qE '[0-9]{4}-[0-9]{2}-[0-9]{2}' <<<"$msg"
	check "rerun: FILE2 lines" "$nbad" "$(line_count "$WORK/again.ndjson")"
	check "rerun: FILE2 holds the first file's records" \
		"$(records_of "$WORK/first.ndjson" | md5sum)" "$(records_of "$WORK/again.ndjson" | md5sum)"
	load again_plain --table rej --batch-rows "$BATCH_ROWS" "$bad"
	check "rerun without --rejects: exit code" 65 "$RC"
	check_true "rerun without --rejects: says already loaded" test -n "$(already_line again_plain)"
	check "rerun without --rejects: rows" $((ROWS - nbad)) "$(rows_of rej)"

	# 2. A clean completed source: the rerun exits 0 and loads nothing.
	TABLE=plain
	orders_table plain
	load clean --table plain "$clean"
	check "clean load: exit code" 0 "$RC"
	load clean_again --table plain "$clean"
	check "rerun of a clean source: exit code" 0 "$RC"
	check "rerun of a clean source: loaded" 0 "$(sum_field clean_again loaded)"
	check "rerun of a clean source: rows" "$ROWS" "$(rows_of plain)"

	# 3. Options that change what would be stored need --force.
	refused cols "different --columns" --table plain --columns "$SWAPPED" "$clean"
	refused fmt "different --format" --table plain --format text "$clean"
	refused delim "different --delimiter" --table plain --delimiter ';' "$clean"
	refused null "different --null" --table plain --null NA "$clean"
	load cols_force --table plain --columns "$SWAPPED" --force "$clean"
	[[ "$RC" == 0 ]] || show_err cols_force
	check "different --columns with --force: exit code" 0 "$RC"
	check "different --columns with --force: loaded" "$ROWS" "$(sum_field cols_force loaded)"
	check "different --columns with --force: rows" $((2 * ROWS)) "$(rows_of plain)"
	check "different --columns with --force: rows with a status in note" "$ROWS" \
		"$(psql_q "SELECT count(*) FROM plain WHERE note IN ('new', 'paid', 'shipped', 'cancelled')")"
	load null_force --table plain --null NA --force "$clean"
	[[ "$RC" == 0 ]] || show_err null_force
	check "different --null with --force: exit code" 0 "$RC"
	check "different --null with --force: loaded" "$ROWS" "$(sum_field null_force loaded)"
	check "different --null with --force: rows" $((3 * ROWS)) "$(rows_of plain)"

	# 4. After a plain load, --on-conflict update reloads: rows updated.
	TABLE=keyed
	keyed_table keyed
	orders_table expected
	copy_into expected "$clean"
	load keyed --table keyed "$clean"
	check "keyed: plain load: exit code" 0 "$RC"
	# Rows changed since the load (as an application would): the upsert
	# of the file must put the file's values back.
	psql_q "UPDATE keyed SET note = 'changed since the load'"
	load upsert --table keyed --on-conflict update --key order_id "$clean"
	[[ "$RC" == 0 ]] || show_err upsert
	check "keyed: rerun with --on-conflict update: exit code" 0 "$RC"
	check "keyed: rerun with --on-conflict update: loaded = records" "$ROWS" "$(sum_field upsert loaded)"
	check "keyed: rows" "$ROWS" "$(rows_of keyed)"
	check "keyed: rows that got the file's note back" "$ROWS" "$(psql_q "SELECT count(*) FROM keyed WHERE note IS DISTINCT FROM 'changed since the load'")"
	check "keyed: the table = the file" 0 \
		"$(psql_q 'SELECT count(*) FROM ((TABLE keyed EXCEPT ALL TABLE expected) UNION ALL (TABLE expected EXCEPT ALL TABLE keyed)) d')"

	# 5. --on-conflict ignore, then error: refused without --force.
	load ignore --table keyed --on-conflict ignore --key order_id "$clean2"
	check "keyed: ignore load of new keys: exit code" 0 "$RC"
	check "keyed: ignore load of new keys: rows" $((2 * ROWS)) "$(rows_of keyed)"
	refused ign_err "--on-conflict ignore, then error" --table keyed "$clean2"
	finish
}

main "$@"
