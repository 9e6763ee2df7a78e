# lib.sh - shared helpers for the integration tests, the demo and the bench:
# throwaway PostgreSQL 15 and Redis servers under temporary directories,
# cleanup on exit, and small assertions.
#
# Source it from a bash script that runs with `set -euo pipefail`.  Every
# server started here is stopped, and its directory removed, when the script
# exits (normally, on error, or on SIGINT/SIGTERM).  When a server cannot be
# started the script exits with 77, which meson reports as a skip.
# shellcheck shell=bash

if [[ -n "${_EDONU_LIB_SH:-}" ]]; then
	return 0
fi
_EDONU_LIB_SH=1

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
# A server TimeZone other than UTC, so that timestamptz input without an
# offset is interpreted in a zone with a history of DST changes.
PG_TIMEZONE="${PG_TIMEZONE:-America/Sao_Paulo}"
# Upper bound on waiting for a server to accept connections.
SERVER_START_TIMEOUT_S="${SERVER_START_TIMEOUT_S:-60}"
# Clients and the loader talk UTF-8 whatever the caller's locale says.
export PGCLIENTENCODING=UTF8

# ---------------------------------------------------------------------------
# Messages, assertions, cleanup.

die() {
	printf '%s: error: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

skip() {
	printf '%s: skipped: %s\n' "${0##*/}" "$*" >&2
	exit 77
}

note() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# assert_eq NAME EXPECTED ACTUAL: fails the script when they differ.
assert_eq() {
	local name="$1" expected="$2" actual="$3"
	if [[ "$expected" != "$actual" ]]; then
		die "$name: expected '$expected', got '$actual'"
	fi
	note "ok: $name = '$actual'"
}

# Cleanup commands run in reverse order of registration at exit.  Whatever
# EXIT trap was installed before this file was sourced runs last.
_lib_cleanups=()
_lib_prev_exit_trap="$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")"

# on_exit CMD: run CMD (a string, evaluated) when the script exits.
on_exit() {
	_lib_cleanups+=("$1")
}

