"""Appending statement batches to PostgreSQL, in one transaction per batch.

Small batches (the common case under many single-statement requests) go in one round trip
through the `append_statements` SQL function; large ones by `COPY`, which loads faster once
the rows outnumber the round trips it costs (BEGIN, nextval, one COPY per table, COMMIT)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from core.errors import Overloaded
from ingest.rows import STATEMENT_COLUMNS, StatementRow

Attachment = tuple[str, str, bytes]  # (sha2, content type, content)

COPY_FROM_ROWS = 500

# What a query raises when PostgreSQL is out of reach, restarting, shutting down or out of
# connections: the request is answered 503 with Retry-After (`database_unavailable`).
UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
    # asyncpg's, releasing a connection that broke in the middle of an operation
    asyncpg.InternalClientError,
)

_APPEND = (
    "SELECT append_statements($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    " $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
)


async def append_batch(
    conn: asyncpg.Connection, rows: Sequence[StatementRow], attachments: Sequence[Attachment] = ()
) -> None:
    """Append `rows` (and their attachments' content) atomically.

    Raises asyncpg.UniqueViolationError when a statement id is already stored; the caller
    resolves that case (it is rare, so the common path pays no conflict check).
    """
    if len(rows) >= COPY_FROM_ROWS:
        await copy_batch(conn, rows, attachments)
    else:
        await conn.execute(_APPEND, *_columns(rows, attachments))


def _columns(rows: Sequence[StatementRow], attachments: Sequence[Attachment]) -> list[list[Any]]:
    """The arguments of append_statements: one array per column; side rows by position."""
    ids, stored, verbs, registrations, ref_targets, voiding, authorities, bodies = (
        [] for _ in range(8)
    )
    att_of: list[int] = []
    att_sha2: list[str] = []
    agent_of: list[int] = []
    agent_keys: list[str] = []
    agent_direct: list[bool] = []
    activity_of: list[int] = []
    activity_ids: list[str] = []
    activity_direct: list[bool] = []
    definition_of: list[int] = []
    definition_activities: list[str] = []
    definitions: list[str] = []
    for pos, row in enumerate(rows, 1):
        ids.append(row.id)
        stored.append(row.stored)
        verbs.append(row.verb)
        registrations.append(row.registration)
        ref_targets.append(row.ref_target)
        voiding.append(row.voiding)
        authorities.append(row.authority)
        bodies.append(row.body)
        for sha2 in row.attachments or ():
            att_of.append(pos)
            att_sha2.append(sha2)
        for key, direct in row.agents.items():
            agent_of.append(pos)
            agent_keys.append(key)
            agent_direct.append(direct)
        for key, direct in row.activities.items():
            activity_of.append(pos)
            activity_ids.append(key)
            activity_direct.append(direct)
        for activity, definition in row.definitions:
            definition_of.append(pos)
            definition_activities.append(activity)
            definitions.append(definition)
    return [
        ids, stored, verbs, registrations, ref_targets, voiding, authorities, bodies,
        att_of, att_sha2,
        agent_of, agent_keys, agent_direct,
        activity_of, activity_ids, activity_direct,
        definition_of, definition_activities, definitions,
        [a[0] for a in attachments], [a[1] for a in attachments], [a[2] for a in attachments],
    ]  # fmt: skip


async def copy_batch(
    conn: asyncpg.Connection, rows: Sequence[StatementRow], attachments: Sequence[Attachment] = ()
) -> None:
    """`append_batch` by COPY: the path for large batches, and the benchmark's ceiling."""
    async with conn.transaction():
        seqs = await conn.fetchval(
            "SELECT array(SELECT nextval('statement_seq') FROM generate_series(1, $1))",
            len(rows),
        )
        await conn.copy_records_to_table(
            "statement_ids",
            records=[(row.id, seq, row.stored) for row, seq in zip(rows, seqs, strict=True)],
            columns=("id", "seq", "stored"),
        )
        await conn.copy_records_to_table(
            "statements",
            records=[row.record(seq) for row, seq in zip(rows, seqs, strict=True)],
            columns=STATEMENT_COLUMNS,
        )
        await conn.copy_records_to_table(
            "statement_agents",
            records=[
                (key, seq, direct)
                for row, seq in zip(rows, seqs, strict=True)
                for key, direct in row.agents.items()
            ],
            columns=("agent", "seq", "direct"),
        )
        await conn.copy_records_to_table(
            "statement_activities",
            records=[
                (key, seq, direct)
                for row, seq in zip(rows, seqs, strict=True)
                for key, direct in row.activities.items()
            ],
            columns=("activity", "seq", "direct"),
        )
        definitions = [
            (activity, seq, definition)
            for row, seq in zip(rows, seqs, strict=True)
            for activity, definition in row.definitions
        ]
        if definitions:
            await conn.copy_records_to_table(
                "activity_definitions",
                records=definitions,
                columns=("activity", "seq", "definition"),
            )
        if attachments:
            await conn.executemany(
                "INSERT INTO attachments (sha2, content_type, content) VALUES ($1, $2, $3)"
                " ON CONFLICT (sha2) DO NOTHING",
                attachments,
            )


async def stored_bodies(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, str]:
    """The stored JSON of those of `ids` (canonical UUID text) that exist."""
    records = await conn.fetch(
        "SELECT i.id, s.body FROM statement_ids i"
        " JOIN statements s ON s.seq = i.seq AND s.stored = i.stored"
        " WHERE i.id = ANY($1::uuid[])",
        ids,
    )
    return {str(r["id"]): r["body"] for r in records}


def database_unavailable() -> Overloaded:
    """The error a request that met one of `UNAVAILABLE` is answered with."""
    return Overloaded("the database is unavailable; retry shortly", retry_after=2)
