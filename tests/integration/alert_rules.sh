#!/usr/bin/env bash
# Proves that deploy/grafana/ holds what Prometheus and Grafana accept:
# `promtool check rules` passes the alert rules without a complaint and
# `promtool test rules` passes their tests (when each alert fires, for
# which table, with which text); the Grafana dashboard is valid JSON whose
# panels have unique ids, fit the 24-column grid without overlapping, take
# the ${datasource} variable, and whose every query is PromQL that
# Prometheus parses (checked as recording rules by promtool); and every
# edonu_ingest_* series the rules and the dashboard name is one the loader
# exports (the metrics unit test's every-metric sample), with the table
# label they aggregate by. Skips (77) only when promtool is not installed
# (Debian: apt-get install prometheus, which scripts/setup.sh does), after
# the checks that need no promtool passed.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

GRAFANA="$SOURCE_ROOT/deploy/grafana"
RULES="$GRAFANA/edonu-ingest.rules.yml"
RULE_TESTS="$GRAFANA/edonu-ingest.rules.test.yml"
DASHBOARD="$GRAFANA/edonu-ingest.dashboard.json"
TEST_METRICS="${TEST_METRICS:-$(dirname "$EDONU_INGEST")/tests/test_metrics}"

main() {
	command -v python3 >/dev/null || die "python3 is needed to read the dashboard"
	[[ -x "$TEST_METRICS" ]] || die "no unit test binary at $TEST_METRICS; build the tests first"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-alerts.XXXXXX")"
	on_exit "rm -rf '$WORK'"

	# The exposition with every metric, as the loader renders it.
	METRICS_SAMPLE_OUT="$WORK/sample.prom" "$TEST_METRICS" >"$WORK/unit.out" 2>&1 ||
		{ cat "$WORK/unit.out" >&2; die "test_metrics failed"; }

	# The dashboard's shape, its queries as recording rules for promtool,
	# and the series names the rules and the dashboard use.
	local rc=0
	python3 - "$DASHBOARD" "$RULES" "$WORK/sample.prom" "$WORK/queries.rules.yml" >"$WORK/shape.txt" 2>&1 <<-'PY' || rc=$?
		import json, re, sys
		dash_path, rules_path, sample_path, out_path = sys.argv[1:]
		problems = []
		d = json.load(open(dash_path))
		if d.get("uid") != "edonu-ingest":
		    problems.append(f"uid {d.get('uid')!r}")
		variables = {v["name"]: v for v in d["templating"]["list"]}
		if variables.get("datasource", {}).get("query") != "prometheus":
		    problems.append("no prometheus datasource variable")
		if "table" not in variables:
		    problems.append("no table variable")
		ids, cells, exprs = set(), {}, []
		for p in d["panels"]:
		    if p["id"] in ids:
		        problems.append(f"panel id {p['id']} twice")
		    ids.add(p["id"])
		    g = p["gridPos"]
		    if g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24:
		        problems.append(f"panel {p['title']!r} leaves the 24-column grid")
		    for x in range(g["x"], g["x"] + g["w"]):
		        for y in range(g["y"], g["y"] + g["h"]):
		            if (x, y) in cells:
		                problems.append(f"panels {cells[(x, y)]!r} and {p['title']!r} overlap at {x},{y}")
		            cells[(x, y)] = p["title"]
		    if p["datasource"].get("uid") != "${datasource}":
		        problems.append(f"panel {p['title']!r} does not take the datasource variable")
		    if not p.get("targets"):
		        problems.append(f"panel {p['title']!r} has no query")
		    for t in p.get("targets", []):
		        if t.get("datasource", {}).get("uid") != "${datasource}":
		            problems.append(f"a query of {p['title']!r} does not take the datasource variable")
		        exprs.append((p["title"], t["expr"]))
		# Grafana's variables as Prometheus would get them.
		def concrete(e):
		    return e.replace("$__rate_interval", "1m").replace("$table", ".*")
		with open(out_path, "w") as f:
		    f.write("groups:\n  - name: dashboard\n    rules:\n")
		    for i, (_, e) in enumerate(exprs):
		        f.write(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(concrete(e))}\n")
		# Every series named exists in the exposition, labelled by table.
		exported = {}
		for line in open(sample_path):
		    m = re.match(r"(edonu_ingest_\w+)(\{[^}]*\})? ", line)
		    if m:
		        exported.setdefault(m.group(1), set()).add(m.group(2) or "")
		used = set()
		for _, e in exprs:
		    used |= set(re.findall(r"edonu_ingest_\w+", e))
		used |= set(re.findall(r"edonu_ingest_\w+", open(rules_path).read()))
		for name in sorted(used):
		    if name not in exported:
		        problems.append(f"{name} is not a series the loader exports")
		    elif not all('table="' in labels for labels in exported[name]):
		        problems.append(f"{name} lacks the table label")
		print(f"{len(d['panels'])} panels, {len(exprs)} queries, {len(used)} series names")
		for p in problems:
		    print("problem:", p)
		sys.exit(1 if problems else 0)
	PY
	cat "$WORK/shape.txt" >&2
	check "dashboard and series names: problems" 0 "$rc"

	command -v promtool >/dev/null || { finish; skip "promtool not installed (Debian package prometheus); all else passed"; }
	local out
	rc=0
	out="$(promtool check rules "$RULES" 2>&1)" || rc=$?
	printf '%s\n' "$out" >&2
	check "promtool check rules: exit" 0 "$rc"
	check_true "promtool check rules: the three alerts, no lint" grep -q 'SUCCESS: 3 rules found' <<<"$out"
	rc=0
	out="$(cd "$GRAFANA" && promtool test rules "$(basename "$RULE_TESTS")" 2>&1)" || rc=$?
	printf '%s\n' "$out" >&2
	check "promtool test rules: exit" 0 "$rc"
	check_true "promtool test rules: SUCCESS" grep -q 'SUCCESS' <<<"$out"
	rc=0
	out="$(promtool check rules "$WORK/queries.rules.yml" 2>&1)" || rc=$?
	[[ "$rc" == 0 ]] || printf '%s\n' "$out" >&2
	check "promtool parses every dashboard query: exit" 0 "$rc"
	finish
}

main "$@"
