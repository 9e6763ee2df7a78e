#!/usr/bin/env bash
# Proves that pending invalidations are never lost quietly: (1) they belong
# to the table and its key templates, not to the Redis URL: a load with a
# mistyped --redis (a port where nothing listens) loads its rows and exits
# 75 with every key pending; the rerun with the right URL sends them, and no
# key of a committed row is left in Redis; (2) a journal with one corrupted
# entry (a flipped byte in a pending entry) fails the run with a non-zero
# exit and a message naming the journal, keeps the damaged file aside, and
# the next run sends the entries that still read back; (3) a journal an
# earlier version kept under the table's printed name (public.T3 for the
# table "T3", a name the ledger now quotes) is taken over by the first run:
# its pending entry's keys are sent, its done entry's are not, and the old
# file and its lock file go.
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

	# 3. The journal of an earlier version, named by the printed table.
	orders_table '"T3"'
	rcli FLUSHALL >/dev/null
	local k
	for k in erp:900:order:1 erp:900:order:2 erp:900:order:3 erp:900:order:4; do
		rcli SET "$k" stale >/dev/null
	done
	mkdir -m 700 "$WORK/state3"
	local old
	old="$(old_journal "$WORK/state3" "public.T3 invalidate=$KEY_TEMPLATE")"
	load adopt --table '"T3"' --batch-rows "$BATCH_ROWS" --redis "$EDONU_TEST_REDIS" --invalidate "$KEY_TEMPLATE" \
		--state-dir "$WORK/state3" "$input"
	check "adopt: exit code" 0 "$RC"
	check_true "adopt: the move is logged" grep -q "event=journal_adopted.*1 pending entries of $old" "$WORK/adopt.err"
	check "adopt: the pending entry's keys were sent" 0 "$(rcli EXISTS erp:900:order:1 erp:900:order:2 erp:900:order:3)"
	check "adopt: the done entry's key was not" 1 "$(rcli EXISTS erp:900:order:4)"
	check "adopt: nothing pending" 0 "$(sum_field adopt keys_pending)"
	check "adopt: the old journal and its lock are gone" 0 "$(find "$WORK/state3" -name "$(basename "$old" .log).*" | wc -l)"
	finish
}

# old_journal DIR TARGET: writes the journal file an earlier version kept for
# TARGET in DIR (the same record format: a header, an entry of three keys
# still pending, an entry of one key marked done) and prints its path.
old_journal() {
	python3 - "$1" "$2" <<-'EOF'
		import os, struct, sys
		directory, target = sys.argv[1], sys.argv[2].encode()
		table = []
		for i in range(256):
		    c = i
		    for _ in range(8):
		        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
		    table.append(c)
		def crc32c(data, crc=0):
		    crc ^= 0xFFFFFFFF
		    for b in data:
		        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
		    return crc ^ 0xFFFFFFFF
		def record(kind, ident, nkeys, payload):
		    head = struct.pack("<B3xIIQ", kind, len(payload), nkeys, ident)
		    return struct.pack("<I", crc32c(payload, crc32c(head))) + head + payload
		def keys(*ks):
		    return b"".join(struct.pack("<BI", 1, len(k)) + k for k in ks)
		h = 0xCBF29CE484222325
		for b in target:
		    h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
		path = os.path.join(directory, "journal-%016x.log" % h)
		with open(path, "wb") as f:
		    f.write(record(1, 7, 0, target))
		    f.write(record(2, 7, 3, keys(b"erp:900:order:1", b"erp:900:order:2", b"erp:900:order:3")))
		    f.write(record(2, 8, 1, keys(b"erp:900:order:4")))
		    f.write(record(3, 8, 0, b""))
		print(path)
	EOF
}

main "$@"
