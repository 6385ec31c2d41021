"""Run the catalogue consumer inside a server worker.

`start(app.state)` and `stop(app.state)` belong in the app's lifespan; until they are there,
the courses API starts the consumer on its first request (`ensure_started`), which is
idempotent. Every worker may run one: the bus lets one reader of the group work at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from core.bus import Consumer, consume_forever
from core.events import COURSES_TOPIC
from ingest.bus_postgres import PostgresBus
from lms.courses.catalogue import CONSUMER_GROUP, consume
from lms.courses.iris import CourseIris
from lrs.state import LrsState

_KEY = "lms.catalogue"


class CatalogueWorker:
    def __init__(self, pool: asyncpg.Pool, dsn: str, iris: CourseIris) -> None:
        self._pool = pool
        self._bus = PostgresBus(dsn)  # domain events live in the PostgreSQL outbox
        self._iris = iris
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="lms-catalogue")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._bus.close()

    async def _run(self) -> None:
        async def handle(consumer: Consumer) -> None:
            await consume(consumer, self._pool, self._iris)

        await consume_forever(self._bus, CONSUMER_GROUP, COURSES_TOPIC, handle, name="catalogue")


async def start(app_state: Any) -> None:
    ensure_started(app_state)


def ensure_started(app_state: Any) -> None:
    if app_state.get(_KEY) is not None:
        return
    lrs: LrsState = app_state["lrs"]
    worker = CatalogueWorker(lrs.pool, lrs.settings.database_url, CourseIris(lrs.settings.base_url))
    worker.start()
    app_state[_KEY] = worker


async def stop(app_state: Any) -> None:
    worker: CatalogueWorker | None = app_state.get(_KEY)
    if worker is not None:
        await worker.stop()
        app_state[_KEY] = None
