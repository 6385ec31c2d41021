"""cmi5 6.3: "The LMS MUST Void statements that are NOT rejected AND conflict with the
Statement API requirements as defined in Section 9". The LRS accepts an AU's second
`passed`, or a `failed` after `passed` (cmi5 9.3); progress does not count it, and the LMS
voids it.

The decision is a row of the voiding ledger (`lms_progress_voidings`, one per target), made
in the transaction that applies the statement, and sent by `emit.send_pending` like the
course statements: the voiding's id derives from its target, so sending it again stores
nothing new, and the ledger survives a rebuild, so a replay decides nothing twice. The target
is marked voided in the projection at once: the voiding, read back from the log, finds it
voided already and recomputes nothing (it never counted), and a recompute leaves it out.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import msgspec

from ingest.accept import xapi_time
from lms.progress.emit import authority
from lms.progress.iris import LmsIris
from lms.progress.observation import VOIDED

_NAMESPACE = uuid.UUID("2b8f8a4e-6f0e-4a55-9d0c-8a3e1c7d5b21")


def voiding_id(target: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, target))


def voiding_statement(target: str, base_url: str, at: datetime) -> dict[str, object]:
    """The LMS's voiding of `target`: its actor is the identity progress sends as."""
    return {
        "id": voiding_id(target),
        "actor": msgspec.to_builtins(authority(base_url)),
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target},
        "timestamp": xapi_time(at),
    }


async def void_violation(conn: asyncpg.Connection, target: str, iris: LmsIris) -> bool:
    """Decide to void `target` (once); mark it voided in the projection. True if decided
    now, False if decided before (a replay)."""
    body = voiding_statement(target, iris.base_url, datetime.now(UTC))
    decided = await conn.fetchval(
        "INSERT INTO lms_progress_voidings (target, statement_id, body) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING true",
        target,
        body["id"],
        msgspec.json.encode(body).decode(),
    )
    await conn.execute(
        "INSERT INTO lms_progress_voided (statement_id) VALUES ($1) ON CONFLICT DO NOTHING",
        target,
    )
    return bool(decided)
