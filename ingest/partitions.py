"""Monthly partitions of `statements` (see migration 0013), created ahead of time.

Each server keeps the coming months' partitions in place (at start, then hourly), so the
write path never lands in the default partition; bulk loads of older statements make their
months first. Creating one is idempotent and serialised in the database, so any number of
workers may do it at once. On a TimescaleDB hypertable it is a no-op (chunks are automatic).

Hourly, one worker of the cluster also refreshes the planner statistics of the partitioned
tables themselves: autovacuum analyzes each partition but never a partitioned parent, whose
statistics the planner uses for joins across partitions.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

log = logging.getLogger(__name__)

MONTHS_AHEAD = 3
CHECK_EVERY_S = 3600.0


async def ensure_partitions(
    conn: asyncpg.Connection | asyncpg.Pool, first: datetime, last: datetime
) -> int:
    """Make sure every month from `first` to `last` has its partition; the number created."""
    made: int = await conn.fetchval("SELECT ensure_statement_partitions($1, $2)", first, last)
    if made:
        log.info("created %d statement partition(s) for %s .. %s", made, first, last)
    return made


async def keep_partitions_ahead(pool: asyncpg.Pool) -> None:
    """Forever: this month's and the next `MONTHS_AHEAD` months' partitions exist."""
    while True:
        now = datetime.now(UTC)
        try:
            await ensure_partitions(pool, now, now + timedelta(days=31 * MONTHS_AHEAD))
            await analyze_partitioned_tables(pool)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("could not create statement partitions (will retry): %s", exc)
            await asyncio.sleep(60)
            continue
        await asyncio.sleep(CHECK_EVERY_S)


PARTITIONED_TABLES = ("statements", "statement_agents", "statement_activities")
_ANALYZE_LOCK = 0x414E4C5A  # "ANLZ": one analyzer at a time across the cluster


async def analyze_partitioned_tables(pool: asyncpg.Pool) -> bool:
    """ANALYZE the partitioned parents unless another worker is at it; whether this one did.

    The lock is the transaction's, released at its end: through a transaction-mode pooler a
    session lock could be taken on one server connection and "released" on another."""
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _ANALYZE_LOCK):
            return False
        for table in PARTITIONED_TABLES:
            await conn.execute(f"ANALYZE {table}")
    return True
