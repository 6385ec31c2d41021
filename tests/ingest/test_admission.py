"""Admission: once the queue has refused a request, writes are turned away before they are
decoded until it has drained to half, so an overloaded server spends its CPU on the
statements it accepted, not on decoding ones it will refuse."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import msgspec
import pytest

from core.errors import Overloaded
from core.xapi.models import Statement
from ingest.batcher import GroupCommitter
from ingest.rows import StatementRow, to_row

QUEUE_MAX = 10


def _rows(n: int) -> list[StatementRow]:
    stored = datetime.now(UTC)
    return [
        to_row(
            msgspec.convert(
                {
                    "id": str(uuid.uuid4()),
                    "actor": {"objectType": "Agent", "mbox": "mailto:admission@example.com"},
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                    "object": {"objectType": "Activity", "id": "http://example.com/admission"},
                    "authority": {"objectType": "Agent", "mbox": "mailto:authority@example.com"},
                },
                Statement,
            ),
            stored=stored,
            authority_key="admission-test",
            attachments=None,
            may_define=False,
        )
        for _ in range(n)
    ]


async def test_a_saturated_queue_refuses_writes_before_decoding_until_half_drained(
    database_url: str,
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    committer = GroupCommitter(pool, equivalent=lambda a, b: a == b, queue_max=QUEUE_MAX)
    try:
        # No writer runs yet: three requests of three statements wait in the queue.
        waiting = [asyncio.create_task(committer.submit(_rows(3), [])) for _ in range(3)]
        await asyncio.sleep(0)
        assert committer.queued_statements == 9
        committer.admit()  # not saturated: nothing has been refused yet

        with pytest.raises(Overloaded):
            await committer.submit(_rows(3), [])  # 9 + 3 > 10
        with pytest.raises(Overloaded) as refused:
            committer.admit()  # saturated, and 9 > half of 10
        assert refused.value.retry_after == 1

        committer.start()  # the writers commit what waited, to PostgreSQL
        await asyncio.gather(*waiting)
        assert committer.queued_statements == 0
        committer.admit()  # drained: admitted again
        await committer.submit(_rows(3), [])
    finally:
        await committer.stop()
        await pool.close()
