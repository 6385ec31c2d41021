"""Probes for orchestrators, outside /xapi and unauthenticated: /healthz says the process
answers, /readyz that it can reach its database within a second."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from litestar import Request, Response, get

from lrs.state import LrsState

READY_TIMEOUT_S = 1.0


@get("/healthz")
async def healthz() -> Response[dict[str, str]]:
    return Response({"status": "ok"})


@get("/readyz")
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    state: LrsState | None = request.app.state.get("lrs")
    if state is None:
        return Response({"status": "starting"}, status_code=503)
    try:
        async with asyncio.timeout(READY_TIMEOUT_S):
            await state.pool.fetchval("SELECT 1")
    except TimeoutError:
        return Response({"status": "database did not answer within 1 s"}, status_code=503)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return Response({"status": f"database unreachable: {type(exc).__name__}"}, status_code=503)
    return Response({"status": "ok"})
