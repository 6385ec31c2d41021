"""The `more` cursor: encoded into every page that has a next one, decoded on every follow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lrs.statement_query import StatementQuery, decode_more_cursor, encode_more_cursor

QUERY = StatementQuery(
    agent="mbox mailto:learner42@school8.example.com",
    verb="http://adlnet.gov/expapi/verbs/completed",
    activity="https://lms.example.com/courses/3",
    related_activities=True,
    since=datetime(2026, 11, 1, tzinfo=UTC),
    limit=100,
)


def test_encode_more_cursor(benchmark: Any) -> None:
    token = benchmark(encode_more_cursor, QUERY, 123_456_789)
    assert decode_more_cursor(token).after_seq == 123_456_789


def test_decode_more_cursor(benchmark: Any) -> None:
    token = encode_more_cursor(QUERY, 123_456_789)
    assert benchmark(decode_more_cursor, token).verb == QUERY.verb
