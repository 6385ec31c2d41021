-- The event bus on PostgreSQL (ingest/bus_postgres.py). The statement stream needs no table
-- of its own: it is `statements` read in seq order. Domain events live in `bus_events`.

-- Each consumer group's committed position per topic: everything at or below it is processed.
CREATE TABLE bus_offsets (
    "group"  text   NOT NULL,
    topic    text   NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY ("group", topic)
);

-- Domain events (core/events.py), appended only; position orders them within a topic.
CREATE TABLE bus_events (
    topic    text      NOT NULL,
    position bigserial NOT NULL,
    key      bytea     NOT NULL,
    value    bytea     NOT NULL,  -- JSON
    PRIMARY KEY (topic, position)
);
