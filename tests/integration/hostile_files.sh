#!/usr/bin/env bash
# Proves that the loader's files and terminal hold up against hostile
# surroundings: a symbolic link to a private 0600 file dropped in a spool is
# not read (its content reaches neither the table, nor a rejects file, nor
# the log, nor the summary; the link is left in place and named in the
# log), while `load LINK` follows a link the user names; rejects files are
# created 0600 under umask 022 (load's --rejects, and run's
# failed/NAME.rejects.ndjson and NAME.error), and a symbolic link standing
# at --rejects is refused (78) without touching what it points to; a header
# holding an escape sequence puts no raw ESC byte on stderr (summary table,
# logfmt and JSON log lines, load and run); an empty standard input loads 0
# records and exits 0 (under the sanitizer build, without a UBSan report);
# and --metrics-listen :PORT listens on 127.0.0.1 alone (ss -ltn).
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

# What the private file holds: a record that would load and one that would
# be rejected, each with a marker that must appear nowhere.
SECRET=edonu-private-marker

# nowhere NAME PATH...: no file under PATHs (links not followed) holds the
# marker, and the table t has no row with it.
nowhere() {
	local name="$1"
	shift
	check_true "$name: the private content is in no file of the spool, log or summary" \
		bash -c '! grep -rqF -- "$0" "$@"' "$SECRET" "$@"
	check "$name: rows with the private content" 0 \
		"$(psql_q "SELECT count(*) FROM t WHERE secret LIKE '%$SECRET%'")"
}

# mode_of FILE: its permission bits in octal ("none" when it is missing).
mode_of() {
	stat -c %a "$1" 2>/dev/null || echo none
}

# esc_bytes FILE: how many ESC bytes FILE holds.
esc_bytes() {
	LC_ALL=C tr -dc '\033' <"$1" | wc -c | tr -d ' '
}

# (a) A link in the spool to a private file is not followed.
symlink_in_spool() {
	local spool="$WORK/spool" private="$WORK/private/data.csv"
	mkdir -p "$spool" "$WORK/private"
	printf 'id,secret\n1,%s-row\nnot-a-number,%s-reject\n' "$SECRET" "$SECRET" >"$private"
	chmod 600 "$private"
	# Settled, link and file alike: only the rule on links keeps it out.
	touch -d '1 hour ago' "$private"
	chmod 700 "$WORK/private"
	ln -s "$private" "$spool/a-link.csv"
	touch -h -d '1 hour ago' "$spool/a-link.csv"
	printf 'id,secret\n2,public\n' >"$spool/b-good.csv"
	touch -d '1 hour ago' "$spool/b-good.csv"
	run_spool link --dsn "$EDONU_TEST_DSN" --table t --progress never --spool "$spool"
	[[ "$RC" == 0 ]] || show_err link
	check "spool link: exit code" 0 "$RC"
	check "spool link: records read (b-good.csv only)" 1 "$(sum_field link records_read)"
	check_true "spool link: the link is left in place" test -L "$spool/a-link.csv"
	check "spool link: done/" b-good.csv "$(files_in "$spool/done")"
	check "spool link: failed/" "" "$(files_in "$spool/failed")"
	check_true "spool link: the log names the link" \
		grep -qE 'level=warn event=spool_symlink .*a-link\.csv: a symbolic link: not followed' "$WORK/link.err"
	check_true "spool link: counted among the files that are not regular, none settling" \
		grep -qE 'event=spool .*: 1 files to load; left for later: 0 settling .* 1 not regular files' \
		"$WORK/link.err"
	nowhere "spool link" "$spool" "$WORK/link.err" "$WORK/link.json"
	check "spool link: the private file is unchanged" 600 "$(mode_of "$private")"

	# A second run: still left, still named, still unread.
	run_spool link_again --dsn "$EDONU_TEST_DSN" --table t --progress never --spool "$spool"
	check "spool link, again: exit code" 0 "$RC"
	check_true "spool link, again: the log names the link" grep -q 'event=spool_symlink' "$WORK/link_again.err"
	nowhere "spool link, again" "$spool" "$WORK/link_again.err" "$WORK/link_again.json"

	# A link the user names on the command line is the user's choice.
	ln -s "$WORK/spool/done/b-good.csv" "$WORK/named-link.csv"
	load named --table t --force "$WORK/named-link.csv"
	check "load LINK: exit code" 0 "$RC"
	check "load LINK: loaded" 1 "$(sum_field named loaded)"
}

# (b) Rejects files are private and never written through a link.
private_rejects() {
	local spool="$WORK/spool-r" victim="$WORK/victim.txt"
	printf 'id,secret\n3,ok\nnot-a-number,x\n' >"$WORK/bad.csv"
	load rejects --table t --rejects "$WORK/rejects.ndjson" "$WORK/bad.csv"
	check "rejects: exit code" 65 "$RC"
	check "rejects: lines" 1 "$(count_lines "$WORK/rejects.ndjson")"
	check "rejects: mode under umask 022" 600 "$(mode_of "$WORK/rejects.ndjson")"

	mkdir "$spool"
	printf 'id,secret\n5,ok\nnot-a-number,y\n' >"$spool/bad.csv"
	touch -d '1 hour ago' "$spool/bad.csv"
	run_spool rejects_run --dsn "$EDONU_TEST_DSN" --table t --progress never --spool "$spool"
	check "run rejects: exit code" 65 "$RC"
	check "run rejects: failed/" "$(printf '%s\n' bad.csv bad.csv.rejects.ndjson)" "$(files_in "$spool/failed")"
	check "run rejects: failed/bad.csv.rejects.ndjson mode" 600 "$(mode_of "$spool/failed/bad.csv.rejects.ndjson")"

	printf 'keep me\n' >"$victim"
	ln -s "$victim" "$WORK/link-rejects.ndjson"
	printf 'id,secret\n4,ok\nnot-a-number,%s-via-link\n' "$SECRET" >"$WORK/bad2.csv"
	load rejects_link --table t --rejects "$WORK/link-rejects.ndjson" "$WORK/bad2.csv"
	[[ "$RC" == 78 ]] || show_err rejects_link
	check "rejects link: exit code" 78 "$RC"
	check_true "rejects link: the error says it is a symbolic link" \
		grep -q 'link-rejects.ndjson is a symbolic link: refused' "$WORK/rejects_link.err"
	check "rejects link: what it points to is unchanged" "keep me" "$(cat "$victim")"
	check "rejects link: nothing loaded" 0 "$(psql_q 'SELECT count(*) FROM t WHERE id = 4')"
}

