"""The State documents the LMS writes for a launch, stored by the LRS's own document storage
(`lrs.documents`), exactly as a State API PUT would store them.

No advisory lock is taken: this is a blind replace (an upsert, atomic on its own), and the
document is the LMS's, which the AU must not change (cmi5 10.0).
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec

from lrs.documents import JSON, Collection, Kind, store
from lrs.parameters import agent_key_param


async def put_state_document(
    conn: asyncpg.Connection,
    *,
    activity_id: str,
    agent: dict[str, Any],
    registration: uuid.UUID,
    state_id: str,
    document: dict[str, Any],
) -> None:
    agent_key = agent_key_param(msgspec.json.encode(agent).decode())
    assert agent_key is not None
    collection = Collection(Kind.STATE, activity_id, agent_key, str(registration))
    await store(conn, collection.key(state_id), msgspec.json.encode(document), JSON)
