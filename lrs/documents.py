"""The Document Resources' one implementation: State, Activity Profile and Agent Profile
(xAPI 1.0.3 Communication 2.2, 2.3, 2.6, 2.7 and 3.1; IEEE 9274.1.1 (xAPI 2.0) 4.1.4, 4.1.6).

The three differ only in the parameters that name a collection of documents, the name of the
document id parameter, their scopes, whether a collection may be deleted at once, and (by
version) whether a PUT over an existing document needs a precondition header. A
`DocumentResource` says that much; `document_routes` makes its four handlers.

Every write runs in one transaction holding an advisory lock on the document's key, so the
precondition check and the write it guards cannot interleave with another writer.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.datastructures import MultiDict
from litestar.handlers import HTTPRouteHandler

from core.auth import Action, require
from core.cmi5 import LAUNCH_DATA
from core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
)
from core.xapi.validate import is_v2
from lrs.parameters import agent_key_param, iri_param, reject_unknown, timestamp_param, uuid_param
from lrs.state import LrsState, authenticate

DEFAULT_CONTENT_TYPE = "application/octet-stream"
JSON = "application/json"

# Advisory-lock class of document writes (the two-int form never meets the migrator's lock).
_LOCK_CLASS = 0x444F43  # "DOC"

_encode = msgspec.json.Encoder().encode


class Kind(enum.StrEnum):
    STATE = "state"
    ACTIVITY_PROFILE = "activity_profile"
    AGENT_PROFILE = "agent_profile"


@dataclass(frozen=True)
class DocumentResource:
    kind: Kind
    path: str
    id_param: str
    context_params: tuple[str, ...]  # required, in the order error messages name them
    optional_params: tuple[str, ...]  # e.g. registration
    read_action: Action
    write_action: Action
    # Versions in which a PUT without If-Match/If-None-Match over an existing document is 409.
    put_guarded_in: frozenset[str]
    # Versions in which such a PUT is refused (400) when there is no document yet either: the
    # client MUST send one of the two (1.0.3 Communication 3.1, Activity and Agent Profile).
    put_precondition_required_in: frozenset[str]
    # Whether DELETE without the id parameter deletes the whole collection (State only).
    deletes_collections: bool


@dataclass(frozen=True)
class Collection:
    """The documents named by a request's context parameters.

    `registration` None means "not given": a single document is then the one stored without a
    registration, while listing and deleting a collection span every registration."""

    kind: Kind
    activity: str = ""
    agent: str = ""
    registration: str | None = None

    def key(self, doc_id: str) -> tuple[str, str, str, str, str]:
        return (self.kind.value, self.activity, self.agent, self.registration or "", doc_id)


@dataclass(frozen=True)
class StoredDocument:
    content: bytes
    content_type: str
    etag: str
    updated: datetime


# --- routes --------------------------------------------------------------------------------


def document_routes(resource: DocumentResource) -> list[HTTPRouteHandler]:
    """GET, PUT, POST and DELETE of `resource.path`."""

    @get(resource.path)
    async def get_document(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await read(request, resource)

    @put(resource.path, status_code=204)
    async def put_document(request: Request[Any, Any, Any]) -> Response[None]:
        return await write(request, resource, merge=False)

    @post(resource.path, status_code=204)
    async def post_document(request: Request[Any, Any, Any]) -> Response[None]:
        return await write(request, resource, merge=True)

    @delete(resource.path, status_code=204)
    async def delete_document(request: Request[Any, Any, Any]) -> Response[None]:
        return await remove(request, resource)

    return [get_document, put_document, post_document, delete_document]


async def read(request: Request[Any, Any, Any], resource: DocumentResource) -> Response[bytes]:
    state = await _authorized(request, resource.read_action)
    params = request.query_params
    reject_unknown(params, _allowed(resource, "since"))
    collection, doc_id = parse_target(resource, params, id_required=False)
    since = timestamp_param(params, "since", is_v2(_version(request)))
    if doc_id is None:
        async with state.pool.acquire() as conn:
            ids, latest = await list_ids(conn, collection, since)
        body = _encode(ids)
        # 2.0 4.1.4: "An LRS responding to a GET request shall add an ETag HTTP header", for
        # a list of ids too: the SHA-1 of the list, as for a document.
        headers = {"ETag": f'"{hashlib.sha1(body).hexdigest()}"'}
        if latest:
            headers["Last-Modified"] = _http_date(latest)
        return Response(body, media_type=JSON, headers=headers)
    if since is not None:
        raise BadRequest(f"since applies only to a list of ids, not with {resource.id_param}")
    async with state.pool.acquire() as conn:
        found = await fetch(conn, collection.key(doc_id))
    if found is None:
        raise NotFound(f"no document with {resource.id_param} {doc_id!r} here")
    # Set explicitly: given only a media type, Litestar would add a charset to text/* types.
    headers = {**_validators(found), "Content-Type": found.content_type}
    return Response(found.content, media_type=found.content_type, headers=headers)


async def write(
    request: Request[Any, Any, Any], resource: DocumentResource, *, merge: bool
) -> Response[None]:
    """PUT (`merge` False) replaces; POST merges JSON objects, or stores when nothing is there."""
    state = await _authorized(request, resource.write_action)
    reject_unknown(request.query_params, _allowed(resource))
    collection, doc_id = parse_target(resource, request.query_params, id_required=True)
    assert doc_id is not None
    await _check_own_state(request, resource, collection, doc_id)
    content = await request.body()
    _check_size(content, state.settings.max_document_bytes)
    content_type = request.headers.get("content-type") or DEFAULT_CONTENT_TYPE
    conditions = Preconditions.of(request.headers)
    key = collection.key(doc_id)
    async with state.pool.acquire() as conn, conn.transaction():
        await _lock(conn, key)
        current = await fetch(conn, key)
        conditions.check(current)
        if not merge and conditions.absent:
            if current is not None and _version(request) in resource.put_guarded_in:
                raise Conflict(_PUT_CONFLICT)
            if current is None and _version(request) in resource.put_precondition_required_in:
                raise BadRequest(_PUT_PRECONDITION_REQUIRED)
        if merge and current is not None:
            content, content_type = merged(current, content, content_type)
            _check_size(content, state.settings.max_document_bytes)
        elif merge and is_json(content_type):
            # Malformed JSON is refused even with nothing to merge into (1.0.3 2.2.s8.b1).
            _json_value(content, "the posted document")
        stored = await store(conn, key, content, content_type)
    return Response(None, status_code=204, headers=_validators(stored))


async def remove(request: Request[Any, Any, Any], resource: DocumentResource) -> Response[None]:
    state = await _authorized(request, resource.write_action)
    reject_unknown(request.query_params, _allowed(resource))
    collection, doc_id = parse_target(
        resource, request.query_params, id_required=not resource.deletes_collections
    )
    await _check_own_state(request, resource, collection, doc_id)
    async with state.pool.acquire() as conn, conn.transaction():
        if doc_id is None:
            await delete_collection(conn, collection)
        else:
            key = collection.key(doc_id)
            await _lock(conn, key)
            Preconditions.of(request.headers).check(await fetch(conn, key))
            await conn.execute(f"DELETE FROM documents WHERE {_KEY_MATCH}", *key)
    return Response(None, status_code=204)


_PUT_PRECONDITION_REQUIRED = (
    "a PUT to this resource must carry If-Match or If-None-Match (xAPI 1.0.3 Communication"
    " 3.1): If-None-Match: * to create the document, If-Match with its ETag to replace it"
)
_PUT_CONFLICT = (
    "If-Match is required to replace a document that already exists (this PUT carried neither"
    " If-Match nor If-None-Match): GET the document to check its current state, then PUT again"
    " with If-Match set to its ETag"
)


async def _authorized(request: Request[Any, Any, Any], action: Action) -> LrsState:
    credential = await authenticate(request)
    require(credential.scopes, action)
    return LrsState.of(request)


async def _check_own_state(
    request: Request[Any, Any, Any],
    resource: DocumentResource,
    collection: Collection,
    doc_id: str | None,
) -> None:
    """A cmi5 AU's credential writes only its learner's State (`lrs.credentials.Binding`),
    and never the LMS's LMS.LaunchData document (nor a whole collection, which holds it)."""
    bound = (await authenticate(request)).bound  # already authenticated: cached on the request
    if bound is None or resource.kind is not Kind.STATE:
        return
    bound.check_agent(collection.agent)
    if doc_id is None or doc_id == LAUNCH_DATA:
        raise Forbidden(f"cmi5 10.0: an AU may not modify or delete the {LAUNCH_DATA} document")


