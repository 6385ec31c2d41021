"""Access tokens (short-lived JWTs we sign), refresh tokens (random, stored as a digest),
and the verification of a bearer token: ours, or one from the configured OIDC issuer.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import jwt

from core.auth import Scope, digest_secret
from core.config import Settings
from core.errors import HyperEduError, Unauthorized
from lms.iam.keys import ALGORITHM, SigningKeys
from lms.iam.oidc import OidcIssuer
from lms.iam.roles import Role, scopes_of
from lrs.credentials import Credential

AUDIENCE = "hyperedu"
LEEWAY_SECONDS = 30
# RFC 6750 3.1: the challenge of a 401 for a bearer token that is not (or no longer) valid.
BEARER_CHALLENGE = 'Bearer realm="HyperEdu", error="invalid_token"'


class OAuthError(HyperEduError):
    """An RFC 6749 section 5.2 error: `code` is the `error` member of the response."""

    status = 400

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.status = status

    def to_body(self) -> dict[str, object]:
        return {"error": self.code, "error_description": self.message}


@dataclass(frozen=True, slots=True)
class Claims:
    """Who a verified access token speaks for.

    kind: "user" (a person of ours; subject is their id), "client" (an LRS credential;
    subject is its key) or "oidc" (a person of the external issuer).
    """

    kind: str
    subject: str
    scopes: frozenset[Scope]
    roles: frozenset[Role] = field(default_factory=frozenset)
    issued_at: float = 0.0

    def credential(self) -> Credential:
        return Credential(self.subject, self.scopes)


def scope_text(scopes: frozenset[Scope]) -> str:
    return " ".join(sorted(scopes))


class AccessTokens:
    """Issues and verifies the access tokens of this LRS (and of the OIDC issuer, if any)."""

    def __init__(self, keys: SigningKeys, settings: Settings, oidc: OidcIssuer | None) -> None:
        self._keys = keys
        self._issuer = settings.base_url
        self._lifetime = settings.access_token_seconds
        self._oidc = oidc

    @property
    def lifetime(self) -> int:
        return self._lifetime

    async def issue(
        self, kind: str, subject: str, scopes: frozenset[Scope], role: Role | None = None
    ) -> str:
        now = time.time()
        claims: dict[str, object] = {
            "iss": self._issuer,
            "aud": AUDIENCE,
            "sub": subject,
            "iat": round(now, 3),
            "exp": int(now) + self._lifetime,
            "jti": uuid.uuid4().hex,
            "scope": scope_text(scopes),
            "kind": kind,
        }
        if role is not None:
            claims["role"] = role.value
        if kind == "client":
            claims["client_id"] = subject
        key = await self._keys.signing_key()
        return jwt.encode(claims, key.private, algorithm=ALGORITHM, headers={"kid": key.kid})

    async def verify(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("malformed bearer token", challenge=BEARER_CHALLENGE) from None
        if self._oidc is not None and unverified.get("iss") == self._oidc.issuer:
            return oidc_claims(*await self._oidc.verify(token))
        key = await self._keys.verification_key(str(header.get("kid", "")))
        if key is None:
            raise Unauthorized("bearer token signed by an unknown key", challenge=BEARER_CHALLENGE)
        try:
            claims = jwt.decode(
                token,
                key.public,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "scope", "kind"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(
                f"invalid bearer token: {type(exc).__name__}", challenge=BEARER_CHALLENGE
            ) from None
        kind = claims["kind"]
        if kind not in ("user", "client"):
            raise Unauthorized("invalid bearer token: unknown kind", challenge=BEARER_CHALLENGE)
        try:
            scopes = frozenset(Scope(s) for s in str(claims["scope"]).split())
            roles = frozenset({Role(claims["role"])}) if "role" in claims else frozenset()
        except ValueError:
            raise Unauthorized(
                "invalid bearer token: unknown scope or role", challenge=BEARER_CHALLENGE
            ) from None
        return Claims(kind, str(claims["sub"]), scopes, roles, float(claims["iat"]))

    async def credential_for(self, token: str) -> Credential:
        """The LRS credential a bearer token stands for (see `lrs.credentials`)."""
        return (await self.verify(token)).credential()


def oidc_claims(subject: str, roles: frozenset[Role], issued_at: float) -> Claims:
    scopes = frozenset().union(*(scopes_of(r) for r in roles)) if roles else frozenset()
    return Claims("oidc", f"oidc:{subject}", scopes, roles, issued_at)


@dataclass(frozen=True, slots=True)
class Refreshed:
    user_id: uuid.UUID
    scope: str
    token: str


class RefreshTokens:
    """Refresh tokens of people: 256 random bits, stored as a keyed digest, one use each."""

    def __init__(self, pool: asyncpg.Pool, server_key: bytes, lifetime_s: int) -> None:
        self._pool = pool
        self._server_key = server_key
        self._lifetime = timedelta(seconds=lifetime_s)

    async def issue(self, user_id: uuid.UUID, scope: str, family: uuid.UUID | None = None) -> str:
        token = secrets.token_urlsafe(32)
        await self._pool.execute(
            "INSERT INTO iam_refresh_tokens (digest, family, user_id, scope, expires)"
            " VALUES ($1, $2, $3, $4, $5)",
            self._digest(token),
            family or uuid.uuid4(),
            user_id,
            scope,
            datetime.now(UTC) + self._lifetime,
        )
        return token

    async def redeem(self, token: str) -> Refreshed:
        """Use a refresh token once: its successor in the same family.

        A token presented a second time was copied: the whole family is revoked."""
        digest = self._digest(token)
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE iam_refresh_tokens SET used = now() WHERE digest = $1 AND used IS NULL"
                " AND revoked IS NULL AND expires > now()"
                " AND user_id IN (SELECT id FROM iam_users WHERE disabled IS NULL)"
                " RETURNING family, user_id, scope",
                digest,
            )
            if row is None:
                await conn.execute(
                    "UPDATE iam_refresh_tokens SET revoked = coalesce(revoked, now())"
                    " WHERE family = (SELECT family FROM iam_refresh_tokens WHERE digest = $1)",
                    digest,
                )
        if row is None:
            raise OAuthError("invalid_grant", "the refresh token is invalid, used or revoked")
        successor = await self.issue(row["user_id"], row["scope"], row["family"])
        return Refreshed(row["user_id"], row["scope"], successor)

    async def revoke(self, token: str) -> None:
        """Revoke the token's whole family (RFC 7009: unknown tokens are not an error)."""
        await self._pool.execute(
            "UPDATE iam_refresh_tokens SET revoked = coalesce(revoked, now())"
            " WHERE family = (SELECT family FROM iam_refresh_tokens WHERE digest = $1)",
            self._digest(token),
        )

    async def revoke_user(self, user_id: uuid.UUID) -> None:
        await self._pool.execute(
            "UPDATE iam_refresh_tokens SET revoked = now() WHERE user_id = $1 AND revoked IS NULL",
            user_id,
        )

    def _digest(self, token: str) -> bytes:
        return digest_secret(token, self._server_key)
