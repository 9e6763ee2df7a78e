#!/usr/bin/env bash
# test.sh - the whole test run, as CI does it: set-up and release build,
# every meson test suite (unit and integration), then all of them again with
# the AddressSanitizer and UndefinedBehaviorSanitizer build, and one closing
# line counting the results across both.  Exits non-zero when any test failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-build}"
ASAN="${ASAN_BUILD_DIR:-build-asan}"

log() {
	printf 'test: %s\n' "$*" >&2
}

# summarize LOG...: reads meson's testlog.json files and prints
# "N passed, N failed[, N skipped]".  Exits 1 when a test failed.  A missing
# log is skipped here; the caller counts it as a failure.
summarize() {
	python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError:
        continue
    with f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                result = json.loads(line).get("result", "")
            except ValueError:
                continue
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:  # FAIL, TIMEOUT, UNEXPECTEDPASS, ERROR
                failed += 1
line = "%d passed, %d failed" % (passed, failed)
if skipped:
    line += ", %d skipped" % skipped
print(line)
sys.exit(1 if failed else 0)
PY
}

main() {
	cd "$ROOT"
	local logs=("$BUILD/meson-logs/testlog.json" "$ASAN/meson-logs/testlog.json")
	rm -f "${logs[@]}"

	# A broken set-up or build is reported, and counted as a failure, but
	# does not stop the other half of the run.
	local setup_ok=1
	if ! BUILD_DIR="$BUILD" bash scripts/setup.sh; then
		log "set-up or build failed"
		setup_ok=0
	fi
	local missing_logs=0
	if ((setup_ok)); then
		meson test -C "$BUILD" --print-errorlogs || log "some tests failed in $BUILD"
		# No log at all means meson could not even build or start the tests.
		[[ -f "${logs[0]}" ]] || missing_logs=$((missing_logs + 1))
	fi

	log "sanitizer build in $ASAN"
	local asan_ok=1
	if [[ -f "$ASAN/build.ninja" ]]; then
		meson setup --reconfigure "$ASAN" -Db_sanitize=address,undefined -Dbuildtype=debug || asan_ok=0
	else
		meson setup "$ASAN" -Db_sanitize=address,undefined -Dbuildtype=debug || asan_ok=0
	fi
	if ((asan_ok)); then
		ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
			UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
			meson test -C "$ASAN" --print-errorlogs || log "some tests failed under sanitizers"
		[[ -f "${logs[1]}" ]] || missing_logs=$((missing_logs + 1))
	else
		log "sanitizer build setup failed"
	fi

	local extra_failed=$((1 - setup_ok + 1 - asan_ok + missing_logs)) line rc=0
	line="$(summarize "${logs[@]}")" || rc=$?
	if ((extra_failed > 0)); then
		# Count a failed set-up, build or test start as failures too.
		local p f rest
		p="${line%% passed*}"
		f="${line#*passed, }"
		f="${f%% failed*}"
		rest="${line#*failed}"
		line="$p passed, $((f + extra_failed)) failed$rest"
		rc=1
	fi
	echo "$line"
	return "$rc"
}

main "$@"
