"""`hyperedu bench soak`: is the server's memory flat under steady load?

Posts batches at a fixed rate (well under capacity: this measures leaks, not throughput) for
--duration seconds, sampling the resident memory of the server's process tree every
--interval seconds. Growth is the mean of the last three samples over the first sample after
the warm-up (pools, caches and allocator arenas fill in the first minutes); the target is
under 10 %. Exit status 1 when growth exceeds --max-growth."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import httpx

from bench.report import RESULTS_DIR, envelope, latency_summary, save_result
from bench.server import Target, basic_auth, local_server, rss_bytes
from bench.workload import make_batches
from core.config import AUTO_WORKERS_MAX, auto_workers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", help="xAPI endpoint of a running LRS on this machine")
    parser.add_argument("--key", help="credential key (with --endpoint)")
    parser.add_argument("--secret", help="credential secret (with --endpoint)")
    parser.add_argument("--pid", type=int, help="the server's main process (with --endpoint)")
    parser.add_argument(
        "--workers",
        type=int,
        default=auto_workers(),
        help=f"server workers (embedded server; default as `hyperedu serve`: one per CPU, at most {AUTO_WORKERS_MAX})",
    )
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument(
        "--warmup", type=float, help="seconds before the baseline sample (default: duration/5)"
    )
    parser.add_argument("--rate", type=float, default=500.0, help="statements/s posted")
    parser.add_argument("--batch", type=int, default=10, help="statements per request")
    parser.add_argument(
        "--max-growth", type=float, default=10.0, help="growth %% above which the soak fails"
    )
    parser.add_argument(
        "--results-dir", default=str(RESULTS_DIR), help="where the JSON result goes"
    )


async def _post_steadily(
    target: Target, args: argparse.Namespace, stop: asyncio.Event
) -> tuple[list[float], dict[str, int]]:
    bodies = [json.dumps(b).encode() for b in make_batches(200, args.batch, seed=11)]
    headers = {
        "Authorization": target.auth,
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
    }
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    in_flight: set[asyncio.Task[None]] = set()
    period = args.batch / args.rate
    async with httpx.AsyncClient(
        headers=headers, timeout=60, limits=httpx.Limits(max_connections=64)
    ) as client:

        async def post(body: bytes) -> None:
            started = time.perf_counter()
            try:
                response = await client.post(target.endpoint + "statements", content=body)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

        next_at = time.perf_counter()
        i = 0
        while not stop.is_set():
            # Open loop: requests leave on schedule whether or not earlier ones have returned,
            # bounded so a stalled server is not buried under them.
            if len(in_flight) < 256:
                task = asyncio.create_task(post(bodies[i % len(bodies)]))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                i += 1
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await asyncio.gather(*in_flight)
    return latencies, statuses


async def _soak(target: Target, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    stop = asyncio.Event()
    load = asyncio.create_task(_post_steadily(target, args, stop))
    samples: list[tuple[float, int]] = []
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < args.duration:
        samples.append((round(elapsed, 1), rss_bytes(pid)))
        print(
            f"  {elapsed:>6.0f} s  rss {samples[-1][1] / 2**20:>8.1f} MiB",
            file=sys.stderr,
            flush=True,
        )
        await asyncio.sleep(min(args.interval, args.duration - elapsed))
    samples.append((round(time.perf_counter() - started, 1), rss_bytes(pid)))
    stop.set()
    latencies, statuses = await load
    warmup = args.warmup if args.warmup is not None else args.duration / 5
    after = [rss for t, rss in samples if t >= warmup] or [samples[-1][1]]
    baseline = after[0]
    final = sum(after[-3:]) / len(after[-3:])
    return {
        "samples": [{"t_s": t, "rss_mib": round(rss / 2**20, 1)} for t, rss in samples],
        "baseline_mib": round(baseline / 2**20, 1),
        "final_mib": round(final / 2**20, 1),
        "peak_mib": round(max(rss for _, rss in samples) / 2**20, 1),
        "growth_pct": round((final - baseline) / baseline * 100, 2),
        "statements_posted": sum(n for s, n in statuses.items() if s == "200") * args.batch,
        "statuses": statuses,
        "latency": latency_summary(latencies),
    }


def run(args: argparse.Namespace) -> int:
    context: AbstractContextManager[Target]
    if args.endpoint:
        if not (args.key and args.secret and args.pid):
            print(
                "hyperedu bench soak: --endpoint needs --key, --secret and --pid", file=sys.stderr
            )
            return 2
        endpoint = args.endpoint.rstrip("/") + "/"
        context = nullcontext(Target(endpoint, basic_auth(args.key, args.secret), args.pid))
        data_dir = None
    else:
        data_dir = tempfile.TemporaryDirectory(prefix="hyperedu-soak-")
        context = local_server(Path(data_dir.name), workers=args.workers)
    try:
        with context as target:
            assert target.pid is not None
            result = asyncio.run(_soak(target, target.pid, args))
    finally:
        if data_dir is not None:
            data_dir.cleanup()
    print(
        f"rss {result['baseline_mib']:.1f} MiB after warm-up -> {result['final_mib']:.1f} MiB"
        f" at the end (peak {result['peak_mib']:.1f}): growth {result['growth_pct']:+.1f} %"
        f" (target < {args.max_growth:g} %); {result['statements_posted']:,} statements,"
        f" p99 {result['latency']['p99_ms']:.1f} ms, statuses {result['statuses']}"
    )
    save_result("soak", envelope(args, **result), Path(args.results_dir))
    return 0 if result["growth_pct"] < args.max_growth else 1
