"""`hyperedu bench query`: latency of GET /xapi/statements on a seeded store, one filter at a
time (agent, verb, activity, registration, related_agents, related_activities, since, none),
and of following `more` links. Filter values are sampled from the store's newest statements,
so every query names something that exists."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench.report import RESULTS_DIR, envelope, latency_summary, save_result
from bench.server import Target, basic_auth, local_server
from core.config import AUTO_WORKERS_MAX, auto_workers

Params = dict[str, str]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", help="xAPI endpoint of a running LRS")
    parser.add_argument("--key", help="credential key (with --endpoint)")
    parser.add_argument("--secret", help="credential secret (with --endpoint)")
    parser.add_argument(
        "--data-dir", help="a seeded store (hyperedu bench seed): serve it here, then query it"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=auto_workers(),
        help=f"server workers (with --data-dir; default as `hyperedu serve`: one per CPU, at most {AUTO_WORKERS_MAX})",
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per filter")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--limit", type=int, default=100, help="statements per page")
    parser.add_argument(
        "--more-pages", type=int, default=5, help="`more` links followed per paging sequence"
    )
    parser.add_argument("--seed", type=int, default=1, help="which sampled values are asked")
    parser.add_argument(
        "--results-dir", default=str(RESULTS_DIR), help="where the JSON result goes"
    )


class _Sample:
    """Filter values that exist in the store, taken from its newest statements."""

    def __init__(self, statements: list[dict[str, Any]]) -> None:
        self.agents = sorted({json.dumps({"mbox": s["actor"]["mbox"]}) for s in statements})
        self.verbs = sorted({s["verb"]["id"] for s in statements})
        self.activities = sorted({s["object"]["id"] for s in statements})
        self.courses = sorted(
            {
                parent["id"]
                for s in statements
                for parent in s.get("context", {}).get("contextActivities", {}).get("parent", [])
            }
        )
        self.registrations = sorted(
            {s["context"]["registration"] for s in statements if "registration" in s["context"]}
        )
        self.newest = max(datetime.fromisoformat(s["stored"]) for s in statements)


def _filters(sample: _Sample, limit: int) -> dict[str, Callable[[random.Random], Params]]:
    page = {"limit": str(limit)}

    def since(rng: random.Random) -> Params:
        back = rng.choice([timedelta(hours=1), timedelta(days=1), timedelta(days=7)])
        return {**page, "since": (sample.newest - back).isoformat()}

    return {
        "none": lambda rng: page,
        "agent": lambda rng: {**page, "agent": rng.choice(sample.agents)},
        "verb": lambda rng: {**page, "verb": rng.choice(sample.verbs)},
        "activity": lambda rng: {**page, "activity": rng.choice(sample.activities)},
        "registration": lambda rng: {**page, "registration": rng.choice(sample.registrations)},
        "related_agents": lambda rng: {
            **page,
            "agent": rng.choice(sample.agents),
            "related_agents": "true",
        },
        "related_activities": lambda rng: {
            **page,
            "activity": rng.choice(sample.courses),
            "related_activities": "true",
        },
        "since": since,
    }


async def _timed_get(
    client: httpx.AsyncClient, url: str, params: Params | None = None
) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.get(url, params=params)
    return time.perf_counter() - started, response


async def _measure(
    jobs: Iterator[Callable[[], Any]], concurrency: int
) -> tuple[list[float], dict[str, int], list[int]]:
    """Run the jobs (each returns [(latency, response), ...]) `concurrency` at a time."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    found: list[int] = []

    async def worker() -> None:
        for job in jobs:
            for latency, response in await job():
                statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
                if response.status_code == 200:
                    latencies.append(latency)
                    found.append(len(response.json()["statements"]))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, statuses, found


