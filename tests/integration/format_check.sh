#!/usr/bin/env bash
# Proves that every C source and header is formatted as the committed
# .clang-format says, so the style is kept by a tool and not by hand.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"

if ! command -v clang-format >/dev/null; then
	echo "format_check.sh: skipped: clang-format not installed (apt-get install clang-format)" >&2
	exit 77
fi
cd "$SOURCE_ROOT"
mapfile -t files < <(find core pipeline stages io bench fuzz tests/unit -name '*.[ch]' | sort)
((${#files[@]} > 0)) || { echo "format_check.sh: no sources found" >&2; exit 1; }
bad=0
for f in "${files[@]}"; do
	if ! clang-format --dry-run --Werror "$f" 2>/dev/null; then
		echo "format_check.sh: $f is not formatted (clang-format -i $f)" >&2
		bad=$((bad + 1))
	fi
done
echo "format_check.sh: ${#files[@]} files checked, $bad not formatted" >&2
((bad == 0))
