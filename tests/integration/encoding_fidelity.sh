#!/usr/bin/env bash
# Proves that input in a single-byte encoding is stored exactly as psql's
# \copy stores it with PGCLIENTENCODING set to that encoding: LATIN1,
# WIN1252, LATIN9 and WIN1250 files (ü, é, €, Œ, every byte the encoding
# maps, in text, varchar, char and jsonb columns and in the header's column
# names), CSV and text format, named by --encoding in PostgreSQL's spellings
# or by PGCLIENTENCODING, from a file or from stdin in small chunks: the
# tables match with EXCEPT ALL both ways, and the same records are refused
# with the same messages (a byte with no character in the encoding among
# them, exit 65), each reject line holding the record's original bytes.
# Every byte of each of the 27 single-byte encodings converts as the
# server's convert_from converts it. NDJSON in WIN1252 is stored as
# json_populate_record stores the lines psql sends in that encoding. A
# multi-byte encoding other than UTF8 is refused (64), from --encoding or
# PGCLIENTENCODING; the config file takes the key; a rerun with another
# encoding is not taken for the same load (78); --from-rejects with the
# load's encoding replays the original bytes.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_ROOT="${SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}"
EDONU_INGEST="${EDONU_INGEST:-$SOURCE_ROOT/build/edonu-ingest}"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=ledger_helpers.sh
source "$HERE/ledger_helpers.sh"

CORPUS="$HERE/encoding_corpus.py"
TABLE_DDL='(id int, "größe" text, note varchar(20), city char(6), amount numeric(10,2), j jsonb)'
SINGLE_BYTE="LATIN1 LATIN2 LATIN3 LATIN4 LATIN5 LATIN6 LATIN7 LATIN8 LATIN9 LATIN10 ISO_8859_5 ISO_8859_6
ISO_8859_7 ISO_8859_8 WIN866 WIN874 WIN1250 WIN1251 WIN1252 WIN1253 WIN1254 WIN1255 WIN1256 WIN1257 WIN1258
KOI8R KOI8U"

# run_loader NAME ARGS...: runs the loader (stdin from $STDIN_FILE when
# set, PGCLIENTENCODING from $LOADER_PGCLIENTENCODING when set: psql in the
# same function keeps talking UTF-8); sets RC and leaves its output in
# $WORK/NAME.log.
run_loader() {
	local name="$1"
	shift
	RC=0
	PGCLIENTENCODING="${LOADER_PGCLIENTENCODING:-$PGCLIENTENCODING}" timeout "$LOAD_TIMEOUT_S" \
		"$EDONU_INGEST" load --progress never "$@" <"${STDIN_FILE:-/dev/null}" >"$WORK/$name.log" 2>&1 || RC=$?
}

# oracle ENC FORMAT: generates the corpus in ENC and FORMAT, and loads it
# record by record with psql's \copy and PGCLIENTENCODING=ENC into table
# o_ENC_FORMAT. Sets ORACLE_FAILED.
oracle() {
	local enc="$1" fmt="$2" dir="$WORK/$1-$2" opts f n rows
	n="$(python3 "$CORPUS" gen --encoding "$enc" --format "$fmt" --out "$dir")"
	opts="csv header"
	[[ "$fmt" == text ]] && opts="(format text)"
	psql_q "CREATE TABLE o_${enc,,}_$fmt $TABLE_DDL"
	for f in "$dir"/split/r*; do
		printf "\\\\copy o_%s_%s from '%s' %s\n" "${enc,,}" "$fmt" "$f" "$opts"
	done >"$dir/oracle.sql"
	PGCLIENTENCODING="$enc" psql -X -q -v ON_ERROR_STOP=0 -f "$dir/oracle.sql" >/dev/null 2>"$dir/oracle.err" || true
	ORACLE_FAILED="$(grep -c '^psql:.*: ERROR:  ' "$dir/oracle.err" || true)"
	rows="$(psql_q "SELECT count(*) FROM o_${enc,,}_$fmt")"
	assert_eq "oracle $enc $fmt: records = rows + errors" "$n" "$((rows + ORACLE_FAILED))"
	note "oracle $enc $fmt: $n records, psql's \\copy refused $ORACLE_FAILED"
}

