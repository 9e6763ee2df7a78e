#!/usr/bin/env bash
# Proves that pending invalidations are never lost quietly: (1) they belong
# to the table and its key templates, not to the Redis URL: a load with a
# mistyped --redis (a port where nothing listens) loads its rows and exits
# 75 with every key pending; the rerun with the right URL sends them, and no
# key of a committed row is left in Redis; (2) a journal with one corrupted
# entry (a flipped byte in a pending entry) fails the run with a non-zero
# exit and a message naming the journal, keeps the damaged file aside, and
# the next run sends the entries that still read back.
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

ROWS=5000
BATCH_ROWS=500

# free_port: a TCP port on 127.0.0.1 where nothing listens now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-jtrust.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	redis_start
	local input="$WORK/orders.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 41 -o "$input"
	csv_keys "$input" 0 "$WORK/keys"

	# 1. The wrong URL, then the right one.
	orders_table t1
	seed_keys "$WORK/keys.all" 0
	local wrong="redis://127.0.0.1:$(free_port)/0"
	load wrong --table t1 --batch-rows "$BATCH_ROWS" --redis "$wrong" --invalidate "$KEY_TEMPLATE" \
		--state-dir "$WORK/state" --retry-timeout 1 "$input"
	check "wrong URL: exit code (keys pending)" 75 "$RC"
	check "wrong URL: rows" "$ROWS" "$(psql_q 'SELECT count(*) FROM t1')"
	check "wrong URL: keys pending" "$ROWS" "$(sum_field wrong keys_pending)"
	load right --table t1 --batch-rows "$BATCH_ROWS" --redis "$EDONU_TEST_REDIS" --invalidate "$KEY_TEMPLATE" \
		--state-dir "$WORK/state" "$input"
	check "right URL: exit code" 0 "$RC"
	check "right URL: keys invalidated from the journal" "$ROWS" "$(sum_field right keys_invalidated)"
	check "right URL: keys left in Redis" 0 "$(rcli DBSIZE)"

	# 2. A corrupted pending entry.
	orders_table t2
	seed_keys "$WORK/keys.all" 0
	load pending --table t2 --batch-rows "$BATCH_ROWS" --redis "$wrong" --invalidate "$KEY_TEMPLATE" \
		--state-dir "$WORK/state2" --retry-timeout 1 "$input"
	check "pending: exit code" 75 "$RC"
	local journal
	journal="$(find "$WORK/state2" -name 'journal-*.log' | head -n 1)"
	[[ -n "$journal" ]] || die "no journal in $WORK/state2"
	# A byte in the middle of the file: inside some pending entry's keys.
	python3 - "$journal" <<-'EOF'
		import os, sys
		p = sys.argv[1]
		size = os.path.getsize(p)
		with open(p, "r+b") as f:
		    f.seek(size // 2)
		    b = f.read(1)
		    f.seek(size // 2)
		    f.write(bytes([b[0] ^ 0x01]))
	EOF
	load damaged --table t2 --batch-rows "$BATCH_ROWS" --redis "$EDONU_TEST_REDIS" --invalidate "$KEY_TEMPLATE" \
		--state-dir "$WORK/state2" "$input"
	check_true "damaged: non-zero exit" test "$RC" -ne 0
	check_true "damaged: the message names the journal" grep -q "journal $journal" "$WORK/damaged.err"
	check "damaged: the file is kept aside" 1 "$(find "$WORK/state2" -name 'journal-*.damaged-*' | wc -l)"
	load after --table t2 --batch-rows "$BATCH_ROWS" --redis "$EDONU_TEST_REDIS" --invalidate "$KEY_TEMPLATE" \
		--state-dir "$WORK/state2" "$input"
	check "after: exit code" 0 "$RC"
	local left
	left="$(rcli DBSIZE)"
	note "after: $left keys left in Redis: those of the one lost entry ($BATCH_ROWS at most)"
	check_true "after: the entries that read back were sent" test "$left" -le "$BATCH_ROWS"
	finish
}

main "$@"
