-- `statements` partitioned by `stored`: a TimescaleDB hypertable where the extension can be
-- loaded, native monthly range partitions otherwise (plus a default partition for whatever
-- falls outside them). Old months can then be detached, archived or dropped whole.
--
-- A unique index on a partitioned table must contain the partition key, so statement ids
-- are kept unique by a table of their own, `statement_ids` (id -> seq, stored): the append
-- writes it first, a duplicate id raises unique_violation there, and lookups by id go
-- through it to the one partition holding the statement. The statements table itself then
-- needs no index on id, so the write path keeps the same number of index entries.
-- `stored` gets a BRIN index: it grows with time, so a block range summary is enough to
-- skip what a since/until window excludes, at a fraction of a B-tree's cost per row.

ALTER TABLE statements RENAME TO statements_unpartitioned;
ALTER TABLE statements_unpartitioned DROP CONSTRAINT statements_pkey;
DROP INDEX statements_seq, statements_stored, statements_verb, statements_registration,
    statements_ref_target, statements_authority, statements_voiding_targets;

CREATE TABLE statement_ids (
    id     uuid        NOT NULL PRIMARY KEY,
    seq    bigint      NOT NULL,
    stored timestamptz NOT NULL
);
INSERT INTO statement_ids (id, seq, stored) SELECT id, seq, stored FROM statements_unpartitioned;

-- Makes sure monthly partitions exist for every month from `first` to `last` (inclusive),
-- moving any rows the default partition holds for a new month into it. A no-op when
-- `statements` is not natively partitioned (a TimescaleDB hypertable makes its own chunks).
-- Returns the number of partitions created.
CREATE FUNCTION ensure_statement_partitions(first timestamptz, last timestamptz)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    month timestamptz := date_trunc('month', first, 'UTC');
    name  text;
    made  int := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'statements'::regclass) THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('ensure_statement_partitions'));
    WHILE month <= last LOOP
        name := 'statements_' || to_char(month AT TIME ZONE 'UTC', 'YYYY_MM');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I (LIKE statements INCLUDING DEFAULTS)', name);
            EXECUTE format(
                'WITH moved AS (DELETE FROM statements_default WHERE stored >= $1 AND stored < $2'
                ' RETURNING *) INSERT INTO %I SELECT * FROM moved', name)
                USING month, month + interval '1 month';
            EXECUTE format(
                'ALTER TABLE statements ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                name, month, month + interval '1 month');
            made := made + 1;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN made;
END $$;

DO $$
DECLARE
    oldest timestamptz := coalesce((SELECT min(stored) FROM statements_unpartitioned), now());
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS timescaledb;
            CREATE TABLE statements (LIKE statements_unpartitioned INCLUDING DEFAULTS);
            PERFORM create_hypertable('statements', 'stored',
                                      chunk_time_interval => interval '7 days');
            RAISE NOTICE 'statements is a TimescaleDB hypertable';
        EXCEPTION WHEN OTHERS THEN
            -- e.g. installed but not in shared_preload_libraries: native partitions instead
            RAISE NOTICE 'TimescaleDB not usable (%); using native partitions', SQLERRM;
        END;
    END IF;
    IF to_regclass('statements') IS NULL THEN
        CREATE TABLE statements (LIKE statements_unpartitioned INCLUDING DEFAULTS)
            PARTITION BY RANGE (stored);
        CREATE TABLE statements_default PARTITION OF statements DEFAULT;
    END IF;
    CREATE INDEX statements_seq ON statements (seq);
    CREATE INDEX statements_stored ON statements USING brin (stored) WITH (autosummarize = on);
    CREATE INDEX statements_verb ON statements (verb, seq);
    CREATE INDEX statements_registration ON statements (registration, seq)
        WHERE registration IS NOT NULL;
    CREATE INDEX statements_ref_target ON statements (ref_target) WHERE ref_target IS NOT NULL;
    CREATE INDEX statements_authority ON statements (authority, seq);
    CREATE INDEX statements_voiding_targets ON statements (ref_target) WHERE voiding;
    PERFORM ensure_statement_partitions(oldest, now() + interval '3 months');
END $$;

INSERT INTO statements SELECT * FROM statements_unpartitioned;
DROP TABLE statements_unpartitioned;
ANALYZE statements;
ANALYZE statement_ids;

CREATE OR REPLACE FUNCTION append_statements(
    ids uuid[], stored timestamptz[], verbs text[], registrations uuid[], ref_targets uuid[],
    voiding boolean[], authorities text[], bodies text[],
    attachment_of int[], attachment_sha2 text[],
    agent_of int[], agent_keys text[], agent_direct boolean[],
    activity_of int[], activity_ids text[], activity_direct boolean[],
    definition_of int[], definition_activities text[], definitions text[],
    content_sha2 text[], content_types text[], contents bytea[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    seqs bigint[] := ARRAY(SELECT nextval('statement_seq') FROM generate_series(1, cardinality(ids)));
BEGIN
    INSERT INTO statement_ids (id, seq, stored)
    SELECT * FROM unnest(ids, seqs, stored);
    INSERT INTO statements (seq, id, stored, verb, registration, ref_target, voiding, authority, attachments, body)
    SELECT s.seq, s.id, s.stored, s.verb, s.registration, s.ref_target, s.voiding, s.authority,
           CASE WHEN cardinality(attachment_of) > 0 THEN
               (SELECT array_agg(a.sha2) FROM unnest(attachment_of, attachment_sha2) AS a(pos, sha2)
                WHERE a.pos = s.pos)
           END,
           s.body
    FROM unnest(seqs, ids, stored, verbs, registrations, ref_targets, voiding, authorities, bodies)
         WITH ORDINALITY AS s(seq, id, stored, verb, registration, ref_target, voiding, authority, body, pos);
    INSERT INTO statement_agents (agent, seq, direct)
    SELECT a.agent, seqs[a.pos], a.direct FROM unnest(agent_of, agent_keys, agent_direct) AS a(pos, agent, direct);
    INSERT INTO statement_activities (activity, seq, direct)
    SELECT a.activity, seqs[a.pos], a.direct FROM unnest(activity_of, activity_ids, activity_direct) AS a(pos, activity, direct);
    INSERT INTO activity_definitions (activity, seq, definition)
    SELECT d.activity, seqs[d.pos], d.definition FROM unnest(definition_of, definition_activities, definitions) AS d(pos, activity, definition);
    INSERT INTO attachments (sha2, content_type, content)
    SELECT c.sha2, c.content_type, c.content FROM unnest(content_sha2, content_types, contents) AS c(sha2, content_type, content)
    ON CONFLICT (sha2) DO NOTHING;
END $$;
