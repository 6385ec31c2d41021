"""xAPI 1.0.3 alternate request syntax: `POST ...?method=PUT` with an HTML-form body that
carries the headers, the parameters and the `content`. It is turned into the request it
stands for before routing, so every resource handles it without knowing.

xAPI 2.0 (IEEE 9274.1.1) removed the syntax, so a 2.0 request (by its header, or by the
version field of its form) with a `method` query parameter is a 400."""

from __future__ import annotations

from typing import cast
from urllib.parse import parse_qsl, urlencode

from litestar.types import ASGIApp, HTTPReceiveMessage, Receive, Scope, Send

from lrs.scope_types import HTTP
from lrs.versioning import V2, requested_version, response_version, send_bad_request

_METHODS = {"GET", "HEAD", "PUT", "POST", "DELETE"}
_HEADER_FIELDS = {
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
}
FORM_MAX_BYTES = 16 * 1024 * 1024
REMOVED_IN_2_0 = (
    "alternate request syntax (a 'method' query parameter) is not part of xAPI 2.0: "
    "IEEE 9274.1.1 removed it; send the request with its own method and headers"
)


def alternate_syntax_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != HTTP
            or not scope["path"].startswith("/xapi")
            or b"method=" not in scope.get("query_string", b"")
        ):
            await app(scope, receive, send)
            return
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if _speaks_2_0(scope) and any(name == "method" for name, _ in query):
            await send_bad_request(send, REMOVED_IN_2_0, version=V2)
            return
        if scope["method"] != "POST":
            await app(scope, receive, send)
            return
        problem, new_scope, body = None, None, b""
        if len(query) != 1 or query[0][0] != "method":
            problem = "with alternate request syntax, 'method' must be the only query parameter"
        elif query[0][1].upper() not in _METHODS:
            problem = f"alternate request syntax: unsupported method {query[0][1]!r}"
        else:
            try:
                raw = await _read_body(receive)
            except _ClientGone:
                return  # nothing of a form cut short is acted on, and no one is left to answer
            if raw is None:
                problem = "alternate request syntax: the form is too large"
            else:
                problem, new_scope, body = _rewrite(scope, query[0][1].upper(), raw)
        if new_scope is not None and _speaks_2_0(new_scope):
            await send_bad_request(send, REMOVED_IN_2_0, version=V2)
            return
        if problem is not None or new_scope is None:
            await send_bad_request(send, problem or "malformed alternate request")
            return
        await app(new_scope, _replay(body), send)

    return middleware


def _speaks_2_0(scope: Scope) -> bool:
    return response_version(requested_version(scope)) == V2


def _rewrite(scope: Scope, method: str, raw: bytes) -> tuple[str | None, Scope | None, bytes]:
    content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        return (
            "alternate request syntax requires Content-Type application/x-www-form-urlencoded",
            None,
            b"",
        )
    try:
        form = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return "alternate request syntax: the form is not UTF-8", None, b""
    headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
    params: list[tuple[str, str]] = []
    content = b""
    for name, value in form:
        lname = name.lower()
        if lname == "content":
            content = value.encode("utf-8")
        elif lname in _HEADER_FIELDS:
            if lname != "content-length":
                headers = [(k, v) for k, v in headers if k != lname.encode()]
                headers.append((lname.encode(), value.encode("latin-1", "replace")))
        else:
            params.append((name, value))
    if content and not any(k == b"content-type" for k, _ in headers):
        headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(content)).encode()))
    new_scope = dict(scope)
    new_scope.update(
        method=method,
        headers=headers,
        query_string=urlencode(params).encode(),
    )
    return None, new_scope, content  # type: ignore[return-value]


class _ClientGone(Exception):
    """The client disconnected before the end of its form."""


async def _read_body(receive: Receive) -> bytes | None:
    """The whole form, or None when it is too large."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = cast(bytes, message.get("body", b""))
        size += len(chunk)
        if size > FORM_MAX_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> HTTPReceiveMessage:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
