"""The OAuth 2.0 endpoints: tokens (RFC 6749), revocation (RFC 7009), our public keys.

Grants: `password` for people (email and password), `client_credentials` for tools (an
LRS credential's key and secret, HTTP Basic or form), `refresh_token` (people only; each
refresh rotates the refresh token). Errors are RFC 6749 section 5.2 bodies.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from litestar import Request, Response, get, post

from core.auth import Scope, parse_basic_auth
from core.errors import HyperEduError
from lms.iam.roles import scopes_of
from lms.iam.state import IamState
from lms.iam.tokens import OAuthError, scope_text

MAX_BODY_BYTES = 64 * 1024
_MAX_FIELDS = 16
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

Form = dict[str, str]


@post("/oauth/token", status_code=200, request_max_body_size=MAX_BODY_BYTES)
async def token(request: Request[Any, Any, Any]) -> Response[dict[str, object]]:
    iam = IamState.of(request)
    try:
        form = await _form(request)
        grant = form.get("grant_type")
        if grant == "password":
            body = await _password_grant(iam, form)
        elif grant == "client_credentials":
            body = await _client_credentials_grant(iam, form, request.headers.get("authorization"))
        elif grant == "refresh_token":
            body = await _refresh_grant(iam, form)
        elif not grant:
            raise OAuthError("invalid_request", "grant_type is required")
        else:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported")
    except OAuthError as exc:
        headers = dict(_NO_STORE)
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="hyperedu"'
        return Response(exc.to_body(), status_code=exc.status, headers=headers)
    return Response(body, headers=_NO_STORE)


@post("/oauth/revoke", status_code=200, request_max_body_size=MAX_BODY_BYTES)
async def revoke(request: Request[Any, Any, Any]) -> Response[dict[str, object]]:
    """Revoke a refresh token and its family. Access tokens are short-lived and stay valid
    until they expire; logout (`POST /api/v1/me/logout`) refuses them at once."""
    try:
        form = await _form(request)
        if not form.get("token"):
            raise OAuthError("invalid_request", "the token parameter is required")
    except OAuthError as exc:
        return Response(exc.to_body(), status_code=exc.status, headers=_NO_STORE)
    await IamState.of(request).refresh.revoke(form["token"])
    return Response({}, headers=_NO_STORE)


@get("/.well-known/jwks.json")
async def jwks(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    keys = await IamState.of(request).keys.jwks()
    return Response(keys, headers={"Cache-Control": "public, max-age=300"})


@get("/.well-known/oauth-authorization-server")
async def metadata(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    base = IamState.of(request).settings.base_url
    return Response(
        {
            "issuer": base,
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "grant_types_supported": ["password", "client_credentials", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": [s.value for s in Scope],
        }
    )


async def _form(request: Request[Any, Any, Any]) -> Form:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "use Content-Type application/x-www-form-urlencoded")
    try:
        text = (await request.body()).decode()
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "malformed form body") from None
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        raise OAuthError("invalid_request", f"parameters given twice: {', '.join(repeated)}")
    return {name: values[0] for name, values in parsed.items()}


def _granted(allowed: frozenset[Scope], requested: str | None) -> frozenset[Scope]:
    """The requested scopes (all allowed ones when none are named), if all are allowed."""
    if not requested:
        return allowed
    try:
        wanted = frozenset(Scope(s) for s in requested.split())
    except ValueError:
        raise OAuthError("invalid_scope", "unknown scope requested") from None
    if not wanted <= allowed:
        raise OAuthError("invalid_scope", "a requested scope exceeds what you may be granted")
    return wanted


def _token_response(access: str, lifetime: int, scopes: frozenset[Scope]) -> dict[str, object]:
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scope_text(scopes),
    }


async def _password_grant(iam: IamState, form: Form) -> dict[str, object]:
    username, password = form.get("username"), form.get("password")
    if not username or not password:
        raise OAuthError("invalid_request", "username and password are required")
    user = await iam.users.verify_password(username, password)
    if user is None:
        raise OAuthError("invalid_grant", "wrong email or password")
    scopes = _granted(scopes_of(user.role), form.get("scope"))
    access = await iam.access.issue("user", str(user.id), scopes, user.role)
    refresh = await iam.refresh.issue(user.id, scope_text(scopes))
    return {**_token_response(access, iam.access.lifetime, scopes), "refresh_token": refresh}


async def _client_credentials_grant(
    iam: IamState, form: Form, authorization: str | None
) -> dict[str, object]:
    try:
        if authorization:
            key, secret = parse_basic_auth(authorization)
        else:
            key, secret = form["client_id"], form["client_secret"]
        credential = await iam.credentials.verify(key, secret)
    except (KeyError, HyperEduError):
        raise OAuthError("invalid_client", "client authentication failed", 401) from None
    if credential.bound is not None or not credential.may_void:
        # A bearer token carries scopes only: it would shed the launch binding and the
        # no-voiding rule of a cmi5 AU's credential, so those use HTTP Basic alone.
        raise OAuthError(
            "unauthorized_client",
            "this credential is limited to its cmi5 launch and cannot be exchanged for a token",
            400,
        )
    scopes = _granted(credential.scopes, form.get("scope"))
    access = await iam.access.issue("client", credential.key, scopes)
    return _token_response(access, iam.access.lifetime, scopes)


async def _refresh_grant(iam: IamState, form: Form) -> dict[str, object]:
    presented = form.get("refresh_token")
    if not presented:
        raise OAuthError("invalid_request", "refresh_token is required")
    refreshed = await iam.refresh.redeem(presented)
    user = await iam.users.get(refreshed.user_id)
    if user is None or user.disabled is not None:
        raise OAuthError("invalid_grant", "this account is disabled")
    # The role may have changed since the first grant: never more than it allows now.
    previous = frozenset(Scope(s) for s in refreshed.scope.split())
    allowed = previous if previous <= scopes_of(user.role) else scopes_of(user.role)
    scopes = _granted(allowed, form.get("scope"))
    access = await iam.access.issue("user", str(user.id), scopes, user.role)
    return {
        **_token_response(access, iam.access.lifetime, scopes),
        "refresh_token": refreshed.token,
    }


route_handlers = [token, revoke, jwks, metadata]
