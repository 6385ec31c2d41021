"""The two server interfaces answer alike: RSGI (what `hyperedu serve` runs by default, plain
writes answered at its front, the rest bridged to the ASGI app) and ASGI (the app as it is).
Bodies streamed without a length, bodies over the bound, documents crossing the bridge, HEAD,
and the rate limiter, which must see every write when it is on."""

from __future__ import annotations

import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lrs.alternate_syntax import FORM_MAX_BYTES
from tests.conftest import Server, basic, create_credential, free_port

LIMIT = 64 * 1024
STATEMENT = b'{"actor":{"mbox":"mailto:front@example.com"},"verb":{"id":"http://x.example/v"},\
"object":{"id":"http://x.example/front"}}'


def _server(env: dict[str, str]) -> Iterator[httpx.Client]:
    path = Path(tempfile.mkdtemp(prefix="hyperedu-front-"))
    key, secret = create_credential(path)
    srv = Server(path, free_port(), env=env)
    srv.start()
    headers = {"X-Experience-API-Version": "1.0.3", "Authorization": basic(key, secret)}
    try:
        with httpx.Client(base_url=srv.url, headers=headers, timeout=30) as client:
            yield client
    finally:
        srv.stop()
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module", params=["rsgi", "asgi"])
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    env = {"HYPEREDU_INTERFACE": request.param, "HYPEREDU_MAX_BODY_BYTES": str(LIMIT)}
    yield from _server(env)


def _streamed(data: bytes, piece: int = 1000) -> Iterator[bytes]:
    """A body without Content-Length: httpx sends it chunked."""
    for start in range(0, len(data), piece):
        yield data[start : start + piece]


def test_a_statement_streamed_without_a_length_is_stored(client: httpx.Client) -> None:
    response = client.post(
        "/xapi/statements",
        content=_streamed(STATEMENT, 7),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert "content-length" not in response.request.headers
    (statement_id,) = response.json()
    stored = client.get("/xapi/statements", params={"statementId": statement_id})
    assert stored.json()["object"]["id"] == "http://x.example/front"


@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "streamed"])
def test_a_statement_body_over_the_bound_is_413_with_the_rule(
    client: httpx.Client, streamed: bool
) -> None:
    body = b"[" + b",".join([STATEMENT] * (LIMIT // len(STATEMENT) + 1)) + b"]"
    assert len(body) > LIMIT
    response = client.post(
        "/xapi/statements",
        content=_streamed(body) if streamed else body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert str(LIMIT) in response.json()["message"]
    assert response.headers["x-experience-api-version"] == "1.0.3"


def test_a_document_streamed_across_the_bridge_arrives_whole(client: httpx.Client) -> None:
    params = {
        "activityId": "http://x.example/front",
        "agent": '{"mbox":"mailto:front@example.com"}',
        "stateId": uuid.uuid4().hex,
    }
    document = bytes(range(256)) * 100
    put = client.put(
        "/xapi/activities/state",
        params=params,
        content=_streamed(document),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert put.status_code == 204, put.text
    got = client.get("/xapi/activities/state", params=params)
    assert got.status_code == 200
    assert got.content == document
    head = client.head("/xapi/activities/state", params=params)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(document))
    assert head.headers["etag"] == got.headers["etag"]


def test_a_long_declared_body_is_refused_by_its_bound_before_it_has_all_arrived(
    client: httpx.Client,
) -> None:
    # The alternate request syntax bounds its form at FORM_MAX_BYTES: a request declaring far
    # more is refused once that much has come in, not held until the whole declared length.
    url = client.base_url
    head = (
        "POST /xapi/statements?method=PUT HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {FORM_MAX_BYTES * 8}\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"a" * (FORM_MAX_BYTES + 65536))
        status_line = sock.recv(64).split(b"\r\n")[0]
    assert status_line.startswith(b"HTTP/1.1 4"), status_line


def test_duplicate_request_headers_reach_the_app(client: httpx.Client) -> None:
    # Two X-Experience-API-Version headers: the first is the one the app reads, as before.
    response = client.get(
        "/xapi/about",
        headers=[("X-Experience-API-Version", "1.0.3"), ("X-Experience-API-Version", "2.0.0")],
    )
    assert response.status_code == 200
    assert response.headers["x-experience-api-version"] == "1.0.3"


@pytest.fixture(scope="module")
def limited() -> Iterator[httpx.Client]:
    # Two workers (tests/conftest.py) sharing the buckets: the counts below are exact.
    yield from _server({"HYPEREDU_RATE_LIMIT_PER_S": "1", "HYPEREDU_RATE_LIMIT_BURST": "3"})


def test_with_rate_limiting_on_every_write_passes_the_limiter(limited: httpx.Client) -> None:
    statuses = [
        limited.post(
            "/xapi/statements", content=STATEMENT, headers={"Content-Type": "application/json"}
        ).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [200] * 3
    assert statuses[3:] == [429, 429]
