-- For `hyperedu bench append --variant`: an activity definition is stored only when it differs
-- from the activity's latest stored one (the merge in GET /activities is then the same).
CREATE OR REPLACE FUNCTION append_statements(
    ids uuid[], stored timestamptz[], verbs text[], registrations uuid[], ref_targets uuid[],
    voiding boolean[], authorities text[], bodies text[],
    attachment_of int[], attachment_sha2 text[],
    agent_of int[], agent_keys text[], agent_direct boolean[],
    activity_of int[], activity_ids text[], activity_direct boolean[],
    definition_of int[], definition_activities text[], definitions text[],
    content_sha2 text[], content_types text[], contents bytea[]
) RETURNS void LANGUAGE plpgsql
-- One plan per statement of the body, kept across calls: the planner would otherwise plan
-- some of them anew on every call (custom plans, costed with the arrays' actual lengths),
-- for plans that never differ.
SET plan_cache_mode = force_generic_plan
AS $$
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
    IF cardinality(definition_of) > 0 THEN
        INSERT INTO activity_definitions (activity, seq, definition)
        SELECT d.activity, seqs[d.pos], d.definition
        FROM unnest(definition_of, definition_activities, definitions) AS d(pos, activity, definition)
        WHERE d.definition IS DISTINCT FROM (
            SELECT l.definition FROM activity_definitions l
            WHERE l.activity = d.activity ORDER BY l.seq DESC LIMIT 1);
    END IF;
    IF cardinality(content_sha2) > 0 THEN
        INSERT INTO attachments (sha2, content_type, content)
        SELECT c.sha2, c.content_type, c.content
        FROM unnest(content_sha2, content_types, contents) AS c(sha2, content_type, content)
        ON CONFLICT (sha2) DO NOTHING;
    END IF;
END $$;

