"""LRS credentials in PostgreSQL, and the check every xAPI request passes through.

Verified credentials are cached for a few seconds per worker so the hot path does no
database round trip. An expiry takes effect within `CACHE_SECONDS`; a revocation at once in
every worker that listens for it (`listen_for_revocations`: the revoking transaction sends a
`NOTIFY` at commit), and within `CACHE_SECONDS` in any that does not.

A request may instead carry `Authorization: Bearer <JWT>`: an access token the bearer
verifier accepts (ours, from /oauth/token, or the configured OIDC issuer's) stands for a
credential whose key is the token's subject and whose scopes are the token's.

A cmi5 AU's credential is bound to its launch (`Binding`): it writes only statements of the
launch's learner in the launch's registration, and only that learner's State documents.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import asyncpg
from msgspec import UNSET

from core.auth import (
    Scope,
    digest_secret,
    new_credential,
    parse_basic_auth,
    parse_scopes,
    secret_matches,
)
from core.errors import Forbidden, Unauthorized
from core.xapi.models import Agent, Statement
from core.xapi.validate import VOIDED
from ingest.listen import listen_until_lost
from ingest.rows import agent_key

CACHE_SECONDS = 5.0
REVOKED_CHANNEL = "hyperedu_credential_revoked"
VERIFIED_HEADERS_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Binding:
    """The launch a cmi5 AU's credential belongs to: its learner and its registration."""

    actor: str  # the Agent's key, as `ingest.rows.agent_key` writes it
    registration: str  # a UUID, lower case

    def check(self, statement: Statement) -> None:
        actor = statement.actor
        if type(actor) is not Agent or agent_key(actor) != self.actor:
            raise Forbidden(
                "cmi5 9.2: the actor of a statement of this AU session must be the Agent of"
                " its launch (the actor of the launch URL)"
            )
        context = statement.context
        registration = UNSET if context is UNSET else context.registration
        if registration is UNSET or registration.lower() != self.registration:
            raise Forbidden(
                "cmi5 9.6.1: a statement of this AU session must carry the registration of"
                " its launch in context.registration"
            )

    def check_agent(self, agent: str) -> None:
        """Forbidden unless `agent` (an agent key) is the launch's learner."""
        if agent != self.actor:
            raise Forbidden(
                "cmi5 9.2: this AU session may write only the State documents of the learner"
                " of its launch"
            )


@dataclass(frozen=True, slots=True)
class Credential:
    key: str
    scopes: frozenset[Scope]
    label: str = ""
    created: datetime | None = None
    revoked: datetime | None = None
    expires: datetime | None = None  # None: until revoked
    may_void: bool = True  # False: statements with the verb voided are refused (cmi5 AUs)
    bound: Binding | None = None  # a cmi5 AU's: writes only its launch's statements

    def check_writes(self, statements: Iterable[Statement]) -> None:
        """Forbidden if a statement is one this credential may not write."""
        if self.bound is None:
            if not self.may_void and any(s.verb.id == VOIDED for s in statements):
                raise Forbidden("this credential may not void statements")
            return
        for statement in statements:  # may be a generator: one pass
            if not self.may_void and statement.verb.id == VOIDED:
                raise Forbidden("this credential may not void statements")
            self.bound.check(statement)


@dataclass(frozen=True, slots=True)
class _Cached:
    credential: Credential
    digest: bytes
    expires: float


class BearerVerifier(Protocol):
    async def credential_for(self, token: str) -> Credential:
        """The credential a valid bearer token stands for; Unauthorized otherwise."""
        ...


