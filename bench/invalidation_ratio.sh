#!/usr/bin/env bash
# Measures what cache invalidation costs a load: 1M generated orders loaded
# without --invalidate and with --invalidate 'erp:{tenant_id}:order:{order_id}'
# (one key per record) in three states of the cache:
#   absent   Redis empty: the keys do not exist
#   cold     Redis holds as many unrelated keys as there are records, none of
#            the load's (a cache that has not seen these rows)
#   warm     every key of the load exists in Redis (a cache that holds every
#            row: the most work for Redis)
# and in two placements of the servers on this machine's CPUs:
#   shared   PostgreSQL, Redis and the loader on all CPUs, competing
#   split    Redis alone on the last CPU, PostgreSQL and the loader on the
#            others (as when Redis runs on a host of its own: what Redis spends
#            is not taken from the load); both the loads with and without
#            --invalidate run so, so the ratio compares like with like.
# Modes alternate within each run, each load into a fresh table after a
# CHECKPOINT; prints per placement and mode the median records/min, its ratio
# to the median without --invalidate, and the median CPU seconds of the
# loader (its own rusage) and of Redis (INFO cpu).  A measurement, not a
# test: it asserts nothing but that each load completed, invalidated every
# key and left none of its keys behind.
#
# Usage: EDONU_INGEST=build/edonu-ingest bench/invalidation_ratio.sh
# Environment: ROWS (default 1000000), RUNS (default 7), BATCH_ROWS (default
# the loader's), MODES (default "absent cold warm"), PLACEMENTS (default
# "shared split"; split needs 2 or more CPUs).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=../tests/integration/lib.sh
source "$SOURCE_ROOT/tests/integration/lib.sh"

ROWS="${ROWS:-1000000}"
RUNS="${RUNS:-7}"
BATCH_ROWS="${BATCH_ROWS:-}"
MODES="${MODES:-absent cold warm}"
PLACEMENTS="${PLACEMENTS:-shared split}"
TEMPLATE='erp:{tenant_id}:order:{order_id}'

# median V...: the middle value (the lower middle for an even count).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

rcli() {
	redis-cli -s "$REDIS_SOCKET" "$@"
}

# redis_cpu: Redis's CPU seconds so far (user + system, all its threads).
redis_cpu() {
	rcli INFO cpu | tr -d '\r' | awk -F: '$1 == "used_cpu_user" || $1 == "used_cpu_sys" { s += $2 } END { printf "%.3f", s }'
}

# place PLACEMENT: pins the servers' processes and sets LOADER_CPUS, the CPU
# list the loader runs on (its default worker count follows it).
place() {
	local ncpu last pg redis p
	ncpu="$(nproc --all)"
	last=$((ncpu - 1))
	case "$1" in
	shared)
		pg="0-$last"
		redis="0-$last"
		;;
	split)
		((ncpu >= 2)) || die "placement split needs 2 or more CPUs"
		pg="0-$((last - 1))"
		((last == 1)) && pg=0
		redis="$last"
		;;
	*) die "unknown placement '$1'" ;;
	esac
	LOADER_CPUS="$pg"
	# The postmaster and its processes now; new backends inherit.
	local postmaster
	postmaster="$(head -n 1 "$PG_DIR/data/postmaster.pid")"
	for p in "$postmaster" $(pgrep -P "$postmaster"); do
		taskset -a -p -c "$pg" "$p" >/dev/null
	done
	taskset -a -p -c "$redis" "$(cat "$REDIS_DIR/redis.pid")" >/dev/null
}

# prepare MODE: the cache's state before a load.
prepare() {
	rcli FLUSHALL >/dev/null
	local want=0
	case "$1" in
	without | absent) ;;
	cold)
		rcli --pipe <"$WORK/others.resp" >/dev/null
		want="$ROWS"
		;;
	warm)
		rcli --pipe <"$WORK/keys.resp" >/dev/null
		want="$ROWS"
		;;
	*) die "unknown mode '$1'" ;;
	esac
	local n
	n="$(rcli DBSIZE)"
	[[ "$n" == "$want" ]] || die "seeded $n keys for '$1', expected $want"
}

# summary_field FILE NAME: one value of a loader summary.
summary_field() {
	jq -r ".$2" "$1"
}

