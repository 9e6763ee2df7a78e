#!/usr/bin/env bash
# Proves that `edonu-ingest run` files a spool file that fails for its own
# reasons under failed/ with FILE.error giving the reason in one line, and
# goes on with the next file: a header naming a column the table lacks (exit
# 78; the good file after it still loads, and a second run does nothing
# more, and the same name failing again keeps both reasons), corrupt zstd (65), a file it may not read (66), a chunk the server
# refuses whole (a trigger's XX000, never one record's fault: 70) and a
# directory standing at the file's hidden rejects path (78), with good files
# between them in name order loading into done/, a FIFO left alone and the
# run exiting with the worst code (70). Also that `run` checks its table
# before any file arrives (an empty spool with a missing table exits 78
# naming it; with the table, 0) and logs how many files it leaves for later:
# a fresh file as settling, a .part file as temporary.
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

ROWS=100

# spool_state SPOOL: every regular file of the spool, done/ and failed/
# with its size, so that two states can be compared.
spool_state() {
	(cd "$1" && find . -type f -printf '%p %s\n' | LC_ALL=C sort)
}

# check_error_file NAME SPOOL FILE NEEDLE: failed/FILE.error is one line that
# matches NEEDLE (a case-insensitive ERE).
check_error_file() {
	local name="$1" spool="$2" file="$3" needle="$4" err="$2/failed/$3.error"
	check "$name: $file.error lines" 1 "$(count_lines "$err")"
	check_true "$name: $file.error says /$needle/: $(head -c 300 "$err" 2>/dev/null)" \
		grep -qiE -- "$needle" "$err"
}

# spool_log NAME: run NAME's event=spool line.
spool_log() {
	grep -m1 'event=spool ' "$WORK/$1.err" || true
}

# (a) A header column the table does not have: the file goes to failed/,
# the good one after it loads, and a second run finds nothing to do.
bad_header_then_good() {
	local spool="$WORK/spool-a"
	mkdir "$spool"
	printf 'order_id,no_such_column\n1,x\n' >"$spool/a.csv"
	touch -d '1 hour ago' "$spool/a.csv"
	gen_into "$spool/b.csv" "$ROWS" 11
	run_spool header --dsn "$EDONU_TEST_DSN" --table orders --progress never --spool "$spool"
	[[ "$RC" == 78 ]] || show_err header
	check "header: exit code (the bad header's 78)" 78 "$RC"
	check "header: done/" b.csv "$(files_in "$spool/done")"
	check "header: failed/" "$(printf '%s\n' a.csv a.csv.error)" "$(files_in "$spool/failed")"
	check_error_file header "$spool" a.csv 'no_such_column'
	check "header: rows (b.csv only)" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders')"

	local before
	before="$(spool_state "$spool")"
	run_spool header_again --dsn "$EDONU_TEST_DSN" --table orders --progress never --spool "$spool"
	[[ "$RC" == 0 ]] || show_err header_again
	check "header again: exit code" 0 "$RC"
	check "header again: no file moved" "$before" "$(spool_state "$spool")"
	check "header again: rows unchanged" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders')"
	check "header again: records_read" 0 "$(sum_field header_again records_read)"

	# The same name dropped again, failing for another reason: it goes to
	# failed/a.csv.1, its reason to a.csv.1.error beside it, and the first
	# failure's reason stays in a.csv.error.
	printf 'order_id,other_missing_column\n1,x\n' >"$spool/a.csv"
	touch -d '1 hour ago' "$spool/a.csv"
	run_spool header_same_name --dsn "$EDONU_TEST_DSN" --table orders --progress never --spool "$spool"
	[[ "$RC" == 78 ]] || show_err header_same_name
	check "same name: exit code" 78 "$RC"
	check "same name: failed/" "$(printf '%s\n' a.csv a.csv.1 a.csv.1.error a.csv.error)" \
		"$(files_in "$spool/failed")"
	check_error_file same_name_first "$spool" a.csv 'no_such_column'
	check_error_file same_name_second "$spool" a.csv.1 'other_missing_column'
	check_true "same name: the log names where the file went" \
		grep -qF 'moved to failed/a.csv.1' "$WORK/header_same_name.err"
}

