"""The keys the write path indexes compare byte by byte (migration 0018), and the read path's
lookups and filters still use those indexes and match exactly."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

KEYS = {
    ("statement_agents", "agent"),
    ("statement_activities", "activity"),
    ("activity_definitions", "activity"),
    ("statements", "verb"),
    ("statements", "authority"),
}


def collations(database_url: str) -> dict[tuple[str, str], str]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(
                "SELECT c.relname, a.attname, coll.collname FROM pg_attribute a"
                " JOIN pg_class c ON c.oid = a.attrelid"
                " JOIN pg_collation coll ON coll.oid = a.attcollation"
                " WHERE (c.relname::text, a.attname::text)"
                " IN (SELECT * FROM unnest($1::text[], $2::text[]))",
                [t for t, _ in KEYS],
                [c for _, c in KEYS],
            )
        finally:
            await conn.close()

    return {(r["relname"], r["attname"]): r["collname"] for r in asyncio.run(run())}


def plan(database_url: str, table: str, column: str) -> str:
    async def run() -> str:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("SET enable_seqscan = off")
            rows = await conn.fetch(
                f"EXPLAIN SELECT seq FROM {table} WHERE {column} = $1 ORDER BY seq DESC LIMIT 10",
                "http://example.com/key",
            )
            return "\n".join(r[0] for r in rows)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_indexed_keys_use_collation_c(database_url: str) -> None:
    assert collations(database_url) == dict.fromkeys(KEYS, "C")


def test_lookups_by_key_use_the_indexes(database_url: str) -> None:
    for table, column in [
        ("statement_agents", "agent"),
        ("statement_activities", "activity"),
        ("statements", "verb"),
        ("statements", "authority"),
    ]:
        explained = plan(database_url, table, column)
        assert "Seq Scan" not in explained and "Index" in explained, explained


def test_filters_by_key_match_exactly(client: httpx.Client) -> None:
    verb = f"http://example.com/verbs/collation-Ärger-{uuid.uuid4()}"
    statement = {
        "actor": {"mbox": "mailto:collation@example.com"},
        "verb": {"id": verb},
        "object": {"id": "http://example.com/activities/collation"},
    }
    assert client.post("/xapi/statements", json=statement).status_code == 200
    found = client.get("/xapi/statements", params={"verb": verb}).json()["statements"]
    assert [s["verb"]["id"] for s in found] == [verb]
    upper = client.get("/xapi/statements", params={"verb": verb.upper()}).json()["statements"]
    assert upper == []
