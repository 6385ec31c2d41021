-- Assessments (lms/assessments): question banks, tests, attempts and their answers, and the
-- statements an attempt decided that the LRS has not committed yet (an outbox).

CREATE TABLE lms_question_banks (
    id          uuid        NOT NULL PRIMARY KEY,
    owner       text        NOT NULL,
    title       text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    created     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lms_questions (
    id         uuid             NOT NULL PRIMARY KEY,
    bank_id    uuid             NOT NULL REFERENCES lms_question_banks (id) ON DELETE CASCADE,
    kind       text             NOT NULL,
    prompt     text             NOT NULL,
    spec       jsonb            NOT NULL,  -- the whole question, answer key included
    tags       text[]           NOT NULL DEFAULT '{}',
    difficulty integer          NOT NULL DEFAULT 1 CHECK (difficulty BETWEEN 1 AND 5),
    points     double precision NOT NULL DEFAULT 1,
    created    timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX lms_questions_bank ON lms_questions (bank_id);

CREATE TABLE lms_tests (
    id        uuid        NOT NULL PRIMARY KEY,
    owner     text        NOT NULL,
    title     text        NOT NULL,
    course_id text,                   -- the course whose registration attempts run under
    published boolean     NOT NULL DEFAULT false,
    spec      jsonb       NOT NULL,  -- fixed questions, draws, settings
    created   timestamptz NOT NULL DEFAULT now(),
    updated   timestamptz NOT NULL DEFAULT now()
);

-- One attempt: the questions as delivered (drawn with `seed`, options shuffled) are frozen
-- in `questions`, so later edits of the bank do not change an attempt under way.
CREATE TABLE lms_attempts (
    id             uuid             NOT NULL PRIMARY KEY,
    test_id        uuid             NOT NULL REFERENCES lms_tests (id) ON DELETE CASCADE,
    learner        text             NOT NULL,  -- user id
    number         integer          NOT NULL,
    seed           bigint           NOT NULL,
    registration   uuid,
    questions      jsonb            NOT NULL,
    started        timestamptz      NOT NULL DEFAULT now(),
    deadline       timestamptz,
    submitted      timestamptz,
    auto_submitted boolean          NOT NULL DEFAULT false,
    status         text             NOT NULL DEFAULT 'in_progress'
        CHECK (status IN ('in_progress', 'grading', 'graded')),
    score_raw      double precision,
    score_max      double precision,
    passed         boolean,
    UNIQUE (test_id, learner, number)
);
CREATE INDEX lms_attempts_learner ON lms_attempts (learner, test_id);
CREATE INDEX lms_attempts_grading ON lms_attempts (test_id) WHERE status = 'grading';

CREATE TABLE lms_attempt_answers (
    attempt_id  uuid             NOT NULL REFERENCES lms_attempts (id) ON DELETE CASCADE,
    question_id uuid             NOT NULL,
    response    jsonb            NOT NULL,
    answered    timestamptz      NOT NULL DEFAULT now(),
    points      double precision,  -- null: not graded yet (open-ended)
    graded_by   text,
    comment     text,
    PRIMARY KEY (attempt_id, question_id)
);

CREATE TABLE lms_assessment_statements (
    id       uuid        NOT NULL PRIMARY KEY,  -- the statement id
    body     jsonb       NOT NULL,
    decided  timestamptz NOT NULL DEFAULT now(),
    accepted timestamptz
);
CREATE INDEX lms_assessment_statements_pending ON lms_assessment_statements (decided)
    WHERE accepted IS NULL;