# variant ENC FORMAT NAME LOADER_ARGS...: loads the corpus of ENC and
# FORMAT (its file, or stdin when the args end in -) into a fresh table and
# compares table, rejects and exit code with the oracle's.
variant() {
	local enc="$1" fmt="$2" name="$3"
	shift 3
	local dir="$WORK/$enc-$fmt" table="v_${enc,,}_${fmt}_$name" rej="$WORK/$enc-$fmt-$name.rejects"
	local input="$WORK/$enc-$fmt/input.$fmt" expected_rc=0 failed
	failed="$(grep -c '^psql:.*: ERROR:  ' "$dir/oracle.err" || true)"
	((failed > 0)) && expected_rc=65
	psql_q "CREATE TABLE $table $TABLE_DDL"
	if [[ "${*: -1}" == "-" ]]; then
		STDIN_FILE="$input" run_loader "$enc-$fmt-$name" --table "$table" --format "$fmt" --rejects "$rej" "$@"
	else
		run_loader "$enc-$fmt-$name" --table "$table" --format "$fmt" --rejects "$rej" "$@" "$input"
	fi
	[[ "$RC" == "$expected_rc" ]] || tail -n 5 "$WORK/$enc-$fmt-$name.log" >&2
	check "$enc $fmt $name: exit code" "$expected_rc" "$RC"
	check "$enc $fmt $name: rows only in psql's table, only in edonu-ingest's" "0 0" \
		"$(psql_q "SELECT count(*) FROM (SELECT o::text FROM o_${enc,,}_$fmt o EXCEPT ALL SELECT v::text FROM $table v) d") $(
			psql_q "SELECT count(*) FROM (SELECT v::text FROM $table v EXCEPT ALL SELECT o::text FROM o_${enc,,}_$fmt o) d")"
	check "$enc $fmt $name: the records psql refused, with its messages and their raw bytes" "$failed" \
		"$(python3 "$CORPUS" check --encoding "$enc" --rejects "$rej" --oracle-err "$dir/oracle.err" \
			--raw "$dir/raw.json" || echo mismatch)"
}

# every_byte: for each single-byte encoding, every byte from 0x80 loads as
# the server's convert_from converts it, and the bytes it refuses are
# rejected with its message.
every_byte() {
	psql_q "CREATE TABLE bytemap (enc text, b int, u text, msg text)"
	psql_q "DO \$\$ DECLARE e text; i int; BEGIN
		FOREACH e IN ARRAY regexp_split_to_array('$SINGLE_BYTE', '\\s+') LOOP
			FOR i IN 128..255 LOOP
				BEGIN
					INSERT INTO bytemap VALUES (e, i, convert_from(decode(to_hex(i), 'hex'), e), NULL);
				EXCEPTION WHEN untranslatable_character THEN
					INSERT INTO bytemap VALUES (e, i, NULL, SQLERRM);
				END;
			END LOOP;
		END LOOP; END \$\$"
	local enc input="$WORK/bytes.csv" rej
	python3 -c 'import sys
sys.stdout.buffer.write(b"b,u\n" + b"".join(b"%d,%c\n" % (i, i) for i in range(128, 256)))' >"$input"
	for enc in $SINGLE_BYTE; do
		rej="$WORK/bytes-$enc.rejects"
		psql_q "CREATE TABLE bytes_${enc,,} (b int, u text)"
		run_loader "bytes-$enc" --table "bytes_${enc,,}" --encoding "$enc" --rejects "$rej" "$input"
		check "every byte, $enc: rows unlike the server's conversion" "0 0" \
			"$(psql_q "SELECT count(*) FROM (SELECT b, u FROM bytemap WHERE enc = '$enc' AND u IS NOT NULL
				EXCEPT ALL SELECT b, u FROM bytes_${enc,,}) d") $(psql_q "SELECT count(*) FROM (SELECT b, u FROM bytes_${enc,,}
				EXCEPT ALL SELECT b, u FROM bytemap WHERE enc = '$enc') d")"
		check "every byte, $enc: refused bytes and messages" \
			"$(psql_q "SELECT string_agg((b - 127) || ' ' || msg, ';' ORDER BY b) FROM bytemap
				WHERE enc = '$enc' AND u IS NULL")" \
			"$(if [[ -f "$rej" ]]; then jq -r '"\(.record) \(.message)"' "$rej" | paste -sd ';'; fi)"
	done
	note "bytes the server refuses: $(psql_q "SELECT string_agg(enc || ':' || cnt, ' ') FROM
		(SELECT enc, count(*) AS cnt FROM bytemap WHERE u IS NULL GROUP BY enc) d")"
}

