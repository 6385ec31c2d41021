"""A local `hyperedu serve` for the benchmarks that need one: started on a data directory
(kept, so a seeded store can be queried again), with a credential, and the pids of its
process tree so CPU and memory can be sampled."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from ingest.inflight_board import FILE_NAME as BOARD_FILE_NAME
from ingest.inflight_board import claimed

HYPEREDU = [sys.executable, "-m", "hyperedu.cli"]


@dataclass(frozen=True)
class Target:
    """An xAPI endpoint to benchmark and how to reach it."""

    endpoint: str  # ends with /xapi/
    auth: str  # the Authorization header value
    pid: int | None  # the server's main process (None: a remote server, not sampled)

    @property
    def origin(self) -> str:
        return self.endpoint.removesuffix("xapi/").rstrip("/")


def basic_auth(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_credential(data_dir: Path, scopes: str = "all") -> tuple[str, str]:
    command = [*HYPEREDU, "credentials", "create", "--scopes", scopes, "--json"]
    created = subprocess.run(
        [*command, "--data-dir", str(data_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    cred = json.loads(created.stdout.strip().splitlines()[-1])
    return cred["key"], cred["secret"]


@contextmanager
def local_server(
    data_dir: Path, *, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[Target]:
    """`hyperedu serve` on `data_dir` (its log in data_dir/server.log) until the block ends;
    yields once every worker has started, so no measurement runs on fewer."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key, secret = create_credential(data_dir)
    port = free_port()
    command = [*HYPEREDU, "serve", "--port", str(port), "--workers", str(workers)]
    with open(data_dir / "server.log", "ab") as log:
        server = subprocess.Popen(
            [*command, "--data-dir", str(data_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}/xapi/"
    try:
        _wait_until_up(server, endpoint, data_dir, workers)
        yield Target(endpoint, basic_auth(key, secret), server.pid)
    finally:
        _stop(server, data_dir)


def _wait_until_up(
    server: subprocess.Popen[bytes], endpoint: str, data_dir: Path, workers: int
) -> None:
    log = data_dir / "server.log"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(endpoint + "about", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        raise RuntimeError("the server did not come up within 120 s")
    # The first worker answers; each of the others has claimed its slot on the in-flight
    # board once its app is starting.
    while workers > 1 and claimed(data_dir / BOARD_FILE_NAME) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not all {workers} workers started within 120 s")
        time.sleep(0.05)


def _stop(server: subprocess.Popen[bytes], data_dir: Path) -> None:
    """SIGTERM; SIGKILL after 30 s, then stop the embedded PostgreSQL it leaves behind."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
        return
    except subprocess.TimeoutExpired:
        print(f"the server (pid {server.pid}) did not stop in 30 s; killing it", file=sys.stderr)
    os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=30)
    if (data_dir / "pg").exists():
        from ingest.embedded_postgres import start_embedded_postgres

        pg, _ = start_embedded_postgres(data_dir)  # join it as its last user, then leave
        pg.cleanup()


def server_processes(pid: int) -> list[psutil.Process]:
    """The server and its workers; not the PostgreSQL it may have started (pgserver's
    postmaster is a daemon, but its backends could show up as children on some platforms)."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    return [p for p in processes if not p.name().startswith(("postgres", "pg_ctl"))]


def rss_bytes(pid: int) -> int:
    """Resident memory of the server's process tree (the sum over its processes)."""
    total = 0
    for process in server_processes(pid):
        with suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total