# The loader, unable to read a file with mode 000. Root reads any file
# whatever its mode while it holds CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH:
# as root it runs without them (its own files stay its own), and the test
# server's directory lets it reach the socket.
UNREADABLE_PREFIX=()
unreadable_setup() {
	if [[ $EUID -eq 0 ]]; then
		command -v setpriv >/dev/null || skip "running as root and setpriv is missing (apt-get install util-linux)"
		# shellcheck disable=SC2054 # one argument: setpriv's list of capabilities
		UNREADABLE_PREFIX=(setpriv --bounding-set -dac_override,-dac_read_search --)
		chmod 711 "$PG_DIR"
	fi
}

# (b) Each way a file fails on its own, between good files.
failures_between_good_files() {
	local spool="$WORK/spool-b"
	mkdir "$spool"
	orders_table orders_b
	# A chunk holding a POISON sku fails whole: XX000 is never a record's fault.
	psql -XAtq -v ON_ERROR_STOP=1 >/dev/null <<-'SQL'
		CREATE FUNCTION edonu_test_poison() RETURNS trigger LANGUAGE plpgsql AS
		$$BEGIN
			IF NEW.sku = 'POISON' THEN
				RAISE EXCEPTION 'poisoned chunk, not a record' USING ERRCODE = 'XX000';
			END IF;
			RETURN NEW;
		END$$;
		CREATE TRIGGER edonu_test_poison BEFORE INSERT ON orders_b
		FOR EACH ROW EXECUTE FUNCTION edonu_test_poison();
	SQL

	gen_into "$spool/a-good.csv" "$ROWS" 21
	# The zstd magic number, then bytes that are no zstd frame.
	{
		printf '\x28\xb5\x2f\xfd'
		printf 'this is not a zstd frame header nor a block %.0s' {1..40}
	} >"$spool/b-corrupt.csv.zst"
	touch -d '1 hour ago' "$spool/b-corrupt.csv.zst"
	gen_into "$spool/c-good.csv" "$ROWS" 23
	gen_into "$spool/d-unreadable.csv" "$ROWS" 24
	chmod 000 "$spool/d-unreadable.csv"
	gen_into "$spool/e-good.csv" "$ROWS" 25
	gen_into "$WORK/f.csv" "$ROWS" 26
	csv_rewrite "$WORK/f.csv" "$spool/f-refused.csv" 'if (r == 50) f[4] = "POISON"'
	touch -d '1 hour ago' "$spool/f-refused.csv"
	gen_into "$spool/g-good.csv" "$ROWS" 27
	gen_into "$spool/h-blocked.csv" "$ROWS" 28
	mkdir "$spool/.h-blocked.csv.rejects.ndjson"
	gen_into "$spool/i-good.csv" "$ROWS" 29
	# Not a regular file: never opened (a FIFO would block its reader).
	mkfifo "$spool/j-fifo.csv"
	touch -d '1 hour ago' "$spool/j-fifo.csv"

	unreadable_setup
	RC=0
	timeout "$LOAD_TIMEOUT_S" "${UNREADABLE_PREFIX[@]}" "$EDONU_INGEST" run --summary "$WORK/failures.json" \
		--dsn "$EDONU_TEST_DSN" --table orders_b --progress never --spool "$spool" \
		</dev/null 2>"$WORK/failures.err" || RC=$?
	note "run failures: exit $RC: $(summary_line failures)"
	[[ "$RC" == 70 ]] || show_err failures
	check "failures: exit code (the worst: the refused chunk's 70)" 70 "$RC"
	check "failures: done/ (every good file)" \
		"$(printf '%s\n' a-good.csv c-good.csv e-good.csv g-good.csv i-good.csv)" "$(files_in "$spool/done")"
	check "failures: failed/" \
		"$(printf '%s\n' b-corrupt.csv.zst b-corrupt.csv.zst.error d-unreadable.csv d-unreadable.csv.error \
			f-refused.csv f-refused.csv.error h-blocked.csv h-blocked.csv.error)" \
		"$(files_in "$spool/failed")"
	check_error_file corrupt "$spool" b-corrupt.csv.zst 'zstd'
	check_error_file unreadable "$spool" d-unreadable.csv 'd-unreadable\.csv.*permission denied'
	check_error_file refused "$spool" f-refused.csv 'poisoned chunk, not a record'
	check_error_file blocked "$spool" h-blocked.csv '\.h-blocked\.csv\.rejects\.ndjson.*in the way'
	local file code
	for file in b-corrupt.csv.zst:65 d-unreadable.csv:66 f-refused.csv:70 h-blocked.csv:78; do
		code="${file##*:}"
		file="${file%:*}"
		check_true "failures: the log says $file went to failed/ with exit $code" \
			grep -qF "$file: moved to failed/$file (exit $code)" "$WORK/failures.err"
	done
	check "failures: rows (the five good files)" "$((5 * ROWS))" "$(psql_q 'SELECT count(*) FROM orders_b')"
	check "failures: no POISON row" 0 "$(psql_q "SELECT count(*) FROM orders_b WHERE sku = 'POISON'")"
	check_true "failures: the FIFO is left where it was" test -p "$spool/j-fifo.csv"
	check "failures: left in the spool (regular files)" .edonu-ingest.lock "$(files_in "$spool")"
}

