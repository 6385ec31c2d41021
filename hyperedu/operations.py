"""The CLI side of operating the LRS: `hyperedu statements export|import`, `hyperedu agents
erase`, run in this process against the database (the server may be running or not).

Progress goes to stderr, data to stdout, so `hyperedu statements export > file` works.
"""

from __future__ import annotations

import getpass
import sys
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import BinaryIO, TextIO

import asyncpg

from core.auth import may_define
from core.config import Settings
from core.xapi.compare import statements_equivalent
from core.xapi.models import Account, Agent
from ingest.batcher import GroupCommitter
from lrs.bulk_import import ImportAuthority, ImportReport, Rejection, import_statements
from lrs.credentials import CredentialStore
from lrs.erasure import ErasureMode, ErasureReport, erase_agent
from lrs.export import export_statements
from lrs.parameters import parse_actor_param
from lrs.state import LrsState

IMPORT_AUTHORITY_KEY = "hyperedu-import"


class ProgressLine:
    """`exported 120000 statements (45000/s)`, rewritten in place at most twice a second."""

    def __init__(self, verb: str, out: TextIO = sys.stderr) -> None:
        self._verb = verb
        self._out = out
        self._started = time.monotonic()
        self._shown = 0.0
        self._interactive = out.isatty()

    def show(self, count: int, extra: str = "", *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._shown < 0.5:
            return
        self._shown = now
        rate = count / max(now - self._started, 1e-9)
        line = f"{self._verb} {count} statements ({rate:.0f}/s){extra}"
        if final:
            self._out.write(("\r" if self._interactive else "") + line + "\n")
        elif self._interactive:
            self._out.write("\r" + line)
        else:
            self._out.write(line + "\n")
        self._out.flush()


async def export_to(
    settings: Settings,
    out: BinaryIO,
    *,
    since: datetime | None,
    until: datetime | None,
    fmt: str,
) -> int:
    progress = ProgressLine("exported")
    count = 0

    def seen(n: int) -> None:
        nonlocal count
        count = n
        progress.show(n)

    async with asyncpg.create_pool(settings.session_database_url, min_size=1, max_size=1) as pool:
        async for chunk in export_statements(
            pool, since=since, until=until, fmt=fmt, progress=seen
        ):
            out.write(chunk)
    out.flush()
    progress.show(count, final=True)
    return count


async def import_from(
    settings: Settings,
    server_key: bytes,
    source: BinaryIO,
    *,
    partial: bool,
    batch_size: int,
    as_key: str | None,
) -> ImportReport:
    progress = ProgressLine("imported")

    def rejected(rejection: Rejection) -> None:
        print(
            f"line {rejection.line}: {rejection.rule} (at {rejection.path}): {rejection.message}",
            file=sys.stderr,
        )

    async with asyncpg.create_pool(settings.session_database_url, min_size=1, max_size=2) as pool:
        committer = GroupCommitter(
            pool, equivalent=statements_equivalent, max_statements=batch_size, writers=1
        )
        state = LrsState(settings, pool, committer, CredentialStore(pool, server_key))
        authority = await _import_authority(state, as_key)
        committer.start()
        try:
            report = await import_statements(
                committer,
                _lines(source),
                authority=authority,
                partial=partial,
                batch_size=batch_size,
                progress=lambda r: progress.show(r.stored, f", {r.rejected_total} rejected"),
                on_rejection=rejected,
            )
        finally:
            await committer.stop()
    progress.show(report.stored, f", {report.rejected_total} rejected", final=True)
    return report


async def erase(
    settings: Settings, server_key: bytes, agent_json: str, mode: ErasureMode
) -> ErasureReport:
    agent = parse_actor_param(agent_json, "--agent")
    async with asyncpg.create_pool(settings.session_database_url, min_size=1, max_size=1) as pool:
        return await erase_agent(
            pool,
            agent,
            mode=mode,
            requested_by=f"cli:{getpass.getuser()}",
            server_key=server_key,
            base_url=settings.base_url,
        )


async def _import_authority(state: LrsState, as_key: str | None) -> ImportAuthority:
    """`--as KEY`: that active credential, as if it had POSTed; else the CLI's own."""
    if as_key is None:
        return ImportAuthority(
            Agent(
                name="hyperedu import",
                account=Account(home_page=state.settings.base_url, name=IMPORT_AUTHORITY_KEY),
            ),
            IMPORT_AUTHORITY_KEY,
            may_define=True,
        )
    for credential in await state.credentials.list():
        if credential.key == as_key and credential.revoked is None:
            return ImportAuthority(
                state.authority_for(credential), credential.key, may_define(credential.scopes)
            )
    raise ValueError(f"no active credential {as_key}")


async def _lines(source: BinaryIO) -> AsyncIterator[bytes]:
    for line in source:
        yield line
