#!/usr/bin/env bash
# Proves that a load with --invalidate removes from Redis exactly the keys of
# the rows it commits, and only after they are committed: with 100k records
# (every 50th bad) each with its key erp:{tenant_id}:order:{order_id} seeded
# in Redis next to 1000 unrelated keys, exactly 3000 keys are left after the
# load and they are the rejected records' keys and the unrelated ones; a
# watcher of Redis's delete events sees no key go whose row PostgreSQL does
# not yet show (commits are slowed down by a deferred trigger, so that a
# key sent before COMMIT would be seen); --publish announces exactly the
# invalidated keys; and --bump INCRs each version key once per chunk that
# committed a row of it.
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

ROWS=100000
BAD_EVERY=50
UNRELATED=1000
BATCH_ROWS=5000
CHANNEL=erp-invalidations
# The --bump part: a smaller file in small chunks.
BUMP_ROWS=10000
BUMP_BATCH_ROWS=100

WATCH_PID=
SUB_PID=

stop_bg() {
	local pid
	for pid in "$WATCH_PID" "$SUB_PID"; do
		if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
}

# published_keys FILE: the keys redis-cli printed for the channel's
# messages (one message holds keys separated by newlines).
published_keys() {
	grep -E "$KEY_RE" "$1" || true
}

# subscribed CHANNEL: someone listens on CHANNEL.
subscribed() {
	(($(rcli PUBSUB NUMSUB "$1" | tail -n 1) == 1))
}

