"""`hyperedu bench append`: what PostgreSQL pays to append statements, by batch size.

Calls the ingest path's own append (`ingest.postgres.append_batch`: the `append_statements`
function below 500 rows, COPY from there) in a loop from one client on a fresh embedded
PostgreSQL, with the benchmark workload's rows, and reads that backend's CPU time from the
operating system. No HTTP and no server: this is the database's share of a statement, the
part `hyperedu bench ingest` reports as "pg s/1k", at a batch size held fixed.

Fitting cost = fixed + per_statement / batch over the sizes measured separates the cost of a
transaction (one call, its executor start-ups, the commit) from the cost of each statement
(its rows, index entries and WAL). The group commit's batch size under load (about ten
statements at 128 single-statement connections on 2 cores) sets where on that curve the
server runs.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ingest import workload_rows
from bench.report import RESULTS_DIR, envelope, save_result

WARMUP_BATCHES = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch", default="1,4,10,32,100", help="statements per append, comma-separated"
    )
    parser.add_argument(
        "--statements", type=int, default=20_000, help="statements appended per batch size"
    )
    parser.add_argument(
        "--variant",
        metavar="FILE.sql",
        help="compare instead: PostgreSQL CPU per statement with FILE.sql run after the"
        " migrations (B) against without (A), batches of the last --batch size alternating"
        " (bench/append_variant.py)",
    )
    parser.add_argument("--rounds", type=int, default=20, help="with --variant: A/B rounds")
    parser.add_argument("--results-dir", default=str(RESULTS_DIR), help="where the JSON goes")


def run(args: argparse.Namespace) -> int:
    sizes = [int(b) for b in args.batch.split(",") if b]
    if args.variant:
        return _run_variant(args, sizes[-1])
    results = asyncio.run(_measure(sizes, args.statements))
    print(f"{'batch':>6} {'pg CPU us/stmt':>15} {'wall us/stmt':>13}")
    for r in results:
        print(
            f"{r['batch']:>6} {r['pg_cpu_us_per_statement']:>15.1f} {r['wall_us_per_statement']:>13.1f}"
        )
    fit = _fit(results)
    if fit is not None:
        print(
            f"fit: {fit['fixed_us_per_batch']:.0f} us per batch"
            f" + {fit['us_per_statement']:.1f} us per statement (PostgreSQL CPU)"
        )
    save_result("append", envelope(args, results=results, fit=fit), Path(args.results_dir))
    return 0


def _run_variant(args: argparse.Namespace, batch: int) -> int:
    from bench.append_variant import compare

    sql = Path(args.variant).read_text()
    per_round = max(1, args.statements // (batch * max(1, args.rounds)))
    result = asyncio.run(compare(sql, batch, args.rounds, per_round))
    print(
        f"batch {batch}, {result['statements_per_side']} statements a side:"
        f" A {result['a_pg_cpu_us_per_statement']:.1f} us,"
        f" B {result['b_pg_cpu_us_per_statement']:.1f} us of PostgreSQL CPU per statement;"
        f" B/A = {result['b_over_a']}"
    )
    save_result("append", envelope(args, variant=result), Path(args.results_dir))
    return 0


async def _measure(sizes: list[int], statements: int) -> list[dict[str, Any]]:
    import asyncpg
    import psutil

    from ingest.embedded_postgres import start_embedded_postgres
    from ingest.migrate import migrate
    from ingest.postgres import append_batch

    data_dir = Path(tempfile.mkdtemp(prefix="hyperedu-bench-append-"))
    pg, dsn = start_embedded_postgres(data_dir)
    try:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            backend = psutil.Process(await conn.fetchval("SELECT pg_backend_pid()"))
            results = []
            for size in sizes:
                count = max(1, statements // size)
                print(f"batch {size}: {count} appends ...", flush=True)
                batches = workload_rows(WARMUP_BATCHES + count, size, seed=size)
                for rows in batches[:WARMUP_BATCHES]:
                    await append_batch(conn, rows)
                cpu_before = sum(backend.cpu_times()[:2])
                started = time.perf_counter()
                for rows in batches[WARMUP_BATCHES:]:
                    await append_batch(conn, rows)
                wall = time.perf_counter() - started
                cpu = sum(backend.cpu_times()[:2]) - cpu_before
                appended = count * size
                results.append(
                    {
                        "batch": size,
                        "statements": appended,
                        "pg_cpu_us_per_statement": round(cpu / appended * 1e6, 2),
                        "wall_us_per_statement": round(wall / appended * 1e6, 2),
                    }
                )
            return results
        finally:
            await conn.close()
    finally:
        pg.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def _fit(results: list[dict[str, Any]]) -> dict[str, float] | None:
    """Least squares of cost = per_statement + fixed / batch (CPU per statement)."""
    points = [(1 / r["batch"], r["pg_cpu_us_per_statement"]) for r in results]
    if len({x for x, _ in points}) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    return {
        "fixed_us_per_batch": round(slope, 1),
        "us_per_statement": round(mean_y - slope * mean_x, 1),
    }
