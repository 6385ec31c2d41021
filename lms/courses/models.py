"""The request and response bodies of the courses API, with the rules their types can say."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from core.cmi5 import MoveOn

Title = Annotated[str, Meta(min_length=1, max_length=200)]
Description = Annotated[str, Meta(max_length=20_000)]
Position = Annotated[int, Meta(ge=0)]
Url = Annotated[str, Meta(pattern=r"^https?://\S+$", max_length=2048)]


class _In(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    pass


class _Out(msgspec.Struct, frozen=True, rename="camel"):
    pass


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ItemKind(enum.StrEnum):
    VIDEO = "video"
    DOCUMENT = "document"
    LINK = "link"
    CMI5 = "cmi5"
    SCORM = "scorm"
    TEST = "test"


# Requests


class CourseIn(_In, frozen=True):
    title: Title
    description: Description = ""


class CoursePatch(_In, frozen=True):
    title: Title | None = None
    description: Description | None = None


class ModuleIn(_In, frozen=True):
    title: Title
    position: Position | None = None  # where to insert it; omitted: last


class ModulePatch(_In, frozen=True):
    title: Title | None = None
    position: Position | None = None


class Order(_In, frozen=True):
    """Every id of the list, in the new order."""

    ids: list[uuid.UUID]


class ItemIn(_In, frozen=True):
    kind: ItemKind
    title: Title
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    position: Position | None = None


class ItemPatch(_In, frozen=True):
    title: Title | None = None
    payload: dict[str, Any] | None = None
    position: Position | None = None
    module_id: uuid.UUID | None = None  # move it to another module of the course


class LaunchIn(_In, frozen=True):
    """`returnUrl`: where a cmi5 AU sends the learner when it ends (cmi5 10.0 returnURL)."""

    return_url: Url | None = None


class EnrolmentIn(_In, frozen=True):
    learner: str | None = None  # a user id; omitted: the caller enrols themself


# The payload of each kind of content item


class VideoPayload(_In, frozen=True):
    url: Url
    duration_seconds: Annotated[int, Meta(ge=0)] | None = None


class DocumentPayload(_In, frozen=True):
    url: Url
    media_type: Annotated[str, Meta(max_length=200)] | None = None


class LinkPayload(_In, frozen=True):
    url: Url


class LaunchPayload(_In, frozen=True):
    """A cmi5 AU or a SCORM package, started at `launchUrl`."""

    launch_url: Url
    activity_id: Url | None = None


class LaunchMethod(enum.StrEnum):
    ANY_WINDOW = "AnyWindow"
    OWN_WINDOW = "OwnWindow"


class Cmi5Payload(_In, frozen=True):
    """A cmi5 AU as its course structure describes it (cmi5 13.1.4): `activityId` is the
    AU's publisher id, which the LMS names in every launch's context, never as the launched
    activity (that is the item's own IRI)."""

    launch_url: Url
    activity_id: Url
    move_on: MoveOn = MoveOn.NOT_APPLICABLE
    mastery_score: Annotated[float, Meta(ge=0, le=1)] | None = None
    launch_method: LaunchMethod = LaunchMethod.ANY_WINDOW
    launch_parameters: Annotated[str, Meta(max_length=2000)] | None = None


class TestPayload(_In, frozen=True):
    __test__ = False  # not a pytest test class
    test_id: uuid.UUID


PAYLOADS: dict[ItemKind, type[_In]] = {
    ItemKind.VIDEO: VideoPayload,
    ItemKind.DOCUMENT: DocumentPayload,
    ItemKind.LINK: LinkPayload,
    ItemKind.CMI5: Cmi5Payload,
    ItemKind.SCORM: LaunchPayload,
    ItemKind.TEST: TestPayload,
}


# Responses


class Item(_Out, frozen=True):
    id: uuid.UUID
    module_id: uuid.UUID
    position: int
    kind: ItemKind
    title: str
    payload: dict[str, Any]
    activity_id: str


class Module(_Out, frozen=True):
    id: uuid.UUID
    position: int
    title: str
    items: list[Item]


class Course(_Out, frozen=True):
    id: uuid.UUID
    owner: str
    title: str
    description: str
    status: CourseStatus
    version: int
    created: datetime
    updated: datetime
    activity_id: str
    modules: list[Module] | None = None  # the outline, on a single course only


class Enrolment(_Out, frozen=True):
    course_id: uuid.UUID
    learner: str
    registration: uuid.UUID
    enrolled: datetime


class Tracked(_Out, frozen=True):
    """What a launch or a completion recorded."""

    registration: uuid.UUID
    activity_id: str
    statement_ids: list[str]
    launch_url: str | None = None  # for a cmi5 AU: with its launch parameters (cmi5 8.1)
    test_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None  # a cmi5 AU's session
