"""The Statements resource, /xapi/statements: HTTP in, committed statements out."""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any

import msgspec
from litestar import Request, Response, get, post, put
from litestar.datastructures import MultiDict
from msgspec import UNSET

from core import tracing
from core.auth import Action, may_define, reads_only_own_statements, require
from core.errors import BadRequest, NotFound, ValidationError
from core.xapi.decode import decode_statements
from core.xapi.formats import parse_accept_language, to_canonical_format, to_ids_format
from core.xapi.models import Statement
from core.xapi.multipart import (
    PartHeaders,
    build_multipart_mixed,
    check_attachments_present,
    parse_multipart_request,
)
from core.xapi.validate import is_v2
from ingest.accept import V1_DEFAULT_VERSION, V2_DEFAULT_VERSION, accept_statements, xapi_time
from lrs.credentials import Credential
from lrs.parameters import (
    agent_key_param,
    bool_param,
    iri_param,
    reject_unknown,
    timestamp_param,
    uuid_param,
)
from lrs.partial_success import store_valid_statements
from lrs.state import LrsState, authenticate
from lrs.statement_attachments import verify_signatures
from lrs.statement_query import (
    StatementQuery,
    StoredStatement,
    decode_more_cursor,
    encode_more_cursor,
    fetch_attachments,
    fetch_one,
    run_query,
)
from lrs.versioning import V2

_GET_PARAMS = frozenset(
    {
        "statementId",
        "voidedStatementId",
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "format",
        "attachments",
        "ascending",
        "more",
    }
)
_SINGLE_PARAMS = frozenset({"statementId", "voidedStatementId", "format", "attachments"})
_FORMATS = ("exact", "ids", "canonical")

_encode = msgspec.json.Encoder().encode


def _version_of(request: Request[Any, Any, Any]) -> str:
    return str(request.scope.get("state", {}).get("xapi_version", "1.0.3"))


# --- writing -------------------------------------------------------------------------------


@post("/xapi/statements", status_code=200)
async def post_statements(request: Request[Any, Any, Any]) -> Response[bytes]:
    reject_unknown(request.query_params, frozenset({"partialSuccess"}))
    if bool_param(request.query_params, "partialSuccess"):
        return await _store_valid(request)
    ids = await _store(request, statement_id=None)
    return Response(_encode(ids), media_type="application/json", status_code=200)


async def _store_valid(request: Request[Any, Any, Any]) -> Response[bytes]:
    credential = await authenticate(request)
    require(credential.scopes, Action.WRITE_STATEMENTS)
    statements_json, parts, part_headers = split_body(
        request.headers.get("content-type", ""), await request.body()
    )
    result = await store_valid_statements(
        LrsState.of(request),
        credential,
        version=_version_of(request),
        statements_json=statements_json,
        parts=parts,
        part_headers=part_headers,
    )
    return Response(_encode(result), media_type="application/json", status_code=200)


@put("/xapi/statements", status_code=204)
async def put_statement(request: Request[Any, Any, Any]) -> None:
    reject_unknown(request.query_params, frozenset({"statementId"}))
    statement_id = request.query_params.get("statementId")
    if statement_id is None:
        raise BadRequest("PUT /statements requires the statementId parameter")
    await _store(request, statement_id=uuid_param("statementId", statement_id))


async def _store(request: Request[Any, Any, Any], statement_id: str | None) -> list[str]:
    return await store_statements(
        LrsState.of(request),
        await authenticate(request),
        version=_version_of(request),
        content_type=request.headers.get("content-type", ""),
        body=await request.body(),
        statement_id=statement_id,
    )


async def store_statements(
    state: LrsState,
    credential: Credential,
    *,
    version: str,
    content_type: str,
    body: bytes,
    statement_id: str | None,
) -> list[str]:
    """POST (statement_id None) or PUT one statement: validate, commit, return the ids.

    Framework-free, so the Litestar routes and the ingest fast lane share it."""
    require(credential.scopes, Action.WRITE_STATEMENTS)
    state.committer.admit()
    statements_json, parts, part_headers = split_body(content_type, body)
    statements = tracing.call("validate", decode_statements, statements_json, version)
    if statement_id is not None:
        statements = [_with_put_id(statements, statement_id)]
    credential.check_writes(statements)
    _reject_duplicate_ids(statements)
    check_attachments_present(statements, parts, part_headers)
    verify_signatures(statements, parts)
    return await accept_statements(
        state.committer,
        statements,
        authority=state.authority_for(credential),
        authority_key=credential.key,
        may_define=may_define(credential.scopes),
        default_version=V2_DEFAULT_VERSION if version == V2 else V1_DEFAULT_VERSION,
        utc_timestamps=version == V2,
        parts=parts,
    )


