"""The ES256 keys that sign our access tokens, kept in PostgreSQL and rotated by the CLI.

The newest unretired key signs. `rotate` retires it and makes a new one; the retired key
still verifies tokens it signed until the next rotation deletes it, so a rotation never
cuts a session short as long as rotations are further apart than a token's lifetime.
Private keys are stored AES-GCM-encrypted under a key derived from the server key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwt.algorithms import ECAlgorithm

ALGORITHM = "ES256"
RELOAD_SECONDS = 60.0
# An unknown `kid` reloads the keys (a rotation in another process), at most this often.
UNKNOWN_KID_RELOAD_SECONDS = 5.0
_LOCK_ID = 0x48594B59  # "HYKY": one key creator at a time across workers


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private: ec.EllipticCurvePrivateKey
    retired: bool

    @property
    def public(self) -> ec.EllipticCurvePublicKey:
        return self.private.public_key()

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(self.public, as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}


def _wrapping_key(server_key: bytes) -> AESGCM:
    return AESGCM(hmac.new(server_key, b"hyperedu iam signing keys", hashlib.sha256).digest())


def seal(private: ec.EllipticCurvePrivateKey, kid: str, server_key: bytes) -> bytes:
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = secrets.token_bytes(12)
    return nonce + _wrapping_key(server_key).encrypt(nonce, der, kid.encode())


def unseal(sealed: bytes, kid: str, server_key: bytes) -> ec.EllipticCurvePrivateKey:
    der = _wrapping_key(server_key).decrypt(sealed[:12], sealed[12:], kid.encode())
    private = serialization.load_der_private_key(der, password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise ValueError(f"signing key {kid} is not an EC key")
    return private


async def _insert_new_key(conn: asyncpg.Connection, server_key: bytes) -> str:
    kid = secrets.token_hex(8)
    private = ec.generate_private_key(ec.SECP256R1())
    await conn.execute(
        "INSERT INTO iam_signing_keys (kid, private_pem) VALUES ($1, $2)",
        kid,
        seal(private, kid, server_key),
    )
    return kid


async def rotate(pool: asyncpg.Pool, server_key: bytes) -> tuple[str, list[str]]:
    """Retire the signing key for a new one and delete keys retired before; (new kid, deleted)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_ID)
        deleted = await conn.fetch(
            "DELETE FROM iam_signing_keys WHERE retired IS NOT NULL RETURNING kid"
        )
        await conn.execute("UPDATE iam_signing_keys SET retired = now() WHERE retired IS NULL")
        kid = await _insert_new_key(conn, server_key)
    return kid, [r["kid"] for r in deleted]


class SigningKeys:
    """One worker's view of the keys, reloaded every `RELOAD_SECONDS`."""

    def __init__(self, pool: asyncpg.Pool, server_key: bytes) -> None:
        self._pool = pool
        self._server_key = server_key
        self._keys: dict[str, SigningKey] = {}
        self._loaded = 0.0

    async def load(self) -> None:
        """Read the keys, making the first one if there is none."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT kid, private_pem, retired FROM iam_signing_keys ORDER BY created"
            )
            if not any(r["retired"] is None for r in rows):
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_ID)
                    if not await conn.fetchval(
                        "SELECT count(*) FROM iam_signing_keys WHERE retired IS NULL"
                    ):
                        await _insert_new_key(conn, self._server_key)
                rows = await conn.fetch(
                    "SELECT kid, private_pem, retired FROM iam_signing_keys ORDER BY created"
                )
        keys = {}
        for row in rows:
            kid = row["kid"]
            known = self._keys.get(kid)
            private = (
                known.private if known else unseal(bytes(row["private_pem"]), kid, self._server_key)
            )
            keys[kid] = SigningKey(kid, private, row["retired"] is not None)
        self._keys = keys
        self._loaded = time.monotonic()

    async def signing_key(self) -> SigningKey:
        if time.monotonic() - self._loaded > RELOAD_SECONDS:
            await self.load()
        current = [k for k in self._keys.values() if not k.retired]
        return current[-1]

    async def verification_key(self, kid: str) -> SigningKey | None:
        key = self._keys.get(kid)
        since = time.monotonic() - self._loaded
        if (key is None and since > UNKNOWN_KID_RELOAD_SECONDS) or since > RELOAD_SECONDS:
            await self.load()
            key = self._keys.get(kid)
        return key

    async def jwks(self) -> dict[str, Any]:
        if time.monotonic() - self._loaded > RELOAD_SECONDS:
            await self.load()
        return {"keys": [k.jwk() for k in self._keys.values()]}
