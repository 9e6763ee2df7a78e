# ledger_helpers.sh - helpers shared by the exactly-once tests (kill -9,
# server restart, constraints and upserts, signals, --max-rejects and
# --dry-run, ledger identity): the orders table, loader runs with their exit
# code and summary, ledger queries, conditions to poll, and a CSV rewriter
# that keeps every byte it does not change.
#
# Sourced after lib.sh, with pg_start done.  Callers set EDONU_INGEST and
# WORK (a scratch directory).
# shellcheck shell=bash

# Bound on one foreground loader run.
LOAD_TIMEOUT_S="${LOAD_TIMEOUT_S:-240}"
# Bound on waiting for a loader to reach the state a test needs.
WAIT_TIMEOUT_S="${WAIT_TIMEOUT_S:-120}"
FAILED=()

# check NAME EXPECTED ACTUAL: like assert_eq but records the failure and
# goes on, so that one run reports every broken property.
check() {
	local name="$1" expected="$2" actual="$3"
	if [[ "$expected" != "$actual" ]]; then
		note "FAIL: $name: expected '$expected', got '$actual'"
		FAILED+=("$name")
	else
		note "ok: $name = '$actual'"
	fi
}

# check_true NAME CMD...: records a failure when CMD fails.
check_true() {
	local name="$1"
	shift
	if "$@"; then
		note "ok: $name"
	else
		note "FAIL: $name"
		FAILED+=("$name")
	fi
}

