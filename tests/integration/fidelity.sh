# fidelity.sh - the differential machinery shared by csv_fidelity.sh and
# text_format.sh: PostgreSQL's own COPY, fed one record at a time through
# psql's \copy, is the oracle; edonu-ingest must store the same rows and
# reject the same number of records.
#
# Sourced after lib.sh, with pg_start done.  Callers set FID_FORMAT (csv or
# text), FID_WORK (a scratch directory) and EDONU_INGEST.
# shellcheck shell=bash

FID_GEN="${SOURCE_ROOT:?}/tests/data/fidelity/gen_corpus.py"
FID_FAILED=()    # names of the variants that failed
FID_LOADER_TIMEOUT_S="${FID_LOADER_TIMEOUT_S:-180}"

# fid_gen ARGS...: runs the corpus generator in the chosen format.
fid_gen() {
	python3 "$FID_GEN" --format "$FID_FORMAT" "$@"
}

# fid_check_committed FILE: the committed corpus must be what the generator
# writes today, so that the corpus and its generator never drift apart.
fid_check_committed() {
	local committed="$1"
	fid_gen -o "$FID_WORK/regenerated"
	if ! cmp -s "$committed" "$FID_WORK/regenerated"; then
		die "$committed is stale: run python3 $FID_GEN --format $FID_FORMAT -o $committed"
	fi
}

# fid_oracle DB COPYOPTS GENARGS...: creates database DB holding table fid
# and fid_psql, the latter loaded record by record with \copy in a single
# psql session.  Sets FID_ORACLE_RECORDS and FID_ORACLE_FAILED.
fid_oracle() {
	local db="$1" copyopts="$2"
	shift 2
	local split="$FID_WORK/split-$db" script="$FID_WORK/oracle-$db.sql" rows f
	psql_q "CREATE DATABASE $db"
	PGDATABASE="$db" psql_q "$(fid_gen --ddl) CREATE TABLE fid_psql (LIKE fid);"
	FID_ORACLE_RECORDS="$(fid_gen "$@" --split "$split")"
	for f in "$split"/r*; do
		printf "\\\\copy fid_psql from '%s' %s\n" "$f" "$copyopts"
	done >"$script"
	PGDATABASE="$db" psql -X -q -v ON_ERROR_STOP=0 -f "$script" \
		>"$FID_WORK/oracle-$db.out" 2>"$FID_WORK/oracle-$db.err" || true
	FID_ORACLE_FAILED="$(grep -c '^psql:.*: ERROR:  ' "$FID_WORK/oracle-$db.err" || true)"
	rows="$(PGDATABASE="$db" psql_q "SELECT count(*) FROM fid_psql")"
	# Every record is one row or one error; anything else means psql did
	# something we did not expect (a fatal error, a lost connection).
	printf -v "FID_ORACLE_FAILED_$db" '%s' "$FID_ORACLE_FAILED"
	assert_eq "oracle $db: records = rows + errors" "$FID_ORACLE_RECORDS" "$((rows + FID_ORACLE_FAILED))"
	note "oracle $db: $FID_ORACLE_RECORDS records, COPY refused $FID_ORACLE_FAILED, stored $rows"
}

# fid_oracle_failed DB: how many records COPY refused in fid_oracle DB.
fid_oracle_failed() {
	local var="FID_ORACLE_FAILED_$1"
	echo "${!var}"
}

# loader_has_option NAME: whether `load --help` documents --NAME.
loader_has_option() {
	"$EDONU_INGEST" load --help 2>&1 | grep -q -- "--$1\\b"
}

# _fid_fail VARIANT MESSAGE: records a failed check and keeps going, so one
# run reports every variant.
_fid_fail() {
	note "FAIL [$1]: $2"
	FID_FAILED+=("$1")
}

