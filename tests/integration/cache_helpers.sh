# cache_helpers.sh - helpers shared by the cache invalidation tests: the
# Redis keys of an orders CSV, seeding them, listing what is left, and
# stopping and restarting the throwaway Redis of lib.sh on its socket and
# port.
#
# Sourced after lib.sh and ledger_helpers.sh, with pg_start and redis_start
# done.  Callers set WORK (a scratch directory).
# shellcheck shell=bash

# The key template of the tests, and a pattern of its keys (used by the
# tests that source this file).
# shellcheck disable=SC2034
KEY_TEMPLATE='erp:{tenant_id}:order:{order_id}'
# shellcheck disable=SC2034
KEY_RE='^erp:[0-9]+:order:[0-9]+$'

# rcli ARGS...: redis-cli on the test server's socket.
rcli() {
	redis-cli -s "$REDIS_SOCKET" "$@"
}

# csv_keys CSV BAD_EVERY OUT: writes OUT.all (the key of every record, in
# order), OUT.bad (the keys of records BAD_EVERY, 2*BAD_EVERY, ..., the
# generator's bad ones; empty when BAD_EVERY is 0) and OUT.good (the rest),
# each sorted.  The CSV is read with a real CSV parser: notes span lines.
csv_keys() {
	python3 - "$1" "$2" "$3" <<-'EOF'
		import csv, sys
		src, bad_every, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
		keys, bad, good = [], [], []
		with open(src, newline="", errors="surrogateescape") as f:
		    r = csv.reader(f)
		    header = next(r)
		    ti, oi = header.index("tenant_id"), header.index("order_id")
		    for n, rec in enumerate(r, 1):
		        k = "erp:%s:order:%s" % (rec[ti], rec[oi])
		        keys.append(k)
		        (bad if bad_every and n % bad_every == 0 else good).append(k)
		for name, v in (("all", keys), ("bad", sorted(bad)), ("good", sorted(good))):
		    with open(out + "." + name, "w", errors="surrogateescape") as f:
		        f.writelines(k + "\n" for k in v)
	EOF
}

# seed_keys KEYFILE UNRELATED: SETs every key of KEYFILE and UNRELATED keys
# other:1 .. other:UNRELATED through one redis-cli --pipe, and checks that
# Redis took them all.
seed_keys() {
	local keyfile="$1" unrelated="$2" expected
	expected=$(($(wc -l <"$keyfile") + unrelated))
	python3 - "$keyfile" "$unrelated" >"$WORK/seed.resp" <<-'EOF'
		import sys
		out = sys.stdout.buffer
		def cmd(*args):
		    out.write(b"*%d\r\n" % len(args))
		    for a in args:
		        a = a.encode(errors="surrogateescape")
		        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
		with open(sys.argv[1], errors="surrogateescape") as f:
		    for line in f:
		        cmd("SET", line.rstrip("\n"), "cached")
		for i in range(1, int(sys.argv[2]) + 1):
		    cmd("SET", "other:%d" % i, "unrelated")
	EOF
	rcli --pipe <"$WORK/seed.resp" >"$WORK/seed.out" 2>&1 ||
		die "redis-cli --pipe failed: $(tail -n 3 "$WORK/seed.out")"
	assert_eq "keys seeded" "$expected" "$(rcli DBSIZE)"
}

# redis_key_list OUT: every key in Redis, sorted, into OUT.
redis_key_list() {
	rcli --scan | LC_ALL=C sort >"$1"
}

# sorted_file IN OUT: IN sorted the same way.
sorted_file() {
	LC_ALL=C sort "$1" >"$2"
}

# expected_left BAD UNRELATED OUT: the keys that must be left after a
# load: the rejected records' keys and the unrelated ones, sorted.
expected_left() {
	{
		cat "$1"
		seq 1 "$2" | sed 's/^/other:/'
	} | LC_ALL=C sort >"$3"
}

# same_keys NAME EXPECTED_FILE ACTUAL_FILE: a check that two sorted key
# lists are equal; on a difference, shows a few keys of each side.
same_keys() {
	local name="$1" exp="$2" act="$3"
	if cmp -s "$exp" "$act"; then
		note "ok: $name ($(wc -l <"$act") keys)"
		return 0
	fi
	note "FAIL: $name: $(comm -23 "$exp" "$act" | wc -l) expected keys missing" \
		"(e.g. $(comm -23 "$exp" "$act" | head -n 3 | tr '\n' ' ')), $(comm -13 "$exp" "$act" | wc -l)" \
		"unexpected (e.g. $(comm -13 "$exp" "$act" | head -n 3 | tr '\n' ' '))"
	FAILED+=("$name")
}

# redis_pid: the pid of the running test Redis.
redis_pid() {
	cat "$REDIS_DIR/redis.pid"
}

redis_down() {
	! _lib_redis_up "$REDIS_SOCKET"
}

# redis_kill: kill -9 of the test Redis; waits until it is gone.  Its data
# goes with it (no persistence).
redis_kill() {
	local pid
	pid="$(redis_pid)"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	wait_until 30 "Redis to go away" redis_down || die "Redis still answers after kill -9"
	note "Redis killed (pid $pid)"
}

# redis_restart: starts redis-server again with the configuration lib.sh
# wrote (same socket, same port), and records its pid where lib.sh's
# cleanup looks for it.  The port was free a moment ago; a few attempts
# cover the socket left by a killed server still being unlinked.
redis_restart() {
	local pid attempt
	for attempt in 1 2 3; do
		redis-server "$REDIS_DIR/redis.conf" &
		pid=$!
		echo "$pid" >"$REDIS_DIR/redis.pid"
		if wait_until "$SERVER_START_TIMEOUT_S" "Redis to restart" \
			_lib_redis_alive_or_up "$pid" "$REDIS_SOCKET" && _lib_redis_up "$REDIS_SOCKET"; then
			note "Redis restarted (pid $pid, attempt $attempt)"
			return 0
		fi
		wait "$pid" 2>/dev/null || true
	done
	tail -n 5 "$REDIS_DIR/redis.log" >&2 || true
	die "Redis did not restart on $REDIS_SOCKET and port $REDIS_PORT"
}

# state_dir_listing DIR: the files of a state directory and their sizes, on one line.
state_dir_listing() {
	find "$1" -type f -printf '%f %s bytes\n' 2>/dev/null | tr '\n' ';'
}
