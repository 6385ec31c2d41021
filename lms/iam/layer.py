"""The one ASGI layer identity and hardening add around the LRS: security headers outermost,
then rate limiting; and when the app has started, the IAM state beside the LRS state."""

from __future__ import annotations

import logging
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.config import Settings
from lms.iam.state import start_iam
from lrs.ratelimit import FILE_NAME as RATE_LIMIT_FILE_NAME
from lrs.ratelimit import rate_limit_middleware
from lrs.security_headers import security_headers_middleware

log = logging.getLogger(__name__)


def iam_layer(app: ASGIApp, app_state: Any, settings: Settings) -> ASGIApp:
    """`app_state` is the Litestar app's state, where its lifespan puts the LRS state."""
    return security_headers_middleware(
        rate_limit_middleware(
            _start_with_app(app, app_state),
            settings.rate_limit_per_s,
            settings.rate_limit_burst,
            settings.data_path / RATE_LIMIT_FILE_NAME if settings.workers > 1 else None,
        )
    )


def _start_with_app(app: ASGIApp, app_state: Any) -> ASGIApp:
    # Litestar's Scope and Message types leave out the lifespan ones this layer waits for.
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return

        async def send_after_start(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":  # type: ignore[comparison-overlap]
                try:
                    await start_iam(app_state)
                except Exception as exc:
                    log.exception("identity and access management failed to start")
                    message = {"type": "lifespan.startup.failed", "message": str(exc)}
            await send(message)

        await app(scope, receive, send_after_start)

    return middleware
