#!/usr/bin/env bash
# Proves that the files in deploy/ are valid for the tools that read them
# (deploy/grafana/ has a test of its own, alert_rules.sh) and each says what
# it is for (a comment first; a JSON file: its description):
# `systemd-analyze verify` accepts the systemd units without a single warning
# (with ExecStart pointed at the built binary, which verify requires to
# exist); the Kubernetes manifests parse as YAML and hold the fields the
# batch job depends on (CronJob with concurrencyPolicy Forbid, Indexed Job
# with --shard $(JOB_COMPLETION_INDEX)/N, non-root, read-only root); the
# example configuration, and the one in the ConfigMap, parse as INI and use
# only keys that are options of `edonu-ingest load --help` or `run --help`,
# and the binary reads them (commented-out keys enabled too) up to the missing
# input, exit 66; the cron line is valid bash.  Exit 77 (skip) when systemd-analyze or
# python3's yaml module is missing and everything else passed.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

DEPLOY="$SOURCE_ROOT/deploy"
UNITS=(edonu-ingest.service edonu-ingest.timer edonu-ingest@.service edonu-ingest@.timer)
# Options of `run` that the check accepts while the binary has no `run --help`.
RUN_OPTIONS_FALLBACK=(spool settle shard analyze)
# The path the units, the cron line and the manifests run the binary from.
INSTALLED_BINARY=/usr/local/bin/edonu-ingest

FAILED=()
SKIPPED=()

fail() {
	note "FAIL: $*"
	FAILED+=("$1")
}

[[ -x "$EDONU_INGEST" ]] || die "no edonu-ingest binary at $EDONU_INGEST (set EDONU_INGEST)"
command -v python3 >/dev/null || die "python3 is required"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/deploy_verify.XXXXXX")"
on_exit "rm -rf '$WORK'"

# --- every file says what it is for -----------------------------------------

# JSON has no comments: a .json file (the Grafana dashboard) says it in its
# top-level "description".
while IFS= read -r -d '' f; do
	# SQL comments start with --, the others' with #.
	lead="#"
	[[ "$f" == *.sql ]] && lead="--"
	if [[ "$f" == *.json ]]; then
		python3 -c 'import json, sys; sys.exit(0 if str(json.load(open(sys.argv[1])).get("description", "")).strip() else 1)' \
			"$f" 2>/dev/null || fail "${f#"$SOURCE_ROOT"/}: is not JSON with a description"
	elif [[ "$(head -c ${#lead} "$f")" != "$lead" ]]; then
		fail "${f#"$SOURCE_ROOT"/}: does not start with a comment"
	fi
done < <(find "$DEPLOY" -type f -print0)
note "ok: deploy/ files start with a comment (JSON: have a description)"

# --- known option names -------------------------------------------------------

# option_names CMD: the long option names `edonu-ingest CMD --help` lists, one
# a line, without dashes; fails when the command has no --help.
option_names() {
	local text
	text="$("$EDONU_INGEST" "$1" --help 2>/dev/null)" || return 1
	sed -n -E 's/^[[:space:]]+--([a-z][a-z0-9-]*).*/\1/p' <<<"$text"
}

KNOWN="$WORK/known-options"
option_names load >"$KNOWN" || die "edonu-ingest load --help failed"
[[ -s "$KNOWN" ]] || die "no options found in edonu-ingest load --help"
if option_names run >>"$KNOWN"; then
	note "ok: option names from load --help and run --help"
else
	note "no run --help in this build: load --help plus ${RUN_OPTIONS_FALLBACK[*]}"
	printf '%s\n' "${RUN_OPTIONS_FALLBACK[@]}" >>"$KNOWN"
fi

# --- systemd units --------------------------------------------------------------

