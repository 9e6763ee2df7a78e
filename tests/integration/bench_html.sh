#!/usr/bin/env bash
# Proves that `edonu-ingest bench --quick --html FILE` writes one
# self-contained page: it names no other host (no http:// or https://), it
# carries exactly the figures --json writes, and headless Chromium renders
# it without a console error or a request beyond the file itself, with SVG
# charts holding a bar for every measured end-to-end line (the binary-COPY
# floor among them) and stage, a CPU chart when the figures carry CPU
# seconds, the PostgreSQL and Redis versions in its machine table and a raw
# table per section. Also that an --html path that cannot be written fails at once
# (exit 78, naming it), before the suite runs. Exits 77 (skip) when
# Chromium is not installed (Debian: apt-get install chromium, which
# scripts/setup.sh does), after every other check passed.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

# --quick promises a minute; the bound leaves room for a slow CI machine.
BENCH_TIMEOUT_S="${BENCH_TIMEOUT_S:-300}"

# jq_true FILE EXPR [JQ ARGS...]: the jq expression holds for the JSON in FILE.
jq_true() {
	local file="$1" expr="$2"
	shift 2
	jq -e "$@" "$expr" "$file" >/dev/null
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the report's figures"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-bench-html.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	local rc=0 html="$WORK/report.html" json="$WORK/bench.json"

	# A path that cannot be written: at once, before any server starts.
	"$EDONU_INGEST" bench --quick --html "$WORK/no-such-dir/report.html" >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
	check "--html in a missing directory: exit" 78 "$rc"
	check_true "--html in a missing directory: the message names it" grep -q "cannot write --html $WORK/no-such-dir/report.html" "$WORK/bad.err"
	check "--html in a missing directory: nothing on stdout (the suite did not run)" "" "$(cat "$WORK/bad.out")"

	pg_start
	redis_start
	rc=0
	timeout "$BENCH_TIMEOUT_S" "$EDONU_INGEST" bench --quick --dsn "$EDONU_TEST_DSN" --redis "$EDONU_TEST_REDIS" \
		--json "$json" --html "$html" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
	if [[ "$rc" != 0 ]]; then
		cat "$WORK/out.txt" "$WORK/err.txt" >&2
		die "bench --quick --html exited $rc"
	fi
	check_true "the report is written" test -s "$html"
	check "references to another host in the report (http:// or https://)" "" \
		"$(grep -oiE 'https?://[^"'\'' )]*' "$html" | sort -u | tr '\n' ' ')"

	# The figures in the page are --json's, byte for byte once parsed.
	python3 - "$html" "$json" >"$WORK/same.txt" 2>&1 <<-'PY' || true
		import html.parser, json, sys
		class P(html.parser.HTMLParser):
		    data, inside = None, False
		    def handle_starttag(self, tag, attrs):
		        self.inside = tag == "script" and ("id", "bench-data") in attrs
		    def handle_data(self, d):
		        if self.inside:
		            self.data = (self.data or "") + d
		    def handle_endtag(self, tag):
		        self.inside = False
		p = P()
		p.feed(open(sys.argv[1], encoding="utf-8").read())
		print("same" if p.data is not None and json.loads(p.data) == json.load(open(sys.argv[2])) else "differ")
	PY
	check "the page's figures = --json's" same "$(cat "$WORK/same.txt")"
	check "the machine names PostgreSQL" true "$(jq '.machine.postgresql | length > 0' "$json")"
	check "the machine names Redis" true "$(jq '.machine.redis | length > 0' "$json")"
	check "every figure has a label" "[]" "$(jq -c '[(.stages, .end_to_end) | to_entries[] | select(.value | type == "object") | select(.value.label == null) | .key]' "$json")"

	if ! command -v "${CHROMIUM:-chromium}" >/dev/null; then
		finish
		skip "chromium not installed (Debian package chromium); all else passed"
	fi
	local e2e stages pg redis
	e2e="$(jq '[.end_to_end[] | objects | select(.records_per_minute != null)] | length' "$json")"
	stages="$(jq '[.stages[] | select(.records_per_minute != null)] | length' "$json")"
	pg="$(jq -r .machine.postgresql "$json")"
	redis="$(jq -r .machine.redis "$json")"
	rc=0
	python3 "$HERE/browser.py" --timeout "$WAIT_TIMEOUT_S" --wait "document.body.dataset.rendered == '1'" \
		--eval "document.querySelectorAll('svg.chart').length" \
		--eval "document.querySelectorAll('#chart-e2e svg rect.bar').length" \
		--eval "document.querySelectorAll('#chart-stages svg rect.bar').length" \
		--eval "document.querySelectorAll('#chart-e2e svg line.ref').length" \
		--eval "document.getElementById('machine').textContent" \
		--eval "[...document.querySelectorAll('#raw-tables table')].map(t => t.dataset.section).join(' ')" \
		--eval "document.getElementById('verdict').className" \
		--eval "!document.getElementById('cpu-panel').hidden && document.querySelectorAll('#chart-cpu svg rect.bar').length > 0" \
		--dom "$WORK/report.dom.html" "file://$html" >"$WORK/browser.json" 2>"$WORK/browser.err" || rc=$?
	[[ "$rc" == 0 ]] || cat "$WORK/browser.json" "$WORK/browser.err" >&2
	check "chromium rendered the report" 0 "$rc"
	check "console errors and exceptions" "[]" "$(jq -c .errors "$WORK/browser.json")"
	check "requests beyond the file" "[]" "$(jq -c --arg f "file://$html" '[.requests[] | select(. != $f)]' "$WORK/browser.json")"
	check_true "SVG charts (at least end to end and stages)" jq_true "$WORK/browser.json" '.values[0] >= 2'
	check "a bar per measured end-to-end line" "$e2e" "$(jq '.values[1]' "$WORK/browser.json")"
	check "a bar per measured stage" "$stages" "$(jq '.values[2]' "$WORK/browser.json")"
	check "the floor drawn on the end-to-end chart" 1 "$(jq '.values[3]' "$WORK/browser.json")"
	# shellcheck disable=SC2016 # $pg and $r are jq's variables
	check_true "the machine table names PostgreSQL $pg and Redis $redis" \
		jq_true "$WORK/browser.json" '.values[4] | contains($pg) and contains($r)' --arg pg "$pg" --arg r "$redis"
	# --quick measures no scaling: its section has no figure, hence no table.
	check "raw tables" "stages end_to_end" "$(jq -r '.values[5]' "$WORK/browser.json")"
	check "verdict" "badge pass" "$(jq -r '.values[6]' "$WORK/browser.json")"
	# The CPU chart is there exactly when the figures have CPU fields.
	check "a CPU chart when the figures have CPU seconds" \
		"$(jq '[.end_to_end[] | objects | keys[] | select(test("cpu"))] | length > 0' "$json")" \
		"$(jq '.values[7]' "$WORK/browser.json")"
	finish
}

main "$@"
