"""End to end on the real server: statements POSTed over HTTP reach ClickHouse exactly once
through the PostgreSQL-log bus and `hyperedu analytics sync`, across restarts and a replay."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx

from lms.analytics.sink import CONSUMER_GROUP

HYPEREDU = [sys.executable, "-m", "hyperedu.cli"]


def hyperedu(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*HYPEREDU, *args, "--data-dir", str(data_dir)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done


def post(client: httpx.Client, n: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    batch = [
        {
            "id": i,
            "actor": {"mbox": f"mailto:analytics{k % 5}@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": f"http://example.com/analytics/{k % 4}"},
        }
        for k, i in enumerate(ids)
    ]
    assert client.post("/xapi/statements", json=batch).status_code == 200
    return ids


def clickhouse(sql: str, data_dir: Path) -> list[dict]:
    done = hyperedu("sql", sql, "--no-sync", "--format", "json", data_dir=data_dir)
    return json.loads(done.stdout)


def fetchval(database_url: str, sql: str) -> int:
    async def run() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return int(await conn.fetchval(sql))
        finally:
            await conn.close()

    return asyncio.run(run())


def counts(ids: list[str], data_dir: Path) -> dict:
    listed = ",".join(f"'{i}'" for i in ids)
    return clickhouse(
        "SELECT count() AS total, uniqExact(id) AS distinct_ids,"
        f" countIf(id IN ({listed})) AS ours FROM statements",
        data_dir,
    )[0]


def test_statements_reach_clickhouse_once(client: httpx.Client, data_dir: Path, database_url: str):
    ids = post(client, 40)
    hyperedu("analytics", "sync", data_dir=data_dir)
    in_postgres = fetchval(database_url, "SELECT count(*) FROM statements")
    assert counts(ids, data_dir) == {"total": in_postgres, "distinct_ids": in_postgres, "ours": 40}

    # A later run (a restart) carries on from the committed position.
    ids += post(client, 25)
    hyperedu("analytics", "sync", data_dir=data_dir)
    in_postgres = fetchval(database_url, "SELECT count(*) FROM statements")
    assert counts(ids, data_dir) == {"total": in_postgres, "distinct_ids": in_postgres, "ours": 65}

    # A replay (the commit was lost): the whole log comes again, nothing is added twice.
    fetchval(
        database_url,
        f"UPDATE bus_offsets SET position = 0 WHERE \"group\" = '{CONSUMER_GROUP}' RETURNING 1",
    )
    replay = hyperedu("analytics", "sync", data_dir=data_dir)
    assert "0 new statements loaded" in replay.stderr
    assert counts(ids, data_dir) == {"total": in_postgres, "distinct_ids": in_postgres, "ours": 65}


def test_sql_syncs_first_by_default(client: httpx.Client, data_dir: Path, database_url: str):
    ids = post(client, 3)
    listed = ",".join(f"'{i}'" for i in ids)
    done = hyperedu(
        "sql", f"SELECT count() AS n FROM statements WHERE id IN ({listed})", "--format", "csv",
        data_dir=data_dir,
    )  # fmt: skip
    assert done.stdout.splitlines() == ['"n"', "3"]
