"""What every xAPI handler of one worker shares: settings, pool, committer, credentials, and
the version each client last spoke."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from core.config import Settings
from core.xapi.models import Account, Agent
from ingest.batcher import GroupCommitter
from lrs.credentials import Credential, CredentialStore
from lrs.spoken_versions import SpokenVersions


@dataclass
class LrsState:
    settings: Settings
    pool: asyncpg.Pool
    committer: GroupCommitter
    credentials: CredentialStore
    versions: SpokenVersions = field(default_factory=SpokenVersions)

    @staticmethod
    def of(request: Any) -> LrsState:
        state: LrsState = request.app.state["lrs"]
        return state

    def authority_for(self, credential: Credential) -> Agent:
        """The authority recorded on statements this credential writes."""
        return Agent(
            name=credential.label or credential.key,
            account=Account(home_page=self.settings.base_url, name=credential.key),
        )


async def authenticate(request: Any) -> Credential:
    cached: Credential | None = request.scope.get("hyperedu_credential")
    if cached is None:
        cached = await LrsState.of(request).credentials.authenticate(
            request.headers.get("authorization")
        )
        request.scope["hyperedu_credential"] = cached
    return cached