class CredentialStore:
    def __init__(
        self, pool: asyncpg.Pool, server_key: bytes, bearer: BearerVerifier | None = None
    ) -> None:
        self._pool = pool
        self._server_key = server_key
        self._cache: dict[str, _Cached] = {}
        self._verified_headers: dict[str, tuple[Credential, float]] = {}
        # Counts `forget`s: what a check read before one is not cached after it (a revocation
        # may have committed while the check waited for its row).
        self._forgotten = 0
        self._bearer = bearer

    def accept_bearer(self, bearer: BearerVerifier) -> None:
        self._bearer = bearer

    async def create(
        self,
        scopes: str,
        label: str = "",
        *,
        expires: datetime | None = None,
        may_void: bool = True,
        bound: Binding | None = None,
    ) -> tuple[Credential, str]:
        """A new credential and its secret (shown once, stored only as a keyed digest)."""
        parsed = parse_scopes(scopes)
        key, secret = new_credential()
        await self._pool.execute(
            "INSERT INTO credentials (key, secret_digest, scopes, label, expires, may_void,"
            " bound_actor, bound_registration) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            key,
            digest_secret(secret, self._server_key),
            sorted(parsed),
            label,
            expires,
            may_void,
            None if bound is None else bound.actor,
            None if bound is None else bound.registration,
        )
        credential = Credential(key, parsed, label, expires=expires, may_void=may_void, bound=bound)
        return credential, secret

    async def list(self) -> list[Credential]:
        rows = await self._pool.fetch(
            "SELECT key, scopes, label, created, revoked FROM credentials ORDER BY created"
        )
        return [
            Credential(
                r["key"], frozenset(map(Scope, r["scopes"])), r["label"], r["created"], r["revoked"]
            )
            for r in rows
        ]

    async def revoke(self, key: str) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            revoked = await conn.fetchval(
                "UPDATE credentials SET revoked = now() WHERE key = $1 AND revoked IS NULL"
                " RETURNING key",
                key,
            )
            if revoked is not None:
                await conn.execute("SELECT pg_notify($1, $2)", REVOKED_CHANNEL, key)
        self.forget(key)
        return revoked is not None

    def forget(self, key: str | None = None) -> None:
        """Drop what this worker cached of credential `key` (of every one, without a key)."""
        if key is None:
            self._cache.clear()
        else:
            self._cache.pop(key, None)
        self._verified_headers.clear()
        self._forgotten += 1

    async def listen_for_revocations(self, dsn: str) -> None:
        """Forget each credential any process revokes, at its commit, until the listening
        connection is lost (run it under `restart_forever`)."""
        # What was revoked while nobody listened is forgotten too: everything.
        await listen_until_lost(dsn, REVOKED_CHANNEL, self.forget, connected=self.forget)

    async def authenticate(self, authorization: str | None) -> Credential:
        """The credential behind an `Authorization` header; Unauthorized otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and self._bearer is not None:
            return await self._bearer.credential_for(token.strip())
        # A header already verified within CACHE_SECONDS needs no base64 or HMAC again.
        seen = self._verified_headers.get(authorization) if authorization else None
        if seen is not None and seen[1] >= time.monotonic():
            return seen[0]
        forgotten = self._forgotten
        credential = await self.verify(*parse_basic_auth(authorization))
        if forgotten != self._forgotten:
            return credential
        if len(self._verified_headers) >= VERIFIED_HEADERS_MAX:
            self._verified_headers.clear()
        assert authorization is not None
        self._verified_headers[authorization] = (credential, time.monotonic() + CACHE_SECONDS)
        return credential

    async def verify(self, key: str, secret: str) -> Credential:
        """The active credential with this key and secret; Unauthorized otherwise."""
        cached = self._cache.get(key)
        if cached is None or cached.expires < time.monotonic():
            cached = await self._load(key)
        if cached is None or not secret_matches(secret, cached.digest, self._server_key):
            raise Unauthorized("invalid credentials")
        return cached.credential

    async def _load(self, key: str) -> _Cached | None:
        forgotten = self._forgotten
        row = await self._pool.fetchrow(
            "SELECT key, secret_digest, scopes, label, expires, may_void, bound_actor,"
            " bound_registration FROM credentials"
            " WHERE key = $1 AND revoked IS NULL AND (expires IS NULL OR expires > now())",
            key,
        )
        if row is None:
            self._cache.pop(key, None)
            return None
        cached = _Cached(
            Credential(
                row["key"],
                frozenset(map(Scope, row["scopes"])),
                row["label"],
                expires=row["expires"],
                may_void=row["may_void"],
                bound=_binding(row["bound_actor"], row["bound_registration"]),
            ),
            bytes(row["secret_digest"]),
            time.monotonic() + CACHE_SECONDS,
        )
        if forgotten == self._forgotten:
            self._cache[key] = cached
        return cached


def _binding(actor: str | None, registration: uuid.UUID | None) -> Binding | None:
    if actor is None or registration is None:
        return None
    return Binding(actor, str(registration))
