"""The alternate request syntax middleware (lrs/alternate_syntax.py), called directly."""

from __future__ import annotations

import asyncio
from typing import Any

from lrs.alternate_syntax import alternate_syntax_middleware


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/xapi/statements",
        "query_string": b"method=PUT",
        "headers": [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"x-experience-api-version", b"1.0.3"),
        ],
    }


def _run(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The scopes the wrapped app was called with, and what was sent back."""
    called: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []
    queue = list(messages)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(alternate_syntax_middleware(app)(_scope(), receive, send))  # type: ignore[arg-type]
    return called, sent


def test_a_form_cut_short_by_a_disconnect_is_not_acted_on() -> None:
    part = b"statementId=8f9c6a43-8c1e-4bfa-9d2e-6a1b7c2d3e4f&content=%7B%22actor%22"
    called, sent = _run(
        [
            {"type": "http.request", "body": part, "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    assert called == [] and sent == []


def test_a_whole_form_is_rewritten_into_the_request_it_stands_for() -> None:
    form = b"statementId=8f9c6a43-8c1e-4bfa-9d2e-6a1b7c2d3e4f&content=%7B%7D&Authorization=x"
    called, sent = _run([{"type": "http.request", "body": form, "more_body": False}])
    assert sent == []
    assert [s["method"] for s in called] == ["PUT"]
    assert b"statementId=8f9c6a43-8c1e-4bfa-9d2e-6a1b7c2d3e4f" in called[0]["query_string"]
