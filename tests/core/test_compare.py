"""Statement comparison requirements (xAPI 1.0.3 Data 2.3.1; xAPI 2.0 Statement Immutability)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from core.xapi.compare import normalize_duration, statements_equivalent

STATEMENT: dict[str, Any] = {
    "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "actor": {
        "objectType": "Group",
        "name": "Team",
        "member": [{"mbox": "mailto:a@example.com"}, {"mbox": "mailto:b@example.com"}],
    },
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}},
    "object": {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:a@example.com"},
        "verb": {"id": "http://example.com/visited"},
        "object": {"id": "http://example.com/site", "definition": {"name": {"en": "Site"}}},
        "timestamp": "2013-05-18T05:32:34.000Z",
    },
    "result": {"duration": "PT1.234S", "score": {"raw": 1}},
    "context": {
        "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
        "contextActivities": {"parent": {"id": "http://example.com/p"}},
        "language": "en-US",
    },
    "timestamp": "2013-05-18T05:32:34.804Z",
    "stored": "2013-05-18T05:32:35Z",
    "authority": {"mbox": "mailto:lrs@example.com"},
    "version": "1.0.3",
    "attachments": [],
}


def changed(path: str, value: Any) -> dict[str, Any]:
    stmt = copy.deepcopy(STATEMENT)
    node: Any = stmt
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return stmt


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("id", "FD41C918-B88B-4B20-A0A5-A4C32391AAA0"),
        ("authority", {"mbox": "mailto:other@example.com"}),
        ("stored", "2020-01-01T00:00:00Z"),
        ("timestamp", ...),
        ("version", "1.0.0"),
        ("attachments", ...),
        ("verb.display", {"fr": "a essayé"}),
        ("actor.member", [{"mbox": "mailto:b@example.com"}, {"mbox": "mailto:a@example.com"}]),
        ("object.object.definition", ...),
        ("object.object.objectType", "Activity"),
        ("object.actor.objectType", "Agent"),
        ("object.timestamp", "2013-05-18T07:32:34+02:00"),
        ("context.registration", "EC531277-B57B-4C15-8D91-D292C5B2B8F7"),
        (
            "context.contextActivities.parent",
            [{"objectType": "Activity", "id": "http://example.com/p"}],
        ),
        ("context.language", "en-us"),
        ("result.duration", "PT1.23S"),
    ],
)
def test_differences_the_specification_allows_are_ignored(path: str, value: Any) -> None:
    assert statements_equivalent(STATEMENT, changed(path, value))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("verb.id", "http://adlnet.gov/expapi/verbs/completed"),
        ("actor.name", "Other team"),
        ("actor.member", [{"mbox": "mailto:a@example.com"}]),
        ("object.object.id", "http://example.com/other"),
        ("object.timestamp", "2013-05-18T05:32:35Z"),
        ("result.score", {"raw": 2}),
        ("result.duration", "PT1.3S"),
        ("context.contextActivities.parent", {"id": "http://example.com/q"}),
        ("context", ...),
    ],
)
def test_other_differences_make_statements_not_match(path: str, value: Any) -> None:
    assert not statements_equivalent(STATEMENT, changed(path, value))


def test_a_statement_matches_itself() -> None:
    assert statements_equivalent(STATEMENT, copy.deepcopy(STATEMENT))


def test_durations_are_compared_to_a_hundredth_of_a_second() -> None:
    assert normalize_duration("PT1.239S") == normalize_duration("PT1.23S") == "PT1.23S"
    assert normalize_duration("P1D") == "P1D"
    assert normalize_duration("PT10.00S") == "PT10S"