# run_one N PLACEMENT MODE: prepares the cache, loads the file into a fresh
# table and appends "PLACEMENT MODE records/min loader-cpu-s redis-cpu-s"
# to $WORK/results.
run_one() {
	local n="$1" placement="$2" mode="$3" table="orders_$1" extra=()
	psql -XAtq -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
		-c "DROP TABLE IF EXISTS orders_$((n - 1))" >/dev/null
	"$EDONU_INGEST" gen --table-sql "$table" | psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
	prepare "$mode"
	# No run pays for the WAL and dirty pages of the one before.
	psql -XAtq -c CHECKPOINT >/dev/null
	if [[ "$mode" != without ]]; then
		extra=(--redis "$EDONU_TEST_REDIS" --invalidate "$TEMPLATE" --state-dir "$WORK/state")
	fi
	if [[ -n "$BATCH_ROWS" ]]; then
		extra+=(--batch-rows "$BATCH_ROWS")
	fi
	local r0 r1 out
	r0="$(redis_cpu)"
	# The loader's own CPU, from bash's `time` of the child; its status last.
	out="$({
		TIMEFORMAT='%U %S'
		rc=0
		time taskset -c "$LOADER_CPUS" "$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never \
			--table "$table" --summary "$WORK/run$n.json" "${extra[@]}" "$WORK/orders.csv" \
			2>"$WORK/run$n.err" || rc=$?
		echo "rc $rc" >&2
	} 2>&1 | tail -n 2)"
	r1="$(redis_cpu)"
	[[ "$out" == *"rc 0" ]] || die "run $n ($placement $mode) failed: $(tail -n 2 "$WORK/run$n.err")"
	local cpu rcpu
	cpu="$(head -n 1 <<<"$out" | awk '{ printf "%.3f", $1 + $2 }')"
	rcpu="$(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.3f", b - a }')"
	local left want=0
	left="$(rcli DBSIZE)"
	[[ "$mode" == cold ]] && want="$ROWS"
	[[ "$left" == "$want" ]] || die "run $n ($placement $mode) left $left keys in Redis, expected $want"
	if [[ "$mode" != without ]]; then
		local keys
		keys="$(summary_field "$WORK/run$n.json" keys_invalidated)"
		[[ "$keys" == "$ROWS" ]] || die "run $n ($placement $mode) invalidated $keys keys, expected $ROWS"
	fi
	local rpm
	rpm="$(jq -r '(.loaded + .rejected) / .seconds * 60 | floor' "$WORK/run$n.json")"
	printf '%s %s %s %s %s\n' "$placement" "$mode" "$rpm" "$cpu" "$rcpu" >>"$WORK/results"
	note "run $n, $placement, $mode: $rpm records/min, loader $cpu s CPU, Redis $rcpu s CPU"
}

# column PLACEMENT MODE K: field K of the results of PLACEMENT and MODE.
column() {
	awk -v p="$1" -v m="$2" -v k="$3" '$1 == p && $2 == m { print $k }' "$WORK/results"
}

report() {
	local placement="$1" base mode rpm
	# shellcheck disable=SC2046
	base="$(median $(column "$placement" without 3))"
	case "$placement" in
	shared) printf '\nshared: PostgreSQL, Redis and the loader on CPUs 0-%s\n' "$(($(nproc --all) - 1))" ;;
	split) printf '\nsplit: Redis alone on CPU %s, PostgreSQL and the loader on CPUs %s\n' \
		"$(($(nproc --all) - 1))" "$LOADER_CPUS_SPLIT" ;;
	esac
	printf '%-8s %12s %6s %13s %12s   %s\n' mode records/min ratio "loader CPU s" "Redis CPU s" "records/min of each run"
	for mode in without $MODES; do
		# shellcheck disable=SC2046
		rpm="$(median $(column "$placement" "$mode" 3))"
		# shellcheck disable=SC2046
		printf '%-8s %12s %6s %13s %12s   %s\n' "$mode" "$rpm" \
			"$(awk -v a="$rpm" -v b="$base" 'BEGIN { printf "%.3f", a / b }')" \
			"$(median $(column "$placement" "$mode" 4))" "$(median $(column "$placement" "$mode" 5))" \
			"$(column "$placement" "$mode" 3 | tr '\n' ' ')"
	done
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	command -v taskset >/dev/null || die "taskset is needed (apt-get install util-linux)"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-iratio.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	redis_start
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 51 -o "$WORK/orders.csv"
	# The load's keys, and as many unrelated ones, as RESP SET commands.
	python3 - "$WORK/orders.csv" "$WORK/keys.resp" "$WORK/others.resp" <<-'PY'
		import csv, sys
		def put(out, k):
		    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\n1\r\n" % (len(k), k))
		with open(sys.argv[1], newline="", errors="surrogateescape") as f, \
		     open(sys.argv[2], "wb") as keys, open(sys.argv[3], "wb") as others:
		    r = csv.reader(f)
		    h = next(r)
		    ti, oi = h.index("tenant_id"), h.index("order_id")
		    for i, rec in enumerate(r):
		        put(keys, ("erp:%s:order:%s" % (rec[ti], rec[oi])).encode())
		        put(others, ("erp:%s:customer:%d" % (rec[ti], i)).encode())
	PY
	: >"$WORK/results"
	local i n=0 mode placement
	for ((i = 1; i <= RUNS; i++)); do
		for placement in $PLACEMENTS; do
			place "$placement"
			[[ "$placement" == split ]] && LOADER_CPUS_SPLIT="$LOADER_CPUS"
			for mode in without $MODES; do
				n=$((n + 1))
				run_one "$n" "$placement" "$mode"
			done
		done
	done
	printf 'records: %s, runs: %s per placement and mode (medians), %s CPUs, PostgreSQL %s, Redis %s\n' \
		"$ROWS" "$RUNS" "$(nproc --all)" "$(psql -XAtq -c 'SHOW server_version')" \
		"$(rcli INFO server | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }')"
	for placement in $PLACEMENTS; do
		report "$placement"
	done
}

main "$@"
