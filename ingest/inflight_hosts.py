"""The oldest uncommitted statement of every other host that shares the database.

The in-flight board (`ingest/inflight_board.py`) caps `X-Experience-API-Consistent-Through`
at the oldest statement any worker of this host has still to commit. A statement still on
its way through another host (API pods behind one Service, one PostgreSQL) is as much a
reason to hold the header back, so each worker also reports through the database. Every
`INTERVAL_S` it upserts `least(its oldest uncommitted stored, now)` into the UNLOGGED table
`inflight_workers` and reads back the least such value among the other hosts' workers that
reported within `STALE_S`; the header is at most that.

A reported value stays a safe bound however old it gets: whatever the worker accepts after
reporting it is stored later, by the same worker's clock. So the hosts' clocks need not
agree; only the freshness check uses the database's. A worker that stops takes its row
away; one that has not reported for `STALE_S` is taken for gone (its statements commit from
the same event loop as its reports, so it would have to stall for that long first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from ingest.postgres import UNAVAILABLE

log = logging.getLogger(__name__)

APPLICATION_NAME = "hyperedu lrs in-flight report"
_DATABASE_ERRORS = (*UNAVAILABLE, asyncpg.PostgresError, asyncpg.InterfaceError)

INTERVAL_S = 0.2
STALE_S = 10.0
_TIMEOUT_S = 5.0  # a connect or a query: a worker's stop must not wait on a database gone

_REPORT = """
WITH mine AS (
    INSERT INTO inflight_workers (worker, host, oldest, reported) VALUES ($1, $2, $3, now())
    ON CONFLICT (worker) DO UPDATE SET oldest = excluded.oldest, reported = excluded.reported
)
SELECT min(oldest) FROM inflight_workers
WHERE host <> $2 AND reported > now() - make_interval(secs => $4)
"""


def host_id(data_path: Path) -> str:
    """The workers of one in-flight board: this machine's name and the server's data dir."""
    return f"{socket.gethostname()}:{data_path.resolve()}"


class InflightHosts:
    """This worker's report, and the oldest of the other hosts' reports.

    It reports on a connection of its own: through the pool, each report would also pay the
    pool's reset on release, twice the cost (0.7 against 0.3 ms a report, measured)."""

    def __init__(
        self, dsn: str, host: str, *, pid: int | None = None, statement_cache_size: int = 100
    ) -> None:
        self._dsn = dsn
        self._statement_cache_size = statement_cache_size
        self._host = host
        self._worker = f"{host}:{os.getpid() if pid is None else pid}"
        self._conn: asyncpg.Connection | None = None
        self._mine: datetime | None = None
        self._others: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    def publish(self, oldest: datetime | None) -> None:
        """The `stored` of this worker's oldest uncommitted statement, or None (as the board's
        `publish`): reported with the next round."""
        self._mine = oldest

    def oldest(self) -> datetime | None:
        """The least value the other hosts' live workers reported, or None if there are none."""
        return self._others

    async def start(self) -> None:
        """Report once (so the first answer already knows the other hosts), then keep on."""
        await self.report()
        self._task = asyncio.create_task(self._report_forever(), name="inflight hosts")

    async def stop(self) -> None:
        """Stop reporting and take this worker's row away."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(*_DATABASE_ERRORS, TimeoutError):
            conn = await self._connection()
            await conn.execute(
                "DELETE FROM inflight_workers WHERE worker = $1", self._worker, timeout=_TIMEOUT_S
            )
        await self._close()

    async def report(self) -> None:
        conn = await self._connection()
        now = datetime.now(UTC)
        # to the millisecond, as `stored` is (ingest/accept.py): a statement accepted in this
        # millisecond after the report is stored at its start
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        mine = now if self._mine is None or self._mine > now else self._mine
        try:
            self._others = await conn.fetchval(
                _REPORT, self._worker, self._host, mine, STALE_S, timeout=_TIMEOUT_S
            )
        except BaseException:
            await self._close()  # the next round connects again
            raise

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                self._dsn,
                statement_cache_size=self._statement_cache_size,
                timeout=_TIMEOUT_S,
                server_settings={"application_name": APPLICATION_NAME},
            )
        return self._conn

    async def _close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def _report_forever(self) -> None:
        rounds, failing = 0, False
        while True:
            await asyncio.sleep(INTERVAL_S)
            try:
                await self.report()
                rounds += 1
                if rounds % 300 == 0:  # about a minute: workers that died without a stop
                    await (await self._connection()).execute(
                        "DELETE FROM inflight_workers WHERE reported < now() - interval '1 hour'"
                    )
            except Exception as exc:
                # The last value read stays a safe bound (see the module's docstring), but
                # one that ages: keep trying, or this worker's header would stay behind.
                if not failing:
                    log.warning(
                        "cannot report statements in flight to other hosts: %r",
                        exc,
                        exc_info=not isinstance(exc, _DATABASE_ERRORS),
                    )
                failing = True
            else:
                if failing:
                    log.info("reporting statements in flight to other hosts again")
                failing = False
