-- The keys the write path indexes on every statement (agent keys, activity IRIs, verb IRIs,
-- the authority) compare byte by byte: collation "C". They are identifiers, matched exactly
-- and never sorted for people to read, so the database's locale only made each B-tree
-- comparison a strcoll() call. Equality is the same under both (deterministic collations).
-- `hyperedu bench append --variant bench/sql/keys_database_collation.sql` on the embedded
-- PostgreSQL (locale C.UTF-8): 5-9 % less PostgreSQL CPU per appended statement with "C"; a
-- server on an ICU or en_US locale pays more for strcoll, so gains more. The column's collation changes without rewriting the table; its
-- indexes are rebuilt (minutes on a store of millions of statements).
ALTER TABLE statement_agents ALTER COLUMN agent TYPE text COLLATE "C";
ALTER TABLE statement_activities ALTER COLUMN activity TYPE text COLLATE "C";
ALTER TABLE activity_definitions ALTER COLUMN activity TYPE text COLLATE "C";
ALTER TABLE statements ALTER COLUMN verb TYPE text COLLATE "C",
    ALTER COLUMN authority TYPE text COLLATE "C";
