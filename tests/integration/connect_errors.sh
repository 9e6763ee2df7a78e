#!/usr/bin/env bash
# Proves that a login the server refuses is configuration, said once and
# never retried: with the server checking passwords (scram-sha-256 for one
# role), `run` and `load` with a wrong password, `run` as a role or into a
# database that does not exist, or a port libpq refuses to parse, each exit
# 78 with one error line naming the refusal and no connect_retry line, while
# the right password loads. And that a server that is not there is retried
# and said at once: `run` against
# a closed TCP port logs a connect_retry line (with its wait, the time left
# and --connect-timeout) that the test reads while the loader still runs,
# one per backoff step, then exits 69 when --connect-timeout (3 s) is over.
# And that a worker's session that finds no free connection slot, when the
# loader's first session got one, is retried like any other: the load goes
# on once a slot frees (the server has five; three are held meanwhile).
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
# shellcheck source=cache_helpers.sh
source "$HERE/cache_helpers.sh"

ROLE=edonu_pw
PASSWORD=right-password
CONNECT_TIMEOUT_S=3
# A double quote in a log line, escaped in logfmt (an ERE).
Q='\\?"'

# errors NAME: how many error lines run NAME logged.
errors() {
	grep -c 'level=error' "$WORK/$1.err" || true
}

# retries NAME: how many connect_retry lines run NAME logged.
retries() {
	grep -c 'event=connect_retry' "$WORK/$1.err" || true
}

# refused NAME RC NEEDLE: run NAME exited RC (78) at the first refusal: one
# error line matching NEEDLE, not one retry.
refused() {
	local name="$1" rc="$2" needle="$3"
	[[ "$rc" == 78 ]] || show_err "$name"
	check "$name: exit code" 78 "$rc"
	check "$name: error lines" 1 "$(errors "$name")"
	check_true "$name: the error line says /$needle/: $(grep -m1 'level=error' "$WORK/$name.err" || true)" \
		grep -qE "level=error.*$needle" "$WORK/$name.err"
	check "$name: connect_retry lines" 0 "$(retries "$name")"
}

# password_server: ROLE logs in with a password checked by the server
# (scram-sha-256), every other role as lib.sh set up (trust).
password_server() {
	local hba="$PG_DIR/data/pg_hba.conf"
	psql_q "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'; GRANT SELECT, INSERT ON orders TO $ROLE" >/dev/null
	# The ledger as a DBA creates it, with the role's grants on it.
	psql -XAtq -v ON_ERROR_STOP=1 -v loader="$ROLE" -f "$SOURCE_ROOT/deploy/ledger.sql" >/dev/null
	{
		echo "local all $ROLE scram-sha-256"
		cat "$hba"
	} >"$WORK/pg_hba.conf"
	cat "$WORK/pg_hba.conf" >"$hba"
	psql_q "SELECT pg_reload_conf()" >/dev/null
	# The server now checks: a wrong password is refused, the right one not.
	wait_until "$WAIT_TIMEOUT_S" "the server to check $ROLE's password" password_checked ||
		die "the server does not check $ROLE's password"
	PGPASSWORD="$PASSWORD" psql -XAtq -U "$ROLE" -c 'SELECT 1' >/dev/null ||
		die "$ROLE cannot log in with the right password"
}

password_checked() {
	! PGPASSWORD=wrong psql -XAtq -U "$ROLE" -c 'SELECT 1' >/dev/null 2>&1
}

# dsn_as USER PASSWORD DBNAME: the test server's DSN for another login.
dsn_as() {
	echo "host=$PGHOST port=$PGPORT user=$1 password=$2 dbname=$3"
}

