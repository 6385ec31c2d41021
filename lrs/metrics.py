"""Prometheus metrics: the HTTP layer's, the /metrics route, and the one ASGI layer that
observes every request (its id, status and latency, and its log line when enabled).

Several worker processes serve one port, so every value lives in prometheus-client's
multiprocess files (`hyperedu serve` prepares PROMETHEUS_MULTIPROC_DIR before the workers
start: see `hyperedu/metrics_dir.py`), and /metrics, whichever worker answers it, adds up
the files of all of them. Gauges are "livesum": a worker removes its own when it stops, and those of workers that died
without stopping are removed when the next one starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import suppress
from itertools import count
from math import inf
from pathlib import Path
from time import perf_counter
from typing import Any

from litestar import Litestar, Response, get
from litestar.types import (
    ASGIApp,
    LifeSpanReceive,
    LifeSpanScope,
    LifeSpanSend,
    LifeSpanSendMessage,
    Message,
    Receive,
    Scope,
    Send,
)
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from core.errors import HyperEduError
from core.logging import request_id
from core.processes import alive
from lrs.scope_types import HTTP
from lrs.state import LrsState

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REQUEST_ID_HEADER = b"x-request-id"
FLUSH_EVERY_S = 1.0
LATENCY_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, inf)

log = logging.getLogger("hyperedu.access")

REQUESTS = Counter(
    "hyperedu_http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
LATENCY = Histogram(
    "hyperedu_http_request_seconds",
    "Time from request to the end of the response",
    ["route", "method"],
    buckets=LATENCY_BOUNDS,
)
STATEMENTS_REJECTED = Counter(
    "hyperedu_statements_rejected_total",
    "Requests to the Statements resource refused: validation (400), conflict (409), overloaded (503)",
    ["reason"],
)
QUEUE = Gauge(
    "hyperedu_queue_statements",
    "Statements accepted but not yet committed",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "hyperedu_db_pool_connections", "Open database connections", multiprocess_mode="livesum"
)
POOL_IN_USE = Gauge(
    "hyperedu_db_pool_connections_in_use",
    "Database connections lent out",
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge(
    "hyperedu_db_pool_max_connections",
    "Largest number of database connections the pools may open",
    multiprocess_mode="livesum",
)

# Litestar appends the charset itself.
_CONTENT_TYPE = CONTENT_TYPE_LATEST.removesuffix("; charset=utf-8")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"})
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")
_REJECTION_REASONS = {400: "validation", 409: "conflict", 503: "overloaded"}


def exposition() -> bytes:
    """The text format of every metric, added up over all workers."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@get("/metrics", sync_to_thread=True)
def metrics() -> Response[bytes]:
    """Prometheus exposition; unauthenticated (see `Settings.metrics_enabled`)."""
    return Response(exposition(), media_type=_CONTENT_TYPE)


def count_rejection(path: str, exc: Exception) -> None:
    """Count a refused request to the Statements resource, by the reason of its error."""
    if not path.rstrip("/").endswith("/xapi/statements"):
        return
    status = exc.status if isinstance(exc, HyperEduError) else getattr(exc, "status_code", 500)
    reason = _REJECTION_REASONS.get(status)
    if reason is not None:
        STATEMENTS_REJECTED.labels(reason).inc()


