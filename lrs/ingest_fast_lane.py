"""The ingest fast lane: POST and PUT /xapi/statements answered straight from ASGI.

Writing statements is the hot path, and the router's per-request machinery (route matching,
Request and Response objects, header data structures) and the protocol layers around it
(each wrapping `send`) cost about as much as validating and committing a statement. This
layer sits outside them (inside only the metrics and tracing layers) and does for a plain
write what they would: the version header check, the response's version, consistent-through
and security headers, the same error bodies, then the same `store_statements` the Litestar
routes run. Anything else goes on down the stack: a cross-origin request (CORS headers are
the router's), any query parameter other than PUT's statementId (alternate request syntax
among them), and every other method and path. With rate limiting on, `create_app` does not
install this lane, so every write passes the limiter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from core.errors import BadRequest, HyperEduError, Overloaded, PayloadTooLarge
from ingest.accept import xapi_time
from lrs.consistency import HEADER as CONSISTENT_THROUGH_HEADER
from lrs.metrics import count_rejection
from lrs.parameters import uuid_param
from lrs.security_headers import ALWAYS_HEADERS, JSON_RESPONSE_HEADERS
from lrs.state import LrsState
from lrs.statements import store_statements
from lrs.versioning import HEADER as VERSION_HEADER
from lrs.versioning import V2, requested_version, response_version, version_problem

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
        requested = requested_version(scope)
        version = response_version(requested)
        protocol = [(VERSION_HEADER, (version or V2).encode())]
        try:
            if version is None:
                raise BadRequest(version_problem(requested))
            status, body = await _write(scope, receive, state, statement_id, version)
        except HyperEduError as exc:
            count_rejection(PATH, exc)
            status, body = exc.status, _encode(exc.to_body())
            if isinstance(exc, Overloaded):
                protocol.append((b"retry-after", str(exc.retry_after).encode()))
        except Exception:
            log.exception("unhandled error on %s %s", method, PATH)
            status, body = 500, _encode({"error": "InternalError", "message": "internal error"})
        protocol.append(
            (CONSISTENT_THROUGH_HEADER, xapi_time(state.committer.consistent_through()).encode())
        )
        await _respond(send, status, body, protocol)

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
    scope: Scope, receive: Receive, state: LrsState, statement_id: str | None, version: str
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
        version=version,
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


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    if body:
        headers.append((b"content-type", b"application/json"))
        headers.extend(JSON_RESPONSE_HEADERS)
    else:
        headers.extend(ALWAYS_HEADERS)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