# (a) Logins the server refuses.
login_refused() {
	local spool="$WORK/spool" wrong
	mkdir "$spool"
	"$EDONU_INGEST" gen --rows 100 --seed 1 -o "$WORK/orders.csv"
	wrong="$(dsn_as "$ROLE" wrong postgres)"
	# A --connect-timeout far past the test's bound on a run: a retry
	# would show as a connect_retry line and a timeout, not as an exit.
	run_spool wrong_password --dsn "$wrong" --table orders --progress never --spool "$spool" \
		--connect-timeout 3600
	refused wrong_password "$RC" "password authentication failed for user $Q$ROLE$Q"
	load load_wrong_password --dsn "$wrong" --table orders --connect-timeout 3600 "$WORK/orders.csv"
	refused load_wrong_password "$RC" "password authentication failed for user $Q$ROLE$Q"
	run_spool no_role --dsn "$(dsn_as edonu_no_such_role x postgres)" --table orders --progress never \
		--spool "$spool" --connect-timeout 3600
	refused no_role "$RC" "role ${Q}edonu_no_such_role$Q does not exist"
	run_spool no_database --dsn "$(dsn_as postgres x nosuch)" --table orders --progress never \
		--spool "$spool" --connect-timeout 3600
	refused no_database "$RC" "database ${Q}nosuch$Q does not exist"
	# A connection option libpq itself refuses (a port that is no number,
	# or out of range) is configuration too: said at once, never retried.
	load bad_port --dsn "host=$PGHOST port=abc user=postgres dbname=postgres" --table orders \
		--connect-timeout 3600 "$WORK/orders.csv"
	refused bad_port "$RC" 'invalid integer value .*abc.* for connection option .*port'
	load port_out_of_range --dsn "host=$PGHOST port=99999 user=postgres dbname=postgres" --table orders \
		--connect-timeout 3600 "$WORK/orders.csv"
	refused port_out_of_range "$RC" 'invalid port number'
	check "rows after refused logins" 0 "$(psql_q 'SELECT count(*) FROM orders')"

	# The same login with the right password: the refusals were the password's.
	load right_password --dsn "$(dsn_as "$ROLE" "$PASSWORD" postgres)" --table orders "$WORK/orders.csv"
	[[ "$RC" == 0 ]] || show_err right_password
	check "right password: exit code" 0 "$RC"
	check "right password: rows" 100 "$(psql_q 'SELECT count(*) FROM orders')"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on (bound by the
# kernel's choice, then closed).
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# running PID: the process exists and has not exited (a zombie, exited but
# not yet reaped, does not count).
running() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat%% *}" != Z ]]
}

retry_logged_or_gone() {
	grep -q 'event=connect_retry' "$WORK/closed_port.err" || ! running "$LOADER_PID"
}

# (b) Nothing listens: retried, said at once, 69 after --connect-timeout.
closed_port() {
	local port spool="$WORK/spool-closed" seen_running=no seen=0
	mkdir "$spool"
	port="$(free_port)"
	note "closed port: 127.0.0.1:$port"
	run_spool_bg closed_port --dsn "host=127.0.0.1 port=$port user=postgres dbname=postgres" \
		--connect-timeout "$CONNECT_TIMEOUT_S" --table orders --progress never --spool "$spool"
	wait_until "$WAIT_TIMEOUT_S" "a connect_retry line" retry_logged_or_gone || true
	# The line first, then the loader still there: it was logged before
	# the exit, not with it; and more lines come after it, one per retry.
	seen="$(retries closed_port)"
	if ((seen > 0)) && running "$LOADER_PID"; then
		seen_running=yes
	fi
	check "closed port: a connect_retry line while the loader runs" yes "$seen_running"
	wait_until "$LOAD_TIMEOUT_S" "the loader to give up" loader_gone || die "the loader did not give up"
	reap "$LOADER_PID"
	[[ "$RC" == 69 ]] || show_err closed_port
	check "closed port: exit code" 69 "$RC"
	# shellcheck disable=SC2016 # awk's own fields
	check_true "closed port: each retry line says its wait, the time left and --connect-timeout" \
		awk '/event=connect_retry/ { n++; if ($0 !~ /retrying in [0-9]+ ms, for [0-9.]+ s more \(--connect-timeout\)/) bad++ }
			END { exit !(n > 0 && bad == 0) }' "$WORK/closed_port.err"
	# The last wait is cut to end at the deadline; the others double.
	# shellcheck disable=SC2016 # awk's own variables
	check_true "closed port: a retry line per backoff step, the waits growing: $(grep -o 'retrying in [0-9]* ms' "$WORK/closed_port.err" | tr '\n' ' ')" \
		awk 'match($0, /retrying in [0-9]+ ms/) { w[++n] = substr($0, RSTART + 12, RLENGTH - 15) + 0 }
			END { for (i = 2; i < n; i++) if (w[i] <= w[i - 1]) bad++; exit !(n >= 2 && bad == 0) }' \
		"$WORK/closed_port.err"
	check_true "closed port: retry lines written after the first was read ($seen then $(retries closed_port))" \
		test "$(retries closed_port)" -gt "$seen"
	check_true "closed port: the error line says unavailable after $CONNECT_TIMEOUT_S s" \
		grep -qE "level=error.*unavailable after $CONNECT_TIMEOUT_S s" "$WORK/closed_port.err"
	check "closed port: error lines" 1 "$(errors closed_port)"
}

