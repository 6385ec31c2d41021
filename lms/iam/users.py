"""People: accounts with an argon2id password hash and one role, in PostgreSQL.

Hashing and verifying take tens of milliseconds of CPU by design, so they run in a thread
and never on the event loop. An unknown email costs the same as a wrong password.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import BadRequest, Conflict
from lms.iam.roles import Role

PASSWORD_MIN = 12
PASSWORD_MAX = 1024
EMAIL_MAX = 254


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    email: str
    role: Role
    created: datetime | None = None
    disabled: datetime | None = None
    sessions_revoked: datetime | None = None


_COLUMNS = "id, email, role, created, disabled, sessions_revoked"


def _user(row: asyncpg.Record) -> User:
    return User(
        row["id"],
        row["email"],
        Role(row["role"]),
        row["created"],
        row["disabled"],
        row["sessions_revoked"],
    )


def check_email(email: str) -> str:
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or len(email) > EMAIL_MAX or " " in email:
        raise BadRequest("email must be an address like someone@example.com")
    return email


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise BadRequest(f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return password


class UserStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._hasher = PasswordHasher()
        self._decoy: str | None = None

    async def create(self, email: str, password: str, role: Role) -> User:
        email = check_email(email)
        digest = await asyncio.to_thread(self._hasher.hash, check_password(password))
        try:
            row = await self._pool.fetchrow(
                "INSERT INTO iam_users (id, email, password_hash, role) VALUES ($1, $2, $3, $4)"
                f" RETURNING {_COLUMNS}",
                uuid.uuid4(),
                email,
                digest,
                role.value,
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"a user with email {email} exists") from None
        return _user(row)

    async def verify_password(self, email: str, password: str) -> User | None:
        """The active user with this email and password, else None (same cost either way)."""
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS}, password_hash FROM iam_users"
            " WHERE lower(email) = lower($1) AND disabled IS NULL",
            email.strip()[:EMAIL_MAX],
        )
        if row is None:
            await asyncio.to_thread(self._verify, await self._decoy_hash(), password)
            return None
        if not await asyncio.to_thread(self._verify, row["password_hash"], password):
            return None
        if self._hasher.check_needs_rehash(row["password_hash"]):
            rehashed = await asyncio.to_thread(self._hasher.hash, password)
            await self._pool.execute(
                "UPDATE iam_users SET password_hash = $2 WHERE id = $1", row["id"], rehashed
            )
        return _user(row)

    async def get(self, user_id: uuid.UUID) -> User | None:
        row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM iam_users WHERE id = $1", user_id)
        return _user(row) if row else None

    async def list(self) -> list[User]:
        rows = await self._pool.fetch(f"SELECT {_COLUMNS} FROM iam_users ORDER BY created, email")
        return [_user(r) for r in rows]

    async def update(
        self, user_id: uuid.UUID, *, role: Role | None = None, disabled: bool | None = None
    ) -> User | None:
        """Change a user's role or disable/enable them; disabling also ends their sessions."""
        row = await self._pool.fetchrow(
            "UPDATE iam_users SET"
            " role = coalesce($2, role),"
            " disabled = CASE WHEN $3::boolean IS NULL THEN disabled"
            "   WHEN $3 THEN coalesce(disabled, now()) ELSE NULL END,"
            " sessions_revoked = CASE WHEN $3::boolean THEN now() ELSE sessions_revoked END"
            f" WHERE id = $1 RETURNING {_COLUMNS}",
            user_id,
            role.value if role else None,
            disabled,
        )
        return _user(row) if row else None

    async def end_sessions(self, user_id: uuid.UUID) -> None:
        """Refuse every access token issued to this user until now (logout everywhere)."""
        await self._pool.execute(
            "UPDATE iam_users SET sessions_revoked = now() WHERE id = $1", user_id
        )

    def _verify(self, digest: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(digest, password[:PASSWORD_MAX]))
        except (VerificationError, InvalidHashError):
            return False

    async def _decoy_hash(self) -> str:
        if self._decoy is None:
            self._decoy = await asyncio.to_thread(self._hasher.hash, uuid.uuid4().hex)
        return self._decoy