published_count_is() {
	(($(published_keys "$WORK/sub.out" | wc -l) >= $1))
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	command -v python3 >/dev/null || die "python3 is needed to read the CSV"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-inval.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit stop_bg
	pg_start
	redis_start
	orders_table orders
	# A deferred constraint trigger runs at COMMIT: it sleeps 10 ms for one
	# row in a thousand, so that each COMMIT of a chunk takes a while, and a
	# key sent to Redis before the COMMIT ended would be gone while its row
	# is not yet visible.
	psql -XAtq -v ON_ERROR_STOP=1 >/dev/null <<-'EOF'
		CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
		    IF NEW.order_id % 1000 = 1 THEN
		        PERFORM pg_sleep(0.01);
		    END IF;
		    RETURN NULL;
		END $$;
		CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON orders
		    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
	EOF

	local input="$WORK/orders.csv"
	"$EDONU_INGEST" gen --rows "$ROWS" --seed 4 --bad-every "$BAD_EVERY" -o "$input"
	csv_keys "$input" "$BAD_EVERY" "$WORK/keys"
	assert_eq "records in the file" "$ROWS" "$(wc -l <"$WORK/keys.all")"
	assert_eq "distinct keys in the file" "$ROWS" "$(sort -u "$WORK/keys.all" | wc -l)"
	seed_keys "$WORK/keys.all" "$UNRELATED"

	# The watcher: delete events of every key, checked against the table.
	rcli CONFIG SET notify-keyspace-events Eg >/dev/null
	rcli CONFIG SET client-output-buffer-limit 'pubsub 0 0 0' >/dev/null
	python3 "$HERE/cache_watch.py" "$REDIS_SOCKET" orders "$WORK/watch.ready" "$WORK/watch.stop" \
		"$WORK/watch.report" 2>"$WORK/watch.err" &
	WATCH_PID=$!
	# The subscriber of --publish.
	rcli SUBSCRIBE "$CHANNEL" >"$WORK/sub.out" 2>&1 &
	SUB_PID=$!
	wait_until 30 "the watcher to subscribe" test -e "$WORK/watch.ready" ||
		die "the watcher did not start: $(cat "$WORK/watch.err")"
	wait_until 30 "redis-cli to subscribe" \
		subscribed "$CHANNEL" ||
		die "redis-cli SUBSCRIBE did not start"

	load main --table orders --batch-rows "$BATCH_ROWS" --redis "$EDONU_TEST_REDIS" \
		--invalidate "$KEY_TEMPLATE" --publish "$CHANNEL" --state-dir "$WORK/state" "$input"
	check "exit code (rejects)" 65 "$RC"
	check "rows in the table" 98000 "$(psql_q 'SELECT count(*) FROM orders')"
	check "summary loaded" 98000 "$(sum_field main loaded)"
	check "summary rejected" 2000 "$(sum_field main rejected)"
	check "summary keys_invalidated" 98000 "$(sum_field main keys_invalidated)"
	check "summary keys_pending" 0 "$(sum_field main keys_pending)"
	check_true "summary redis_round_trips > 0" test "$(sum_field main redis_round_trips)" -gt 0

	# Must hold 1: exactly the rejected records' keys and the unrelated
	# ones are left.
	check "keys left in Redis" 3000 "$(rcli DBSIZE)"
	expected_left "$WORK/keys.bad" "$UNRELATED" "$WORK/left.expected"
	redis_key_list "$WORK/left.actual"
	same_keys "keys left = rejected records' keys + unrelated keys" "$WORK/left.expected" "$WORK/left.actual"
	# The rejected records are those not in the table.
	psql_q "SELECT 'erp:' || tenant_id || ':order:' || order_id FROM orders" | LC_ALL=C sort >"$WORK/table.keys"
	same_keys "keys of the table's rows = keys of the good records" "$WORK/keys.good" "$WORK/table.keys"

	# Commit, then invalidate: no key went before its row was visible.
	touch "$WORK/watch.stop"
	wait_until 60 "the watcher to finish" test -s "$WORK/watch.report" ||
		die "the watcher did not report: $(cat "$WORK/watch.err")"
	wait "$WATCH_PID" || die "the watcher failed: $(cat "$WORK/watch.err")"
	WATCH_PID=
	local report
	report="$(head -n 1 "$WORK/watch.report")"
	note "watcher: $report"
	grep '^early' "$WORK/watch.report" >&2 || true
	check "delete events seen by the watcher" 98000 "$(awk '{print $2}' <<<"$report")"
	check "keys deleted before their row was visible" 0 "$(awk '{print $6}' <<<"$report")"
	check_true "the watcher checked the table during the load (more than one check)" \
		test "$(awk '{print $4}' <<<"$report")" -gt 1

	# --publish: every invalidated key announced.
	wait_until 30 "the published keys to arrive" published_count_is 98000 ||
		note "only $(published_keys "$WORK/sub.out" | wc -l) published keys arrived"
	kill "$SUB_PID" 2>/dev/null || true
	wait "$SUB_PID" 2>/dev/null || true
	SUB_PID=
	published_keys "$WORK/sub.out" | LC_ALL=C sort -u >"$WORK/published"
	same_keys "published keys = keys of the committed rows" "$WORK/keys.good" "$WORK/published"

	# --bump: a version key for the table and one per tenant, INCRed once
	# per chunk that committed a row of it.
	rcli FLUSHALL >/dev/null
	orders_table orders_bump
	local binput="$WORK/bump.csv"
	"$EDONU_INGEST" gen --rows "$BUMP_ROWS" --seed 5 --bad-every "$BAD_EVERY" -o "$binput"
	load bump --table orders_bump --batch-rows "$BUMP_BATCH_ROWS" --redis "$EDONU_TEST_REDIS" \
		--invalidate "$KEY_TEMPLATE" --bump 'erp:orders:version' --bump 'erp:{tenant_id}:orders:version' \
		--state-dir "$WORK/state" "$binput"
	check "bump: exit code (rejects)" 65 "$RC"
	check "bump: rows" 9800 "$(psql_q 'SELECT count(*) FROM orders_bump')"
	check "bump: chunks in the ledger (count, fewest and most records)" \
		"$((BUMP_ROWS / BUMP_BATCH_ROWS)) $BUMP_BATCH_ROWS $BUMP_BATCH_ROWS" \
		"$(psql_q "SELECT count(*) || ' ' || min(records) || ' ' || max(records) FROM edonu_ingest.chunks WHERE target LIKE '%orders_bump%'")"
	check "bump: erp:orders:version = chunks" "$((BUMP_ROWS / BUMP_BATCH_ROWS))" "$(rcli GET erp:orders:version)"
	# Per tenant: the chunks (records 1-100, 101-200, ...) holding a
	# good record of the tenant.
	python3 - "$binput" "$BAD_EVERY" "$BUMP_BATCH_ROWS" >"$WORK/bump.expected" <<-'EOF'
		import csv, sys
		chunks = {}
		with open(sys.argv[1], newline="", errors="surrogateescape") as f:
		    r = csv.reader(f)
		    h = next(r)
		    ti = h.index("tenant_id")
		    for n, rec in enumerate(r, 1):
		        if n % int(sys.argv[2]):
		            chunks.setdefault(rec[ti], set()).add((n - 1) // int(sys.argv[3]))
		for t in sorted(chunks, key=int):
		    print("erp:%s:orders:version %d" % (t, len(chunks[t])))
	EOF
	local k
	while read -r k _; do
		printf '%s %s\n' "$k" "$(rcli GET "$k")"
	done <"$WORK/bump.expected" >"$WORK/bump.actual"
	if cmp -s "$WORK/bump.expected" "$WORK/bump.actual"; then
		note "ok: bump: $(wc -l <"$WORK/bump.actual") per-tenant version keys = chunks with a row of the tenant"
	else
		diff "$WORK/bump.expected" "$WORK/bump.actual" | head -n 10 >&2 || true
		check "bump: per-tenant version keys = chunks with a row of the tenant" same different
	fi
	check "bump: keys in Redis = version keys only" "$(($(wc -l <"$WORK/bump.expected") + 1))" "$(rcli DBSIZE)"
	finish
}

main "$@"
