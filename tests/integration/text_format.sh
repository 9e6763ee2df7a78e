#!/usr/bin/env bash
# Proves that edonu-ingest loading PostgreSQL's text format (--format text)
# stores exactly the rows COPY ... (FORMAT text) stores and rejects exactly as
# many records, on a smaller corpus of type cases and backslash escapes, from
# a file, stdin, a .zst file, with CRLF line ends, with one or two workers,
# or in tiny batches.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=fidelity.sh
source "$HERE/fidelity.sh"

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v python3 >/dev/null || die "python3 is needed for the corpus generator"
	command -v zstd >/dev/null || die "zstd is needed for the .zst variant"
	FID_FORMAT=text
	FID_WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-fid.XXXXXX")"
	on_exit "rm -rf '$FID_WORK'"

	local corpus="$SOURCE_ROOT/tests/data/fidelity/corpus.txt"
	fid_check_committed "$corpus"
	pg_start

	# Text format has no header here (the loader's default for text), so
	# fields map to the table's columns by position, as in COPY.
	fid_oracle o_lf "(format text)"
	fid_oracle o_crlf "(format text)" --eol crlf

	local in="$FID_WORK/corpus.txt"
	cp "$corpus" "$in"
	zstd -q -f "$in" -o "$in.zst"
	fid_gen --eol crlf -o "$FID_WORK/corpus-crlf.txt"

	local stdin_args=()
	if loader_has_option source-id; then
		stdin_args=(--source-id fidelity-text-stdin)
	fi

	fid_variant file o_lf "$in"
	STDIN_FILE="$in" fid_variant stdin o_lf - "${stdin_args[@]}"
	fid_variant zst o_lf "$in.zst"
	fid_variant crlf o_crlf "$FID_WORK/corpus-crlf.txt"
	fid_variant workers1 o_lf "$in" --workers 1
	fid_variant workers2 o_lf "$in" --workers 2
	fid_variant batch7 o_lf "$in" --batch-rows 7
	fid_finish
}

main "$@"
