"""JWTs of an external OpenID Connect issuer: verified against its JWKS (a file here),
its role claim mapped onto our roles."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.lms.conftest import XAPI, bearer, statement

ISSUER = "https://idp.example.com/realms/school"
AUDIENCE = "hyperedu-lrs"


@pytest.fixture(scope="module")
def idp_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def oidc_server(own_server_factory, idp_key, tmp_path_factory):
    jwks = tmp_path_factory.mktemp("idp") / "jwks.json"
    public = json.loads(RSAAlgorithm.to_jwk(idp_key.public_key()))
    jwks.write_text(
        json.dumps({"keys": [{**public, "kid": "idp-1", "use": "sig", "alg": "RS256"}]})
    )
    return own_server_factory(
        {
            "HYPEREDU_OIDC_ISSUER": ISSUER,
            "HYPEREDU_OIDC_JWKS": str(jwks),
            "HYPEREDU_OIDC_AUDIENCE": AUDIENCE,
            "HYPEREDU_OIDC_ROLE_CLAIM": "groups",
            "HYPEREDU_OIDC_ROLE_MAP": "teachers=author,it-ops=admin,students=learner",
        }
    )


def idp_token(key, groups, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": f"idp-{uuid.uuid4().hex[:8]}",
        "iat": now,
        "exp": now + 300,
        "groups": groups,
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "idp-1"})


def test_an_it_ops_member_is_an_admin(oidc_server, idp_key):
    headers = bearer(idp_token(idp_key, ["it-ops"]))
    assert httpx.get(oidc_server.url + "/api/v1/admin/users", headers=headers).status_code == 200
    me = httpx.get(oidc_server.url + "/api/v1/me", headers=headers).json()
    assert me["kind"] == "oidc" and me["roles"] == ["admin"]


def test_a_teacher_is_an_author_and_not_an_admin(oidc_server, idp_key):
    headers = bearer(idp_token(idp_key, ["teachers", "unmapped-group"]))
    assert httpx.get(oidc_server.url + "/api/v1/admin/users", headers=headers).status_code == 403
    me = httpx.get(oidc_server.url + "/api/v1/me", headers=headers).json()
    assert me["roles"] == ["author"] and "define" in me["scopes"]


def test_a_student_writes_statements_under_their_issuer_subject(oidc_server, idp_key):
    token = idp_token(idp_key, ["students"], sub="student-42")
    headers = {**XAPI, **bearer(token)}
    posted = httpx.post(
        oidc_server.url + "/xapi/statements", json=statement("s@example.com"), headers=headers
    )
    assert posted.status_code == 200, posted.text
    read = httpx.get(
        oidc_server.url + "/xapi/statements",
        params={"statementId": posted.json()[0]},
        headers=headers,
    )
    assert read.json()["authority"]["account"]["name"] == "oidc:student-42"


def test_a_person_with_no_mapped_role_is_authenticated_but_allowed_nothing(oidc_server, idp_key):
    headers = bearer(idp_token(idp_key, ["parents"]))
    assert httpx.get(oidc_server.url + "/api/v1/me", headers=headers).json()["roles"] == []
    xapi = httpx.get(oidc_server.url + "/xapi/statements", headers={**XAPI, **headers})
    assert xapi.status_code == 403


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"iss": "https://evil.example.com"},
        {"exp": int(time.time()) - 3600},
    ],
    ids=["wrong-audience", "wrong-issuer", "expired"],
)
def test_invalid_issuer_tokens_are_401(oidc_server, idp_key, overrides):
    headers = bearer(idp_token(idp_key, ["it-ops"], **overrides))
    assert httpx.get(oidc_server.url + "/api/v1/me", headers=headers).status_code == 401


def test_a_token_signed_by_another_key_is_401(oidc_server):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers = bearer(idp_token(stranger, ["it-ops"]))
    assert httpx.get(oidc_server.url + "/api/v1/admin/users", headers=headers).status_code == 401


def test_the_jwks_public_key_is_not_accepted_as_an_hmac_secret(oidc_server, idp_key):
    """Algorithm confusion: HS256 'signed' with the issuer's public key."""
    from cryptography.hazmat.primitives import serialization

    pem = idp_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60, "groups": ["it-ops"]}
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "idp-1"}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    import hashlib
    import hmac

    signature = jwt.utils.base64url_encode(
        hmac.new(pem, header + b"." + payload, hashlib.sha256).digest()
    )
    token = (header + b"." + payload + b"." + signature).decode()
    assert httpx.get(oidc_server.url + "/api/v1/me", headers=bearer(token)).status_code == 401
