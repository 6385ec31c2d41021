"""`X-Experience-API-Consistent-Through` on every response of the Statements resource,
errors included: no statement stored before that instant is still on its way to the store.

Any path starting with the resource's gets it, a 404 for a mistyped one too (say
`/xapi/statementsverb=...`, a query whose `?` went missing): clients that wait for consistency
read the header off whatever the Statements URL answers, and give up when it is missing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ingest.accept import xapi_time
from lrs.scope_types import HTTP

HEADER = b"x-experience-api-consistent-through"


def consistent_through_middleware(app: ASGIApp, clock: Callable[[], datetime]) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != HTTP or "/xapi/statements" not in scope["path"]:
            await app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(name.lower() == HEADER for name, _ in headers):
                    headers.append((HEADER, xapi_time(clock()).encode()))
                    message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_header)

    return middleware
