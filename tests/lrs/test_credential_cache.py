"""What a worker caches of a credential, and how a revocation clears it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from core.errors import Unauthorized
from lrs.credentials import CredentialStore
from tests.conftest import basic


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=2) as pool:
        yield pool


async def revoke_behind_the_stores_back(pool: asyncpg.Pool, key: str) -> None:
    """Revoked without the NOTIFY: only a cached copy of the credential still passes."""
    await pool.execute("UPDATE credentials SET revoked = now() WHERE key = $1", key)


async def test_a_check_that_read_its_row_before_a_revocation_caches_nothing(pool):
    store = CredentialStore(pool, b"k" * 32)
    credential, secret = await store.create("statements/write", "race")
    header = basic(credential.key, secret)
    checking = asyncio.create_task(store.authenticate(header))
    await asyncio.sleep(0)  # the check has asked for the credential's row
    store.forget(credential.key)  # as a revocation's NOTIFY, arriving meanwhile
    assert (await checking).key == credential.key  # it read the row before: it passes
    await revoke_behind_the_stores_back(pool, credential.key)
    with pytest.raises(Unauthorized):
        await store.authenticate(header)


async def test_a_credential_checked_once_is_taken_from_the_cache_until_forgotten(pool):
    store = CredentialStore(pool, b"k" * 32)
    credential, secret = await store.create("statements/write", "cached")
    header = basic(credential.key, secret)
    await store.authenticate(header)
    await revoke_behind_the_stores_back(pool, credential.key)
    assert (await store.authenticate(header)).key == credential.key  # cached
    store.forget(credential.key)
    with pytest.raises(Unauthorized):
        await store.authenticate(header)
