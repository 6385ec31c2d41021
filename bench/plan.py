"""`hyperedu bench plan`: capacity arithmetic for a target request rate, from measured figures.

It reads a `hyperedu bench ingest` result (the latest bench/results/ingest-*.json unless
--results names one) and works out, line by line, the API cores and pods, the PostgreSQL write
nodes, the Kafka partitions and consumers, and the values of the 100k-rps Kubernetes overlay.
The measured inputs are only as good as the machine they came from: measure on nodes like
production's, with PostgreSQL on its own hosts, before ordering hardware."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from bench.report import RESULTS_DIR

# Not measured in this repository: ingest/relay.py publishes batches of up to 2000 with
# acks=all but records no throughput. 10,000 statements/s (about 8 MB/s of ~800-byte
# statements) is a conservative figure for one partition, and about what one Python consumer
# doing per-statement work keeps up with. Measure it and pass --partition-rps / --relay-rps.
PARTITION_RPS = 10_000
RELAY_RPS = 20_000
WRITERS = 2  # HYPEREDU_WRITERS default: connections each worker holds while committing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target-rps", type=float, default=100_000, help="requests/s to serve")
    parser.add_argument("--batch", type=int, default=1, help="statements per request")
    parser.add_argument(
        "--results",
        help="an ingest result (default: the latest in bench/results that measured --batch)",
    )
    parser.add_argument(
        "--utilization", type=float, default=0.7, help="planned load per resource (HPA target)"
    )
    parser.add_argument("--cores-per-pod", type=int, default=4, help="= HYPEREDU_WORKERS a pod")
    parser.add_argument(
        "--partition-rps",
        type=float,
        default=PARTITION_RPS,
        help="statements/s one Kafka partition and its consumer carry (assumed)",
    )
    parser.add_argument(
        "--relay-rps",
        type=float,
        default=RELAY_RPS,
        help="statements/s one outbox relay publishes (assumed)",
    )
    parser.add_argument("--pool-size", type=int, default=WRITERS + 2, help="DB pool per worker")


def latest_ingest_result(folder: Path, batch: int) -> Path | None:
    """The newest ingest result that measured `batch`, else the newest of all."""
    found = sorted(folder.glob("ingest-*.json"))
    for path in reversed(found):
        try:
            rows = json.loads(path.read_text()).get("results", [])
        except (OSError, ValueError):
            continue
        if any(row.get("batch") == batch for row in rows):
            return path
    return found[-1] if found else None


def _row_for(result: dict[str, Any], batch: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = result["results"]
    exact = [r for r in rows if r["batch"] == batch]
    if exact:
        return exact[0]
    nearest = min(rows, key=lambda r: abs(math.log(r["batch"]) - math.log(batch)))
    print(
        f"hyperedu bench plan: no measurement at batch {batch}; using batch {nearest['batch']}",
        file=sys.stderr,
    )
    return nearest


def plan(result: dict[str, Any], args: argparse.Namespace) -> tuple[list[str], dict[str, Any]]:
    """The explained lines, and the overlay values."""
    u = args.utilization
    row = _row_for(result, args.batch)
    workers = int(result["settings"].get("workers") or 1)
    statements = args.target_rps * args.batch
    cpu_per_1000 = row["server_cpu_s_per_1000"]
    per_worker = row["statements_per_s"] / workers
    ceiling = result.get("copy_ceiling_rows_per_s")
    lines = [
        f"Measured ({result['when']}, {result['machine']['cpus']} CPUs, batch {row['batch']}):"
        f" {row['statements_per_s']:,.0f} statements/s on {workers} server workers"
        f" = {per_worker:,.0f}/s per worker; server CPU {cpu_per_1000:.3f} s per 1000 statements;"
        f" COPY ceiling {f'{ceiling:,.0f} rows/s' if ceiling else 'not measured (--compare-copy)'}.",
        f"Target: {args.target_rps:,.0f} requests/s x {args.batch} statements"
        f" = {statements:,.0f} statements/s; every resource planned at {u:.0%} load.",
        "",
    ]

    cores = statements * cpu_per_1000 / 1000
    planned = cores / u
    pods = math.ceil(planned / args.cores_per_pod)
    by_throughput = math.ceil(statements / per_worker)
    lines += [
        "API (one worker per core):",
        f"  busy cores   = {statements:,.0f} statements/s x {cpu_per_1000:.3f} CPU-s / 1000"
        f" = {cores:,.1f}",
        f"  cores        = {cores:,.1f} / {u:.0%} = {planned:,.1f}"
        " (the HPA scales out at this utilization)",
        f"  pods         = ceil({planned:,.1f} / {args.cores_per_pod} cores a pod) = {pods}",
        f"  cross-check: at the measured {per_worker:,.0f} statements/s per worker you would need"
        f" {by_throughput} workers; that figure is worse when the bench machine's cores were"
        " shared with PostgreSQL and the load generator, which CPU seconds do not count.",
        "",
    ]

    shards = math.ceil(statements / (ceiling * u)) if ceiling else None
    if shards is not None and ceiling:
        lines += [
            "PostgreSQL writes (every statement is one row in statements, plus agent and"
            " activity index rows):",
            f"  per node     = {ceiling:,.0f} rows/s COPY ceiling x {u:.0%}"
            f" = {ceiling * u:,.0f} statements/s (the rest for vacuum, checkpoints, queries)",
            f"  write nodes  = ceil({statements:,.0f} / {ceiling * u:,.0f}) = {shards}",
            "  Partitioning one table within a node eases vacuum and retention but does not"
            " raise a node's write ceiling: these are separate primaries (shards by tenant or"
            " authority, or a distributed table such as Citus), each with its own replicas."
            " Group commit gathers concurrent requests into one append per commit, so a"
            " per-row ceiling holds at request batch 1 too, given enough concurrency."
            " HyperEdu writes to one HYPEREDU_DATABASE_URL today.",
            "",
        ]

    pg_per_1000 = row.get("postgres_cpu_s_per_1000")
    if pg_per_1000:
        pg_cores = statements * pg_per_1000 / 1000
        lines += [
            f"PostgreSQL CPU (measured at this batch size: {pg_per_1000:.3f} s per 1000"
            " statements, commits and index upkeep included):",
            f"  busy cores   = {statements:,.0f} x {pg_per_1000:.3f} / 1000 = {pg_cores:,.1f};"
            f" planned at {u:.0%}: {pg_cores / u:,.1f} cores across the write nodes",
            "",
        ]

    partitions = math.ceil(statements / (args.partition_rps * u))
    per_shard = statements / (shards or 1)
    lines += [
        f"Kafka (topic xapi.statements; assumed {args.partition_rps:,.0f} statements/s per"
        " partition and per consumer, not measured here):",
        f"  partitions   = ceil({statements:,.0f} / ({args.partition_rps:,.0f} x {u:.0%}))"
        f" = {partitions}",
        f"  consumers    = {partitions} per consumer group (one per partition; more would idle)",
        f"  relays       = {shards or 1}, one per PostgreSQL write node (a database elects one),"
        f" each publishing {per_shard:,.0f} statements/s"
        + (
            f" - above {u:.0%} of the assumed {args.relay_rps:,.0f}/s of one relay: measure it"
            if per_shard > args.relay_rps * u
            else f" (assumed capacity {args.relay_rps:,.0f}/s)"
        ),
        "",
    ]

    connections = pods * args.cores_per_pod * args.pool_size
    values = {
        "HYPEREDU_WORKERS": args.cores_per_pod,
        "HYPEREDU_DB_POOL_SIZE": args.pool_size,
        "replicas": pods,
        "minReplicas": pods,
        "maxReplicas": math.ceil(pods * 1.7),
        "cpu_request": str(args.cores_per_pod),
        "database_connections": connections,
        "postgresql_write_nodes": shards,
        "kafka_partitions": partitions,
        "consumers_per_group": partitions,
    }
    lines += [
        "Connections:",
        f"  {pods} pods x {args.cores_per_pod} workers x pool {args.pool_size}"
        f" ({WRITERS} writers + {args.pool_size - WRITERS} for queries) = {connections}"
        " client connections; put PgBouncer (transaction mode) in front.",
    ]
    return lines, values


def overlay_yaml(values: dict[str, Any]) -> str:
    return "\n".join(
        [
            "# deploy/k8s/overlays/100k-rps/kustomization.yaml",
            "configMapGenerator literals:",
            f"  - HYPEREDU_WORKERS={values['HYPEREDU_WORKERS']}",
            f"  - HYPEREDU_DB_POOL_SIZE={values['HYPEREDU_DB_POOL_SIZE']}",
            "Deployment hyperedu-api:",
            f"  /spec/replicas: {values['replicas']}",
            f'  resources: {{requests: {{cpu: "{values["cpu_request"]}", memory: 2Gi}},'
            " limits: {memory: 4Gi}}",
            "HorizontalPodAutoscaler hyperedu-api:",
            f"  /spec/minReplicas: {values['minReplicas']}",
            f"  /spec/maxReplicas: {values['maxReplicas']}",
            "# outside the overlay:",
            f"#   PostgreSQL write nodes: {values['postgresql_write_nodes']}",
            f"#   Kafka xapi.statements partitions: {values['kafka_partitions']};"
            f" consumers per group: {values['consumers_per_group']}",
            f"#   client connections to PgBouncer: {values['database_connections']}",
        ]
    )


def run(args: argparse.Namespace) -> int:
    path = Path(args.results) if args.results else latest_ingest_result(RESULTS_DIR, args.batch)
    if path is None:
        print(
            "hyperedu bench plan: no bench/results/ingest-*.json; run hyperedu bench ingest"
            " --compare-copy",
            file=sys.stderr,
        )
        return 2
    result = json.loads(path.read_text())
    lines, values = plan(result, args)
    print(f"From {path}:")
    print("\n".join(lines))
    print()
    print(overlay_yaml(values))
    return 0
