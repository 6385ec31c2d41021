"""The analytics sink: the statement stream from the bus into ClickHouse, in large inserts.

Records are gathered until a batch is full (`max_rows`) or old (`max_wait_s` since its first
record), then written in one INSERT; the consumer position is committed only after it.

Delivery is at least once, so after a crash the records since the last commit come again,
some already inserted. Before each insert the sink asks ClickHouse which of the batch's ids
it already holds and leaves those out: the table then holds each statement once, and plain
`count()`, `sum()` ... are right without `FINAL`. ReplacingMergeTree on a key ending in `id`
is the backstop for a race between two sinks (which one consumer group does not allow).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from core.bus import STATEMENTS_TOPIC, Bus, Consumer, Record
from lms.analytics.engine import Engine
from lms.analytics.flatten import Row, flatten

CONSUMER_GROUP = "analytics.clickhouse"
# Ids per membership query: keeps each query's text (36 bytes an id) well under
# ClickHouse's max_query_size (256 KiB).
_IDS_PER_QUERY = 2000
_encode = msgspec.json.Encoder().encode


@dataclass
class SinkStats:
    received: int = 0
    inserted: int = 0
    duplicates: int = 0
    inserts: int = 0


async def sync(bus: Bus, engine: Engine, *, follow: bool = False) -> SinkStats:
    """Run the sink as the analytics consumer group: the backlog, or (follow) until stopped."""
    consumer = await bus.consumer(CONSUMER_GROUP, STATEMENTS_TOPIC)
    try:
        return await run_sink(consumer, engine, follow=follow)
    finally:
        await bus.close()


async def run_sink(
    consumer: Consumer,
    engine: Engine,
    *,
    max_rows: int = 10_000,
    max_wait_s: float = 1.0,
    follow: bool = True,
    stats: SinkStats | None = None,
) -> SinkStats:
    """Consume until cancelled (follow) or until a poll finds nothing new (the backlog)."""
    stats = stats or SinkStats()
    batch: list[Record] = []
    started = 0.0
    while True:
        wait = max_wait_s if not batch else max(0.0, started + max_wait_s - time.monotonic())
        records = await consumer.poll(max_records=max_rows - len(batch), timeout_s=wait)
        if records and not batch:
            started = time.monotonic()
        batch.extend(records)
        full = len(batch) >= max_rows
        old = bool(batch) and time.monotonic() - started >= max_wait_s
        drained = not records and not follow
        if batch and (full or old or drained):
            await asyncio.to_thread(write_batch, engine, batch, stats)
            await consumer.commit(batch)
            batch = []
        if drained:
            return stats


def write_batch(engine: Engine, records: Sequence[Record], stats: SinkStats) -> None:
    """Insert the statements of `records` that ClickHouse does not hold yet, in one INSERT."""
    rows: dict[str, Row] = {}
    for record in records:
        row = flatten(record.value)
        rows.setdefault(row["id"], row)
    held = existing_ids(engine, list(rows))
    new = [row for statement_id, row in rows.items() if statement_id not in held]
    stats.received += len(records)
    stats.duplicates += len(records) - len(new)
    if new:
        engine.insert("statements", b"\n".join(_encode(row) for row in new))
        stats.inserted += len(new)
        stats.inserts += 1


def existing_ids(engine: Engine, ids: Sequence[str]) -> set[str]:
    held: set[str] = set()
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[start : start + _IDS_PER_QUERY]
        listed = ",".join(f"'{i}'" for i in chunk)  # canonical UUIDs (flatten made them)
        out = engine.query(f"SELECT id FROM statements WHERE id IN ({listed})", "TabSeparated")
        held.update(out.decode().split())
    return held
