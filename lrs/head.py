"""HEAD on any xAPI resource: answered as its GET, headers kept, body dropped."""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from lrs.scope_types import HTTP


def head_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != HTTP or scope["method"] != "HEAD":
            await app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await app({**scope, "method": "GET"}, receive, send_headers_only)

    return middleware
