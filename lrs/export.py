"""Statements out in bulk, in `seq` (commit batch) order, from one snapshot, in constant memory.

- `ndjson`: one statement per line exactly as stored (voided and voiding statements alike),
  the input `hyperedu statements import` takes back;
- `csv`: a flattened view for spreadsheets, one row per statement (`CSV_COLUMNS`); agents
  are named by the identifier strings the store keys them by (`mbox mailto:...`).

`since` and `until` filter on `stored` as the Statements resource does (`since` exclusive,
`until` inclusive). The export reads through a server-side cursor inside one read-only
REPEATABLE READ transaction: a statement committed during a long export is either wholly in
it or not at all, and no page boundary can skip one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from msgspec import UNSET

from core.xapi.models import Activity, Agent, Group, Statement, StatementRef
from ingest.rows import agent_key

FORMATS = ("ndjson", "csv")
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
CSV_COLUMNS = (
    "id",
    "stored",
    "timestamp",
    "actor",
    "actor_name",
    "verb",
    "object_id",
    "object_type",
    "score_scaled",
    "score_raw",
    "success",
    "completion",
    "duration",
    "registration",
    "platform",
)
PAGE = 1000  # rows fetched per cursor round trip, and per chunk yielded

_decode_statement = msgspec.json.Decoder(Statement).decode

Progress = Callable[[int], None]


async def export_statements(
    pool: asyncpg.Pool,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    fmt: str = "ndjson",
    progress: Progress | None = None,
) -> AsyncIterator[bytes]:
    """The export as chunks of bytes; `progress(count)` after each chunk."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    where, args = _filters(since, until)
    count = 0
    if fmt == "csv":
        yield _csv_lines([CSV_COLUMNS])
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        page: list[str] = []
        query = f"SELECT body FROM statements{where} ORDER BY seq"
        async for record in conn.cursor(query, *args, prefetch=PAGE):
            page.append(record["body"])
            if len(page) == PAGE:
                count += len(page)
                yield _chunk(page, fmt)
                page = []
                if progress is not None:
                    progress(count)
        count += len(page)
        if page:
            yield _chunk(page, fmt)
    if progress is not None:
        progress(count)


def _filters(since: datetime | None, until: datetime | None) -> tuple[str, list[object]]:
    clauses: list[str] = []
    args: list[object] = []
    if since is not None:
        args.append(since)
        clauses.append(f"stored > ${len(args)}")
    if until is not None:
        args.append(until)
        clauses.append(f"stored <= ${len(args)}")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def _chunk(bodies: list[str], fmt: str) -> bytes:
    if fmt == "ndjson":
        return ("\n".join(bodies) + "\n").encode()
    return _csv_lines(flatten(_decode_statement(body)) for body in bodies)


def _csv_lines(rows: Any) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def flatten(stmt: Statement) -> tuple[object, ...]:
    """A stored statement as a row of `CSV_COLUMNS` ('' for what it does not have)."""
    obj = stmt.object
    result = stmt.result
    score = result.score if result is not UNSET else UNSET
    context = stmt.context
    row = (
        stmt.id,
        stmt.stored,
        stmt.timestamp,
        agent_key(stmt.actor) or "",
        stmt.actor.name,
        stmt.verb.id,
        _object_id(obj),
        type(obj).__name__,
        score.scaled if score is not UNSET else UNSET,
        score.raw if score is not UNSET else UNSET,
        _flag(result.success) if result is not UNSET else UNSET,
        _flag(result.completion) if result is not UNSET else UNSET,
        result.duration if result is not UNSET else UNSET,
        context.registration if context is not UNSET else UNSET,
        context.platform if context is not UNSET else UNSET,
    )
    return tuple("" if value is UNSET else value for value in row)


def _object_id(obj: object) -> str:
    if isinstance(obj, Activity | StatementRef):
        return obj.id
    if isinstance(obj, Agent | Group):
        return agent_key(obj) or ""
    return ""  # a SubStatement has no id


def _flag(value: object) -> object:
    return value if value is UNSET else str(value).lower()
