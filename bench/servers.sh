#!/usr/bin/env bash
# servers.sh - throwaway PostgreSQL and Redis for `edonu-ingest bench`, alive while its standard input is open.
#
# usage: servers.sh [pg] [redis]
# Starts the servers named (both when none is named) with the test
# harness's helpers, prints one line per server on standard output,
#   dsn=<libpq connection string>
#   redis=<redis:// URL>
# then "ready", and waits until its standard input closes (the bench is
# done, or died) before it stops the servers and removes their directories.
# Exits 77 when a server cannot be started, as the tests do.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../tests/integration/lib.sh
source "$HERE/../tests/integration/lib.sh"

want_pg=0
want_redis=0
for arg in "$@"; do
	case "$arg" in
	pg) want_pg=1 ;;
	redis) want_redis=1 ;;
	*) die "unknown server '$arg' (pg or redis)" ;;
	esac
done
if ((want_pg == 0 && want_redis == 0)); then
	want_pg=1
	want_redis=1
fi

# The servers' own output goes to stderr: standard output is the bench's
# pipe, and a server holding it open would hide the end of this script.
if ((want_pg)); then
	pg_start >&2
	printf 'dsn=%s\n' "$EDONU_TEST_DSN"
fi
if ((want_redis)); then
	redis_start >&2
	printf 'redis=%s\n' "$EDONU_TEST_REDIS"
fi
printf 'ready\n'

# Builtin read, so that a trapped SIGINT/SIGTERM interrupts the wait and
# the cleanup still runs.
while IFS= read -r _; do
	:
done
