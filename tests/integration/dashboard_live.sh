#!/usr/bin/env bash
# Proves that --metrics-listen serves the live dashboard while a load runs,
# and that what it shows is the load's own account:
#   (a) load: a file loaded by an earlier run (skipped), a fresh file, then
#       standard input from a pipe the test holds open (upserts with
#       --on-conflict ignore, bad records, Redis invalidation). Once every
#       record written to the pipe is counted, GET / is a text/html page
#       that names no other host (no http:// or https:// in it), GET /stats
#       is JSON whose records loaded / rejected / ignored / skipped, bytes
#       read and keys invalidated equal the final summary's once the test
#       closes the pipe (so bytes read count every input, the file before
#       the pipe included), and headless Chromium renders the page with
#       those same figures in its DOM (the tiles, a row per input, a bar
#       chart per worker, the records/s chart), with no console error and
#       no request to anything but the loader.
#   (b) run: a spool of four files where the third waits behind a row
#       another session inserted and has not committed: /stats and the
#       rendered page show 1 done, 1 failed (its rejects), the third
#       loading and 1 waiting; once the row is rolled back the run files
#       the rest.
# Waits are on events (counts in /stats, a lock waiter), never on time.
# Exits 77 (skip) when Chromium is not installed (Debian: apt-get install
# chromium, which scripts/setup.sh does), after every other check passed.
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

BROWSER="$HERE/browser.py"
TEMPLATE='erp:{tenant_id}:order:{order_id}'
# Records a chunk holds: the pipe's records are a whole number of chunks,
# so that every one of them commits while the pipe stays open.
BATCH=100
HAVE_CHROMIUM=1

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# http_get URL BODY: fetches URL into BODY; prints "STATUS CONTENT-TYPE".
http_get() {
	python3 - "$1" "$2" <<-'EOF'
		import sys, urllib.error, urllib.request
		try:
		    with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
		        body, status, ctype = r.read(), r.status, r.headers.get("Content-Type", "")
		except urllib.error.HTTPError as e:
		    body, status, ctype = e.read(), e.code, e.headers.get("Content-Type", "")
		except OSError:
		    body, status, ctype = b"", 0, "none"
		open(sys.argv[2], "wb").write(body)
		print(status, ctype)
	EOF
}