# finish: fails the script when any check failed.
finish() {
	if ((${#FAILED[@]} > 0)); then
		die "failed: ${FAILED[*]}"
	fi
	note "all checks passed"
}

# seed_random: seeds $RANDOM from EO_SEED or the clock and says which, so
# that a failure at a random moment can be replayed.
seed_random() {
	local seed="${EO_SEED:-$(($(date +%s%N) % 32768))}"
	RANDOM="$seed"
	note "random seed $seed (set EO_SEED=$seed to replay)"
}

# now_ms: milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# orders_table NAME: creates the generator's orders table NAME, with no
# key and no constraint.
orders_table() {
	"$EDONU_INGEST" gen --table-sql "$1" | psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
}

# copy_into TABLE FILE: PostgreSQL's own COPY of a CSV file with a header.
copy_into() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "\\copy $1 from '$2' csv header" >/dev/null
}

# load NAME ARGS...: runs `edonu-ingest load --dsn ... ARGS` in the
# foreground with its summary in $WORK/NAME.json and stderr in
# $WORK/NAME.err, standard input from the file LOAD_STDIN names (default
# /dev/null); sets RC to its exit code.
load() {
	local name="$1"
	shift
	RC=0
	timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never \
		--summary "$WORK/$name.json" "$@" <"${LOAD_STDIN:-/dev/null}" 2>"$WORK/$name.err" || RC=$?
	note "load $name: exit $RC: $(summary_line "$name")"
}

# load_bg NAME ARGS...: the same in the background; sets LOADER_PID.
load_bg() {
	local name="$1"
	shift
	"$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never \
		--summary "$WORK/$name.json" "$@" </dev/null 2>"$WORK/$name.err" &
	LOADER_PID=$!
}

# reap PID: waits for a background loader; sets RC to its exit status.
# The braces keep bash's "Killed" job report off stderr.
reap() {
	RC=0
	{ wait "$1"; } 2>/dev/null || RC=$?
}

# kill_leftover: the cleanup for a background loader still running.
kill_leftover() {
	if [[ -n "${LOADER_PID:-}" ]] && kill -0 "$LOADER_PID" 2>/dev/null; then
		kill -9 "$LOADER_PID" 2>/dev/null || true
		wait "$LOADER_PID" 2>/dev/null || true
	fi
}

# sum_field NAME KEY: a field of run NAME's JSON summary ("none" when the
# run wrote no summary).
sum_field() {
	if [[ -s "$WORK/$1.json" ]]; then
		jq -r ".$2" "$WORK/$1.json"
	else
		echo none
	fi
}

summary_line() {
	if [[ -s "$WORK/$1.json" ]]; then
		jq -r '"loaded \(.loaded) rejected \(.rejected) skipped \(.skipped) records_read \(.records_read) retries \(.retries) exit_code \(.exit_code)"' "$WORK/$1.json"
	else
		echo "no summary"
	fi
}

# show_err NAME: the last lines of run NAME's stderr, for a failure report.
show_err() {
	tail -n 8 "$WORK/$1.err" >&2 || true
}

# ledger_q SQL: a query on the ledger that answers 0 while the ledger
# schema does not exist yet.
ledger_q() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "$1" 2>/dev/null || echo 0
}

ledger_chunks() {
	ledger_q "SELECT count(*) FROM edonu_ingest.chunks"
}

ledger_loaded() {
	ledger_q "SELECT coalesce(sum(loaded), 0) FROM edonu_ingest.chunks"
}

# Conditions to poll with wait_until.  Each also succeeds once the
# background loader has exited, so that a wait never outlives the loader;
# the caller then checks that it is still running.
loader_gone() {
	! kill -0 "$LOADER_PID" 2>/dev/null
}

# chunks_at_least N: N ledger chunk rows committed (or the loader gone).
chunks_at_least() {
	loader_gone || (($(ledger_chunks) >= $1))
}

# slow_copies TABLE SECONDS: every statement that inserts into TABLE (each
# chunk's COPY) first sleeps SECONDS in a statement trigger, so a test that
# must act while a load runs is not racing the load's end.
slow_copies() {
	psql -XAtq -v ON_ERROR_STOP=1 >/dev/null <<-SQL
		CREATE OR REPLACE FUNCTION edonu_test_slow() RETURNS trigger LANGUAGE plpgsql AS
		\$\$BEGIN PERFORM pg_sleep($2); RETURN NULL; END\$\$;
		CREATE TRIGGER edonu_test_slow BEFORE INSERT ON $1
		FOR EACH STATEMENT EXECUTE FUNCTION edonu_test_slow();
	SQL
}

# copy_running: a COPY is in progress on the server (or the loader gone).
copy_running() {
	loader_gone || (($(ledger_q "SELECT count(*) FROM pg_stat_progress_copy") > 0))
}

# no_other_sessions: no client session but this one is connected, i.e. the
# server has noticed that a killed loader's connections are gone.
no_other_sessions() {
	(($(psql_q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()") == 0))
}

# csv_rewrite IN OUT AWKCODE: copies the generator's CSV from IN to OUT,
# running AWKCODE on each data record with f[1] .. f[9] set to its first
# nine fields (the orders shape has no quotes or commas in them; only the
# last field, note, may be quoted and span lines) and r to the record's
# number (1 for the first after the header).  Records are put back
# together from f[] and the untouched note, so every other byte stays.
# AWKCODE may set skip = 1 to drop the record.
csv_rewrite() {
	local in="$1" out="$2" code="$3"
	awk -v q='"' '
		function emit(rec,    n, i, pre, rest) {
			n = split(rec, f, ",")
			pre = 0
			for (i = 1; i <= 9; i++)
				pre += length(f[i]) + 1
			rest = substr(rec, pre + 1)
			skip = 0
			r++
			'"$code"'
			if (!skip)
				print f[1] "," f[2] "," f[3] "," f[4] "," f[5] "," f[6] "," f[7] "," f[8] "," f[9] "," rest
		}
		NR == 1 { print; next }
		{
			rec = open ? rec "\n" $0 : $0
			quotes = gsub(q, q, rec)
			if (quotes % 2 == 1) { open = 1; next }
			open = 0
			emit(rec)
		}
		END { if (open) { print "csv_rewrite: unterminated quote at end of input" > "/dev/stderr"; exit 1 } }
	' "$in" >"$out"
}