# ndjson: WIN1252 lines, stored as json_populate_record stores them when
# psql sends them with PGCLIENTENCODING=WIN1252; the line with a byte
# WIN1252 lacks is refused by both.
ndjson() {
	local in="$WORK/w.ndjson" sql="$WORK/ndjson.sql" line
	printf '%s\n' '{"id": 1, "größe": "Müller € Œuvre", "note": "é", "j": {"ü": ["€"]}}' \
		'{"id": 2, "größe": "Šárka", "city": "Köln", "amount": 3}' \
		'{"id": 3, "größe": "bad \x81"}' '{"id": 4, "note": "ééééééééééééééééééééé"}' |
		iconv -f UTF-8 -t WINDOWS-1252 | sed 's/\\x81/\x81/' >"$in"
	psql_q "CREATE TABLE nd_psql $TABLE_DDL; CREATE TABLE nd_ei $TABLE_DDL"
	while IFS= read -r line; do
		# shellcheck disable=SC2016 # $j$ is SQL's dollar quoting, not the shell's
		printf 'INSERT INTO nd_psql SELECT * FROM json_populate_record(null::nd_psql, $j$%s$j$);\n' "$line"
	done <"$in" >"$sql"
	PGCLIENTENCODING=WIN1252 psql -X -q -v ON_ERROR_STOP=0 -f "$sql" >/dev/null 2>"$WORK/ndjson.err" || true
	check "ndjson: psql refused" 2 "$(grep -c ': ERROR:  ' "$WORK/ndjson.err" || true)"
	run_loader ndjson --table nd_ei --format ndjson --encoding windows-1252 --rejects "$WORK/nd.rejects" "$in"
	check "ndjson: exit code" 65 "$RC"
	check "ndjson: rows only in psql's table, only in edonu-ingest's" "0 0" \
		"$(psql_q "SELECT count(*) FROM (SELECT o::text FROM nd_psql o EXCEPT ALL SELECT v::text FROM nd_ei v) d") $(
			psql_q "SELECT count(*) FROM (SELECT v::text FROM nd_ei v EXCEPT ALL SELECT o::text FROM nd_psql o) d")"
	check "ndjson: rejected records" "3 4" "$(jq -r .record "$WORK/nd.rejects" | paste -sd ' ')"
	check "ndjson: the unmapped byte's message" \
		'character with byte sequence 0x81 in encoding "WIN1252" has no equivalent in encoding "UTF8"' \
		"$(jq -r 'select(.record == 3) | .message' "$WORK/nd.rejects")"
}

# refusals: unsupported encodings (64), the config key, and a rerun with
# another encoding (78).
refusals() {
	local in="$WORK/WIN1252-csv/input.csv"
	psql_q "CREATE TABLE r $TABLE_DDL"
	run_loader sjis --table r --encoding SJIS "$in"
	check "--encoding SJIS: exit code" 64 "$RC"
	check_true "--encoding SJIS: says why and what is supported" \
		grep -q 'SJIS is not supported.*supported: UTF8, LATIN1 to LATIN10' "$WORK/sjis.log"
	LOADER_PGCLIENTENCODING=BIG5 run_loader big5 --table r "$in"
	check "PGCLIENTENCODING=BIG5: exit code" 64 "$RC"
	check_true "PGCLIENTENCODING=BIG5: names the variable" grep -q 'PGCLIENTENCODING.*BIG5 is not supported' \
		"$WORK/big5.log"
	run_loader bogus --table r --encoding cp1252 "$in"
	check "--encoding cp1252: exit code" 64 "$RC"
	check_true "--encoding cp1252: names PostgreSQL's name" grep -q 'PostgreSQL calls it WIN1252' "$WORK/bogus.log"
	check "nothing loaded by the refused runs" 0 "$(psql_q "SELECT count(*) FROM r")"

	printf '[load]\nencoding = Windows-1252\n' >"$WORK/enc.conf"
	run_loader config --table r --config "$WORK/enc.conf" --rejects "$WORK/config.rejects" "$in"
	check "config encoding = Windows-1252: exit code" 65 "$RC"
	check "config encoding = Windows-1252: rows as psql's" 0 "$(psql_q "SELECT count(*) FROM
		(SELECT o::text FROM o_win1252_csv o EXCEPT ALL SELECT v::text FROM r v) d")"
	run_loader rerun --table r --encoding LATIN1 "$in"
	check "rerun with another encoding: exit code" 78 "$RC"
	check_true "rerun with another encoding: names both" grep -q 'encoding=WIN1252.*now.*encoding=LATIN1' \
		"$WORK/rerun.log"
}

