-- Each API worker's oldest uncommitted statement, so that X-Experience-API-Consistent-Through
-- covers the other hosts sharing this database (ingest/inflight_hosts.py). UNLOGGED: nothing
-- in it outlives its writer by more than a few seconds, so a crash may well empty it.
CREATE UNLOGGED TABLE inflight_workers (
    worker   text        PRIMARY KEY,  -- host and pid
    host     text        NOT NULL,     -- machine name and data directory: one in-flight board
    oldest   timestamptz NOT NULL,     -- least(oldest uncommitted `stored`, now), worker's clock
    reported timestamptz NOT NULL      -- the database's clock
);
