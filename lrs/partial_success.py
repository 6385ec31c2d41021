"""POST /xapi/statements?partialSuccess=true: store the valid statements of a batch, report the
rest. An extension the client opts into; without it a batch stays all or nothing, as the
specification requires.

The answer is always 200 (even when nothing was stored): `{"stored": [ids], "rejected":
[{"index", "rule", "path", "message"}]}`, `index` the statement's position in the batch
(0 for a single statement), `path` the JSON path of the offending value within the body.
A body that is not JSON, or an empty array, is still a 400: there is no statement to report.
Each statement is checked on its own: validation, an id seen earlier in the batch, its own
attachment parts and signature; one whose id is stored with other content is rejected too.
"""

from __future__ import annotations

import msgspec
from msgspec import UNSET

from core.auth import may_define
from core.errors import Conflict, ValidationError
from core.xapi.decode import decode_statement_obj, with_context_activity_lists
from core.xapi.models import Statement
from core.xapi.multipart import PartHeaders, check_attachments_present
from ingest.accept import V1_DEFAULT_VERSION, V2_DEFAULT_VERSION, accept_statements
from lrs.credentials import Credential
from lrs.state import LrsState
from lrs.statement_attachments import verify_signatures
from lrs.versioning import V2


class Rejected(msgspec.Struct, frozen=True):
    index: int
    rule: str
    path: str
    message: str


class PartialResult(msgspec.Struct, frozen=True):
    stored: list[str]
    rejected: list[Rejected]


async def store_valid_statements(
    state: LrsState,
    credential: Credential,
    *,
    version: str,
    statements_json: bytes,
    parts: dict[str, bytes],
    part_headers: dict[str, PartHeaders],
) -> PartialResult:
    """The caller has checked the credential may write statements."""
    valid: list[tuple[int, Statement]] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    for i, item in enumerate(_items(statements_json)):
        try:
            statement = _checked(item, i, version, parts, part_headers, seen)
        except ValidationError as exc:
            rejected.append(Rejected(i, exc.rule, exc.path, exc.message))
        else:
            valid.append((i, statement))
    credential.check_writes(s for _, s in valid)
    stored, conflicts = await _accept(state, credential, version, valid, parts)
    return PartialResult(stored, sorted(rejected + conflicts, key=lambda r: r.index))


def _items(statements_json: bytes) -> list[object]:
    try:
        data = msgspec.json.decode(statements_json)
    except (msgspec.MsgspecError, RecursionError) as exc:
        raise ValidationError("The body must be valid JSON", "$", str(exc)) from None
    if not isinstance(data, list):
        return [data]
    if not data:
        raise ValidationError("A batch of Statements must not be empty", "$")
    return data


def _checked(
    item: object,
    i: int,
    version: str,
    parts: dict[str, bytes],
    part_headers: dict[str, PartHeaders],
    seen: set[str],
) -> Statement:
    statement = with_context_activity_lists(decode_statement_obj(item, version, f"$[{i}]"))
    if statement.id is not UNSET:
        if statement.id.lower() in seen:
            raise ValidationError(
                "A batch MUST NOT contain two statements with the same id", f"$[{i}].id"
            )
        seen.add(statement.id.lower())
    own = _own_parts(statement, parts)
    try:
        check_attachments_present([statement], own, part_headers)
        verify_signatures([statement], own)
    except ValidationError as exc:  # both name the statement $[0]
        raise ValidationError(
            exc.rule, f"$[{i}]" + exc.path.removeprefix("$[0]"), exc.detail
        ) from None
    return statement


def _own_parts(statement: Statement, parts: dict[str, bytes]) -> dict[str, bytes]:
    hashes = {a.sha2.lower() for a in statement.attachments or ()}
    sub = statement.object
    hashes |= {a.sha2.lower() for a in getattr(sub, "attachments", None) or ()}
    return {sha2: parts[sha2] for sha2 in hashes if sha2 in parts}


async def _accept(
    state: LrsState,
    credential: Credential,
    version: str,
    valid: list[tuple[int, Statement]],
    parts: dict[str, bytes],
) -> tuple[list[str], list[Rejected]]:
    """Commit the valid statements together; if one conflicts, each alone to find which."""

    async def accept(statements: list[Statement]) -> list[str]:
        used = {k: v for s in statements for k, v in _own_parts(s, parts).items()}
        return await accept_statements(
            state.committer,
            statements,
            authority=state.authority_for(credential),
            authority_key=credential.key,
            may_define=may_define(credential.scopes),
            default_version=V2_DEFAULT_VERSION if version == V2 else V1_DEFAULT_VERSION,
            utc_timestamps=version == V2,
            parts=used,
        )

    if not valid:
        return [], []
    try:
        return await accept([s for _, s in valid]), []
    except Conflict:
        pass
    stored: list[str] = []
    conflicts: list[Rejected] = []
    for i, statement in valid:
        try:
            stored += await accept([statement])
        except Conflict as exc:
            conflicts.append(
                Rejected(i, "A stored Statement MUST NOT be changed", f"$[{i}].id", exc.message)
            )
    return stored, conflicts
