#!/usr/bin/env bash
# Proves that edonu-ingest loading CSV stores exactly the rows PostgreSQL's
# own COPY ... CSV HEADER stores and rejects exactly as many records, on a
# corpus of tricky values for every encoded type and tricky CSV, whether the
# input comes from a file, stdin, a .zst file, with CRLF line ends or a
# UTF-8 BOM, with one or two workers, or in tiny batches.
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
	FID_FORMAT=csv
	FID_WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-fid.XXXXXX")"
	on_exit "rm -rf '$FID_WORK'"

	local corpus="$SOURCE_ROOT/tests/data/fidelity/corpus.csv"
	fid_check_committed "$corpus"
	pg_start
	note "server TimeZone: $(psql_q 'SHOW TimeZone'), DateStyle: $(psql_q 'SHOW DateStyle')"

	# The oracle, once per distinct input: line ends and the BOM change the
	# bytes COPY sees, so each gets its own run.
	fid_oracle o_lf "csv header"
	fid_oracle o_crlf "csv header" --eol crlf
	fid_oracle o_bom "csv header" --bom
	assert_eq "CRLF changes nothing COPY refuses" "$(fid_oracle_failed o_lf)" "$(fid_oracle_failed o_crlf)"
	assert_eq "a BOM in the header changes nothing COPY refuses" "$(fid_oracle_failed o_lf)" "$(fid_oracle_failed o_bom)"

	local in="$FID_WORK/corpus.csv"
	cp "$corpus" "$in"
	zstd -q -f "$in" -o "$in.zst"
	fid_gen --eol crlf -o "$FID_WORK/corpus-crlf.csv"
	fid_gen --bom -o "$FID_WORK/corpus-bom.csv"

	local stdin_args=()
	if loader_has_option source-id; then
		stdin_args=(--source-id fidelity-stdin)
	fi

	fid_variant file o_lf "$in"
	STDIN_FILE="$in" fid_variant stdin o_lf - "${stdin_args[@]}"
	fid_variant zst o_lf "$in.zst"
	fid_variant crlf o_crlf "$FID_WORK/corpus-crlf.csv"
	fid_variant bom o_bom "$FID_WORK/corpus-bom.csv"
	fid_variant workers1 o_lf "$in" --workers 1
	fid_variant workers2 o_lf "$in" --workers 2
	fid_variant batch7 o_lf "$in" --batch-rows 7
	fid_finish
}

main "$@"
