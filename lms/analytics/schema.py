"""The analytics schema: every table and view, in one place, for chdb and a server alike.

Each statement of `DDL` is idempotent (`IF NOT EXISTS` / `OR REPLACE`), so `apply_schema`
runs on every start.
"""

from __future__ import annotations

from typing import Protocol

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
COURSE = "http://adlnet.gov/expapi/activities/course"

# The sort key serves the common filters (a verb, then an activity, then a learner, over
# time). `id` closes it so each statement has one key: ReplacingMergeTree then folds any
# duplicate that slipped past the sink's check (see sink.py) when parts merge.
STATEMENTS = """
CREATE TABLE IF NOT EXISTS statements (
    id              UUID,
    timestamp       DateTime64(3, 'UTC'),
    stored          DateTime64(3, 'UTC'),
    actor           String,
    actor_name      String,
    actor_type      LowCardinality(String),
    verb_id         LowCardinality(String),
    verb_display    String,
    object_id       String,
    object_type     LowCardinality(String),
    activity_type   LowCardinality(String),
    activity_name   String,
    score_scaled    Nullable(Float64),
    score_raw       Nullable(Float64),
    score_min       Nullable(Float64),
    score_max       Nullable(Float64),
    success         Nullable(UInt8),
    completion      Nullable(UInt8),
    duration_s      Nullable(Float64),
    response        Nullable(String),
    registration    Nullable(UUID),
    parent_ids      Array(String),
    grouping_ids    Array(String),
    category_ids    Array(String),
    platform        LowCardinality(String),
    language        LowCardinality(String),
    instructor      String,
    authority       String,
    version         LowCardinality(String),
    voids           Nullable(UUID),
    statement       String CODEC(ZSTD(3)),
    INDEX id_bloom id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(stored)
ORDER BY (verb_id, object_id, actor, stored, id)
"""

# What reports count: statements not voided by a later voiding statement (Data 2.3.2).
# Voiding statements themselves are kept out too; they describe the record, not learning.
STATEMENTS_LIVE = f"""
CREATE OR REPLACE VIEW statements_live AS
SELECT * FROM statements
WHERE verb_id != '{VOIDED}'
  AND id NOT IN (SELECT assumeNotNull(voids) FROM statements
                 WHERE verb_id = '{VOIDED}' AND voids IS NOT NULL)
"""

# Per course (an activity other statements name as context parent or grouping, or whose
# type is course): learners who did anything in or on it, and of them how many completed
# or passed the course itself (a statement whose object is the course).
REPORT_COMPLETION_RATES = f"""
CREATE OR REPLACE VIEW report_completion_rates AS
WITH mentions AS (
    SELECT arrayJoin(arrayDistinct(arrayConcat([object_id], parent_ids, grouping_ids)))
               AS course_id,
           actor,
           object_id = course_id AND (verb_id = '{COMPLETED}' OR completion = 1) AS is_completed,
           object_id = course_id AND (verb_id = '{PASSED}' OR success = 1) AS is_passed
    FROM statements_live
    WHERE object_type = 'Activity'
),
courses AS (
    SELECT DISTINCT arrayJoin(arrayConcat(parent_ids, grouping_ids)) AS course_id
    FROM statements_live
    UNION DISTINCT
    SELECT DISTINCT object_id FROM statements_live WHERE activity_type = '{COURSE}'
)
SELECT course_id,
       uniqExact(actor) AS learners,
       uniqExactIf(actor, is_completed) AS completed,
       uniqExactIf(actor, is_passed) AS passed,
       round(completed / learners, 4) AS completion_rate,
       round(passed / learners, 4) AS pass_rate
FROM mentions
WHERE course_id IN (SELECT course_id FROM courses)
GROUP BY course_id
ORDER BY course_id
"""

# Scaled scores per activity (test or question) in tenths: bucket 0.9 holds 0.9 ≤ s ≤ 1.
REPORT_SCORE_DISTRIBUTION = """
CREATE OR REPLACE VIEW report_score_distribution AS
SELECT object_id,
       least(floor(assumeNotNull(score_scaled) * 10), 9) / 10 AS bucket,
       count() AS statements,
       uniqExact(actor) AS learners
FROM statements_live
WHERE score_scaled IS NOT NULL
GROUP BY object_id, bucket
ORDER BY object_id, bucket
"""

REPORT_MOST_USED_ACTIVITIES = """
CREATE OR REPLACE VIEW report_most_used_activities AS
SELECT object_id AS activity_id,
       anyLast(activity_name) AS name,
       anyLast(activity_type) AS type,
       count() AS statements,
       uniqExact(actor) AS learners
FROM statements_live
WHERE object_type = 'Activity'
GROUP BY object_id
ORDER BY statements DESC, learners DESC, activity_id
"""

# Active means did something at that time (the statement's timestamp, not when it was stored).
REPORT_DAILY_ACTIVE_LEARNERS = """
CREATE OR REPLACE VIEW report_daily_active_learners AS
SELECT toDate(timestamp) AS day, uniqExact(actor) AS learners, count() AS statements
FROM statements_live
GROUP BY day
ORDER BY day
"""

REPORT_WEEKLY_ACTIVE_LEARNERS = """
CREATE OR REPLACE VIEW report_weekly_active_learners AS
SELECT toMonday(timestamp) AS week, uniqExact(actor) AS learners, count() AS statements
FROM statements_live
GROUP BY week
ORDER BY week
"""

# Time on task per activity from result.duration: the sum over statements that carry one.
REPORT_TIME_ON_TASK = """
CREATE OR REPLACE VIEW report_time_on_task AS
SELECT object_id AS activity_id,
       uniqExact(actor) AS learners,
       count() AS statements,
       sum(assumeNotNull(duration_s)) AS total_seconds,
       round(total_seconds / learners, 3) AS seconds_per_learner
FROM statements_live
WHERE duration_s IS NOT NULL
GROUP BY object_id
ORDER BY total_seconds DESC, activity_id
"""

DDL = (
    STATEMENTS,
    STATEMENTS_LIVE,
    REPORT_COMPLETION_RATES,
    REPORT_SCORE_DISTRIBUTION,
    REPORT_MOST_USED_ACTIVITIES,
    REPORT_DAILY_ACTIVE_LEARNERS,
    REPORT_WEEKLY_ACTIVE_LEARNERS,
    REPORT_TIME_ON_TASK,
)


class _Commands(Protocol):
    def command(self, sql: str) -> None: ...


def apply_schema(engine: _Commands) -> None:
    for statement in DDL:
        engine.command(statement)
