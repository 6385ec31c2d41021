"""Authentication primitives: credentials, their keyed digests, xAPI scopes.

Credential secrets are 256-bit random values made by the server, so a keyed digest
(HMAC-SHA-256 with a server key) protects them at rest; a slow password hash would add
milliseconds to every request for no gain. Comparison is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import secrets

from core.errors import Forbidden, Unauthorized


class Scope(enum.StrEnum):
    STATEMENTS_WRITE = "statements/write"
    STATEMENTS_READ = "statements/read"
    STATEMENTS_READ_MINE = "statements/read/mine"
    ALL_READ = "all/read"
    ALL = "all"
    STATE = "state"
    PROFILE = "profile"
    DEFINE = "define"


class Action(enum.Enum):
    WRITE_STATEMENTS = "write statements"
    READ_STATEMENTS = "read statements"
    STATE = "use the State resource"
    READ_STATE = "read the State resource"
    PROFILE = "use the profile resources"
    READ_PROFILE = "read the profile resources"
    READ_ACTIVITIES_AGENTS = "read the Activities and Agents resources"
    ADMIN = "administer the LRS"


_GRANTS: dict[Action, frozenset[Scope]] = {
    Action.WRITE_STATEMENTS: frozenset({Scope.STATEMENTS_WRITE, Scope.ALL}),
    Action.READ_STATEMENTS: frozenset(
        {Scope.STATEMENTS_READ, Scope.STATEMENTS_READ_MINE, Scope.ALL_READ, Scope.ALL}
    ),
    Action.STATE: frozenset({Scope.STATE, Scope.ALL}),
    Action.READ_STATE: frozenset({Scope.STATE, Scope.ALL_READ, Scope.ALL}),
    Action.PROFILE: frozenset({Scope.PROFILE, Scope.ALL}),
    Action.READ_PROFILE: frozenset({Scope.PROFILE, Scope.ALL_READ, Scope.ALL}),
    Action.READ_ACTIVITIES_AGENTS: frozenset({Scope.ALL_READ, Scope.ALL, Scope.DEFINE}),
    Action.ADMIN: frozenset({Scope.ALL}),
}


def parse_scopes(text: str) -> frozenset[Scope]:
    """`"statements/write,statements/read"` (commas or spaces) into scopes; unknown is an error."""
    names = [n for n in text.replace(",", " ").split() if n]
    if not names:
        raise ValueError("at least one scope is required")
    try:
        return frozenset(Scope(n) for n in names)
    except ValueError as exc:
        known = ", ".join(s.value for s in Scope)
        raise ValueError(f"{exc}; known scopes: {known}") from None


def require(scopes: frozenset[Scope], action: Action) -> None:
    if scopes.isdisjoint(_GRANTS[action]):
        raise Forbidden(f"this credential's scopes do not allow it to {action.value}")


def reads_only_own_statements(scopes: frozenset[Scope]) -> bool:
    """`statements/read/mine` alone: queries see only what this credential's authority wrote."""
    return scopes.isdisjoint(_GRANTS[Action.READ_STATEMENTS] - {Scope.STATEMENTS_READ_MINE})


def may_define(scopes: frozenset[Scope]) -> bool:
    return not scopes.isdisjoint({Scope.DEFINE, Scope.ALL})


def new_credential() -> tuple[str, str]:
    """A fresh (key, secret): the key is public, the secret is 256 bits of randomness."""
    return secrets.token_hex(10), secrets.token_urlsafe(32)


def new_server_key() -> bytes:
    return secrets.token_bytes(32)


def digest_secret(secret: str, server_key: bytes) -> bytes:
    return hmac.new(server_key, secret.encode(), hashlib.sha256).digest()


def secret_matches(secret: str, digest: bytes, server_key: bytes) -> bool:
    return hmac.compare_digest(digest_secret(secret, server_key), digest)


def parse_basic_auth(header: str | None) -> tuple[str, str]:
    """(key, secret) from an `Authorization: Basic ...` header; 401 when absent or malformed."""
    if not header:
        raise Unauthorized("authentication required: HTTP Basic with an LRS credential")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise Unauthorized("unsupported authorization scheme; use HTTP Basic")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("malformed HTTP Basic credentials") from None
    key, sep, secret = decoded.partition(":")
    if not sep:
        raise Unauthorized("malformed HTTP Basic credentials")
    return key, secret
