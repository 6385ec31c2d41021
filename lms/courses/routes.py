"""/api/v1: courses, their modules and items, enrolments, learners' launches and
completions, and the catalogue.

Authors change the courses they own (admins any); learners see published courses only, and
enrol, launch and complete items in them. Every change publishes a `lms.courses` event.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response, Router, delete, get, patch, post, put

from core.cmi5 import LAUNCH_DATA
from core.errors import Conflict, Forbidden, NotFound
from lms.courses import cmi5, service, store, tracking
from lms.courses.iris import CourseIris
from lms.courses.launch_state import put_state_document
from lms.courses.models import (
    Cmi5Payload,
    Course,
    CourseIn,
    CoursePatch,
    CourseStatus,
    Enrolment,
    EnrolmentIn,
    Item,
    ItemIn,
    ItemKind,
    ItemPatch,
    LaunchIn,
    Module,
    ModuleIn,
    ModulePatch,
    Order,
    Tracked,
)
from lms.iam.access import AUTHENTICATED, Caller, authorize, principal_of
from lms.iam.roles import Permission
from lrs.state import LrsState

AUTHOR = {"permission": Permission.AUTHOR_CONTENT}
ANYONE = {"permission": AUTHENTICATED}
LEARNER = {"permission": Permission.LEARN}
_JSON = "application/json"


def _caller(request: Request[Any, Any, Any]) -> Caller:
    return Caller.of(principal_of(request))


def _iris(request: Request[Any, Any, Any]) -> CourseIris:
    return CourseIris(LrsState.of(request).settings.base_url)


@asynccontextmanager
async def _transaction(request: Request[Any, Any, Any]) -> AsyncIterator[asyncpg.Connection]:
    async with LrsState.of(request).pool.acquire() as conn, conn.transaction():
        yield conn


# Courses


@post("/courses", opt=AUTHOR)
async def create_course(request: Request[Any, Any, Any], data: CourseIn) -> Course:
    """A new course, a draft owned by the caller."""
    async with _transaction(request) as conn:
        row = await service.create_course(conn, _caller(request), data)
        return await service.outline(conn, row, _iris(request))


@get("/courses", opt=ANYONE)
async def list_courses(request: Request[Any, Any, Any], mine: bool = False) -> list[Course]:
    """Published courses for learners; every course for authors (`?mine=true`: their own)."""
    caller = _caller(request)
    async with LrsState.of(request).pool.acquire() as conn:
        rows = await store.courses(
            conn,
            owner=caller.user_id if mine else None,
            published_only=not caller.author,
        )
    iris = _iris(request)
    return [service.course_of(row, iris) for row in rows]


@get("/courses/{course_id:uuid}", opt=ANYONE)
async def get_course(request: Request[Any, Any, Any], course_id: uuid.UUID) -> Course:
    """The course and its outline (modules and their items, in order)."""
    async with LrsState.of(request).pool.acquire() as conn:
        row = await service.readable_course(conn, course_id, _caller(request))
        return await service.outline(conn, row, _iris(request))


@patch("/courses/{course_id:uuid}", opt=AUTHOR)
async def patch_course(
    request: Request[Any, Any, Any], course_id: uuid.UUID, data: CoursePatch
) -> Course:
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        row = await service.update_details(conn, row, caller, data)
        return await service.outline(conn, row, _iris(request))


@delete("/courses/{course_id:uuid}", opt=AUTHOR)
async def delete_course(request: Request[Any, Any, Any], course_id: uuid.UUID) -> None:
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        await service.delete_course(conn, row, caller)


@post("/courses/{course_id:uuid}/publish", opt=AUTHOR, status_code=200)
async def publish_course(request: Request[Any, Any, Any], course_id: uuid.UUID) -> Course:
    """Learners see the course from now on (409 if published already or empty)."""
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        row = await service.publish_course(conn, row, caller)
        return await service.outline(conn, row, _iris(request))


@post("/courses/{course_id:uuid}/unpublish", opt=AUTHOR, status_code=200)
async def unpublish_course(request: Request[Any, Any, Any], course_id: uuid.UUID) -> Course:
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        row = await service.unpublish_course(conn, row, caller)
        return await service.outline(conn, row, _iris(request))


# Modules and items


@get("/courses/{course_id:uuid}/modules", opt=ANYONE)
async def list_modules(request: Request[Any, Any, Any], course_id: uuid.UUID) -> list[Module]:
    async with LrsState.of(request).pool.acquire() as conn:
        row = await service.readable_course(conn, course_id, _caller(request))
        return (await service.outline(conn, row, _iris(request))).modules or []


@post("/courses/{course_id:uuid}/modules", opt=AUTHOR)
async def create_module(
    request: Request[Any, Any, Any], course_id: uuid.UUID, data: ModuleIn
) -> Module:
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        module_id = await service.add_module(conn, row, caller, data)
        return await _module(conn, row, module_id, _iris(request))


@patch("/courses/{course_id:uuid}/modules/{module_id:uuid}", opt=AUTHOR)
async def patch_module(
    request: Request[Any, Any, Any], course_id: uuid.UUID, module_id: uuid.UUID, data: ModulePatch
) -> Module:
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        await service.patch_module(conn, row, caller, module_id, data)
        return await _module(conn, row, module_id, _iris(request))


@delete("/courses/{course_id:uuid}/modules/{module_id:uuid}", opt=AUTHOR)
async def delete_module(
    request: Request[Any, Any, Any], course_id: uuid.UUID, module_id: uuid.UUID
) -> None:
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        await service.delete_module(conn, row, caller, module_id)


@put("/courses/{course_id:uuid}/module-order", opt=AUTHOR)
async def order_modules(
    request: Request[Any, Any, Any], course_id: uuid.UUID, data: Order
) -> list[Module]:
    """`{"ids": [...]}`: every module of the course, in its new order."""
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        await service.order_modules(conn, row, caller, data.ids)
        return (await service.outline(conn, row, _iris(request))).modules or []


@post("/courses/{course_id:uuid}/modules/{module_id:uuid}/items", opt=AUTHOR)
async def create_item(
    request: Request[Any, Any, Any], course_id: uuid.UUID, module_id: uuid.UUID, data: ItemIn
) -> Item:
    """A content item: video, document, link (`url`), cmi5 or SCORM (`launchUrl`), test
    (`testId`), its payload checked against its kind."""
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        item_id = await service.add_item(conn, row, caller, module_id, data)
        return service.item_of(await service.item_in(conn, row, item_id), course_id, _iris(request))


@put("/courses/{course_id:uuid}/modules/{module_id:uuid}/item-order", opt=AUTHOR)
async def order_items(
    request: Request[Any, Any, Any], course_id: uuid.UUID, module_id: uuid.UUID, data: Order
) -> Module:
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        await service.order_items(conn, row, caller, module_id, data.ids)
        return await _module(conn, row, module_id, _iris(request))


@get("/courses/{course_id:uuid}/items/{item_id:uuid}", opt=ANYONE)
async def get_item(
    request: Request[Any, Any, Any], course_id: uuid.UUID, item_id: uuid.UUID
) -> Item:
    async with LrsState.of(request).pool.acquire() as conn:
        row = await service.readable_course(conn, course_id, _caller(request))
        return service.item_of(await service.item_in(conn, row, item_id), course_id, _iris(request))


@patch("/courses/{course_id:uuid}/items/{item_id:uuid}", opt=AUTHOR)
async def patch_item(
    request: Request[Any, Any, Any], course_id: uuid.UUID, item_id: uuid.UUID, data: ItemPatch
) -> Item:
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        await service.patch_item(conn, row, caller, item_id, data)
        return service.item_of(await service.item_in(conn, row, item_id), course_id, _iris(request))


@delete("/courses/{course_id:uuid}/items/{item_id:uuid}", opt=AUTHOR)
async def delete_item(
    request: Request[Any, Any, Any], course_id: uuid.UUID, item_id: uuid.UUID
) -> None:
    caller = _caller(request)
    async with _transaction(request) as conn:
        row = await service.editable_course(conn, course_id, caller)
        await service.delete_item(conn, row, caller, item_id)


async def _module(
    conn: asyncpg.Connection, course: Any, module_id: uuid.UUID, iris: CourseIris
) -> Module:
    for module in (await service.outline(conn, course, iris)).modules or []:
        if module.id == module_id:
            return module
    raise NotFound(f"no module {module_id}")


# Enrolments and learners' interactions


@post("/courses/{course_id:uuid}/enrolments", opt=ANYONE)
async def enrol(
    request: Request[Any, Any, Any], course_id: uuid.UUID, data: EnrolmentIn | None = None
) -> Enrolment:
    """Enrol the caller (a learner), or `{"learner": <user id>}` (the owner, an admin).
    The enrolment's registration is the xAPI registration of the learner's statements."""
    principal = principal_of(request)
    caller = Caller.of(principal)
    learner = data.learner if data is not None else None
    if (learner is None or learner == caller.user_id) and not principal.may(Permission.LEARN):
        raise Forbidden("your role does not enrol in courses")
    async with _transaction(request) as conn:
        row = await service.readable_course(conn, course_id, caller)
        return Enrolment(**await service.enrol(conn, row, caller, learner))


@get("/courses/{course_id:uuid}/enrolments", opt=ANYONE)
async def list_enrolments(request: Request[Any, Any, Any], course_id: uuid.UUID) -> list[Enrolment]:
    """Every enrolment for the owner and admins; one's own for anyone else."""
    caller = _caller(request)
    async with LrsState.of(request).pool.acquire() as conn:
        row = await service.readable_course(conn, course_id, caller)
        learner = None if caller.owns(row) else caller.user_id
        return [Enrolment(**r) for r in await store.enrolments(conn, course_id, learner)]


