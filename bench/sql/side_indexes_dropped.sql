-- For `hyperedu bench append --variant`: what the side tables' (key, seq) indexes cost a
-- statement (agents, activities and activity definitions: six entries for a workload
-- statement). Not a design: without them agent and activity queries would scan.
DROP INDEX statement_agents_lookup;
DROP INDEX statement_activities_lookup;
DROP INDEX activity_definitions_lookup;
