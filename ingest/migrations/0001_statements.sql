-- The statement store. The write path only appends: one COPY per batch into `statements`
-- and its two side tables, never an update of a shared row.

CREATE SEQUENCE statement_seq;

CREATE TABLE statements (
    seq          bigint      NOT NULL,              -- commit-batch order; the query cursor
    id           uuid        NOT NULL PRIMARY KEY,
    stored       timestamptz NOT NULL,
    verb         text        NOT NULL,
    registration uuid,
    ref_target   uuid,                              -- object.id when the object is a StatementRef
    voiding      boolean     NOT NULL DEFAULT false, -- verb is .../voided (ref_target is the target)
    authority    text        NOT NULL,              -- key of the credential that wrote it
    attachments  text[],                            -- sha2 of each attachment held in `attachments`
    body         text        NOT NULL               -- the statement as stored (JSON)
);
CREATE UNIQUE INDEX statements_seq ON statements (seq);
CREATE INDEX statements_stored ON statements (stored);
CREATE INDEX statements_verb ON statements (verb, seq);
CREATE INDEX statements_registration ON statements (registration, seq) WHERE registration IS NOT NULL;
CREATE INDEX statements_ref_target ON statements (ref_target) WHERE ref_target IS NOT NULL;
CREATE INDEX statements_authority ON statements (authority, seq);

-- Every agent a statement mentions, keyed by its inverse functional identifier.
-- direct: actor or object (or a member of a group there); otherwise only `related_agents` sees it.
CREATE TABLE statement_agents (
    agent  text    NOT NULL,
    seq    bigint  NOT NULL,
    direct boolean NOT NULL
);
CREATE INDEX statement_agents_lookup ON statement_agents (agent, seq);

-- Every activity a statement mentions. direct: the statement's object.
CREATE TABLE statement_activities (
    activity text    NOT NULL,
    seq      bigint  NOT NULL,
    direct   boolean NOT NULL
);
CREATE INDEX statement_activities_lookup ON statement_activities (activity, seq);

-- Attachment content, stored once per SHA-2.
CREATE TABLE attachments (
    sha2         text  NOT NULL PRIMARY KEY,
    content_type text  NOT NULL,
    content      bytea NOT NULL
);

CREATE TABLE credentials (
    key           text        NOT NULL PRIMARY KEY,
    secret_digest bytea       NOT NULL,
    scopes        text[]      NOT NULL,
    label         text        NOT NULL DEFAULT '',
    created       timestamptz NOT NULL DEFAULT now(),
    revoked       timestamptz
);

-- Activity definitions as statements carried them, from credentials allowed to define;
-- the Activities resource merges them in seq order into the canonical definition.
CREATE TABLE activity_definitions (
    activity   text   NOT NULL,
    seq        bigint NOT NULL,
    definition text   NOT NULL  -- JSON
);
CREATE INDEX activity_definitions_lookup ON activity_definitions (activity, seq);