@post("/courses/{course_id:uuid}/items/{item_id:uuid}/launch", opt=LEARNER, status_code=200)
async def launch_item(
    request: Request[Any, Any, Any],
    course_id: uuid.UUID,
    item_id: uuid.UUID,
    data: LaunchIn | None = None,
) -> Tracked:
    """Record `launched`; answer where the item is (its URL, or the test to start). A cmi5
    AU's answer is its launch URL with the cmi5 launch parameters, its `LMS.LaunchData`
    State document written first (`returnUrl` goes into it)."""
    course, item, registration = await _enrolled_item(request, course_id, item_id)
    if ItemKind(item["kind"]) is ItemKind.CMI5:
        return_url = data.return_url if data is not None else None
        return await _launch_cmi5(request, course, item, registration, return_url)
    ids = await _record(request, [tracking.LAUNCHED], course, item, registration)
    payload = service.item_of(item, course_id, _iris(request)).payload
    kind = ItemKind(item["kind"])
    return Tracked(
        registration=registration,
        activity_id=_iris(request).item(course_id, item_id),
        statement_ids=ids,
        launch_url=payload.get("launchUrl") or payload.get("url"),
        test_id=uuid.UUID(payload["testId"]) if kind is ItemKind.TEST else None,
    )


@post("/courses/{course_id:uuid}/items/{item_id:uuid}/complete", opt=LEARNER, status_code=200)
async def complete_item(
    request: Request[Any, Any, Any], course_id: uuid.UUID, item_id: uuid.UUID
) -> Tracked:
    """Record `experienced` (video, document, link) and `completed`. A test is completed by
    submitting an attempt, not here (409)."""
    course, item, registration = await _enrolled_item(request, course_id, item_id)
    kind = ItemKind(item["kind"])
    if kind is ItemKind.TEST:
        raise Conflict("a test is completed by submitting an attempt at it")
    verbs = [tracking.COMPLETED]
    if kind in tracking.EXPERIENCED_KINDS:
        verbs.insert(0, tracking.EXPERIENCED)
    ids = await _record(request, verbs, course, item, registration)
    return Tracked(
        registration=registration,
        activity_id=_iris(request).item(course_id, item_id),
        statement_ids=ids,
    )