# fid_variant NAME ORACLE_DB INPUT LOADER_ARGS...: loads INPUT (a path, or
# "-" to read it from stdin: then STDIN_FILE names the file) into a fresh
# copy of ORACLE_DB (made by fid_oracle) and compares with the oracle.
fid_variant() {
	local name="$1" oracle_db="$2" input="$3"
	shift 3
	local db="v_${name}" rej="$FID_WORK/rejects-$name.ndjson" log="$FID_WORK/loader-$name.log"
	local expected_failed expected_rc rc
	expected_failed="$(fid_oracle_failed "$oracle_db")"
	expected_rc=0
	if ((expected_failed > 0)); then
		expected_rc=65
	fi

	psql_q "CREATE DATABASE $db TEMPLATE $oracle_db"
	PGDATABASE="$db" psql_q "CREATE TABLE fid_ei (LIKE fid)"
	rm -f "$rej"

	local cmd=("$EDONU_INGEST" load --dsn "$(pg_dsn "$db")" --table fid_ei
		--format "$FID_FORMAT" --rejects "$rej" --progress never "$@" "$input")
	note "[$name] ${cmd[*]}${STDIN_FILE:+ < $STDIN_FILE}"
	rc=0
	if [[ "$input" == "-" ]]; then
		timeout "$FID_LOADER_TIMEOUT_S" "${cmd[@]}" <"$STDIN_FILE" >"$log" 2>&1 || rc=$?
	else
		timeout "$FID_LOADER_TIMEOUT_S" "${cmd[@]}" </dev/null >"$log" 2>&1 || rc=$?
	fi
	if ((rc != expected_rc)); then
		_fid_fail "$name" "exit code $rc, expected $expected_rc; loader output:"
		tail -n 20 "$log" >&2
	fi

	# Rows: compared as their text form, which covers every column type
	# (json has no equality operator) and tells -0 from 0 and 1.0 from 1.00.
	local only_psql only_ei
	only_psql="$(PGDATABASE="$db" psql_q "SELECT count(*) FROM (SELECT p::text FROM fid_psql p EXCEPT ALL SELECT e::text FROM fid_ei e) d")"
	only_ei="$(PGDATABASE="$db" psql_q "SELECT count(*) FROM (SELECT e::text FROM fid_ei e EXCEPT ALL SELECT p::text FROM fid_psql p) d")"
	if [[ "$only_psql" != 0 || "$only_ei" != 0 ]]; then
		_fid_fail "$name" "$only_psql rows only in COPY's table, $only_ei only in edonu-ingest's; first of them:"
		PGDATABASE="$db" psql -X -q -v ON_ERROR_STOP=1 -c "
			(SELECT 'copy' AS side, p::text AS row FROM fid_psql p
			 EXCEPT ALL SELECT 'copy', e::text FROM fid_ei e)
			UNION ALL
			(SELECT 'edonu', e::text FROM fid_ei e
			 EXCEPT ALL SELECT 'edonu', p::text FROM fid_psql p)
			ORDER BY 2, 1 LIMIT 20" >&2 || true
	else
		note "ok [$name]: tables equal ($(PGDATABASE="$db" psql_q "SELECT count(*) FROM fid_ei") rows)"
	fi

	# Rejects: one JSON object per line, as many as COPY refused.
	local rejected=0
	if [[ -e "$rej" ]]; then
		if ! rejected="$(python3 - "$rej" <<-'PY'
			import json, sys
			n = 0
			with open(sys.argv[1], "rb") as f:
			    for i, line in enumerate(f, 1):
			        try:
			            obj = json.loads(line)
			        except ValueError as e:
			            sys.exit("line %d is not JSON: %s" % (i, e))
			        if not isinstance(obj, dict):
			            sys.exit("line %d is not a JSON object" % i)
			        n += 1
			print(n)
			PY
		)"; then
			_fid_fail "$name" "rejects file $rej is not NDJSON"
			rejected=-1
		fi
	fi
	if [[ "$rejected" != "$expected_failed" ]]; then
		_fid_fail "$name" "$rejected rejects written, COPY refused $expected_failed"
	else
		note "ok [$name]: $rejected rejects, as COPY"
	fi
	psql_q "DROP DATABASE $db" >/dev/null
}

# fid_finish: the verdict.
fid_finish() {
	if ((${#FID_FAILED[@]} > 0)); then
		die "failed variants: $(printf '%s\n' "${FID_FAILED[@]}" | sort -u | tr '\n' ' ')"
	fi
	note "all variants agree with COPY"
}
