"""`hyperedu bench ingest`: statements/s, requests/s and latency of POST /xapi/statements at
several batch sizes, and, with --compare-copy, the raw ceiling of the same rows loaded by
`COPY` from one client into the same database, so every figure is also a ratio to it."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import psutil

from bench.loadgen import LoadResult, build_requests, run_load_process
from bench.relay_lag import RelayLag
from bench.report import code_version, envelope, save_result
from bench.server import basic_auth, free_port
from bench.workload import make_batches
from core.config import AUTO_WORKERS_MAX, auto_workers

if TYPE_CHECKING:
    from ingest.rows import StatementRow

RESULTS_DIR = Path(__file__).parent / "results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", help="xAPI endpoint of a running LRS (default: start one)")
    parser.add_argument("--key", help="credential key (with --endpoint)")
    parser.add_argument("--secret", help="credential secret (with --endpoint)")
    parser.add_argument(
        "--database-url", help="the LRS's PostgreSQL, for --compare-copy with --endpoint"
    )
    parser.add_argument(
        "--batch", default="1,10,100,1000", help="statements per request, comma-separated"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per batch size")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--clients", type=int, default=1, help="load-generator processes")
    parser.add_argument(
        "--workers",
        type=int,
        default=auto_workers(),
        help="server workers (embedded server; default as `hyperedu serve`: one per CPU, at most"
        f" {AUTO_WORKERS_MAX})",
    )
    parser.add_argument("--compare-copy", action="store_true", help="measure the raw COPY ceiling")
    parser.add_argument(
        "--compare-noop",
        action="store_true",
        help="measure a no-op Granian+Litestar POST (same workers) as the single-request ceiling",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --compare-noop: measure batch 1 and the no-op this many times, alternately,"
        " and report the median ratio (the machine's speed drifts between runs)",
    )
    parser.add_argument("--copy-rows", type=int, default=100_000, help="rows for the COPY ceiling")
    parser.add_argument(
        "--kafka",
        metavar="BOOTSTRAP",
        help="run the embedded server with Kafka (its outbox relay publishing to these brokers)"
        " and report the relay's lag (deploy/kafka/kafka.sh start gives one on 127.0.0.1:9092)",
    )
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    parser.add_argument(
        "--results-dir", default=str(RESULTS_DIR), help="where the JSON result goes"
    )


class Target(msgspec.Struct):
    endpoint: str
    auth: str
    database_url: str | None
    server_pids: list[int]
    data_dir: Path | None = None  # the embedded PostgreSQL's, to sample its CPU


@contextmanager
def embedded_server(workers: int, kafka: str | None = None) -> Iterator[Target]:
    """Our own server on a fresh embedded PostgreSQL, with SQL access to it for the ceiling;
    with `kafka`, its relay publishes every statement to those brokers."""
    from bench.server import local_server, server_processes
    from ingest.embedded_postgres import start_embedded_postgres

    data_dir = Path(tempfile.mkdtemp(prefix="hyperedu-bench-"))
    try:
        env = {"HYPEREDU_KAFKA_BOOTSTRAP": kafka} if kafka else None
        with local_server(data_dir, workers=workers, env=env) as target:
            assert target.pid is not None
            pg, dsn = start_embedded_postgres(data_dir)
            try:
                pids = [p.pid for p in server_processes(target.pid)]
                yield Target(target.endpoint, target.auth, dsn, pids, data_dir)
            finally:
                pg.cleanup()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def _noop_server(workers: int) -> Iterator[Target]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "granian", "--interface", "asgi", "--loop", "uvloop",
            "--workers", str(workers), "--port", str(port), "--no-ws", "bench.noop_app:app",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    import httpx

    endpoint = f"http://127.0.0.1:{port}/xapi/"
    try:
        for _ in range(300):
            try:
                httpx.post(endpoint + "statements", content=b"[]", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        pids = [server.pid] + [c.pid for c in psutil.Process(server.pid).children(recursive=True)]
        yield Target(endpoint, "Basic bm9vcDpub29w", None, pids)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)


def _postgres_pids(data_dir: Path) -> list[int]:
    """The embedded PostgreSQL's postmaster (started on data_dir/pg) and its backends."""
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(data_dir / "pg") in " ".join(cmdline):
            return [process.pid, *(c.pid for c in process.children(recursive=True))]
    return []


