"""Domain events of the LMS: what modules tell each other through the bus (never by tables).

Each event is a msgspec Struct tagged by its `type`, carrying `event_id` (consumers dedupe by
it: the bus delivers at least once), `occurred` and `schema_version`. Evolving a schema: add
fields with defaults and keep the version (readers ignore fields they do not know, and fill
the defaults for fields an older writer did not send); anything else (a renamed, removed or
retyped field) is a new version, which readers tell apart by `schema_version`.

Events go to one topic per aggregate, keyed so that one course's (or one learner's) events
keep their order: `encode_event` gives the (key, value) pair a `Publisher` takes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import ClassVar

import msgspec

from core.bus import Publisher

COURSES_TOPIC = "lms.courses"  # key: course id
PROGRESS_TOPIC = "lms.progress"  # key: learner


def _now() -> datetime:
    return datetime.now(UTC)


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    topic: ClassVar[str]
    event_id: uuid.UUID = msgspec.field(default_factory=uuid.uuid4)
    occurred: datetime = msgspec.field(default_factory=_now)
    schema_version: int = 1

    def key(self) -> str:
        raise NotImplementedError


class CourseCreated(Event, frozen=True, tag="CourseCreated"):
    topic = COURSES_TOPIC
    course_id: str
    title: str
    created_by: str

    def key(self) -> str:
        return self.course_id


class CoursePublished(Event, frozen=True, tag="CoursePublished"):
    topic = COURSES_TOPIC
    course_id: str
    version: int
    published_by: str

    def key(self) -> str:
        return self.course_id


class CourseUpdated(Event, frozen=True, tag="CourseUpdated"):
    topic = COURSES_TOPIC
    course_id: str
    version: int
    updated_by: str
    change: str  # what changed: "details", "modules", "items"

    def key(self) -> str:
        return self.course_id


class CourseUnpublished(Event, frozen=True, tag="CourseUnpublished"):
    topic = COURSES_TOPIC
    course_id: str
    version: int
    unpublished_by: str

    def key(self) -> str:
        return self.course_id


class CourseDeleted(Event, frozen=True, tag="CourseDeleted"):
    topic = COURSES_TOPIC
    course_id: str
    deleted_by: str

    def key(self) -> str:
        return self.course_id


class LearnerEnrolled(Event, frozen=True, tag="LearnerEnrolled"):
    topic = COURSES_TOPIC
    course_id: str
    learner: str  # user id
    registration: str

    def key(self) -> str:
        return self.course_id


class TestPassed(Event, frozen=True, tag="TestPassed"):
    __test__ = False  # not a pytest test class, whatever its name
    topic = PROGRESS_TOPIC
    learner: str  # the agent's identifier, as `ingest.rows.agent_key` writes it
    course_id: str
    test_id: str
    score_scaled: float
    attempt: int = 1

    def key(self) -> str:
        return self.learner


class TestFailed(Event, frozen=True, tag="TestFailed"):
    __test__ = False
    topic = PROGRESS_TOPIC
    learner: str
    course_id: str
    test_id: str
    score_scaled: float
    attempt: int = 1

    def key(self) -> str:
        return self.learner


class CourseCompleted(Event, frozen=True, tag="CourseCompleted"):
    topic = PROGRESS_TOPIC
    learner: str
    course_id: str

    def key(self) -> str:
        return self.learner


DomainEvent = (
    CourseCreated
    | CourseUpdated
    | CoursePublished
    | CourseUnpublished
    | CourseDeleted
    | LearnerEnrolled
    | TestPassed
    | TestFailed
    | CourseCompleted
)

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[DomainEvent] = msgspec.json.Decoder(DomainEvent)


def encode_event(event: DomainEvent) -> tuple[bytes, bytes]:
    """The (key, value) pair to publish on `event.topic`."""
    return event.key().encode(), _encoder.encode(event)


def decode_event(value: bytes) -> DomainEvent:
    return _decoder.decode(value)


async def publish_events(publisher: Publisher, events: Iterable[DomainEvent]) -> None:
    """Publish `events`, in order within each topic."""
    by_topic: dict[str, list[tuple[bytes, bytes]]] = {}
    for event in events:
        by_topic.setdefault(event.topic, []).append(encode_event(event))
    for topic, records in by_topic.items():
        await publisher.publish(topic, records)
