"""Acknowledged means committed: concurrent clients lose nothing, kill -9 loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import Server, basic, create_credential, free_port


def statement(actor: str, statement_id: str | None = None) -> dict:
    s = {
        "actor": {"objectType": "Agent", "mbox": f"mailto:{actor}@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"objectType": "Activity", "id": "http://example.com/durability"},
    }
    if statement_id:
        s["id"] = statement_id
    return s


async def stored_ids(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [str(r["id"]) for r in await conn.fetch("SELECT id FROM statements")]
    finally:
        await conn.close()


def post_until(
    url: str, auth: str, actor: str, acknowledged: list[str], stop: threading.Event
) -> None:
    with httpx.Client(
        base_url=url,
        headers={"X-Experience-API-Version": "1.0.3", "Authorization": auth},
        timeout=10,
    ) as client:
        while not stop.is_set():
            ids = [str(uuid.uuid4()) for _ in range(10)]
            try:
                response = client.post("/xapi/statements", json=[statement(actor, i) for i in ids])
            except httpx.HTTPError:
                return  # the server died mid-request: that batch was never acknowledged
            if response.status_code == 200:
                acknowledged.extend(ids)


@pytest.fixture
def own_server(tmp_path: Path):
    key, secret = create_credential(tmp_path)
    srv = Server(tmp_path, free_port(), env={})
    srv.start()
    yield srv, basic(key, secret)
    srv.stop()


def test_concurrent_clients_every_acknowledged_statement_stored_exactly_once(
    server, client, database_url
):
    acknowledged: list[str] = []
    stop = threading.Event()
    auth = client.headers["Authorization"]
    threads = [
        threading.Thread(target=post_until, args=(server.url, auth, f"c{i}", acknowledged, stop))
        for i in range(16)
    ]
    for t in threads:
        t.start()
    threading.Event().wait(3)
    stop.set()
    for t in threads:
        t.join()
    ids = asyncio.run(stored_ids(database_url))
    assert len(acknowledged) > 500
    assert set(acknowledged) <= set(ids)
    assert len(ids) == len(set(ids))


def acknowledged_until(srv: Server, auth: str, stop_server: Callable[[], None]) -> list[str]:
    """The ids acknowledged by 8 clients posting until `stop_server` (called after 2 s) ends
    the server; the clients stop at their first failed request."""
    acknowledged: list[str] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=post_until, args=(srv.url, auth, f"c{i}", acknowledged, stop))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    threading.Event().wait(2)
    stop_server()
    stop.set()
    for t in threads:
        t.join()
    return acknowledged


def stored_after_restart(srv: Server) -> set[str]:
    srv.start()
    from ingest.embedded_postgres import start_embedded_postgres

    pg, dsn = start_embedded_postgres(srv.data_dir)
    try:
        return set(asyncio.run(stored_ids(dsn)))
    finally:
        pg.cleanup()


def test_kill_minus_9_of_server_and_database_loses_no_acknowledged_statement(own_server):
    srv, auth = own_server

    def kill_both() -> None:
        postmaster = int((srv.data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        srv.stop(signal.SIGKILL)
        os.kill(postmaster, signal.SIGKILL)

    acknowledged = acknowledged_until(srv, auth, kill_both)
    assert len(acknowledged) > 100
    ids = stored_after_restart(srv)
    assert [i for i in acknowledged if i not in ids] == []


def test_sigterm_under_load_stops_cleanly_and_loses_no_acknowledged_statement(own_server):
    # A graceful stop: Granian stops taking requests, those in flight are answered, then the
    # app's lifespan ends and the committer drains what it accepted before the workers exit.
    srv, auth = own_server
    # Server.stop waits (at most 60 s) for the whole process group to exit.
    acknowledged = acknowledged_until(srv, auth, lambda: srv.stop(signal.SIGTERM))
    assert len(acknowledged) > 100
    assert "Traceback" not in (srv.data_dir / "server.log").read_text()
    ids = stored_after_restart(srv)
    assert [i for i in acknowledged if i not in ids] == []


def test_the_embedded_postgresql_killed_alone_is_started_again(own_server):
    """kill -9 of the embedded PostgreSQL under load: `hyperedu serve` starts it again. In
    between, requests are refused with 503 (never a 500), and nothing acknowledged is lost."""
    srv, auth = own_server
    statuses: list[int] = []
    acknowledged: list[str] = []
    stop = threading.Event()

    def post_through_the_outage(actor: str) -> None:
        with httpx.Client(
            base_url=srv.url,
            headers={"X-Experience-API-Version": "1.0.3", "Authorization": auth},
            timeout=30,
        ) as client:
            while not stop.is_set():
                ids = [str(uuid.uuid4()) for _ in range(10)]
                response = client.post("/xapi/statements", json=[statement(actor, i) for i in ids])
                statuses.append(response.status_code)
                if response.status_code == 200:
                    acknowledged.extend(ids)
                # and a query, which takes the other path (Litestar's, not the fast lane)
                statuses.append(client.get("/xapi/statements", params={"limit": 1}).status_code)

    threads = [threading.Thread(target=post_through_the_outage, args=(f"pg{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    threading.Event().wait(1)
    postmaster = int((srv.data_dir / "pg" / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGKILL)
    killed_at = len(statuses)
    deadline = time.monotonic() + 60
    while not serving_again(statuses[killed_at:]):
        assert time.monotonic() < deadline, f"not serving again: {Counter(statuses[killed_at:])}"
        threading.Event().wait(0.2)
    stop.set()
    for t in threads:
        t.join()
    assert set(statuses) <= {200, 503}, Counter(statuses)
    srv.stop()
    ids = stored_after_restart(srv)
    assert [i for i in acknowledged if i not in ids] == []


def serving_again(statuses: list[int]) -> bool:
    """Refusals (the outage seen), then 20 acknowledgements after the last of them."""
    refusals = [i for i, status in enumerate(statuses) if status != 200]
    return bool(refusals) and len(statuses) - refusals[-1] > 20
