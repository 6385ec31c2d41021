"""/api/v1: completion criteria of a course, and a learner's progress in it.

Progress is answered from the progress tables by primary key (one registration's row and
its activities), never from the statement log.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Router, get, put
from litestar.params import FromPath

from core.cmi5 import MoveOn
from core.errors import BadRequest, Forbidden, NotFound
from lms.iam.access import AUTHENTICATED, authorize, principal_of
from lms.iam.roles import Permission
from lms.progress.criteria import ActivityState, CompletionCriteria, item_met
from lms.progress.emit import send_pending
from lms.progress.iris import LmsIris
from lms.progress.projection import judge_registration, load_criteria
from lrs.state import LrsState

_encode = msgspec.json.Encoder().encode


@put(
    "/courses/{course_id:str}/completion-criteria",
    opt={"permission": Permission.AUTHOR_CONTENT},
)
async def put_criteria(request: Request[Any, Any, Any], course_id: FromPath[str]) -> Any:
    try:
        criteria = msgspec.json.decode(await request.body(), type=CompletionCriteria)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"invalid completion criteria: {exc}") from None
    if (problem := criteria.validate()) is not None:
        raise BadRequest(problem)
    lrs = LrsState.of(request)
    iris = LmsIris(lrs.settings.base_url)
    async with lrs.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO lms_completion_criteria"
            " (course_id, required_items, required_tests, min_score, move_on, updated_by)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (course_id) DO UPDATE SET"
            " required_items = excluded.required_items, required_tests = excluded.required_tests,"
            " min_score = excluded.min_score, move_on = excluded.move_on,"
            " updated = now(), updated_by = excluded.updated_by",
            course_id,
            criteria.required_items,
            criteria.required_tests,
            criteria.min_score,
            _encode(criteria.move_on).decode(),
            principal_of(request).subject,
        )
        # Progress made before these criteria is judged by them now.
        for row in await conn.fetch(
            "SELECT registration, last_activity FROM lms_progress"
            " WHERE course_id = $1 AND completed IS NULL",
            course_id,
        ):
            await judge_registration(
                conn, str(row["registration"]), course_id, criteria, iris, row["last_activity"]
            )
    await send_pending(lrs.pool, lrs.committer, iris.base_url)
    return msgspec.to_builtins(criteria)


@get("/courses/{course_id:str}/completion-criteria", opt={"permission": AUTHENTICATED})
async def get_criteria(request: Request[Any, Any, Any], course_id: FromPath[str]) -> Any:
    async with LrsState.of(request).pool.acquire() as conn:
        criteria = await load_criteria(conn, course_id)
    if criteria is None:
        raise NotFound(f"course {course_id} has no completion criteria")
    return msgspec.to_builtins(criteria)


@get("/progress", opt={"permission": AUTHENTICATED})
async def get_progress(request: Request[Any, Any, Any]) -> dict[str, object]:
    """`?courseId=` the caller's own progress; `&learner=<user id>` someone else's
    (authors and admins)."""
    course_id = request.query_params.get("courseId")
    learner = request.query_params.get("learner")
    if not course_id:
        raise BadRequest("courseId is required")
    principal = principal_of(request)
    if learner is not None and learner != principal.subject:
        if not principal.may(Permission.READ_PROGRESS):
            raise Forbidden("your role does not allow reading others' progress")
    else:
        learner = principal.subject
    lrs = LrsState.of(request)
    async with lrs.pool.acquire() as conn:
        progress = await conn.fetchrow(
            "SELECT registration, started, last_activity, duration_ms, satisfied, completed, score"
            " FROM lms_progress WHERE learner = $1 AND course_id = $2"
            " ORDER BY started DESC LIMIT 1",
            learner,
            course_id,
        )
        if progress is None:
            raise NotFound(f"no progress of {learner} in course {course_id}")
        activities = await conn.fetch(
            "SELECT activity, kind, launched, completed, passed, failed, rejected, best_score,"
            " duration_ms FROM lms_progress_activities"
            " WHERE registration = $1 AND course_id = $2 ORDER BY activity",
            progress["registration"],
            course_id,
        )
        criteria = await load_criteria(conn, course_id)
    return progress_body(learner, course_id, progress, activities, criteria)


def progress_body(
    learner: str,
    course_id: str,
    progress: Any,
    activities: list[Any],
    criteria: CompletionCriteria | None,
) -> dict[str, object]:
    move_on = criteria.move_on if criteria else {}
    items = [a for a in activities if a["kind"] == "item"]
    tests = [a for a in activities if a["kind"] == "test"]

    def done(a: Any) -> bool:
        state = ActivityState(a["completed"] is not None, a["passed"] is not None, None)
        return item_met(move_on.get(a["activity"], MoveOn.COMPLETED), state)

    return {
        "courseId": course_id,
        "learner": learner,
        "registration": str(progress["registration"]),
        "started": _time(progress["started"]),
        "lastActivity": _time(progress["last_activity"]),
        "timeSpentMs": progress["duration_ms"],
        "itemsDone": [a["activity"] for a in items if done(a)],
        "items": {a["activity"]: _activity_body(a) for a in items},
        "bestScores": {
            a["activity"]: a["best_score"] for a in tests if a["best_score"] is not None
        },
        "tests": {a["activity"]: _activity_body(a) for a in tests},
        "satisfied": progress["satisfied"] is not None,
        "completed": progress["completed"] is not None,
        "completedAt": _time(progress["completed"]),
        "score": progress["score"],
    }


def _activity_body(a: Any) -> dict[str, object]:
    return {
        "launched": a["launched"],
        "completed": a["completed"] is not None,
        "passed": a["passed"] is not None,
        "failedAttempts": a["failed"],
        "rejected": a["rejected"],
        "bestScore": a["best_score"],
        "timeSpentMs": a["duration_ms"],
    }


def _time(value: Any) -> str | None:
    return value.isoformat() if value else None


api_router = Router(
    path="/api/v1", route_handlers=[put_criteria, get_criteria, get_progress], guards=[authorize]
)
