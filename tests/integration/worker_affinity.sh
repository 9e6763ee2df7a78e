#!/usr/bin/env bash
# Proves that the loader keeps to the CPUs it was given (taskset here;
# systemd's CPUAffinity= and a container's cpuset work the same way): under
# `taskset -c 0` the default is one worker, and with --workers 2 every thread
# of the running loader may still run on CPU 0 only, while the load completes
# with every record.
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
BATCH_ROWS=1000

# thread_cpus PID: the distinct Cpus_allowed_list values of PID's threads.
thread_cpus() {
	cat /proc/"$1"/task/*/status 2>/dev/null | awk '$1 == "Cpus_allowed_list:" { print $2 }' | sort -u | tr '\n' ' '
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v taskset >/dev/null || die "taskset is needed (apt-get install util-linux)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-affinity.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	pg_start
	orders_table orders
	orders_table orders_slow
	# 20 chunks of 50 ms: the threads can be looked at while they run.
	slow_copies orders_slow 0.05
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 81 -o "$WORK/a.csv"

	# 1. The default worker count is the CPUs the process may use.
	RC=0
	taskset -c 0 "$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never --table orders \
		--summary "$WORK/one.json" "$WORK/a.csv" 2>"$WORK/one.err" || RC=$?
	check "taskset -c 0, default workers: exit code" 0 "$RC"
	check "taskset -c 0, default workers: workers" 1 "$(sum_field one workers)"
	check "taskset -c 0, default workers: rows" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders')"

	# 2. --workers 2 under taskset -c 0: no thread is pinned elsewhere.
	taskset -c 0 "$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never --table orders_slow \
		--workers 2 --batch-rows "$BATCH_ROWS" --summary "$WORK/two.json" "$WORK/a.csv" 2>"$WORK/two.err" &
	LOADER_PID=$!
	wait_until "$WAIT_TIMEOUT_S" "the load to commit a chunk" chunks_at_least 1 || die "the load committed nothing"
	loader_gone && die "the load ended before its threads were looked at (test timing)"
	local seen
	seen="$(thread_cpus "$LOADER_PID")"
	check "taskset -c 0, --workers 2: CPUs allowed to the loader's threads" "0 " "$seen"
	wait_until "$LOAD_TIMEOUT_S" "the load to end" loader_gone || die "the load did not end"
	reap "$LOADER_PID"
	check "taskset -c 0, --workers 2: exit code" 0 "$RC"
	check "taskset -c 0, --workers 2: workers" 2 "$(sum_field two workers)"
	check "taskset -c 0, --workers 2: rows" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders_slow')"
	finish
}

main "$@"
