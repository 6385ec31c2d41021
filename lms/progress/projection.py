"""The progress tables as a projection of the statement log: apply one observation, judge
the registration against its course's criteria, record what that decides.

Every observation is kept (`lms_progress_observations`, in the order applied), so that when
a statement that counted is voided, its registration's progress is computed anew from the
observations that still count, judged after each as when it arrived: the same state as a log
in which the voided statement never was (decisions already sent stay in the ledger).

Everything here runs inside the caller's transaction, which also records the statement as
seen: a statement delivered again (the bus delivers at least once) changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from core.cmi5 import MoveOn
from core.events import CourseCompleted, encode_event
from ingest.bus_postgres import append_events
from lms.progress.criteria import ActivityState, CompletionCriteria, judge
from lms.progress.emit import course_statement, statement_id
from lms.progress.iris import LmsIris
from lms.progress.observation import (
    COMPLETED,
    FAILED,
    LAUNCHED,
    PASSED,
    SATISFIED,
    Observation,
    Voiding,
)
from lms.progress.voiding import void_violation

_SCORED_VERBS = frozenset({COMPLETED, PASSED, FAILED})


async def load_criteria(conn: asyncpg.Connection, course_id: str) -> CompletionCriteria | None:
    row = await conn.fetchrow(
        "SELECT required_items, required_tests, min_score, move_on"
        " FROM lms_completion_criteria WHERE course_id = $1",
        course_id,
    )
    if row is None:
        return None
    return CompletionCriteria(
        required_items=list(row["required_items"]),
        required_tests=list(row["required_tests"]),
        min_score=row["min_score"],
        move_on=msgspec.json.decode(row["move_on"], type=dict[str, MoveOn]),
    )


async def apply_observation(conn: asyncpg.Connection, obs: Observation, iris: LmsIris) -> bool:
    """Record what `obs` says; False if its statement was applied before, or was voided
    before it arrived. A cmi5 defined statement that is not counted (cmi5 9.3) is voided
    (cmi5 6.3, `lms.progress.voiding`)."""
    if not await conn.fetchval(
        "INSERT INTO lms_progress_seen (statement_id) VALUES ($1)"
        " ON CONFLICT DO NOTHING RETURNING true",
        obs.statement_id,
    ):
        return False
    voided = await conn.fetchval(
        "INSERT INTO lms_progress_observations (statement_id, registration, course_id,"
        ' learner, actor, verb, activity, kind, "timestamp", score, duration_ms)'
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " RETURNING EXISTS (SELECT FROM lms_progress_voided WHERE statement_id = $1)",
        obs.statement_id,
        obs.registration,
        obs.course_id,
        obs.learner,
        obs.actor,
        obs.verb,
        obs.activity,
        obs.kind,
        obs.timestamp,
        obs.score,
        obs.duration_ms,
    )
    if voided:
        return False
    if await _count(conn, obs) and obs.cmi5:
        await void_violation(conn, obs.statement_id, iris)
    return True


async def apply_voiding(conn: asyncpg.Connection, voiding: Voiding) -> tuple[str, str] | None:
    """Record that the target no longer counts; the registration and course whose progress
    it counted toward, if it did (and was not voided before)."""
    if not await conn.fetchval(
        "INSERT INTO lms_progress_voided (statement_id) VALUES ($1)"
        " ON CONFLICT DO NOTHING RETURNING true",
        voiding.target,
    ):
        return None
    row = await conn.fetchrow(
        "SELECT registration, course_id FROM lms_progress_observations WHERE statement_id = $1",
        voiding.target,
    )
    return None if row is None else (str(row["registration"]), row["course_id"])


async def recompute(
    conn: asyncpg.Connection,
    registration: str,
    course_id: str,
    criteria: CompletionCriteria | None,
    iris: LmsIris,
) -> None:
    """The registration's progress in the course anew from the observations that count."""
    for table in ("lms_progress_activities", "lms_progress"):
        await conn.execute(
            f"DELETE FROM {table} WHERE registration = $1 AND course_id = $2",
            registration,
            course_id,
        )
    rows = await conn.fetch(
        "SELECT statement_id, registration, course_id, learner, actor, verb, activity, kind,"
        ' "timestamp", score, duration_ms FROM lms_progress_observations o'
        " WHERE registration = $1 AND course_id = $2"
        " AND NOT EXISTS (SELECT FROM lms_progress_voided v WHERE v.statement_id = o.statement_id)"
        " ORDER BY seq",
        registration,
        course_id,
    )
    for row in rows:
        obs = Observation(
            **{**dict(row), "statement_id": str(row["statement_id"]), "registration": registration}
        )
        await _count(conn, obs)
        if criteria is not None:
            await judge_registration(conn, registration, course_id, criteria, iris, obs.timestamp)


