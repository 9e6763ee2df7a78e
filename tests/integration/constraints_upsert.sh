#!/usr/bin/env bash
# Proves that records the server refuses are isolated and rejected one by
# one with the server's SQLSTATE while the rest commits: 100k records with
# repeated keys (in the same chunk and in other chunks) and CHECK
# violations, loaded into a table with PRIMARY KEY (tenant_id, order_id)
# and CHECK (quantity > 0), give loaded + rejected = 100000, each valid key
# exactly once, rejects with SQLSTATE 23505 and 23514 only, and exit 65;
# then that a changed version of the file loaded with --on-conflict update
# --key tenant_id,order_id replaces every row, and that --on-conflict
# ignore adds new keys and leaves existing rows untouched, reporting the
# records whose key was there as ignored, not loaded.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

ROWS=100000
BATCH_ROWS=5000
NEW_ROWS=50
COLS="tenant_id, order_id, customer_id, sku, quantity, unit_price, currency, status, created_at, note"

# keyed_table NAME: the orders table with the key and the check.
keyed_table() {
	orders_table "$1"
	psql_q "ALTER TABLE $1 ADD PRIMARY KEY (tenant_id, order_id), ADD CHECK (quantity > 0)"
}

# same_rows A B: the two queries return the same multiset of rows; prints
# how many rows differ either way.
same_rows() {
	psql_q "SELECT (SELECT count(*) FROM (($1) EXCEPT ALL ($2)) d1) + (SELECT count(*) FROM (($2) EXCEPT ALL ($1)) d2)"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-constr.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	keyed_table orders
	orders_table scratch_bad
	orders_table scratch_upd
	orders_table scratch_new

	local clean="$WORK/clean.csv" bad="$WORK/bad.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 31 -o "$clean"
	# Every 500th record repeats the key of the record before it (same
	# chunk: the earlier one must win), every 7919th the key of the record
	# 12345 before it (another chunk, often another worker), and every
	# 701st gets a negative quantity; a record whose key is repeated keeps
	# its positive quantity so that it stays valid.
	csv_rewrite "$clean" "$bad" '
		key[r] = f[1] "," f[2]
		if (r % 500 == 0 && !neg[r - 1]) {
			split(key[r - 1], k, ","); f[1] = k[1]; f[2] = k[2]
		} else if (r % 7919 == 0 && r > 12345 && !neg[r - 12345]) {
			split(key[r - 12345], k, ","); f[1] = k[1]; f[2] = k[2]
		} else if (r % 701 == 0) {
			f[5] = -f[5]; neg[r] = 1
		}'
	copy_into scratch_bad "$bad"
	local negative valid_keys dups
	negative="$(psql_q 'SELECT count(*) FROM scratch_bad WHERE quantity <= 0')"
	valid_keys="$(psql_q 'SELECT count(DISTINCT (tenant_id, order_id)) FROM scratch_bad WHERE quantity > 0')"
	dups=$((ROWS - negative - valid_keys))
	note "input: $ROWS records, $negative with quantity <= 0, $dups repeating an earlier key, $valid_keys valid keys"
	((negative > 0 && dups > 0)) || die "the rewritten input has no bad records"

	# 1. Constraint violations isolated and rejected.
	load bad --table orders --batch-rows "$BATCH_ROWS" --rejects "$WORK/bad.ndjson" "$bad"
	check "bad: exit code" 65 "$RC"
	local loaded rejected
	loaded="$(sum_field bad loaded)"
	rejected="$(sum_field bad rejected)"
	check "bad: loaded + rejected" "$ROWS" "$((loaded + rejected))"
	check "bad: loaded = valid keys" "$valid_keys" "$loaded"
	check "bad: rows in the table = loaded" "$loaded" "$(psql_q 'SELECT count(*) FROM orders')"
	check "bad: rejects file lines = rejected" "$rejected" "$(wc -l <"$WORK/bad.ndjson")"
	check "bad: rejects with SQLSTATE 23514" "$negative" "$(jq -r .sqlstate "$WORK/bad.ndjson" | grep -cx 23514 || true)"
	check "bad: rejects with SQLSTATE 23505" "$dups" "$(jq -r .sqlstate "$WORK/bad.ndjson" | grep -cx 23505 || true)"
	check "bad: rejects with another SQLSTATE" 0 "$(jq -r .sqlstate "$WORK/bad.ndjson" | grep -cvxE '23505|23514' || true)"
	check "bad: keys in the table = the input's valid keys" 0 \
		"$(same_rows 'SELECT tenant_id, order_id FROM orders' \
			'SELECT DISTINCT tenant_id, order_id FROM scratch_bad WHERE quantity > 0')"
	check "bad: every row in the table is a record of the input" 0 \
		"$(psql_q 'SELECT count(*) FROM (TABLE orders EXCEPT ALL TABLE scratch_bad) d')"
	# A key repeated within a chunk keeps its first record, as COPY would.
	# A fresh table filled by one COPY keeps the file's order in ctid.
	local later_in_chunk
	later_in_chunk="
		WITH s AS (SELECT *, row_number() OVER (ORDER BY ctid) AS n FROM scratch_bad)
		SELECT $COLS FROM s a WHERE EXISTS (SELECT 1 FROM s b
			WHERE (b.tenant_id, b.order_id) = (a.tenant_id, a.order_id) AND b.n < a.n
			AND (b.n - 1) / $BATCH_ROWS = (a.n - 1) / $BATCH_ROWS)"
	check_true "bad: there are keys repeated within a chunk" \
		test "$(psql_q "SELECT count(*) FROM ($later_in_chunk) d")" -gt 0
	check "bad: rows that are a key's later record in its chunk" 0 \
		"$(psql_q "SELECT count(*) FROM ($later_in_chunk INTERSECT ALL SELECT $COLS FROM orders) d")"
	check "bad: ledger agrees" "$ROWS|$loaded|$rejected" \
		"$(psql_q "SELECT sum(records), sum(loaded), sum(rejected) FROM edonu_ingest.chunks")"

	# 2. A changed version of every record (the clean file with each
	# unit_price raised by 1.00) upserted: every row replaced, keys the
	# table lacked (refused before) inserted.
	local upd="$WORK/updated.csv"
	csv_rewrite "$clean" "$upd" 'f[6] = sprintf("%.2f", f[6] + 1)'
	copy_into scratch_upd "$upd"
	load update --table orders --batch-rows "$BATCH_ROWS" --on-conflict update --key tenant_id,order_id \
		--rejects "$WORK/update.ndjson" "$upd"
	[[ "$RC" == 0 ]] || show_err update
	check "update: exit code" 0 "$RC"
	check "update: rejected" 0 "$(sum_field update rejected)"
	check "update: rows" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders')"
	check "update: the table = the changed file" 0 "$(same_rows 'TABLE orders' 'TABLE scratch_upd')"
	check "update: rows still at an old unit_price" 0 "$(psql_q "
		SELECT count(*) FROM orders o JOIN scratch_bad s USING (tenant_id, order_id)
		WHERE o.unit_price = s.unit_price")"

	# 3. --on-conflict ignore: another change of every record, plus records
	# with new keys; only the new keys go in.
	local ign="$WORK/ignore.csv" fresh="$WORK/new.csv"
	csv_rewrite "$clean" "$ign" 'f[6] = sprintf("%.2f", f[6] + 2); f[5] = f[5] + 1'
	"$EDONU_INGEST" gen --rows "$NEW_ROWS" --seed 32 -o "$fresh"
	tail -n +2 "$fresh" >>"$ign"
	copy_into scratch_new "$fresh"
	check "ignore: the new records have new keys" 0 \
		"$(psql_q 'SELECT count(*) FROM scratch_new n JOIN orders o USING (tenant_id, order_id)')"
	psql_q "CREATE TABLE before_ignore AS TABLE orders"
	load ignore --table orders --batch-rows "$BATCH_ROWS" --on-conflict ignore --key tenant_id,order_id "$ign"
	[[ "$RC" == 0 ]] || show_err ignore
	check "ignore: exit code" 0 "$RC"
	check "ignore: rejected" 0 "$(sum_field ignore rejected)"
	check "ignore: loaded = the new keys" "$NEW_ROWS" "$(sum_field ignore loaded)"
	check "ignore: ignored = the keys that were there" "$ROWS" "$(sum_field ignore ignored)"
	check "ignore: read = loaded + ignored" "$(sum_field ignore records_read)" \
		"$(($(sum_field ignore loaded) + $(sum_field ignore ignored)))"
	check "ignore: rows" "$((ROWS + NEW_ROWS))" "$(psql_q 'SELECT count(*) FROM orders')"
	check "ignore: existing rows untouched, new ones added" 0 \
		"$(same_rows 'TABLE orders' 'TABLE before_ignore UNION ALL TABLE scratch_new')"
	finish
}

main "$@"
