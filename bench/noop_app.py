"""The no-op baseline: the same Granian + Litestar stack answering POST /xapi/statements
without doing anything, so single-statement results can be read as a ratio to it."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response, post


@post("/xapi/statements", status_code=200)
async def noop(request: Request[Any, Any, Any]) -> Response[bytes]:
    await request.body()
    return Response(b'["00000000-0000-0000-0000-000000000000"]', media_type="application/json")


app = Litestar([noop], openapi_config=None)