verify_units() {
	local dir="$WORK/units" out="$WORK/verify.out" rc=0 u line bad=0
	mkdir -p "$dir"
	for u in "${UNITS[@]}"; do
		[[ -f "$DEPLOY/systemd/$u" ]] || {
			fail "deploy/systemd/$u is missing"
			return 0
		}
		cp "$DEPLOY/systemd/$u" "$dir/$u"
	done
	for u in edonu-ingest.service edonu-ingest@.service; do
		if ! grep -q "^ExecStart=$INSTALLED_BINARY run " "$dir/$u"; then
			fail "$u: ExecStart does not run $INSTALLED_BINARY run ..."
		fi
		# verify checks that the binary exists: point it at the built one.
		sed -i "s#^ExecStart=$INSTALLED_BINARY #ExecStart=$EDONU_INGEST #" "$dir/$u"
	done

	(cd "$dir" && systemd-analyze verify --man=no "${UNITS[@]/#/./}") >"$out" 2>&1 || rc=$?
	while IFS= read -r line; do
		[[ -n "$line" ]] || continue
		if [[ "$line" == *edonu-ingest* || "$line" == *"$dir"* ]]; then
			note "systemd-analyze: $line"
			bad=1
		else
			note "systemd-analyze (not about our units): $line"
		fi
	done <"$out"
	if ((rc != 0 || bad)); then
		fail "systemd-analyze verify: exit $rc, warnings above"
	else
		note "ok: systemd-analyze verify ${UNITS[*]}: exit 0, no warnings"
	fi

	# The check itself must be able to fail: Restart=always is refused for a
	# oneshot service.
	sed 's/^Restart=on-failure$/Restart=always/' "$dir/edonu-ingest.service" >"$dir/broken.service"
	rc=0
	(cd "$dir" && systemd-analyze verify --man=no ./broken.service) >"$out" 2>&1 || rc=$?
	if ((rc == 0)) && ! grep -q 'broken.service' "$out"; then
		fail "systemd-analyze verify accepted Restart=always in a oneshot unit; the check proves nothing"
	else
		note "ok: systemd-analyze verify rejects a broken copy (exit $rc)"
	fi

	# Exit 75 means "rerun": it must restart the unit, not count as success.
	local svc
	for svc in edonu-ingest.service edonu-ingest@.service; do
		u="$dir/$svc"
		grep -qx 'Type=oneshot' "$u" || fail "$svc: not Type=oneshot"
		grep -qx 'Restart=on-failure' "$u" || fail "$svc: no Restart=on-failure"
		if grep -E '^(RestartPreventExitStatus|SuccessExitStatus)=' "$u" | grep -qw 75; then
			fail "$svc: exit 75 is kept from restarting"
		fi
		grep -qx 'StateDirectory=edonu-ingest.*' "$u" || fail "$svc: no StateDirectory=edonu-ingest"
		for line in DynamicUser=yes ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes; do
			grep -qx "$line" "$u" || fail "$svc: no $line"
		done
	done
	# shellcheck disable=SC2016 # the literal ${EDONU_SHARDS} of the unit file
	grep -qF -- '--shard %i/${EDONU_SHARDS}' "$dir/edonu-ingest@.service" ||
		fail "edonu-ingest@.service: ExecStart has no --shard %i/\${EDONU_SHARDS}"
	grep -qx 'Environment=EDONU_SHARDS=[0-9]*' "$dir/edonu-ingest@.service" ||
		fail "edonu-ingest@.service: no default Environment=EDONU_SHARDS=N"
	grep -qx 'Unit=edonu-ingest@%i.service' "$dir/edonu-ingest@.timer" ||
		fail "edonu-ingest@.timer: does not start its own instance"
}

if command -v systemd-analyze >/dev/null; then
	verify_units
else
	note "systemd-analyze not installed: units not verified"
	SKIPPED+=(systemd-analyze)
fi

# --- configuration files (INI), Kubernetes manifests (YAML), cron -------------

# check.py prints one "FAIL name: why" line per problem, "ok ..." lines for
# progress, "SKIP what" when a module is missing.
cat >"$WORK/check.py" <<'PY'
import configparser, os, re, shlex, subprocess, sys

deploy, known_file, extract_dir = sys.argv[1], sys.argv[2], sys.argv[3]
known = {l.strip() for l in open(known_file) if l.strip()} - {"help", "config"}
repeatable = {"invalidate", "bump"}
enums = {"progress": {"auto", "always", "never"}, "log-format": {"text", "json"},
         "format": {"auto", "csv", "text"}, "on-conflict": {"error", "ignore", "update"}}