def _version(request: Request[Any, Any, Any]) -> str:
    return str(request.scope["state"]["xapi_version"])


def _allowed(resource: DocumentResource, *extra: str) -> frozenset[str]:
    return frozenset(
        (*resource.context_params, *resource.optional_params, resource.id_param, *extra)
    )


# --- parameters ----------------------------------------------------------------------------


def parse_target(
    resource: DocumentResource, params: MultiDict[str], *, id_required: bool
) -> tuple[Collection, str | None]:
    """The collection the parameters name, and the document id if given; 400 names what is
    missing or malformed."""
    required = [*resource.context_params, *([resource.id_param] if id_required else [])]
    missing = [name for name in required if name not in params]
    if missing:
        raise BadRequest(f"missing required parameter(s): {', '.join(missing)}")
    doc_id = params.get(resource.id_param)
    if doc_id == "":
        raise BadRequest(f"{resource.id_param} must not be empty")
    registration = params.get("registration")
    return (
        Collection(
            kind=resource.kind,
            activity=iri_param(params, "activityId") or "",
            agent=agent_key_param(params.get("agent")) or "",
            registration=None if registration is None else uuid_param("registration", registration),
        ),
        doc_id,
    )


# --- concurrency ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Preconditions:
    """If-Match and If-None-Match as RFC 7232 has them, for a document's strong SHA-1 ETag.

    A list is the header's entity tags ("*" kept as is); None is an absent header."""

    if_match: list[str] | None
    if_none_match: list[str] | None

    @staticmethod
    def of(headers: Any) -> Preconditions:
        return Preconditions(
            _entity_tags(headers.get("if-match")), _entity_tags(headers.get("if-none-match"))
        )

    @property
    def absent(self) -> bool:
        return self.if_match is None and self.if_none_match is None

    def check(self, current: StoredDocument | None) -> None:
        """412 unless both headers, where given, hold for the document as it is now."""
        if self.if_match is not None and not _matches(self.if_match, current, strong=True):
            raise PreconditionFailed(
                "If-Match does not match the document's current ETag"
                if current is not None
                else "If-Match was given but there is no such document"
            )
        if self.if_none_match is not None and _matches(self.if_none_match, current, strong=False):
            raise PreconditionFailed(
                "the document exists (If-None-Match: *)"
                if self.if_none_match == ["*"]
                else "If-None-Match matches the document's current ETag"
            )


