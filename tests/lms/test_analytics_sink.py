"""The sink: few large inserts, commit after the insert, and each statement once despite
at-least-once delivery (replays, restarts, duplicates within a batch).

The bus here is `ListLog`, a small in-test implementation of our own `core.bus.Consumer`
over a Python list, with the committed position kept across "restarts" as a real bus does.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import msgspec
import pytest

from core.bus import STATEMENTS_TOPIC, Record
from lms.analytics.engine import ChdbEngine
from lms.analytics.schema import apply_schema
from lms.analytics.sink import SinkStats, run_sink


class ListLog:
    """A topic as a list; `consumer()` starts where the group last committed."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.committed = 0  # records[:committed] are processed
        self.commits: list[int] = []

    def append(self, values: Sequence[bytes]) -> None:
        for value in values:
            position = len(self.records) + 1
            self.records.append(Record(STATEMENTS_TOPIC, b"k", value, position))

    def consumer(self) -> ListConsumer:
        return ListConsumer(self)


class ListConsumer:
    def __init__(self, log: ListLog) -> None:
        self.log = log
        self.delivered = log.committed

    async def poll(self, max_records: int = 1000, timeout_s: float = 1.0) -> Sequence[Record]:
        records = self.log.records[self.delivered : self.delivered + max_records]
        if not records:
            await asyncio.sleep(min(timeout_s, 0.01))
        self.delivered += len(records)
        return records

    async def commit(self, records: Sequence[Record]) -> None:
        self.log.committed = max(self.log.committed, records[-1].position)
        self.log.commits.append(records[-1].position)

    async def close(self) -> None:
        pass


def statement(n: int) -> bytes:
    return msgspec.json.encode(
        {
            "id": str(uuid.UUID(int=n)),
            "actor": {"objectType": "Agent", "mbox": f"mailto:learner{n % 7}@ex.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"objectType": "Activity", "id": f"http://ex.com/page/{n % 3}"},
            "timestamp": "2024-05-01T12:00:00Z",
            "stored": f"2024-05-01T12:00:{n % 60:02d}Z",
        }
    )


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[ChdbEngine]:
    engine = ChdbEngine(tmp_path / "clickhouse")
    apply_schema(engine)
    yield engine
    engine.close()


def rows(engine: ChdbEngine) -> tuple[int, int]:
    out = engine.query("SELECT count(), uniqExact(id) FROM statements", "CSV").decode()
    total, distinct = out.strip().split(",")
    return int(total), int(distinct)


async def test_backlog_goes_in_few_large_inserts(engine: ChdbEngine):
    log = ListLog()
    log.append([statement(n) for n in range(2500)])
    stats = await run_sink(log.consumer(), engine, max_rows=1000, follow=False)
    assert rows(engine) == (2500, 2500)
    assert stats.inserts == 3
    assert log.commits == [1000, 2000, 2500]


async def test_replayed_batch_is_not_counted_twice(engine: ChdbEngine):
    log = ListLog()
    log.append([statement(n) for n in range(300)])
    await run_sink(log.consumer(), engine, max_rows=1000, follow=False)
    log.committed = 100  # the commit of the last 200 was lost: they come again
    stats = await run_sink(log.consumer(), engine, max_rows=1000, follow=False)
    assert stats.received == 200
    assert stats.duplicates == 200
    assert stats.inserts == 0
    assert rows(engine) == (300, 300)


async def test_restart_after_insert_before_commit(engine: ChdbEngine):
    log = ListLog()
    log.append([statement(n) for n in range(150)])

    class CrashOnCommit(ListConsumer):
        async def commit(self, records: Sequence[Record]) -> None:
            raise ConnectionError("bus went away")

    with pytest.raises(ConnectionError):
        await run_sink(CrashOnCommit(log), engine, max_rows=100, follow=False)
    assert rows(engine) == (100, 100)  # inserted, not committed
    log.append([statement(n) for n in range(150, 200)])
    await run_sink(log.consumer(), engine, max_rows=100, follow=False)
    assert rows(engine) == (200, 200)
    assert log.committed == 200


async def test_the_same_statement_twice_in_one_batch(engine: ChdbEngine):
    log = ListLog()
    log.append([statement(1), statement(2), statement(1)])
    stats = await run_sink(log.consumer(), engine, follow=False)
    assert rows(engine) == (2, 2)
    assert stats.duplicates == 1


async def test_no_commit_when_the_insert_fails(engine: ChdbEngine):
    log = ListLog()
    log.append([statement(1)])

    class Failing:
        def __getattr__(self, name: str) -> object:
            return getattr(engine, name)

        def insert(self, table: str, json_rows: bytes) -> None:
            raise RuntimeError("ClickHouse is down")

    with pytest.raises(RuntimeError, match="down"):
        await run_sink(log.consumer(), Failing(), follow=False)  # type: ignore[arg-type]
    assert log.commits == []
    assert rows(engine) == (0, 0)


async def test_a_trickle_is_flushed_after_max_wait(engine: ChdbEngine):
    log = ListLog()
    stats = SinkStats()
    task = asyncio.create_task(run_sink(log.consumer(), engine, max_wait_s=0.05, stats=stats))
    log.append([statement(1)])
    for _ in range(200):
        if log.commits:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log.commits == [1]
    assert rows(engine) == (1, 1)
