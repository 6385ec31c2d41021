"""Integration fixtures: one real HyperEdu server on a real (embedded) PostgreSQL per session.

The server runs as `hyperedu serve` in a subprocess, exactly as users run it; tests talk
HTTP to it and SQL to its database.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

HYPEREDU = [sys.executable, "-m", "hyperedu.cli"]
# Every server a test starts runs two workers (the default on the 2-core CI machine), so the
# suite behaves alike on any machine: the default there would be one per CPU, up to four.
os.environ.setdefault("HYPEREDU_WORKERS", "2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hyperedu(*args: str, data_dir: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [*HYPEREDU, *args, "--data-dir", str(data_dir)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return done.stdout


def create_credential(data_dir: Path, scopes: str = "all") -> tuple[str, str]:
    out = json.loads(
        hyperedu("credentials", "create", "--scopes", scopes, "--json", data_dir=data_dir)
        .strip()
        .splitlines()[-1]
    )
    return out["key"], out["secret"]


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@dataclass
class Server:
    """A running `hyperedu serve`: start, kill -9, restart on the same data directory."""

    data_dir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [*HYPEREDU, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(self.data_dir / 'server.log').read_text()}")
            try:
                if httpx.get(self.url + "/xapi/about", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not come up")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=60)
        else:  # it died: anything of its process group left behind goes too
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hyperedu-tests-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def credential(data_dir: Path) -> tuple[str, str]:
    return create_credential(data_dir, "all")


@pytest.fixture(scope="session")
def server(data_dir: Path, credential: tuple[str, str]) -> Iterator[Server]:
    srv = Server(data_dir, free_port(), env={})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def client(server: Server, credential: tuple[str, str]) -> Iterator[httpx.Client]:
    """An authenticated xAPI 1.0.3 client of the session's server."""
    with httpx.Client(
        base_url=server.url,
        headers={"X-Experience-API-Version": "1.0.3", "Authorization": basic(*credential)},
        timeout=30,
    ) as c:
        yield c


@pytest.fixture(scope="session")
def database_url(server: Server) -> Iterator[str]:
    """SQL access to the server's own (embedded) PostgreSQL."""
    from ingest.embedded_postgres import start_embedded_postgres

    pg, dsn = start_embedded_postgres(server.data_dir)
    yield dsn
    pg.cleanup()