# (c) The job is checked before any file arrives, and what is left for
# later is counted.
empty_spool() {
	local spool="$WORK/spool-c"
	mkdir "$spool"
	run_spool no_table --dsn "$EDONU_TEST_DSN" --table no_such_table --progress never --spool "$spool"
	[[ "$RC" == 78 ]] || show_err no_table
	check "empty spool, missing table: exit code" 78 "$RC"
	check_true "empty spool, missing table: an error line names the table" \
		grep -qE 'level=error.*no_such_table' "$WORK/no_table.err"
	run_spool empty --dsn "$EDONU_TEST_DSN" --table orders --progress never --spool "$spool"
	[[ "$RC" == 0 ]] || show_err empty
	check "empty spool: exit code" 0 "$RC"
	check_true "empty spool: 0 files, 0 settling, 0 temporary: $(spool_log empty)" \
		grep -qE 'event=spool .*: 0 files to load; left for later: 0 settling .*, 0 with temporary names' \
		"$WORK/empty.err"

	"$EDONU_INGEST" gen --rows "$ROWS" --seed 31 -o "$spool/fresh.csv"
	touch "$spool/fresh.csv"
	run_spool fresh --dsn "$EDONU_TEST_DSN" --table orders --progress never --spool "$spool"
	[[ "$RC" == 0 ]] || show_err fresh
	check "fresh file: exit code" 0 "$RC"
	check_true "fresh file: counted as settling: $(spool_log fresh)" \
		grep -qE 'event=spool .*: 0 files to load; left for later: 1 settling .*, 0 with temporary names' \
		"$WORK/fresh.err"

	gen_into "$spool/coming.csv.part" "$ROWS" 32
	touch "$spool/fresh.csv"
	run_spool part --dsn "$EDONU_TEST_DSN" --table orders --progress never --spool "$spool"
	[[ "$RC" == 0 ]] || show_err part
	check "part file: exit code" 0 "$RC"
	check_true "part file: counted as temporary: $(spool_log part)" \
		grep -qE 'event=spool .*: 0 files to load; left for later: 1 settling .*, 1 with temporary names' \
		"$WORK/part.err"
	check "fresh and part files: left in the spool" \
		"$(printf '%s\n' .edonu-ingest.lock coming.csv.part fresh.csv)" "$(files_in "$spool")"
	check "fresh and part files: rows unchanged" "$ROWS" "$(psql_q 'SELECT count(*) FROM orders')"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-spoolfail.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	orders_table orders

	bad_header_then_good
	failures_between_good_files
	empty_spool
	finish
}

main "$@"
