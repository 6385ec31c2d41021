-- For `hyperedu bench append --variant`: migration 0018 undone, the indexed keys back in the
-- database's default collation. B/A above 1 is what 0018 saves.
ALTER TABLE statement_agents ALTER COLUMN agent TYPE text COLLATE "default";
ALTER TABLE statement_activities ALTER COLUMN activity TYPE text COLLATE "default";
ALTER TABLE activity_definitions ALTER COLUMN activity TYPE text COLLATE "default";
ALTER TABLE statements ALTER COLUMN verb TYPE text COLLATE "default",
    ALTER COLUMN authority TYPE text COLLATE "default";
