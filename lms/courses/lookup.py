"""What the other LMS modules may ask of courses: a read API, so that none of them reads the
courses' tables itself."""

from __future__ import annotations

import uuid

import asyncpg


async def course_exists(conn: asyncpg.Connection, course_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM lms_courses WHERE id = $1", course_id))


async def registration_of(
    conn: asyncpg.Connection, course_id: uuid.UUID, learner: str
) -> uuid.UUID | None:
    """The registration of the learner's enrolment in the course; None if not enrolled."""
    registration: uuid.UUID | None = await conn.fetchval(
        "SELECT registration FROM lms_enrolments WHERE course_id = $1 AND learner = $2",
        course_id,
        learner,
    )
    return registration


async def courses_with_test(conn: asyncpg.Connection, test_id: uuid.UUID) -> list[uuid.UUID]:
    """The courses with an item that is this test."""
    rows = await conn.fetch(
        "SELECT DISTINCT course_id FROM lms_course_items"
        " WHERE kind = 'test' AND payload ->> 'testId' = $1 ORDER BY course_id",
        str(test_id),
    )
    return [r["course_id"] for r in rows]
