"""The catalogue, a read model of the courses: one JSONB document per published course (its
details and outline), kept by the consumer group `lms.catalogue` of the `lms.courses` events
and served as stored, without joins.

Each event makes the consumer project its course's current state, so applying an event
twice, or events out of order, leaves the same document: at-least-once delivery is enough.
An unpublished or deleted course leaves the catalogue.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import msgspec

from core.bus import Consumer, Record
from lms.courses import store
from lms.courses.iris import CourseIris
from lms.courses.models import Course, CourseStatus
from lms.courses.service import outline

CONSUMER_GROUP = "lms.catalogue"
log = logging.getLogger(__name__)


class _CourseEvent(msgspec.Struct):
    course_id: str = ""


_decode_event = msgspec.json.Decoder(_CourseEvent).decode


def catalogue_document(course: Course, enrolments: int) -> dict[str, Any]:
    document: dict[str, Any] = msgspec.to_builtins(course)
    modules = document.get("modules") or []
    document["moduleCount"] = len(modules)
    document["itemCount"] = sum(len(m["items"]) for m in modules)
    document["enrolments"] = enrolments
    return document


async def project_course(conn: asyncpg.Connection, course_id: uuid.UUID, iris: CourseIris) -> None:
    """Bring the course's catalogue document up to its current state (in one transaction)."""
    row = await store.course(conn, course_id)
    if row is None or row["status"] != CourseStatus.PUBLISHED:
        await store.drop_document(conn, course_id)
        return
    course = await outline(conn, row, iris)
    document = catalogue_document(course, await store.count_enrolments(conn, course_id))
    await store.put_document(conn, course_id, row["version"], row["title"], document)


def courses_of(records: Sequence[Record]) -> list[uuid.UUID]:
    """The courses the records are about, each once, in order of first mention."""
    found: dict[uuid.UUID, None] = {}
    for record in records:
        try:
            found[uuid.UUID(_decode_event(record.value).course_id)] = None
        except (msgspec.DecodeError, ValueError):
            log.warning("catalogue skips an event without a course id at %s", record.position)
    return list(found)


async def apply_records(pool: asyncpg.Pool, records: Sequence[Record], iris: CourseIris) -> int:
    courses = courses_of(records)
    for course_id in courses:
        async with pool.acquire() as conn, conn.transaction():
            await project_course(conn, course_id, iris)
    return len(courses)


async def consume(
    consumer: Consumer, pool: asyncpg.Pool, iris: CourseIris, *, follow: bool = True
) -> int:
    """Apply the events until cancelled (follow) or until a poll finds nothing new."""
    projected = 0
    while True:
        records = await consumer.poll(max_records=500, timeout_s=1.0)
        if records:
            projected += await apply_records(pool, records, iris)
            await consumer.commit(records)
        elif not follow:
            return projected