async def _bench(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    headers = {"Authorization": target.auth, "X-Experience-API-Version": "1.0.3"}
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(
        base_url=target.origin, headers=headers, timeout=120, limits=limits
    ) as client:
        newest = await client.get("/xapi/statements", params={"limit": "500"})
        newest.raise_for_status()
        statements = newest.json()["statements"]
        if not statements:
            raise SystemExit("hyperedu bench query: the store is empty; run hyperedu bench seed")
        sample = _Sample(statements)
        rng = random.Random(args.seed)
        results: dict[str, Any] = {}
        for name, make_params in _filters(sample, args.limit).items():
            print(f"{name}: {args.requests} requests ...", file=sys.stderr, flush=True)
            jobs = iter([partial(_one, client, make_params(rng)) for _ in range(args.requests)])
            results[name] = _row(*await _measure(jobs, args.concurrency))
        print(f"more: {args.requests} requests ...", file=sys.stderr, flush=True)
        sequences = -(-args.requests // max(1, args.more_pages))
        verbs = [rng.choice(sample.verbs) for _ in range(sequences)]
        jobs = iter([partial(_paging, client, v, args.limit, args.more_pages) for v in verbs])
        results["more"] = _row(*await _measure(jobs, args.concurrency))
    return results


async def _one(client: httpx.AsyncClient, params: Params) -> list[tuple[float, httpx.Response]]:
    return [await _timed_get(client, "/xapi/statements", params)]


async def _paging(
    client: httpx.AsyncClient, verb: str, limit: int, pages: int
) -> list[tuple[float, httpx.Response]]:
    """A dashboard paging through one verb: the first page is not timed, the `more`s are."""
    first = await client.get("/xapi/statements", params={"verb": verb, "limit": str(limit)})
    more = first.json().get("more", "") if first.status_code == 200 else ""
    timed = []
    for _ in range(pages):
        if not more:
            break
        latency, response = await _timed_get(client, more)
        timed.append((latency, response))
        more = response.json().get("more", "") if response.status_code == 200 else ""
    return timed


def _row(latencies: list[float], statuses: dict[str, int], found: list[int]) -> dict[str, Any]:
    return {
        **latency_summary(latencies),
        "statuses": statuses,
        "mean_statements_returned": round(sum(found) / len(found), 1) if found else 0,
    }


def _print_table(results: dict[str, Any]) -> None:
    print(
        f"{'filter':<20} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'returned':>9}"
    )
    for name, r in results.items():
        errors = sum(n for s, n in r["statuses"].items() if s != "200")
        print(
            f"{name:<20} {r['requests']:>8} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}"
            f" {r['p99_ms']:>8.1f} {r['mean_statements_returned']:>9.1f}"
            + (f"  errors {errors}" if errors else "")
        )


def run(args: argparse.Namespace) -> int:
    context: AbstractContextManager[Target]
    if args.endpoint:
        if not (args.key and args.secret):
            print("hyperedu bench query: --endpoint needs --key and --secret", file=sys.stderr)
            return 2
        endpoint = args.endpoint.rstrip("/") + "/"
        context = nullcontext(Target(endpoint, basic_auth(args.key, args.secret), None))
    elif args.data_dir:
        context = local_server(Path(args.data_dir), workers=args.workers)
    else:
        print(
            "hyperedu bench query: give --endpoint, or --data-dir of a seeded store",
            file=sys.stderr,
        )
        return 2
    with context as target:
        count = _store_size(args)
        results = asyncio.run(_bench(target, args))
    _print_table(results)
    save_result(
        "query", envelope(args, store_statements=count, results=results), Path(args.results_dir)
    )
    return 0


def _store_size(args: argparse.Namespace) -> int | None:
    """How many statements the embedded store holds (unknown behind --endpoint)."""
    if not args.data_dir or args.endpoint:
        return None
    import asyncpg

    from ingest.embedded_postgres import start_embedded_postgres

    async def count(dsn: str) -> int:
        conn = await asyncpg.connect(dsn)
        try:
            # The planner's estimate: exact counts of 10 million rows take a while.
            return int(
                await conn.fetchval(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = 'statement_ids'"
                )
            )
        finally:
            await conn.close()

    pg, dsn = start_embedded_postgres(Path(args.data_dir).expanduser().resolve())
    try:
        return asyncio.run(count(dsn))
    finally:
        pg.cleanup()
