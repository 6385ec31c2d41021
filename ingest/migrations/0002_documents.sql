-- The Document Resources: State, Activity Profile and Agent Profile documents, in one table.
-- A part of the key a resource does not use is '' (never NULL), so the primary key alone
-- keeps a document unique and a missing registration is not a wildcard.

CREATE TABLE documents (
    kind         text        NOT NULL CHECK (kind IN ('state', 'activity_profile', 'agent_profile')),
    activity     text        NOT NULL,  -- activityId; '' for agent profiles
    agent        text        NOT NULL,  -- agent_key() of the Agent; '' for activity profiles
    registration text        NOT NULL,  -- canonical UUID text; '' when none (state only)
    doc_id       text        NOT NULL,  -- stateId or profileId
    content      bytea       NOT NULL,  -- exactly as stored by PUT, or as merged by POST
    content_type text        NOT NULL,
    etag         text        NOT NULL,  -- SHA-1 hex of content, unquoted
    updated      timestamptz NOT NULL,
    PRIMARY KEY (kind, activity, agent, registration, doc_id)
);

-- Multiple Document GET with `since`: the collection, then its documents by update time.
CREATE INDEX documents_since ON documents (kind, activity, agent, registration, updated);