async def _count(conn: asyncpg.Connection, obs: Observation) -> bool:
    """Add the observation to the registration's progress and its activity's; True if it is
    rejected (recorded as seen, not counted)."""
    row = await conn.fetchrow(
        "SELECT passed FROM lms_progress_activities"
        " WHERE registration = $1 AND course_id = $2 AND activity = $3 FOR UPDATE",
        obs.registration,
        obs.course_id,
        obs.activity,
    )
    # cmi5 9.3: once passed, a later passed or failed is not counted.
    rejected = obs.verb in (PASSED, FAILED) and row is not None and row["passed"] is not None
    counted_ms = 0 if rejected else obs.duration_ms
    await conn.execute(
        "INSERT INTO lms_progress (registration, course_id, learner, actor, started,"
        " last_activity, duration_ms) VALUES ($1, $2, $3, $4, $5, $5, $6)"
        " ON CONFLICT (registration, course_id) DO UPDATE SET"
        " started = least(lms_progress.started, excluded.started),"
        " last_activity = greatest(lms_progress.last_activity, excluded.last_activity),"
        " duration_ms = lms_progress.duration_ms + excluded.duration_ms",
        obs.registration,
        obs.course_id,
        obs.learner,
        obs.actor,
        obs.timestamp,
        counted_ms,
    )
    score = obs.score if obs.verb in _SCORED_VERBS and not rejected else None
    await conn.execute(
        "INSERT INTO lms_progress_activities AS a (registration, course_id, activity, kind,"
        " launched, completed, passed, failed, rejected, best_score, duration_ms)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (registration, course_id, activity) DO UPDATE SET"
        " launched = a.launched + excluded.launched,"
        " completed = coalesce(a.completed, excluded.completed),"
        " passed = coalesce(a.passed, excluded.passed),"
        " failed = a.failed + excluded.failed,"
        " rejected = a.rejected + excluded.rejected,"
        " best_score = greatest(a.best_score, excluded.best_score),"
        " duration_ms = a.duration_ms + excluded.duration_ms",
        obs.registration,
        obs.course_id,
        obs.activity,
        obs.kind,
        int(obs.verb == LAUNCHED),
        obs.timestamp if obs.verb == COMPLETED else None,
        obs.timestamp if obs.verb == PASSED and not rejected else None,
        int(obs.verb == FAILED and not rejected),
        int(rejected),
        score,
        counted_ms,
    )
    return rejected


async def activity_states(
    conn: asyncpg.Connection, registration: str, course_id: str
) -> dict[str, ActivityState]:
    rows = await conn.fetch(
        "SELECT activity, kind, completed, passed, best_score FROM lms_progress_activities"
        " WHERE registration = $1 AND course_id = $2",
        registration,
        course_id,
    )
    return {
        r["activity"]: ActivityState(
            completed=r["completed"] is not None,
            passed=r["passed"] is not None,
            best_score=r["best_score"],
            test=r["kind"] == "test",
        )
        for r in rows
    }


async def judge_registration(
    conn: asyncpg.Connection,
    registration: str,
    course_id: str,
    criteria: CompletionCriteria,
    iris: LmsIris,
    at: datetime,
) -> list[str]:
    """Decide satisfied / completed (and passed) if newly met; return the verbs decided.

    Each decision is recorded once per (registration, course, verb) in the emission ledger,
    with `CourseCompleted` in the same transaction (an outbox write)."""
    progress = await conn.fetchrow(
        "SELECT learner, actor, duration_ms, satisfied, completed FROM lms_progress"
        " WHERE registration = $1 AND course_id = $2 FOR UPDATE",
        registration,
        course_id,
    )
    if progress is None or (progress["satisfied"] and progress["completed"]):
        return []
    verdict = judge(criteria, await activity_states(conn, registration, course_id))
    verbs = []
    if verdict.satisfied and progress["satisfied"] is None:
        await conn.execute(
            "UPDATE lms_progress SET satisfied = $3 WHERE registration = $1 AND course_id = $2",
            registration,
            course_id,
            at,
        )
        verbs.append(SATISFIED)
    if verdict.completed and progress["completed"] is None:
        await conn.execute(
            "UPDATE lms_progress SET completed = $3, score = $4"
            " WHERE registration = $1 AND course_id = $2",
            registration,
            course_id,
            at,
            verdict.score,
        )
        verbs.append(COMPLETED)
        if criteria.scored:
            verbs.append(PASSED)
    decided = []
    actor = msgspec.json.decode(progress["actor"])
    for verb in verbs:
        body = course_statement(
            verb=verb,
            registration=registration,
            course_iri=iris.course(course_id),
            actor=actor,
            timestamp=at,
            score=verdict.score,
            duration_ms=progress["duration_ms"],
        )
        if await _record_decision(conn, registration, course_id, verb, body):
            decided.append(verb)
            if verb == COMPLETED:
                event = CourseCompleted(
                    event_id=_event_id(registration, course_id),
                    learner=progress["learner"],
                    course_id=course_id,
                )
                await append_events(conn, event.topic, [encode_event(event)])
    return decided


async def _record_decision(
    conn: asyncpg.Connection, registration: str, course_id: str, verb: str, body: dict[str, object]
) -> bool:
    return bool(
        await conn.fetchval(
            "INSERT INTO lms_progress_emitted (registration, course_id, verb, statement_id, body)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
            registration,
            course_id,
            verb,
            body["id"],
            msgspec.json.encode(body).decode(),
        )
    )


def _event_id(registration: str, course_id: str) -> uuid.UUID:
    return uuid.UUID(statement_id(registration, course_id, "CourseCompleted"))
