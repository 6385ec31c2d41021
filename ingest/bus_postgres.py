"""The event bus on PostgreSQL: the embedded default, and the outbox the Kafka relay drains.

The statement stream is the `statements` table itself in `seq` order; domain events are rows
of `bus_events` in `position` order. A consumer group's committed position is a row of
`bus_offsets`. Writers `NOTIFY "<topic>"` in their transaction to wake readers at commit;
readers also look again every `_RECHECK_S`, so a lost notification only costs latency.

The reading rule (the horizon)
------------------------------
`seq` comes from a sequence, allocated before commit by concurrent transactions, so seq order
is not commit order: while a transaction holding seq 10 is still open, another may commit
seq 11. A reader that delivered 11 and committed position 11 would never see 10. A reader
must therefore only move past a seq once every transaction that could still commit a lower
seq has ended. Comparing each row's `xmin` with the snapshot's oldest running xid is not
enough: a transaction need not have an xid when it calls `nextval` (the sequence logs, and so
assigns an xid, only every 32 values; `copy_batch` gets its xid at the COPY that follows), and
xid order is not seq order either (a transaction may take its xid before an older one takes
its seq). So the horizon is defined by the sequence and the lock every user of it holds:

1. Read `last_value` of the sequence: H. Every seq <= H has been handed out.
2. Then list the transactions holding `RowExclusiveLock` on the sequence. `nextval` takes
   that lock before it hands out a value and keeps it until its transaction ends (PostgreSQL
   holds it under the top transaction's resource owner: no savepoint releases it), so every
   transaction that got a seq <= H has either ended already or is in this list.
3. Once none of the listed virtual transactions holds the lock any more, each of them has
   committed or aborted, and a commit is visible before its locks are released. From then on
   every seq <= H is either visible to a new snapshot or never will be: H is settled, and the
   reader delivers rows with `position < seq <= H`.

Virtual transaction ids are never reused (the local part only grows), so "no longer listed"
means "ended". The cost is two small queries when the sequence has moved, and a reader lags
by about one writer transaction. It asks nothing of the writers beyond using the sequence.

One group, one reader: a consumer holds a session advisory lock per (group, topic) on its own
connection; a second consumer of the same group waits as a standby (its polls return nothing)
and takes over when the first one's connection ends, at the committed position.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

import asyncpg
import msgspec

from core.bus import STATEMENTS_TOPIC, Record
from core.xapi.models import Actor
from ingest.rows import agent_key

STATEMENT_SEQUENCE = "statement_seq"
EVENT_SEQUENCE = "bus_events_position_seq"
_RECHECK_S = 0.25  # look again this often without a notification
_WRITER_WAIT_S = 0.005  # ... and this often while the horizon waits for writers to end
# After a read that found records, the next read waits until this long after it: under load a
# reader then costs a few queries (horizon, rows, its position) per 50 ms, not per writer
# commit. A statement waits for readers up to _RECHECK_S when the log is quiet anyway.
_GATHER_S = 0.05
_LOCK_CLASS = 0x42555300  # "BUS": the advisory-lock key space of consumer groups
# What pg_stat_activity shows for the bus's connections (a consumer's name ends in its group).
CONSUMER_APPLICATION_NAME = "hyperedu bus consumer"
PUBLISHER_APPLICATION_NAME = "hyperedu bus publisher"


class _StatementActor(msgspec.Struct):
    actor: Actor


_decode_actor = msgspec.json.Decoder(_StatementActor).decode


def actor_key(body: bytes) -> bytes:
    """The key that keeps one learner's statements in order: the actor's identifier."""
    key = agent_key(_decode_actor(body).actor)
    return key.encode() if key is not None else b""


class Horizon:
    """The highest position of a sequence below which no writer is still in flight."""

    def __init__(self, sequence: str) -> None:
        self._sequence = sequence
        self.settled = 0
        self._candidate: tuple[int, list[str]] | None = None

    async def advance(self, conn: asyncpg.Connection) -> int:
        if self._candidate is not None:
            last, holders = self._candidate
            if await self._any_holding(conn, holders):
                return self.settled
            self.settled, self._candidate = last, None
        last = await conn.fetchval(
            f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {self._sequence}"
        )
        if last <= self.settled:
            return self.settled
        holders = await conn.fetchval(
            "SELECT coalesce(array_agg(virtualtransaction), '{}') FROM pg_locks"
            " WHERE locktype = 'relation' AND relation = $1::regclass"
            " AND mode = 'RowExclusiveLock' AND pid IS DISTINCT FROM pg_backend_pid()",
            self._sequence,
        )
        if holders:
            self._candidate = (last, holders)
        else:
            self.settled = last
        return self.settled

    @property
    def waiting(self) -> bool:
        """Whether the next advance waits on writers rather than on new writes."""
        return self._candidate is not None

    async def _any_holding(self, conn: asyncpg.Connection, holders: list[str]) -> bool:
        return bool(
            await conn.fetchval(
                "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'relation'"
                " AND relation = $1::regclass AND virtualtransaction = ANY($2::text[]))",
                self._sequence,
                holders,
            )
        )


async def append_events(
    conn: asyncpg.Connection, topic: str, records: Sequence[tuple[bytes, bytes]]
) -> None:
    """Append (key, value) events to `topic` in the caller's transaction (an outbox write:
    the events commit, or not, with the state change they describe)."""
    if topic == STATEMENTS_TOPIC:
        raise ValueError("statements enter the log through the LRS, not the publisher")
    await conn.execute(
        "INSERT INTO bus_events (topic, key, value)"
        " SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS r(k, v)",
        topic,
        [k for k, _ in records],
        [v for _, v in records],
    )
    await conn.execute("SELECT pg_notify($1, '')", topic)


class PostgresPublisher:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def publish(self, topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
        if not records:
            return
        async with self._pool.acquire() as conn, conn.transaction():
            await append_events(conn, topic, records)

    async def close(self) -> None:
        return None


def _statements_query(wanted: int) -> str:
    """The statement stream's read ($1 < seq <= $2, at most $3 rows); with `wanted` strings
    ($4, ...), the body only of the statements that contain one of them."""
    body = "body"
    if wanted:
        tests = " OR ".join(f"strpos(body, ${4 + i}) > 0" for i in range(wanted))
        body = f"CASE WHEN {tests} THEN body END"
    return f"SELECT seq, {body} FROM statements WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"


class PostgresConsumer:
    """Reads one topic for one group on its own connection (see the module's reading rule)."""

    def __init__(
        self, conn: asyncpg.Connection, group: str, topic: str, wanted: Sequence[str] = ()
    ) -> None:
        self._conn = conn
        self._group = group
        self._topic = topic
        self._wanted = list(wanted) if topic == STATEMENTS_TOPIC else []
        self._read_statements = _statements_query(len(self._wanted))
        self._horizon = Horizon(STATEMENT_SEQUENCE if topic == STATEMENTS_TOPIC else EVENT_SEQUENCE)
        self._wakeup = asyncio.Event()
        self._position: int | None = None  # None: not the group's reader (yet)
        self._last_found = 0.0  # when a read last found records (time.monotonic)

    @classmethod
    async def open(
        cls, dsn: str, group: str, topic: str, wanted: Sequence[str] = ()
    ) -> PostgresConsumer:
        # The position a reader commits may be lost in a crash (delivery is at least once:
        # the records come again), so its commit need not wait for the WAL to reach disk.
        conn = await asyncpg.connect(
            dsn,
            server_settings={
                "synchronous_commit": "off",
                "application_name": f"{CONSUMER_APPLICATION_NAME} {group}"[:63],
            },
        )
        consumer = cls(conn, group, topic, wanted)
        try:
            await conn.add_listener(topic, consumer._notified)
        except BaseException:
            await conn.close()
            raise
        return consumer

    async def poll(self, max_records: int = 1000, timeout_s: float = 1.0) -> Sequence[Record]:
        deadline = time.monotonic() + timeout_s
        if (gather := self._last_found + _GATHER_S - time.monotonic()) > 0:
            await asyncio.sleep(min(gather, timeout_s))
        while True:
            self._wakeup.clear()
            records = await self._fetch(max_records)
            now = time.monotonic()
            if records:
                self._last_found = now
                return records
            if now >= deadline:
                return records
            pause = _WRITER_WAIT_S if self._horizon.waiting else _RECHECK_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), min(deadline - now, pause))

    async def commit(self, records: Sequence[Record]) -> None:
        if not records:
            return
        if self._position is None:
            raise RuntimeError(f"consumer of {self._group}/{self._topic} is not the group's reader")
        await self._conn.execute(
            'INSERT INTO bus_offsets ("group", topic, position) VALUES ($1, $2, $3)'
            ' ON CONFLICT ("group", topic)'
            " DO UPDATE SET position = greatest(bus_offsets.position, excluded.position)",
            self._group,
            self._topic,
            max(r.position for r in records),
        )

    async def close(self) -> None:
        if not self._conn.is_closed():
            await self._conn.close()  # ends the session: its advisory lock goes with it

    def _notified(self, *_: object) -> None:
        self._wakeup.set()

    async def _fetch(self, max_records: int) -> list[Record]:
        if self._position is None and not await self._become_reader():
            return []
        assert self._position is not None
        horizon = await self._horizon.advance(self._conn)
        if horizon <= self._position:
            return []
        if self._topic == STATEMENTS_TOPIC:
            rows = await self._conn.fetch(
                self._read_statements, self._position, horizon, max_records, *self._wanted
            )
            records = []
            for seq, body in rows:
                if body is None:  # not wanted: only its position comes
                    records.append(Record(self._topic, b"", b"", seq))
                    continue
                value = body.encode()
                records.append(Record(self._topic, actor_key(value), value, seq))
        else:
            rows = await self._conn.fetch(
                "SELECT position, key, value FROM bus_events"
                " WHERE topic = $1 AND position > $2 AND position <= $3"
                " ORDER BY position LIMIT $4",
                self._topic,
                self._position,
                horizon,
                max_records,
            )
            records = [Record(self._topic, key, value, pos) for pos, key, value in rows]
        # Fewer rows than asked for: nothing else is at or below the horizon (the rest are gaps
        # of aborted writers), so the next read starts there.
        self._position = records[-1].position if len(records) == max_records else horizon
        return records

    async def _become_reader(self) -> bool:
        if not await self._conn.fetchval(
            "SELECT pg_try_advisory_lock($1, hashtext($2))",
            _LOCK_CLASS,
            f"{self._group}\n{self._topic}",
        ):
            return False
        self._position = await self._conn.fetchval(
            'SELECT coalesce(max(position), 0) FROM bus_offsets WHERE "group" = $1 AND topic = $2',
            self._group,
            self._topic,
        )
        return True


class PostgresBus:
    def __init__(self, dsn: str, *, pool_size: int = 2) -> None:
        self._dsn = dsn
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._consumers: list[PostgresConsumer] = []

    async def consumer(
        self, group: str, topic: str, *, wanted: Sequence[str] = ()
    ) -> PostgresConsumer:
        """`wanted` (core/bus.py) is applied to the statement stream, in the query: a
        statement containing none of the strings comes with its seq only."""
        consumer = await PostgresConsumer.open(self._dsn, group, topic, wanted)
        self._consumers.append(consumer)
        return consumer

    async def publisher(self) -> PostgresPublisher:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=1,
                max_size=self._pool_size,
                server_settings={"application_name": PUBLISHER_APPLICATION_NAME},
            )
        return PostgresPublisher(self._pool)

    async def close(self) -> None:
        for consumer in self._consumers:
            await consumer.close()
        self._consumers.clear()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
