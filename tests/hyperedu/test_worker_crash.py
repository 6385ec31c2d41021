"""A server worker killed under load is replaced; every statement acknowledged is kept, and
Consistent-Through moves on past what the dead worker had in flight. The workers of a server
whose main process is killed stop too."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from core.processes import alive
from tests.conftest import Server, basic, create_credential, free_port

_SPAWNED = re.compile(r"Spawning worker-(\d+) with pid: (\d+)", re.IGNORECASE)


def spawned(log: Path) -> list[tuple[int, int]]:
    """(worker number, pid) of every worker the server has spawned, in order."""
    return [(int(n), int(pid)) for n, pid in _SPAWNED.findall(log.read_text())]


def statement(actor: str) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": f"mailto:{actor}@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "http://example.com/activities/crash"},
    }


def test_a_killed_worker_is_replaced_and_nothing_acknowledged_is_lost(tmp_path: Path):
    auth = basic(*create_credential(tmp_path))
    headers = {"Authorization": auth, "X-Experience-API-Version": "1.0.3"}
    server = Server(tmp_path, free_port(), env={"HYPEREDU_WORKERS": "2"})
    server.start()
    log = tmp_path / "server.log"
    acknowledged: list[str] = []
    stop = threading.Event()

    def post_until_stopped() -> None:
        while not stop.is_set():
            sent = statement("crash")
            try:  # a new connection each time, to reach both workers
                answer = httpx.post(
                    server.url + "/xapi/statements", json=sent, headers=headers, timeout=30
                )
            except httpx.HTTPError:
                continue  # the killed worker's connections: not acknowledged
            if answer.status_code == 200:
                acknowledged.append(sent["id"])

    try:
        deadline = time.monotonic() + 60
        while len(spawned(log)) < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        victim = spawned(log)[0][1]
        posters = [threading.Thread(target=post_until_stopped) for _ in range(4)]
        for poster in posters:
            poster.start()
        time.sleep(1.0)
        os.kill(victim, signal.SIGKILL)
        while len(spawned(log)) < 3:  # its replacement
            assert time.monotonic() < deadline, log.read_text()
            assert server.process is not None and server.process.poll() is None, log.read_text()
            time.sleep(0.1)
        time.sleep(1.0)
        stop.set()
        for poster in posters:
            poster.join()
        assert server.process is not None and server.process.poll() is None
        assert len(acknowledged) > 20, len(acknowledged)

        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            for statement_id in acknowledged:
                found = client.get("/xapi/statements", params={"statementId": statement_id})
                assert found.status_code == 200, statement_id
            for _ in range(4):  # each worker's answer, on new connections
                answer = httpx.get(
                    server.url + "/xapi/statements?limit=1", headers=headers, timeout=30
                )
                header = answer.headers["x-experience-api-consistent-through"]
                through = datetime.fromisoformat(header.replace("Z", "+00:00"))
                assert through > datetime.now(UTC) - timedelta(seconds=10), header
    finally:
        stop.set()
        server.stop()


def test_the_workers_stop_when_the_main_process_is_killed(tmp_path: Path):
    """`kill -9` of the server's main process alone: its workers stop too (they would serve
    on, orphaned, beside the server started next), and what they acknowledged is kept."""
    auth = basic(*create_credential(tmp_path))
    headers = {"Authorization": auth, "X-Experience-API-Version": "1.0.3"}
    server = Server(tmp_path, free_port(), env={"HYPEREDU_WORKERS": "2"})
    server.start()
    try:
        sent = [statement("orphan") for _ in range(10)]
        for one in sent:
            posted = httpx.post(server.url + "/xapi/statements", json=one, headers=headers)
            assert posted.status_code == 200
        workers = [pid for _, pid in spawned(tmp_path / "server.log")]
        assert len(workers) == 2
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in workers):
            assert time.monotonic() < deadline, "a worker serves on without its server"
            time.sleep(0.1)
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.url + "/xapi/about", timeout=2)

        server.start()  # on the same data directory and port
        for one in sent:
            found = httpx.get(
                server.url + "/xapi/statements", params={"statementId": one["id"]}, headers=headers
            )
            assert found.status_code == 200
    finally:
        server.stop()