problems = []

def fail(name, why):
    problems.append(f"FAIL {name}: {why}")

def check_ini(name, text):
    """Parse TEXT as edonu-ingest reads its config: keys before any section are
    shared; [load] and [run] scope keys to a command."""
    cp = configparser.ConfigParser(interpolation=None, strict=False,
                                   delimiters=("=",), comment_prefixes=("#", ";"))
    cp.optionxform = str
    try:
        cp.read_string("[__top__]\n" + text, source=name)
    except configparser.Error as e:
        fail(name, f"not INI: {e}")
        return
    for section in cp.sections():
        if section not in ("__top__", "load", "run"):
            fail(name, f"unknown section [{section}]")
    seen = {}
    for section in cp.sections():
        for key, value in cp.items(section, raw=True):
            if key == "__name__":
                continue
            if key not in known:
                fail(name, f"[{section}] key '{key}' is not an option of edonu-ingest")
            if key in enums and value.strip() not in enums[key]:
                fail(name, f"[{section}] {key} = {value!r}: not one of {sorted(enums[key])}")
            seen[(section, key)] = seen.get((section, key), 0) + 1
    # Keys kept commented out as examples: report, do not fail, those this
    # build does not know yet.
    for line in text.splitlines():
        m = re.match(r"^[#;]([a-z][a-z0-9-]*)\s*=", line)
        if m and m.group(1) not in known:
            print(f"note {name}: commented-out key '{m.group(1)}' is not an option of this build")
    if "run" not in cp.sections():
        fail(name, "no [run] section")
    print(f"ok {name}: INI, sections {cp.sections()}, keys all options of edonu-ingest")

check_ini("deploy/edonu-ingest.conf.example", open(os.path.join(deploy, "edonu-ingest.conf.example")).read())

# cron: environment lines and job lines; each job's command must be valid bash
# without % (which cron turns into a newline).
cron = os.path.join(deploy, "cron", "edonu-ingest.cron")
jobs = 0
for n, line in enumerate(open(cron), 1):
    line = line.rstrip("\n")
    if not line.strip() or line.lstrip().startswith("#"):
        continue
    if re.match(r"^[A-Z_][A-Z0-9_]*=", line):
        continue
    fields = line.split(None, 6)
    if len(fields) < 7:
        fail("cron", f"line {n}: not 'min hour dom mon dow user command'")
        continue
    jobs += 1
    cmd = fields[6]
    if "%" in cmd:
        fail("cron", f"line {n}: unescaped % in the command")
    if "flock" in cmd:
        fail("cron", f"line {n}: uses flock; the program takes its own lock")
    if "edonu-ingest run --config" not in cmd:
        fail("cron", f"line {n}: does not run edonu-ingest run --config")
    r = subprocess.run(["bash", "-n", "-c", cmd], capture_output=True, text=True)
    if r.returncode != 0:
        fail("cron", f"line {n}: bash -n: {r.stderr.strip()}")
if jobs == 0:
    fail("cron", "no job line")
else:
    print(f"ok deploy/cron/edonu-ingest.cron: {jobs} job line(s), valid bash")

try:
    import yaml
except ImportError:
    print("SKIP python3 yaml module (apt-get install python3-yaml): manifests not checked")
    for p in problems:
        print(p)
    sys.exit(0)

