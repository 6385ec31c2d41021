"""The in-flight board: with several workers, Consistent-Through counts every worker's
uncommitted statements, not only those of the worker that answers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import msgspec

from core.xapi.models import Statement
from ingest.batcher import GroupCommitter
from ingest.inflight_board import InflightBoard, claimed, reset
from ingest.inflight_hosts import STALE_S, InflightHosts
from ingest.rows import StatementRow, to_row

# Two live processes, standing for two workers of one server.
THIS, OTHER = os.getpid(), os.getppid()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_each_worker_sees_the_oldest_statement_any_worker_has_in_flight(tmp_path: Path):
    path = tmp_path / "board"
    reset(path)
    one, two = InflightBoard(path, pid=THIS), InflightBoard(path, pid=OTHER)
    assert one.oldest() is None
    earlier = datetime(2026, 12, 3, 12, 0, 0, 123_000, tzinfo=UTC)
    two.publish(earlier)
    one.publish(earlier + timedelta(seconds=1))
    assert one.oldest() == earlier == two.oldest()
    two.publish(None)
    assert one.oldest() == earlier + timedelta(seconds=1)
    one.close()
    assert two.oldest() is None, "a slot given back says nothing"
    two.close()


def test_a_dead_workers_slot_is_cleared_when_a_new_worker_claims_one(tmp_path: Path):
    path = tmp_path / "board"
    reset(path)
    dead = InflightBoard(path, pid=_dead_pid())
    dead.publish(datetime(2026, 1, 1, tzinfo=UTC))
    living = InflightBoard(path, pid=THIS)
    assert living.oldest() is None
    living.close()


def test_reset_empties_the_board(tmp_path: Path):
    path = tmp_path / "board"
    reset(path)
    InflightBoard(path, pid=OTHER).publish(datetime(2026, 1, 1, tzinfo=UTC))
    reset(path)
    assert InflightBoard(path, pid=THIS).oldest() is None


def test_claimed_counts_the_workers_started_since_the_reset(tmp_path: Path):
    path = tmp_path / "board"
    assert claimed(path) == 0  # no board yet
    reset(path)
    assert claimed(path) == 0
    InflightBoard(path, pid=THIS)
    InflightBoard(path, pid=OTHER)
    assert claimed(path) == 2
    reset(path)
    assert claimed(path) == 0


async def _nothing() -> None:
    pass


def _row(stored: datetime) -> StatementRow:
    statement = msgspec.convert(
        {
            "id": str(uuid.uuid4()),
            "actor": {"objectType": "Agent", "mbox": "mailto:board@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"objectType": "Activity", "id": "http://example.com/board"},
            "authority": {"objectType": "Agent", "mbox": "mailto:authority@example.com"},
        },
        Statement,
    )
    return to_row(
        statement, stored=stored, authority_key="board-test", attachments=None, may_define=False
    )


async def test_consistent_through_waits_for_a_statement_another_worker_has_not_committed(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "board"
    reset(path)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    a = GroupCommitter(pool, equivalent=lambda x, y: x == y, board=InflightBoard(path, pid=OTHER))
    b = GroupCommitter(pool, equivalent=lambda x, y: x == y, board=InflightBoard(path, pid=THIS))
    b.start()
    try:
        await _held_back_until_committed(a, b)
    finally:
        await a.stop()
        await b.stop()
        await pool.close()


async def _held_back_until_committed(
    a: GroupCommitter, b: GroupCommitter, shared: Callable[[], Awaitable[None]] = _nothing
) -> None:
    """A's writers do not run yet, so what it accepts stays uncommitted: B's header waits for
    it until A commits. `shared`: make what A and B know of each other current."""
    stored = datetime.now(UTC) - timedelta(seconds=5)
    waiting = asyncio.create_task(a.submit([_row(stored)], []))
    await asyncio.sleep(0)
    await shared()
    assert b.consistent_through() == stored
    a.start()
    await waiting
    await shared()
    assert b.consistent_through() > stored + timedelta(seconds=4)


async def test_consistent_through_is_the_oldest_statement_in_flight_as_requests_come_and_go(
    database_url: str,
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    committer = GroupCommitter(pool, equivalent=lambda x, y: x == y)  # no writer: all wait
    t = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    second = timedelta(seconds=1)

    async def submitted(stored: datetime) -> asyncio.Task[None]:
        task = asyncio.create_task(committer.submit([_row(stored)], []))
        await asyncio.sleep(0)
        return task

    async def gone(task: asyncio.Task[None]) -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    try:
        # In `stored` order, two of them alike (one request's statements share it).
        first, alike, later = [await submitted(s) for s in (t, t, t + second)]
        assert committer.consistent_through() == t
        await gone(first)
        assert committer.consistent_through() == t
        await gone(alike)
        assert committer.consistent_through() == t + second
        # Out of order, as an import that keeps its statements' own `stored`.
        imported = await submitted(t - second)
        newer = await submitted(t + 2 * second)
        assert committer.consistent_through() == t - second
        await gone(imported)
        assert committer.consistent_through() == t + second
        await gone(later)
        assert committer.consistent_through() == t + 2 * second
        await gone(newer)
        assert committer.consistent_through() > datetime.now(UTC) - second
    finally:
        await committer.stop()
        await pool.close()


# Across hosts (ingest/inflight_hosts.py): the same promise through the database. The
# session server's own workers report into the same table, as a third host whose values are
# always recent; the assertions hold with them there.


async def test_consistent_through_waits_for_a_statement_another_host_has_not_committed(
    database_url: str,
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    a_hosts = InflightHosts(database_url, "test-host-a")
    b_hosts = InflightHosts(database_url, "test-host-b")
    a = GroupCommitter(pool, equivalent=lambda x, y: x == y, hosts=a_hosts)
    b = GroupCommitter(pool, equivalent=lambda x, y: x == y, hosts=b_hosts)
    await a_hosts.start()
    await b_hosts.start()

    async def report() -> None:  # rather than wait for the next rounds
        await a_hosts.report()
        await b_hosts.report()

    b.start()
    try:
        await _held_back_until_committed(a, b, report)
    finally:
        await a.stop()
        await b.stop()
        await a_hosts.stop()
        await b_hosts.stop()
        await pool.close()


async def test_a_host_is_held_back_neither_by_its_own_workers_nor_by_gone_ones(
    database_url: str,
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    long_ago = datetime.now(UTC) - timedelta(days=1)
    this = InflightHosts(database_url, "test-host-c", pid=THIS)
    # the same host's other worker: the board covers it
    sibling = InflightHosts(database_url, "test-host-c", pid=OTHER)
    stopped = InflightHosts(database_url, "test-host-d")
    try:
        for hosts in (sibling, stopped):
            hosts.publish(long_ago)
            await hosts.report()
        await this.report()
        assert this.oldest() == long_ago  # host D's worker
        await stopped.stop()  # it takes its row away
        # a worker that stopped reporting long enough ago counts as gone
        await pool.execute(
            "INSERT INTO inflight_workers VALUES ('test-host-e:1', 'test-host-e', $1,"
            " now() - make_interval(secs => $2))",
            long_ago,
            STALE_S + 1,
        )
        await this.report()
        others = this.oldest()
        assert others is None or others > datetime.now(UTC) - timedelta(seconds=STALE_S)
    finally:
        for hosts in (this, sibling, stopped):
            await hosts.stop()
        await pool.execute("DELETE FROM inflight_workers WHERE host LIKE 'test-host-%'")
        await pool.close()