def _entity_tags(header: str | None) -> list[str] | None:
    if header is None:
        return None
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _matches(tags: list[str], current: StoredDocument | None, *, strong: bool) -> bool:
    if current is None:
        return False
    for tag in tags:
        if tag == "*":
            return True
        weak = tag.startswith("W/")
        if weak and strong:
            continue
        # Unquoted or upper-case hex is accepted: our tags are hex digests, nothing else.
        if tag.removeprefix("W/").strip('"').lower() == current.etag:
            return True
    return False


def _validators(document: StoredDocument) -> dict[str, str]:
    return {"ETag": f'"{document.etag}"', "Last-Modified": _http_date(document.updated)}


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


# --- JSON merge ----------------------------------------------------------------------------


def merged(current: StoredDocument, posted: bytes, content_type: str) -> tuple[bytes, str]:
    """The posted JSON object's top-level properties over the stored one's (1.0.3 2.2.s7-s8)."""
    if not (is_json(current.content_type) and is_json(content_type)):
        raise BadRequest(
            "POST to an existing document merges JSON objects only: both the stored document "
            f"({current.content_type}) and the posted one ({content_type}) must be {JSON}"
        )
    stored = _json_object(current.content, "the stored document")
    update = _json_object(posted, "the posted document")
    return _encode({**stored, **update}), JSON


