"""The admin API: LRS credentials and people, managed by an admin over HTTP."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from lrs.credentials import CACHE_SECONDS
from tests.conftest import basic, create_credential, hyperedu
from tests.lms.conftest import PASSWORD, XAPI, bearer, password_grant, statement


@pytest.fixture
def admin(server, tokens):
    with httpx.Client(base_url=server.url, headers=bearer(tokens["admin"]), timeout=30) as c:
        yield c


def test_an_admin_creates_lists_and_revokes_a_credential(server, admin):
    created = admin.post(
        "/api/v1/admin/credentials", json={"scopes": "statements/write", "label": "quiz tool"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["scopes"] == ["statements/write"] and body["secret"]
    assert created.headers["cache-control"] == "no-store"
    auth = {**XAPI, "Authorization": basic(body["key"], body["secret"])}
    posted = httpx.post(
        server.url + "/xapi/statements", json=statement("t@example.com"), headers=auth
    )
    assert posted.status_code == 200

    listed = admin.get("/api/v1/admin/credentials").json()
    mine = next(c for c in listed if c["key"] == body["key"])
    assert mine["label"] == "quiz tool" and mine["revoked"] is None
    assert all("secret" not in c for c in listed)

    taken_by_every_worker(server.url, auth)
    assert admin.delete(f"/api/v1/admin/credentials/{body['key']}").status_code == 204
    revoked = time.monotonic()
    assert admin.delete(f"/api/v1/admin/credentials/{body['key']}").status_code == 404
    refused_by_every_worker(server.url, auth, before=revoked + CACHE_SECONDS / 2)


def test_a_credential_revoked_from_the_command_line_is_refused_at_once(server, data_dir):
    key, secret = create_credential(data_dir, "statements/write")
    auth = {**XAPI, "Authorization": basic(key, secret)}
    taken_by_every_worker(server.url, auth)
    revoked = time.monotonic()
    hyperedu("credentials", "revoke", key, data_dir=data_dir)
    refused_by_every_worker(server.url, auth, before=revoked + CACHE_SECONDS / 2)


def taken_by_every_worker(url: str, auth: dict[str, str]) -> None:
    """Each worker caches a credential it verified for CACHE_SECONDS (lrs/credentials.py):
    requests on new connections, to reach every worker, put it in every cache."""
    for _ in range(8):
        posted = httpx.post(url + "/xapi/statements", json=statement("t@example.com"), headers=auth)
        assert posted.status_code == 200


def refused_by_every_worker(url: str, auth: dict[str, str], before: float) -> None:
    """Eight requests in a row on new connections refused, well before the caches would have
    let the credential go by themselves: every worker was told of the revocation."""
    refused_in_a_row = 0
    while refused_in_a_row < 8:
        assert time.monotonic() < before, "a worker still takes the revoked credential"
        again = httpx.post(url + "/xapi/statements", json=statement("t@example.com"), headers=auth)
        refused_in_a_row = refused_in_a_row + 1 if again.status_code == 401 else 0


@pytest.mark.parametrize(
    "body",
    [
        {"scopes": "everything"},
        {"scopes": ""},
        {"scopes": "all", "admin": True},
        {"scopes": ["all"]},
    ],
)
def test_invalid_credential_requests_are_400(admin, body):
    assert admin.post("/api/v1/admin/credentials", json=body).status_code == 400


def test_an_admin_creates_a_user_who_can_sign_in(server, admin):
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    created = admin.post(
        "/api/v1/admin/users", json={"email": email, "password": PASSWORD, "role": "author"}
    )
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"id", "email", "role", "created", "disabled"}
    assert password_grant(server.url, email).status_code == 200
    duplicate = admin.post(
        "/api/v1/admin/users", json={"email": email.upper(), "password": PASSWORD, "role": "author"}
    )
    assert duplicate.status_code == 409
    listed = admin.get("/api/v1/admin/users").json()
    assert any(u["email"] == email for u in listed)
    assert all("password" not in str(u) for u in listed)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD, "role": "learner"},
        {"email": "x@example.com", "password": "short", "role": "learner"},
        {"email": "x@example.com", "password": PASSWORD, "role": "superuser"},
        {"email": "x@example.com", "password": PASSWORD, "role": "learner", "is_admin": True},
        {"email": "x@example.com"},
    ],
)
def test_invalid_user_requests_are_400(admin, body):
    assert admin.post("/api/v1/admin/users", json=body).status_code == 400


def test_a_role_change_applies_at_once_and_disabling_ends_sessions(server, admin):
    email = f"change-{uuid.uuid4().hex[:8]}@example.com"
    user = admin.post(
        "/api/v1/admin/users", json={"email": email, "password": PASSWORD, "role": "admin"}
    ).json()
    granted = password_grant(server.url, email).json()
    theirs = bearer(granted["access_token"])
    assert httpx.get(server.url + "/api/v1/admin/users", headers=theirs).status_code == 200

    changed = admin.patch(f"/api/v1/admin/users/{user['id']}", json={"role": "learner"})
    assert changed.status_code == 200 and changed.json()["role"] == "learner"
    assert httpx.get(server.url + "/api/v1/admin/users", headers=theirs).status_code == 403

    disabled = admin.patch(f"/api/v1/admin/users/{user['id']}", json={"disabled": True})
    assert disabled.json()["disabled"] is not None
    assert httpx.get(server.url + "/api/v1/me", headers=theirs).status_code == 401
    assert password_grant(server.url, email).status_code == 400
    refreshed = httpx.post(
        server.url + "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]},
    )
    assert refreshed.status_code == 400

    assert (
        admin.patch(f"/api/v1/admin/users/{user['id']}", json={"disabled": False}).status_code
        == 200
    )
    assert password_grant(server.url, email).status_code == 200


def test_an_admin_cannot_demote_or_disable_themselves(admin, people):
    me = admin.get("/api/v1/me").json()
    assert me["subject"] == people["admin"]["id"]
    response = admin.patch(f"/api/v1/admin/users/{me['subject']}", json={"role": "learner"})
    assert response.status_code == 409


def test_unknown_and_malformed_user_ids(admin):
    assert (
        admin.patch(f"/api/v1/admin/users/{uuid.uuid4()}", json={"role": "learner"}).status_code
        == 404
    )
    assert admin.patch("/api/v1/admin/users/not-a-uuid", json={}).status_code in (400, 404)


def test_me_describes_a_person_and_a_tool(server, principals, people):
    person = httpx.get(server.url + "/api/v1/me", headers=principals["analyst"]).json()
    assert person["email"] == people["analyst"]["email"]
    assert person["roles"] == ["analyst"] and "analytics:read" in person["permissions"]
    tool = httpx.get(server.url + "/api/v1/me", headers=principals["tool-basic"]).json()
    assert tool["kind"] == "client" and tool["roles"] == [] and tool["permissions"] == []
