"""Run the catalogue consumer inside a server worker.

`start(app.state)` and `stop(app.state)` belong in the app's lifespan; until they are there,
the courses API starts the consumer on its first request (`ensure_started`), which is
idempotent. Every worker may run one: the bus lets one reader of the group work at a time.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from core.bus import Consumer, ConsumerTask
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
