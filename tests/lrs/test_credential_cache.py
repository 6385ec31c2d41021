"""What a worker caches of a credential, and how a revocation clears it."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from core.errors import Unauthorized
from lrs.credentials import CredentialStore
from tests.conftest import basic


async def test_a_check_that_read_its_row_before_a_revocation_caches_nothing(database_url):
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        store = CredentialStore(pool, b"k" * 32)
        credential, secret = await store.create("statements/write", "race")
        header = basic(credential.key, secret)
        checking = asyncio.create_task(store.authenticate(header))
        await asyncio.sleep(0)  # the check has asked for the credential's row
        store.forget(credential.key)  # as a revocation's NOTIFY, arriving meanwhile
        assert (await checking).key == credential.key  # it read the row before: it passes
        # Revoked behind the store's back (no NOTIFY): only a cached copy would still pass.
        await pool.execute("UPDATE credentials SET revoked = now() WHERE key = $1", credential.key)
        with pytest.raises(Unauthorized):
            await store.authenticate(header)
    finally:
        await pool.close()


async def test_a_credential_checked_once_is_taken_from_the_cache(database_url):
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        store = CredentialStore(pool, b"k" * 32)
        credential, secret = await store.create("statements/write", "cached")
        header = basic(credential.key, secret)
        await store.authenticate(header)
        await pool.execute("UPDATE credentials SET revoked = now() WHERE key = $1", credential.key)
        assert (await store.authenticate(header)).key == credential.key  # cached
        store.forget(credential.key)
        with pytest.raises(Unauthorized):
            await store.authenticate(header)
    finally:
        await pool.close()
