"""Operating a real server: probes outside /xapi, request ids, metrics added up over several
workers, and JSON logs that never hold a credential."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Server, basic, create_credential, free_port

WORKERS = 2


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, str]]:
    """A server with two workers and the access log on, and one credential's key/secret."""
    data_dir = tmp_path_factory.mktemp("observed")
    key, secret = create_credential(data_dir)
    srv = Server(
        data_dir,
        free_port(),
        env={"HYPEREDU_WORKERS": str(WORKERS), "HYPEREDU_ACCESS_LOG": "true"},
    )
    srv.start()
    yield srv, key, secret
    srv.stop()


def statement() -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": "mailto:observed@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"objectType": "Activity", "id": "http://example.com/observed"},
    }


def samples(server: Server) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(server.url + "/metrics", timeout=10).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(server: Server, name: str, **labels: str) -> float:
    return samples(server).get((name, frozenset(labels.items())), 0.0)


def test_probes_answer_without_credentials_outside_xapi(observed: tuple[Server, str, str]) -> None:
    server, _, _ = observed
    assert httpx.get(server.url + "/healthz").status_code == 200
    ready = httpx.get(server.url + "/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ok"}


def test_a_request_id_is_echoed_or_made(observed: tuple[Server, str, str]) -> None:
    server, _, _ = observed
    given = httpx.get(server.url + "/healthz", headers={"X-Request-Id": "trace-123.abc"})
    assert given.headers["x-request-id"] == "trace-123.abc"
    made = {httpx.get(server.url + "/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(made) == 5
    unsafe = httpx.get(server.url + "/healthz", headers={"X-Request-Id": "a b\tc"})
    assert unsafe.headers["x-request-id"] != "a b\tc"


def test_metrics_add_up_over_all_workers(observed: tuple[Server, str, str]) -> None:
    server, key, secret = observed
    accepted_before = sample(server, "hyperedu_statements_accepted_total")
    posts_labels = {"route": "/xapi/statements", "method": "POST", "status": "200"}
    posts_before = sample(server, "hyperedu_http_requests_total", **posts_labels)
    posts = 12
    headers = {"X-Experience-API-Version": "1.0.3", "Authorization": basic(key, secret)}
    for _ in range(posts):  # a new connection each time, so that both workers serve some
        response = httpx.post(
            server.url + "/xapi/statements", json=[statement(), statement()], headers=headers
        )
        assert response.status_code == 200, response.text

    deadline = time.monotonic() + 10  # request tallies are flushed once a second
    while time.monotonic() < deadline:
        posts_seen = sample(server, "hyperedu_http_requests_total", **posts_labels)
        if posts_seen >= posts_before + posts:
            break
        time.sleep(0.2)
    assert posts_seen == posts_before + posts
    assert sample(server, "hyperedu_statements_accepted_total") == accepted_before + 2 * posts
    assert sample(server, "hyperedu_batch_statements_count") >= 1
    assert sample(server, "hyperedu_commit_seconds_count") >= 1
    assert sample(server, "hyperedu_db_pool_max_connections") == WORKERS * 8
    pids = {p.stem.rsplit("_", 1)[1] for p in (server.data_dir / "metrics").glob("counter_*")}
    assert len(pids) >= WORKERS, "every worker writes its own multiprocess file"


def test_no_credential_ever_reaches_the_log(observed: tuple[Server, str, str]) -> None:
    server, key, secret = observed
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    wrong_token = base64.b64encode(f"{key}:not-{secret}".encode()).decode()
    rid = f"secrets-{uuid.uuid4().hex}"
    headers = {
        "X-Experience-API-Version": "1.0.3",
        "Authorization": f"Basic {token}",
        "X-Request-Id": rid,
    }
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        assert client.post("/xapi/statements", json=statement()).status_code == 200
        assert client.post("/xapi/statements", json={"actor": "nobody"}).status_code == 400
        assert client.get("/xapi/statements", params={"limit": 1}).status_code == 200
        wrong = client.get("/xapi/statements", headers={"Authorization": f"Basic {wrong_token}"})
        assert wrong.status_code == 401
        form = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}
        alternate = client.post(
            "/xapi/statements", params={"method": "GET"}, data=form, headers={"Authorization": ""}
        )
        assert alternate.status_code == 200, alternate.text

    log = server.data_dir / "server.log"
    lines = _lines_for(log, rid)
    assert len(lines) >= 5, "the access log has a line for each request"
    assert all(json.loads(line)["request_id"] == rid for line in lines)
    written = log.read_text()
    for credential in (secret, token, wrong_token, f"not-{secret}"):
        assert credential not in written


def _lines_for(log: Path, rid: str) -> list[str]:
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in log.read_text().splitlines() if rid in line]
        if len(lines) >= 5 or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)
