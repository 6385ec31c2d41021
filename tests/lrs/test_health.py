"""/readyz answers 200 only when the database answers within a second."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.datastructures import State

from lrs.health import healthz, readyz


class Pool:
    def __init__(self, delay_s: float = 0.0, error: Exception | None = None) -> None:
        self.delay_s, self.error = delay_s, error

    async def fetchval(self, query: str) -> Any:
        await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return 1


async def probe(path: str, pool: Pool | None) -> httpx.Response:
    state = State({"lrs": SimpleNamespace(pool=pool)} if pool is not None else {})
    app = Litestar([healthz, readyz], state=state)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://lrs") as client:
        return await client.get(path)


async def test_healthz_needs_nothing_but_the_process() -> None:
    assert (await probe("/healthz", None)).status_code == 200


@pytest.mark.parametrize(
    ("pool", "status"),
    [
        (Pool(), 200),
        (None, 503),  # the worker has not finished starting
        (Pool(delay_s=5), 503),  # the database does not answer within 1 s
        (Pool(error=ConnectionRefusedError()), 503),
    ],
)
async def test_readyz_is_ready_only_when_the_database_answers(
    pool: Pool | None, status: int
) -> None:
    started = asyncio.get_running_loop().time()
    response = await probe("/readyz", pool)
    assert response.status_code == status
    assert asyncio.get_running_loop().time() - started < 3
