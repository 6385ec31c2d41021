"""PostgreSQL `LISTEN` on a connection of its own, until that connection is lost.

Run it under `core.bus.restart_forever`, which reconnects with back-off: a notification sent
while nobody listened is gone, so `connected` is told each time listening (re)starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg


async def listen_until_lost(
    dsn: str,
    channel: str,
    notified: Callable[[str], None],
    *,
    connected: Callable[[], None] = lambda: None,
) -> None:
    """Call `notified(payload)` for each `NOTIFY` on `channel`; return once the connection is
    lost. `dsn` must reach PostgreSQL itself: a transaction-pooling PgBouncer drops listens."""
    conn = await asyncpg.connect(dsn)
    try:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(channel, lambda _conn, _pid, _channel, payload: notified(payload))
        connected()
        await lost.wait()
    finally:
        if not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.close()
