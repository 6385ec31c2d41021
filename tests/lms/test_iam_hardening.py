"""Hardening: security headers, rate limits, bounded request bodies, no secret in any log."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from lrs.ratelimit import FILE_NAME as RATE_LIMIT_FILE_NAME
from lrs.ratelimit import SLOTS, TokenBuckets
from tests.conftest import basic, create_credential
from tests.lms.conftest import PASSWORD, XAPI, bearer, create_user, password_grant, statement

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/xapi/about", {}),
        ("GET", "/xapi/statements", XAPI),
        ("GET", "/xapi/statements", {}),
        ("GET", "/api/v1/me", {}),
        ("POST", "/oauth/token", {}),
        ("GET", "/.well-known/jwks.json", {}),
    ],
)
def test_every_response_carries_the_security_headers(server, credential, method, path, headers):
    if path == "/xapi/statements" and headers:
        headers = {**headers, "Authorization": basic(*credential)}
    response = httpx.request(method, server.url + path, headers=headers)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, (path, response.status_code)
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_token_buckets_refill_at_the_rate_and_cap_at_the_burst():
    buckets = TokenBuckets(rate_per_s=2, burst=3)
    assert [buckets.take("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", 0.0) == pytest.approx(0.5)
    assert buckets.take("b", 0.0) == 0.0, "another caller has a bucket of their own"
    assert buckets.take("a", 0.5) == 0.0
    assert buckets.take("a", 100.0) == 0.0
    assert [buckets.take("a", 100.0) for _ in range(3)][-1] > 0, "never more than the burst"


def test_workers_share_the_buckets(tmp_path):
    path = tmp_path / RATE_LIMIT_FILE_NAME
    this_worker, other_worker = TokenBuckets(1, 3, path), TokenBuckets(1, 3, path)
    assert this_worker.take("a", 10.0) == 0.0
    assert other_worker.take("a", 10.0) == 0.0
    assert this_worker.take("a", 10.0) == 0.0
    assert other_worker.take("a", 10.0) == pytest.approx(1.0), "the burst is for both"
    assert other_worker.take("b", 10.0) == 0.0


def test_a_new_caller_reuses_a_refilled_slot_and_the_table_stays_bounded(tmp_path):
    path = tmp_path / RATE_LIMIT_FILE_NAME
    buckets = TokenBuckets(rate_per_s=10, burst=1, path=path)
    size = path.stat().st_size
    for i in range(3 * SLOTS):  # each slot's bucket has refilled 0.1 s after its take
        assert buckets.take(f"caller-{i}", i * 0.01) == 0.0
    assert path.stat().st_size == size
    assert buckets.take("caller-last", 10_000.0) == 0.0
    assert buckets.take("caller-last", 10_000.0) > 0, "its slot is its own"


@pytest.fixture(scope="module")
def limited_server(own_server_factory):
    # Two workers (tests/conftest.py) sharing the buckets: the counts below are exact.
    return own_server_factory({"HYPEREDU_RATE_LIMIT_PER_S": "1", "HYPEREDU_RATE_LIMIT_BURST": "5"})


def test_a_caller_over_the_limit_gets_429_with_retry_after(limited_server):
    me = {"Authorization": basic("caller-one", "whatever"), **XAPI}
    statuses = [
        httpx.get(limited_server.url + "/xapi/statements", headers=me).status_code for _ in range(6)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    limited = httpx.get(limited_server.url + "/xapi/statements", headers=me)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["x-content-type-options"] == "nosniff"
    other = {"Authorization": basic("caller-two", "whatever"), **XAPI}
    assert httpx.get(limited_server.url + "/xapi/statements", headers=other).status_code == 401


def test_iam_request_bodies_are_bounded(server, tokens):
    big = "x" * (65 * 1024)
    token = httpx.post(
        server.url + "/oauth/token",
        content=f"grant_type=password&username={big}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert token.status_code == 413
    user = httpx.post(
        server.url + "/api/v1/admin/users",
        content=json.dumps({"email": big, "password": big, "role": "learner"}),
        headers={**bearer(tokens["admin"]), "Content-Type": "application/json"},
    )
    assert user.status_code == 413


def test_deeply_nested_json_is_a_400_not_a_crash(server, tokens):
    nested = '{"email": "a@example.com", "password": "p", "role": "learner", "x": ' + (
        "[" * 5000 + "]" * 5000 + "}"
    )
    response = httpx.post(
        server.url + "/api/v1/admin/users",
        content=nested,
        headers={**bearer(tokens["admin"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_many_form_fields_are_refused(server):
    form = "&".join(f"f{i}=v" for i in range(100))
    response = httpx.post(
        server.url + "/oauth/token",
        content="grant_type=password&" + form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400


@pytest.fixture(scope="module")
def logging_server(own_server_factory):
    return own_server_factory({"HYPEREDU_ACCESS_LOG": "true", "HYPEREDU_LOG_LEVEL": "debug"})


def test_no_password_secret_or_token_reaches_the_log(logging_server):
    url = logging_server.url
    data_dir = logging_server.data_dir
    admin = create_user(data_dir, "admin")
    wrong_password = f"wrong-{uuid.uuid4().hex}"
    secrets = [PASSWORD, wrong_password]

    assert password_grant(url, admin["email"], wrong_password).status_code == 400
    granted = password_grant(url, admin["email"]).json()
    secrets += [granted["access_token"], granted["refresh_token"]]
    refreshed = httpx.post(
        url + "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]},
    ).json()
    secrets += [refreshed["access_token"], refreshed["refresh_token"]]
    # A replay: the error path must not log the token either.
    httpx.post(
        url + "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]},
    )
    headers = bearer(refreshed["access_token"])
    created = httpx.post(
        url + "/api/v1/admin/credentials", json={"scopes": "all"}, headers=headers
    ).json()
    secrets.append(created["secret"])
    key, secret = create_credential(data_dir, "all")
    secrets.append(secret)
    client_token = httpx.post(
        url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic(key, secret)},
    ).json()["access_token"]
    secrets.append(client_token)
    httpx.post(
        url + "/xapi/statements",
        json=statement("x@example.com"),
        headers={**XAPI, **bearer(client_token)},
    )
    httpx.get(
        url + "/xapi/statements", headers={**XAPI, "Authorization": basic(key, "not-" + secret)}
    )
    httpx.get(url + "/api/v1/me", headers=bearer(client_token[:-4] + "AAAA"))
    httpx.post(url + "/oauth/revoke", data={"token": refreshed["refresh_token"]})
    httpx.post(url + "/api/v1/me/logout", headers=headers)

    log = (data_dir / "server.log").read_text()
    assert log.strip(), "the server wrote nothing: the test would prove nothing"
    for value in secrets:
        assert value not in log
        # Parts of a JWT (its signature, its payload) would be as bad as the whole.
        for part in value.split(".") if value.count(".") == 2 else ():
            assert part not in log
