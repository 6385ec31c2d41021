-- cmi5 AU credentials bound to their launch (lrs/credentials.py), and the voiding statements
-- the LMS sends for cmi5 sequencing violations (lms/progress).

-- cmi5 9.2: the actor of an AU's statements MUST be the actor of its launch; 9.6.1: their
-- registration MUST be the launch's. A bound credential writes only such statements.
-- `bound_actor` is the agent's key as `ingest.rows.agent_key` writes it.
ALTER TABLE credentials
    ADD COLUMN bound_actor        text,
    ADD COLUMN bound_registration uuid,
    ADD CONSTRAINT credentials_bound_both
        CHECK ((bound_actor IS NULL) = (bound_registration IS NULL));

-- cmi5 6.3: the LMS MUST void the statements it does not reject that break a rule of cmi5 9
-- (a second passed, a failed after passed). One voiding per target, kept across rebuilds
-- like `lms_progress_emitted`, since it happened; `accepted` once the LRS has committed it.
CREATE TABLE lms_progress_voidings (
    target       uuid        NOT NULL PRIMARY KEY,  -- the statement voided
    statement_id uuid        NOT NULL,              -- the voiding statement
    body         text        NOT NULL,              -- the voiding statement (JSON)
    decided      timestamptz NOT NULL DEFAULT now(),
    accepted     timestamptz
);
CREATE INDEX lms_progress_voidings_pending ON lms_progress_voidings (decided)
    WHERE accepted IS NULL;
