-- cmi5 launches (lms/courses), credentials that expire or may not void, and the voiding
-- of statements in the progress projection (lms/progress).

-- A credential may be limited in time (cmi5 8.2.1: the auth-token is limited to the
-- session), and may be denied voiding statements (cmi5: an AU MUST NOT void statements).
ALTER TABLE credentials
    ADD COLUMN expires  timestamptz,
    ADD COLUMN may_void boolean NOT NULL DEFAULT true;

-- One launch of a cmi5 AU: its session, and the one-time fetch URL (cmi5 8.2) that hands
-- the AU its LRS credential. Only a digest of the fetch token is kept; the credential is
-- made when the token is redeemed, so no secret is ever stored here.
CREATE TABLE lms_cmi5_sessions (
    session_id     uuid        NOT NULL PRIMARY KEY,
    fetch_digest   bytea       NOT NULL UNIQUE,
    course_id      uuid        NOT NULL REFERENCES lms_courses (id) ON DELETE CASCADE,
    item_id        uuid        NOT NULL,
    learner        text        NOT NULL,
    registration   uuid        NOT NULL,
    launched       timestamptz NOT NULL DEFAULT now(),
    fetch_expires  timestamptz NOT NULL,
    fetched        timestamptz,  -- when the token was redeemed (once)
    credential_key text          -- the credential it was redeemed for
);
CREATE INDEX lms_cmi5_sessions_learner ON lms_cmi5_sessions (learner, course_id);

-- Progress: every counted statement as observed, in the order applied, so that a voiding
-- can recompute a registration from what remains. Derived state, like lms_progress.
CREATE TABLE lms_progress_observations (
    seq          bigserial        NOT NULL,
    statement_id uuid             NOT NULL PRIMARY KEY,
    registration uuid             NOT NULL,
    course_id    text             NOT NULL,
    learner      text             NOT NULL,
    actor        text             NOT NULL,
    verb         text             NOT NULL,
    activity     text             NOT NULL,
    kind         text             NOT NULL,
    "timestamp"  timestamptz      NOT NULL,
    score        double precision,
    duration_ms  bigint           NOT NULL
);
CREATE INDEX lms_progress_observations_registration
    ON lms_progress_observations (registration, course_id, seq);

-- The targets of voiding statements the progress consumer has read.
CREATE TABLE lms_progress_voided (
    statement_id uuid NOT NULL PRIMARY KEY
);