# stats_now PORT: /stats into $WORK/stats.json; fails when it does not
# answer 200.
stats_now() {
	[[ "$(http_get "http://127.0.0.1:$1/stats" "$WORK/stats.json")" == "200 application/json"* ]]
}

# stats_q JQ: a field of the last /stats.
stats_q() {
	jq -r "$1" "$WORK/stats.json"
}

# stats_processed_is PORT N: /stats counts N records loaded, rejected or
# ignored (or the loader is gone).
stats_processed_is() {
	loader_gone && return 0
	stats_now "$1" || return 1
	(($(stats_q '.records.loaded + .records.rejected + .records.ignored') == $2))
}

# stats_keys_acknowledged PORT: no key of a committed chunk is pending.
stats_keys_acknowledged() {
	loader_gone && return 0
	stats_now "$1" || return 1
	(($(stats_q .cache.keys_pending) == 0))
}

# browse NAME URL WAIT EVALS...: renders URL in Chromium until the
# JavaScript WAIT holds; its report goes to $WORK/NAME.browser.json and the
# rendered DOM to $WORK/NAME.dom.html. Returns its exit code.
browse() {
	local name="$1" url="$2" wait="$3" rc=0
	shift 3
	local evals=()
	for e in "$@"; do
		evals+=(--eval "$e")
	done
	python3 "$BROWSER" --timeout "$WAIT_TIMEOUT_S" --wait "$wait" "${evals[@]}" --dom "$WORK/$name.dom.html" \
		"$url" >"$WORK/$name.browser.json" 2>"$WORK/$name.browser.err" || rc=$?
	return "$rc"
}

# jq_true FILE EXPR: the jq expression holds for the JSON in FILE.
jq_true() {
	jq -e "$2" "$1" >/dev/null
}

# value ID: the JavaScript that reads a dashboard figure's raw value.
value() {
	echo "document.getElementById('$1').dataset.value"
}

# check_page NAME PORT: the report of browse NAME has no error and
# made no request but to the loader.
check_page() {
	local name="$1" report="$WORK/$1.browser.json"
	check "$name: browser errors" "[]" "$(jq -c .errors "$report")"
	check "$name: requests to anything but the loader" "[]" \
		"$(jq -c --arg base "http://127.0.0.1:$2/" '[.requests[] | select(startswith($base) | not)]' "$report")"
	check_true "$name: the page polled /stats" jq_true "$report" '[.requests[] | select(endswith("/stats"))] | length >= 1'
}

# (a) load: a skipped file, a fresh one and a pipe.
live_load() {
	local done_csv="$WORK/a-done.csv" fresh="$WORK/b-fresh.csv" pipe_csv="$WORK/pipe.csv" fifo="$WORK/in" port
	local opts=(--table orders --workers 2 --on-conflict ignore --key "tenant_id,order_id" --batch-rows "$BATCH"
		--redis "$EDONU_TEST_REDIS" --invalidate "$TEMPLATE" --state-dir "$WORK/state")
	"$EDONU_INGEST" gen --rows 600 --seed 41 --bad-every 100 -o "$done_csv"
	"$EDONU_INGEST" gen --rows 400 --seed 42 --bad-every 50 -o "$fresh"
	load first "${opts[@]}" "$done_csv"
	check "first load of $done_csv: exit (rejects)" 65 "$RC"

	# The pipe's records: 500 with 10 bad, then the same 500 again (their
	# keys are there now: ignored, the bad ones rejected again).
	"$EDONU_INGEST" gen --rows 500 --seed 43 --bad-every 50 -o "$pipe_csv"
	tail -n +2 "$pipe_csv" >>"$pipe_csv.twice"
	cat "$pipe_csv" "$pipe_csv.twice" >"$pipe_csv.all"
	local pipe_records=1000 pipe_bytes
	pipe_bytes="$(stat -c %s "$pipe_csv.all")"

	mkfifo "$fifo"
	port="$(free_port)"
	"$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never --summary "$WORK/live.json" "${opts[@]}" \
		--source-id dashboard-pipe --metrics-listen "127.0.0.1:$port" "$done_csv" "$fresh" - \
		<"$fifo" 2>"$WORK/live.err" &
	LOADER_PID=$!
	exec 7>"$fifo"
	cat "$pipe_csv.all" >&7
	wait_until "$WAIT_TIMEOUT_S" "/stats to count the pipe's records" \
		stats_processed_is "$port" $((400 + pipe_records)) || die "/stats never counted every record"
	# A worker with no chunk waiting takes Redis's replies at once: on an
	# idle pipe no key stays pending.
	wait_until "$WAIT_TIMEOUT_S" "the keys of the pipe's chunks to be acknowledged" \
		stats_keys_acknowledged "$port" || FAILED+=("live: keys stayed pending on an idle pipe")
	loader_gone && { show_err live; die "the load ended while its input was open"; }

	# The page: HTML, and no other host named anywhere in it.
	local head
	head="$(http_get "http://127.0.0.1:$port/" "$WORK/page.html")"
	check "GET /: status and type" "200 text/html; charset=utf-8" "$head"
	check "GET /: references to another host (http:// or https://)" "" \
		"$(grep -oiE 'https?://[^"'\'' )]*' "$WORK/page.html" | sort -u | tr '\n' ' ')"
	check_true "GET /: an HTML document" grep -q '^<!DOCTYPE html>' "$WORK/page.html"
	check "GET /metrics still answers" "200" "$(http_get "http://127.0.0.1:$port/metrics" "$WORK/m.txt" | cut -d' ' -f1)"

	stats_now "$port" || die "/stats stopped answering"
	cp "$WORK/stats.json" "$WORK/stats-live.json"
	check "/stats: up" true "$(stats_q .up)"
	check "/stats: command" load "$(stats_q .command)"
	check "/stats: inputs listed" "3" "$(stats_q '.job.files | length')"
	check "/stats: states of the inputs" "skipped read reading" "$(stats_q '[.job.files[].state] | join(" ")')"
	check "/stats: the fresh file read whole" "$(stat -c %s "$fresh") 100" \
		"$(stats_q '.job.files[1] | "\(.bytes) \(.percent)"')"
	check "/stats: the pipe's bytes so far, size unknown" "$pipe_bytes null" \
		"$(stats_q '.job.files[2] | "\(.bytes) \(.size)"')"
	check "/stats: workers listed" "2" "$(stats_q '.workers | length')"
	check_true "/stats: a records/s history" jq_true "$WORK/stats.json" '(.history.records_per_s | type) == "array"'
	check_true "/stats: commits timed" jq_true "$WORK/stats.json" '.commit_seconds.count >= 1 and .commit_seconds.p99 > 0'

	local loaded rejected ignored skipped keys pending
	loaded="$(stats_q .records.loaded)"
	rejected="$(stats_q .records.rejected)"
	ignored="$(stats_q .records.ignored)"
	skipped="$(stats_q .records.skipped)"
	keys="$(stats_q .cache.keys_invalidated)"
	pending="$(stats_q .cache.keys_pending)"
	if ! command -v "${CHROMIUM:-chromium}" >/dev/null; then
		HAVE_CHROMIUM=0
		note "chromium not installed: the rendered page is not checked"
	else
		local wait
		wait="$(value v-loaded) == '$loaded' && $(value v-rejected) == '$rejected' && $(value v-ignored) == '$ignored'"
		wait+=" && $(value v-skipped) == '$skipped' && $(value v-keys-invalidated) == '$keys'"
		wait+=" && $(value v-keys-pending) == '$pending'"
		wait+=" && document.querySelectorAll('#files tr').length == 3"
		browse live "http://127.0.0.1:$port/" "$wait" \
			"[...document.querySelectorAll('#files tr')].map(r => r.dataset.state).join(' ')" \
			"document.querySelectorAll('#chart-rate svg path.line').length" \
			"document.querySelector('#chart-workers').dataset.workers" \
			"document.querySelectorAll('#chart-workers svg rect.bar').length > 0" \
			"document.getElementById('state').textContent" ||
			{ cat "$WORK/live.browser.json" "$WORK/live.browser.err" >&2; FAILED+=("live: the page never showed the load's figures"); }
		check "page: the load's figures in the DOM (loaded $loaded, rejected $rejected, ignored $ignored, skipped $skipped, keys $keys + $pending)" \
			true "$(jq .waited "$WORK/live.browser.json")"
		check "page: input rows by state" "skipped read reading" "$(jq -r '.values[0]' "$WORK/live.browser.json")"
		check "page: the records/s chart has a line" 1 "$(jq -r '.values[1]' "$WORK/live.browser.json")"
		check "page: workers charted" 2 "$(jq -r '.values[2]' "$WORK/live.browser.json")"
		check "page: worker bars drawn" true "$(jq -r '.values[3]' "$WORK/live.browser.json")"
		check "page: state" running "$(jq -r '.values[4]' "$WORK/live.browser.json")"
		check_page live "$port"
		grep -q "data-value=\"$loaded\"" "$WORK/live.dom.html" || FAILED+=("live: the dumped DOM lacks the loaded count")
	fi

	# The end: the summary says what /stats said.
	exec 7>&-
	wait_until "$LOAD_TIMEOUT_S" "the load to end once its input closed" loader_gone || die "the load did not end"
	reap "$LOADER_PID"
	check "live load: exit (rejects)" 65 "$RC"
	check "summary = /stats: loaded" "$loaded" "$(sum_field live loaded)"
	check "summary = /stats: rejected" "$rejected" "$(sum_field live rejected)"
	check "summary = /stats: ignored" "$ignored" "$(sum_field live ignored)"
	check "summary = /stats: skipped" "$skipped" "$(sum_field live skipped)"
	check "/stats: keys pending on the idle pipe" 0 "$pending"
	check "summary = /stats: keys invalidated" "$keys" "$(sum_field live keys_invalidated)"
	check "summary: keys pending" 0 "$(sum_field live keys_pending)"
	check "summary = /stats: bytes read (every input's)" "$(sum_field live bytes)" \
		"$(jq -r .bytes_read "$WORK/stats-live.json")"
	check "skipped: the earlier run's file" 600 "$skipped"
	check "ignored: the pipe's second copy, bad records aside" 490 "$ignored"
	check "the pipe's bytes are in the total" "$(($(stat -c %s "$fresh") + pipe_bytes))" "$(sum_field live bytes)"
}

