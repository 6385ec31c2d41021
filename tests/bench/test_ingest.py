"""`hyperedu bench ingest` end to end, briefly: its own embedded server, the no-op baseline
measured in alternating rounds, the median ratio in the result file and the JSON line, and
PostgreSQL's CPU split by the part of HyperEdu each backend serves."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest


def test_alternating_rounds_against_the_noop_report_the_median_ratio(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable, "-m", "hyperedu.cli", "bench", "ingest", "--batch", "1",
            "--duration", "1", "--connections", "4", "--compare-noop", "--rounds", "3",
            "--json", "--results-dir", str(tmp_path),
        ],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    [written] = tmp_path.glob("ingest-*.json")
    result = json.loads(written.read_text())
    main = result["results"][0]
    parts = main["postgres_cpu_s_per_1000_by_part"]
    assert parts["lrs"] > 0  # the group commit's appends, on connections named for the LRS
    assert "bus consumers" in parts  # the in-process LMS consumers' own connections
    assert sum(parts.values()) == pytest.approx(main["postgres_cpu_s_per_1000"])
    rounds = result["noop_rounds"]
    assert [r["round"] for r in rounds] == [1, 2, 3]
    for r in rounds:
        assert r["statements_per_s"] > 0 and r["noop_requests_per_s"] > 0 and r["errors"] == 0
        assert r["ratio"] == round(r["statements_per_s"] / r["noop_requests_per_s"], 3)
        assert r["p99_ms"] > 0 and r["noop_p99_ms"] > 0
    # round 1 is the main run's batch 1; the others are measured again
    assert rounds[0]["statements_per_s"] == result["results"][0]["statements_per_s"]
    median = round(statistics.median(r["ratio"] for r in rounds), 3)
    assert result["single_vs_noop_ratio"] == median
    assert json.loads(out.splitlines()[-1])["single_vs_noop_ratio"] == median
