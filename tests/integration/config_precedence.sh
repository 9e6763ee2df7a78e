#!/usr/bin/env bash
# Proves that --config FILE works as documented for load and run: its keys
# apply (dsn with no PG* variable set, table, batch-rows, settle), the
# command line overrides them, [load] keys do not apply to run nor [run]
# keys to load while top-level keys serve both (a run-only key at the top
# does not upset load), and that a configuration error is exit 78 with a
# message naming the file: an unknown key (at the top, in the command's own
# section, or in the other command's section), an unknown section, a bad
# value, `config` itself, and a missing file.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"
# shellcheck source=spool_helpers.sh
source "$HERE/spool_helpers.sh"

ROWS=100

# edonu NAME CMD ARGS...: runs the loader without any PG* variable, so that
# only a dsn from the config or the command line can reach the server, with
# its summary in $WORK/NAME.json and stderr in $WORK/NAME.err; sets RC.
edonu() {
	local name="$1" cmd="$2"
	shift 2
	RC=0
	env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE \
		timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" "$cmd" --summary "$WORK/$name.json" "$@" \
		</dev/null 2>"$WORK/$name.err" || RC=$?
	note "$cmd $name: exit $RC: $(summary_line "$name")"
}

rows_of() {
	psql_q "SELECT count(*) FROM $1"
}

