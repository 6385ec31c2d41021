"""The course-level statements progress sends (satisfied, completed, passed) and how; the
voidings of `lms.progress.voiding` are sent the same way.

Each has an id derived from (registration, course, verb), and its content from the
statement that met the criteria, so sending it again is a no-op for the LRS (same id,
equivalent statement). The ledger `lms_progress_emitted` records the decision in the
transaction that makes it; `send_pending` sends what the LRS has not committed yet.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
import msgspec

from core.xapi.decode import decode_statement_obj
from core.xapi.models import Account, Agent
from ingest.accept import accept_statements, xapi_time
from ingest.batcher import GroupCommitter
from lms.progress.observation import COMPLETED, PASSED, SATISFIED

AUTHORITY_KEY = "lms.progress"
_NAMESPACE = uuid.UUID("7c0e7f3e-3c9d-4f57-9a55-3b1b7a5c2f10")
_DISPLAY = {COMPLETED: "completed", PASSED: "passed", SATISFIED: "satisfied"}


def statement_id(registration: str, course_id: str, verb: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{registration} {course_id} {verb}"))


def course_statement(
    *,
    verb: str,
    registration: str,
    course_iri: str,
    actor: dict[str, object],
    timestamp: datetime,
    score: float | None,
    duration_ms: int,
) -> dict[str, object]:
    result: dict[str, object] = {}
    if verb == COMPLETED:
        result = {"completion": True, "duration": f"PT{duration_ms / 1000:.2f}S"}
    elif verb == PASSED:
        result = {"success": True}
        if score is not None:
            result["score"] = {"scaled": round(score, 6)}
    return {
        "id": statement_id(registration, course_iri, verb),
        "actor": actor,
        "verb": {"id": verb, "display": {"en-US": _DISPLAY[verb]}},
        "object": {"objectType": "Activity", "id": course_iri},
        **({"result": result} if result else {}),
        "context": {"registration": registration},
        "timestamp": xapi_time(timestamp),
    }


def authority(base_url: str) -> Agent:
    return Agent(name="HyperEdu progress", account=Account(home_page=base_url, name=AUTHORITY_KEY))


async def send_pending(pool: asyncpg.Pool, committer: GroupCommitter, base_url: str) -> int:
    """Send the decided statements the LRS has not committed yet (course statements, then
    the voidings of `lms.progress.voiding`); return how many."""
    return await _send_decisions(pool, committer, base_url) + await _send_voidings(
        pool, committer, base_url
    )


async def _send_decisions(pool: asyncpg.Pool, committer: GroupCommitter, base_url: str) -> int:
    rows = await pool.fetch(
        "SELECT registration, course_id, verb, body FROM lms_progress_emitted"
        " WHERE accepted IS NULL ORDER BY decided LIMIT 500"
    )
    if not rows:
        return 0
    await _accept(committer, [r["body"] for r in rows], base_url)
    await pool.execute(
        "UPDATE lms_progress_emitted SET accepted = now()"
        " FROM unnest($1::uuid[], $2::text[], $3::text[]) AS d(registration, course_id, verb)"
        " WHERE lms_progress_emitted.registration = d.registration"
        " AND lms_progress_emitted.course_id = d.course_id AND lms_progress_emitted.verb = d.verb",
        [r["registration"] for r in rows],
        [r["course_id"] for r in rows],
        [r["verb"] for r in rows],
    )
    return len(rows)


async def _send_voidings(pool: asyncpg.Pool, committer: GroupCommitter, base_url: str) -> int:
    rows = await pool.fetch(
        "SELECT target, body FROM lms_progress_voidings"
        " WHERE accepted IS NULL ORDER BY decided LIMIT 500"
    )
    if not rows:
        return 0
    await _accept(committer, [r["body"] for r in rows], base_url)
    await pool.execute(
        "UPDATE lms_progress_voidings SET accepted = now() WHERE target = ANY($1::uuid[])",
        [r["target"] for r in rows],
    )
    return len(rows)


async def _accept(committer: GroupCommitter, bodies: list[str], base_url: str) -> None:
    statements = [decode_statement_obj(msgspec.json.decode(b), "1.0.3") for b in bodies]
    await accept_statements(
        committer,
        statements,
        authority=authority(base_url),
        authority_key=AUTHORITY_KEY,
        may_define=False,
    )
