"""Run the progress consumer inside a server worker: `start(app.state)` in the app's
lifespan once the LRS state is there, `stop(app.state)` before the committer stops.

Every worker may run one: the bus lets one reader per consumer group at a time, the others
wait as standbys and take over when it goes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from core.bus import Bus
from core.config import Settings
from core.xapi.compare import statements_equivalent
from ingest.batcher import GroupCommitter
from ingest.inflight_hosts import InflightHosts, host_id
from lms.progress.consumer import ProgressWorker, reset_projection
from lms.progress.iris import LmsIris
from lrs.state import LrsState

_KEY = "lms.progress"


def statement_bus(settings: Settings) -> Bus:
    """Where the statement stream is read: Kafka when configured, else the PostgreSQL log."""
    if settings.kafka_bootstrap:
        from ingest.bus_kafka import KafkaBus

        return KafkaBus(settings.kafka_bootstrap)
    from ingest.bus_postgres import PostgresBus

    return PostgresBus(settings.session_database_url)


async def start(app_state: Any) -> None:
    lrs: LrsState = app_state["lrs"]
    worker = ProgressWorker(
        statement_bus(lrs.settings), lrs.pool, lrs.committer, LmsIris(lrs.settings.base_url)
    )
    worker.start()
    app_state[_KEY] = worker


async def stop(app_state: Any) -> None:
    worker: ProgressWorker | None = app_state.get(_KEY)
    if worker is not None:
        await worker.stop()


async def run(settings: Settings, stop: asyncio.Event, *, rebuild: bool = False) -> None:
    """The consumer as a process of its own (`hyperedu consumer progress`), until `stop`.

    `rebuild`: forget the derived state and replay the log from offset zero first (stop the
    servers' consumers first: their readers keep their position in memory)."""
    pool = await asyncpg.create_pool(settings.session_database_url, min_size=1, max_size=4)
    # The statements it records are in flight like an API worker's: reported for the API
    # workers' Consistent-Through, as a host of its own (it is on no in-flight board).
    hosts = InflightHosts(
        settings.session_database_url, f"{host_id(settings.data_path)} progress consumer"
    )
    await hosts.start()
    committer = GroupCommitter(pool, equivalent=statements_equivalent, writers=1, hosts=hosts)
    committer.start()
    try:
        if rebuild:
            await reset_projection(pool)
        worker = ProgressWorker(
            statement_bus(settings), pool, committer, LmsIris(settings.base_url)
        )
        worker.start()
        try:
            await stop.wait()
        finally:
            await worker.stop()
    finally:
        await committer.stop()
        await hosts.stop()
        await pool.close()