# holder_insert TABLE TENANT ORDER: another session inserts the key and
# keeps its transaction open until holder_release.
holder_insert() {
	PGAPPNAME="$HOLDER_APP" psql -XAtq -c "BEGIN; INSERT INTO $1 (tenant_id, order_id) VALUES ($2, $3);
		SELECT pg_sleep(3600);" >/dev/null 2>&1 &
	HOLDER_PID=$!
	on_exit "kill $HOLDER_PID 2>/dev/null || true"
	wait_until "$WAIT_TIMEOUT_S" "the holder's insert" holder_has_row || die "the holder did not insert"
}

holder_has_row() {
	(($(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$HOLDER_APP'
		AND wait_event = 'PgSleep'") > 0))
}

# run_state_is PORT DONE FAILED CURRENT: /stats of the run says so and the
# loader waits on a lock (or is gone).
run_state_is() {
	loader_gone && return 0
	stats_now "$1" || return 1
	[[ "$(stats_q '.run | "\(.done) \(.failed) \(.current)"')" == "$2 $3 $4" ]] && (($(lock_waiters) > 0))
}

# (b) run: a spool whose third file waits behind an uncommitted key.
live_run() {
	local spool="$WORK/spool" port key
	psql_q 'CREATE TABLE spooled (LIKE orders, PRIMARY KEY (tenant_id, order_id))' >/dev/null
	mkdir "$spool"
	gen_into "$spool/01-good.csv" 200 51
	gen_into "$spool/02-bad.csv" 200 52 --bad-every 10
	gen_into "$spool/03-blocked.csv" 200 53
	gen_into "$spool/04-waiting.csv" 200 54
	key="$(sed -n 2p "$spool/03-blocked.csv" | cut -d, -f1,2 | tr , ' ')"
	# shellcheck disable=SC2086 # two words: tenant and order
	holder_insert spooled $key
	port="$(free_port)"
	run_spool_bg spool --dsn "$EDONU_TEST_DSN" --table spooled --progress never --spool "$spool" \
		--metrics-listen "127.0.0.1:$port"
	wait_until "$WAIT_TIMEOUT_S" "the run to wait on 03-blocked.csv" run_state_is "$port" 1 1 03-blocked.csv ||
		die "the run's /stats never showed 1 done, 1 failed, 03-blocked.csv loading"
	loader_gone && { show_err spool; die "the run ended before the row was released"; }
	check "run /stats: command" run "$(stats_q .command)"
	check "run /stats: files" "4 1 1 1 0" "$(stats_q '.run | "\(.files_total) \(.done) \(.failed) \(.waiting) \(.left)"')"
	check "run /stats: recent, newest first" "02-bad.csv:failed 01-good.csv:done" \
		"$(stats_q '[.run.recent[] | "\(.name):\(.outcome)"] | join(" ")')"
	check "run /stats: the job's input" "$spool/03-blocked.csv" "$(stats_q '.job.files[0].name')"
	if ((HAVE_CHROMIUM)); then
		local wait
		wait="$(value v-run-done) == '1' && $(value v-run-failed) == '1' && $(value v-run-waiting) == '1'"
		wait+=" && document.querySelectorAll('#run-recent tr').length == 2 && !document.getElementById('run-panel').hidden"
		browse run "http://127.0.0.1:$port/" "$wait" \
			"[...document.querySelectorAll('#run-recent tr')].map(r => r.dataset.name + ':' + r.dataset.outcome).join(' ')" \
			"document.getElementById('run-current').textContent" ||
			{ cat "$WORK/run.browser.json" "$WORK/run.browser.err" >&2; FAILED+=("run: the page never showed the spool's files"); }
		check "run page: done 1, failed 1, waiting 1 in the DOM" true "$(jq .waited "$WORK/run.browser.json")"
		check "run page: recent files" "02-bad.csv:failed 01-good.csv:done" "$(jq -r '.values[0]' "$WORK/run.browser.json")"
		check_true "run page: names the file loading" jq_true "$WORK/run.browser.json" '.values[1] | contains("03-blocked.csv")'
		check_page run "$port"
	fi
	table_lock_release
	wait_until "$LOAD_TIMEOUT_S" "the run to end" loader_gone || die "the run did not end"
	reap "$LOADER_PID"
	check "run: exit (02-bad.csv's rejects)" 65 "$RC"
	check "run: done/" "01-good.csv 03-blocked.csv 04-waiting.csv" "$(files_in "$spool/done" | tr '\n' ' ' | sed 's/ $//')"
	check_true "run: 02-bad.csv in failed/" test -f "$spool/failed/02-bad.csv"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read /stats and the summaries"
	command -v python3 >/dev/null || die "python3 is needed to fetch the pages and drive the browser"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-dashboard.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	on_exit kill_leftover
	pg_start
	redis_start
	orders_table orders
	psql_q 'ALTER TABLE orders ADD PRIMARY KEY (tenant_id, order_id)' >/dev/null

	live_load
	live_run
	finish
	((HAVE_CHROMIUM)) || skip "chromium not installed (Debian package chromium); all else passed"
}

main "$@"
