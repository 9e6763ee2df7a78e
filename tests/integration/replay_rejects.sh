#!/usr/bin/env bash
# Proves that load --from-rejects loads exactly the records that were
# refused, once: two CSV files with their columns in different orders load
# into a table whose CHECK refuses some records and whose types refuse
# others, both writing one rejects file; after the CHECK is dropped, the
# replay of that rejects file loads every record the CHECK had refused
# (each through the header line it came with), refuses again exactly those
# the types refuse (with their raw text), and exits 65; the table then holds
# every good record once; a second replay of the same file loads nothing
# (the ledger knows it) and exits 65 as its first run did; NDJSON rejects
# replay the same way; --rejects naming the replayed file is refused (64).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

# make_csv FILE ORDER FIRST LAST: records FIRST..LAST of table rp (id, q,
# note) with the columns in ORDER ("a": note,q,id; "b": id,note,q). Every
# 100th has a negative q (the CHECK refuses it), every 250th + 7 a q of
# "zz" (integer input refuses it); notes hold commas and quotes.
make_csv() {
	awk -v order="$2" -v first="$3" -v last="$4" 'BEGIN {
		print (order == "a" ? "note,q,id" : "id,note,q")
		for (i = first; i <= last; i++) {
			q = i
			if (i % 100 == 0) q = -i
			else if (i % 250 == 7) q = "zz"
			note = "\"n, \"\"" i "\"\"\""
			if (order == "a") print note "," q "," i
			else print i "," note "," q
		}
	}' >"$1"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the rejects"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-replay.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	psql_q "CREATE TABLE rp (id int PRIMARY KEY, q int CONSTRAINT q_positive CHECK (q > 0), note text)"
	make_csv "$WORK/a.csv" a 1 1000
	make_csv "$WORK/b.csv" b 1001 2000
	local rej="$WORK/first.ndjson"

	load first --table rp --rejects "$rej" "$WORK/a.csv" "$WORK/b.csv"
	check "first: exit code" 65 "$RC"
	check "first: rejects" 28 "$(wc -l <"$rej")"
	check "first: rows" 1972 "$(psql_q 'SELECT count(*) FROM rp')"
	check "first: two headers among the rejects" 2 "$(jq -r '.header' "$rej" | sort -u | wc -l)"

	# The table is fixed: negative quantities are allowed now.
	psql_q "ALTER TABLE rp DROP CONSTRAINT q_positive"
	load same --table rp --format csv --from-rejects "$rej" --rejects "$rej"
	check "--rejects naming the replayed file: exit code" 64 "$RC"

	load replay --table rp --format csv --from-rejects "$rej" --rejects "$WORK/again.ndjson"
	check "replay: exit code (type refusals remain)" 65 "$RC"
	check "replay: loaded, rejected" "20 8" "$(sum_field replay loaded) $(sum_field replay rejected)"
	check "rows after the replay" 1992 "$(psql_q 'SELECT count(*) FROM rp')"
	check "every negative quantity loaded once" 20 "$(psql_q 'SELECT count(DISTINCT id) FROM rp WHERE q < 0')"
	check "notes kept their commas and quotes" 0 \
		"$(psql_q "SELECT count(*) FROM rp WHERE note <> 'n, \"' || id || '\"'")"
	check "refused again: the records with q = zz" \
		"$(jq -r 'select(.raw | test(",zz")) | .raw' "$rej" | sort)" \
		"$(jq -r '.raw' "$WORK/again.ndjson" | sort)"

	load replay-2 --table rp --format csv --from-rejects "$rej" --rejects "$WORK/again-2.ndjson"
	check "second replay: exit code (its first run had rejects)" 65 "$RC"
	check "second replay: loaded nothing" 0 "$(sum_field replay-2 loaded)"
	check "rows after the second replay" 1992 "$(psql_q 'SELECT count(*) FROM rp')"

	# NDJSON: the raw lines are the records.
	psql_q "CREATE TABLE nd (id int PRIMARY KEY, q int CONSTRAINT nd_q CHECK (q > 0))"
	printf '{"id":%d,"q":%d}\n' 1 5 2 -2 3 7 4 -4 >"$WORK/n.ndjson"
	load nd --table nd --rejects "$WORK/nd.rej" "$WORK/n.ndjson"
	check "ndjson: exit code" 65 "$RC"
	psql_q "ALTER TABLE nd DROP CONSTRAINT nd_q"
	load nd-replay --table nd --format ndjson --from-rejects "$WORK/nd.rej"
	check "ndjson replay: exit code" 0 "$RC"
	check "ndjson: rows" "1:5 2:-2 3:7 4:-4" "$(psql_q "SELECT string_agg(id || ':' || q, ' ' ORDER BY id) FROM nd")"
	finish
}

main "$@"
