#!/usr/bin/env bash
# Proves that the source tree keeps its shape: core/ imports nothing of the
# other folders, stages/ and io/ import nothing of pipeline/ (and io/ nothing
# of stages/), fuzz/ nothing of bench/, no file is over 800 lines and no function over 80 lines,
# except the hot loops of the parsers and encoders named below, which stay
# whole on purpose (one pass over the bytes, no calls in the inner loop).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"

python3 - "$SOURCE_ROOT" <<'PY'
import os, re, sys

root = sys.argv[1]
FILE_LINES_MAX = 800
FUNC_LINES_MAX = 80
# Hot loops kept whole: file:function.
HOT = {
    "stages/parse_csv.c:csv_parse_record",
    "stages/parse_text.c:text_parse_record",
    "stages/encode_numeric.c:encode_numeric",
    "stages/frame.c:step_byte",
    "stages/encode_datetime.c:parse_iso",
    "stages/parse_ndjson.c:ndjson_parse_record",
}
# Which folders each folder may include from.
ALLOWED = {
    "core": {"core"},
    "io": {"core", "io"},
    "stages": {"core", "io", "stages"},
    # The fuzz targets drive the stages, and the config file's reader.
    "fuzz": {"core", "io", "stages", "pipeline", "fuzz"},
}
failures = []
inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
func_re = re.compile(r'^[A-Za-z_][^;()]*\b([A-Za-z_]\w*)\s*\([^;]*$')

def folder_of(path):
    return path.split("/", 1)[0]

for folder in ("core", "io", "stages", "pipeline", "bench", "fuzz"):
    d = os.path.join(root, folder)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        if not name.endswith((".c", ".h")):
            continue
        rel = f"{folder}/{name}"
        with open(os.path.join(d, name), encoding="utf-8") as f:
            lines = f.read().split("\n")
        if len(lines) > FILE_LINES_MAX:
            failures.append(f"{rel}: {len(lines)} lines (at most {FILE_LINES_MAX})")
        for n, line in enumerate(lines, 1):
            m = inc_re.match(line)
            if not m:
                continue
            target = os.path.normpath(os.path.join(folder, m.group(1)))
            tf = folder_of(target)
            if folder in ALLOWED and tf not in ALLOWED[folder]:
                failures.append(f"{rel}:{n}: includes {m.group(1)} ({folder}/ may include only {', '.join(sorted(ALLOWED[folder]))})")
        if not name.endswith(".c"):
            continue
        # Top-level function bodies: a line that starts a definition at
        # column 0, then a "{" alone at column 0, up to the "}" at column 0.
        i = 0
        while i < len(lines):
            if lines[i] == "{" and i > 0:
                j = i - 1
                while j > 0 and not func_re.match(lines[j]) and lines[j].strip():
                    j -= 1
                m = func_re.match(lines[j])
                fname = m.group(1) if m else "?"
                k = i + 1
                while k < len(lines) and lines[k] != "}":
                    k += 1
                body = k - i - 1
                if body > FUNC_LINES_MAX and f"{rel}:{fname}" not in HOT:
                    failures.append(f"{rel}:{i}: function {fname} is {body} lines (at most {FUNC_LINES_MAX})")
                i = k
            i += 1

for f in failures:
    print("structure_check: " + f)
print(f"structure_check: {len(failures)} problems")
sys.exit(1 if failures else 0)
PY
