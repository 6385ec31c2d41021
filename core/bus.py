"""The event bus interface. Consumers are written once against it; two backends implement it:
Apache Kafka (scaled mode, `ingest/bus_kafka.py`) and a PostgreSQL log (embedded default,
`ingest/bus_postgres.py`).

Delivery is at least once: a consumer commits its position only after it has processed a
batch, so after a crash it sees the uncommitted records again. Handlers must therefore be
idempotent (by statement id for the statement stream, by event id for domain events).

A consumer that reads only some records may say which when it opens: `wanted`, strings at
least one of which a record's value contains whenever the consumer needs that record (the
progress consumer reads only statements naming an LMS course, or voiding ones). A backend may
then deliver the other records with an empty value: their positions still come, so commits
move past them, but their values are neither read nor sent. Handlers treat an empty value as
"not wanted". The PostgreSQL log does this in its query; Kafka delivers every value.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import msgspec

STATEMENTS_TOPIC = "xapi.statements"

log = logging.getLogger(__name__)


class Record(msgspec.Struct, frozen=True):
    """One message: `key` orders (one learner's statements keep their order), `value` is JSON."""

    topic: str
    key: bytes
    value: bytes
    position: int  # Kafka offset, or the statement seq in the PostgreSQL log
    partition: int = 0


class Consumer(Protocol):
    async def poll(self, max_records: int = 1000, timeout_s: float = 1.0) -> Sequence[Record]:
        """The next records (waits up to timeout_s): after those this consumer already
        returned, and at first after the group's committed position. Records polled but not
        committed come again only to the group's next consumer, as with Kafka."""
        ...

    async def commit(self, records: Sequence[Record]) -> None:
        """Record that `records` (and everything before them) are processed."""
        ...

    async def close(self) -> None: ...


class Publisher(Protocol):
    async def publish(self, topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
        """Publish (key, value) pairs durably; returns once the bus has acknowledged them."""
        ...

    async def close(self) -> None: ...


class Bus(Protocol):
    async def consumer(self, group: str, topic: str, *, wanted: Sequence[str] = ()) -> Consumer:
        """A consumer of `topic` in `group`; `wanted`: see the module's docstring."""
        ...

    async def publisher(self) -> Publisher: ...

    async def close(self) -> None: ...


async def consume_forever(
    bus: Bus,
    group: str,
    topic: str,
    handle: Callable[[Consumer], Awaitable[object]],
    *,
    name: str,
    wanted: Sequence[str] = (),
) -> None:
    """Run `handle` on a consumer of `group`, reopening it with back-off when anything fails:
    the supervision every long-running consumer needs, written once. Cancel to stop. What
    `handle` returns (a count, say) is not used."""

    async def consume() -> None:
        consumer = await bus.consumer(group, topic, wanted=wanted)
        try:
            await handle(consumer)
        finally:
            await consumer.close()

    await restart_forever(f"{name} consumer", consume)


class ConsumerTask:
    """`consume_forever` as a background task beside a server: `start()`, then `stop()` when
    the server ends, which also closes the bus."""

    def __init__(
        self,
        bus: Bus,
        group: str,
        topic: str,
        handle: Callable[[Consumer], Awaitable[object]],
        *,
        name: str,
        wanted: Sequence[str] = (),
    ) -> None:
        self._bus = bus
        self._run = (group, topic, handle, name, wanted)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        group, topic, handle, name, wanted = self._run
        self._task = asyncio.create_task(
            consume_forever(self._bus, group, topic, handle, name=name, wanted=wanted),
            name=f"consumer {name}",
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._bus.close()


class Worker(Protocol):
    """Background tasks beside a server or in a process of their own: `start()`, `stop()`."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


async def run_until(
    stop: asyncio.Event, worker: Worker, *, then: Callable[[], Awaitable[None]]
) -> None:
    """A worker as a process of its own: start it, wait for `stop`, stop it, then `then()`
    (close what it used)."""
    worker.start()
    try:
        await stop.wait()
    finally:
        await worker.stop()
        await then()


# restart_forever's pauses: doubling from the first to the longest while `run` keeps ending
# soon after it started, back to the first after a run that lasted `HEALTHY_S`.
FIRST_PAUSE_S = 0.5
LONGEST_PAUSE_S = 30.0
HEALTHY_S = 60.0


async def restart_forever(name: str, run: Callable[[], Awaitable[None]]) -> None:
    """Run `run` again, after a pause, whenever it fails or returns. Cancel to stop.

    The pause doubles while runs keep ending soon after they start (a database that is down)
    and is short again once a run has lasted a while, so one bad hour does not leave a
    component that later loses a connection reconnecting 30 s late."""
    pause = 0.0
    while True:
        started = time.monotonic()
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception:
            pause = _next_pause(pause, time.monotonic() - started)
            log.exception("%s failed; restarting in %.1f s", name, pause)
        else:
            pause = _next_pause(pause, time.monotonic() - started)
            log.info("%s ended; restarting in %.1f s", name, pause)
        await asyncio.sleep(pause)


def _next_pause(previous: float, ran_s: float) -> float:
    if previous == 0.0 or ran_s >= HEALTHY_S:
        return FIRST_PAUSE_S
    return min(previous * 2, LONGEST_PAUSE_S)