# replay: --from-rejects with the load's --encoding reads the rejects'
# original bytes, header included, as the load read them.
replay() {
	local in="$WORK/replay.csv"
	printf 'id,gr\xf6\xdfe\n0,ok\n1,caf\xe9\n2,\x80uro \x8c\n3,x\x81y\n' >"$in"
	psql_q 'CREATE TABLE rp (id int, "größe" varchar(3))'
	run_loader replay-load --table rp --encoding WIN1252 --rejects "$WORK/rp1.rejects" "$in"
	check "replay: first load's exit code and rejected records" "65 2 3 4" \
		"$RC $(jq -r .record "$WORK/rp1.rejects" | paste -sd ' ')"
	psql_q 'ALTER TABLE rp ALTER COLUMN "größe" TYPE text'
	run_loader replay --table rp --encoding WIN1252 --format csv --rejects "$WORK/rp2.rejects" \
		--from-rejects "$WORK/rp1.rejects"
	check "replay: exit code and what is still refused" "65 3" "$RC $(jq -r .raw "$WORK/rp2.rejects" | cut -c1)"
	check "replay: rows" "0:ok 1:café 2:€uro Œ" \
		"$(psql_q "SELECT string_agg(id || ':' || \"größe\", ' ' ORDER BY id) FROM rp")"
}

main() {
	[[ -x "$EDONU_INGEST" ]] || die "no loader at $EDONU_INGEST (set EDONU_INGEST)"
	command -v python3 >/dev/null || die "python3 is needed for the corpus"
	command -v jq >/dev/null || die "jq is needed to read the rejects"
	WORK="$(_lib_tmpdir edonu-enc)"
	on_exit "rm -rf '$WORK'"
	pg_start
	export PGDATABASE=postgres

	local enc fmt
	for enc in LATIN1 WIN1252; do
		for fmt in csv text; do
			oracle "$enc" "$fmt"
		done
	done
	oracle LATIN9 csv
	oracle WIN1250 csv
	check "premise: psql refuses WIN1252's five unmapped bytes (csv)" 1 \
		"$(grep -c 'character with byte sequence 0x81 in encoding "WIN1252" has no equivalent' \
			"$WORK/WIN1252-csv/oracle.err")"

	variant LATIN1 csv option --encoding latin1
	variant LATIN1 text option --encoding ISO_8859_1
	variant WIN1252 csv option --encoding windows-1252
	variant WIN1252 text option --encoding WIN1252
	variant WIN1252 csv stdin --encoding win1252 --batch-rows 7 --workers 2 --source-id enc-stdin -
	variant LATIN9 csv option --encoding iso-8859-15
	variant WIN1250 csv option --encoding Windows-1250
	local fmt_env
	for enc in LATIN1 WIN1252; do
		for fmt_env in csv text; do
			LOADER_PGCLIENTENCODING="$enc" variant "$enc" "$fmt_env" pgclientencoding
		done
	done
	check_true "PGCLIENTENCODING: the run says how it reads the input" \
		grep -q 'input read as WIN1252, from PGCLIENTENCODING' "$WORK/WIN1252-text-pgclientencoding.log"

	every_byte
	ndjson
	refusals
	replay
	finish
}

main "$@"
