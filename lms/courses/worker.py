"""Run the catalogue consumer inside a server worker of role `all` (`start(app.state)` and
`stop(app.state)` in the app's lifespan), or as a process of its own (`run`, for
`hyperedu consumer catalogue`). Every worker may run one: the bus lets one reader of the group
work at a time, the others waiting to take over.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from core.bus import Consumer, ConsumerTask, run_until
from core.config import Settings
from core.events import COURSES_TOPIC
from ingest.bus_postgres import PostgresBus
from lms.courses.catalogue import CONSUMER_GROUP, consume
from lms.courses.iris import CourseIris
from lrs.state import LrsState

_KEY = "lms.catalogue"


class CatalogueWorker(ConsumerTask):
    def __init__(self, pool: asyncpg.Pool, dsn: str, iris: CourseIris) -> None:
        async def handle(consumer: Consumer) -> None:
            await consume(consumer, pool, iris)

        # domain events live in the PostgreSQL outbox
        super().__init__(PostgresBus(dsn), CONSUMER_GROUP, COURSES_TOPIC, handle, name="catalogue")


async def start(app_state: Any) -> None:
    lrs: LrsState = app_state["lrs"]
    settings = lrs.settings
    worker = CatalogueWorker(lrs.pool, settings.session_database_url, CourseIris(settings.base_url))
    worker.start()
    app_state[_KEY] = worker


async def stop(app_state: Any) -> None:
    worker: CatalogueWorker | None = app_state.get(_KEY)
    if worker is not None:
        await worker.stop()
        app_state[_KEY] = None


async def run(settings: Settings, stop: asyncio.Event) -> None:
    """The catalogue consumer as a process of its own, until `stop`."""
    dsn = settings.session_database_url
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    worker = CatalogueWorker(pool, dsn, CourseIris(settings.base_url))
    await run_until(stop, worker, then=pool.close)
