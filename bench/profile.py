"""`hyperedu bench profile`: where a statement's server CPU goes.

Starts the embedded server, drives it as `bench ingest` does (one batch size) twice: first
alone, measuring the server CPU per statement, then while py-spy samples every server
process. It writes to `bench/results/` a flame graph (SVG) and a JSON file with each stage's
share of the samples and its microseconds per statement: the share times the CPU per
statement of the first run (py-spy takes CPU from the same cores, so the profiled run is
slower and commits in smaller groups).

A sample counts for the innermost frame of ours (or of the library a stage is) on its stack:
a sample in asyncpg under `ingest/postgres.py` is the append, one in msgspec under
`core/xapi/decode.py` is decoding. Samples with no Python frame are Granian's native threads
(HTTP parsing, the socket I/O) and the event loop; py-spy counts a thread waiting for the GIL
as busy, so shares are of samples, a close but not exact proxy for CPU.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingest import embedded_server, run_batch_size
from bench.report import RESULTS_DIR, envelope, save_result
from core.config import AUTO_WORKERS_MAX, auto_workers

NATIVE = "Granian native threads and the event loop (no Python frame)"
OTHER = "other Python"

# The innermost frame whose file path contains one of these names its stage; the first match
# in this order wins for a frame, so more specific paths come first.
FILE_STAGES: tuple[tuple[str, str], ...] = (
    ("core/xapi/decode.py", "decode (msgspec)"),
    ("core/xapi/validate.py", "validate the data model"),
    ("core/xapi/", "data model (other)"),
    ("ingest/rows.py", "rows (ids, side-table rows)"),
    ("ingest/accept.py", "accept (stored, authority, version)"),
    ("ingest/postgres.py", "append to PostgreSQL (asyncpg)"),
    ("ingest/batcher.py", "group commit (queue, writers)"),
    ("lrs/credentials.py", "authentication"),
    ("lrs/ingest_fast_lane.py", "fast lane: the write's answer"),
    ("lrs/rsgi_front.py", "RSGI front: body in, response out"),
    ("lrs/statements.py", "statements resource"),
    ("lrs/metrics.py", "metrics layer (and the ASGI send it wraps)"),
    ("core/tracing.py", "tracing layer"),
    ("ingest/bus_postgres.py", "LMS consumers (reading the log)"),
    ("core/bus.py", "LMS consumers (reading the log)"),
    ("lms/", "LMS consumers (handling)"),
    ("ingest/partitions.py", "partition upkeep"),
    ("granian/", "Granian (Python side)"),
    ("asyncio/", "event loop (Python side)"),
)
_SKIPPED_FRAMES = (
    "<frozen runpy>",
    "<module> (hyperedu",
    "multiprocessing/",
    "granian/server/",
    "hyperedu/cli.py",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--batch", type=int, default=1, help="statements per request")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--connections", type=int, default=128, help="concurrent connections")
    parser.add_argument(
        "--workers",
        type=int,
        default=auto_workers(),
        help=f"server workers; default as `hyperedu serve`: one per CPU, at most {AUTO_WORKERS_MAX}",
    )
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument(
        "--keep-raw", action="store_true", help="keep py-spy's raw stacks beside the SVG"
    )
    parser.add_argument("--results-dir", default=str(RESULTS_DIR), help="where the SVG and JSON go")


def stage_of(frames: list[str]) -> str:
    """The stage a sample counts for, from its frames (outermost first, py-spy's raw form
    `function (path:line)`)."""
    ours = [f for f in frames if not _is_wrapper(f)]
    for frame in reversed(ours):
        for path, stage in FILE_STAGES:
            if path in frame:
                return stage
    if not ours:
        return NATIVE
    return OTHER


def _is_wrapper(frame: str) -> bool:
    """py-spy's process frames and the frames every worker's stack starts with."""
    return frame.startswith("process ") or any(skip in frame for skip in _SKIPPED_FRAMES)


def stage_shares(raw_lines: Iterable[str]) -> dict[str, float]:
    """Each stage's share of the samples in py-spy's raw output (`frame;frame;... count`),
    largest first."""
    samples: Counter[str] = Counter()
    for line in raw_lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():
            continue
        samples[stage_of([f for f in stack.split(";") if f.strip()])] += int(count)
    total = sum(samples.values())
    if not total:
        return {}
    return {stage: n / total for stage, n in samples.most_common()}


def run(args: argparse.Namespace) -> int:
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    svg = results_dir / f"profile-{stamp}.svg"
    raw = results_dir / f"profile-{stamp}.raw.txt"
    load_args = argparse.Namespace(
        connections=args.connections, clients=1, duration=args.duration, kafka=None
    )
    with embedded_server(args.workers) as target:
        print(
            f"batch {args.batch}: {args.duration:.0f} s with {args.connections} connections"
            " without py-spy (the CPU per statement), then as long with it (the shares) ...",
            file=sys.stderr,
            flush=True,
        )
        unprofiled = run_batch_size(target, args.batch, load_args)
        profiled: dict[str, Any] = {}
        load = threading.Thread(
            target=lambda: profiled.update(run_batch_size(target, args.batch, load_args))
        )
        load.start()
        margin_s = min(3.0, args.duration / 5)  # past the warm-up, and done before the load
        time.sleep(margin_s)
        sampled_s = max(1, int(args.duration - 2 * margin_s))
        spies = [
            _py_spy(target.server_pids[0], fmt, path, sampled_s, args.rate)
            for fmt, path in (("raw", raw), ("flamegraph", svg))
        ]
        for spy in spies:
            spy.wait()
        load.join()
    if any(spy.returncode for spy in spies) or not raw.exists():
        print("hyperedu bench profile: py-spy failed (it needs ptrace rights)", file=sys.stderr)
        return 1
    shares = stage_shares(raw.read_text().splitlines())
    if not args.keep_raw:
        raw.unlink()
    # py-spy takes CPU from the same cores, which slows the server and shrinks its group
    # commits: the microseconds come from the run without it.
    us_per_statement = (unprofiled.get("server_cpu_s_per_1000") or 0.0) * 1000
    report = envelope(
        args,
        load=unprofiled,
        load_while_profiled=profiled,
        server_cpu_us_per_statement=us_per_statement,
        stages=[
            {"stage": s, "share": round(v, 4), "us_per_statement": round(v * us_per_statement, 1)}
            for s, v in shares.items()
        ],
        flame_graph=svg.name,
    )
    path = save_result("profile", report, results_dir)
    print(
        f"{unprofiled.get('statements_per_s', 0):.0f} statements/s"
        f" ({profiled.get('statements_per_s', 0):.0f} while profiled),"
        f" {us_per_statement:.0f} µs of server CPU per statement; by stage:"
    )
    for row in report["stages"]:
        print(f"  {row['share'] * 100:5.1f} %  {row['us_per_statement']:6.1f} µs  {row['stage']}")
    print(f"flame graph {svg}, results {path}")
    return 0


def _py_spy(pid: int, fmt: str, path: Path, seconds: int, rate: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
            "--subprocesses", "--nonblocking", "--format", fmt, "--output", str(path),
            "--duration", str(seconds), "--rate", str(rate),
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
