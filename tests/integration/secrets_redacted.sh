#!/usr/bin/env bash
# Proves that passwords never reach the output: connection strings with a
# password that libpq cannot use (a URI with a syntax error, a bad
# %-escape, a password holding '/' that libpq reads as the port, an
# unterminated quote) end the load or the run with their exit code, and the
# password appears nowhere in stdout, stderr (text and JSON logs), the
# summary or the metrics textfile. For Redis: a malformed URL with a
# password is not echoed; EDONU_REDIS_PASSWORD authenticates a load against
# a Redis that wants a password (the URL carries none), and a wrong one is
# exit 78 without the password in any output.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"
# shellcheck source=cache_helpers.sh
source "$HERE/cache_helpers.sh"

# The secret and the parts of it a leak would show.
SECRET=Zq7Sekr1tPw
PARTS=(Zq7Sekr1tPw Zq7Sek Sekr1t kr1tPw)

# no_secret NAME: none of run NAME's outputs holds any part of the secret.
no_secret() {
	local name="$1" f part found=""
	for f in "$WORK/$name".{out,err,json,prom}; do
		[[ -e "$f" ]] || continue
		for part in "${PARTS[@]}"; do
			if grep -qF -- "$part" "$f"; then
				found+=" ${f##*/}:$part"
			fi
		done
	done
	check "$name: the password in its outputs" "" "$found"
}

# run_loader NAME CMD ARGS...: edonu-ingest CMD with stdout, stderr, the
# summary and the metrics textfile of run NAME kept; sets RC.
run_loader() {
	local name="$1" cmd="$2"
	shift 2
	RC=0
	timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" "$cmd" --progress never --summary "$WORK/$name.json" \
		--metrics-textfile "$WORK/$name.prom" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null || RC=$?
	note "$name: exit $RC: $(head -c 300 "$WORK/$name.err")"
}

# bad_dsn NAME CODE DSN ARGS...: a load with DSN exits CODE and shows no
# part of the secret; with --log-format json too.
bad_dsn() {
	local name="$1" code="$2" dsn="$3"
	shift 3
	local fmt
	for fmt in text json; do
		run_loader "$name-$fmt" load --dsn "$dsn" --log-format "$fmt" --connect-timeout 1 \
			--table orders "$@" "$WORK/orders.csv"
		check "$name-$fmt: exit code" "$code" "$RC"
		check_true "$name-$fmt: an error is logged" grep -q 'load_failed\|error' "$WORK/$name-$fmt.err"
		no_secret "$name-$fmt"
	done
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-secrets.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	redis_start
	orders_table orders
	"$EDONU_INGEST" gen --rows 500 --seed 71 -o "$WORK/orders.csv"

	# libpq repeats the whole URI, or the token it could not decode.
	bad_dsn uri_syntax 78 "postgresql://loader:$SECRET@[::1/postgres"
	bad_dsn uri_escape 78 "postgresql://loader:${SECRET:0:5}%zz${SECRET:5}@localhost/postgres"
	bad_dsn uri_query 78 "postgresql://loader@localhost/postgres?password=${SECRET:0:5}%00${SECRET:5}"
	bad_dsn kv_quote 78 "host=$PGHOST password='$SECRET port=$PGPORT"
	# A '/' in the password: libpq reads the part before it as the port,
	# not a number, and refuses it before it tries: 78 at once.
	bad_dsn uri_slash 78 "postgresql://loader:${SECRET:0:6}/${SECRET:6}@localhost/postgres"
	# The same for run, which fails before its first file.
	mkdir -p "$WORK/spool"
	run_loader run_uri run --spool "$WORK/spool" --dsn "postgresql://loader:$SECRET@[::1/postgres" \
		--table orders --connect-timeout 1
	check "run_uri: exit code" 78 "$RC"
	no_secret run_uri
	check "nothing was loaded" 0 "$(psql_q 'SELECT count(*) FROM orders')"

	# Redis: a malformed URL with a password is not repeated.
	run_loader redis_url load --dsn "$EDONU_TEST_DSN" --table orders --invalidate "$KEY_TEMPLATE" \
		--state-dir "$WORK/state" --redis "redis://:$SECRET@[::1" "$WORK/orders.csv"
	check "redis_url: exit code" 78 "$RC"
	no_secret redis_url

	# A Redis that wants a password: EDONU_REDIS_PASSWORD gives it, the
	# URL holds none.
	rcli CONFIG SET requirepass "$SECRET" >/dev/null
	local redis_url="unix://$REDIS_SOCKET"
	EDONU_REDIS_PASSWORD="wrong-$SECRET" run_loader redis_wrong load --dsn "$EDONU_TEST_DSN" --table orders \
		--invalidate "$KEY_TEMPLATE" --state-dir "$WORK/state" --redis "$redis_url" "$WORK/orders.csv"
	check "redis_wrong: exit code" 78 "$RC"
	no_secret redis_wrong
	EDONU_REDIS_PASSWORD="$SECRET" run_loader redis_env load --dsn "$EDONU_TEST_DSN" --table orders \
		--invalidate "$KEY_TEMPLATE" --state-dir "$WORK/state2" --redis "$redis_url" --force "$WORK/orders.csv"
	check "redis_env: exit code" 0 "$RC"
	check "redis_env: loaded, keys invalidated" "500 500" \
		"$(sum_field redis_env loaded) $(sum_field redis_env keys_invalidated)"
	no_secret redis_env
	finish
}

main "$@"