def load(name):
    with open(os.path.join(deploy, "kubernetes", name)) as f:
        try:
            return [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            fail(name, f"not YAML: {e}")
            return []

def one(docs, kind, name):
    found = [d for d in docs if d.get("kind") == kind]
    if len(found) != 1:
        fail(name, f"expected one {kind}, found {len(found)}")
        return {}
    return found[0]

def mebibytes(q):
    m = re.fullmatch(r"(\d+)(Mi|Gi|Ki)?", str(q))
    if not m:
        return None
    return int(m.group(1)) * {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, None: 1 / 2**20}[m.group(2)]

def check_job_spec(name, job, per_index):
    pod = job.get("template", {}).get("spec", {})
    if pod.get("restartPolicy") != "Never":
        fail(name, "restartPolicy is not Never (podFailurePolicy needs it)")
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True:
        fail(name, "pod securityContext.runAsNonRoot is not true")
    containers = pod.get("containers", [])
    if len(containers) != 1:
        fail(name, f"expected one container, found {len(containers)}")
        return None
    c = containers[0]
    csc = c.get("securityContext", {})
    if csc.get("readOnlyRootFilesystem") is not True:
        fail(name, "readOnlyRootFilesystem is not true")
    if csc.get("allowPrivilegeEscalation") is not False:
        fail(name, "allowPrivilegeEscalation is not false")
    lim = c.get("resources", {}).get("limits", {})
    mem = mebibytes(lim.get("memory"))
    if mem is None or mem > 256:
        fail(name, f"memory limit {lim.get('memory')!r} is not at most 256Mi")
    if str(lim.get("cpu")) not in ("2", "2000m"):
        fail(name, f"cpu limit {lim.get('cpu')!r} is not 2 cores")
    argv = list(c.get("command", [])) + list(c.get("args", []))
    if argv[:2] != ["/usr/local/bin/edonu-ingest", "run"] or "--config" not in argv:
        fail(name, f"does not run /usr/local/bin/edonu-ingest run --config ...: {argv}")
    secrets = [e["secretRef"]["name"] for e in c.get("envFrom", []) if "secretRef" in e]
    secrets += [e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", [])
                if "secretKeyRef" in e.get("valueFrom", {})]
    if not secrets:
        fail(name, "the connection does not come from a Secret")
    claims = {v["name"] for v in pod.get("volumes", []) if "persistentVolumeClaim" in v}
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", []) if m["name"] in claims}
    for path in ("/var/spool/edonu-ingest", "/var/lib/edonu-ingest"):
        if path not in mounts:
            fail(name, f"{path} is not on a PersistentVolumeClaim")
    rules = job.get("podFailurePolicy", {}).get("rules", [])
    for r in rules:
        codes = r.get("onExitCodes", {})
        if codes.get("operator") == "In" and 75 in codes.get("values", []):
            fail(name, "podFailurePolicy does not let exit 75 retry")
        want = "FailIndex" if per_index else "FailJob"
        if codes and r.get("action") != want:
            fail(name, f"podFailurePolicy exit-code rule acts {r.get('action')}, expected {want}")
    return c, mounts, secrets

docs = load("cronjob.yaml")
cj = one(docs, "CronJob", "cronjob.yaml")
secret = one(docs, "Secret", "cronjob.yaml")
cm = one(docs, "ConfigMap", "cronjob.yaml")
one(docs, "PersistentVolumeClaim", "cronjob.yaml")
if cj:
    spec = cj.get("spec", {})
    if spec.get("concurrencyPolicy") != "Forbid":
        fail("cronjob.yaml", f"concurrencyPolicy is {spec.get('concurrencyPolicy')!r}, not Forbid")
    job = spec.get("jobTemplate", {}).get("spec", {})
    if not isinstance(job.get("backoffLimit"), int):
        fail("cronjob.yaml", "jobTemplate has no backoffLimit")
    r = check_job_spec("cronjob.yaml", job, per_index=False)
    if r and secret and secret.get("metadata", {}).get("name") not in r[2]:
        fail("cronjob.yaml", "the container does not use the Secret defined here")
for key, text in (cm.get("data") or {}).items():
    check_ini(f"cronjob.yaml ConfigMap {key}", text)
    with open(os.path.join(extract_dir, "configmap-" + key), "w") as f:
        f.write(text)
print("ok deploy/kubernetes/cronjob.yaml: " + ", ".join(d["kind"] for d in docs))

docs = load("indexed-job.yaml")
job = one(docs, "Job", "indexed-job.yaml")
if job:
    spec = job.get("spec", {})
    if spec.get("completionMode") != "Indexed":
        fail("indexed-job.yaml", f"completionMode is {spec.get('completionMode')!r}, not Indexed")
    r = check_job_spec("indexed-job.yaml", spec, per_index="backoffLimitPerIndex" in spec)
    if r:
        c, mounts, _ = r
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        args = list(c.get("args", []))
        shard = args[args.index("--shard") + 1] if "--shard" in args[:-1] else None
        if shard is None or not shard.startswith("$(JOB_COMPLETION_INDEX)/"):
            fail("indexed-job.yaml", f"no --shard $(JOB_COMPLETION_INDEX)/N in {args}")
        else:
            n = shard.split("/", 1)[1]
            n = env.get(re.fullmatch(r"\$\((\w+)\)", n).group(1)) if n.startswith("$(") else n
            if not (str(n) == str(spec.get("completions")) == str(spec.get("parallelism"))):
                fail("indexed-job.yaml", f"N differs: --shard .../{n}, completions "
                     f"{spec.get('completions')}, parallelism {spec.get('parallelism')}")
        state = mounts.get("/var/lib/edonu-ingest", {})
        if "JOB_COMPLETION_INDEX" not in state.get("subPathExpr", ""):
            fail("indexed-job.yaml", "the pods share one state directory (journal lock)")
print("ok deploy/kubernetes/indexed-job.yaml: " + ", ".join(d["kind"] for d in docs))

for p in problems:
    print(p)
PY

while IFS= read -r line; do
	case "$line" in
	"FAIL "*) fail "${line#FAIL }" ;;
	"SKIP "*)
		note "${line#SKIP }"
		SKIPPED+=(yaml)
		;;
	*) note "$line" ;;
	esac