async def _launch_cmi5(
    request: Request[Any, Any, Any],
    course: Any,
    item: Any,
    registration: uuid.UUID,
    return_url: str | None,
) -> Tracked:
    lrs = LrsState.of(request)
    iris = _iris(request)
    learner = _caller(request).user_id
    try:
        au = msgspec.json.decode(item["payload"], type=Cmi5Payload)
    except msgspec.ValidationError as exc:
        raise Conflict(f"the AU cannot be launched until its author fixes it: {exc}") from None
    launch = cmi5.Launch(
        au=au,
        activity_id=iris.item(course["id"], item["id"]),
        course_activity_id=iris.course(course["id"]),
        actor=tracking.learner_agent(iris.base_url, learner),
        registration=registration,
        session_id=uuid.uuid4(),
    )
    token = cmi5.new_fetch_token()
    async with _transaction(request) as conn:
        await store.insert_cmi5_session(
            conn,
            session_id=launch.session_id,
            fetch_digest=cmi5.fetch_digest(token),
            course_id=course["id"],
            item_id=item["id"],
            learner=learner,
            registration=registration,
            fetch_seconds=lrs.settings.cmi5_fetch_seconds,
        )
        await put_state_document(
            conn,
            activity_id=launch.activity_id,
            agent=launch.actor,
            registration=registration,
            state_id=LAUNCH_DATA,
            document=launch.launch_data(return_url),
        )
    launched = tracking.item_statement(
        tracking.LAUNCHED,
        iris=iris,
        course=course,
        item=item,
        learner=learner,
        registration=registration,
    )
    ids = await tracking.record(lrs.committer, iris.base_url, [launch.launched_context(launched)])
    return Tracked(
        registration=registration,
        activity_id=launch.activity_id,
        statement_ids=ids,
        launch_url=launch.launch_url(
            endpoint=cmi5.xapi_endpoint(iris.base_url),
            fetch_url=cmi5.fetch_url(iris.base_url, token),
        ),
        session_id=launch.session_id,
    )