# config_error NAME CMD CONF WANT_IN_MESSAGE [ARGS...]: CMD with --config
# CONF must exit 78 naming the file and WANT_IN_MESSAGE.
config_error() {
	local name="$1" cmd="$2" conf="$3" want="$4"
	shift 4
	edonu "$name" "$cmd" --config "$conf" "$@"
	check "$name: exit code" 78 "$RC"
	check_true "$name: the message names $conf" grep -qF "$conf" "$WORK/$name.err"
	check_true "$name: the message names '$want'" grep -qF "$want" "$WORK/$name.err"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-config.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	local t
	for t in t_top t_cli t_load t_run; do
		orders_table "$t"
	done
	# Each load gets its own content, so that the ledger never skips one.
	local seed
	for seed in 1 2 3 4 5 6; do
		gen_into "$WORK/in$seed.csv" "$ROWS" "$seed"
	done

	# --- the keys apply, the command line wins --------------------------
	local plain="$WORK/plain.conf"
	cat >"$plain" <<-EOF
		dsn = $EDONU_TEST_DSN
		table = t_top
		progress = never
		batch-rows = 10
	EOF
	edonu keys load --config "$plain" "$WORK/in1.csv"
	[[ "$RC" == 0 ]] || show_err keys
	check "keys: exit code" 0 "$RC"
	check "keys: rows in the config's table" "$ROWS" "$(rows_of t_top)"
	check "keys: batches of the config's batch-rows" 10 "$(sum_field keys batches)"

	edonu cli load --config "$plain" --table t_cli --batch-rows 50 "$WORK/in2.csv"
	[[ "$RC" == 0 ]] || show_err cli
	check "command line wins: exit code" 0 "$RC"
	check "command line wins: rows in --table" "$ROWS" "$(rows_of t_cli)"
	check "command line wins: config's table untouched" "$ROWS" "$(rows_of t_top)"
	check "command line wins: batches of --batch-rows" 2 "$(sum_field cli batches)"

	edonu cli_dsn load --config "$plain" --dsn "host=$PGHOST port=$PGPORT user=postgres dbname=nosuchdb" \
		--connect-timeout 1 "$WORK/in3.csv"
	check_true "command line wins: --dsn replaces the config's (exit $RC, not 0)" test "$RC" -ne 0
	check_true "command line wins: --dsn names its database" grep -q nosuchdb "$WORK/cli_dsn.err"

	# --- sections ------------------------------------------------------
	# Top-level keys for every command (settle is run's own, and load must
	# let it be); [load] then [run], so that a [run] key wrongly applied to
	# load would win over [load]'s; [load]'s rejects would make run refuse
	# to start (exit 64) if it leaked into run.
	local sections="$WORK/sections.conf"
	cat >"$sections" <<-EOF
		dsn = $EDONU_TEST_DSN
		table = t_top
		progress = never
		batch-rows = 10
		settle = 0

		[load]
		table = t_load
		batch-rows = 25
		rejects = $WORK/load.rejects.ndjson

		[run]
		table = t_run
		batch-rows = 50
	EOF
	edonu sec_load load --config "$sections" "$WORK/in3.csv"
	[[ "$RC" == 0 ]] || show_err sec_load
	check "[load]: exit code" 0 "$RC"
	check "[load]: rows in [load]'s table" "$ROWS" "$(rows_of t_load)"
	check "[load]: batches of [load]'s batch-rows" 4 "$(sum_field sec_load batches)"
	check "[load]: [run]'s table untouched" 0 "$(rows_of t_run)"

	local spool="$WORK/spool"
	mkdir "$spool"
	cp "$WORK/in4.csv" "$spool/young.csv" # modified now: settle decides
	edonu sec_run_settle run --config "$sections" --spool "$spool" --settle 600
	[[ "$RC" == 0 ]] || show_err sec_run_settle
	check "[run] + --settle 600: exit code" 0 "$RC"
	check "[run] + --settle 600: the young file left alone" "$(printf '%s\n' .edonu-ingest.lock young.csv)" \
		"$(files_in "$spool")"
	check "[run] + --settle 600: nothing loaded" 0 "$(rows_of t_run)"

	edonu sec_run run --config "$sections" --spool "$spool"
	[[ "$RC" == 0 ]] || show_err sec_run
	check "[run]: exit code" 0 "$RC"
	check "[run]: rows in [run]'s table" "$ROWS" "$(rows_of t_run)"
	check "[run]: batches of [run]'s batch-rows" 2 "$(sum_field sec_run batches)"
	check "[run]: settle 0 from the top took the young file" young.csv "$(files_in "$spool/done")"
	check "[run]: [load]'s table untouched" "$ROWS" "$(rows_of t_load)"
	check "[run]: the top's table untouched" "$ROWS" "$(rows_of t_top)"

	# --- configuration errors: exit 78, the file named -----------------
	local bad="$WORK/bad.conf"
	printf 'dsn = %s\ntable = t_top\nbogus-key = 1\n' "$EDONU_TEST_DSN" >"$WORK/top-unknown.conf"
	config_error top_unknown_load load "$WORK/top-unknown.conf" bogus-key "$WORK/in5.csv"
	config_error top_unknown_run run "$WORK/top-unknown.conf" bogus-key --spool "$spool"

	printf 'dsn = %s\ntable = t_top\n[run]\nsetle = 0\n' "$EDONU_TEST_DSN" >"$WORK/run-unknown.conf"
	config_error run_unknown run "$WORK/run-unknown.conf" setle --spool "$spool"
	# The file serves both commands: a misspelt key is an error whichever
	# command reads it, not only when its own command runs.
	config_error run_unknown_for_load load "$WORK/run-unknown.conf" setle "$WORK/in5.csv"
	printf 'dsn = %s\ntable = t_top\n[load]\nbatch-row = 10\n' "$EDONU_TEST_DSN" >"$WORK/load-unknown.conf"
	config_error load_unknown load "$WORK/load-unknown.conf" batch-row "$WORK/in5.csv"
	config_error load_unknown_for_run run "$WORK/load-unknown.conf" batch-row --spool "$spool"

	printf 'dsn = %s\ntable = t_top\n[loader]\nbatch-rows = 10\n' "$EDONU_TEST_DSN" >"$WORK/section.conf"
	config_error unknown_section load "$WORK/section.conf" loader "$WORK/in5.csv"

	local value i=0
	for value in 'batch-rows = many' 'batch-rows = 0' 'progress = sometimes' 'analyze = maybe' \
		'delimiter = ab' 'config = other.conf'; do
		printf 'dsn = %s\ntable = t_top\n%s\n' "$EDONU_TEST_DSN" "$value" >"$bad"
		i=$((i + 1))
		note "bad value $i: $value"
		config_error "bad_value_$i" load "$bad" "${value%% =*}" "$WORK/in5.csv"
	done
	printf 'dsn = %s\ntable = t_top\n[run]\nshard = 3/2\n' "$EDONU_TEST_DSN" >"$bad"
	config_error bad_value_shard run "$bad" shard --spool "$spool"

	config_error missing_load load "$WORK/no-such.conf" no-such.conf "$WORK/in5.csv"
	config_error missing_run run "$WORK/no-such.conf" no-such.conf --spool "$spool"
	check "no errored run loaded anything" "$((4 * ROWS))" \
		"$(psql_q 'SELECT (SELECT count(*) FROM t_top) + (SELECT count(*) FROM t_cli) + (SELECT count(*) FROM t_load) + (SELECT count(*) FROM t_run) + 0')"
	finish
}

main "$@"
