"""Who is calling an IAM endpoint, and the guard that decides whether they may.

Denied by default: a handler behind `authorize` that names no permission in its `opt`
is refused to everyone. A person's role is read from the database on every call, so a
role change, a disable or a logout takes effect at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from core.auth import Scope
from core.errors import Forbidden, Unauthorized
from lms.iam.roles import Permission, Role, permits
from lms.iam.state import IamState
from lms.iam.users import User

# `opt={"permission": AUTHENTICATED}`: any principal that proves who it is.
AUTHENTICATED = "authenticated"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "user", "oidc" or "client"
    subject: str
    scopes: frozenset[Scope]
    roles: frozenset[Role]
    user: User | None = None

    def may(self, permission: Permission) -> bool:
        return any(permits(role, permission) for role in self.roles)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls an LMS service, as the authoring modules (courses, assessments) check it."""

    user_id: str
    admin: bool
    author: bool

    @classmethod
    def of(cls, principal: Principal) -> Caller:
        return cls(
            principal.subject,
            Role.ADMIN in principal.roles,
            principal.may(Permission.AUTHOR_CONTENT),
        )

    def owns(self, row: Mapping[str, Any]) -> bool:
        """An admin, or the author who owns `row` (a course, bank or test with an `owner`)."""
        return self.admin or (self.author and row["owner"] == self.user_id)


async def identify(iam: IamState, authorization: str | None) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        credential = await iam.credentials.authenticate(authorization)
        return Principal("client", credential.key, credential.scopes, frozenset())
    claims = await iam.access.verify(token.strip())
    if claims.kind != "user":
        return Principal(claims.kind, claims.subject, claims.scopes, claims.roles)
    user = await iam.users.get(uuid.UUID(claims.subject))
    if user is None or user.disabled is not None:
        raise Unauthorized("this account is disabled or gone")
    if user.sessions_revoked and claims.issued_at < user.sessions_revoked.timestamp():
        raise Unauthorized("this session has ended; sign in again")
    return Principal("user", claims.subject, claims.scopes, frozenset({user.role}), user)


async def authorize(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    needed = handler.opt.get("permission")
    principal = await identify(IamState.of(connection), connection.headers.get("authorization"))
    connection.scope["hyperedu_principal"] = principal  # type: ignore[typeddict-unknown-key]
    if needed == AUTHENTICATED:
        return
    if not isinstance(needed, Permission) or not principal.may(needed):
        raise Forbidden("your role does not allow this")


def principal_of(request: Any) -> Principal:
    principal: Principal = request.scope["hyperedu_principal"]
    return principal
