"""Run notifications inside a server worker: `start(app.state)` in the app's lifespan once
the LRS state is there, `stop(app.state)` when it ends.

Every server worker runs a WebSocket hub (its own sockets), in every role that serves HTTP.
The event consumers and the dispatcher run in each worker of role `all` (one at a time per
database does the work: consumer groups and the dispatcher lock, the others waiting to take
over) or in `hyperedu consumer notifications` (`run`), which has no hub: it serves no sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import asyncpg

from core.bus import consume_forever, restart_forever, run_until
from core.config import Settings
from ingest.bus_postgres import PostgresBus
from lms.notifications.config import NotificationSettings, load_notification_settings
from lms.notifications.dispatch import Dispatcher
from lms.notifications.inbox import CONSUMER_GROUP, TOPICS, consume_events
from lms.notifications.websocket import HUB_KEY, Hub
from lrs.state import LrsState

_KEY = "lms.notifications"


class NotificationsWorker:
    """The hub (with `hub`), and the event consumers and the dispatcher (with `consumers`)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        dsn: str,
        settings: NotificationSettings,
        *,
        hub: bool = True,
        consumers: bool = True,
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        self.hub = Hub(pool) if hub else None
        self._dispatcher = Dispatcher(pool, settings) if consumers else None
        # domain events live in the PostgreSQL outbox
        self._bus = PostgresBus(dsn) if consumers else None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        runs: dict[str, Coroutine[Any, Any, None]] = {}
        if (hub := self.hub) is not None:
            runs["hub"] = restart_forever("notifications hub", lambda: hub.listen(self._dsn))
        if (dispatcher := self._dispatcher) is not None and (bus := self._bus) is not None:
            runs["dispatcher"] = restart_forever(
                "notifications dispatcher", lambda: dispatcher.run(self._dsn)
            )
            for topic in TOPICS:
                runs[f"events {topic}"] = consume_forever(
                    bus,
                    CONSUMER_GROUP,
                    topic,
                    lambda consumer: consume_events(consumer, self._pool),
                    name=f"notifications {topic}",
                )
        self._tasks = [
            asyncio.create_task(run, name=f"lms-notifications {name}") for name, run in runs.items()
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._bus is not None:
            await self._bus.close()
        if self._dispatcher is not None:
            await self._dispatcher.close()


async def start(app_state: Any, *, consumers: bool = True) -> None:
    """The hub for this worker's sockets, and with `consumers` the consumers and dispatcher."""
    lrs: LrsState = app_state["lrs"]
    worker = NotificationsWorker(
        lrs.pool,
        lrs.settings.session_database_url,
        load_notification_settings(),
        consumers=consumers,
    )
    worker.start()
    app_state[_KEY] = worker
    app_state[HUB_KEY] = worker.hub


async def stop(app_state: Any) -> None:
    worker: NotificationsWorker | None = app_state.get(_KEY)
    if worker is not None:
        await worker.stop()


async def run(settings: Settings, stop: asyncio.Event) -> None:
    """Notifications as a process of its own (`hyperedu consumer notifications`), until
    `stop`. WebSockets are served by the server workers' hubs, not here."""
    dsn = settings.session_database_url
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    worker = NotificationsWorker(pool, dsn, load_notification_settings(), hub=False)
    await run_until(stop, worker, then=pool.close)
