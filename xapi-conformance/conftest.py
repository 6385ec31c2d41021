"""Fixtures of the conformance suite: one LRS under test, reached over HTTP.

    pytest xapi-conformance --lrs-endpoint URL --lrs-key K --lrs-secret S [--lrs-version 1.0.3|2.0.0]

Without `--lrs-endpoint` the suite starts HyperEdu's own server (`hyperedu serve`) on a free
port with a fresh data directory, and creates an `all`-scoped credential for it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xapi-conformance")
    group.addoption("--lrs-endpoint", default=None, help="xAPI endpoint, e.g. http://h/xapi/")
    group.addoption("--lrs-key", default=None, help="HTTP Basic user (credential key)")
    group.addoption("--lrs-secret", default=None, help="HTTP Basic password (credential secret)")
    group.addoption(
        "--lrs-version",
        default="1.0.3",
        choices=["1.0.3", "2.0.0"],
        help="X-Experience-API-Version sent with every request",
    )


@dataclass
class LRS:
    """The LRS under test: its endpoint, credentials and the version this run speaks."""

    endpoint: str
    key: str
    secret: str
    version: str
    client: httpx.Client = field(repr=False)

    @property
    def is_2_0(self) -> bool:
        return self.version.startswith("2.")

    def url(self, resource: str) -> str:
        return self.endpoint.rstrip("/") + "/" + resource.lstrip("/")

    def headers(self, extra: dict[str, str] | None = None, *, version: bool = True) -> dict:
        headers = {"X-Experience-API-Version": self.version} if version else {}
        headers.update(extra or {})
        return headers

    def request(
        self,
        method: str,
        resource: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        version: bool = True,
        auth: bool = True,
    ) -> httpx.Response:
        if json_body is not None:
            content = json.dumps(json_body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        return self.client.request(
            method,
            self.url(resource),
            params=_encode_params(params),
            content=content,
            headers=self.headers(headers, version=version),
            auth=(self.key, self.secret) if auth else None,
        )

    def post_statements(self, body: Any, **kwargs: Any) -> httpx.Response:
        return self.request("POST", "statements", json_body=body, **kwargs)

    def put_statement(self, statement: dict, statement_id: str, **kw: Any) -> httpx.Response:
        return self.request(
            "PUT", "statements", params={"statementId": statement_id}, json_body=statement, **kw
        )

    def get_statements(self, params: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        return self.request("GET", "statements", params=params, **kw)


def _encode_params(params: dict[str, Any] | None) -> dict[str, str] | None:
    """Agent and other object-valued parameters travel as JSON text."""
    if params is None:
        return None
    return {
        k: json.dumps(v)
        if isinstance(v, (dict, list))
        else str(v).lower()
        if isinstance(v, bool)
        else str(v)
        for k, v in params.items()
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hyperedu() -> list[str]:
    exe = shutil.which("hyperedu")
    return [exe] if exe else [sys.executable, "-m", "hyperedu.cli"]


@pytest.fixture(scope="session")
def lrs(request: pytest.FixtureRequest) -> Iterator[LRS]:
    opt = request.config.getoption
    version = opt("--lrs-version")
    endpoint = opt("--lrs-endpoint")
    if endpoint:
        with httpx.Client(timeout=30) as client:
            yield LRS(endpoint, opt("--lrs-key") or "", opt("--lrs-secret") or "", version, client)
        return
    data_dir = tempfile.mkdtemp(prefix="xapi-conformance-")
    port = _free_port()
    created = subprocess.run(
        [
            *_hyperedu(),
            "credentials",
            "create",
            "--scopes",
            "all",
            "--data-dir",
            data_dir,
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    credential = json.loads(created.stdout.strip().splitlines()[-1])
    log = open(os.path.join(data_dir, "server.log"), "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [*_hyperedu(), "serve", "--port", str(port), "--data-dir", data_dir],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}/xapi/"
    try:
        _wait_until_up(endpoint, server)
        with httpx.Client(timeout=30) as client:
            yield LRS(endpoint, credential["key"], credential["secret"], version, client)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def _wait_until_up(endpoint: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"hyperedu serve exited with {server.returncode}")
        try:
            if httpx.get(endpoint + "about", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("hyperedu serve did not answer /xapi/about within 120 s")


@pytest.fixture
def unique() -> str:
    """A fresh suffix, so tests never see each other's data."""
    return uuid.uuid4().hex


@pytest.fixture
def agent(unique: str) -> dict:
    return {"objectType": "Agent", "name": "Conformance", "mbox": f"mailto:{unique}@example.com"}


@pytest.fixture
def activity(unique: str) -> dict:
    return {"objectType": "Activity", "id": f"http://example.com/activities/{unique}"}


@pytest.fixture
def statement(agent: dict, activity: dict) -> dict:
    """A minimal valid statement, new for every test."""
    return {
        "actor": agent,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "exp"}},
        "object": activity,
    }
