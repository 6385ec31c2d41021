"""Roles, the permissions each grants, and the xAPI scopes a person's token carries.

Denied by default: a permission not listed for a role is not granted, and a principal
without a role (a tool's credential) holds no IAM permission at all.
"""

from __future__ import annotations

import enum

from core.auth import Scope


class Role(enum.StrEnum):
    ADMIN = "admin"
    AUTHOR = "author"
    LEARNER = "learner"
    ANALYST = "analyst"


class Permission(enum.StrEnum):
    MANAGE_USERS = "users:manage"
    MANAGE_CREDENTIALS = "credentials:manage"
    READ_SELF = "me:read"
    AUTHOR_CONTENT = "content:author"
    READ_ANALYTICS = "analytics:read"
    READ_PROGRESS = "progress:read"
    MANAGE_NOTIFICATIONS = "notifications:manage"
    LEARN = "courses:learn"  # enrol, launch items, take tests


_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.AUTHOR: frozenset(
        {Permission.READ_SELF, Permission.AUTHOR_CONTENT, Permission.READ_PROGRESS}
    ),
    Role.LEARNER: frozenset({Permission.READ_SELF, Permission.LEARN}),
    Role.ANALYST: frozenset({Permission.READ_SELF, Permission.READ_ANALYTICS}),
}

# What a person may do on the LRS with an access token: learners record and read their own
# experience, authors also define activities, analysts read everything, admins do anything.
_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset({Scope.ALL}),
    Role.AUTHOR: frozenset(
        {
            Scope.STATEMENTS_WRITE,
            Scope.STATEMENTS_READ_MINE,
            Scope.STATE,
            Scope.PROFILE,
            Scope.DEFINE,
        }
    ),
    Role.LEARNER: frozenset(
        {Scope.STATEMENTS_WRITE, Scope.STATEMENTS_READ_MINE, Scope.STATE, Scope.PROFILE}
    ),
    Role.ANALYST: frozenset({Scope.ALL_READ}),
}


def permits(role: Role | None, permission: Permission) -> bool:
    return role is not None and permission in _PERMISSIONS[role]


def scopes_of(role: Role) -> frozenset[Scope]:
    return _SCOPES[role]


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {text!r}; known roles: {known}") from None
