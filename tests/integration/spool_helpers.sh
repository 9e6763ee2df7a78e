# spool_helpers.sh - helpers shared by the batch-job tests (spool runs,
# SIGTERM and resume, config precedence, shards, summary and metrics): runs
# of `edonu-ingest run` with their exit code, summary and log, a spool
# filled with the generator's files, and a PostgreSQL session that holds a
# lock on the target table so that a loader waits at a known point instead
# of racing the test.
#
# Sourced after lib.sh and ledger_helpers.sh, with pg_start done.  Callers
# set EDONU_INGEST and WORK (a scratch directory).
# shellcheck shell=bash

# run_spool NAME ARGS...: runs `edonu-ingest run ARGS` in the foreground
# with its summary in $WORK/NAME.json and stderr in $WORK/NAME.err; sets RC.
# The caller passes --spool, and --dsn/--table unless a config gives them.
run_spool() {
	local name="$1"
	shift
	RC=0
	timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" run --summary "$WORK/$name.json" "$@" \
		</dev/null 2>"$WORK/$name.err" || RC=$?
	note "run $name: exit $RC: $(summary_line "$name")"
}

# run_spool_bg NAME ARGS...: the same in the background; sets LOADER_PID.
run_spool_bg() {
	local name="$1"
	shift
	"$EDONU_INGEST" run --summary "$WORK/$name.json" "$@" </dev/null 2>"$WORK/$name.err" &
	# shellcheck disable=SC2034 # read by ledger_helpers.sh's loader_gone
	LOADER_PID=$!
}

# gen_into FILE ROWS SEED [GEN ARGS...]: the generator's orders records, as
# an old file (past any --settle).
gen_into() {
	local file="$1" rows="$2" seed="$3"
	shift 3
	"$EDONU_INGEST" gen --rows "$rows" --seed "$seed" "$@" -o "$file"
	touch -d '1 hour ago' "$file"
}

# files_in DIR: the names of the regular files directly in DIR, one a line,
# sorted (hidden ones included).
files_in() {
	find "$1" -mindepth 1 -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort
}

# count_lines FILE: its line count, 0 when it does not exist.
count_lines() {
	if [[ -f "$1" ]]; then
		wc -l <"$1" | tr -d ' '
	else
		echo 0
	fi
}

# spool_locked_by SPOOL PID: the spool's lock file names PID (or the
# background loader is gone).
spool_locked_by() {
	[[ "$(cat "$1/.edonu-ingest.lock" 2>/dev/null)" == "$2" ]] || loader_gone
}

# --- a lock on the table, held by another session ---------------------------

HOLDER_APP=edonu-test-holder

# table_lock_take TABLE: a background session takes SHARE lock on TABLE
# (which conflicts with COPY's ROW EXCLUSIVE) and keeps it until
# table_lock_release; returns once the lock is granted.
table_lock_take() {
	PGAPPNAME="$HOLDER_APP" psql -XAtq -c "BEGIN; LOCK TABLE $1 IN SHARE MODE; SELECT pg_sleep(3600);" \
		>/dev/null 2>&1 &
	HOLDER_PID=$!
	on_exit "kill $HOLDER_PID 2>/dev/null || true"
	wait_until "$WAIT_TIMEOUT_S" "the lock on $1" holder_has_lock ||
		die "the holder session got no lock on $1"
}

holder_has_lock() {
	(($(psql_q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = '$HOLDER_APP' AND l.locktype = 'relation'
		AND l.mode = 'ShareLock' AND l.granted") > 0))
}

# table_lock_release: ends the holder's transaction (cancelling its sleep
# aborts it, which releases the lock) and reaps it.
table_lock_release() {
	psql_q "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '$HOLDER_APP'" >/dev/null
	wait "$HOLDER_PID" 2>/dev/null || true
}

# lock_waiters: sessions waiting for a lock (a loader's COPY stuck behind
# the holder).
lock_waiters() {
	psql_q "SELECT count(*) FROM pg_locks WHERE NOT granted"
}

# loader_waits_on_lock: the background loader is blocked behind the holder
# (or gone, so that a wait never outlives it).
loader_waits_on_lock() {
	loader_gone || (($(lock_waiters) > 0))
}
