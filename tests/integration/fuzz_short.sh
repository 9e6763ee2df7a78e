#!/usr/bin/env bash
# Proves that the fuzz targets of fuzz/ (CSV, text and NDJSON through the
# framer, parsers, mapping and encoders; Redis URLs and key templates; the
# config file) build with clang's libFuzzer and the address and
# undefined-behaviour sanitizers, and that each survives a short run from
# its committed seeds: a bounded number of runs (FUZZ_RUNS, default 20000)
# with a fixed seed, not a time, so a slow machine does the same work.
# Skips (77) where clang with libFuzzer is not installed.  Long runs:
# scripts/fuzz.sh TARGET [SECONDS].
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

FUZZ_RUNS="${FUZZ_RUNS:-20000}"

main() {
	local t rc=0
	for t in csv text ndjson redis_url config; do
		[[ -n "$(ls -A "$SOURCE_ROOT/fuzz/corpus/$t" 2>/dev/null)" ]] || die "no seeds in fuzz/corpus/$t"
	done
	bash "$SOURCE_ROOT/scripts/fuzz.sh" --short "$FUZZ_RUNS" || rc=$?
	case "$rc" in
	0) note "every target ran $FUZZ_RUNS runs without a crash" ;;
	77) skip "clang with libFuzzer is not installed (apt-get install clang-14 libclang-rt-14-dev)" ;;
	1) die "a fuzz target crashed; see above" ;;
	*) die "scripts/fuzz.sh failed (exit $rc); see above" ;;
	esac
}

main "$@"
