"""An external OpenID Connect issuer whose JWTs we accept, its roles mapped onto ours.

The issuer's keys come from a JWKS file (re-read when it changes) or URL (fetched, cached
and refetched by PyJWT's client off the event loop).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import jwt

from core.config import Settings
from core.errors import Unauthorized
from lms.iam.roles import Role

# Asymmetric only: a symmetric algorithm would let the JWKS's public key act as a secret.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
LEEWAY_SECONDS = 30


def parse_role_map(text: str) -> dict[str, Role]:
    """`"teachers=author,staff=admin"` into a mapping; our own role names map to themselves."""
    mapping = {r.value: r for r in Role}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        theirs, sep, ours = pair.partition("=")
        if not sep:
            raise ValueError(f"role map entries are their-role=our-role, not {pair!r}")
        mapping[theirs.strip()] = Role(ours.strip())
    return mapping


class _JwksFile:
    def __init__(self, path: str) -> None:
        self._path = path
        self._mtime = -1.0
        self._set: jwt.PyJWKSet | None = None

    async def key_for(self, token: str) -> Any:
        mtime = os.stat(self._path).st_mtime
        if self._set is None or mtime != self._mtime:
            with open(self._path, "rb") as f:  # noqa: ASYNC230 -- a small local file
                self._set = jwt.PyJWKSet.from_json(f.read().decode())
            self._mtime = mtime
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._set.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise Unauthorized("the OIDC token is signed by a key not in the issuer's JWKS")


class _JwksUrl:
    def __init__(self, url: str) -> None:
        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=10)

    async def key_for(self, token: str) -> Any:
        return (await asyncio.to_thread(self._client.get_signing_key_from_jwt, token)).key


class OidcIssuer:
    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.oidc_issuer
        self._audience = settings.oidc_audience or None
        self._role_claim = settings.oidc_role_claim
        self._roles = parse_role_map(settings.oidc_role_map)
        source = settings.oidc_jwks
        self._jwks: _JwksFile | _JwksUrl = (
            _JwksUrl(source) if source.startswith(("https://", "http://")) else _JwksFile(source)
        )

    @staticmethod
    def configured(settings: Settings) -> OidcIssuer | None:
        if not settings.oidc_issuer:
            return None
        if not settings.oidc_jwks:
            raise ValueError("HYPEREDU_OIDC_ISSUER is set but HYPEREDU_OIDC_JWKS is not")
        return OidcIssuer(settings)

    async def verify(self, token: str) -> tuple[str, frozenset[Role], float]:
        """(subject, our roles, issued-at) of a valid token of the issuer."""
        try:
            key = await self._jwks.key_for(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub", "iss"], "verify_aud": bool(self._audience)},
            )
        except (jwt.PyJWTError, OSError) as exc:
            raise Unauthorized(f"invalid OIDC token: {type(exc).__name__}") from None
        return str(claims["sub"]), self.roles_of(claims), float(claims.get("iat", 0))

    def roles_of(self, claims: dict[str, Any]) -> frozenset[Role]:
        value = claims.get(self._role_claim, [])
        names = value.split() if isinstance(value, str) else value
        if not isinstance(names, list):
            return frozenset()
        return frozenset(self._roles[n] for n in names if isinstance(n, str) and n in self._roles)
