"""`hyperedu bench seed`: fill a store fast for the query benchmarks.

Statements come from the load-test workload (bench/workload.py), are decoded and turned into
rows exactly as ingest does (`decode_statements`, `to_row`), and are appended with
`copy_batch`, the COPY path, from several processes at once. Their `stored` times are spread
evenly over the last --days days, oldest first, so `since` queries select a fraction of the
store as they would on a store that grew over time."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from bench.workload import make_statement

if TYPE_CHECKING:
    from ingest.rows import StatementRow

AUTHORITY_KEY = "bench-seed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--statements", type=int, required=True, help="how many to append")
    parser.add_argument(
        "--data-dir", help="the store: an embedded PostgreSQL under this directory (./var)"
    )
    parser.add_argument("--database-url", help="the store: this PostgreSQL (instead of --data-dir)")
    parser.add_argument("--batch", type=int, default=10_000, help="statements per COPY")
    parser.add_argument(
        "--jobs",
        type=int,
        default=max(1, min(4, (os.cpu_count() or 2) - 1)),
        help="processes building rows and copying them, each with its own connection",
    )
    parser.add_argument(
        "--days", type=float, default=30.0, help="spread `stored` over this many days"
    )
    parser.add_argument("--seed", type=int, default=1, help="workload seed (same seed, same data)")


class _Part(msgspec.Struct, frozen=True):
    dsn: str
    index: int  # the batch's place in the whole seed: its statements' `stored` times
    size: int
    batch: int
    origin: datetime
    step_us: int
    seed: int


def run(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from hyperedu.bootstrap import database

    if args.statements <= 0 or args.batch <= 0:
        print("hyperedu bench seed: --statements and --batch must be positive", file=sys.stderr)
        return 2
    settings = load_settings(data_dir=args.data_dir, database_url=args.database_url)
    with database(settings) as runtime:
        dsn = runtime.settings.database_url
        seeded, elapsed = _seed(dsn, args)
        print("VACUUM (ANALYZE) ...", file=sys.stderr, flush=True)
        asyncio.run(_vacuum_analyze(dsn))
    print(
        f"seeded {seeded:,} statements in {elapsed:.1f} s ({seeded / elapsed:,.0f}/s)"
        f" with {args.jobs} jobs into {_where(args)}"
    )
    return 0


def _where(args: argparse.Namespace) -> str:
    if args.database_url:
        return "the --database-url database"
    return f"{args.data_dir or './var'} (embedded PostgreSQL)"


def _seed(dsn: str, args: argparse.Namespace) -> tuple[int, float]:
    now = datetime.now(UTC)
    origin = now - timedelta(days=args.days)
    step_us = max(1, int(args.days * 86_400e6 / args.statements))
    parts = [
        _Part(
            dsn,
            index,
            min(args.batch, args.statements - index * args.batch),
            args.batch,
            origin,
            step_us,
            args.seed,
        )
        for index in range(-(-args.statements // args.batch))
    ]
    asyncio.run(_make_partitions(dsn, origin, now))
    done = 0
    started = last_report = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for n in pool.imap_unordered(_append_part, parts):
            done += n
            if time.perf_counter() - last_report >= 2 or done == args.statements:
                last_report = time.perf_counter()
                rate = done / (last_report - started)
                eta = (args.statements - done) / rate if rate else 0
                print(
                    f"  {done:>12,} / {args.statements:,} statements  {rate:>8,.0f}/s"
                    f"  eta {eta:,.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    return done, time.perf_counter() - started


async def _make_partitions(dsn: str, first: datetime, last: datetime) -> None:
    import asyncpg

    from ingest.partitions import ensure_partitions

    conn = await asyncpg.connect(dsn)
    try:
        await ensure_partitions(conn, first, last)
    finally:
        await conn.close()


def _append_part(part: _Part) -> int:
    """One batch, in a pool process: build its rows and COPY them (one connection per batch:
    connecting costs milliseconds, a batch seconds)."""
    import asyncpg

    from ingest.postgres import copy_batch

    rows = build_rows(part)

    async def append() -> None:
        conn = await asyncpg.connect(part.dsn)
        try:
            await copy_batch(conn, rows)
        finally:
            await conn.close()

    asyncio.run(append())
    return len(rows)


def build_rows(part: _Part) -> list[StatementRow]:
    """The rows of one batch, as `accept_statements` would make them: decoded and validated
    from JSON, completed with id, stored, authority and version."""
    from core.xapi.decode import decode_statements
    from core.xapi.models import Account, Agent
    from ingest.accept import xapi_time
    from ingest.rows import new_statement_id, to_row

    authority = Agent(
        name="bench seed", account=Account(home_page="http://bench", name=AUTHORITY_KEY)
    )
    rng = random.Random(part.seed * 1_000_003 + part.index)
    body = msgspec.json.encode([make_statement(rng) for _ in range(part.size)])
    first = part.index * part.batch
    rows = []
    for i, statement in enumerate(decode_statements(body, "1.0.3")):
        stored = part.origin + timedelta(microseconds=(first + i) * part.step_us)
        stored = stored.replace(microsecond=stored.microsecond // 1000 * 1000)
        complete = msgspec.structs.replace(
            statement,
            id=new_statement_id(),
            stored=xapi_time(stored),
            authority=authority,
            version="1.0.0",
        )
        rows.append(
            to_row(
                complete,
                stored=stored,
                authority_key=AUTHORITY_KEY,
                attachments=None,
                may_define=True,
            )
        )
    return rows


async def _vacuum_analyze(dsn: str) -> None:
    """What autovacuum does to a store that grew over time, done at once: planner statistics
    (or the first queries plan for an empty table), the visibility map, and summaries of the
    BRIN index on `stored` (an unsummarized block range matches every `since`)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        for table in ("statements", "statement_ids", "statement_agents", "statement_activities"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await conn.close()
