"""Operating the LRS over HTTP, for administrators: bulk export and import of statements,
and GDPR erasure of an agent. The CLI does the same (`hyperedu statements ...`,
`hyperedu agents erase`); see `lrs/export.py`, `lrs/bulk_import.py`, `lrs/erasure.py`.

| endpoint                                         |                                            |
|--------------------------------------------------|--------------------------------------------|
| `GET /api/v1/admin/statements/export`            | `since`, `until`, `format=ndjson|csv`: a streamed download |
| `POST /api/v1/admin/statements/import`           | an NDJSON body (up to `MAX_IMPORT_BYTES`); `partialSuccess=true` skips invalid lines; `batch` |
| `POST /api/v1/admin/agents/erase`                | `{"agent": {...}, "mode": "delete"|"pseudonymise"}` |

Only a person with the admin role, holding a token with scope `all`, may call them: like the
rest of /api/v1/admin, a tool's LRS credential is refused whatever its scopes, since these
reach every learner's data at once.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.response import Stream

from core.auth import Action, may_define, require
from core.errors import BadRequest, Forbidden
from lms.iam.access import identify, principal_of
from lms.iam.roles import Role
from lms.iam.state import IamState
from lrs.bulk_import import DEFAULT_BATCH, ImportAuthority, import_statements, ndjson_lines
from lrs.erasure import ErasureMode, erase_agent
from lrs.export import FORMATS, MEDIA_TYPES, export_statements
from lrs.parameters import bool_param, parse_actor_param, reject_unknown, timestamp_param
from lrs.state import LrsState, authenticate

# An import over HTTP holds a worker for its duration; larger files belong to the CLI.
MAX_IMPORT_BYTES = 256 * 1024 * 1024
MAX_BATCH = 10_000


class EraseRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    agent: dict[str, Any]
    mode: ErasureMode = ErasureMode.DELETE


async def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = await identify(IamState.of(connection), connection.headers.get("authorization"))
    if Role.ADMIN not in principal.roles:
        raise Forbidden("only an administrator may do this")
    require(principal.scopes, Action.ADMIN)
    connection.scope["hyperedu_principal"] = principal  # type: ignore[typeddict-unknown-key]


@get("/statements/export")
async def export(request: Request[Any, Any, Any]) -> Stream:
    params = request.query_params
    reject_unknown(params, ("since", "until", "format"))
    fmt = params.get("format", "ndjson")
    if fmt not in FORMATS:
        raise BadRequest(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    chunks = export_statements(
        LrsState.of(request).pool,
        since=timestamp_param(params, "since"),
        until=timestamp_param(params, "until"),
        fmt=fmt,
    )
    return Stream(
        chunks,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="statements.{fmt}"'},
    )


@post("/statements/import", status_code=200, request_max_body_size=MAX_IMPORT_BYTES)
async def import_(request: Request[Any, Any, Any]) -> Response[dict[str, object]]:
    params = request.query_params
    reject_unknown(params, ("partialSuccess", "batch"))
    batch = params.get("batch", str(DEFAULT_BATCH))
    if not batch.isdigit() or not 1 <= int(batch) <= MAX_BATCH:
        raise BadRequest(f"batch must be an integer from 1 to {MAX_BATCH}")
    state = LrsState.of(request)
    credential = await authenticate(request)
    report = await import_statements(
        state.committer,
        ndjson_lines(request.stream()),
        authority=ImportAuthority(
            state.authority_for(credential), credential.key, may_define(credential.scopes)
        ),
        partial=bool_param(params, "partialSuccess"),
        batch_size=int(batch),
    )
    return Response(report.to_dict(), status_code=400 if report.stopped else 200)


@post("/agents/erase", status_code=200)
async def erase(request: Request[Any, Any, Any]) -> dict[str, object]:
    try:
        wanted = msgspec.json.decode(await request.body(), type=EraseRequest)
    except msgspec.MsgspecError as exc:
        raise BadRequest(f"invalid request body: {exc}") from None
    agent = parse_actor_param(msgspec.json.encode(wanted.agent).decode(), "agent")
    state = LrsState.of(request)
    principal = principal_of(request)
    report = await erase_agent(
        state.pool,
        agent,
        mode=wanted.mode,
        requested_by=_who(principal.kind, principal.subject),
        server_key=bytes.fromhex(state.settings.secret_key),
        base_url=state.settings.base_url,
    )
    return report.to_dict()


def _who(kind: str, subject: str) -> str:
    return subject if subject.startswith(kind + ":") else f"{kind}:{subject}"


admin_router = Router(
    path="/api/v1/admin", route_handlers=[export, import_, erase], guards=[admin_only]
)
