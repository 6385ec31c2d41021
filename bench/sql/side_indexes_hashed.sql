-- For `hyperedu bench append --variant`: the side tables indexed on a 64-bit hash of the key
-- instead of the key itself (16-byte entries instead of 50-70 bytes of IRI or mailbox). A
-- query would look up the hash and recheck the key on the table's rows. What it would save
-- on writes; not adopted (see the README's benchmark notes).
DROP INDEX statement_agents_lookup;
DROP INDEX statement_activities_lookup;
DROP INDEX activity_definitions_lookup;
CREATE INDEX statement_agents_lookup ON statement_agents (hashtextextended(agent, 0), seq);
CREATE INDEX statement_activities_lookup ON statement_activities (hashtextextended(activity, 0), seq);
CREATE INDEX activity_definitions_lookup
    ON activity_definitions (hashtextextended(activity, 0), seq);
