"""The built-in reports against answers worked out by hand from a small fixed data set.

Learners a, b, c; course C contains quiz Q (as parent) and video V (as grouping); course C2
is a course only by its activity type. S8 is voided by S9, so no report counts either.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from core.bus import STATEMENTS_TOPIC, Record
from lms.analytics import reports
from lms.analytics.engine import ChdbEngine
from lms.analytics.schema import apply_schema
from lms.analytics.sink import SinkStats, write_batch

C = "http://ex.com/course/1"
C2 = "http://ex.com/course/2"
Q = "http://ex.com/quiz/1"
V = "http://ex.com/video/1"
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
VERBS = "http://adlnet.gov/expapi/verbs/"


def statement(n: int, who: str, verb: str, obj: dict, when: str, **parts: object) -> dict:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "actor": {"objectType": "Agent", "mbox": f"mailto:{who}@ex.com"},
        "verb": {"id": VERBS + verb},
        "object": obj,
        "timestamp": when,
        "stored": "2024-03-20T00:00:00Z",
        "authority": {"objectType": "Agent", "account": {"homePage": "http://lrs", "name": "k"}},
        "version": "1.0.0",
        **parts,
    }


def activity(activity_id: str, kind: str | None = None) -> dict:
    definition = {"name": {"en": activity_id.rsplit("/", 2)[-2]}}
    if kind:
        definition["type"] = kind
    return {"objectType": "Activity", "id": activity_id, "definition": definition}


def in_(relation: str, activity_id: str) -> dict:
    return {"contextActivities": {relation: [{"objectType": "Activity", "id": activity_id}]}}


def scored(scaled: float, duration: str | None = None, **more: object) -> dict:
    result: dict = {"score": {"scaled": scaled}, **more}
    if duration:
        result["duration"] = duration
    return result


DATA = [
    statement(1, "a", "attempted", activity(Q), "2024-03-04T09:00:00Z",
              result=scored(0.95, "PT10M"), context=in_("parent", C)),
    statement(2, "b", "attempted", activity(Q), "2024-03-04T10:00:00Z",
              result=scored(0.5, "PT5M"), context=in_("parent", C)),
    statement(3, "b", "attempted", activity(Q), "2024-03-05T10:00:00Z",
              result=scored(1.0, "PT15M"), context=in_("parent", C)),
    statement(4, "a", "completed", activity(C, COURSE_TYPE), "2024-03-05T11:00:00Z",
              result={"completion": True, "duration": "PT1H"}),
    statement(5, "c", "experienced", activity(V), "2024-03-11T09:00:00+01:00",
              result={"duration": "PT30S"}, context=in_("grouping", C)),
    statement(6, "b", "passed", activity(C, COURSE_TYPE), "2024-03-11T09:00:00Z",
              result={"success": True}),
    # 01:30 at +02:00 is still 11 March in UTC.
    statement(7, "c", "completed", activity(C2, COURSE_TYPE), "2024-03-12T01:30:00+02:00"),
    statement(8, "a", "answered", activity(Q), "2024-03-12T10:00:00Z",
              result=scored(0.05, "PT2H"), context=in_("parent", C)),
    statement(9, "admin", "voided",
              {"objectType": "StatementRef", "id": "00000000-0000-4000-8000-000000000008"},
              "2024-03-12T11:00:00Z"),
    statement(10, "c", "attempted", activity(Q), "2024-03-12T12:00:00Z",
              result=scored(0.55), context=in_("parent", C)),
]  # fmt: skip


def records(statements: list[dict]) -> list[Record]:
    return [
        Record(STATEMENTS_TOPIC, b"k", msgspec.json.encode(s), position=i)
        for i, s in enumerate(statements, 1)
    ]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbEngine]:
    engine = ChdbEngine(Path(tmp_path_factory.mktemp("reports")) / "clickhouse")
    apply_schema(engine)
    write_batch(engine, records(DATA), SinkStats())
    yield engine
    engine.close()


def test_completion_rates_per_course(engine: ChdbEngine):
    assert reports.completion_rates(engine) == [
        {"course_id": C, "learners": 3, "completed": 1, "passed": 1,
         "completion_rate": 0.3333, "pass_rate": 0.3333},
        {"course_id": C2, "learners": 1, "completed": 1, "passed": 0,
         "completion_rate": 1, "pass_rate": 0},
    ]  # fmt: skip


def test_score_distribution_in_tenths_without_the_voided_attempt(engine: ChdbEngine):
    assert reports.score_distribution(engine) == [
        {"object_id": Q, "bucket": 0.5, "statements": 2, "learners": 2},
        {"object_id": Q, "bucket": 0.9, "statements": 2, "learners": 2},
    ]


def test_most_used_activities(engine: ChdbEngine):
    assert reports.most_used_activities(engine) == [
        {"activity_id": Q, "name": "quiz", "type": "", "statements": 4, "learners": 3},
        {"activity_id": C, "name": "course", "type": COURSE_TYPE, "statements": 2, "learners": 2},
        {"activity_id": C2, "name": "course", "type": COURSE_TYPE, "statements": 1, "learners": 1},
        {"activity_id": V, "name": "video", "type": "", "statements": 1, "learners": 1},
    ]


def test_daily_active_learners_by_utc_day(engine: ChdbEngine):
    assert reports.active_learners(engine, "day") == [
        {"day": "2024-03-04", "learners": 2, "statements": 2},
        {"day": "2024-03-05", "learners": 2, "statements": 2},
        {"day": "2024-03-11", "learners": 2, "statements": 3},
        {"day": "2024-03-12", "learners": 1, "statements": 1},
    ]


def test_weekly_active_learners_from_monday(engine: ChdbEngine):
    assert reports.active_learners(engine, "week") == [
        {"week": "2024-03-04", "learners": 2, "statements": 4},
        {"week": "2024-03-11", "learners": 2, "statements": 4},
    ]


def test_time_on_task_from_durations(engine: ChdbEngine):
    assert reports.time_on_task(engine) == [
        {"activity_id": C, "learners": 1, "statements": 1,
         "total_seconds": 3600, "seconds_per_learner": 3600},
        {"activity_id": Q, "learners": 2, "statements": 3,
         "total_seconds": 1800, "seconds_per_learner": 900},
        {"activity_id": V, "learners": 1, "statements": 1,
         "total_seconds": 30, "seconds_per_learner": 30},
    ]  # fmt: skip


def test_voided_statements_stay_in_the_table_but_not_in_statements_live(engine: ChdbEngine):
    counts = engine.query(
        "SELECT (SELECT count() FROM statements), (SELECT count() FROM statements_live)", "CSV"
    )
    assert counts == b"10,8\n"


def test_unknown_report_is_refused(engine: ChdbEngine):
    with pytest.raises(ValueError, match="unknown report"):
        reports.run_report(engine, "nope", "json")
