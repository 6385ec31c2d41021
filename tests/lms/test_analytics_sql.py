"""Analyst SQL: read-only in two ways, and `hyperedu sql` / `hyperedu report` output formats."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from core.bus import STATEMENTS_TOPIC, Record
from lms.analytics.engine import ChdbEngine, EngineBusy
from lms.analytics.schema import apply_schema
from lms.analytics.sink import SinkStats, write_batch
from lms.analytics.sql import NotReadOnly, check_readonly, run_readonly_sql

HYPEREDU = [sys.executable, "-m", "hyperedu.cli"]


def statement(n: int) -> bytes:
    return msgspec.json.encode(
        {
            "id": str(uuid.UUID(int=n)),
            "actor": {"objectType": "Agent", "name": f"L{n}", "mbox": f"mailto:l{n}@ex.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"objectType": "Activity", "id": "http://ex.com/page/1"},
            "result": {"score": {"scaled": n / 10}},
            "timestamp": "2024-05-01T12:00:00Z",
            "stored": "2024-05-01T12:00:00Z",
        }
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose embedded ClickHouse holds three statements (and is closed)."""
    path = Path(tmp_path_factory.mktemp("analytics-cli"))
    engine = ChdbEngine(path / "clickhouse")
    apply_schema(engine)
    records = [Record(STATEMENTS_TOPIC, b"", statement(n), n) for n in (1, 2, 3)]
    write_batch(engine, records, SinkStats())
    engine.close()
    return path


@pytest.fixture
def engine(data_dir: Path) -> Iterator[ChdbEngine]:
    engine = ChdbEngine(data_dir / "clickhouse")
    yield engine
    engine.close()


def hyperedu(*args: str, data_dir: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*HYPEREDU, *args, "--no-sync", "--data-dir", str(data_dir)],
        capture_output=True,
        env={k: v for k, v in os.environ.items() if k != "HYPEREDU_CLICKHOUSE_URL"},
    )


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "  with x AS (SELECT 1) SELECT * FROM x;",
        "-- a comment\nSHOW TABLES",
        "/* c */ DESCRIBE TABLE statements",
        "EXPLAIN SELECT count() FROM statements",
        "SELECT 'a; DROP TABLE statements' AS s",
        "SELECT 1; -- done",
    ],
)
def test_read_only_queries_pass_the_check(sql: str):
    check_readonly(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO statements SELECT * FROM statements",
        "DROP TABLE statements",
        "ALTER TABLE statements DELETE WHERE 1",
        "SET readonly = 0",
        "SELECT 1; DROP TABLE statements",
        "SELECT * FROM statements INTO OUTFILE '/tmp/x.csv'",
        "",
    ],
)
def test_everything_else_is_refused(sql: str):
    with pytest.raises(NotReadOnly):
        check_readonly(sql)


def test_clickhouse_readonly_stops_what_the_check_lets_through(engine: ChdbEngine):
    for sql in (
        "SELECT * FROM file('/etc/hostname', 'LineAsString')",
        "SELECT 1 SETTINGS readonly = 0",
    ):
        with pytest.raises(RuntimeError, match="readonly"):
            run_readonly_sql(engine, sql, "csv")
    assert engine.query("SELECT count() FROM statements", "CSV") == b"3\n"


def test_embedded_store_is_one_process_at_a_time(engine: ChdbEngine, data_dir: Path):
    with pytest.raises(EngineBusy, match="in use by another hyperedu process"):
        ChdbEngine(data_dir / "clickhouse", wait_s=0.2)


QUERY = "SELECT actor_name, score_scaled FROM statements ORDER BY actor_name"


def test_sql_as_json_is_one_array_of_row_objects(data_dir: Path):
    done = hyperedu("sql", QUERY, "--format", "json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {"actor_name": "L1", "score_scaled": 0.1},
        {"actor_name": "L2", "score_scaled": 0.2},
        {"actor_name": "L3", "score_scaled": 0.3},
    ]


def test_sql_as_csv_has_a_header(data_dir: Path):
    done = hyperedu("sql", QUERY, "--format", "csv", data_dir=data_dir)
    assert list(csv.reader(io.StringIO(done.stdout.decode()))) == [
        ["actor_name", "score_scaled"],
        ["L1", "0.1"],
        ["L2", "0.2"],
        ["L3", "0.3"],
    ]


def test_sql_as_table_is_the_default(data_dir: Path):
    lines = hyperedu("sql", QUERY, data_dir=data_dir).stdout.decode().splitlines()
    assert "actor_name" in lines[0] and "score_scaled" in lines[0]
    assert "L3" in lines[-2] and "0.3" in lines[-2]


def test_sql_as_parquet_to_stdout_and_to_a_file(data_dir: Path, tmp_path: Path):
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    done = hyperedu("sql", QUERY, "--format", "parquet", data_dir=data_dir)
    assert done.stdout[:4] == b"PAR1"
    out = tmp_path / "result.parquet"
    hyperedu("sql", QUERY, "--format", "parquet", "--output", str(out), data_dir=data_dir)
    assert out.read_bytes() == done.stdout
    table = pyarrow_parquet.read_table(out)
    assert table.column("actor_name").to_pylist() == ["L1", "L2", "L3"]


def test_sql_refuses_writes(data_dir: Path):
    done = hyperedu("sql", "DELETE FROM statements WHERE 1", data_dir=data_dir)
    assert done.returncode == 2
    assert b"only DESC, DESCRIBE, EXPLAIN, SELECT, SHOW, WITH" in done.stderr


def test_sql_reports_clickhouse_errors(data_dir: Path):
    done = hyperedu("sql", "SELECT no_such_column FROM statements", data_dir=data_dir)
    assert done.returncode == 2
    assert b"no_such_column" in done.stderr


def test_report_command(data_dir: Path):
    done = hyperedu("report", "most-used-activities", "--format", "json", data_dir=data_dir)
    assert json.loads(done.stdout) == [
        {"activity_id": "http://ex.com/page/1", "name": "", "type": "",
         "statements": 3, "learners": 3},
    ]  # fmt: skip
