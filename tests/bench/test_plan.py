"""`hyperedu bench plan` (bench/plan.py): which measurement it plans from, and its arithmetic."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.plan import add_arguments, latest_ingest_result, plan


def _result(batch: int, cpu_s_per_1000: float) -> dict[str, Any]:
    return {
        "when": "2026-12-03T00:00:00+00:00",
        "machine": {"cpus": 2},
        "settings": {"workers": 2},
        "copy_ceiling_rows_per_s": 20_000.0,
        "results": [
            {"batch": batch, "statements_per_s": 6_000.0, "server_cpu_s_per_1000": cpu_s_per_1000}
        ],
    }


def test_the_default_result_is_the_newest_that_measured_the_batch(tmp_path: Path) -> None:
    older = tmp_path / "ingest-2026-12-03T010000Z.json"
    newer = tmp_path / "ingest-2026-12-03T020000Z.json"
    older.write_text(json.dumps(_result(1, 0.18)))
    newer.write_text(json.dumps(_result(100, 0.06)))
    (tmp_path / "ingest-2026-12-03T030000Z.json").write_text("{not json")
    assert latest_ingest_result(tmp_path, 1) == older
    assert latest_ingest_result(tmp_path, 100) == newer
    # Nothing measured that batch: the newest of all (plan then says it uses another batch).
    assert latest_ingest_result(tmp_path, 10).name == "ingest-2026-12-03T030000Z.json"
    assert latest_ingest_result(tmp_path / "none", 1) is None


def test_pods_come_from_cpu_per_statement_at_the_planned_utilization() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--target-rps", "100000", "--batch", "1"])
    lines, values = plan(_result(1, 0.18), args)
    # 100,000/s x 0.18 CPU-ms = 18 busy cores; / 0.7 = 25.7; / 4 cores a pod -> 7 pods.
    assert values["replicas"] == 7
    assert any("= 18.0" in line for line in lines)
