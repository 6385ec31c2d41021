"""Kafka relay lag during an ingest benchmark: how far the outbox relay's committed position
(consumer group `relay.kafka` of the PostgreSQL statement log) trails the newest statement,
sampled twice a second from a thread while the load runs, then how long the relay takes to
catch up once the load stops."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import asyncpg

from core.bus import STATEMENTS_TOPIC
from ingest.relay import RELAY_GROUP

SAMPLE_EVERY_S = 0.5
CATCH_UP_LIMIT_S = 120.0

_LAG = (
    "SELECT (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM statement_seq)"
    ' - coalesce((SELECT position FROM bus_offsets WHERE "group" = $1 AND topic = $2), 0)'
)


class RelayLag:
    """`with RelayLag(dsn) as lag:` around the load; then `lag.result()`."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._stop = threading.Event()
        self._samples: list[int] = []
        self._catch_up_s: float | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> RelayLag:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def result(self) -> dict[str, Any]:
        return {
            "relay_lag_max": max(self._samples, default=0),
            "relay_lag_p95": sorted(self._samples)[int(len(self._samples) * 0.95)]
            if self._samples
            else 0,
            "relay_catch_up_s": self._catch_up_s,
        }

    async def _run(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        try:
            while not self._stop.is_set():
                self._samples.append(await conn.fetchval(_LAG, RELAY_GROUP, STATEMENTS_TOPIC))
                await asyncio.sleep(SAMPLE_EVERY_S)
            started = time.monotonic()
            while time.monotonic() - started < CATCH_UP_LIMIT_S:
                if await conn.fetchval(_LAG, RELAY_GROUP, STATEMENTS_TOPIC) <= 0:
                    self._catch_up_s = round(time.monotonic() - started, 2)
                    return
                await asyncio.sleep(0.1)
        finally:
            await conn.close()