def split_body(
    content_type: str, body: bytes
) -> tuple[bytes, dict[str, bytes], dict[str, PartHeaders]]:
    """The statements' JSON, the attachment contents (by lower-case sha2) of a write, and what
    the attachment parts' headers declare."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "multipart/mixed":
        return parse_multipart_request(body, content_type)
    if media_type == "application/json":
        return body, {}, {}
    # Communication 1.5.1 (ADL XAPI-00127): a PUT or POST without one of the two is a 400.
    raise BadRequest(
        f"Content-Type must be application/json or multipart/mixed, not {media_type!r}"
        if media_type
        else "a Content-Type header is required: application/json or multipart/mixed"
    )


def _with_put_id(statements: list[Statement], statement_id: str) -> Statement:
    if len(statements) != 1:
        raise BadRequest("PUT /statements takes exactly one statement")
    statement = statements[0]
    if statement.id is UNSET:
        return msgspec.structs.replace(statement, id=statement_id)
    if statement.id.lower() != statement_id:
        raise BadRequest("the statement's id differs from the statementId parameter")
    return statement


def _reject_duplicate_ids(statements: list[Statement]) -> None:
    seen: set[str] = set()
    for i, statement in enumerate(statements):
        if statement.id is UNSET:
            continue
        key = statement.id.lower()  # validated as 8-4-4-4-12 hex
        if key in seen:
            raise ValidationError(
                "A batch MUST NOT contain two statements with the same id", f"$[{i}].id"
            )
        seen.add(key)


# --- reading -------------------------------------------------------------------------------


@get("/xapi/statements")
async def get_statements(request: Request[Any, Any, Any]) -> Response[bytes]:
    return await _read(request)


async def _read(request: Request[Any, Any, Any]) -> Response[bytes]:
    state = LrsState.of(request)
    credential = await authenticate(request)
    require(credential.scopes, Action.READ_STATEMENTS)
    mine = credential.key if reads_only_own_statements(credential.scopes) else None
    params = request.query_params
    reject_unknown(params, _GET_PARAMS)
    consistent = state.committer.consistent_through()
    headers = {"X-Experience-API-Consistent-Through": xapi_time(consistent)}
    if "statementId" in params or "voidedStatementId" in params:
        return await _read_one(request, state, params, mine, headers)
    if "more" in params:
        if len(params) != 1:
            raise BadRequest("'more' cannot be combined with other parameters")
        query = decode_more_cursor(params["more"])
    else:
        query = _parse_query(params, state.settings.statements_page_max, _version_of(request))
    page_size = min(
        query.limit or state.settings.statements_page_max, state.settings.statements_page_max
    )
    async with state.pool.acquire() as conn:
        found, more = await run_query(conn, query, page_size, mine)
        languages = parse_accept_language(request.headers.get("accept-language"))
        statements = b"[" + b",".join(_render(s, query.format, languages) for s in found) + b"]"
        more_url = (
            f"/xapi/statements?more={encode_more_cursor(query, found[-1].seq)}"
            if more and found
            else ""
        )
        result = b'{"statements":' + statements + b',"more":' + _encode(more_url) + b"}"
        if found:
            headers["Last-Modified"] = format_datetime(max(s.stored for s in found), usegmt=True)
        if query.attachments:
            return await _with_attachments(conn, result, found, headers)
    return Response(result, media_type="application/json", headers=headers)


async def _read_one(
    request: Request[Any, Any, Any],
    state: LrsState,
    params: MultiDict[str],
    mine: str | None,
    headers: dict[str, str],
) -> Response[bytes]:
    if "statementId" in params and "voidedStatementId" in params:
        raise BadRequest("statementId and voidedStatementId cannot be used together")
    extra = set(params.keys()) - _SINGLE_PARAMS
    if extra:
        raise BadRequest(
            f"statementId/voidedStatementId cannot be combined with {', '.join(sorted(extra))}"
        )
    voided = "voidedStatementId" in params
    name = "voidedStatementId" if voided else "statementId"
    statement_id = uuid_param(name, params[name])
    fmt = _format_param(params)
    attachments = bool_param(params, "attachments")
    async with state.pool.acquire() as conn:
        found = await fetch_one(conn, statement_id, voided=voided, mine=mine)
        if found is None:
            raise NotFound(f"no {'voided ' if voided else ''}statement with id {statement_id}")
        languages = parse_accept_language(request.headers.get("accept-language"))
        body = _render(found, fmt, languages)
        headers["Last-Modified"] = format_datetime(found.stored, usegmt=True)
        if attachments:
            return await _with_attachments(conn, body, [found], headers)
    return Response(body, media_type="application/json", headers=headers)


async def _with_attachments(
    conn: Any, result: bytes, found: list[StoredStatement], headers: dict[str, str]
) -> Response[bytes]:
    hashes = sorted({h for s in found for h in s.attachments or ()})
    parts = await fetch_attachments(conn, hashes) if hashes else []
    body, content_type = build_multipart_mixed(result, parts)
    return Response(body, media_type=content_type, headers=headers)


def _render(found: StoredStatement, fmt: str, languages: list[str]) -> bytes:
    if fmt == "exact":
        return found.body.encode()
    statement = msgspec.json.decode(found.body)
    if fmt == "ids":
        return _encode(to_ids_format(statement))
    return _encode(to_canonical_format(statement, languages))


def _format_param(params: MultiDict[str]) -> str:
    fmt = params.get("format", "exact")
    if fmt not in _FORMATS:
        raise BadRequest(f"format must be one of {', '.join(_FORMATS)}, not {fmt!r}")
    return fmt


def _parse_query(params: MultiDict[str], page_max: int, version: str) -> StatementQuery:
    limit_text = params.get("limit", "0")
    if not limit_text.isdigit():
        raise BadRequest("limit must be a non-negative integer")
    since = timestamp_param(params, "since", is_v2(version))
    until = timestamp_param(params, "until", is_v2(version))
    return StatementQuery(
        agent=agent_key_param(params.get("agent")),
        verb=iri_param(params, "verb"),
        activity=iri_param(params, "activity"),
        registration=(
            uuid_param("registration", params["registration"]) if "registration" in params else None
        ),
        related_activities=bool_param(params, "related_activities"),
        related_agents=bool_param(params, "related_agents"),
        since=since,
        until=until,
        limit=min(int(limit_text), page_max),
        format=_format_param(params),
        attachments=bool_param(params, "attachments"),
        ascending=bool_param(params, "ascending"),
    )
