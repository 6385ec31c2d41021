"""What may be done with a course, by whom, and the domain event each change publishes.

Every function runs in the caller's transaction; events are appended to the bus outbox in
that same transaction, so a change and its event commit together or not at all.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec

from core.errors import BadRequest, Conflict, Forbidden, NotFound
from core.events import (
    CourseCreated,
    CourseDeleted,
    CoursePublished,
    CourseUnpublished,
    CourseUpdated,
    DomainEvent,
    LearnerEnrolled,
    encode_event,
)
from ingest.bus_postgres import append_events
from lms.assessments.lookup import test_link
from lms.courses import store
from lms.courses.iris import CourseIris
from lms.courses.models import (
    PAYLOADS,
    Course,
    CourseIn,
    CoursePatch,
    CourseStatus,
    Item,
    ItemIn,
    ItemKind,
    ItemPatch,
    Module,
    ModuleIn,
    ModulePatch,
)
from lms.iam.access import Caller


async def publish(conn: asyncpg.Connection, event: DomainEvent) -> None:
    await append_events(conn, event.topic, [encode_event(event)])


# Courses


async def create_course(conn: asyncpg.Connection, caller: Caller, data: CourseIn) -> Any:
    course_id = uuid.uuid4()
    row = await store.insert_course(conn, course_id, caller.user_id, data.title, data.description)
    await publish(
        conn, CourseCreated(course_id=str(course_id), title=data.title, created_by=caller.user_id)
    )
    return row


async def readable_course(conn: asyncpg.Connection, course_id: uuid.UUID, caller: Caller) -> Any:
    """The course; a draft only for those who author (a learner is told it does not exist)."""
    row = await store.course(conn, course_id)
    if row is None or (row["status"] != CourseStatus.PUBLISHED and not caller.author):
        raise NotFound(f"no course {course_id}")
    return row


async def editable_course(conn: asyncpg.Connection, course_id: uuid.UUID, caller: Caller) -> Any:
    """The course, locked for the change; only its owner (or an admin) may change it."""
    row = await store.course(conn, course_id, for_update=True)
    if row is None or (row["status"] != CourseStatus.PUBLISHED and not caller.author):
        raise NotFound(f"no course {course_id}")
    if not caller.owns(row):
        raise Forbidden("only the course's owner (or an admin) may change it")
    return row


async def changed(
    conn: asyncpg.Connection, course: Any, caller: Caller, change: str, **fields: Any
) -> Any:
    row = await store.update_course(conn, course["id"], **fields)
    await publish(
        conn,
        CourseUpdated(
            course_id=str(course["id"]),
            version=row["version"],
            updated_by=caller.user_id,
            change=change,
        ),
    )
    return row


async def update_details(
    conn: asyncpg.Connection, course: Any, caller: Caller, patch: CoursePatch
) -> Any:
    fields = {
        name: value
        for name in ("title", "description")
        if (value := getattr(patch, name)) is not None
    }
    if not fields:
        raise BadRequest("nothing to change: give title and/or description")
    return await changed(conn, course, caller, "details", **fields)


async def delete_course(conn: asyncpg.Connection, course: Any, caller: Caller) -> None:
    if await store.count_enrolments(conn, course["id"]):
        raise Conflict("a course with enrolments cannot be deleted; unpublish it instead")
    await store.delete_course(conn, course["id"])
    await publish(conn, CourseDeleted(course_id=str(course["id"]), deleted_by=caller.user_id))


async def publish_course(conn: asyncpg.Connection, course: Any, caller: Caller) -> Any:
    if course["status"] == CourseStatus.PUBLISHED:
        raise Conflict("the course is published already")
    if not await store.items(conn, course["id"]):
        raise Conflict("a course without content items cannot be published")
    row = await store.update_course(conn, course["id"], status=CourseStatus.PUBLISHED.value)
    await publish(
        conn,
        CoursePublished(
            course_id=str(course["id"]), version=row["version"], published_by=caller.user_id
        ),
    )
    return row


async def unpublish_course(conn: asyncpg.Connection, course: Any, caller: Caller) -> Any:
    if course["status"] != CourseStatus.PUBLISHED:
        raise Conflict("the course is not published")
    row = await store.update_course(conn, course["id"], status=CourseStatus.DRAFT.value)
    await publish(
        conn,
        CourseUnpublished(
            course_id=str(course["id"]), version=row["version"], unpublished_by=caller.user_id
        ),
    )
    return row


# The outline: modules and their items


async def outline(conn: asyncpg.Connection, course: Any, iris: CourseIris) -> Course:
    by_module: dict[uuid.UUID, list[Item]] = {}
    for row in await store.items(conn, course["id"]):
        by_module.setdefault(row["module_id"], []).append(item_of(row, course["id"], iris))
    modules = [
        Module(
            id=m["id"], position=m["position"], title=m["title"], items=by_module.get(m["id"], [])
        )
        for m in await store.modules(conn, course["id"])
    ]
    return course_of(course, iris, modules)


def course_of(row: Any, iris: CourseIris, modules: list[Module] | None = None) -> Course:
    return Course(
        id=row["id"],
        owner=row["owner"],
        title=row["title"],
        description=row["description"],
        status=CourseStatus(row["status"]),
        version=row["version"],
        created=row["created"],
        updated=row["updated"],
        activity_id=iris.course(row["id"]),
        modules=modules,
    )


def item_of(row: Any, course_id: uuid.UUID, iris: CourseIris) -> Item:
    return Item(
        id=row["id"],
        module_id=row["module_id"],
        position=row["position"],
        kind=ItemKind(row["kind"]),
        title=row["title"],
        payload=msgspec.json.decode(row["payload"]),
        activity_id=iris.item(course_id, row["id"]),
    )


async def module_of(conn: asyncpg.Connection, course: Any, module_id: uuid.UUID) -> Any:
    for row in await store.modules(conn, course["id"]):
        if row["id"] == module_id:
            return row
    raise NotFound(f"no module {module_id} in course {course['id']}")


async def add_module(
    conn: asyncpg.Connection, course: Any, caller: Caller, data: ModuleIn
) -> uuid.UUID:
    module_id = uuid.uuid4()
    await store.insert_module(conn, module_id, course["id"], data.title)
    if data.position is not None:
        await _move(
            conn,
            [m["id"] for m in await store.modules(conn, course["id"])],
            module_id,
            data.position,
            store.order_modules,
        )
    await changed(conn, course, caller, "modules")
    return module_id


async def patch_module(
    conn: asyncpg.Connection, course: Any, caller: Caller, module_id: uuid.UUID, patch: ModulePatch
) -> None:
    await module_of(conn, course, module_id)
    if patch.title is None and patch.position is None:
        raise BadRequest("nothing to change: give title and/or position")
    if patch.title is not None:
        await store.rename_module(conn, module_id, patch.title)
    if patch.position is not None:
        ids = [m["id"] for m in await store.modules(conn, course["id"])]
        await _move(conn, ids, module_id, patch.position, store.order_modules)
    await changed(conn, course, caller, "modules")


async def delete_module(
    conn: asyncpg.Connection, course: Any, caller: Caller, module_id: uuid.UUID
) -> None:
    await module_of(conn, course, module_id)
    await store.delete_module(conn, module_id)
    await store.order_modules(conn, [m["id"] for m in await store.modules(conn, course["id"])])
    await changed(conn, course, caller, "modules")


async def order_modules(
    conn: asyncpg.Connection, course: Any, caller: Caller, ids: list[uuid.UUID]
) -> None:
    current = [m["id"] for m in await store.modules(conn, course["id"])]
    _same_members(current, ids, "modules")
    await store.order_modules(conn, ids)
    await changed(conn, course, caller, "modules")


async def add_item(
    conn: asyncpg.Connection, course: Any, caller: Caller, module_id: uuid.UUID, data: ItemIn
) -> uuid.UUID:
    await module_of(conn, course, module_id)
    item_id = uuid.uuid4()
    payload = checked_payload(data.kind, data.payload)
    await check_test_link(conn, course, data.kind, payload)
    await store.insert_item(conn, item_id, course["id"], module_id, data.kind, data.title, payload)
    if data.position is not None:
        await _move(
            conn, await store.item_ids(conn, module_id), item_id, data.position, store.order_items
        )
    await changed(conn, course, caller, "items")
    return item_id


async def item_in(conn: asyncpg.Connection, course: Any, item_id: uuid.UUID) -> Any:
    row = await store.item(conn, course["id"], item_id)
    if row is None:
        raise NotFound(f"no item {item_id} in course {course['id']}")
    return row


async def patch_item(
    conn: asyncpg.Connection, course: Any, caller: Caller, item_id: uuid.UUID, patch: ItemPatch
) -> None:
    row = await item_in(conn, course, item_id)
    if patch == ItemPatch():
        raise BadRequest("nothing to change: give title, payload, position and/or moduleId")
    module_id = row["module_id"]
    if patch.module_id is not None and patch.module_id != module_id:
        await module_of(conn, course, patch.module_id)
        module_id = patch.module_id
    if patch.payload is not None:
        payload = checked_payload(ItemKind(row["kind"]), patch.payload)
        await check_test_link(conn, course, ItemKind(row["kind"]), payload)
    else:
        payload = msgspec.json.decode(row["payload"])
    await store.update_item(
        conn, item_id, title=patch.title or row["title"], payload=payload, module_id=module_id
    )
    if module_id != row["module_id"]:
        await store.order_items(conn, await store.item_ids(conn, row["module_id"]))
    ids = await store.item_ids(conn, module_id)
    if patch.position is not None:
        await _move(conn, ids, item_id, patch.position, store.order_items)
    elif module_id != row["module_id"]:  # moved in last
        await _move(conn, ids, item_id, len(ids) - 1, store.order_items)
    await changed(conn, course, caller, "items")


async def delete_item(
    conn: asyncpg.Connection, course: Any, caller: Caller, item_id: uuid.UUID
) -> None:
    row = await item_in(conn, course, item_id)
    await store.delete_item(conn, item_id)
    await store.order_items(conn, await store.item_ids(conn, row["module_id"]))
    await changed(conn, course, caller, "items")


async def order_items(
    conn: asyncpg.Connection,
    course: Any,
    caller: Caller,
    module_id: uuid.UUID,
    ids: list[uuid.UUID],
) -> None:
    await module_of(conn, course, module_id)
    _same_members(await store.item_ids(conn, module_id), ids, "items of the module")
    await store.order_items(conn, ids)
    await changed(conn, course, caller, "items")


def checked_payload(kind: ItemKind, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload in its normal form, if it is what a `kind` item needs."""
    try:
        value = msgspec.convert(payload, PAYLOADS[kind])
    except msgspec.ValidationError as exc:
        raise BadRequest(f"invalid payload for a {kind} item: {exc}") from None
    normal: dict[str, Any] = msgspec.to_builtins(value)
    return normal


