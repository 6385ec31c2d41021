"""Security headers on every response: no MIME sniffing, no framing, no referrer, and for
JSON (all the API answers) a Content-Security-Policy that allows nothing to load."""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from lrs.scope_types import HTTP

_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
# What this layer adds to an answer without a body and to a JSON one.
ALWAYS_HEADERS = tuple(_ALWAYS)
JSON_RESPONSE_HEADERS = (*_ALWAYS, _API_CSP)


def security_headers_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != HTTP:
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _ALWAYS if h[0] not in present)
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if b"json" in content_type and _API_CSP[0] not in present:
                    headers.append(_API_CSP)
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