mkdir -p "$WORK/extracted"
done < <(python3 "$WORK/check.py" "$DEPLOY" "$KNOWN" "$WORK/extracted" 2>&1 || echo "FAIL check.py: exit $?")

# --- the binary reads the configurations ----------------------------------------

# reads_config NAME FILE: `run` and `load` with --config FILE read every key
# and stop at the missing input (66), not at the file (78 configuration, 64
# usage).  No server is needed: the input is checked before connecting.  The
# files the configuration writes (metrics, rejects, journal) are redirected
# into $WORK first, so that the check leaves nothing on the machine.
reads_config() {
	local name="$1" file="$2" rc cmd conf
	local -a args
	conf="$WORK/reads.conf"
	mkdir -p "$WORK/out"
	sed -E "s#^(metrics-textfile|rejects|state-dir|summary)[[:space:]]*=[[:space:]]*/.*#\\1 = $WORK/out/\\1#" \
		"$file" >"$conf"
	for cmd in run load; do
		if [[ "$cmd" == run ]]; then
			args=(run --config "$conf" --spool "$WORK/no-such-spool")
		else
			args=(load --config "$conf" "$WORK/no-such-file.csv")
		fi
		rc=0
		timeout 60 "$EDONU_INGEST" "${args[@]}" >"$WORK/reads.out" 2>"$WORK/reads.err" || rc=$?
		if ((rc == 66)); then
			note "ok: $cmd --config $name: read, stops at the missing input (66)"
		else
			fail "$cmd --config $name: exit $rc, expected 66 (missing input): $(head -n 3 "$WORK/reads.err")"
		fi
	done
}

reads_config deploy/edonu-ingest.conf.example "$DEPLOY/edonu-ingest.conf.example"
# The keys left commented out must be valid too, once someone enables them.
sed -E 's/^#([a-z][a-z0-9-]*)[[:space:]]*=/\1 =/' "$DEPLOY/edonu-ingest.conf.example" >"$WORK/uncommented.conf"
reads_config "deploy/edonu-ingest.conf.example (commented-out keys enabled)" "$WORK/uncommented.conf"
for f in "$WORK"/extracted/configmap-*; do
	[[ -e "$f" ]] || continue
	reads_config "cronjob.yaml ConfigMap ${f##*/configmap-}" "$f"
done

if ((${#FAILED[@]})); then
	note "${#FAILED[@]} problem(s)"
	exit 1
fi
if ((${#SKIPPED[@]})); then
	skip "not checked: ${SKIPPED[*]}"
fi
note "all deploy checks passed"
