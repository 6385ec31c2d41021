"""`statements` partitioned by `stored` (migration 0013): monthly partitions made ahead,
old months made on demand with their rows moved out of the default partition, ids unique
across partitions, and an existing unpartitioned store converted without loss."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import msgspec
import pytest

from core.xapi.models import Statement
from ingest.migrate import migrate, migration_scripts
from ingest.partitions import PARTITIONED_TABLES, analyze_partitioned_tables, ensure_partitions
from ingest.postgres import append_batch, copy_batch, stored_bodies
from ingest.rows import StatementRow, to_row


def row(stored: datetime, statement_id: str | None = None) -> StatementRow:
    body = {
        "id": statement_id or str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": "mailto:partitions@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"objectType": "Activity", "id": "http://example.com/partitions"},
    }
    return to_row(
        msgspec.convert(body, Statement),
        stored=stored,
        authority_key="test",
        attachments=None,
        may_define=False,
    )


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[str]:
    """An empty database on the session's PostgreSQL server."""
    name = f"partitions_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield urlsplit(database_url)._replace(path=f"/{name}").geturl()
    asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


async def partition_of(conn: asyncpg.Connection, statement_id: str) -> str:
    return await conn.fetchval(
        "SELECT tableoid::regclass::text FROM statements WHERE id = $1::uuid", statement_id
    )


def test_statements_is_partitioned_with_the_coming_months_in_place(database_url: str) -> None:
    async def check() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            strategy = await conn.fetchval(
                "SELECT partstrat::text FROM pg_partitioned_table"
                " WHERE partrelid = 'statements'::regclass"
            )
            assert strategy == "r"
            now = datetime.now(UTC)
            await ensure_partitions(conn, now, now + timedelta(days=62))
            names = {
                r["name"]
                for r in await conn.fetch(
                    "SELECT inhrelid::regclass::text AS name FROM pg_inherits"
                    " WHERE inhparent = 'statements'::regclass"
                )
            }
            assert "statements_default" in names
            for months in (0, 1, 2):
                month = (now.replace(day=1) + timedelta(days=32 * months)).strftime("%Y_%m")
                assert f"statements_{month}" in names
            fresh = row(now)
            await append_batch(conn, [fresh])
            assert await partition_of(conn, fresh.id) == f"statements_{now:%Y_%m}"
        finally:
            await conn.close()

    asyncio.run(check())


def test_an_old_month_gets_its_partition_and_the_default_partitions_rows(
    database_url: str,
) -> None:
    async def check() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            old = datetime(2011, 4, 9, 12, 0, tzinfo=UTC)
            stray = row(old)
            await copy_batch(conn, [stray])
            assert await partition_of(conn, stray.id) == "statements_default"
            assert await ensure_partitions(conn, old, old) == 1
            assert await partition_of(conn, stray.id) == "statements_2011_04"
            assert await ensure_partitions(conn, old, old) == 0
            assert set(await stored_bodies(conn, [stray.id])) == {stray.id}
        finally:
            await conn.close()

    asyncio.run(check())


def test_an_id_is_unique_across_partitions(database_url: str) -> None:
    async def check() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            first = row(datetime.now(UTC))
            await append_batch(conn, [first])
            again = row(datetime(2012, 1, 1, tzinfo=UTC), first.id)
            for append in (append_batch, copy_batch):
                with pytest.raises(asyncpg.UniqueViolationError):
                    await append(conn, [again])
            count = await conn.fetchval(
                "SELECT count(*) FROM statements WHERE id = $1::uuid", first.id
            )
            assert count == 1
        finally:
            await conn.close()

    asyncio.run(check())


def test_an_unpartitioned_store_is_converted_without_loss(fresh_database: str) -> None:
    async def check() -> None:
        conn = await asyncpg.connect(fresh_database)
        try:
            # the schema as it was before migration 0013, with statements in two months
            for name, sql in migration_scripts():
                if name >= "0013":
                    break
                await conn.execute(sql)
            await conn.execute(
                "CREATE TABLE schema_migrations"
                " (name text PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())"
            )
            await conn.executemany(
                "INSERT INTO schema_migrations (name) VALUES ($1)",
                [(n,) for n, _ in migration_scripts() if n < "0013"],
            )
            rows = [row(datetime(2020, 2, 3, tzinfo=UTC)) for _ in range(5)]
            rows += [row(datetime(2020, 3, 4, tzinfo=UTC)) for _ in range(7)]
            await conn.execute(
                "INSERT INTO statements (seq, id, stored, verb, authority, body)"
                " SELECT nextval('statement_seq'), id, stored, 'v', 'test', '{}'"
                " FROM unnest($1::uuid[], $2::timestamptz[]) AS r(id, stored)",
                [r.id for r in rows],
                [r.stored for r in rows],
            )
        finally:
            await conn.close()
        assert "0013_partitioned_statements.sql" in await migrate(fresh_database)
        conn = await asyncpg.connect(fresh_database)
        try:
            placed = {r.id: await partition_of(conn, r.id) for r in rows}
            assert (
                sorted(placed.values()) == ["statements_2020_02"] * 5 + ["statements_2020_03"] * 7
            )
            assert await conn.fetchval("SELECT count(*) FROM statement_ids") == 12
            with pytest.raises(asyncpg.UniqueViolationError):
                await append_batch(conn, [rows[0]])
        finally:
            await conn.close()

    asyncio.run(check())


def test_the_partitioned_parents_get_planner_statistics(database_url: str) -> None:
    async def check() -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                await append_batch(conn, [row(datetime.now(UTC))])
            assert await analyze_partitioned_tables(pool)
            analyzed = await pool.fetchval(
                "SELECT count(DISTINCT starelid) FROM pg_statistic"
                " WHERE stainherit AND starelid = ANY($1::regclass[])",
                list(PARTITIONED_TABLES),
            )
            assert analyzed == len(PARTITIONED_TABLES)
        finally:
            await pool.close()

    asyncio.run(check())


def test_one_analyzer_at_a_time_and_no_lock_outlives_its_transaction(database_url: str) -> None:
    """The analyzers' lock is a transaction's: held elsewhere, this one skips; afterwards no
    session keeps it (through a transaction-mode pooler a session lock could leak)."""
    from ingest.partitions import _ANALYZE_LOCK

    async def check() -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        other = await asyncpg.connect(database_url)
        try:
            async with other.transaction():
                await other.execute("SELECT pg_advisory_xact_lock($1)", _ANALYZE_LOCK)
                assert not await analyze_partitioned_tables(pool)
            assert await analyze_partitioned_tables(pool)
            held = await pool.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1",
                _ANALYZE_LOCK,
            )
            assert held == 0
        finally:
            await other.close()
            await pool.close()

    asyncio.run(check())
