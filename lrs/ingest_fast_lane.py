"""The ingest fast lane: POST and PUT /xapi/statements answered straight from ASGI.

Writing statements is the hot path, and the router's per-request machinery (route matching,
Request and Response objects, header data structures) cost about as much as validating and
committing a statement. This layer runs the same `store_statements` the Litestar routes run,
with the same error bodies, for the plain requests that make up ingest load. Anything else
goes on to the router: a cross-origin request (CORS headers are the router's), any query
parameter other than PUT's statementId, and every other method and path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from core.errors import BadRequest, HyperEduError, Overloaded, PayloadTooLarge
from lrs.metrics import count_rejection
from lrs.parameters import uuid_param
from lrs.state import LrsState
from lrs.statements import store_statements

log = logging.getLogger(__name__)

PATH = "/xapi/statements"
_encode = msgspec.json.Encoder().encode


def ingest_fast_lane(app: ASGIApp, lrs_state: Callable[[], LrsState | None]) -> ASGIApp:
    async def fast_lane(scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        state = lrs_state()
        if scope["type"] != "http" or scope["path"] != PATH or state is None:
            await app(scope, receive, send)
            return
        statement_id = _plain_write(method, scope)
        if statement_id is False:
            await app(scope, receive, send)
            return
        scope["path_template"] = PATH  # the route's name in metrics and traces, as Litestar's
        try:
            status, body = await _write(scope, receive, state, statement_id)
        except HyperEduError as exc:
            count_rejection(PATH, exc)
            await _respond_error(send, exc)
            return
        except Exception:
            log.exception("unhandled error on %s %s", method, PATH)
            await _respond(
                send, 500, _encode({"error": "InternalError", "message": "internal error"})
            )
            return
        await _respond(send, status, body)

    return fast_lane


def _plain_write(method: object, scope: Scope) -> str | bool | None:
    """None for a plain POST, the raw statementId for a plain PUT, False for anything else."""
    for name, _ in scope["headers"]:
        if name == b"origin":
            return False
    query = scope.get("query_string", b"")
    if method == "POST" and not query:
        return None
    if method == "PUT" and query:
        params = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        if len(params) == 1 and params[0][0] == "statementId":
            return params[0][1]
    return False


async def _write(
    scope: Scope, receive: Receive, state: LrsState, statement_id: str | None
) -> tuple[int, bytes]:
    authorization = content_type = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"content-type":
            content_type = value.decode("latin-1")
    credential = await state.credentials.authenticate(authorization)
    if statement_id is not None:
        statement_id = uuid_param("statementId", statement_id)
    body = await _read_body(receive, state.settings.max_body_bytes)
    ids = await store_statements(
        state,
        credential,
        version=str(scope.get("state", {}).get("xapi_version", "1.0.3")),
        content_type=content_type or "",
        body=body,
        statement_id=statement_id,
    )
    return (200, _encode(ids)) if statement_id is None else (204, b"")


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest("the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request bodies are limited to {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond_error(send: Send, exc: HyperEduError) -> None:
    headers = (
        [(b"retry-after", str(exc.retry_after).encode())] if isinstance(exc, Overloaded) else []
    )
    await _respond(send, exc.status, _encode(exc.to_body()), headers)


async def _respond(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})
