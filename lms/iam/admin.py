"""/api/v1: who am I, logout, and the admin API for people and LRS credentials.

Every handler here sits behind the `authorize` guard and names the permission it needs.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response, Router, delete, get, patch, post
from litestar.params import FromPath

from core.errors import BadRequest, Conflict, NotFound
from lms.iam.access import AUTHENTICATED, authorize, principal_of
from lms.iam.oauth import MAX_BODY_BYTES
from lms.iam.roles import Permission, Role, permits
from lms.iam.state import IamState
from lms.iam.users import User
from lrs.credentials import Credential


class NewCredential(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    scopes: str = "all"
    label: str = msgspec.field(default="")


class NewUser(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: str
    password: str
    role: Role


class UserChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: Role | None = None
    disabled: bool | None = None


T = TypeVar("T")


def _decode(body: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"invalid request body: {exc}") from None


def _time(value: Any) -> str | None:
    return value.isoformat() if value else None


def _user_body(user: User) -> dict[str, object]:
    return {
        "id": str(user.id),
        "email": user.email,
        "role": user.role.value,
        "created": _time(user.created),
        "disabled": _time(user.disabled),
    }


def _credential_body(credential: Credential) -> dict[str, object]:
    return {
        "key": credential.key,
        "scopes": sorted(credential.scopes),
        "label": credential.label,
        "created": _time(credential.created),
        "revoked": _time(credential.revoked),
    }


@get("/me", opt={"permission": AUTHENTICATED})
async def me(request: Request[Any, Any, Any]) -> dict[str, object]:
    principal = principal_of(request)
    return {
        "kind": principal.kind,
        "subject": principal.subject,
        "email": principal.user.email if principal.user else None,
        "roles": sorted(principal.roles),
        "permissions": sorted(p for p in Permission if any(permits(r, p) for r in principal.roles)),
        "scopes": sorted(principal.scopes),
    }


@post("/me/logout", status_code=204, opt={"permission": AUTHENTICATED})
async def logout(request: Request[Any, Any, Any]) -> None:
    """End every session of the calling person: refresh tokens revoked, access tokens refused."""
    principal = principal_of(request)
    if principal.user is not None:
        iam = IamState.of(request)
        await iam.refresh.revoke_user(principal.user.id)
        await iam.users.end_sessions(principal.user.id)


@get("/admin/credentials", opt={"permission": Permission.MANAGE_CREDENTIALS})
async def list_credentials(request: Request[Any, Any, Any]) -> list[dict[str, object]]:
    return [_credential_body(c) for c in await IamState.of(request).credentials.list()]


@post("/admin/credentials", status_code=201, opt={"permission": Permission.MANAGE_CREDENTIALS})
async def create_credential(request: Request[Any, Any, Any]) -> Response[dict[str, object]]:
    wanted = _decode(await request.body(), NewCredential)
    try:
        credential, secret = await IamState.of(request).credentials.create(
            wanted.scopes, wanted.label
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return Response(
        {**_credential_body(credential), "secret": secret},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@delete("/admin/credentials/{key:str}", opt={"permission": Permission.MANAGE_CREDENTIALS})
async def revoke_credential(request: Request[Any, Any, Any], key: FromPath[str]) -> None:
    if not await IamState.of(request).credentials.revoke(key):
        raise NotFound(f"no active credential {key}")


@get("/admin/users", opt={"permission": Permission.MANAGE_USERS})
async def list_users(request: Request[Any, Any, Any]) -> list[dict[str, object]]:
    return [_user_body(u) for u in await IamState.of(request).users.list()]


@post("/admin/users", status_code=201, opt={"permission": Permission.MANAGE_USERS})
async def create_user(request: Request[Any, Any, Any]) -> dict[str, object]:
    wanted = _decode(await request.body(), NewUser)
    user = await IamState.of(request).users.create(wanted.email, wanted.password, wanted.role)
    return _user_body(user)


@patch("/admin/users/{user_id:uuid}", opt={"permission": Permission.MANAGE_USERS})
async def change_user(
    request: Request[Any, Any, Any], user_id: FromPath[uuid.UUID]
) -> dict[str, object]:
    change = _decode(await request.body(), UserChange)
    caller = principal_of(request)
    if caller.user is not None and caller.user.id == user_id:
        raise Conflict("an admin cannot change their own role or disable themselves")
    iam = IamState.of(request)
    user = await iam.users.update(user_id, role=change.role, disabled=change.disabled)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if change.disabled:
        await iam.refresh.revoke_user(user_id)
    return _user_body(user)


api_router = Router(
    path="/api/v1",
    route_handlers=[
        me,
        logout,
        list_credentials,
        create_credential,
        revoke_credential,
        list_users,
        create_user,
        change_user,
    ],
    guards=[authorize],
    request_max_body_size=MAX_BODY_BYTES,
)