async def _enrolled_item(
    request: Request[Any, Any, Any], course_id: uuid.UUID, item_id: uuid.UUID
) -> tuple[Any, Any, uuid.UUID]:
    caller = _caller(request)
    async with LrsState.of(request).pool.acquire() as conn:
        course = await service.readable_course(conn, course_id, caller)
        if course["status"] != CourseStatus.PUBLISHED:
            raise Conflict("the course is not published")
        item = await service.item_in(conn, course, item_id)
        enrolment = await store.enrolment(conn, course_id, caller.user_id)
    if enrolment is None:
        raise Forbidden("enrol in the course first")
    return course, item, enrolment["registration"]


async def _record(
    request: Request[Any, Any, Any],
    verbs: list[str],
    course: Any,
    item: Any,
    registration: uuid.UUID,
) -> list[str]:
    lrs = LrsState.of(request)
    iris = _iris(request)
    learner = _caller(request).user_id
    bodies = [
        tracking.item_statement(
            verb, iris=iris, course=course, item=item, learner=learner, registration=registration
        )
        for verb in verbs
    ]
    return await tracking.record(lrs.committer, iris.base_url, bodies)


# The catalogue (read model)


@get("/catalogue", opt=ANYONE)
async def catalogue(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Every published course, without its outline, by title (eventually consistent)."""
    async with LrsState.of(request).pool.acquire() as conn:
        documents = await store.documents(conn)
    return Response(("[" + ",".join(documents) + "]").encode(), media_type=_JSON)


@get("/catalogue/{course_id:uuid}", opt=ANYONE)
async def catalogue_course(
    request: Request[Any, Any, Any], course_id: uuid.UUID
) -> Response[bytes]:
    """A published course with its outline, as the catalogue holds it."""
    async with LrsState.of(request).pool.acquire() as conn:
        document = await store.document(conn, course_id)
    if document is None:
        raise NotFound(f"no course {course_id} in the catalogue")
    return Response(document.encode(), media_type=_JSON)


api_router = Router(
    path="/api/v1",
    route_handlers=[
        create_course,
        list_courses,
        get_course,
        patch_course,
        delete_course,
        publish_course,
        unpublish_course,
        list_modules,
        create_module,
        patch_module,
        delete_module,
        order_modules,
        create_item,
        order_items,
        get_item,
        patch_item,
        delete_item,
        enrol,
        list_enrolments,
        launch_item,
        complete_item,
        catalogue,
        catalogue_course,
    ],
    guards=[authorize],
    tags=["courses"],
)
