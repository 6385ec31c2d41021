"""A value PostgreSQL refuses (SQLSTATE class 22, e.g. NUL in text; class 54, an index entry too
large) in one request's rows fails that request with 400 and commits the others of its group
commit: it used to fail the whole batch as 503 "the statement store is unavailable"."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
import msgspec
import pytest

from core.errors import BadRequest
from core.xapi.models import Statement
from ingest.batcher import GroupCommitter
from ingest.postgres import stored_bodies
from ingest.rows import StatementRow, to_row


def _row(authority_key: str) -> StatementRow:
    return to_row(
        msgspec.convert(
            {
                "id": str(uuid.uuid4()),
                "actor": {"objectType": "Agent", "mbox": "mailto:refused@example.com"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"objectType": "Activity", "id": "http://example.com/refused"},
            },
            Statement,
        ),
        stored=datetime.now(UTC),
        authority_key=authority_key,
        attachments=None,
        may_define=False,
    )


def _too_long_to_index() -> StatementRow:
    row = _row("refused-test")
    row.agents["mbox mailto:" + secrets.token_hex(2000) + "@example.com"] = True
    return row


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (lambda: _row("refused\x00test"), "0x00"),  # class 22: NUL in text
        (_too_long_to_index, "index row size"),  # class 54: an index entry too large
    ],
    ids=["nul", "key-too-long"],
)
async def test_a_refused_value_fails_only_its_own_request(
    database_url: str, bad: Callable[[], StatementRow], reason: str
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    committer = GroupCommitter(pool, equivalent=lambda a, b: a == b, writers=1)
    try:
        good = [[_row("refused-test"), _row("refused-test")] for _ in range(3)]
        refused = [_row("refused-test"), bad()]
        # queued before the writer starts, so all four requests go in one batch
        tasks = [asyncio.create_task(committer.submit(rows, [])) for rows in [*good, refused]]
        await asyncio.sleep(0)
        assert committer.queued_statements == 8
        committer.start()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert results[:3] == [None, None, None]
        assert isinstance(results[3], BadRequest)
        assert reason in str(results[3])
        async with pool.acquire() as conn:
            stored = await stored_bodies(conn, [r.id for rows in [*good, refused] for r in rows])
        assert set(stored) == {r.id for rows in good for r in rows}  # none of the refused one's
    finally:
        await committer.stop()
        await pool.close()


async def test_the_store_still_answers_after_it(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    committer = GroupCommitter(pool, equivalent=lambda a, b: a == b, writers=1)
    committer.start()
    try:
        with pytest.raises(BadRequest):
            await committer.submit([_row("refused\x00again")], [])
        await committer.submit([_row("refused-test")], [])
    finally:
        await committer.stop()
        await pool.close()


async def test_a_batch_that_fails_unexpectedly_fails_its_requests_and_the_writer_goes_on(
    database_url: str,
) -> None:
    """A commit that raises what the writer does not expect (a bug, or asyncpg's
    InternalClientError on a broken connection) used to end the writer task: its requests
    then waited forever, and so did every later one once no writer was left."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    committer = GroupCommitter(pool, equivalent=lambda a, b: a == b, writers=1)
    committer.start()
    try:
        broken = msgspec.structs.replace(_row("refused-test"), agents=None)  # .items() fails
        with pytest.raises(AttributeError):
            await asyncio.wait_for(committer.submit([broken], []), timeout=10)
        await asyncio.wait_for(committer.submit([_row("refused-test")], []), timeout=10)
    finally:
        await committer.stop()
        await pool.close()
