#!/usr/bin/env bash
# fuzz.sh - builds the libFuzzer targets of fuzz/ with clang (address and
# undefined-behaviour sanitizers on) and runs them.
#
#   scripts/fuzz.sh TARGET [SECONDS]  one target for SECONDS (default 600),
#                                     from its seeds in fuzz/corpus/TARGET
#   scripts/fuzz.sh --short [RUNS]    every target for RUNS runs (default
#                                     20000) over its seeds: the test suite's
#                                     run (tests/integration/fuzz_short.sh)
#   scripts/fuzz.sh --build           only build
#
# TARGET is csv, text, ndjson, redis_url or config (or fuzz_csv ...).  The
# build goes to $FUZZ_BUILD_DIR (default build-fuzz/); a long run keeps the
# inputs it finds in $FUZZ_BUILD_DIR/corpus/TARGET (the committed seeds are
# only read) and a crash in $FUZZ_BUILD_DIR/crashes/TARGET-*, which
# `build-fuzz/fuzz/fuzz_TARGET FILE` replays.  Exits 0 when no target
# crashed, 1 when one did, 2 when the build failed, 77 when clang or
# libFuzzer is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
TARGETS=(csv text ndjson redis_url config)
# Debian's clang-14 package installs clang-14; the clang package adds clang.
CLANG="${CLANG:-$(command -v clang || command -v clang-14 || true)}"
# Inputs longer than this are not tried: the targets cut chunks of 512
# bytes and refuse records of more than 1536 (fuzz/fuzz_common.h), so
# longer inputs add time, not paths.
MAX_LEN=4096

log() {
	printf 'fuzz: %s\n' "$*" >&2
}

usage() {
	# The comment at the top of this file.
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
	exit 64
}

# have_libfuzzer: clang can link a libFuzzer program.
have_libfuzzer() {
	local dir
	[[ -n "$CLANG" ]] || return 1
	dir="$(mktemp -d)"
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' >"$dir/t.c"
	local rc=0
	"$CLANG" -fsanitize=fuzzer,address,undefined "$dir/t.c" -o "$dir/t" >/dev/null 2>&1 || rc=1
	rm -rf -- "$dir"
	return "$rc"
}

build() {
	if ! have_libfuzzer; then
		log "clang with libFuzzer is needed (apt-get install clang-14 libclang-rt-14-dev)"
		exit 77
	fi
	if [[ ! -f "$BUILD/build.ninja" ]] && ! CC="$CLANG" meson setup "$BUILD" "$ROOT" -Dfuzz=true -Dtests=disabled \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null; then
		log "meson setup of $BUILD failed"
		exit 2
	fi
	local t names=()
	for t in "${TARGETS[@]}"; do
		names+=("fuzz/fuzz_$t")
	done
	if ! ninja -C "$BUILD" "${names[@]}" >"$BUILD/fuzz-build.log" 2>&1; then
		tail -n 40 "$BUILD/fuzz-build.log" >&2
		log "the build failed (whole log: $BUILD/fuzz-build.log)"
		exit 2
	fi
}

# target_name NAME: csv for csv or fuzz_csv; exits 64 on an unknown one.
target_name() {
	local t="${1#fuzz_}" k
	for k in "${TARGETS[@]}"; do
		if [[ "$k" == "$t" ]]; then
			echo "$t"
			return 0
		fi
	done
	log "unknown target $1 (one of: ${TARGETS[*]})"
	exit 64
}

# run_target TARGET CORPUS LIBFUZZER-ARGS...: runs it, new inputs into
# CORPUS, from those and the committed seeds; returns its exit status.
run_target() {
	local t="$1" corpus="$2" crashes="$BUILD/crashes"
	shift 2
	mkdir -p "$corpus" "$crashes"
	ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
		"$BUILD/fuzz/fuzz_$t" -max_len="$MAX_LEN" -artifact_prefix="$crashes/$t-" "$@" \
		"$corpus" "$ROOT/fuzz/corpus/$t"
}

short() {
	local runs="${1:-20000}" t failed=0 work
	[[ "$runs" =~ ^[0-9]+$ ]] || usage
	build
	work="$(mktemp -d)"
	for t in "${TARGETS[@]}"; do
		# From the seeds alone, with a fixed seed, for a bounded number of
		# runs, not seconds: the same work on a slow machine.
		if run_target "$t" "$work/$t" -runs="$runs" -seed=1 >"$work/$t.log" 2>&1; then
			log "$t: $(grep -m1 '^Done' "$work/$t.log" || echo done)"
		else
			log "$t: CRASHED"
			tail -n 40 "$work/$t.log" >&2
			failed=1
		fi
	done
	rm -rf -- "$work"
	return "$failed"
}

main() {
	case "${1:-}" in
	"" | -h | --help) usage ;;
	--build) build ;;
	--short) short "${2:-20000}" ;;
	*)
		local t seconds="${2:-600}"
		t="$(target_name "$1")"
		[[ "$seconds" =~ ^[0-9]+$ ]] || usage
		build
		log "$t for $seconds s; new inputs in $BUILD/corpus/$t, crashes in $BUILD/crashes/"
		run_target "$t" "$BUILD/corpus/$t" -max_total_time="$seconds" -print_final_stats=1
		;;
	esac
}

main "$@"
