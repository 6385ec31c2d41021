"""Fixtures of the resource tests: fresh identities per test, and clients of the session's
server with other scopes or another xAPI version than the default `client`."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest


@pytest.fixture
def unique() -> str:
    """A fresh suffix, so tests never see each other's documents."""
    return uuid.uuid4().hex


@pytest.fixture
def agent(unique: str) -> dict[str, Any]:
    return {"objectType": "Agent", "name": "Ada", "mbox": f"mailto:ada-{unique}@example.com"}


@pytest.fixture
def activity_id(unique: str) -> str:
    return f"http://example.com/activities/{unique}"


@pytest.fixture(scope="session")
def make_client(server: Any, data_dir: Path) -> Iterator[Callable[..., httpx.Client]]:
    """`make_client(scopes, version)`: a client of the session's server holding a new
    credential with those scopes."""
    clients: list[httpx.Client] = []

    def make(scopes: str = "all", version: str = "1.0.3") -> httpx.Client:
        command = ["credentials", "create", "--scopes", scopes, "--json"]
        created = subprocess.run(
            [sys.executable, "-m", "hyperedu.cli", *command, "--data-dir", str(data_dir)],
            check=True,
            capture_output=True,
            text=True,
        )
        made = json.loads(created.stdout.strip().splitlines()[-1])
        token = base64.b64encode(f"{made['key']}:{made['secret']}".encode()).decode()
        client = httpx.Client(
            base_url=server.url,
            headers={"X-Experience-API-Version": version, "Authorization": f"Basic {token}"},
            timeout=30,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def client_v2(make_client: Callable[..., httpx.Client]) -> httpx.Client:
    """An `all`-scoped client speaking xAPI 2.0.0."""
    return make_client("all", "2.0.0")
