"""Statements in bulk: NDJSON lines validated as POST /xapi/statements validates a statement,
committed in batches through the group committer, in constant memory whatever the size.

- Each line is one Statement (blank lines are skipped). It is validated by
  `decode_statement_obj` under the xAPI version its `version` property names (2.x: 2.0.0,
  otherwise 1.0.3), then as the API checks attachments and signatures. NDJSON carries no
  attachment content, so a statement whose attachment has no `fileUrl`, or that is signed,
  is rejected, as the API rejects it without its parts.
- Default: the import stops at the first invalid line (or conflicting statement) and
  commits nothing of the batch that holds it; earlier batches stay committed, and the report
  says how many. With `partial`, invalid lines are skipped and reported, the rest stored.
- Idempotent: a statement whose id is already stored with matching content (Statement
  comparison, as for the API) is accepted again and not stored twice. Lines without an id
  get a fresh id each time, so a file meant to be re-imported should carry ids (an export
  always does).
- A backfill keeps history: `stored` and `authority` are kept as the file has them, and set
  by the LRS (now; the importing authority) only where absent. An imported statement can
  thus be stored "in the past": a client polling with `since` will not see it, which is the
  point of keeping the original `stored`. The `authority` column (what
  `statements/read/mine` filters on) is always the importing credential.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec
from msgspec import UNSET

from core.errors import Conflict, Overloaded, ValidationError
from core.xapi.decode import decode_statement_obj, with_context_activity_lists
from core.xapi.models import Agent, Group, Statement
from core.xapi.multipart import check_attachments_present
from ingest.accept import (
    V1_DEFAULT_VERSION,
    V2_DEFAULT_VERSION,
    statement_in_utc,
    xapi_time,
)
from ingest.batcher import GroupCommitter
from ingest.partitions import ensure_partitions
from ingest.rows import StatementRow, new_statement_id, to_row
from lrs.statement_attachments import verify_signatures
from lrs.versioning import V1, V2

DEFAULT_BATCH = 1000
REJECTIONS_LISTED = 1000  # a report lists this many rejections; it counts them all
_OVERLOADED_RETRIES = 60

_decode_json = msgspec.json.Decoder().decode


@dataclass(frozen=True)
class ImportAuthority:
    """Who an import is recorded as: the authority where a statement has none, the
    credential key of the `authority` column, and whether its activity definitions count."""

    agent: Agent | Group
    key: str
    may_define: bool


@dataclass(frozen=True)
class Rejection:
    line: int
    rule: str
    path: str
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "rule": self.rule, "path": self.path, "message": self.message}


@dataclass
class ImportReport:
    lines: int = 0  # non-blank lines read
    stored: int = 0  # accepted: newly stored, or already stored with the same content
    rejected: list[Rejection] = field(default_factory=list)  # the first REJECTIONS_LISTED
    rejected_total: int = 0
    stopped: Rejection | None = None  # default mode: the line that ended the import

    def to_dict(self) -> dict[str, object]:
        return {
            "lines": self.lines,
            "stored": self.stored,
            "rejected": [r.to_dict() for r in self.rejected],
            "rejected_total": self.rejected_total,
            "stopped": self.stopped.to_dict() if self.stopped else None,
        }


Progress = Callable[[ImportReport], None]
OnRejection = Callable[[Rejection], None]


async def import_statements(
    committer: GroupCommitter,
    lines: AsyncIterable[bytes],
    *,
    authority: ImportAuthority,
    partial: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
    on_rejection: OnRejection | None = None,
) -> ImportReport:
    report = ImportReport()
    batch: list[tuple[int, Statement]] = []
    ids: set[str] = set()

    def reject(rejection: Rejection) -> None:
        report.rejected_total += 1
        if len(report.rejected) < REJECTIONS_LISTED:
            report.rejected.append(rejection)
        if on_rejection is not None:
            on_rejection(rejection)

    async def flush() -> bool:
        if batch:
            rows = _rows(batch, authority)
            batch.clear()
            # imports keep their `stored`: the months they span get partitions first
            stored = [row.stored for _, row in rows]
            await ensure_partitions(committer.pool, min(stored), max(stored))
            ids.clear()
            for rejection in await _commit(committer, rows, partial, report):
                reject(rejection)
                if not partial:
                    report.stopped = rejection
                    return False
        if progress is not None:
            progress(report)
        return True

    number = 0
    async for line in lines:
        number += 1
        if not line.strip():
            continue
        report.lines += 1
        try:
            statement = decode_line(line)
        except ValidationError as exc:
            rejection = Rejection(number, exc.rule, exc.path, exc.message)
            reject(rejection)
            if partial:
                continue
            report.stopped = rejection
            return report
        statement_id = statement.id.lower() if statement.id is not UNSET else None
        # Two versions of one id in one batch would both look new to the committer.
        if statement_id in ids and not await flush():
            return report
        if statement_id is not None:
            ids.add(statement_id)
        batch.append((number, statement))
        if len(batch) >= batch_size and not await flush():
            return report
    await flush()
    return report


def decode_line(line: bytes) -> Statement:
    """One NDJSON line as a validated Statement; ValidationError (path from `$`) otherwise."""
    try:
        obj = _decode_json(line)
    except (msgspec.MsgspecError, RecursionError) as exc:
        raise ValidationError("Each line must be one Statement in JSON", "$", str(exc)) from None
    version = V2 if isinstance(obj, dict) and str(obj.get("version", "")).startswith("2") else V1
    statement = with_context_activity_lists(decode_statement_obj(obj, version))
    try:
        check_attachments_present([statement], {})
        verify_signatures([statement], {})
    except ValidationError as exc:
        # Both name the statement `$[0]`: here it is the line, `$`.
        raise ValidationError(exc.rule, "$" + exc.path.removeprefix("$[0]"), exc.detail) from None
    return statement


async def ndjson_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """The lines of a byte stream (a request body), whatever its chunking."""
    rest = b""
    async for chunk in chunks:
        rest += chunk
        *complete, rest = rest.split(b"\n")
        for line in complete:
            yield line
    if rest:
        yield rest


def _rows(
    batch: list[tuple[int, Statement]], authority: ImportAuthority
) -> list[tuple[int, StatementRow]]:
    """Completed as `ingest.accept.accept_statements` completes them, but keeping `stored`
    and `authority` where the statement has them."""
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    now_text = xapi_time(now)
    rows = []
    for number, statement in batch:
        stored_text = statement.stored if statement.stored is not UNSET else now_text
        if _is_v2(statement):
            default_version = V2_DEFAULT_VERSION
            statement = statement_in_utc(statement)
        else:
            default_version = V1_DEFAULT_VERSION
        complete = msgspec.structs.replace(
            statement,
            id=statement.id if statement.id is not UNSET else new_statement_id(),
            stored=stored_text,
            timestamp=statement.timestamp if statement.timestamp is not UNSET else stored_text,
            authority=statement.authority if statement.authority is not UNSET else authority.agent,
            version=statement.version if statement.version is not UNSET else default_version,
        )
        row = to_row(
            complete,
            stored=_instant(stored_text) if statement.stored is not UNSET else now,
            authority_key=authority.key,
            attachments=None,
            may_define=authority.may_define,
        )
        rows.append((number, row))
    return rows


def _is_v2(statement: Statement) -> bool:
    return statement.version is not UNSET and statement.version.startswith("2")


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _commit(
    committer: GroupCommitter,
    rows: list[tuple[int, StatementRow]],
    partial: bool,
    report: ImportReport,
) -> list[Rejection]:
    """Commit the batch; the conflicting statements (all of them with `partial`, else the
    first, and then nothing of the batch is committed)."""
    try:
        await _submit(committer, [row for _, row in rows])
    except Conflict as exc:
        if not partial:
            number = next((n for n, row in rows if row.id in exc.message), rows[0][0])
            return [_conflict(number, exc)]
    else:
        report.stored += len(rows)
        return []
    rejections = []
    for number, row in rows:  # find the conflicting ones, store the rest
        try:
            await _submit(committer, [row])
        except Conflict as exc:
            rejections.append(_conflict(number, exc))
        else:
            report.stored += 1
    return rejections


async def _submit(committer: GroupCommitter, rows: list[StatementRow]) -> None:
    """`committer.submit`, waiting out a full queue: an import shares it with live traffic."""
    for _attempt in range(_OVERLOADED_RETRIES):
        try:
            await committer.submit(rows, [])
            return
        except Overloaded as exc:
            await asyncio.sleep(exc.retry_after)
    await committer.submit(rows, [])


def _conflict(number: int, exc: Conflict) -> Rejection:
    return Rejection(
        number,
        "A stored Statement MUST NOT be changed (same id, other content)",
        "$.id",
        exc.message,
    )
