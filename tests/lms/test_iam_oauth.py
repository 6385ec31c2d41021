"""RFC 6749 token endpoint, RFC 7009 revocation, our JWKS, and bearer tokens on the LRS."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import jwt
import pytest

from lms.iam.keys import SigningKeys, rotate
from tests.conftest import Server, basic, hyperedu
from tests.lms.conftest import XAPI, bearer, create_user, password_grant, statement


def test_password_grant_returns_a_bearer_token_with_the_roles_scopes(server, people):
    response = password_grant(server.url, people["learner"]["email"])
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert set(body["scope"].split()) == {
        "statements/write",
        "statements/read/mine",
        "state",
        "profile",
    }
    assert body["refresh_token"]
    assert response.headers["cache-control"] == "no-store"


def test_wrong_password_and_unknown_user_are_the_same_invalid_grant(server, people):
    wrong = password_grant(server.url, people["learner"]["email"], "not the password!")
    unknown = password_grant(server.url, "nobody@example.com", "not the password!")
    assert wrong.status_code == unknown.status_code == 400
    assert (
        wrong.json()
        == unknown.json()
        == {
            "error": "invalid_grant",
            "error_description": "wrong email or password",
        }
    )


def test_a_narrower_scope_may_be_requested_but_not_a_wider_one(server, people):
    email = people["learner"]["email"]
    narrow = password_grant(server.url, email, scope="statements/write")
    assert narrow.json()["scope"] == "statements/write"
    wider = password_grant(server.url, email, scope="all")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    unknown = password_grant(server.url, email, scope="everything")
    assert unknown.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("data", "content_type", "error"),
    [
        ({"grant_type": "authorization_code"}, None, "unsupported_grant_type"),
        ({}, None, "invalid_request"),
        ({"grant_type": "password", "username": "x@example.com"}, None, "invalid_request"),
        ('{"grant_type": "password"}', "application/json", "invalid_request"),
        ("grant_type=password&grant_type=refresh_token", None, "invalid_request"),
    ],
)
def test_malformed_token_requests_are_rfc6749_errors(server, data, content_type, error):
    headers = {"Content-Type": content_type} if content_type else {}
    if isinstance(data, str) and not content_type:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    kwargs = {"content": data} if isinstance(data, str) else {"data": data}
    response = httpx.post(server.url + "/oauth/token", headers=headers, **kwargs)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_client_credentials_by_basic_or_form_carry_the_credentials_scopes(server, data_dir):
    from tests.conftest import create_credential

    key, secret = create_credential(data_dir, "statements/write,statements/read/mine")
    by_basic = httpx.post(
        server.url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic(key, secret)},
    )
    by_form = httpx.post(
        server.url + "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": key, "client_secret": secret},
    )
    for response in (by_basic, by_form):
        assert response.status_code == 200, response.text
        assert set(response.json()["scope"].split()) == {"statements/write", "statements/read/mine"}
        assert "refresh_token" not in response.json()
    claims = jwt.decode(by_form.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == claims["client_id"] == key


def test_wrong_client_secret_is_invalid_client_401(server, tool):
    response = httpx.post(
        server.url + "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": tool[0], "client_secret": "no"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


def test_access_tokens_verify_against_the_published_jwks(server, tokens):
    jwks = httpx.get(server.url + "/.well-known/jwks.json").json()
    token = tokens["analyst"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(jwt.PyJWK(k) for k in jwks["keys"] if k["kid"] == kid)
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience="hyperedu")
    assert claims["role"] == "analyst"
    assert claims["iss"] == server.url
    assert all("d" not in k for k in jwks["keys"]), "private key material published"


def test_metadata_names_the_endpoints(server):
    meta = httpx.get(server.url + "/.well-known/oauth-authorization-server").json()
    assert meta["token_endpoint"] == server.url + "/oauth/token"
    assert meta["jwks_uri"] == server.url + "/.well-known/jwks.json"


def test_refresh_rotates_the_token_and_a_reused_one_revokes_the_family(server, people):
    first = password_grant(server.url, people["author"]["email"]).json()["refresh_token"]
    refreshed = httpx.post(
        server.url + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first}
    )
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()["refresh_token"]
    assert second != first
    assert "define" in refreshed.json()["scope"].split()

    replayed = httpx.post(
        server.url + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first}
    )
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    # The replay revoked the family: the legitimate successor is dead too.
    after = httpx.post(
        server.url + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": second}
    )
    assert after.status_code == 400


def test_revoked_refresh_token_no_longer_refreshes(server, people):
    refresh = password_grant(server.url, people["author"]["email"]).json()["refresh_token"]
    assert httpx.post(server.url + "/oauth/revoke", data={"token": refresh}).status_code == 200
    # RFC 7009 2.2: an unknown token is not an error.
    assert httpx.post(server.url + "/oauth/revoke", data={"token": "nonsense"}).status_code == 200
    response = httpx.post(
        server.url + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert response.status_code == 400


def test_logout_refuses_the_access_token_and_the_refresh_token(server, data_dir):
    person = create_user(data_dir, "learner")
    granted = password_grant(server.url, person["email"]).json()
    headers = bearer(granted["access_token"])
    assert httpx.get(server.url + "/api/v1/me", headers=headers).status_code == 200
    assert httpx.post(server.url + "/api/v1/me/logout", headers=headers).status_code == 204
    assert httpx.get(server.url + "/api/v1/me", headers=headers).status_code == 401
    refreshed = httpx.post(
        server.url + "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]},
    )
    assert refreshed.status_code == 400
    # Signing in again works at once.
    again = password_grant(server.url, person["email"]).json()["access_token"]
    assert httpx.get(server.url + "/api/v1/me", headers=bearer(again)).status_code == 200


def test_a_learners_token_writes_statements_with_their_id_as_authority(server, people, tokens):
    headers = {**XAPI, **bearer(tokens["learner"])}
    posted = httpx.post(
        server.url + "/xapi/statements", json=statement("l@example.com"), headers=headers
    )
    assert posted.status_code == 200, posted.text
    [statement_id] = posted.json()
    read = httpx.get(
        server.url + "/xapi/statements", params={"statementId": statement_id}, headers=headers
    )
    assert read.status_code == 200, read.text
    assert read.json()["authority"]["account"]["name"] == people["learner"]["id"]


def test_statements_read_mine_by_token_sees_only_the_learners_own(server, client, tokens):
    theirs = client.post("/xapi/statements", json=statement("other@example.com")).json()[0]
    headers = {**XAPI, **bearer(tokens["learner"])}
    mine = httpx.post(
        server.url + "/xapi/statements", json=statement("me@example.com"), headers=headers
    )
    listed = httpx.get(server.url + "/xapi/statements", params={"limit": 500}, headers=headers)
    ids = {s["id"] for s in listed.json()["statements"]}
    assert mine.json()[0] in ids
    assert theirs not in ids


def test_an_analysts_token_reads_but_does_not_write(server, tokens):
    headers = {**XAPI, **bearer(tokens["analyst"])}
    assert httpx.get(server.url + "/xapi/statements", headers=headers).status_code == 200
    posted = httpx.post(
        server.url + "/xapi/statements", json=statement("a@example.com"), headers=headers
    )
    assert posted.status_code == 403


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwic2NvcGUiOiJhbGwifQ.",
        jwt.encode(
            {"sub": "x", "scope": "all", "kind": "client"},
            "a-secret-of-at-least-32-bytes-long!",
            algorithm="HS256",
        ),
    ],
    ids=["garbage", "alg-none", "hs256-forged"],
)
def test_forged_or_malformed_bearer_tokens_are_401(server, token):
    headers = {**XAPI, **bearer(token)}
    assert httpx.get(server.url + "/xapi/statements", headers=headers).status_code == 401
    assert httpx.get(server.url + "/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_tampered_token_is_401(server, tokens):
    header, _, signature = tokens["learner"].split(".")
    forged_claims = jwt.decode(tokens["learner"], options={"verify_signature": False})
    forged_claims["scope"] = "all"
    forged_payload = jwt.encode(forged_claims, "k" * 32, algorithm="HS256").split(".")[1]
    headers = {**XAPI, **bearer(f"{header}.{forged_payload}.{signature}")}
    assert httpx.get(server.url + "/xapi/statements", headers=headers).status_code == 401


def test_key_rotation_keeps_the_previous_key_for_verification(
    server: Server, data_dir: Path, tokens, database_url
):
    before = tokens["admin"]
    out = hyperedu("keys", "rotate", data_dir=data_dir)
    assert "signing with key" in out
    assert httpx.get(server.url + "/api/v1/me", headers=bearer(before)).status_code == 200

    async def check() -> None:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
        try:
            server_key = bytes.fromhex((data_dir / "secret.key").read_text().strip())
            keys = SigningKeys(pool, server_key)
            await keys.load()
            old_kid = jwt.get_unverified_header(before)["kid"]
            current = await keys.signing_key()
            assert current.kid != old_kid
            assert await keys.verification_key(old_kid) is not None
            # The next rotation deletes the key retired by the previous one.
            newer, deleted = await rotate(pool, server_key)
            assert old_kid in deleted
            await keys.load()
            assert await keys.verification_key(current.kid) is not None
            assert (await keys.signing_key()).kid == newer
        finally:
            await pool.close()

    asyncio.run(check())
