#!/usr/bin/env bash
# Proves that the Prometheus exposition edonu-ingest renders is valid text
# format by Prometheus's own checker: the metrics unit test writes its
# every-metric sample (escaped labels and a histogram included) to a file,
# and `promtool check metrics` must accept it without a complaint.
# Skips (77) only when promtool is not installed (Debian: apt-get install
# prometheus, which scripts/setup.sh does).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

# The unit test binary sits beside the loader in the build tree.
TEST_METRICS="${TEST_METRICS:-$(dirname "$EDONU_INGEST")/tests/test_metrics}"

command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus)"
[[ -x "$TEST_METRICS" ]] || die "no unit test binary at $TEST_METRICS; build the tests first"

WORK="$(mktemp -d)"
on_exit "rm -rf '$WORK'"

SAMPLE="$WORK/sample.prom"
METRICS_SAMPLE_OUT="$SAMPLE" "$TEST_METRICS" >"$WORK/unit.out" 2>&1 ||
	{ cat "$WORK/unit.out" >&2; die "test_metrics failed"; }
[[ -s "$SAMPLE" ]] || die "test_metrics wrote no sample to $SAMPLE"

# promtool exits non-zero on a parse error and also on lint problems
# (naming, missing HELP); it prints the problems either way.
rc=0
promtool check metrics <"$SAMPLE" >"$WORK/promtool.out" 2>&1 || rc=$?
if [[ $rc -ne 0 || -s "$WORK/promtool.out" ]]; then
	note "promtool check metrics failed (exit $rc):"
	cat "$WORK/promtool.out" >&2
	note "sample:"
	cat "$SAMPLE" >&2
	exit 1
fi

# The checker must see every family we promise, so that a render that
# silently dropped one does not pass.
for name in up info start_time_seconds last_success_timestamp_seconds records_total bytes_total \
	batches_total retries_total isolation_retries_total keys_invalidated_total keys_pending \
	redis_round_trips_total queue_depth workers batch_commit_seconds; do
	grep -q "^# TYPE edonu_ingest_$name " "$SAMPLE" || die "sample lacks edonu_ingest_$name"
done
note "promtool accepts $(grep -c '^edonu_ingest_' "$SAMPLE") samples in $(grep -c '^# TYPE' "$SAMPLE") families"
