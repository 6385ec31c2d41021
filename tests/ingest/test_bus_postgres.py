"""The PostgreSQL log bus: in order, never past a writer still in flight, at least once."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import sys
import textwrap
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import msgspec

from core.bus import STATEMENTS_TOPIC, Record
from core.events import (
    COURSES_TOPIC,
    PROGRESS_TOPIC,
    CourseCreated,
    TestPassed,
    decode_event,
    publish_events,
)
from core.xapi.models import Statement
from ingest.bus_postgres import PostgresBus, PostgresConsumer
from ingest.postgres import copy_batch
from ingest.rows import StatementRow, to_row


def statement_row(actor: str) -> StatementRow:
    body = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": f"mailto:{actor}@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"objectType": "Activity", "id": "http://example.com/bus"},
    }
    return to_row(
        msgspec.convert(body, Statement),
        stored=datetime.now(UTC),
        authority_key="test",
        attachments=None,
        may_define=False,
    )


def new_name(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


async def poll_until(consumer: PostgresConsumer, count: int, timeout_s: float = 10) -> list[Record]:
    records: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        records.extend(await consumer.poll(max_records=count - len(records), timeout_s=0.5))
    return records


async def start_at_end_of_statements(dsn: str, group: str) -> None:
    """Make `group` a reader of statements written from now on only."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            'INSERT INTO bus_offsets ("group", topic, position)'
            " SELECT $1, $2, CASE WHEN is_called THEN last_value ELSE 0 END FROM statement_seq",
            group,
            STATEMENTS_TOPIC,
        )
    finally:
        await conn.close()


