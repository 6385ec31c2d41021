"""POST /api/v1/cmi5/fetch/{token}: the one-time fetch URL of a cmi5 launch (cmi5 8.2).

It needs no other authentication: the token in the path is 256 random bits, stored only as
a digest, valid for `cmi5_fetch_seconds` after the launch, and redeemed once. The first POST
makes the AU's LRS credential (scopes `AU_SCOPES`, lasting `cmi5_session_hours`, unable to
void statements, bound to the launch's actor and registration: `lrs.credentials.Binding`)
and answers `{"auth-token": base64(key:secret)}`; later ones, and expired or unknown tokens,
answer the cmi5 error document. Every answer is 200, as cmi5 8.2.2 requires.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from litestar import Request, Response, Router, post

from lms.courses import store
from lms.courses.cmi5 import AU_SCOPES, au_binding, fetch_digest
from lrs.state import LrsState

log = logging.getLogger(__name__)

ALREADY_USED = "1"  # already in use or expired
SECURITY = "2"  # any other security problem, an unknown token among them
APPLICATION = "3"  # the LMS failed
_NO_STORE = {"Cache-Control": "no-store"}


@post("/fetch/{token:str}", status_code=200)
async def fetch_auth_token(request: Request[Any, Any, Any], token: str) -> Response[Any]:
    """The AU's authorization token, once per launch (cmi5 8.2)."""
    lrs = LrsState.of(request)
    digest = fetch_digest(token)
    async with lrs.pool.acquire() as conn:
        session = await store.redeem_fetch(conn, digest)
        if session is None:
            if await store.fetch_known(conn, digest):
                return _error(ALREADY_USED, "the auth-token was returned before, or expired")
            return _error(SECURITY, "this is not a fetch URL of a launch")
        expires = datetime.now(UTC) + timedelta(hours=lrs.settings.cmi5_session_hours)
        try:
            credential, secret = await lrs.credentials.create(
                AU_SCOPES,
                label=f"cmi5 session {session['session_id']}",
                expires=expires,
                may_void=False,
                bound=au_binding(
                    lrs.settings.base_url, session["learner"], session["registration"]
                ),
            )
            await store.set_session_credential(conn, session["session_id"], credential.key)
        except (asyncpg.PostgresError, OSError):
            log.exception("no credential for cmi5 session %s", session["session_id"])
            return _error(APPLICATION, "the LMS could not make the session's credential")
    auth_token = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    return Response({"auth-token": auth_token}, headers=_NO_STORE)


def _error(code: str, text: str) -> Response[Any]:
    return Response({"error-code": code, "error-text": text}, headers=_NO_STORE)


fetch_router = Router(path="/api/v1/cmi5", route_handlers=[fetch_auth_token], tags=["cmi5"])
