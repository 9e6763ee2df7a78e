#!/usr/bin/env bash
# Proves that the ledger names tables unambiguously: the same file loaded
# into "s.x".t and into s."x.t" (both s.x.t when printed) is loaded into
# both, and a rerun into either is skipped; the ledger's targets are
# "s.x".t and s."x.t", and plain names stay unquoted (public.plain). And
# that a ledger written by an older version (targets printed unquoted,
# version 2) is migrated so that its records still match the same tables: a
# rerun into public."Mixed Case" and public.plain is skipped, not loaded
# again; a target that named both "s.x".t and s."x.t" is kept for each; a
# target whose table is gone is split at its first dot.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

ROWS=500

rows() {
	psql_q "SELECT count(*) FROM $1"
}

# loaded NAME TABLE: run NAME loaded the whole file into TABLE.
loaded() {
	check "$1: exit code" 0 "$RC"
	check "$1: loaded, skipped" "$ROWS 0" "$(sum_field "$1" loaded) $(sum_field "$1" skipped)"
	check "$1: rows in $2" "$ROWS" "$(rows "$2")"
}

# skipped NAME TABLE: run NAME found the file loaded into TABLE.
skipped() {
	check "$1: exit code" 0 "$RC"
	check "$1: loaded, skipped" "0 $ROWS" "$(sum_field "$1" loaded) $(sum_field "$1" skipped)"
	check_true "$1: says already loaded" grep -q 'already loaded' "$WORK/$1.err"
	check "$1: rows in $2" "$ROWS" "$(rows "$2")"
}

# targets TABLE: the targets of a ledger table, in byte order.
targets() {
	psql_q "SELECT string_agg(target, ' ' ORDER BY target COLLATE \"C\") FROM edonu_ingest.$1"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-quoting.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	psql_q 'CREATE SCHEMA "s.x"; CREATE SCHEMA s' >/dev/null
	local t
	for t in '"s.x".t' 's."x.t"' 'public."Mixed Case"' public.plain; do
		orders_table "$t"
	done
	local input="$WORK/orders.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 61 -o "$input"

	load dot_schema --table '"s.x".t' "$input"
	loaded dot_schema '"s.x".t'
	load dot_table --table 's."x.t"' "$input"
	loaded dot_table 's."x.t"'
	load dot_schema_rerun --table '"s.x".t' "$input"
	skipped dot_schema_rerun '"s.x".t'
	load dot_table_rerun --table 's."x.t"' "$input"
	skipped dot_table_rerun 's."x.t"'
	load mixed --table 'public."Mixed Case"' "$input"
	loaded mixed 'public."Mixed Case"'
	load plain --table plain "$input"
	loaded plain public.plain
	check "ledger targets" '"s.x".t public."Mixed Case" public.plain s."x.t"' "$(targets sources)"

	# The ledger as version 2 wrote it: targets as printed. s."x.t"'s
	# records were never written (version 2 took its load for "s.x".t's).
	psql -XAtq -v ON_ERROR_STOP=1 >/dev/null <<-'SQL'
		DELETE FROM edonu_ingest.sources WHERE target = 's."x.t"';
		DELETE FROM edonu_ingest.chunks WHERE target = 's."x.t"';
		UPDATE edonu_ingest.sources SET target = replace(target, '"', '');
		UPDATE edonu_ingest.chunks SET target = replace(target, '"', '');
		INSERT INTO edonu_ingest.sources (source_id, target, batch_rows) VALUES
			('file:gone', 'gone.Tbl', 10), ('file:gone', 'gone.tbl', 10);
		UPDATE edonu_ingest.version SET version = 2;
	SQL
	check "older ledger targets" 'gone.Tbl gone.tbl public.Mixed Case public.plain s.x.t' "$(targets sources)"
	load mixed_after --table 'public."Mixed Case"' "$input"
	skipped mixed_after 'public."Mixed Case"'
	check "migrated to version" 4 "$(psql_q 'SELECT version FROM edonu_ingest.version')"
	check "migrated targets" '"s.x".t gone."Tbl" gone.tbl public."Mixed Case" public.plain s."x.t"' \
		"$(targets sources)"
	check "migrated chunks' targets" '"s.x".t public."Mixed Case" public.plain s."x.t"' "$(targets chunks)"
	load plain_after --table public.plain "$input"
	skipped plain_after public.plain
	load dot_schema_after --table '"s.x".t' "$input"
	skipped dot_schema_after '"s.x".t'
	load dot_table_after --table 's."x.t"' "$input"
	skipped dot_table_after 's."x.t"'
	finish
}

main "$@"
