"""What the other LMS modules may ask of tests: a read API, so that none of them reads the
assessments' tables itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class TestLink:
    __test__ = False  # not a pytest test class
    test_id: uuid.UUID
    course_id: str | None  # the course whose registration its attempts run under


async def test_link(conn: asyncpg.Connection, test_id: uuid.UUID) -> TestLink | None:
    """The test's course; None if there is no such test."""
    row = await conn.fetchrow("SELECT id, course_id FROM lms_tests WHERE id = $1", test_id)
    return None if row is None else TestLink(row["id"], row["course_id"])
