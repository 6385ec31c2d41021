"""The authorisation matrix: every IAM and admin endpoint, called by every kind of caller.

Denied by default: only the admin role manages people and credentials; every person and
tool may ask who they are; the OAuth endpoints and the JWKS are public.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from lms.iam.roles import Permission, Role, permits, scopes_of
from tests.conftest import Server
from tests.lms.conftest import PASSWORD, bearer, create_user, password_grant

CALLERS = ["anonymous", "admin", "author", "learner", "analyst", "tool-basic", "tool-bearer"]
ADMIN_ONLY = {c: 403 for c in CALLERS} | {"anonymous": 401}
ANY_SIGNED_IN = {c: 200 for c in CALLERS} | {"anonymous": 401}


def _admin_only(status: int) -> dict[str, int]:
    return ADMIN_ONLY | {"admin": status}


def _public(status: int) -> dict[str, int]:
    return {c: status for c in CALLERS}


Call = Callable[[httpx.Client, Server, dict[str, dict[str, str]]], httpx.Response]

# (name, call, expected status by caller)
MATRIX: list[tuple[str, Call, dict[str, int]]] = [
    ("GET /api/v1/me", lambda c, s, p: c.get("/api/v1/me"), ANY_SIGNED_IN),
    (
        "GET /api/v1/admin/credentials",
        lambda c, s, p: c.get("/api/v1/admin/credentials"),
        _admin_only(200),
    ),
    (
        "POST /api/v1/admin/credentials",
        lambda c, s, p: c.post(
            "/api/v1/admin/credentials", json={"scopes": "statements/write", "label": "matrix"}
        ),
        _admin_only(201),
    ),
    (
        "DELETE /api/v1/admin/credentials/{key}",
        lambda c, s, p: c.delete(f"/api/v1/admin/credentials/{uuid.uuid4().hex}"),
        _admin_only(404),
    ),
    ("GET /api/v1/admin/users", lambda c, s, p: c.get("/api/v1/admin/users"), _admin_only(200)),
    (
        "POST /api/v1/admin/users",
        lambda c, s, p: c.post(
            "/api/v1/admin/users",
            json={
                "email": f"m-{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
                "role": "learner",
            },
        ),
        _admin_only(201),
    ),
    (
        "PATCH /api/v1/admin/users/{id}",
        lambda c, s, p: c.patch(
            f"/api/v1/admin/users/{p['learner']['id']}", json={"role": "learner"}
        ),
        _admin_only(200),
    ),
    (
        "POST /oauth/token",
        lambda c, s, p: c.post("/oauth/token", data={"grant_type": "client_credentials"}),
        # Tools authenticate with their Basic credential; a bearer header is not client auth.
        _public(401) | {"tool-basic": 200},
    ),
    (
        "POST /oauth/revoke",
        lambda c, s, p: c.post("/oauth/revoke", data={"token": "unknown"}),
        _public(200),
    ),
    ("GET /.well-known/jwks.json", lambda c, s, p: c.get("/.well-known/jwks.json"), _public(200)),
    (
        "GET /.well-known/oauth-authorization-server",
        lambda c, s, p: c.get("/.well-known/oauth-authorization-server"),
        _public(200),
    ),
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("name", "call", "expected"), MATRIX, ids=[m[0] for m in MATRIX])
def test_authorisation_matrix(server, people, principals, caller, name, call, expected):
    with httpx.Client(base_url=server.url, headers=principals[caller], timeout=30) as c:
        response = call(c, server, people)
    assert response.status_code == expected[caller], f"{name} as {caller}: {response.text}"


@pytest.mark.parametrize("role", ["admin", "author", "learner", "analyst", "anonymous"])
def test_logout_matrix(server: Server, data_dir, role):
    """Logout ends the caller's own sessions, so each role gets a person of its own."""
    headers = {}
    if role != "anonymous":
        person = create_user(data_dir, role)
        headers = bearer(password_grant(server.url, person["email"]).json()["access_token"])
    response = httpx.post(server.url + "/api/v1/me/logout", headers=headers)
    assert response.status_code == (401 if role == "anonymous" else 204)


def test_permissions_are_denied_unless_listed():
    assert all(permits(Role.ADMIN, p) for p in Permission)
    assert not permits(None, Permission.READ_SELF)
    assert not permits(Role.LEARNER, Permission.MANAGE_USERS)
    assert not permits(Role.AUTHOR, Permission.MANAGE_CREDENTIALS)
    assert not permits(Role.ANALYST, Permission.MANAGE_USERS)
    assert permits(Role.ANALYST, Permission.READ_ANALYTICS)
    assert permits(Role.AUTHOR, Permission.AUTHOR_CONTENT)
    assert "all" not in scopes_of(Role.LEARNER)
