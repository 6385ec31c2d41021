"""Requests the RSGI front does not answer itself, handed to the ASGI app: an RSGI scope and
protocol made into an ASGI scope, `receive` and `send`, for HTTP and for WebSocket."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

# granian.rsgi re-exports these under new names (`X as Y`), which mypy does not take as an
# explicit export; the names still resolve to their types.
from granian.rsgi import (  # type: ignore[attr-defined]
    HTTPProtocol,
    ProtocolClosed,
    ProtocolError,
    Scope,
    WebsocketMessageType,
    WebsocketProtocol,
)
from litestar.types import ASGIApp, Message, ReceiveMessage
from litestar.types import Scope as AsgiScope

if TYPE_CHECKING:
    from granian._granian import RSGIHTTPStreamTransport, RSGIWebsocketTransport

log = logging.getLogger(__name__)

_ASGI = {"version": "3.0", "spec_version": "2.3"}
_INTERNAL_ERROR = b'{"error":"InternalError","message":"internal error"}'
# A body declared no longer than this is read in one call; a longer one (or one of unknown
# length) is handed over as it streams in, so that each layer's own size bound (a route's
# request_max_body_size, the alternate syntax's form limit) refuses it before it is all read.
_WHOLE_BODY_MAX = 1024 * 1024


async def bridge_http(
    app: ASGIApp, scope: Scope, protocol: HTTPProtocol, state: dict[str, Any]
) -> None:
    exchange = _Exchange(protocol, scope.headers.get("content-length"))
    try:
        asgi_scope = cast(AsgiScope, _asgi_scope("http", scope, state))
        await app(asgi_scope, exchange.receive, exchange.send)
    except Exception:
        log.exception("unhandled error on %s %s", scope.method, scope.path)
    exchange.finish()


async def bridge_websocket(
    app: ASGIApp, scope: Scope, protocol: WebsocketProtocol, state: dict[str, Any]
) -> None:
    socket = _Socket(protocol)
    asgi_scope = _asgi_scope("websocket", scope, state)
    del asgi_scope["method"]  # a WebSocket scope has none (and Litestar routes by it if set)
    asgi_scope["scheme"] = "wss" if scope.scheme == "https" else "ws"
    offered = scope.headers.get("sec-websocket-protocol")
    asgi_scope["subprotocols"] = [p.strip() for p in offered.split(",")] if offered else []
    try:
        await app(cast(AsgiScope, asgi_scope), socket.receive, socket.send)
    except Exception:
        log.exception("unhandled error on WebSocket %s", scope.path)
    socket.finish()


def _asgi_scope(kind: str, scope: Scope, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "asgi": _ASGI,
        "http_version": scope.http_version,
        "server": _address(scope.server),
        "client": _address(scope.client),
        "scheme": scope.scheme,
        "method": scope.method,
        "root_path": "",
        "path": scope.path,
        "query_string": scope.query_string.encode(),
        "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in scope.headers.items()],
        "state": state.copy(),
    }


def _address(address: str) -> tuple[str, int] | None:
    host, _, port = address.rpartition(":")
    return (host.strip("[]"), int(port)) if port.isdigit() else None


class _Exchange:
    """One request's ASGI `receive` and `send` over its RSGI protocol.

    `receive` gives the body (in one message when it is declared short, else as it streams
    in), then waits for the client to go away or the response to end, and says
    "http.disconnect" (as ASGI servers do: a streaming response listens for it to finish).
    `send` sends a response with one body message whole, and streams one with more."""

    __slots__ = (
        "_chunks",
        "_done",
        "_ended",
        "_headers",
        "_protocol",
        "_read",
        "_status",
        "_stream",
        "_whole",
    )

    def __init__(self, protocol: HTTPProtocol, declared: str | None) -> None:
        self._protocol = protocol
        self._whole = (
            declared is not None and declared.isdigit() and int(declared) <= _WHOLE_BODY_MAX
        )
        self._chunks: AsyncIterator[bytes] | None = None
        self._read = False
        self._status: int | None = None
        self._headers: list[tuple[str, str]] = []
        self._stream: RSGIHTTPStreamTransport | None = None
        self._done = False
        self._ended: asyncio.Future[None] | None = None

    async def receive(self) -> ReceiveMessage:
        if self._read:
            await self._disconnect()
            return {"type": "http.disconnect"}
        try:
            if self._whole:
                self._read = True
                return {"type": "http.request", "body": await self._protocol(), "more_body": False}
            if self._chunks is None:
                self._chunks = self._protocol.__aiter__()
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._read = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}
        except (ProtocolClosed, ProtocolError):
            self._read = True
            return {"type": "http.disconnect"}

    async def _disconnect(self) -> None:
        """Until the client goes away or the response has ended."""
        if self._done:
            return
        self._ended = asyncio.get_running_loop().create_future()
        gone = asyncio.ensure_future(self._protocol.client_disconnect())
        try:
            await asyncio.wait((gone, self._ended), return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._status = message["status"]
            self._headers = [
                (n.decode("latin-1"), v.decode("latin-1")) for n, v in message.get("headers", ())
            ]
        elif (
            message["type"] == "http.response.body" and not self._done and self._status is not None
        ):
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if self._stream is None and not more:
                self._protocol.response_bytes(self._status, self._headers, body)
                self._end()
                return
            if self._stream is None:
                self._stream = self._protocol.response_stream(self._status, self._headers)
            if body:
                try:
                    await self._stream.send_bytes(body)
                except (ProtocolClosed, ProtocolError):
                    more = False  # the client went away: nobody to tell
            if not more:
                self._end()

    def _end(self) -> None:
        self._done = True
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)

    def finish(self) -> None:
        """After the app returned (or raised): answer if it never did."""
        if self._done or self._stream is not None:
            return
        if self._status is None:
            headers = [("content-type", "application/json")]
            self._protocol.response_bytes(500, headers, _INTERNAL_ERROR)
        else:
            self._protocol.response_bytes(self._status, self._headers, b"")


class _Socket:
    """One WebSocket's ASGI `receive` and `send` over its RSGI protocol."""

    __slots__ = ("_closed", "_connected", "_protocol", "_transport")

    def __init__(self, protocol: WebsocketProtocol) -> None:
        self._protocol = protocol
        self._transport: RSGIWebsocketTransport | None = None
        self._connected = False
        self._closed = False

    async def receive(self) -> ReceiveMessage:
        if not self._connected:
            self._connected = True
            return {"type": "websocket.connect"}
        if self._transport is None or self._closed:
            return {"type": "websocket.disconnect", "code": 1006}
        try:
            message = await self._transport.receive()
        except (ProtocolClosed, ProtocolError):
            message = None
        if message is None or message.kind == WebsocketMessageType.close:
            self._closed = True
            return {"type": "websocket.disconnect", "code": 1000 if message else 1006}
        # ASGI leaves out the key not sent, where Litestar's type wants both; and Granian types
        # `data` as bytes or str whatever the kind.
        if message.kind == WebsocketMessageType.bytes:
            return {"type": "websocket.receive", "bytes": message.data}  # type: ignore[return-value]
        return {"type": "websocket.receive", "text": message.data}  # type: ignore[return-value]

    async def send(self, message: Message) -> None:
        if message["type"] == "websocket.accept":
            self._transport = await self._protocol.accept()
        elif message["type"] == "websocket.close":
            self._close(message.get("code", 1000))
        elif message["type"] == "websocket.send":
            if self._transport is None or self._closed:
                raise OSError("the WebSocket is not open")
            try:
                data = message.get("bytes")
                if data is not None:
                    await self._transport.send_bytes(data)
                else:
                    # ASGI: a message that carries no bytes carries text.
                    await self._transport.send_str(cast(str, message["text"]))
            except (ProtocolClosed, ProtocolError) as exc:
                self._closed = True
                raise OSError("the WebSocket closed") from exc

    def _close(self, code: int) -> None:
        """Close with `code`; before the handshake is accepted, refuse it: HTTP 403 (as ASGI
        says), since Granian takes the code as the handshake's status."""
        if not self._closed:
            self._closed = True
            self._protocol.close(code if self._transport is not None else 403)

    def finish(self) -> None:
        """After the app returned: close the socket if it did not."""
        self._close(1000)
