"""What every benchmark result carries (when, on what machine, with which settings), and
where it goes: one JSON file per run in bench/results/, named `<bench>-<UTC time>.json`."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

RESULTS_DIR = Path(__file__).parent / "results"


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def latency_summary(latencies_s: list[float]) -> dict[str, float]:
    values = sorted(latencies_s)
    return {
        "requests": len(values),
        "p50_ms": round(percentile(values, 0.50) * 1000, 2),
        "p95_ms": round(percentile(values, 0.95) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        "max_ms": round((values[-1] if values else 0.0) * 1000, 2),
    }


def envelope(args: argparse.Namespace, **fields: Any) -> dict[str, Any]:
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        },
        "settings": {
            k: v for k, v in vars(args).items() if k not in ("key", "secret", "run") and v != ""
        },
        "server_environment": server_environment(),
        "code": code_version(),
        **fields,
    }


def code_version() -> str | None:
    """The commit the benchmark ran (with "+uncommitted" if the tree had changes), so a
    result can be traced to its code; None outside a git checkout."""
    try:
        commit = _git("rev-parse", "--short=12", "HEAD")
        changes = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+uncommitted" if changes else "")


def _git(*args: str) -> str:
    checkout = Path(__file__).parent.parent
    done = subprocess.run(
        ["git", *args], cwd=checkout, capture_output=True, text=True, check=True, timeout=10
    )
    return done.stdout.strip()


_NOT_RECORDED = ("SECRET", "KEY", "PASSWORD", "TOKEN", "URL", "JWKS")


def server_environment() -> dict[str, str]:
    """The HYPEREDU_* settings a server started by the benchmark inherits (HYPEREDU_INTERFACE,
    HYPEREDU_BATCH_WINDOW_MS, ...), so a result says what it measured; never credentials."""
    return {
        name: value
        for name, value in sorted(os.environ.items())
        if name.startswith("HYPEREDU_") and not any(word in name for word in _NOT_RECORDED)
    }


def save_result(bench: str, result: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = result["when"].replace(":", "").replace("+0000", "Z")
    path = folder / f"{bench}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"results written to {path}", file=sys.stderr)
    return path