_lib_run_cleanups() {
	local rc=$? i
	set +e
	for ((i = ${#_lib_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_lib_cleanups[i]}"
	done
	_lib_cleanups=()
	if [[ -n "$_lib_prev_exit_trap" ]]; then
		eval "$_lib_prev_exit_trap"
	fi
	exit "$rc"
}
trap _lib_run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# now_s: seconds since the epoch (bash builtin clock, no fork).
now_s() {
	printf '%(%s)T' -1
}

# wait_until TIMEOUT_S DESCRIPTION CMD...: polls CMD until it succeeds or the
# deadline passes; returns 1 on timeout.  The short pause between polls
# bounds CPU use; the wait ends as soon as CMD succeeds.
wait_until() {
	local timeout_s="$1" what="$2"
	shift 2
	local deadline=$(($(now_s) + timeout_s))
	until "$@"; do
		if (($(now_s) >= deadline)); then
			note "timed out after ${timeout_s}s waiting for $what"
			return 1
		fi
		sleep 0.05
	done
}

# _lib_tmpdir PREFIX: a fresh directory that user postgres can reach when we
# are root (the server runs as postgres and needs to traverse the path).
_lib_tmpdir() {
	local base="${TMPDIR:-/tmp}"
	if [[ $EUID -eq 0 ]]; then
		base=/tmp
	fi
	mktemp -d "$base/$1.XXXXXX"
}

# _lib_as_pg CMD...: runs CMD as the server's owner (postgres when root).
_lib_as_pg() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# _lib_random_port: a port number in the unprivileged dynamic range.
_lib_random_port() {
	echo $((20000 + RANDOM % 40000))
}

# ---------------------------------------------------------------------------
# PostgreSQL.

# psql_q SQL: runs SQL in the test database, unaligned tuples only, stops on
# the first error.
psql_q() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "$1"
}

_lib_pg_stop() {
	local dir="$1"
	if [[ -f "$dir/data/postmaster.pid" ]]; then
		_lib_as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			note "pg_ctl stop failed; see $dir/server.log"
	fi
	rm -rf -- "$dir"
}

# pg_start: starts a throwaway PostgreSQL 15 listening only on a Unix socket
# in a fresh directory, and exports PGHOST, PGPORT, PGUSER, PGDATABASE,
# EDONU_TEST_DSN and PG_DIR.  Exits 77 when no server can be started.
pg_start() {
	local dir port
	[[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] ||
		skip "PostgreSQL 15 server binaries not found in $PG_BIN (apt-get install postgresql-15)"
	command -v psql >/dev/null || skip "psql not found (apt-get install postgresql-client-15)"
	if [[ $EUID -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || skip "running as root and there is no user postgres to run the server"
		command -v runuser >/dev/null || skip "running as root and runuser is missing (apt-get install util-linux)"
	fi

	dir="$(_lib_tmpdir edonu-pg)" || skip "cannot create a temporary directory"
	on_exit "_lib_pg_stop '$dir'"
	if [[ $EUID -eq 0 ]]; then
		chown postgres: "$dir"
	fi
	chmod 700 "$dir"

	if ! _lib_as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync \
		-E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		skip "initdb failed"
	fi

	# The socket lives in its own directory, so the port only names it; a
	# random one keeps the socket name distinct in logs.  fsync stays on:
	# the loader's commit speed is measured against real commits.
	port="$(_lib_random_port)"
	cat >>"$dir/data/postgresql.conf" <<-EOF
		# edonu-ingest test server
		listen_addresses = ''
		unix_socket_directories = '$dir'
		port = $port
		shared_buffers = 256MB
		max_wal_size = 4GB
		timezone = '$PG_TIMEZONE'
		log_timezone = 'UTC'
		max_connections = 100
	EOF
	# A test that needs other server settings names them, one per line.
	if [[ -n "${PG_EXTRA_CONF:-}" ]]; then
		printf '%s\n' "$PG_EXTRA_CONF" >>"$dir/data/postgresql.conf"
	fi

	if ! _lib_as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
		-w -t "$SERVER_START_TIMEOUT_S" start >/dev/null 2>&1; then
		cat "$dir/server.log" >&2 2>/dev/null || true
		skip "PostgreSQL did not start"
	fi
	if ! wait_until "$SERVER_START_TIMEOUT_S" "PostgreSQL on $dir" \
		"$PG_BIN/pg_isready" -q -h "$dir" -p "$port" -U postgres -d postgres; then
		cat "$dir/server.log" >&2 2>/dev/null || true
		skip "PostgreSQL is not accepting connections"
	fi

	export PG_DIR="$dir"
	export PGHOST="$dir" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
	export EDONU_TEST_DSN="host=$dir port=$port user=postgres dbname=postgres"
	note "PostgreSQL 15 up on $dir (port $port, TimeZone $PG_TIMEZONE)"
}

# pg_dsn DBNAME: the DSN of another database on the test server.
pg_dsn() {
	echo "host=$PGHOST port=$PGPORT user=postgres dbname=$1"
}

# ---------------------------------------------------------------------------
# Redis.

_lib_redis_stop() {
	local dir="$1" pid
	if [[ -f "$dir/redis.pid" ]]; then
		pid="$(cat "$dir/redis.pid")"
		if kill "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null || true
		fi
	fi
	rm -rf -- "$dir"
}

_lib_redis_up() {
	redis-cli -s "$1" ping 2>/dev/null | grep -qx PONG
}

# redis_start: starts a throwaway redis-server on a Unix socket and a free
# loopback port, without persistence, and exports EDONU_TEST_REDIS
# (redis://127.0.0.1:PORT/0), REDIS_SOCKET and REDIS_PORT.  Exits 77 when
# no server can be started.
redis_start() {
	local dir port pid attempt
	command -v redis-server >/dev/null || skip "redis-server not found (apt-get install redis-server)"
	command -v redis-cli >/dev/null || skip "redis-cli not found (apt-get install redis-tools)"
	dir="$(_lib_tmpdir edonu-redis)" || skip "cannot create a temporary directory"
	on_exit "_lib_redis_stop '$dir'"

	# A port can be taken between choosing and binding it, so try a few;
	# redis-server exits at once when its port is in use.
	for attempt in 1 2 3 4 5; do
		port="$(_lib_random_port)"
		cat >"$dir/redis.conf" <<-EOF
			bind 127.0.0.1
			port $port
			unixsocket $dir/redis.sock
			unixsocketperm 700
			daemonize no
			save ""
			appendonly no
			dir $dir
			logfile $dir/redis.log
			protected-mode yes
		EOF
		redis-server "$dir/redis.conf" &
		pid=$!
		echo "$pid" >"$dir/redis.pid"
		if wait_until "$SERVER_START_TIMEOUT_S" "Redis on $dir" \
			_lib_redis_alive_or_up "$pid" "$dir/redis.sock"; then
			if _lib_redis_up "$dir/redis.sock"; then
				export REDIS_DIR="$dir" REDIS_SOCKET="$dir/redis.sock" REDIS_PORT="$port"
				export EDONU_TEST_REDIS="redis://127.0.0.1:$port/0"
				note "Redis up on $REDIS_SOCKET and 127.0.0.1:$port (attempt $attempt)"
				return 0
			fi
		fi
		wait "$pid" 2>/dev/null || true
		rm -f "$dir/redis.pid"
	done
	cat "$dir/redis.log" >&2 2>/dev/null || true
	skip "redis-server did not start"
}

# Succeeds when the server answers, or when it has exited (so that the
# caller stops waiting and tries another port).
_lib_redis_alive_or_up() {
	local pid="$1" sock="$2"
	_lib_redis_up "$sock" && return 0
	kill -0 "$pid" 2>/dev/null || return 0
	return 1
}
