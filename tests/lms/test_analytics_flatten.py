"""A stored statement becomes one row of the analytics `statements` table."""

from __future__ import annotations

import msgspec
import pytest

from lms.analytics.flatten import FlattenError, flatten, parse_duration

ID = "6fbd600f-d17c-4c74-801a-2ec2e53231c7"
REGISTRATION = "EC531277-B57B-4C15-8D91-D292C5B2B8F7"


def encode(statement: dict) -> bytes:
    return msgspec.json.encode(statement)


def minimal(**parts: object) -> dict:
    return {
        "id": ID,
        "actor": {"objectType": "Agent", "mbox": "mailto:ana@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"objectType": "Activity", "id": "http://example.com/video/1"},
        "timestamp": "2024-03-04T10:00:00.250+01:00",
        "stored": "2024-03-04T09:00:01.5Z",
        **parts,
    }


FULL = minimal(
    actor={
        "objectType": "Agent",
        "name": "Ana",
        "account": {"homePage": "https://lms.example.com", "name": "ana"},
    },
    verb={
        "id": "http://adlnet.gov/expapi/verbs/answered",
        "display": {"de-DE": "beantwortete", "en-US": "answered"},
    },
    object={
        "objectType": "Activity",
        "id": "http://example.com/quiz/1/q/2",
        "definition": {
            "name": {"fr": "Question 2", "en": "Question 2 (en)"},
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        },
    },
    result={
        "score": {"scaled": 0.75, "raw": 3, "min": 0, "max": 4},
        "success": True,
        "completion": False,
        "response": "b[,]c",
        "duration": "PT1M30.5S",
    },
    context={
        "registration": REGISTRATION,
        "instructor": {
            "objectType": "Agent",
            "mbox_sha1sum": "ABCDEF0123456789ABCDEF0123456789ABCDEF01",
        },
        "contextActivities": {
            "parent": [{"objectType": "Activity", "id": "http://example.com/quiz/1"}],
            "grouping": [
                {"objectType": "Activity", "id": "http://example.com/course/1"},
                {"objectType": "Activity", "id": "http://example.com/program/1"},
            ],
            "category": [{"objectType": "Activity", "id": "http://example.com/profile/cmi5"}],
        },
        "platform": "HyperEdu LMS",
        "language": "en-GB",
    },
    authority={
        "objectType": "Agent",
        "account": {"homePage": "http://lrs.example.com", "name": "key-1"},
    },
    version="1.0.3",
)


def test_every_column_of_a_full_statement():
    value = encode(FULL)
    assert flatten(value) == {
        "id": ID,
        "timestamp": "2024-03-04 09:00:00.250",
        "stored": "2024-03-04 09:00:01.500",
        "actor": "account https://lms.example.com ana",
        "actor_name": "Ana",
        "actor_type": "Agent",
        "verb_id": "http://adlnet.gov/expapi/verbs/answered",
        "verb_display": "answered",
        "object_id": "http://example.com/quiz/1/q/2",
        "object_type": "Activity",
        "activity_type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "activity_name": "Question 2 (en)",
        "score_scaled": 0.75,
        "score_raw": 3,
        "score_min": 0,
        "score_max": 4,
        "success": 1,
        "completion": 0,
        "duration_s": 90.5,
        "response": "b[,]c",
        "registration": REGISTRATION.lower(),
        "parent_ids": ["http://example.com/quiz/1"],
        "grouping_ids": ["http://example.com/course/1", "http://example.com/program/1"],
        "category_ids": ["http://example.com/profile/cmi5"],
        "platform": "HyperEdu LMS",
        "language": "en-GB",
        "instructor": "mbox_sha1sum abcdef0123456789abcdef0123456789abcdef01",
        "authority": "account http://lrs.example.com key-1",
        "version": "1.0.3",
        "voids": None,
        "statement": value.decode(),
    }


def test_missing_parts_are_null_or_empty():
    row = flatten(encode(minimal()))
    assert row["actor"] == "mbox mailto:ana@example.com"
    assert row["actor_name"] == row["verb_display"] == ""
    assert row["activity_type"] == row["activity_name"] == ""
    for column in ("score_scaled", "score_raw", "score_min", "score_max", "success"):
        assert row[column] is None
    assert row["completion"] is row["duration_s"] is row["response"] is None
    assert row["registration"] is None
    assert row["parent_ids"] == row["grouping_ids"] == row["category_ids"] == []
    assert row["platform"] == row["language"] == row["instructor"] == ""
    assert row["authority"] == row["version"] == ""


def test_result_without_score_and_context_without_activities():
    row = flatten(encode(minimal(result={"completion": True}, context={"platform": "x"})))
    assert row["completion"] == 1
    assert row["score_scaled"] is None
    assert row["parent_ids"] == []
    assert row["platform"] == "x"


def test_timestamp_and_stored_stand_in_for_each_other():
    without_timestamp = minimal()
    del without_timestamp["timestamp"]
    assert flatten(encode(without_timestamp))["timestamp"] == "2024-03-04 09:00:01.500"
    without_stored = minimal()
    del without_stored["stored"]
    assert flatten(encode(without_stored))["stored"] == "2024-03-04 09:00:00.250"


def test_verb_display_falls_back_to_the_first_language():
    row = flatten(encode(minimal(verb={"id": "http://v", "display": {"fr": "a", "de": "b"}})))
    assert row["verb_display"] == "a"


def test_substatement_object():
    sub = {
        "objectType": "SubStatement",
        "actor": {"objectType": "Agent", "mbox": "mailto:ana@example.com"},
        "verb": {"id": "http://example.com/verbs/will-attend"},
        "object": {"objectType": "Activity", "id": "http://example.com/webinar/1"},
    }
    row = flatten(
        encode(minimal(verb={"id": "http://adlnet.gov/expapi/verbs/planned"}, object=sub))
    )
    assert row["object_type"] == "SubStatement"
    assert row["object_id"] == ""
    assert row["activity_type"] == ""
    assert '"http://example.com/webinar/1"' in row["statement"]


def test_agent_and_group_objects_are_named_by_ifi():
    agent = {"objectType": "Agent", "openid": "https://id.example.com/bo"}
    assert flatten(encode(minimal(object=agent)))["object_id"] == "openid https://id.example.com/bo"
    group = {
        "objectType": "Group",
        "member": [
            {"objectType": "Agent", "mbox": "mailto:b@example.com"},
            {"objectType": "Agent", "mbox": "mailto:a@example.com"},
        ],
    }
    row = flatten(encode(minimal(actor=group)))
    assert row["actor"] == "group mbox mailto:a@example.com | mbox mailto:b@example.com"
    assert row["actor_type"] == "Group"


def test_voiding_statement_names_its_target():
    target = "0B2BAF9A-4B0A-4B3A-9E2C-2C6E9E9B1C11"
    row = flatten(
        encode(
            minimal(
                verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
                object={"objectType": "StatementRef", "id": target},
            )
        )
    )
    assert row["voids"] == target.lower()
    assert row["object_id"] == target
    assert row["object_type"] == "StatementRef"


def test_a_statement_ref_that_does_not_void_voids_nothing():
    ref = {"objectType": "StatementRef", "id": ID}
    assert flatten(encode(minimal(object=ref)))["voids"] is None


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [
        ("PT1H30M", 5400.0),
        ("PT0.5S", 0.5),
        ("P1DT2H", 93600.0),
        ("P2W", 1209600.0),
        ("PT1,5S", 1.5),
        ("P1Y", 365 * 86400.0),
        ("PT", None),
        ("P1DT", None),
        ("1H", None),
    ],
)
def test_iso_8601_durations_in_seconds(duration: str, seconds: float | None):
    assert parse_duration(duration) == seconds


def test_malformed_duration_is_null_not_an_error():
    row = flatten(encode(minimal(result={"duration": "ten minutes"})))
    assert row["duration_s"] is None


def test_not_a_statement_is_an_error():
    with pytest.raises(FlattenError):
        flatten(b'{"hello": "world"}')
    with pytest.raises(FlattenError):
        flatten(encode(minimal(id="not-a-uuid")))
