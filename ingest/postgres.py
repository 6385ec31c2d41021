"""Appending statement batches to PostgreSQL with `COPY`, in one transaction per batch."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ingest.rows import STATEMENT_COLUMNS, StatementRow

Attachment = tuple[str, str, bytes]  # (sha2, content type, content)


async def copy_batch(
    conn: asyncpg.Connection, rows: Sequence[StatementRow], attachments: Sequence[Attachment] = ()
) -> None:
    """Append `rows` (and their attachments' content) atomically.

    Raises asyncpg.UniqueViolationError when a statement id is already stored; the caller
    resolves that case (it is rare, so the common path pays no conflict check).
    """
    async with conn.transaction():
        seqs = await conn.fetchval(
            "SELECT array(SELECT nextval('statement_seq') FROM generate_series(1, $1))",
            len(rows),
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
    records = await conn.fetch("SELECT id, body FROM statements WHERE id = ANY($1::uuid[])", ids)
    return {str(r["id"]): r["body"] for r in records}