ENDED = 0  # not a pid: in `_cpu_by_pid`, the processes the postmaster has reaped


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each of the postmaster `pids[0]` and its children, and (as `ENDED`)
    of its children that have ended: autovacuum workers, backends of closed connections."""
    cpu = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        cpu[pid] = times.user + times.system
        if pid == pids[0]:
            cpu[ENDED] = times.children_user + times.children_system
    return cpu


def _postgres_cpu_by_part(
    dsn: str, before: dict[int, float], after: dict[int, float]
) -> dict[str, float]:
    """PostgreSQL's CPU seconds between the snapshots, by the part of HyperEdu each backend
    serves (its application_name): the LRS (the group commit's appends), the bus consumers,
    PostgreSQL's own background processes, the processes that ended between the snapshots
    (all of their CPU: a backend that ended counts from its start), and the rest."""
    import asyncpg

    from ingest.bus_postgres import CONSUMER_APPLICATION_NAME
    from lrs.app import LRS_APPLICATION_NAME

    async def backends() -> dict[int, tuple[str, str]]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(
                "SELECT pid, backend_type, application_name FROM pg_stat_activity"
            )
        finally:
            await conn.close()
        return {r["pid"]: (r["backend_type"], r["application_name"]) for r in rows}

    known = asyncio.run(backends())
    parts: dict[str, float] = {}
    for pid, seconds in after.items():
        backend_type, name = known.get(pid, ("postmaster", ""))
        if pid == ENDED:
            part = "ended"
        elif name == LRS_APPLICATION_NAME:
            part = "lrs"
        elif name.startswith(CONSUMER_APPLICATION_NAME):
            part = "bus consumers"
        elif backend_type != "client backend":
            part = "background"
        else:
            part = "other"
        parts[part] = parts.get(part, 0.0) + seconds - before.get(pid, 0.0)
    return parts


def _cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run_batch_size(target: Target, batch: int, args: argparse.Namespace) -> dict[str, Any]:
    bodies = [
        json.dumps(b).encode() for b in make_batches(max(8, 2000 // batch), batch, seed=batch)
    ]
    requests = build_requests(
        target.endpoint + "statements",
        bodies,
        {
            "Authorization": target.auth,
            "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json",
        },
    )
    per_client = max(1, args.connections // args.clients)
    lag = RelayLag(target.database_url) if args.kafka and target.database_url else None
    database_before = _cpu_by_pid(_postgres_pids(target.data_dir)) if target.data_dir else {}
    groups_before = _group_commits(target.endpoint)
    cpu_before = _cpu_seconds(target.server_pids)
    with lag or nullcontext(), multiprocessing.get_context("spawn").Pool(args.clients) as pool:
        parts = pool.map(
            run_load_process,
            [(target.endpoint + "statements", requests, per_client, args.duration)] * args.clients,
        )
    cpu = _cpu_seconds(target.server_pids) - cpu_before
    groups_after = _group_commits(target.endpoint)
    # backends that started during the run count from zero
    database_after = _cpu_by_pid(_postgres_pids(target.data_dir)) if target.data_dir else {}
    database_cpu = sum(t - database_before.get(pid, 0.0) for pid, t in database_after.items())
    database_parts = (
        _postgres_cpu_by_part(target.database_url, database_before, database_after)
        if database_after and target.database_url
        else {}
    )
    result = LoadResult()
    for part in parts:
        result.merge(part)
    ok = result.statuses.get(200, 0)
    latencies = sorted(result.latencies_s)
    statements = ok * batch
    per_commit = None
    if groups_before and groups_after and groups_after[1] > groups_before[1]:
        committed = groups_after[0] - groups_before[0]
        per_commit = round(committed / (groups_after[1] - groups_before[1]), 1)
    return {
        "batch": batch,
        "statements_per_s": statements / result.elapsed_s,
        "requests_per_s": len(latencies) / result.elapsed_s,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p95_ms": _percentile(latencies, 0.95) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "errors": result.errors + sum(n for s, n in result.statuses.items() if s != 200),
        "statuses": {str(k): v for k, v in result.statuses.items()},
        "server_cpu_s_per_1000": cpu / statements * 1000 if statements else None,
        **(
            {"postgres_cpu_s_per_1000": database_cpu / statements * 1000 if statements else None}
            if database_after
            else {}
        ),
        **(
            {
                "postgres_cpu_s_per_1000_by_part": {
                    part: seconds / statements * 1000 for part, seconds in database_parts.items()
                }
            }
            if database_parts and statements
            else {}
        ),
        **({"statements_per_commit": per_commit} if per_commit else {}),
        **(lag.result() if lag else {}),
    }


def _group_commits(endpoint: str) -> tuple[float, float] | None:
    """Statements committed and group commits so far, from the server's own histogram on
    /metrics (both workers); None where there is none (the no-op, metrics turned off)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    origin = endpoint.rstrip("/").removesuffix("/xapi")
    try:
        response = httpx.get(origin + "/metrics", timeout=10)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    totals = {"hyperedu_batch_statements_sum": 0.0, "hyperedu_batch_statements_count": 0.0}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name in totals:
                totals[sample.name] += sample.value
    return totals["hyperedu_batch_statements_sum"], totals["hyperedu_batch_statements_count"]


def workload_rows(count: int, batch: int, seed: int) -> list[list[StatementRow]]:
    """`count` batches of `batch` workload statements as the ingest path turns them into rows
    (decoded, validated, completed with id, stored and authority)."""
    from core.xapi.decode import decode_statements
    from core.xapi.models import Account, Agent
    from ingest.rows import new_statement_id, to_row

    authority = Agent(name="bench", account=Account(home_page="http://bench", name="bench"))
    prepared = []
    for statements in make_batches(count, batch, seed=seed):
        rows = []
        for statement in decode_statements(json.dumps(statements).encode(), "1.0.3"):
            now = datetime.now(UTC)
            complete = msgspec.structs.replace(
                statement,
                id=new_statement_id(),
                stored=now.isoformat(),
                authority=authority,
                version="1.0.0",
            )
            rows.append(
                to_row(
                    complete, stored=now, authority_key="bench", attachments=None, may_define=True
                )
            )
        prepared.append(rows)
    return prepared


async def copy_ceiling(dsn: str, rows_total: int) -> float:
    """Rows/s of the same kind of rows appended by one client with COPY, 10,000 per batch."""
    import asyncpg

    from ingest.postgres import copy_batch

    prepared = workload_rows(rows_total // 10_000 or 1, min(rows_total, 10_000), seed=99)
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        for rows in prepared:
            await copy_batch(conn, rows)
        elapsed = time.perf_counter() - started
    finally:
        await conn.close()
    return sum(len(r) for r in prepared) / elapsed


def _print_table(results: list[dict[str, Any]], ceiling: float | None) -> None:
    header = f"{'batch':>6} {'stmts/s':>10} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'cpu s/1k':>9} {'pg s/1k':>8} {'stmt/tx':>8}"
    if ceiling:
        header += f" {'ratio':>6}"
    print(header)
    for r in results:
        line = (
            f"{r['batch']:>6} {r['statements_per_s']:>10.0f} {r['requests_per_s']:>9.0f} {r['p50_ms']:>8.1f}"
            f" {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>7}"
            f" {(r['server_cpu_s_per_1000'] or 0):>9.3f}"
            f" {(r.get('postgres_cpu_s_per_1000') or 0):>8.3f}"
            f" {(r.get('statements_per_commit') or 0):>8.1f}"
        )
        if ceiling:
            line += f" {r['statements_per_s'] / ceiling:>6.2f}"
        if parts := r.get("postgres_cpu_s_per_1000_by_part"):
            line += "  pg by part: " + ", ".join(
                f"{part} {seconds:.3f}" for part, seconds in sorted(parts.items())
            )
        if "relay_lag_max" in r:
            line += (
                f"  relay lag max {r['relay_lag_max']:,} p95 {r['relay_lag_p95']:,},"
                f" caught up in {r['relay_catch_up_s']} s"
            )
        print(line, flush=True)


def run(args: argparse.Namespace) -> int:
    batches = _batches(args)
    code = code_version()  # as the server starts, not as the run ends
    if args.endpoint:
        if not (args.key and args.secret):
            print("hyperedu bench: --endpoint needs --key and --secret", file=sys.stderr)
            return 2
        context: Any = _nullcontext(
            Target(
                args.endpoint.rstrip("/") + "/",
                basic_auth(args.key, args.secret),
                args.database_url,
                [],
            )
        )
    else:
        context = embedded_server(args.workers, args.kafka)
    with context as target:
        results = []
        for batch in batches:
            print(
                f"batch {batch}: {args.duration:.0f} s with {args.connections} connections ...",
                file=sys.stderr,
                flush=True,
            )
            results.append(run_batch_size(target, batch, args))
        ceiling = None
        rounds: list[dict[str, Any]] = []
        if args.compare_noop:
            rounds = _noop_rounds(target, results, args)
        if args.compare_copy:
            if not target.database_url:
                print(
                    "hyperedu bench: --compare-copy with --endpoint needs --database-url",
                    file=sys.stderr,
                )
                return 2
            print(
                f"COPY ceiling: {args.copy_rows} rows in batches of 10,000 ...",
                file=sys.stderr,
                flush=True,
            )
            ceiling = asyncio.run(copy_ceiling(target.database_url, args.copy_rows))
    _print_table(results, ceiling)
    summary = _summary(results, ceiling, args, code)
    if rounds:
        summary["noop_rounds"] = rounds
        summary["noop_requests_per_s"] = statistics.median(r["noop_requests_per_s"] for r in rounds)
        summary["noop_server_cpu_s_per_1000"] = statistics.median(
            r["noop_server_cpu_s_per_1000"] for r in rounds
        )
        ratios = [r["ratio"] for r in rounds if r["ratio"] is not None]
        if len(ratios) > 1:
            for r in rounds:
                if r["ratio"] is None:
                    continue  # round 1 of a run that measured no batch 1 of its own
                print(
                    f"round {r['round']}: batch 1 {r['statements_per_s']:.0f} statements/s,"
                    f" (p99 {r['p99_ms']:.0f} ms), no-op {r['noop_requests_per_s']:.0f}"
                    f" requests/s (p99 {r['noop_p99_ms']:.0f} ms), ratio {r['ratio']:.3f}"
                )
        print(
            f"no-op POST: {summary['noop_requests_per_s']:.0f} requests/s,"
            f" {summary['noop_server_cpu_s_per_1000']:.3f} server CPU s/1k,"
            f" p99 {statistics.median(r['noop_p99_ms'] for r in rounds):.0f} ms",
            end="",
        )
        if ratios:
            summary["single_vs_noop_ratio"] = round(statistics.median(ratios), 3)
            summary["headline"]["single_vs_noop_ratio"] = summary["single_vs_noop_ratio"]
            which = f" (median of {len(ratios)} alternating rounds)" if len(ratios) > 1 else ""
            print(f"; batch 1 is {summary['single_vs_noop_ratio']:.2f} of it{which}", end="")
        print()
    save_result("ingest", summary, Path(args.results_dir))
    if args.json:
        print(json.dumps(summary["headline"]))
    return 0


def _noop_rounds(
    target: Target, results: list[dict[str, Any]], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Batch 1 against the no-op POST, `args.rounds` times alternately, each pair measured
    minutes apart at most: the first pair reuses batch 1 of the main run if it measured one."""
    pairs: list[dict[str, Any]] = []
    with _noop_server(args.workers) as noop_target:
        for number in range(1, max(1, args.rounds) + 1):
            single = next((r for r in results if r["batch"] == 1), None) if number == 1 else None
            if number > 1:
                print(f"round {number}: batch 1 ...", file=sys.stderr, flush=True)
                single = run_batch_size(target, 1, args)
            print(
                f"round {number}: no-op Granian+Litestar POST, batch 1 ...",
                file=sys.stderr,
                flush=True,
            )
            noop = run_batch_size(noop_target, 1, args)
            pairs.append(
                {
                    "round": number,
                    "statements_per_s": single["statements_per_s"] if single else None,
                    "p99_ms": single["p99_ms"] if single else None,
                    "errors": single["errors"] if single else None,
                    "server_cpu_s_per_1000": single["server_cpu_s_per_1000"] if single else None,
                    "postgres_cpu_s_per_1000": (
                        single.get("postgres_cpu_s_per_1000") if single else None
                    ),
                    "noop_requests_per_s": noop["requests_per_s"],
                    "noop_p99_ms": noop["p99_ms"],
                    "noop_server_cpu_s_per_1000": noop["server_cpu_s_per_1000"],
                    "ratio": (
                        round(single["requests_per_s"] / noop["requests_per_s"], 3)
                        if single
                        else None
                    ),
                }
            )
    return pairs


def _batches(args: argparse.Namespace) -> list[int]:
    return [int(b) for b in args.batch.split(",") if b]


def _summary(
    results: list[dict[str, Any]],
    ceiling: float | None,
    args: argparse.Namespace,
    code: str | None,
) -> dict[str, Any]:
    headline_row = next((r for r in results if r["batch"] == 100), results[-1])
    headline: dict[str, Any] = {
        "batch": headline_row["batch"],
        "statements_per_s": round(headline_row["statements_per_s"], 1),
        "requests_per_s": round(headline_row["requests_per_s"], 1),
        "p99_ms": round(headline_row["p99_ms"], 2),
        "errors": headline_row["errors"],
    }
    if ceiling:
        headline["copy_ceiling_rows_per_s"] = round(ceiling, 1)
        headline["ratio"] = round(headline_row["statements_per_s"] / ceiling, 3)
    return envelope(
        args, code=code, results=results, copy_ceiling_rows_per_s=ceiling, headline=headline
    )


class _nullcontext:
    def __init__(self, value: Target) -> None:
        self.value = value

    def __enter__(self) -> Target:
        return self.value

    def __exit__(self, *exc: object) -> None:
        return None
