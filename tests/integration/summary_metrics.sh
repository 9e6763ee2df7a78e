#!/usr/bin/env bash
# Proves that a load of 50k orders records of which 500 are bad, run with
# --summary S --metrics-textfile M, reports 49500 loaded and 500 rejected in
# both S and M, matching the table's count (and read = loaded + rejected +
# skipped), that M is valid Prometheus text format by `promtool check
# metrics` and was written atomically (no temporary file left beside it),
# and that /metrics served with --metrics-listen during a 1M-record load
# answers 200 with edonu_ingest_up 1 and a loaded count that grows while the
# load runs.  Exits 77 (skip) only when promtool is not installed, after
# every other check has passed.
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

BIG_ROWS=1000000

# metric FILE OUTCOME: edonu_ingest_records_total{...,outcome=OUTCOME} in a
# Prometheus text file ("none" when absent).
metric() {
	awk -v o="outcome=\"$2\"" '$1 ~ /^edonu_ingest_records_total\{/ && index($1, o) { v = $2 }
		END { print (v == "" ? "none" : v) }' "$1"
}

# free_port: a loopback port nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# scraper URL OUT: scrapes URL every 20 ms once it answers, one line per
# scrape into OUT: "STATUS UP LOADED"; ends when the server stops answering
# after having answered, or after 120 s.
scraper() {
	python3 - "$1" "$2" <<-'EOF'
		import sys, time, urllib.error, urllib.request
		url, out = sys.argv[1], sys.argv[2]
		seen = False
		deadline = time.monotonic() + 120
		with open(out, "w", buffering=1) as f:
		    while time.monotonic() < deadline:
		        try:
		            with urllib.request.urlopen(url, timeout=5) as r:
		                body = r.read().decode()
		                status = r.status
		        except urllib.error.HTTPError as e:
		            status, body = e.code, ""
		        except OSError:
		            if seen:
		                break
		            time.sleep(0.02)
		            continue
		        seen = True
		        up = loaded = "none"
		        for line in body.splitlines():
		            if line.startswith("edonu_ingest_up"):
		                up = line.split()[-1]
		            elif line.startswith("edonu_ingest_records_total") and 'outcome="loaded"' in line:
		                loaded = line.split()[-1]
		        f.write(f"{status} {up} {loaded}\n")
		        time.sleep(0.02)
	EOF
}

# never_down FILE: the loaded counts of the scrapes never decrease.
never_down() {
	awk 'NR > 1 && $3 + 0 < prev { exit 1 } { prev = $3 + 0 }' "$1"
}

# seen_midway FILE: a scrape saw a loaded count above 0 and below BIG_ROWS.
seen_midway() {
	awk -v n="$BIG_ROWS" '$3 + 0 > 0 && $3 + 0 < n { found = 1 } END { exit !found }' "$1"
}

# scraped_once FILE: the scraper has a first answer (or the loader is gone).
scraped_once() {
	loader_gone || [[ -s "$1" ]]
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	command -v python3 >/dev/null || die "python3 is needed to scrape /metrics"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-metrics.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	pg_start
	orders_table orders

	# --- summary and textfile agree with the table ----------------------
	local input="$WORK/orders-50k.csv" prom_dir="$WORK/textfile" prom
	prom="$prom_dir/edonu-ingest.prom"
	mkdir "$prom_dir"
	"$EDONU_INGEST" gen --rows 50000 --seed 21 --bad-every 100 -o "$input"
	load small --table orders --metrics-textfile "$prom" "$input"
	[[ "$RC" == 65 ]] || show_err small
	check "exit code with rejects" 65 "$RC"
	local rows
	rows="$(psql_q 'SELECT count(*) FROM orders')"
	check "table: rows" 49500 "$rows"
	check "summary: loaded" "$rows" "$(sum_field small loaded)"
	check "summary: rejected" 500 "$(sum_field small rejected)"
	check "summary: skipped" 0 "$(sum_field small skipped)"
	check "summary: records_read = loaded + rejected + skipped" "$(sum_field small records_read)" \
		"$(($(sum_field small loaded) + $(sum_field small rejected) + $(sum_field small skipped)))"
	check_true "textfile written" test -s "$prom"
	check "textfile: loaded" "$rows" "$(metric "$prom" loaded)"
	check "textfile: rejected" 500 "$(metric "$prom" rejected)"
	check "textfile: skipped" 0 "$(metric "$prom" skipped)"
	check "textfile: the only file in its directory (renamed into place)" edonu-ingest.prom "$(files_in "$prom_dir")"

	# --- /metrics during a 1M-record load -------------------------------
	# The load waits behind a lock on the table while the first scrape
	# comes, then runs one worker in small batches so that scrapes see it
	# grow.
	local big="$WORK/orders-1m.csv" port url scrapes="$WORK/scrapes.txt" scraper_pid
	"$EDONU_INGEST" gen --rows "$BIG_ROWS" --seed 22 -o "$big"
	psql_q 'TRUNCATE orders' >/dev/null
	port="$(free_port)"
	url="http://127.0.0.1:$port/metrics"
	table_lock_take orders
	load_bg big --table orders --workers 1 --batch-rows 2000 --metrics-listen "127.0.0.1:$port" "$big"
	scraper "$url" "$scrapes" &
	scraper_pid=$!
	on_exit "kill $scraper_pid 2>/dev/null || true"
	wait_until "$WAIT_TIMEOUT_S" "a first scrape of $url" scraped_once "$scrapes" || true
	loader_gone && { show_err big; die "the load ended before the table was released"; }
	check "/metrics while waiting: status, up, loaded" "200 1 0" "$(head -n 1 "$scrapes")"
	local code
	code="$(python3 -c 'import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=5)
    print(200)
except urllib.error.HTTPError as e:
    print(e.code)' "http://127.0.0.1:$port/nothing-here")"
	check "another path: 404" 404 "$code"
	table_lock_release
	wait_until "$LOAD_TIMEOUT_S" "the 1M load to finish" loader_gone || die "the 1M load did not finish"
	reap "$LOADER_PID"
	[[ "$RC" == 0 ]] || show_err big
	check "1M load: exit code" 0 "$RC"
	wait "$scraper_pid" || die "the scraper failed"
	note "$(wc -l <"$scrapes") scrapes; loaded seen: $(awk '{ print $3 }' "$scrapes" | uniq | tr '\n' ' ')"
	check "/metrics: every scrape 200" "" "$(awk '$1 != 200' "$scrapes")"
	check "/metrics: up 1 in every scrape while running" "" "$(awk '$2 != 1' "$scrapes")"
	check_true "/metrics: loaded never goes down" never_down "$scrapes"
	check_true "/metrics: loaded seen strictly between 0 and $BIG_ROWS (growing)" seen_midway "$scrapes"
	check "1M load: rows" "$BIG_ROWS" "$(psql_q 'SELECT count(*) FROM orders')"
	check "1M load: summary's loaded" "$BIG_ROWS" "$(sum_field big loaded)"

	# --- the exposition by Prometheus's own checker ---------------------
	finish
	command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus); all else passed"
	local rc=0
	promtool check metrics <"$prom" >"$WORK/promtool.out" 2>&1 || rc=$?
	if [[ $rc -ne 0 || -s "$WORK/promtool.out" ]]; then
		cat "$WORK/promtool.out" >&2
		die "promtool check metrics rejects $prom (exit $rc)"
	fi
	note "ok: promtool check metrics accepts the textfile"
}

main "$@"
