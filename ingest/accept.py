"""Accepting validated statements: the LRS-assigned properties, rows, and group commit.

Both the xAPI HTTP API and the LMS modules that produce statements in-process go through
`accept_statements`, so every statement is completed and committed the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import msgspec
from msgspec import UNSET

from core.xapi.models import Agent, Group, Statement, SubStatement
from core.xapi.validate import timestamp_instant
from ingest.batcher import GroupCommitter
from ingest.rows import new_statement_id, to_row

V2_DEFAULT_VERSION = "2.0.0"
V1_DEFAULT_VERSION = "1.0.0"


def xapi_time(moment: datetime) -> str:
    """`moment` in UTC to the millisecond, as the LRS writes timestamps: 2026-12-02T15:28:43.023Z.

    Formatted by hand: it runs twice per write request (stored, Consistent-Through), and
    `isoformat(timespec=...)` with the suffix swap costs about twice as much."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 1000,
    )


_FRACTION = re.compile(r"[.,](\d+)")


def utc_timestamp(value: str) -> str:
    """A (validated) Timestamp as the same instant in UTC, with as many fraction digits as it
    had, up to microseconds: xAPI 2.0 (IEEE 9274.1.1, 4.2.7) "An LRS shall convert Timestamps
    to UTC rather than rejecting Statements that send Timestamps not in UTC form"."""
    if value[-1] in "Zz" or value.endswith(("+00:00", "+0000", "+00")):
        return value
    instant = timestamp_instant(value)
    if instant is None:  # a leap second (:60) is valid but no datetime: kept as it came
        return value
    utc = instant.astimezone(UTC)
    fraction = _FRACTION.search(value)
    digits = min(len(fraction.group(1)), 6) if fraction else 0
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % (  # noqa: UP031
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
    )
    if digits:
        text += "." + f"{utc.microsecond:06d}"[:digits]
    return text + "Z"


def statement_in_utc(statement: Statement) -> Statement:
    obj = statement.object
    if isinstance(obj, SubStatement) and obj.timestamp is not UNSET:
        utc = utc_timestamp(obj.timestamp)
        if utc != obj.timestamp:
            statement = msgspec.structs.replace(
                statement, object=msgspec.structs.replace(obj, timestamp=utc)
            )
    if statement.timestamp is not UNSET:
        utc = utc_timestamp(statement.timestamp)
        if utc != statement.timestamp:
            statement = msgspec.structs.replace(statement, timestamp=utc)
    return statement


async def accept_statements(
    committer: GroupCommitter,
    statements: list[Statement],
    *,
    authority: Agent | Group,
    authority_key: str,
    may_define: bool,
    default_version: str = V1_DEFAULT_VERSION,
    utc_timestamps: bool = False,
    parts: dict[str, bytes] | None = None,
) -> list[str]:
    """Assign id, stored, timestamp, authority and version; commit; return the ids.

    Returns only after the statements are committed (Conflict, Overloaded otherwise).
    `utc_timestamps` (xAPI 2.0) converts timestamps given with another offset to UTC.
    `parts` are attachment contents by lower-case sha2."""
    parts = parts or {}
    # `stored` is kept to the millisecond, in the JSON and the column alike, so that a client
    # passing a statement's stored value as `since` does not get that statement back.
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    stored = xapi_time(now)
    rows = []
    for statement in statements:
        if utc_timestamps:
            statement = statement_in_utc(statement)
        complete = msgspec.structs.replace(
            statement,
            id=statement.id if statement.id is not UNSET else new_statement_id(),
            stored=stored,
            timestamp=statement.timestamp if statement.timestamp is not UNSET else stored,
            authority=authority,
            version=statement.version if statement.version is not UNSET else default_version,
        )
        hashes = [h for a in complete.attachments or () if (h := a.sha2.lower()) in parts]
        rows.append(
            to_row(
                complete,
                stored=now,
                authority_key=authority_key,
                attachments=hashes or None,
                may_define=may_define,
            )
        )
    attachments = [
        (sha2, _content_type_of(statements, sha2), content) for sha2, content in parts.items()
    ]
    await committer.submit(rows, attachments)
    return [row.id for row in rows]


def _content_type_of(statements: list[Statement], sha2: str) -> str:
    for statement in statements:
        for attachment in statement.attachments or ():
            if attachment.sha2.lower() == sha2:
                return attachment.content_type
    return "application/octet-stream"
