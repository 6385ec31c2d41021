"""Fixtures of the IAM tests: one person per role on the session's server, their tokens,
and helpers to start a server of our own when a test needs other settings."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from ingest.bus_postgres import append_events
from tests.conftest import HYPEREDU, Server, basic, create_credential, free_port

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "author", "learner", "analyst")
XAPI = {"X-Experience-API-Version": "1.0.3"}


def create_user(data_dir: Path, role: str, email: str | None = None) -> dict[str, str]:
    """A user made with `hyperedu users create`, the password given on stdin."""
    email = email or f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    done = subprocess.run(
        [
            *HYPEREDU,
            "users",
            "create",
            "--role",
            role,
            "--email",
            email,
            "--password-stdin",
            "--json",
            "--data-dir",
            str(data_dir),
        ],
        input=PASSWORD + "\n",
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    made = json.loads(done.stdout.strip().splitlines()[-1])
    return {**made, "password": PASSWORD}


def password_grant(url: str, email: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    return httpx.post(
        url + "/oauth/token",
        data={"grant_type": "password", "username": email, "password": password, **extra},
        timeout=30,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def statement(actor_email: str) -> dict[str, object]:
    return {
        "actor": {"objectType": "Agent", "mbox": f"mailto:{actor_email}"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": f"http://example.com/activities/{uuid.uuid4().hex}"},
    }


def sql(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    """Run one query on the test's PostgreSQL; its rows."""

    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def publish(dsn: str, topic: str, *events: tuple[bytes, bytes]) -> None:
    """Append domain events to a topic of the PostgreSQL outbox, as the LMS services do."""

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                await append_events(conn, topic, list(events))
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="module")
def api(server: Server) -> Callable[..., httpx.Response]:
    """`api(method, path, as_, **kw)`: a request to /api/v1 as one of the test's people."""

    def call(method: str, path: str, as_: dict[str, Any], **kw: Any) -> httpx.Response:
        return httpx.request(
            method, server.url + "/api/v1" + path, headers=as_["headers"], timeout=30, **kw
        )

    return call


@pytest.fixture(scope="session")
def people(server: Server, data_dir: Path) -> dict[str, dict[str, str]]:
    """One user per role on the session's server."""
    return {role: create_user(data_dir, role) for role in ROLES}


@pytest.fixture(scope="session")
def tokens(server: Server, people: dict[str, dict[str, str]]) -> dict[str, str]:
    """An access token per role (password grant)."""
    out = {}
    for role, person in people.items():
        response = password_grant(server.url, person["email"])
        assert response.status_code == 200, response.text
        out[role] = response.json()["access_token"]
    return out


@pytest.fixture(scope="session")
def tool(server: Server, data_dir: Path) -> tuple[str, str]:
    """An LRS credential with every xAPI scope: a tool, not a person."""
    return create_credential(data_dir, "all")


@pytest.fixture(scope="session")
def principals(
    server: Server, tokens: dict[str, str], tool: tuple[str, str]
) -> dict[str, dict[str, str]]:
    """The Authorization header of every kind of caller, keyed by a name for test ids."""
    granted = httpx.post(
        server.url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic(*tool)},
        timeout=30,
    )
    assert granted.status_code == 200, granted.text
    return {
        "anonymous": {},
        **{role: bearer(token) for role, token in tokens.items()},
        "tool-basic": {"Authorization": basic(*tool)},
        "tool-bearer": bearer(granted.json()["access_token"]),
    }


@pytest.fixture(scope="module")
def own_server_factory() -> Iterator[object]:
    """`start(env)`: a server of our own on a fresh data directory, stopped after the module."""
    started: list[tuple[Server, Path]] = []

    def start(env: dict[str, str]) -> Server:
        path = Path(tempfile.mkdtemp(prefix="hyperedu-iam-"))
        srv = Server(path, free_port(), env=env)
        srv.start()
        started.append((srv, path))
        return srv

    yield start
    for srv, path in started:
        srv.stop()
        shutil.rmtree(path, ignore_errors=True)


def assert_notification_pushed(server_url: str, data_dir: Path, dsn: str, course_id: str) -> None:
    """A new learner's WebSocket receives the notification of a CourseCompleted event published
    to the outbox at `dsn`: a consumer made the notification, the server's hub pushed it."""
    import websocket  # websocket-client

    from core.events import CourseCompleted, encode_event

    learner = create_user(data_dir, "learner")
    token = password_grant(server_url, learner["email"]).json()["access_token"]
    ws_url = server_url.replace("http://", "ws://") + "/api/v1/notifications/ws"
    socket = websocket.create_connection(f"{ws_url}?access_token={token}", timeout=30)
    try:
        time.sleep(0.3)  # the hub has the socket
        publish(
            dsn,
            "lms.progress",
            encode_event(CourseCompleted(learner=learner["id"], course_id=course_id)),
        )
        pushed = json.loads(socket.recv())
        assert pushed["type"] == "CourseCompleted"
        assert pushed["event"]["course_id"] == course_id
    finally:
        socket.close()
