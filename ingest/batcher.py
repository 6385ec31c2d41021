"""Group commit: the statements of all concurrent requests go to PostgreSQL together.

Requests put their validated rows on one queue and wait; writer tasks take everything queued
(up to `max_statements`), append it with one COPY transaction, and only then answer each
request. While a writer waits for its commit, the next batch gathers behind it, so batches
grow with load and latency stays at about one commit. A unique violation (a statement id
already stored) sends that batch down the slow path, where each request is committed alone,
so one request's conflict never fails another's statements.

Once a request has been refused for a full queue, the queue counts as saturated until it
has drained to half: meanwhile `admit` turns writes away before their bodies are decoded.
Under overload, decoding requests only to refuse them at the queue would take the CPU the
writers and the accepted requests need (large batches most of all).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg
import msgspec

from core import tracing
from core.errors import BadRequest, Conflict, Overloaded
from ingest.inflight_board import InflightBoard
from ingest.inflight_hosts import InflightHosts
from ingest.metrics import BATCH_STATEMENTS, COMMIT_SECONDS, OVERLOADED, STATEMENTS_ACCEPTED
from ingest.postgres import UNAVAILABLE, Attachment, append_batch, stored_bodies
from ingest.rows import StatementRow

if TYPE_CHECKING:
    from opentelemetry.trace import Span

log = logging.getLogger(__name__)
# What a commit raises when the store, not the batch, is at fault: the batch is refused 503.
_STORE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, *UNAVAILABLE)

Equivalent = Callable[[dict[str, object], dict[str, object]], bool]
# Errors only a request's values cause: SQLSTATE class 22 (data exception: NUL in text, ...)
# and 54 (program limit exceeded: an index entry too large).
_REFUSED_VALUES = (asyncpg.DataError, asyncpg.ProgramLimitExceededError)


class _Pending:
    """One request's statements on their way to a commit; `done` resolves after it."""

    __slots__ = ("attachments", "done", "rows", "span")

    def __init__(
        self,
        rows: list[StatementRow],
        attachments: list[Attachment],
        span: Span | None,  # the request's wait for its commit, when tracing
        done: asyncio.Future[None],
    ) -> None:
        self.rows = rows
        self.attachments = attachments
        self.span = span
        self.done = done