# holders_up: the three holders' sessions wait in their pg_sleep.
holders_up() {
	[[ "$(psql_q "SELECT count(*) FROM pg_stat_activity
		WHERE query LIKE 'SELECT pg_sleep(3600)%' AND pid <> pg_backend_pid()")" == 3 ]]
}

# retried_or_gone NAME: run NAME logged a connect_retry line, or ended.
retried_or_gone() {
	(($(retries "$1") > 0)) || ! running "$LOADER_PID"
}

# (c) No free slot for a worker: three of the five slots held by sleeping
# sessions, the loader's control session takes the fourth, one worker the
# fifth, and the other worker's session is refused "too many clients":
# retried (a connect_retry line) until the test ends a holder, then loaded.
worker_slot() {
	local holders=() i
	"$EDONU_INGEST" gen --rows 20000 --seed 7 -o "$WORK/slot.csv"
	psql_q "TRUNCATE orders" >/dev/null
	for i in 1 2 3; do
		psql -XAtq -c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
		holders+=($!)
	done
	wait_until "$WAIT_TIMEOUT_S" "three sessions held" holders_up ||
		die "the holders did not start"
	load_bg worker_slot --table orders --workers 2 --connect-timeout 3600 "$WORK/slot.csv"
	wait_until "$WAIT_TIMEOUT_S" "a connect_retry line" retried_or_gone worker_slot || true
	check "worker slot: a connect_retry line while the loader waits" 1 \
		"$(running "$LOADER_PID" && (($(retries worker_slot) > 0)) && echo 1 || echo 0)"
	check_true "worker slot: the retry says why: $(grep -m1 'event=connect_retry' "$WORK/worker_slot.err" || true)" \
		grep -qE 'event=connect_retry.*(too many clients|connection slots)' "$WORK/worker_slot.err"
	kill "${holders[0]}"
	wait_until "$LOAD_TIMEOUT_S" "the loader to finish" loader_gone || die "the loader did not finish"
	reap "$LOADER_PID"
	kill "${holders[@]:1}" 2>/dev/null || true
	wait "${holders[@]}" 2>/dev/null || true
	[[ "$RC" == 0 ]] || show_err worker_slot
	check "worker slot: exit code" 0 "$RC"
	check "worker slot: rows" 20000 "$(psql_q 'SELECT count(*) FROM orders')"
	check "worker slot: error lines" 0 "$(errors worker_slot)"
}

# redis_refused: a Redis that wants a password the load does not give, or
# gives wrongly, refuses it: exit 78 at once with one error line, before a
# row is loaded; with the right password the load goes through.
redis_refused() {
	redis_start
	redis-cli -s "$REDIS_SOCKET" CONFIG SET requirepass sekret >/dev/null
	"$EDONU_INGEST" gen --rows 100 --seed 5 -o "$WORK/redis.csv"
	psql_q "CREATE TABLE r_orders (LIKE orders)"
	local base="redis://127.0.0.1:$REDIS_PORT/0" name url
	for name in redis_no_password redis_wrong_password; do
		url="$base"
		[[ "$name" == redis_wrong_password ]] && url="redis://:wrong@127.0.0.1:$REDIS_PORT/0"
		load "$name" --table r_orders --redis "$url" --invalidate 'k:{order_id}' --state-dir "$WORK/state" \
			"$WORK/redis.csv"
		check "$name: exit code" 78 "$RC"
		check "$name: error lines" 1 "$(errors "$name")"
		check "$name: rows" 0 "$(psql_q 'SELECT count(*) FROM r_orders')"
	done
	load redis_right --table r_orders --redis "redis://:sekret@127.0.0.1:$REDIS_PORT/0" --invalidate 'k:{order_id}' \
		--state-dir "$WORK/state" "$WORK/redis.csv"
	check "redis_right: exit code" 0 "$RC"
	check "redis_right: rows" 100 "$(psql_q 'SELECT count(*) FROM r_orders')"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	command -v python3 >/dev/null || die "python3 is needed to find a free port"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-connect.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	# Five slots: the sessions of worker_slot, and room for the others; a
	# holder whose client is gone frees its slot within its pg_sleep.
	PG_EXTRA_CONF="max_connections = 5
superuser_reserved_connections = 0
client_connection_check_interval = 100ms" pg_start
	orders_table orders
	password_server

	login_refused
	closed_port
	worker_slot
	redis_refused
	finish
}

main "$@"
