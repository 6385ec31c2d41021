"""The app `hyperedu serve` runs: Granian's RSGI interface in front of the ASGI stack.

RSGI is Granian's native interface: the request is a scope object and one protocol object
with a single call to answer, where ASGI builds a dict per request and per message and
awaits `receive` and `send` through the server's futures. On the ingest benchmark's machine
that is a quarter less server CPU for a bare request (see bench/README.md), and a single
statement's request is mostly that overhead. So plain statement writes are answered here,
through the RSGI door of the ingest fast lane; every other request crosses a small bridge
into the ASGI stack (`create_app`'s), whose lifespan runs as the worker starts and stops.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from time import perf_counter

from granian.asgi import LifespanProtocol

# granian.rsgi re-exports these under new names (`X as Y`), which mypy does not take as an
# explicit export; the names still resolve to their types.
from granian.rsgi import (  # type: ignore[attr-defined]
    HTTPProtocol,
    ProtocolClosed,
    ProtocolError,
    Scope,
    WebsocketProtocol,
)
from litestar.types import ASGIApp

from core.errors import BadRequest, PayloadTooLarge
from core.logging import request_id
from lrs import stop_signals
from lrs.ingest_fast_lane import PATH, answer_write, plain_write
from lrs.metrics import RequestObserver
from lrs.rsgi_bridge import bridge_http, bridge_websocket
from lrs.state import LrsState

log = logging.getLogger(__name__)


class RsgiFront:
    """One worker's app. `fast_lane` off (rate limiting or tracing on) sends every request
    across the bridge, where the limiter and the request spans are."""

    def __init__(
        self,
        app: ASGIApp,
        observer: RequestObserver,
        lrs_state: Callable[[], LrsState | None],
        *,
        fast_lane: bool,
    ) -> None:
        self._app = app
        self._observer = observer
        self._lrs_state = lrs_state
        self._fast_lane = fast_lane
        # Granian's lifespan runner has no annotations.
        self._lifespan = LifespanProtocol(app)  # type: ignore[no-untyped-call]

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self._lifespan.startup())  # type: ignore[no-untyped-call]
        if self._lifespan.interrupt:
            log.error("the app failed to start", exc_info=self._lifespan.exc)
            sys.exit(1)
        stop_signals.release_when_serving(loop)  # held since app_from_env

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.run_until_complete(self._lifespan.shutdown())  # type: ignore[no-untyped-call]

    async def __rsgi__(self, scope: Scope, protocol: HTTPProtocol | WebsocketProtocol) -> None:
        if scope.proto == "ws":
            assert isinstance(protocol, WebsocketProtocol)
            await bridge_websocket(self._app, scope, protocol, self._lifespan.state)
            return
        assert isinstance(protocol, HTTPProtocol)
        if self._fast_lane and scope.path == PATH:
            state = self._lrs_state()
            if state is not None:
                statement_id = plain_write(
                    scope.method, scope.query_string, "origin" in scope.headers
                )
                if statement_id is not False:
                    await self._write(scope, protocol, state, statement_id)
                    return
        await bridge_http(self._app, scope, protocol, self._lifespan.state)

    async def _write(
        self, scope: Scope, protocol: HTTPProtocol, state: LrsState, statement_id: str | None
    ) -> None:
        headers = scope.headers
        incoming = headers.get("x-request-id")
        rid = self._observer.request_id(incoming.encode() if incoming else None)
        token = request_id.set(rid)
        started = perf_counter()
        status = 500
        declared = headers.get("content-length")

        async def read_body(limit: int) -> bytes:
            return await _read_body(protocol, declared, limit)

        try:
            status, body, answer = await answer_write(state, statement_id, headers, read_body)
            answer.append(("x-request-id", rid))
            protocol.response_bytes(status, answer, body)
        finally:
            self._observer.record(PATH, PATH, scope.method, status, perf_counter() - started)
            request_id.reset(token)


async def _read_body(protocol: HTTPProtocol, declared: str | None, limit: int) -> bytes:
    """The whole body, refusing one over `limit` bytes before reading it if its length is
    declared (the server holds the body to that length), else as it streams in."""
    try:
        if declared is not None and declared.isdigit():
            if int(declared) > limit:
                raise PayloadTooLarge(f"request bodies are limited to {limit} bytes")
            return await protocol()
        chunks: list[bytes] = []
        size = 0
        async for chunk in protocol:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request bodies are limited to {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    except (ProtocolClosed, ProtocolError) as exc:
        raise BadRequest("the client went away before sending the whole body") from exc