class RequestTally:
    """The requests this worker answered since the last flush, by route, method and status.

    Writing a prometheus-client value in multiprocess mode costs a lock and an mmap write
    (about 2.5 µs each, three per request); adding to a local row costs a dict lookup. So the
    hot path adds here, and `flush` (once a second, on the worker's loop) writes the sums."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str, int], list[float]] = {}

    def add(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = [0.0] * (len(LATENCY_BOUNDS) + 1)
        row[bisect_left(LATENCY_BOUNDS, seconds)] += 1
        row[-1] += seconds

    def flush(self) -> None:
        rows, self._rows = self._rows, {}
        for (route, method, status), row in rows.items():
            *buckets, total = row
            REQUESTS.labels(route, method, str(status)).inc(sum(buckets))
            latency = LATENCY.labels(route, method)
            # Histogram has no public "observe many": add to its bucket and sum values, as
            # `observe` itself does (a bucket holds its own count; exposition accumulates).
            for value, observed in zip(latency._buckets, buckets, strict=True):
                if observed:
                    value.inc(observed)
            latency._sum.inc(total)


class RequestObserver:
    """What the outermost layer does for every request: give it an id (X-Request-Id if the
    client sent a sane one, else a fresh one), count and time it by route template, method
    and status, and log it if `access_log`. `wrap` is its ASGI layer; the RSGI front
    (`lrs.rsgi_front`) calls `request_id` and `record` itself for the requests it answers."""

    def __init__(self, router: Litestar, *, access_log: bool = False) -> None:
        self.router = router
        self.routes = {route.path for route in router.routes}
        self.tally = RequestTally()
        self.access_log = access_log
        self._ids = _request_ids()
        self._flusher: asyncio.Task[None] | None = None

    def request_id(self, incoming: bytes | None) -> str:
        if incoming is not None and _REQUEST_ID.fullmatch(incoming):
            return incoming.decode("ascii")
        return next(self._ids)

    def record(
        self, path: str, template: str | None, method: str, status: int, seconds: float
    ) -> None:
        route = template or (path if path in self.routes else "other")
        method = method if method in _METHODS else "other"
        self.tally.add(route, method, status, seconds)
        if self.access_log:
            log.info(
                "%s %s %d",
                method,
                route,
                status,
                extra={"route": route, "status": status, "ms": round(seconds * 1000, 3)},
            )

    async def started(self) -> None:
        """On the worker's start: the once-a-second flush of the request tally and sampling
        of its queue and pool into their gauges."""
        forget_dead_workers()
        self._flusher = asyncio.create_task(flush_forever(self.router, self.tally), name="metrics")

    async def stopping(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with suppress(asyncio.CancelledError):
                await self._flusher
        self.tally.flush()
        if os.environ.get(MULTIPROC_ENV):
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """The ASGI layer: observes every request, echoes its id, and hooks `started` and
        `stopping` to the ASGI lifespan."""

        # Litestar's Scope, Receive, Send and ASGIApp leave the lifespan out, yet the server
        # sends it through this layer, and the app below (Litestar's) takes it.
        async def lifespan(
            scope: LifeSpanScope, receive: LifeSpanReceive, send: LifeSpanSend
        ) -> None:
            async def send_observed(message: LifeSpanSendMessage) -> None:
                if message["type"] == "lifespan.startup.complete":
                    await self.started()
                elif message["type"] == "lifespan.shutdown.complete":
                    await self.stopping()
                await send(message)

            await app(scope, receive, send_observed)  # type: ignore[arg-type]

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != HTTP:
                if scope["type"] == "lifespan":  # type: ignore[comparison-overlap]
                    await lifespan(scope, receive, send)  # type: ignore[arg-type]
                else:
                    await app(scope, receive, send)
                return
            rid = self.request_id(_incoming_request_id(scope["headers"]))
            echoed = (REQUEST_ID_HEADER, rid.encode())
            token = request_id.set(rid)
            status = 500
            started = perf_counter()

            async def send_observed(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [*message.get("headers", ()), echoed]
                await send(message)

            try:
                await app(scope, receive, send_observed)
            finally:
                seconds = perf_counter() - started
                self.record(
                    scope["path"], scope.get("path_template"), scope["method"], status, seconds
                )
                request_id.reset(token)

        return middleware


def observe_requests(app: ASGIApp, router: Litestar, *, access_log: bool = False) -> ASGIApp:
    """`app` inside the request-observing layer (see `RequestObserver`)."""
    return RequestObserver(router, access_log=access_log).wrap(app)


def _request_ids() -> Iterator[str]:
    """Unique ids without a syscall each: a random prefix per worker, then a counter."""
    prefix = secrets.token_hex(6)
    return (f"{prefix}-{n:x}" for n in count(1))


def _incoming_request_id(headers: Any) -> bytes | None:
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            return bytes(value)
    return None


async def flush_forever(router: Litestar, tally: RequestTally) -> None:
    while True:
        await asyncio.sleep(FLUSH_EVERY_S)
        tally.flush()
        state: LrsState | None = router.state.get("lrs")
        if state is not None:
            sample(state)


def sample(state: LrsState) -> None:
    """Write this worker's queue depth and pool use to their (per-process) gauges."""
    QUEUE.set(state.committer.queued_statements)
    size = state.pool.get_size()
    POOL_SIZE.set(size)
    POOL_IN_USE.set(size - state.pool.get_idle_size())
    POOL_MAX.set(state.pool.get_max_size())


def forget_dead_workers() -> None:
    """Drop the live gauges of workers that died without stopping (kill -9, OOM)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        if not alive(pid):
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
