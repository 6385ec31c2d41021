"""What the IAM endpoints of one worker share, built when the worker starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.config import Settings
from lms.iam.keys import SigningKeys
from lms.iam.oidc import OidcIssuer
from lms.iam.tokens import AccessTokens, RefreshTokens
from lms.iam.users import UserStore
from lrs.credentials import CredentialStore
from lrs.state import LrsState


@dataclass
class IamState:
    settings: Settings
    users: UserStore
    keys: SigningKeys
    access: AccessTokens
    refresh: RefreshTokens
    credentials: CredentialStore

    @staticmethod
    def of(request: Any) -> IamState:
        state: IamState = request.app.state["iam"]
        return state


async def start_iam(app_state: Any) -> IamState:
    """Build the IAM state beside the LRS state (its pool and credentials) and let the
    credential store accept our bearer tokens."""
    lrs: LrsState = app_state["lrs"]
    settings = lrs.settings
    server_key = bytes.fromhex(settings.secret_key)
    keys = SigningKeys(lrs.pool, server_key)
    await keys.load()
    access = AccessTokens(keys, settings, OidcIssuer.configured(settings))
    lrs.credentials.accept_bearer(access)
    iam = IamState(
        settings,
        UserStore(lrs.pool),
        keys,
        access,
        RefreshTokens(lrs.pool, server_key, settings.refresh_token_seconds),
        lrs.credentials,
    )
    app_state["iam"] = iam
    return iam
