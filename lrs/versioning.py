"""The `X-Experience-API-Version` header: required on every xAPI request but About,
answered on every xAPI response with the version the response speaks."""

from __future__ import annotations

import re

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from lrs.scope_types import HTTP

V1 = "1.0.3"
V2 = "2.0.0"
SUPPORTED = (V1, V2)

_V1_REQUEST = re.compile(r"1\.0(\.\d+)?")
_V2_REQUEST = re.compile(r"2\.0(\.\d+)?")

HEADER = b"x-experience-api-version"

# The version a 400 for a missing or unsupported version header is answered in when the client
# has not spoken to this process before (see `SpokenVersions`).
REFUSAL_VERSION = V1


class SpokenVersions:
    """The version each client last spoke, so a 400 for a request without a version header
    (or with one we do not speak) is answered in the client's own version.

    The request names no version we speak, so the specifications leave the answer's version
    open, and the two ADL conformance suites want different ones on the very same request:
    the 1.0.3 suite requires 1.0.x (XAPI-00321), the 2.0 suite 2.0.0 (XAPI-00331). A client
    that forgot the header once is best answered in the version it speaks otherwise.

    Clients are told apart by a hash of their Authorization header (never the header itself:
    it holds a secret), per worker process and in memory only; the answer is a label on a
    refusal, so a collision or a forgotten client costs nothing but the default, 1.0.3."""

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._last: dict[int, str] = {}

    def heard(self, authorization: str | None, version: str) -> None:
        if authorization is None:
            return
        key = hash(authorization)
        if self._last.get(key) != version:
            if len(self._last) >= self._limit:
                self._last.clear()
            self._last[key] = version

    def refusal_version(self, authorization: str | None) -> str:
        if authorization is None:
            return REFUSAL_VERSION
        return self._last.get(hash(authorization), REFUSAL_VERSION)


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