async def check_test_link(
    conn: asyncpg.Connection, course: Any, kind: ItemKind, payload: dict[str, Any]
) -> None:
    """A test item must be a test of this course: 400 if there is no such test, 409 if the
    test names no course or another one (its attempts would count elsewhere)."""
    if kind is not ItemKind.TEST:
        return
    link = await test_link(conn, uuid.UUID(payload["testId"]))
    if link is None:
        raise BadRequest(f"no test {payload['testId']}")
    if link.course_id is None:
        raise Conflict(
            f"test {link.test_id} belongs to no course: set its courseId to {course['id']} first"
        )
    if link.course_id != str(course["id"]):
        raise Conflict(f"test {link.test_id} belongs to course {link.course_id}, not this one")


def _same_members(current: list[uuid.UUID], given: list[uuid.UUID], what: str) -> None:
    if len(given) != len(set(given)) or set(given) != set(current):
        raise BadRequest(f"the new order must list each of the {what} exactly once")


async def _move(
    conn: asyncpg.Connection, ids: list[uuid.UUID], moved: uuid.UUID, position: int, order: Any
) -> None:
    ids = [i for i in ids if i != moved]
    ids.insert(min(position, len(ids)), moved)
    await order(conn, ids)


# Enrolment


async def enrol(conn: asyncpg.Connection, course: Any, caller: Caller, learner: str | None) -> Any:
    """Enrol `learner` (the caller when None); others may be enrolled by who edits the course."""
    if course["status"] != CourseStatus.PUBLISHED:
        raise Conflict("only a published course takes enrolments")
    if learner is not None and learner != caller.user_id and not caller.owns(course):
        raise Forbidden("only the course's owner (or an admin) may enrol someone else")
    learner = learner or caller.user_id
    if not learner.strip():
        raise BadRequest("learner must be a user id")
    row = await store.insert_enrolment(conn, course["id"], learner, uuid.uuid4(), caller.user_id)
    if row is None:
        raise Conflict(f"{learner} is enrolled in this course already")
    await publish(
        conn,
        LearnerEnrolled(
            course_id=str(course["id"]), learner=learner, registration=str(row["registration"])
        ),
    )
    return row
