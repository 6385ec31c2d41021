"""Overload: past HYPEREDU_QUEUE_MAX_STATEMENTS the server sheds requests with 503 and
Retry-After instead of queueing without bound; it stores exactly the statements it
acknowledged, none it refused, and its memory stays bounded."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest

from tests.conftest import Server, basic, create_credential, free_port

QUEUE_MAX = 5
REQUESTS = 400
BATCH = 3  # two queued requests exceed QUEUE_MAX
CONCURRENCY = 64
RSS_HEADROOM = 150 * 2**20  # over the idle server's; an unbounded queue would pass it


@pytest.fixture(scope="module")
def overloaded() -> Iterator[tuple[Server, str]]:
    data_dir = Path(tempfile.mkdtemp(prefix="hyperedu-overload-"))
    credential = create_credential(data_dir)
    server = Server(
        data_dir,
        free_port(),
        env={
            "HYPEREDU_QUEUE_MAX_STATEMENTS": str(QUEUE_MAX),
            "HYPEREDU_WRITERS": "1",
            "HYPEREDU_WORKERS": "1",
        },
    )
    server.start()
    yield server, basic(*credential)
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


def _statement(n: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": f"mailto:learner{n}@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": f"http://example.com/activities/{n}"},
    }


def _rss(pid: int) -> int:
    root = psutil.Process(pid)
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


async def _stored_ids(data_dir: Path, ids: list[str]) -> set[str]:
    from ingest.embedded_postgres import start_embedded_postgres

    pg, dsn = start_embedded_postgres(data_dir)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(
                "SELECT id::text FROM statements WHERE id = ANY($1::uuid[])", ids
            )
        finally:
            await conn.close()
    finally:
        pg.cleanup()
    return {r["id"] for r in rows}


async def test_past_the_queue_limit_requests_get_503_with_retry_after_and_none_is_lost(
    overloaded: tuple[Server, str],
) -> None:
    server, auth = overloaded
    assert server.process is not None
    pid = server.process.pid
    batches = [[_statement(i * BATCH + j) for j in range(BATCH)] for i in range(REQUESTS)]
    idle_rss = _rss(pid)
    peak_rss = idle_rss
    storm_over = asyncio.Event()

    async def sample_rss() -> None:
        nonlocal peak_rss
        while not storm_over.is_set():
            peak_rss = max(peak_rss, _rss(pid))
            await asyncio.sleep(0.05)

    async with httpx.AsyncClient(
        base_url=server.url,
        headers={"Authorization": auth, "X-Experience-API-Version": "1.0.3"},
        timeout=60,
        limits=httpx.Limits(max_connections=CONCURRENCY),
    ) as client:
        sampler = asyncio.create_task(sample_rss())
        responses = await asyncio.gather(
            *(client.post("/xapi/statements", json=batch) for batch in batches)
        )
        storm_over.set()
        await sampler
        after = await client.post("/xapi/statements", json=[_statement(-1)])

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[200] > 0 and statuses[503] > 0, statuses
    for response in responses:
        if response.status_code == 503:
            assert int(response.headers["Retry-After"]) >= 1
    accepted = {
        statement["id"]
        for batch, response in zip(batches, responses, strict=True)
        if response.status_code == 200
        for statement in batch
    }
    for batch, response in zip(batches, responses, strict=True):
        if response.status_code == 200:
            assert response.json() == [s["id"] for s in batch]
    every_id = [s["id"] for batch in batches for s in batch]
    assert await _stored_ids(server.data_dir, every_id) == accepted
    assert peak_rss < idle_rss + RSS_HEADROOM, (idle_rss, peak_rss)
    assert after.status_code == 200, "the server recovers once the storm has passed"
