"""The `X-Experience-API-Version` header: required on every xAPI request but About,
answered on every xAPI response with the version the response speaks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from lrs.scope_types import HTTP

if TYPE_CHECKING:
    from lrs.spoken_versions import SpokenVersions

V1 = "1.0.3"
V2 = "2.0.0"
SUPPORTED = (V1, V2)

_V1_REQUEST = re.compile(r"1\.0(\.\d+)?")
_V2_REQUEST = re.compile(r"2\.0(\.\d+)?")

HEADER = b"x-experience-api-version"


def response_version(requested: str | None) -> str | None:
    """The version we answer a request made with `requested` in, or None if unsupported.

    Any 1.0.x is answered as 1.0.3 (authoring tools in the field still send 1.0.2)."""
    if requested is None:
        return None
    requested = requested.strip()
    if _V1_REQUEST.fullmatch(requested):
        return V1
    if _V2_REQUEST.fullmatch(requested):
        return V2
    return None


def requested_version(scope: Scope) -> str | None:
    return _header(scope, HEADER)


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return value.decode("latin-1")
    return None


def version_problem(requested: str | None) -> str:
    """Why a request with `requested` (a version `response_version` refused) is a 400."""
    if requested is None:
        return "the X-Experience-API-Version header is required"
    return f"unsupported X-Experience-API-Version {requested!r}; supported: 1.0.x, 2.0.0"


def version_middleware(app: ASGIApp, spoken: SpokenVersions) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != HTTP or not scope["path"].startswith("/xapi"):
            await app(scope, receive, send)
            return
        requested = requested_version(scope)
        version = response_version(requested)
        exempt = scope["method"] == "OPTIONS" or scope["path"].rstrip("/") == "/xapi/about"
        if version is None and not exempt:
            refusal = spoken.refusal_version(_header(scope, b"authorization"))
            await send_bad_request(send, version_problem(requested), version=refusal)
            return
        if version is not None:
            spoken.heard(_header(scope, b"authorization"), version)
        answered = (version or V1).encode()
        scope.setdefault("state", {})["xapi_version"] = version or V1

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0].lower() != HEADER]
                headers.append((HEADER, answered))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_version)

    return middleware


async def send_bad_request(send: Send, message: str, *, version: str = V1) -> None:
    """A 400 answered straight from ASGI middleware, before any route runs."""
    body = msgspec.json.encode({"error": "BadRequest", "message": message})
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (HEADER, version.encode()),
            ],
        }
    )
    # ASGI's more_body defaults to False; Litestar's type wants it said.
    await send({"type": "http.response.body", "body": body})  # type: ignore[arg-type]