# (c) A header with an escape sequence (it would retitle a terminal) puts
# no raw ESC byte on stderr.
escape_in_header() {
	local spool="$WORK/spool-e" fmt
	printf 'id,secret\033]0;pwned\007\n1,x\n' >"$WORK/esc.csv"
	for fmt in text json; do
		load "esc_$fmt" --table t --log-format "$fmt" "$WORK/esc.csv"
		check "escape ($fmt): exit code" 78 "$RC"
		check "escape ($fmt): ESC bytes on stderr" 0 "$(esc_bytes "$WORK/esc_$fmt.err")"
		check "escape ($fmt): ESC bytes in the summary" 0 "$(esc_bytes "$WORK/esc_$fmt.json")"
	done
	check_true "escape: the summary table shows it escaped" \
		grep -qF 'error          column "secret\x1b]0;pwned\x07"' "$WORK/esc_text.err"

	mkdir "$spool"
	cp "$WORK/esc.csv" "$spool/esc.csv"
	touch -d '1 hour ago' "$spool/esc.csv"
	run_spool esc_run --dsn "$EDONU_TEST_DSN" --table t --progress never --spool "$spool"
	check "escape (run): exit code" 78 "$RC"
	check "escape (run): ESC bytes on stderr" 0 "$(esc_bytes "$WORK/esc_run.err")"
	check "escape (run): failed/esc.csv.error mode" 600 "$(mode_of "$spool/failed/esc.csv.error")"
	check "escape (run): ESC bytes in failed/esc.csv.error" 0 "$(esc_bytes "$spool/failed/esc.csv.error")"
}

# (d) An empty standard input (/dev/null, an empty pipe): nothing to load,
# nothing undefined.
empty_stdin() {
	local name
	for name in empty_null empty_pipe; do
		RC=0
		if [[ "$name" == empty_null ]]; then
			UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
				timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never \
				--summary "$WORK/$name.json" --table t --source-id "$name" - </dev/null \
				2>"$WORK/$name.err" || RC=$?
		else
			true | UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
				timeout "$LOAD_TIMEOUT_S" "$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --progress never \
				--summary "$WORK/$name.json" --table t --source-id "$name" - \
				2>"$WORK/$name.err" || RC=$?
		fi
		[[ "$RC" == 0 ]] || show_err "$name"
		check "$name: exit code" 0 "$RC"
		check "$name: records read" 0 "$(sum_field "$name" records_read)"
		check_true "$name: no sanitizer report" bash -c '! grep -q "runtime error\|Sanitizer" "$0"' \
			"$WORK/$name.err"
	done
}

# metrics_port NAME: the port run NAME's log says it serves /metrics on.
metrics_port() {
	sed -n 's/.*event=metrics_listen .*(port \([0-9]*\)).*/\1/p' "$WORK/$1.err" | head -n 1
}

# (e) --metrics-listen :PORT: loopback only.
metrics_loopback() {
	local fifo="$WORK/stdin.fifo" port listeners pid w
	mkfifo "$fifo"
	# Held open for writing, so that the loader waits on its standard input.
	exec {w}<>"$fifo"
	# The loader gets the read end only: the end of the input is ours to give.
	"$EDONU_INGEST" load --dsn "$EDONU_TEST_DSN" --table t --progress never --metrics-listen :0 \
		--summary "$WORK/listen.json" - <"$fifo" 2>"$WORK/listen.err" {w}>&- &
	pid=$!
	LOADER_PID=$pid
	on_exit "kill_leftover"
	wait_until "$WAIT_TIMEOUT_S" "the metrics server" \
		bash -c '[[ -n "$(sed -n "s/.*event=metrics_listen .*(port \([0-9]*\)).*/\1/p" "$0")" ]] || ! kill -0 "$1"' \
		"$WORK/listen.err" "$pid" || true
	port="$(metrics_port listen)"
	if [[ -z "$port" ]]; then
		show_err listen
		check "metrics: the log gives the port" yes no
	else
		listeners="$(ss -Hltn "sport = :$port" | awk '{print $4}' | LC_ALL=C sort)"
		check "metrics: listening sockets on port $port" "127.0.0.1:$port" "$listeners"
	fi
	exec {w}>&-
	reap "$pid"
	check "metrics: the load ends with its input" 0 "$RC"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v jq >/dev/null || die "jq is needed to read the summaries"
	command -v ss >/dev/null || die "ss is needed to list listening sockets (apt-get install iproute2)"
	umask 022
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/edonu-hostile.XXXXXX")"
	on_exit "rm -rf '$WORK'"
	pg_start
	psql_q "CREATE TABLE t (id int, secret text)"

	symlink_in_spool
	private_rejects
	escape_in_header
	empty_stdin
	metrics_loopback
	finish
}

main "$@"