async def committed(dsn: str, group: str, topic: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        position = await conn.fetchval(
            'SELECT position FROM bus_offsets WHERE "group" = $1 AND topic = $2', group, topic
        )
        return int(position or 0)
    finally:
        await conn.close()


async def publish_numbers(dsn: str, topic: str, numbers: Sequence[int]) -> None:
    bus = PostgresBus(dsn)
    try:
        publisher = await bus.publisher()
        await publisher.publish(topic, [(b"k%d" % (n % 3), b"%d" % n) for n in numbers])
    finally:
        await bus.close()


async def test_published_events_come_back_in_order_and_a_new_consumer_resumes_after_commit(
    database_url,
):
    topic, group = new_name("test.events"), new_name("test.group")
    await publish_numbers(database_url, topic, range(100))
    bus = PostgresBus(database_url)
    try:
        first = await bus.consumer(group, topic)
        records = await poll_until(first, 100)
        assert [int(r.value) for r in records] == list(range(100))
        assert [r.key for r in records[:3]] == [b"k0", b"k1", b"k2"]
        assert all(a.position < b.position for a, b in itertools.pairwise(records))
        await first.commit(records[:60])
        await first.close()

        second = await bus.consumer(group, topic)
        again = await poll_until(second, 40)
        assert [int(r.value) for r in again] == list(range(60, 100))
        assert await second.poll(timeout_s=0.3) == []
    finally:
        await bus.close()


async def test_uncommitted_records_are_delivered_again_to_the_next_consumer(database_url):
    topic, group = new_name("test.events"), new_name("test.group")
    await publish_numbers(database_url, topic, range(10))
    bus = PostgresBus(database_url)
    try:
        crashed = await bus.consumer(group, topic)
        assert len(await poll_until(crashed, 10)) == 10
        await crashed.close()  # processed nothing, committed nothing
        assert await committed(database_url, group, topic) == 0
        resumed = await bus.consumer(group, topic)
        assert [int(r.value) for r in await poll_until(resumed, 10)] == list(range(10))
    finally:
        await bus.close()


async def test_one_reader_per_group_the_other_takes_over_at_the_committed_position(
    database_url,
):
    topic, group = new_name("test.events"), new_name("test.group")
    await publish_numbers(database_url, topic, range(20))
    bus = PostgresBus(database_url)
    try:
        active = await bus.consumer(group, topic)
        standby = await bus.consumer(group, topic)
        records = await poll_until(active, 20)
        assert await standby.poll(timeout_s=0.3) == []
        await active.commit(records[:5])
        await active.close()
        assert [int(r.value) for r in await poll_until(standby, 15)] == list(range(5, 20))
    finally:
        await bus.close()


async def test_a_reader_never_passes_a_seq_whose_writer_transaction_is_still_open(database_url):
    group = new_name("test.horizon")
    await start_at_end_of_statements(database_url, group)
    bus = PostgresBus(database_url)
    slow = await asyncpg.connect(database_url)
    fast = await asyncpg.connect(database_url)
    try:
        consumer = await bus.consumer(group, STATEMENTS_TOPIC)
        assert await consumer.poll(timeout_s=0.2) == []

        # The real writer, held open: copy_batch inside an outer transaction takes its seq and
        # writes its rows, but nothing commits until the outer transaction does.
        held = slow.transaction()
        await held.start()
        slow_row, fast_row = statement_row("slow"), statement_row("fast")
        await copy_batch(slow, [slow_row])
        await copy_batch(fast, [fast_row])  # a higher seq, committed
        low = await slow.fetchval("SELECT seq FROM statements WHERE id = $1", slow_row.id)
        high = await fast.fetchval("SELECT seq FROM statements WHERE id = $1", fast_row.id)
        assert low < high
        assert await consumer.poll(timeout_s=0.5) == [], "delivered past an open writer"
        await held.commit()
        records = await poll_until(consumer, 2)
        assert [r.position for r in records] == [low, high]
        assert [r.key for r in records] == [
            b"mbox mailto:slow@example.com",
            b"mbox mailto:fast@example.com",
        ]
        await consumer.commit(records)
        assert await committed(database_url, group, STATEMENTS_TOPIC) == high
    finally:
        await slow.close()
        await fast.close()
        await bus.close()


async def test_a_writer_that_only_took_its_seq_holds_the_reader_until_it_ends(database_url):
    """Before its first row a writer may have no xid, so xmin-based rules cannot see it."""
    group = new_name("test.horizon")
    await start_at_end_of_statements(database_url, group)
    bus = PostgresBus(database_url)
    slow = await asyncpg.connect(database_url)
    fast = await asyncpg.connect(database_url)
    try:
        consumer = await bus.consumer(group, STATEMENTS_TOPIC)
        await slow.execute("BEGIN")
        gap = await slow.fetchval("SELECT nextval('statement_seq')")
        await copy_batch(fast, [statement_row("after-gap")])
        assert await consumer.poll(timeout_s=0.5) == [], "delivered past a seq still held"
        await slow.execute("ROLLBACK")  # the seq is never written: a gap
        records = await poll_until(consumer, 1)
        assert [r.position for r in records] == [gap + 1]
    finally:
        await slow.close()
        await fast.close()
        await bus.close()


async def test_a_consumer_gets_the_positions_of_statements_it_does_not_want_but_not_their_bodies(
    database_url,
):
    group = new_name("test.wanted")
    await start_at_end_of_statements(database_url, group)
    bus = PostgresBus(database_url)
    writer = await asyncpg.connect(database_url)
    try:
        consumer = await bus.consumer(group, STATEMENTS_TOPIC, wanted=["wanted-a", "wanted-b"])
        rows = [statement_row(name) for name in ("wanted-a", "other", "wanted-b", "another")]
        await copy_batch(writer, rows)
        records = await poll_until(consumer, 4)
        by_id = {r.position: r for r in records}
        seqs = [
            await writer.fetchval("SELECT seq FROM statements WHERE id = $1", row.id)
            for row in rows
        ]
        assert sorted(by_id) == sorted(seqs)
        got = [by_id[seq] for seq in seqs]
        assert [msgspec.json.decode(r.value)["id"] for r in (got[0], got[2])] == [
            rows[0].id,
            rows[2].id,
        ]
        assert [r.key for r in (got[0], got[2])] == [
            b"mbox mailto:wanted-a@example.com",
            b"mbox mailto:wanted-b@example.com",
        ]
        assert [(r.key, r.value) for r in (got[1], got[3])] == [(b"", b""), (b"", b"")]
        await consumer.commit(records)  # past the unwanted ones too
        assert await committed(database_url, group, STATEMENTS_TOPIC) == max(seqs)
    finally:
        await writer.close()
        await bus.close()


async def test_domain_events_round_trip_with_their_schema(database_url):
    created = CourseCreated(course_id=new_name("course"), title="Kafka 101", created_by="alice")
    passed = TestPassed(
        learner="mbox mailto:bob@example.com",
        course_id=created.course_id,
        test_id="t1",
        score_scaled=0.92,
    )
    bus = PostgresBus(database_url)
    try:
        await publish_events(await bus.publisher(), [created, passed])
        courses = await bus.consumer(new_name("test.group"), COURSES_TOPIC)
        progress = await bus.consumer(new_name("test.group"), PROGRESS_TOPIC)
        seen_courses = [decode_event(r.value) for r in await poll_until(courses, 10_000, 1)]
        seen_progress = [decode_event(r.value) for r in await poll_until(progress, 10_000, 1)]
        assert created in seen_courses
        assert passed in seen_progress
        assert seen_courses[-1].schema_version == 1
    finally:
        await bus.close()


CONSUMER = textwrap.dedent(
    """
    import asyncio, os, sys, time
    from ingest.bus_postgres import PostgresBus

    async def main():
        bus = PostgresBus(os.environ["DSN"])
        consumer = await bus.consumer(os.environ["GROUP"], os.environ["TOPIC"])
        idle_since = time.monotonic()
        with open(os.environ["OUT"], "a") as out:
            while time.monotonic() - idle_since < 1.0:
                records = await consumer.poll(max_records=50, timeout_s=0.2)
                if not records:
                    continue
                idle_since = time.monotonic()
                for r in records:  # processing: slow enough to be killed in the middle
                    out.write(f"{int(r.value)}\\n")
                    out.flush()
                    time.sleep(0.0005)
                await consumer.commit(records)
        await bus.close()

    asyncio.run(main())
    """
)


def processed(out: Path) -> list[int]:
    return [int(line) for line in out.read_text().splitlines() if line.strip().isdigit()]


async def test_a_consumer_killed_at_any_point_resumes_without_loss(database_url, tmp_path):
    topic, group = new_name("test.events"), new_name("test.group")
    await publish_numbers(database_url, topic, range(3000))
    out = tmp_path / "processed.txt"
    out.touch()
    env = {**os.environ, "DSN": database_url, "GROUP": group, "TOPIC": topic, "OUT": str(out)}
    rng = random.Random(7)
    positions_of = await _positions(database_url, topic)
    for _ in range(5):
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", CONSUMER, env=env)
        await asyncio.sleep(rng.uniform(0.6, 1.2))
        proc.kill()
        await proc.wait()
        done = set(processed(out))
        position = await committed(database_url, group, topic)
        # Committed only after processing: everything at or below the position was processed.
        assert {n for n, p in positions_of.items() if p <= position} <= done
    last = await asyncio.create_subprocess_exec(sys.executable, "-c", CONSUMER, env=env)
    assert await asyncio.wait_for(last.wait(), 60) == 0
    seen = processed(out)
    assert set(seen) == set(range(3000))
    assert await committed(database_url, group, topic) == max(positions_of.values())


async def _positions(dsn: str, topic: str) -> dict[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT position, value FROM bus_events WHERE topic = $1", topic)
        return {int(r["value"]): r["position"] for r in rows}
    finally:
        await conn.close()
