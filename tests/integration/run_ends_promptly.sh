#!/usr/bin/env bash
# Proves that a load ends when its work ends, not at the next tick of the
# main thread's monitor (pipeline/engine.c, MONITOR_INTERVAL_MS = 250 ms),
# for `load` and for each file of a `run`, without a bound in seconds: the
# loader's time is compared with the same machine's cost of the same work,
# measured in the same test.
#
# Why this comparison. No ordering of events tells "ended at once" from
# "ended at the next tick" without a clock: the tick is itself a clock, so
# whatever races it is a duration in disguise. What a tick wait has that the
# work has not is its size: 250 ms whatever the machine, and a job whose
# end waits for it lasts at least that long (its first wait starts with the
# job), while the work of a small file shrinks and grows with the machine.
# The loader's own single-file loads are no baseline: every job, `load` or
# one file of a `run`, ends through the same monitor loop, so a tick wait
# is in both and the two agree (2.8 s and 2.8 s for ten files with the
# wait). The baseline does the same work with no such wait: psql loading
# each of ten files of 200 records with \copy, one process and one
# connection per file, usually a small fraction of 250 ms a file. The
# checks, in the best of three rounds (one noisy round must not decide):
# - load: ten single-file loads' own `seconds` (their summaries: from the
#   job's start to its end, where a tick wait sits) add up to less than
#   twice the baseline;
# - run: a run over ten files, process start to exit as the test's clock
#   sees it (so a wait between files counts too), takes less than twice
#   the baseline.
# Measured for ten files (loads, run, baseline): 0.10-0.17 s, 0.08-0.14 s,
# 0.29-0.56 s on an idle machine; 0.14-0.19 s, 0.13-0.15 s, 0.57-0.60 s
# pinned to one CPU beside a busy loop; 0.22-0.43 s, 0.21-0.40 s,
# 0.31-0.68 s beside another test saturating every CPU (the loader's many
# short round trips suffer more from a busy machine than psql's few, hence
# twice, not once). With the end waiting for the tick: 2.55-2.8 s for loads
# and run alike against a 0.3 s baseline, 2.9-3.0 s against 0.57-0.60 s
# beside the busy loop. Ten tick waits (2.5 s) stay over twice the baseline
# while psql needs less than 125 ms a file; where it needs more (1.8 s for
# ten beside five busy loops: psql, a new process each time, slows most),
# this test can no longer tell a tick wait from work and says so, but it
# still passes for a loader that ends at once.
#
# Commits do not wait for the disk in this test (synchronous_commit off):
# the loader's bookkeeping (ledger rows, several commits a file) against
# psql's single COPY would make a slow disk weigh on one side only. The
# loader runs with --workers 2 on any machine. MALLOC_PERTURB_, which meson
# sets for every test, makes each allocation and free write over its
# memory: it weighs on the loader's read buffers (a pool per file) far more
# than on psql, so it is unset here; the other tests keep it.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
unset MALLOC_PERTURB_

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

ROWS=200
FILES=10
ROUNDS=3
# The monitor's tick, in microseconds (pipeline/engine.c).
TICK_US=250000

# now_us: the test's clock, in microseconds (no fork).
now_us() {
	local t="$EPOCHREALTIME"
	echo "${t/./}"
}

# seconds US: microseconds as seconds, for messages.
seconds() {
	awk -v us="$1" 'BEGIN { printf "%.3f", us / 1e6 }'
}

# percent PERMILLE: a ratio in tenths of a percent, for messages.
percent() {
	echo "$(($1 / 10)).$(($1 % 10))% of the baseline"
}

# One round: sets BASE_US (psql), LOADS_US (the loads' summaries) and
# RUN_US (the run, as the test's clock sees it).
round() {
	local r="$1" i t0 t1 s codes=""
	local spool="$WORK/spool$r"
	mkdir "$spool"
	BASE_US=0
	LOADS_US=0
	for ((i = 1; i <= FILES; i++)); do
		"$EDONU_INGEST" gen --rows "$ROWS" --seed "$((r * 100 + i))" -o "$spool/part$i.csv"
		"$EDONU_INGEST" gen --rows "$ROWS" --seed "$((r * 100 + 50 + i))" -o "$WORK/single$r-$i.csv"
		# The baseline: psql's own COPY of the file, one process each.
		t0="$(now_us)"
		copy_into baseline "$spool/part$i.csv"
		t1="$(now_us)"
		BASE_US=$((BASE_US + t1 - t0))
		# A load of another file of the same size: its job's own time.
		load "single$r-$i" --table orders --workers 2 "$WORK/single$r-$i.csv"
		codes+="$RC "
		s="$(sum_field "single$r-$i" seconds)"
		LOADS_US=$((LOADS_US + $(awk -v s="$s" 'BEGIN { printf "%d", s * 1e6 }')))
	done
	check "round $r: the loads' exit codes" "$(printf '0 %.0s' $(seq "$FILES"))" "$codes"
	local rc=0
	t0="$(now_us)"
	timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" run --dsn "$EDONU_TEST_DSN" --table orders --workers 2 --settle 0 \
		--progress never --summary "$WORK/run$r.json" --spool "$spool" </dev/null 2>"$WORK/run$r.err" || rc=$?
	t1="$(now_us)"
	RUN_US=$((t1 - t0))
	[[ "$rc" == 0 ]] || tail -n 5 "$WORK/run$r.err" >&2
	check "round $r: run: exit code" 0 "$rc"
	check "round $r: run: files loaded" "$FILES" "$(find "$spool/done" -type f | wc -l | tr -d ' ')"
	check "round $r: rows" "$((r * 2 * FILES * ROWS))" "$(psql_q 'SELECT count(*) FROM orders')"
	note "round $r: baseline (psql, $FILES files) $(seconds "$BASE_US") s;" \
		"$FILES loads $(seconds "$LOADS_US") s; run of $FILES files $(seconds "$RUN_US") s"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	[[ -n "${EPOCHREALTIME:-}" ]] || die "bash 5 is needed (EPOCHREALTIME)"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-prompt.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	psql_q "ALTER DATABASE $PGDATABASE SET synchronous_commit = off"
	orders_table orders
	orders_table baseline

	# Each time in tenths of a percent of its round's baseline; the best
	# round counts, against twice the baseline.
	local r best_loads="" best_run="" loads run slow=0
	for ((r = 1; r <= ROUNDS; r++)); do
		round "$r"
		loads=$((LOADS_US * 1000 / BASE_US))
		run=$((RUN_US * 1000 / BASE_US))
		if [[ -z "$best_loads" ]] || ((loads < best_loads)); then best_loads=$loads; fi
		if [[ -z "$best_run" ]] || ((run < best_run)); then best_run=$run; fi
		if ((2 * BASE_US >= FILES * TICK_US)); then slow=$((slow + 1)); fi
	done
	if ((slow == ROUNDS)); then
		note "psql took 125 ms or more per file in every round: twice that is a tick (250 ms)," \
			"so on this machine this test cannot tell a tick wait from work"
	fi
	check_true "$FILES single-file loads took less than twice psql's $FILES \\copy (best round: $(percent "$best_loads"))" \
		test "$best_loads" -lt 2000
	check_true "a run of $FILES files took less than twice psql's $FILES \\copy (best round: $(percent "$best_run"))" \
		test "$best_run" -lt 2000
	finish
}

main "$@"
