"""`hyperedu bench append --variant FILE.sql`: does a schema change make appends cheaper?

Two databases on one fresh embedded PostgreSQL, both migrated; FILE.sql is then run in the
second (B) only: an index dropped, a column's collation changed, `append_statements`
replaced. The same workload's batches are appended to each from its own connection,
alternating between A and B every few batches (ABBA order), and each backend's CPU time is
read from the operating system. Alternating matters: this machine's speed drifts by 10-30 %
within minutes, far more than most schema changes are worth, and both sides see the same
drift. A/A (an empty FILE.sql) shows the method's own spread: about 3-4 % here.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

SIDES = ("a", "b")


async def compare(sql: str, batch: int, rounds: int, batches_per_round: int) -> dict[str, Any]:
    """PostgreSQL CPU per statement of A (as migrated) and B (with `sql` run after)."""
    import asyncpg
    import psutil

    from bench.ingest import workload_rows
    from ingest.embedded_postgres import start_embedded_postgres
    from ingest.migrate import migrate
    from ingest.postgres import append_batch

    data_dir = Path(tempfile.mkdtemp(prefix="hyperedu-bench-variant-"))
    pg, dsn = start_embedded_postgres(data_dir)
    conns: dict[str, asyncpg.Connection] = {}
    try:
        admin = await asyncpg.connect(dsn)
        try:
            for side in SIDES:
                await admin.execute(f"CREATE DATABASE variant_{side}")
        finally:
            await admin.close()
        backends = {}
        for side in SIDES:
            url = urlunsplit(urlsplit(dsn)._replace(path=f"/variant_{side}"))
            await migrate(url)
            conns[side] = conn = await asyncpg.connect(url)
            if side == "b" and sql.strip():
                await conn.execute(sql)
            backends[side] = psutil.Process(await conn.fetchval("SELECT pg_backend_pid()"))
        warmup = workload_rows(20, batch, seed=1)
        for side in SIDES:
            for rows in warmup:
                await append_batch(conns[side], rows)
        cpu = dict.fromkeys(SIDES, 0.0)
        for number in range(rounds):
            chunk = workload_rows(batches_per_round, batch, seed=100 + number)
            for side in SIDES if number % 2 == 0 else SIDES[::-1]:
                before = sum(backends[side].cpu_times()[:2])
                for rows in chunk:
                    await append_batch(conns[side], rows)
                cpu[side] += sum(backends[side].cpu_times()[:2]) - before
            print(f"round {number + 1}/{rounds}", flush=True)
        statements = rounds * batches_per_round * batch
        sizes = {side: await conns[side].fetchval("SELECT pg_database_size(current_database())")
                 for side in SIDES}  # fmt: skip
        return {
            "batch": batch,
            "statements_per_side": statements,
            "a_pg_cpu_us_per_statement": round(cpu["a"] / statements * 1e6, 2),
            "b_pg_cpu_us_per_statement": round(cpu["b"] / statements * 1e6, 2),
            "b_over_a": round(cpu["b"] / cpu["a"], 3) if cpu["a"] else None,
            "a_database_bytes": sizes["a"],
            "b_database_bytes": sizes["b"],
        }
    finally:
        for conn in conns.values():
            await conn.close()
        pg.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)
