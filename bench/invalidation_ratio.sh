#!/usr/bin/env bash
# Measures what cache invalidation costs a load: 1M generated orders loaded
# with and without --invalidate 'erp:{tenant_id}:order:{order_id}' (one key
# per record, every key seeded in Redis beforehand), alternating, RUNS runs
# each, each run into a fresh table; prints the median records/min of both
# and their ratio.  A measurement, not a test: it asserts nothing.
#
# Usage: EDONU_INGEST=build/edonu-ingest bench/invalidation_ratio.sh
# Environment: ROWS (default 1000000), RUNS (default 3), BATCH_ROWS (default
# the loader's).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=../tests/integration/lib.sh
source "$SOURCE_ROOT/tests/integration/lib.sh"

ROWS="${ROWS:-1000000}"
RUNS="${RUNS:-3}"
BATCH_ROWS="${BATCH_ROWS:-}"
TEMPLATE='erp:{tenant_id}:order:{order_id}'

# median V...: the middle value (the lower middle for an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# seed: one key per record in Redis, sent through redis-cli --pipe.
seed() {
	redis-cli -s "$REDIS_SOCKET" FLUSHALL >/dev/null
	redis-cli -s "$REDIS_SOCKET" --pipe <"$WORK/seed.resp" >/dev/null
	local n
	n="$(redis-cli -s "$REDIS_SOCKET" DBSIZE)"
	[[ "$n" == "$ROWS" ]] || die "seeded $n keys, expected $ROWS"
}

# run_one N MODE: load the file into a fresh table; prints records/min.
run_one() {
	local n="$1" mode="$2" table="orders_$1" extra=()
	psql -XAtq -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
		-c "DROP TABLE IF EXISTS orders_$((n - 1))" >/dev/null
	"$EDONU_INGEST" gen --table-sql "$table" | psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
	if [[ "$mode" == with ]]; then
		seed
		extra=(--redis "$EDONU_TEST_REDIS" --invalidate "$TEMPLATE" --state-dir "$WORK/state")
	fi
	if [[ -n "$BATCH_ROWS" ]]; then
		extra+=(--batch-rows "$BATCH_ROWS")
	fi
	local rc=0
	"$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never --table "$table" \
		--summary "$WORK/run$n.json" "${extra[@]}" "$WORK/orders.csv" 2>"$WORK/run$n.err" || rc=$?
	[[ "$rc" == 0 ]] || die "run $n ($mode) exit $rc: $(tail -n 2 "$WORK/run$n.err")"
	if [[ "$mode" == with ]]; then
		local left
		left="$(redis-cli -s "$REDIS_SOCKET" DBSIZE)"
		[[ "$left" == 0 ]] || die "run $n left $left keys in Redis"
	fi
	jq -r '(.loaded + .rejected) / .seconds * 60 | floor' "$WORK/run$n.json"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-iratio.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	redis_start
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 51 -o "$WORK/orders.csv"
	python3 - "$WORK/orders.csv" >"$WORK/seed.resp" <<-'PY'
		import csv, sys
		out = sys.stdout.buffer
		with open(sys.argv[1], newline="", errors="surrogateescape") as f:
		    r = csv.reader(f)
		    h = next(r)
		    ti, oi = h.index("tenant_id"), h.index("order_id")
		    for rec in r:
		        k = ("erp:%s:order:%s" % (rec[ti], rec[oi])).encode()
		        out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\n1\r\n" % (len(k), k))
	PY
	local i n=0 rpm without=() with=()
	for ((i = 1; i <= RUNS; i++)); do
		n=$((n + 1))
		rpm="$(run_one "$n" without)"
		without+=("$rpm")
		note "run $n without --invalidate: $rpm records/min"
		n=$((n + 1))
		rpm="$(run_one "$n" with)"
		with+=("$rpm")
		note "run $n with --invalidate: $rpm records/min ($(jq -r '"\(.keys_invalidated) keys, \(.redis_round_trips) round trips"' "$WORK/run$n.json"))"
	done
	local mw mi
	mw="$(median "${without[@]}")"
	mi="$(median "${with[@]}")"
	printf 'records: %s, runs: %s each, %s cores\n' "$ROWS" "$RUNS" "$(nproc)"
	printf 'without --invalidate: median %s records/min (%s)\n' "$mw" "${without[*]}"
	printf 'with --invalidate:    median %s records/min (%s)\n' "$mi" "${with[*]}"
	printf 'ratio with/without: %s\n' "$(awk -v a="$mi" -v b="$mw" 'BEGIN { printf "%.3f", a / b }')"
}

main "$@"
