"""`hyperedu bench append`: PostgreSQL's CPU per appended statement, split by the fit into a
cost per batch and a cost per statement."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bench.append import _fit, run


def test_the_fit_recovers_a_fixed_cost_per_batch_and_a_cost_per_statement() -> None:
    results = [
        {"batch": n, "pg_cpu_us_per_statement": 40.0 + 200.0 / n} for n in (1, 4, 10, 32, 100)
    ]
    assert _fit(results) == {"fixed_us_per_batch": 200.0, "us_per_statement": 40.0}
    assert _fit(results[:1]) is None  # one batch size cannot separate the two


def test_a_run_appends_through_the_ingest_path_and_writes_its_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(
        batch="1,8", statements=40, variant=None, rounds=20, results_dir=str(tmp_path)
    )
    assert run(args) == 0
    [written] = tmp_path.glob("append-*.json")
    result = json.loads(written.read_text())
    assert [r["batch"] for r in result["results"]] == [1, 8]
    assert [r["statements"] for r in result["results"]] == [40, 40]
    assert all(r["pg_cpu_us_per_statement"] >= 0 for r in result["results"])
    assert set(result["fit"]) == {"fixed_us_per_batch", "us_per_statement"}
    assert "us per batch" in capsys.readouterr().out


def test_a_variant_runs_in_the_second_database_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    variant = tmp_path / "variant.sql"
    variant.write_text("DROP INDEX statements_verb; DROP INDEX statements_authority;")
    args = argparse.Namespace(
        batch="4", statements=64, variant=str(variant), rounds=2, results_dir=str(tmp_path)
    )
    assert run(args) == 0
    [written] = tmp_path.glob("append-*.json")
    result = json.loads(written.read_text())["variant"]
    assert result["batch"] == 4 and result["statements_per_side"] == 64
    # CPU time comes in clock ticks: a side this small may read 0
    assert result["a_pg_cpu_us_per_statement"] >= 0 and result["b_pg_cpu_us_per_statement"] >= 0
    # B lacks two indexes A has: the SQL ran in B, and only there
    assert result["b_database_bytes"] < result["a_database_bytes"]
    assert "B/A = " in capsys.readouterr().out
