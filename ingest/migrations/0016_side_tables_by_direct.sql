-- The side tables split by `direct`: list partitions of direct and of related mentions, each
-- with its (key, seq) index. A query for direct mentions only (the default for agent and
-- activity) reads exactly those, in seq order, instead of walking every related mention of
-- the key too and filtering them out: an activity that is mostly a parent in context (a
-- course) or an agent that is mostly an authority or instructor cost a walk over all its
-- rows. A query for both reads the two partitions' index ranges merged in seq order (Merge
-- Append). Each row is in one partition, so the write path keeps one index entry per row.
DROP INDEX statement_agents_lookup;
ALTER TABLE statement_agents RENAME TO statement_agents_unpartitioned;
CREATE TABLE statement_agents (
    agent  text    NOT NULL,
    seq    bigint  NOT NULL,
    direct boolean NOT NULL
) PARTITION BY LIST (direct);
CREATE TABLE statement_agents_direct PARTITION OF statement_agents FOR VALUES IN (true);
CREATE TABLE statement_agents_related PARTITION OF statement_agents FOR VALUES IN (false);
INSERT INTO statement_agents SELECT agent, seq, direct FROM statement_agents_unpartitioned;
DROP TABLE statement_agents_unpartitioned;
CREATE INDEX statement_agents_lookup ON statement_agents (agent, seq);

DROP INDEX statement_activities_lookup;
ALTER TABLE statement_activities RENAME TO statement_activities_unpartitioned;
CREATE TABLE statement_activities (
    activity text    NOT NULL,
    seq      bigint  NOT NULL,
    direct   boolean NOT NULL
) PARTITION BY LIST (direct);
CREATE TABLE statement_activities_direct PARTITION OF statement_activities FOR VALUES IN (true);
CREATE TABLE statement_activities_related PARTITION OF statement_activities
    FOR VALUES IN (false);
INSERT INTO statement_activities
    SELECT activity, seq, direct FROM statement_activities_unpartitioned;
DROP TABLE statement_activities_unpartitioned;
CREATE INDEX statement_activities_lookup ON statement_activities (activity, seq);

ANALYZE statement_agents;
ANALYZE statement_activities;