class GroupCommitter:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        equivalent: Equivalent,
        max_statements: int = 5000,
        window_s: float = 0.0,
        queue_max: int = 50_000,
        writers: int = 2,
        board: InflightBoard | None = None,
        hosts: InflightHosts | None = None,
    ) -> None:
        self._pool = pool
        self._board = board  # the other workers' uncommitted statements (several workers)
        self._hosts = hosts  # the other hosts' (several API pods on one database)
        # The oldest `stored` in `_inflight`, kept as requests come and go. While they come in
        # `stored` order (every write but an import's keeps its own), the dict's first value
        # is the oldest; otherwise a search finds it.
        self._oldest: datetime | None = None
        self._newest: datetime | None = None
        self._in_order = True
        self._equivalent = equivalent
        self._max = max_statements
        self._window = window_s
        self._queue_max = queue_max
        self._writers = writers
        self._queue: deque[_Pending] = deque()
        self._inflight: dict[_Pending, datetime] = {}
        self._queued_statements = 0
        self._wakeup = asyncio.Event()
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._last_batch_requests = 0
        self._saturated = False  # a request was refused for a full queue; not drained yet

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._write_forever(), name=f"statement-writer-{i}")
            for i in range(self._writers)
        ]

    async def stop(self) -> None:
        """Stop taking statements and commit every one already accepted."""
        self._closing = True
        self._wakeup.set()
        await asyncio.gather(*self._tasks)

    def admit(self) -> None:
        """Raise Overloaded if the queue takes no writes now: call it before decoding one."""
        if self._closing:
            raise Overloaded("the server is shutting down", retry_after=5)
        if self._saturated:
            if self._queued_statements > self._queue_max // 2:
                raise _queue_full()
            self._saturated = False

    async def submit(self, rows: list[StatementRow], attachments: list[Attachment]) -> None:
        """Return once `rows` are committed; raise Conflict, Overloaded on failure."""
        self.admit()
        if self._queued_statements + len(rows) > self._queue_max and self._queued_statements:
            self._saturated = True
            raise _queue_full()
        pending = _Pending(
            rows, attachments, tracing.start("batch.wait"), self._loop().create_future()
        )
        self._queued_statements += len(rows)
        self._enter(pending, rows[0].stored)
        self._queue.append(pending)
        self._wakeup.set()
        try:
            # A cancelled wait (the client went away) cancels `done` too; the writer skips a
            # done future, and the rows, once queued, are committed all the same.
            await pending.done
        except BaseException as exc:
            tracing.finish(pending.span, exc)
            raise
        else:
            tracing.finish(pending.span)
        finally:
            self._queued_statements -= len(rows)
            self._leave(pending)

    def _loop(self) -> asyncio.AbstractEventLoop:
        if self._event_loop is None:
            self._event_loop = asyncio.get_running_loop()
        return self._event_loop

    def _enter(self, pending: _Pending, stored: datetime) -> None:
        if self._newest is not None and stored < self._newest:
            self._in_order = False
        else:
            self._newest = stored
        self._inflight[pending] = stored
        if self._oldest is None or stored < self._oldest:
            self._set_oldest(stored)

    def _leave(self, pending: _Pending) -> None:
        stored = self._inflight.pop(pending, None)
        if not self._inflight:
            self._newest, self._in_order = None, True
            self._set_oldest(None)
        elif stored == self._oldest:
            values = self._inflight.values()
            self._set_oldest(next(iter(values)) if self._in_order else min(values))

    def _set_oldest(self, oldest: datetime | None) -> None:
        if oldest != self._oldest:
            self._oldest = oldest
            if self._board is not None:
                self._board.publish(oldest)
            if self._hosts is not None:
                self._hosts.publish(oldest)

    def consistent_through(self) -> datetime:
        """No statement stored before this instant is still on its way to the store, from
        this worker, (with a board) any other on this host or (with hosts) any other host."""
        oldest = self._board.oldest() if self._board is not None else self._oldest
        if self._hosts is not None:
            others = self._hosts.oldest()
            if others is not None and (oldest is None or others < oldest):
                oldest = others
        return datetime.now(UTC) if oldest is None else oldest

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

    @property
    def queued_statements(self) -> int:
        return self._queued_statements

    async def _write_forever(self) -> None:
        # A writer keeps its connection between batches: handing it back to the pool costs a
        # reset round trip per commit. It gives it back (and takes another) after an error.
        conn: asyncpg.Connection | None = None
        try:
            while True:
                batch = await self._next_batch()
                if not batch:
                    return
                try:
                    if conn is None:
                        conn = await self._pool.acquire()
                    with COMMIT_SECONDS.time():
                        await self._commit(conn, batch)
                except Exception as exc:  # the batch's requests are refused; the writer lives on
                    if isinstance(exc, _STORE_ERRORS):
                        log.error("statement store unavailable: %s", exc)
                        OVERLOADED.inc(len(batch))
                        exc = Overloaded("the statement store is unavailable", 2)
                    else:
                        log.exception("a group commit failed")
                    for pending in batch:
                        _fail(pending, exc)
                    if conn is not None:
                        await self._release(conn)
                        conn = None
        finally:
            if conn is not None:
                await self._release(conn)

    async def _release(self, conn: asyncpg.Connection) -> None:
        try:
            await self._pool.release(conn)
        except Exception as exc:  # the pool has closed the connection: it takes a new one
            log.warning("could not return a writer's connection to the pool: %r", exc)

    async def _next_batch(self) -> list[_Pending]:
        while not self._queue:
            if self._closing:
                return []
            self._wakeup.clear()
            await self._wakeup.wait()
        # Under concurrent load (the last batch served several requests), wait a moment for
        # more to join: fewer, larger commits cost PostgreSQL and this worker less per
        # statement. A lone request (the last batch was one request too) commits at once.
        if (
            self._window
            and self._last_batch_requests > 1
            and sum(len(p.rows) for p in self._queue) < self._max
        ):
            await asyncio.sleep(self._window)
        batch: list[_Pending] = []
        size = 0
        while self._queue and (not batch or size + len(self._queue[0].rows) <= self._max):
            pending = self._queue.popleft()
            batch.append(pending)
            size += len(pending.rows)
        BATCH_STATEMENTS.observe(size)
        self._last_batch_requests = len(batch)
        return batch

    async def _commit(self, conn: asyncpg.Connection, batch: list[_Pending]) -> None:
        rows = [r for p in batch for r in p.rows]
        # A trace of its own, linked both ways to the requests it serves: see core/tracing.py.
        with tracing.span(
            "copy",
            {"batch.statements": len(rows), "batch.requests": len(batch)},
            links_to=(p.span for p in batch),
        ) as span:
            if span is not None:
                for pending in batch:
                    if pending.span is not None:
                        pending.span.add_link(span.get_span_context())
            try:
                await append_batch(conn, rows, [a for p in batch for a in p.attachments])
            except (asyncpg.UniqueViolationError, *_REFUSED_VALUES):
                # An id already stored, or a value PostgreSQL refuses (NUL in text, a key too
                # long to index): one request's doing, so commit each alone and fail only it.
                if span is not None:
                    span.set_attribute("batch.one_request_at_a_time", True)
                for pending in batch:
                    await self._commit_alone(conn, pending)
                return
            for pending in batch:
                _succeed(pending)
            STATEMENTS_ACCEPTED.inc(len(rows))

    async def _commit_alone(self, conn: asyncpg.Connection, pending: _Pending) -> None:
        """Commit the statements of one request whose ids may already be stored."""
        for _attempt in range(3):
            try:
                fresh = await self._unstored(conn, pending.rows)
                if fresh:
                    await append_batch(conn, fresh, pending.attachments)
            except Conflict as exc:
                _fail(pending, exc)
                return
            except _REFUSED_VALUES as exc:
                _fail(
                    pending, BadRequest(f"the statement store refused a value: {_first_line(exc)}")
                )
                return
            except asyncpg.UniqueViolationError:
                continue  # another writer stored one of these ids meanwhile: look again
            _succeed(pending)
            STATEMENTS_ACCEPTED.inc(len(pending.rows))
            return
        _fail(pending, Overloaded("statement ids are being written concurrently; retry", 1))

    async def _unstored(
        self, conn: asyncpg.Connection, rows: list[StatementRow]
    ) -> list[StatementRow]:
        """The rows not stored yet; Conflict if a stored one differs from its new version."""
        existing = await stored_bodies(conn, [r.id for r in rows])
        fresh = []
        for row in rows:
            body = existing.get(row.id)
            if body is None:
                fresh.append(row)
            elif not self._equivalent(msgspec.json.decode(body), msgspec.json.decode(row.body)):
                raise Conflict(
                    f"statement {row.id} is already stored with different content;"
                    " statements are immutable"
                )
        return fresh


def _first_line(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0]


def _queue_full() -> Overloaded:
    OVERLOADED.inc()
    return Overloaded("the statement queue is full; retry shortly", retry_after=1)


def _succeed(pending: _Pending) -> None:
    if not pending.done.done():
        pending.done.set_result(None)


def _fail(pending: _Pending, exc: Exception) -> None:
    if not pending.done.done():
        pending.done.set_exception(exc)
