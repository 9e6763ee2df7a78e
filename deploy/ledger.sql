-- ledger.sql - creates the ledger of edonu-ingest (schema edonu_ingest) once, as a DBA, or brings an
-- older one up to date, so that the loading role needs no CREATE on the database and no ownership
-- of the ledger; with -v loader=ROLE it also grants ROLE what a load needs on it:
--
--   psql -d DATABASE -v loader=ROLE -f deploy/ledger.sql
--
-- Run it as the role that is to own the ledger: a superuser, or a role the loading role is a member
-- of. edonu-ingest uses the ledger only when its schema and tables belong to the loading role, a
-- role it is a member of, or a superuser (anything else could run its owner's code with the
-- loader's rights). It makes the same ledger as edonu-ingest's first load does (pipeline/ledger.c:
-- ledger_ddl and ledger_migrations; tests/integration/least_privilege.sh compares the two) and may
-- be run again: a current ledger is left as it is, an older one migrated.
\set ON_ERROR_STOP on
BEGIN;
-- Only the system's functions, operators and types: none planted in a schema of the caller's
-- search_path.
SET LOCAL search_path = pg_catalog, pg_temp;
SET LOCAL client_min_messages = warning;
SELECT pg_advisory_xact_lock(7418220151);

CREATE SCHEMA IF NOT EXISTS edonu_ingest;
CREATE TABLE IF NOT EXISTS edonu_ingest.version (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS edonu_ingest.sources (
	source_id text NOT NULL,
	target text NOT NULL,
	name text,
	batch_rows integer NOT NULL,
	state text NOT NULL DEFAULT 'loading' CHECK (state IN ('loading', 'complete')),
	records bigint, loaded bigint, rejected bigint,
	loads integer NOT NULL DEFAULT 1,
	started_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,
	PRIMARY KEY (source_id, target));
CREATE TABLE IF NOT EXISTS edonu_ingest.chunks (
	source_id text NOT NULL,
	target text NOT NULL,
	chunk bigint NOT NULL,
	records integer NOT NULL,
	loaded integer NOT NULL,
	rejected integer NOT NULL,
	committed_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (source_id, target, chunk));

DO $ledger$
DECLARE
	v integer;
BEGIN
	SELECT version INTO v FROM edonu_ingest.version;
	v := coalesce(v, 0);
	IF v > 4 THEN
		RAISE EXCEPTION 'ledger schema edonu_ingest is at version %, newer than this script (4)', v;
	END IF;
	IF v < 1 THEN
		INSERT INTO edonu_ingest.version VALUES (1);
	END IF;
	-- 2: rejects recorded with their chunk's commit; what each load stored (its settings) and
	-- ignored. Chunks of version 1 kept no rejects: they count as written.
	IF v < 2 THEN
		ALTER TABLE edonu_ingest.chunks ADD COLUMN merged integer,
			ADD COLUMN rejects_written boolean NOT NULL DEFAULT true;
		ALTER TABLE edonu_ingest.sources ADD COLUMN ignored bigint, ADD COLUMN settings text;
		CREATE TABLE edonu_ingest.rejects (
			source_id text NOT NULL,
			target text NOT NULL,
			chunk bigint NOT NULL,
			record bigint NOT NULL,
			line bigint NOT NULL,
			byte_offset bigint NOT NULL,
			column_name text,
			sqlstate text,
			message text NOT NULL,
			raw bytea NOT NULL,
			header bytea,
			PRIMARY KEY (source_id, target, record));
		UPDATE edonu_ingest.version SET version = 2;
	END IF;
	-- 3: targets named schema.table with each part double-quoted unless it is a plain lower-case
	-- identifier. An older target that needs quotes is renamed after the table it names now; one
	-- that names several ("s.x".t and s."x.t" both printed as s.x.t) is kept for each of them;
	-- one that names none (a dropped table) is split at its first dot.
	IF v < 3 THEN
		CREATE TABLE edonu_ingest.target_map AS
		SELECT DISTINCT t.target AS old, coalesce(m.new,
			CASE WHEN (split_part(t.target, '.', 1))::text ~ '^[a-z_][a-z0-9_$]*$'
				THEN (split_part(t.target, '.', 1))::text
				ELSE '"' || replace((split_part(t.target, '.', 1))::text, '"', '""') || '"' END
			|| '.' ||
			CASE WHEN (substr(t.target, strpos(t.target, '.') + 1))::text ~ '^[a-z_][a-z0-9_$]*$'
				THEN (substr(t.target, strpos(t.target, '.') + 1))::text
				ELSE '"' || replace((substr(t.target, strpos(t.target, '.') + 1))::text, '"', '""')
					|| '"' END) AS new
		FROM (SELECT target FROM edonu_ingest.sources UNION SELECT target FROM edonu_ingest.chunks
			UNION SELECT target FROM edonu_ingest.rejects) t
		LEFT JOIN (SELECT n.nspname || '.' || c.relname AS old,
				CASE WHEN (n.nspname)::text ~ '^[a-z_][a-z0-9_$]*$' THEN (n.nspname)::text
					ELSE '"' || replace((n.nspname)::text, '"', '""') || '"' END
				|| '.' ||
				CASE WHEN (c.relname)::text ~ '^[a-z_][a-z0-9_$]*$' THEN (c.relname)::text
					ELSE '"' || replace((c.relname)::text, '"', '""') || '"' END AS new
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind IN ('r', 'p')) m ON m.old = t.target;
		DELETE FROM edonu_ingest.target_map WHERE old = new;
		WITH moved AS (DELETE FROM edonu_ingest.sources s
				WHERE s.target IN (SELECT old FROM edonu_ingest.target_map) RETURNING s.*)
		INSERT INTO edonu_ingest.sources (source_id, target, name, batch_rows, state, records, loaded,
			rejected, loads, started_at, finished_at, ignored, settings)
		SELECT x.source_id, m.new, x.name, x.batch_rows, x.state, x.records, x.loaded, x.rejected,
			x.loads, x.started_at, x.finished_at, x.ignored, x.settings
		FROM moved x JOIN edonu_ingest.target_map m ON m.old = x.target;
		WITH moved AS (DELETE FROM edonu_ingest.chunks s
				WHERE s.target IN (SELECT old FROM edonu_ingest.target_map) RETURNING s.*)
		INSERT INTO edonu_ingest.chunks (source_id, target, chunk, records, loaded, rejected,
			committed_at, merged, rejects_written)
		SELECT x.source_id, m.new, x.chunk, x.records, x.loaded, x.rejected, x.committed_at, x.merged,
			x.rejects_written
		FROM moved x JOIN edonu_ingest.target_map m ON m.old = x.target;
		WITH moved AS (DELETE FROM edonu_ingest.rejects s
				WHERE s.target IN (SELECT old FROM edonu_ingest.target_map) RETURNING s.*)
		INSERT INTO edonu_ingest.rejects (source_id, target, chunk, record, line, byte_offset,
			column_name, sqlstate, message, raw, header)
		SELECT x.source_id, m.new, x.chunk, x.record, x.line, x.byte_offset, x.column_name, x.sqlstate,
			x.message, x.raw, x.header
		FROM moved x JOIN edonu_ingest.target_map m ON m.old = x.target;
		DROP TABLE edonu_ingest.target_map;
		UPDATE edonu_ingest.version SET version = 3;
	END IF;
	-- 4: where each chunk lies in its input (first record, byte range), so that a stream cut by
	-- time resumes by position. Chunks of earlier versions have none: they are matched by number.
	IF v < 4 THEN
		ALTER TABLE edonu_ingest.chunks ADD COLUMN IF NOT EXISTS first_record bigint,
			ADD COLUMN IF NOT EXISTS byte_offset bigint, ADD COLUMN IF NOT EXISTS byte_end bigint;
		UPDATE edonu_ingest.version SET version = 4;
	END IF;
END
$ledger$;

-- What a load needs on the ledger (the README's "Privileges").
\if :{?loader}
GRANT USAGE ON SCHEMA edonu_ingest TO :"loader";
GRANT SELECT ON edonu_ingest.version TO :"loader";
GRANT SELECT, INSERT, UPDATE ON edonu_ingest.sources TO :"loader";
GRANT SELECT, INSERT, UPDATE, DELETE ON edonu_ingest.chunks TO :"loader";
GRANT SELECT, INSERT, DELETE ON edonu_ingest.rejects TO :"loader";
\endif
COMMIT;
