"""The ingest fast lane: plain POST and PUT /xapi/statements answered at the server's edge.

Writing statements is the hot path, and the router's per-request machinery (route matching,
Request and Response objects, header data structures) and the protocol layers around it
(each wrapping `send`) cost about as much as validating and committing a statement. The lane
sits outside them and does for a plain write what they would: the version header check, the
response's version, consistent-through and security headers, the same error bodies, then the
same `store_statements` the Litestar routes run. Anything else goes on down the stack: a
cross-origin request (CORS headers are the router's), any query parameter other than PUT's
statementId (alternate request syntax among them), and every other method and path.

`answer_write` is the lane itself, free of any server interface; two doors lead to it: RSGI
(`lrs.rsgi_front`, what `hyperedu serve` runs: Granian's native interface costs less per
request than ASGI) and ASGI (`ingest_fast_lane`, for the app served or tested as ASGI).
With rate limiting on, neither door is installed, so every write passes the limiter.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol
from urllib.parse import parse_qsl

import msgspec
from litestar.types import ASGIApp, HTTPReceiveMessage, Receive, Scope, Send

from core.errors import BadRequest, HyperEduError, PayloadTooLarge
from ingest.accept import xapi_time
from ingest.postgres import UNAVAILABLE, database_unavailable
from lrs.consistency import HEADER as CONSISTENT_THROUGH_HEADER
from lrs.metrics import count_rejection
from lrs.parameters import uuid_param
from lrs.scope_types import HTTP
from lrs.security_headers import ALWAYS_HEADERS, JSON_RESPONSE_HEADERS
from lrs.state import LrsState
from lrs.statements import store_statements
from lrs.versioning import HEADER as VERSION_HEADER
from lrs.versioning import response_version, version_problem

log = logging.getLogger(__name__)

PATH = "/xapi/statements"
Headers = list[tuple[str, str]]
ReadBody = Callable[[int], Awaitable[bytes]]  # reads the whole body, refusing more than N bytes


class RequestHeaders(Protocol):
    """A request's headers by lower-case name: a dict, or Granian's RSGI headers."""

    def get(self, key: str, default: None = None) -> str | None: ...


_encode = msgspec.json.Encoder().encode
_VERSION = VERSION_HEADER.decode()
_CONSISTENT_THROUGH = CONSISTENT_THROUGH_HEADER.decode()
_EMPTY_HEADERS = [(n.decode(), v.decode()) for n, v in ALWAYS_HEADERS]
_JSON_HEADERS = [("content-type", "application/json")] + [
    (n.decode(), v.decode()) for n, v in JSON_RESPONSE_HEADERS
]


def plain_write(method: str, query: str, has_origin: bool) -> str | Literal[False] | None:
    """None for a plain POST, the raw statementId for a plain PUT, False for anything else."""
    if has_origin:
        return False
    if method == "POST" and not query:
        return None
    if method == "PUT" and query:
        params = parse_qsl(query, keep_blank_values=True)
        if len(params) == 1 and params[0][0] == "statementId":
            return params[0][1]
    return False


async def answer_write(
    state: LrsState, statement_id: str | None, request: RequestHeaders, read_body: ReadBody
) -> tuple[int, bytes, Headers]:
    """Status, body and headers (lower-case names; no content-length) of a plain write."""
    requested_version = request.get(_VERSION)
    version = response_version(requested_version)
    authorization = request.get("authorization")
    if version is None:
        headers = [(_VERSION, state.versions.refusal_version(authorization))]
    else:
        headers = [(_VERSION, version)]
        state.versions.heard(authorization, version)
    try:
        if version is None:
            raise BadRequest(version_problem(requested_version))
        credential = await state.credentials.authenticate(authorization)
        if statement_id is not None:
            statement_id = uuid_param("statementId", statement_id)
        ids = await store_statements(
            state,
            credential,
            version=version,
            content_type=request.get("content-type") or "",
            body=await read_body(state.settings.max_body_bytes),
            statement_id=statement_id,
        )
        status, body = (200, _encode(ids)) if statement_id is None else (204, b"")
    except (HyperEduError, *UNAVAILABLE) as exc:
        if not isinstance(exc, HyperEduError):
            log.warning("database unavailable on a write to %s: %r", PATH, exc)
            exc = database_unavailable()
        count_rejection(PATH, exc)
        status, body = exc.status, _encode(exc.to_body())
        headers.extend(exc.headers().items())
    except Exception:
        log.exception("unhandled error on a write to %s", PATH)
        status, body = 500, _encode({"error": "InternalError", "message": "internal error"})
    headers.append((_CONSISTENT_THROUGH, xapi_time(state.committer.consistent_through())))
    headers.extend(_JSON_HEADERS if body else _EMPTY_HEADERS)
    return status, body, headers


def ingest_fast_lane(app: ASGIApp, lrs_state: Callable[[], LrsState | None]) -> ASGIApp:
    """The ASGI door to the lane, in front of `app`."""

    async def fast_lane(scope: Scope, receive: Receive, send: Send) -> None:
        state = lrs_state()
        if scope["type"] != HTTP or scope["path"] != PATH or state is None:
            await app(scope, receive, send)
            return
        fields = {n.decode("latin-1"): v.decode("latin-1") for n, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        statement_id = plain_write(scope["method"], query, "origin" in fields)
        if statement_id is False:
            await app(scope, receive, send)
            return
        scope["path_template"] = PATH  # the route's name in metrics and traces, as Litestar's

        async def read_body(limit: int) -> bytes:
            return await _read_asgi_body(receive, limit)

        status, body, headers = await answer_write(state, statement_id, fields, read_body)
        encoded = [(n.encode(), v.encode("latin-1")) for n, v in headers]
        encoded.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": encoded})
        # ASGI's more_body defaults to False; Litestar's type wants it said.
        await send({"type": "http.response.body", "body": body})  # type: ignore[arg-type]

    return fast_lane


async def _read_asgi_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        # An http scope's receive gives HTTP messages only; Litestar's Receive is typed for both.
        message: HTTPReceiveMessage = await receive()  # type: ignore[assignment]
        if message["type"] == "http.disconnect":
            raise BadRequest("the client went away before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request bodies are limited to {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