def is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == JSON


def _json_object(content: bytes, what: str) -> dict[str, Any]:
    value = _json_value(content, what)
    if not isinstance(value, dict):
        raise BadRequest(f"{what} is not a JSON object, so it cannot be merged")
    return value


def _json_value(content: bytes, what: str) -> Any:
    try:
        return msgspec.json.decode(content)
    except msgspec.DecodeError:
        raise BadRequest(f"{what} is labelled {JSON} but is not valid JSON") from None
    except RecursionError:
        raise BadRequest(f"{what} is JSON nested too deeply to merge") from None


def _check_size(content: bytes, limit: int) -> None:
    if len(content) > limit:
        raise PayloadTooLarge(f"a document may hold at most {limit} bytes, not {len(content)}")


# --- storage -------------------------------------------------------------------------------

_KEY_MATCH = "kind = $1 AND activity = $2 AND agent = $3 AND registration = $4 AND doc_id = $5"


async def _lock(conn: asyncpg.Connection, key: Sequence[str]) -> None:
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_CLASS, "\x1f".join(key)
    )


async def fetch(conn: asyncpg.Connection, key: Sequence[str]) -> StoredDocument | None:
    row = await conn.fetchrow(
        f"SELECT content, content_type, etag, updated FROM documents WHERE {_KEY_MATCH}", *key
    )
    return None if row is None else StoredDocument(**dict(row))


async def store(
    conn: asyncpg.Connection, key: Sequence[str], content: bytes, content_type: str
) -> StoredDocument:
    etag = hashlib.sha1(content).hexdigest()
    updated = await conn.fetchval(
        "INSERT INTO documents (kind, activity, agent, registration, doc_id,"
        " content, content_type, etag, updated)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp())"
        " ON CONFLICT (kind, activity, agent, registration, doc_id) DO UPDATE SET"
        " content = excluded.content, content_type = excluded.content_type,"
        " etag = excluded.etag, updated = excluded.updated"
        " RETURNING updated",
        *key,
        content,
        content_type,
        etag,
    )
    return StoredDocument(content, content_type, etag, updated)


def _collection_match(collection: Collection) -> tuple[str, list[object]]:
    where = "kind = $1 AND activity = $2 AND agent = $3"
    args: list[object] = [collection.kind.value, collection.activity, collection.agent]
    if collection.registration is not None:
        args.append(collection.registration)
        where += f" AND registration = ${len(args)}"
    return where, args


async def list_ids(
    conn: asyncpg.Connection, collection: Collection, since: datetime | None
) -> tuple[list[str], datetime | None]:
    """The ids in the collection (updated after `since`, if given), and the latest update."""
    where, args = _collection_match(collection)
    if since is not None:
        args.append(since)
        where += f" AND updated > ${len(args)}"
    rows = await conn.fetch(
        f"SELECT doc_id, max(updated) AS updated FROM documents WHERE {where}"
        " GROUP BY doc_id ORDER BY doc_id",
        *args,
    )
    latest = max((row["updated"] for row in rows), default=None)
    return [row["doc_id"] for row in rows], latest


async def delete_collection(conn: asyncpg.Connection, collection: Collection) -> None:
    where, args = _collection_match(collection)
    await conn.execute(f"DELETE FROM documents WHERE {where}", *args)
