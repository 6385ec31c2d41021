"""Accepting validated statements: the LRS-assigned properties, rows, and group commit.

Both the xAPI HTTP API and the LMS modules that produce statements in-process go through
`accept_statements`, so every statement is completed and committed the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from msgspec import UNSET

from core.xapi.models import Agent, Group, Statement
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


async def accept_statements(
    committer: GroupCommitter,
    statements: list[Statement],
    *,
    authority: Agent | Group,
    authority_key: str,
    may_define: bool,
    default_version: str = V1_DEFAULT_VERSION,
    parts: dict[str, bytes] | None = None,
) -> list[str]:
    """Assign id, stored, timestamp, authority and version; commit; return the ids.

    Returns only after the statements are committed (Conflict, Overloaded otherwise).
    `parts` are attachment contents by lower-case sha2."""
    parts = parts or {}
    # `stored` is kept to the millisecond, in the JSON and the column alike, so that a client
    # passing a statement's stored value as `since` does not get that statement back.
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    stored = xapi_time(now)
    rows = []
    for statement in statements:
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
