-- Courses (lms/courses): the write model (courses, ordered modules, content items,
-- enrolments) and the catalogue, a read model the consumer group `lms.catalogue` keeps from
-- the `lms.courses` events: one denormalised document per published course.

CREATE TABLE lms_courses (
    id          uuid        NOT NULL PRIMARY KEY,
    owner       text        NOT NULL,  -- the author's user id
    title       text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    status      text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    version     integer     NOT NULL DEFAULT 1,  -- every change adds one
    created     timestamptz NOT NULL DEFAULT now(),
    updated     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lms_courses_owner ON lms_courses (owner);

CREATE TABLE lms_course_modules (
    id        uuid    NOT NULL PRIMARY KEY,
    course_id uuid    NOT NULL REFERENCES lms_courses (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    title     text    NOT NULL
);
CREATE INDEX lms_course_modules_course ON lms_course_modules (course_id, position);

CREATE TABLE lms_course_items (
    id        uuid    NOT NULL PRIMARY KEY,
    course_id uuid    NOT NULL REFERENCES lms_courses (id) ON DELETE CASCADE,
    module_id uuid    NOT NULL REFERENCES lms_course_modules (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    kind      text    NOT NULL
        CHECK (kind IN ('video', 'document', 'link', 'cmi5', 'scorm', 'test')),
    title     text    NOT NULL,
    payload   jsonb   NOT NULL DEFAULT '{}'
);
CREATE INDEX lms_course_items_module ON lms_course_items (module_id, position);

-- A learner's enrolment; its registration is the xAPI context.registration of their
-- statements in the course.
CREATE TABLE lms_enrolments (
    course_id    uuid        NOT NULL REFERENCES lms_courses (id) ON DELETE CASCADE,
    learner      text        NOT NULL,  -- user id
    registration uuid        NOT NULL UNIQUE,
    enrolled     timestamptz NOT NULL DEFAULT now(),
    enrolled_by  text        NOT NULL,
    PRIMARY KEY (course_id, learner)
);
CREATE INDEX lms_enrolments_learner ON lms_enrolments (learner);

-- The catalogue (read model): served as is, without joins. `version` is the course version
-- the document shows; an older one never overwrites a newer one.
CREATE TABLE lms_catalogue (
    course_id uuid        NOT NULL PRIMARY KEY,
    version   integer     NOT NULL,
    title     text        NOT NULL,
    document  jsonb       NOT NULL,
    updated   timestamptz NOT NULL DEFAULT now()
);
