-- Learner progress (lms/progress): a projection of the statement log by the consumer group
-- `lms.progress`. Everything but the criteria and the emission ledger is derived state:
-- `lms.progress.consumer.reset_projection` empties it and the log rebuilds it.

-- Per course, what completes it (PUT /api/v1/courses/{id}/completion-criteria).
CREATE TABLE lms_completion_criteria (
    course_id      text             NOT NULL PRIMARY KEY,
    required_items text[]           NOT NULL DEFAULT '{}',  -- item IRIs, each met by its moveOn
    required_tests text[]           NOT NULL DEFAULT '{}',  -- test IRIs that must be passed
    min_score      double precision,                        -- mean best scaled score, 0..1
    move_on        jsonb            NOT NULL DEFAULT '{}',  -- item IRI -> cmi5 moveOn
    updated        timestamptz      NOT NULL DEFAULT now(),
    updated_by     text             NOT NULL
);

-- One learner's progress in one course under one registration (enrolment).
CREATE TABLE lms_progress (
    registration  uuid        NOT NULL,
    course_id     text        NOT NULL,
    learner       text        NOT NULL,  -- the user id (account name), else the agent key
    actor         text        NOT NULL,  -- the learner's actor as first seen (JSON)
    started       timestamptz NOT NULL,
    last_activity timestamptz NOT NULL,
    duration_ms   bigint      NOT NULL DEFAULT 0,  -- sum of result.duration
    satisfied     timestamptz,                     -- every moveOn met (cmi5)
    completed     timestamptz,                     -- the completion criteria met
    score         double precision,                -- the overall score when completed
    PRIMARY KEY (registration, course_id)
);
CREATE INDEX lms_progress_learner ON lms_progress (learner, course_id, started DESC);

-- Per item or test of a registration: what the learner has done with it.
CREATE TABLE lms_progress_activities (
    registration uuid             NOT NULL,
    course_id    text             NOT NULL,
    activity     text             NOT NULL,
    kind         text             NOT NULL CHECK (kind IN ('item', 'test')),
    launched     integer          NOT NULL DEFAULT 0,
    completed    timestamptz,
    passed       timestamptz,
    failed       integer          NOT NULL DEFAULT 0,  -- failed attempts (before any pass)
    rejected     integer          NOT NULL DEFAULT 0,  -- passed/failed after passed: not counted
    best_score   double precision,
    duration_ms  bigint           NOT NULL DEFAULT 0,
    PRIMARY KEY (registration, course_id, activity)
);

-- Statements already applied: the bus delivers at least once.
CREATE TABLE lms_progress_seen (
    statement_id uuid NOT NULL PRIMARY KEY
);

-- The course-level statements progress has decided to send (satisfied, completed, passed),
-- one per registration, course and verb: kept across rebuilds, since they happened.
-- `accepted` is set once the LRS has committed the statement.
CREATE TABLE lms_progress_emitted (
    registration uuid        NOT NULL,
    course_id    text        NOT NULL,
    verb         text        NOT NULL,
    statement_id uuid        NOT NULL,
    body         text        NOT NULL,  -- the statement (JSON)
    decided      timestamptz NOT NULL DEFAULT now(),
    accepted     timestamptz,
    PRIMARY KEY (registration, course_id, verb)
);
CREATE INDEX lms_progress_emitted_pending ON lms_progress_emitted (decided) WHERE accepted IS NULL;
