#!/usr/bin/env bash
# Proves that `edonu-ingest bench --quick` against given servers exits 0
# and writes --json where each stage, each end-to-end figure and the psql
# comparison carry a records_per_minute, where the binary-COPY floor is
# measured beside them and every end-to-end line carries its ratios to psql
# and to the floor (consistent with the seconds) and the CPU-seconds of the
# loader and of the server (the server runs here, so both are measured),
# that the printed report has the same lines, and that it cleans up after
# itself (its tables dropped, its temporary directory removed). Speed is
# asserted only through the 1,000,000 records/min floor the command itself
# enforces.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

# --quick promises a minute; the bound leaves room for a slow CI machine.
BENCH_TIMEOUT_S="${BENCH_TIMEOUT_S:-300}"

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v python3 >/dev/null || skip "python3 not found"
	local work rc=0
	work="$(mktemp -d "${TMPDIR:-/tmp}/edonu-bench-test.XXXXXX")"
	on_exit "rm -rf '$work'"
	pg_start
	redis_start

	# The bench's own temporary directory goes under $work/tmp, so that
	# its removal can be checked.
	mkdir "$work/tmp"
	TMPDIR="$work/tmp" timeout "$BENCH_TIMEOUT_S" "$EDONU_INGEST" bench --quick \
		--dsn "$EDONU_TEST_DSN" --redis "$EDONU_TEST_REDIS" --json "$work/bench.json" \
		>"$work/out.txt" 2>"$work/err.txt" || rc=$?
	cat "$work/out.txt" >&2
	if [[ "$rc" != 0 ]]; then
		cat "$work/err.txt" >&2
		die "bench --quick exited $rc"
	fi
	note "ok: bench --quick exited 0"

	python3 - "$work/bench.json" <<-'PY'
		import json, sys
		b = json.load(open(sys.argv[1]))
		def figure(where, name):
		    f = where[name]
		    rpm = f["records_per_minute"]
		    assert isinstance(rpm, (int, float)) and rpm > 0, f"{name}: records_per_minute {rpm!r}"
		    return f
		for stage in ["read_io_uring", "read_plain", "frame", "parse", "parse_ndjson", "encode", "invalidation_keys", "zstd_decode"]:
		    figure(b["stages"], stage)
		e2e = b["end_to_end"]
		for name in ["edonu", "psql", "binary_copy_floor"]:
		    f = figure(e2e, name)
		    assert f["records"] == b["rows"] == 300000, f"{name}: records {f['records']}"
		    assert len(f["seconds"]) == b["runs"], f"{name}: {len(f['seconds'])} runs"
		    assert f["seconds_median"] > 0, f"{name}: seconds_median {f['seconds_median']}"
		assert e2e["binary_copy_floor"]["workers"] == b["workers"]
		assert e2e["edonu"]["records_per_minute"] >= 1000000, "below the floor with exit 0"
		def close(x, y, what):
		    assert abs(x - y) <= 2e-3 * max(abs(y), 1e-3) + 1e-4, f"{what}: {x} against {y}"
		psql_s = e2e["psql"]["seconds_median"]
		floor_s = e2e["binary_copy_floor"]["seconds_median"]
		close(e2e["ratio_to_psql"], e2e["edonu"]["seconds_median"] / psql_s, "ratio_to_psql")
		close(e2e["ratio_to_floor"], e2e["edonu"]["seconds_median"] / floor_s, "ratio_to_floor")
		# Every measured end-to-end line: its ratios and its CPU-seconds.
		for name, f in e2e.items():
		    if not isinstance(f, dict) or f["records_per_minute"] is None:
		        continue
		    s = f["seconds_median"]
		    close(f["ratio_psql"], s / psql_s, f"{name}: ratio_psql")
		    close(f["ratio_floor"], s / floor_s, f"{name}: ratio_floor")
		    for k in ["cpu_loader_s", "cpu_server_s", "cpu_total_s", "cpu_s_per_million_records"]:
		        assert isinstance(f[k], (int, float)) and f[k] > 0, f"{name}: {k} {f[k]!r}"
		    close(f["cpu_total_s"], f["cpu_loader_s"] + f["cpu_server_s"], f"{name}: cpu_total_s")
		    close(f["cpu_s_per_million_records"], f["cpu_total_s"] * 1e6 / f["records"], f"{name}: per million")
		    for k in ["cpu_loader_runs_s", "cpu_server_runs_s"]:
		        assert len(f[k]) == b["runs"] and all(v > 0 for v in f[k]), f"{name}: {k} {f[k]!r}"
		close(e2e["psql"]["ratio_psql"], 1.0, "psql against itself")
		close(e2e["binary_copy_floor"]["ratio_floor"], 1.0, "the floor against itself")
		# With Redis: measured when load has --invalidate, else said so.
		r = e2e["edonu_with_redis"]
		assert "records_per_minute" in r
		if r["records_per_minute"] is not None:
		    assert r["keys_invalidated"] > 0
		else:
		    assert r["available"] is False and r["reason"]
		assert "records_per_minute" in e2e["pgloader"]
		assert b["passed"] is True
		print("bench.json: every figure has records_per_minute", file=sys.stderr)
	PY
	note "ok: bench.json has the stage, end-to-end and psql figures"

	grep -q 'psql \\copy csv' "$work/out.txt" || die "the table has no psql row"
	# The floor's row in the time table and every measured line in the
	# CPU table: two rows each for psql, the floor and edonu-ingest.
	grep -Eq '^  floor: binary COPY, [0-9]+ psql +[0-9,]+ ' "$work/out.txt" ||
		die "the table has no floor row"
	grep -q 'CPU-seconds, medians of the runs' "$work/out.txt" || die "the report has no CPU table"
	local row
	for row in 'psql \\copy csv' 'floor: binary COPY' 'edonu-ingest  '; do
		assert_eq "rows of '$row'" "2" "$(grep -c "^  $row" "$work/out.txt")"
	done
	assert_eq "bench tables left behind" "0" \
		"$(psql_q "SELECT count(*) FROM pg_class WHERE relname LIKE 'edonu\_bench\_%'")"
	assert_eq "bench temporary files left behind" "" "$(ls -A "$work/tmp")"
}

main "$@"
