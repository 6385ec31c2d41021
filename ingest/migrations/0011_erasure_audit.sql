-- GDPR erasures (lrs/erasure.py): one row per erasure, written in the erasure's transaction.
-- The agent is recorded only as a keyed hash, never by its identifier: the audit must not
-- keep what the erasure removed. Whoever holds the server key can still answer "was this
-- agent erased, when, by whom?" by hashing the identifier they are asked about.

CREATE TABLE erasure_audit (
    id            bigserial   PRIMARY KEY,
    erased_at     timestamptz NOT NULL DEFAULT now(),
    requested_by  text        NOT NULL,  -- "user:<id>", "oidc:<sub>", "client:<key>", "cli:<os user>"
    agent_hash    text        NOT NULL,  -- hex HMAC-SHA-256 of the agent key under the server key
    mode          text        NOT NULL CHECK (mode IN ('delete', 'pseudonymise')),
    deleted       integer     NOT NULL,  -- statements removed
    pseudonymised integer     NOT NULL,  -- statements rewritten with the pseudonym
    documents     integer     NOT NULL,  -- State and Agent Profile documents removed
    attachments   integer     NOT NULL   -- attachment contents no statement refers to any more
);
CREATE INDEX erasure_audit_agent ON erasure_audit (agent_hash);
