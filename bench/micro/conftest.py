"""Inputs shared by the micro-benchmarks: the load-test workload's statements, as the bodies
clients send and as the validated, completed statements the ingest path turns into rows."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from bench.workload import make_batches
from core.xapi.decode import decode_statements
from core.xapi.models import Account, Agent, Statement
from ingest.accept import xapi_time
from ingest.rows import new_statement_id

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
AUTHORITY = Agent(name="bench", account=Account(home_page="http://bench", name="bench"))


@pytest.fixture(scope="session")
def batch_body() -> bytes:
    """100 statements (600-900 bytes each), every objectType given: the decoder's fast path."""
    return msgspec.json.encode(make_batches(1, 100, seed=3)[0])


@pytest.fixture(scope="session")
def single_body() -> bytes:
    return msgspec.json.encode(make_batches(1, 1, seed=4)[0][0])


@pytest.fixture(scope="session")
def batch_body_without_object_types() -> bytes:
    """The same 100 statements with the optional objectTypes left out, as many clients send
    them: the typed fast path fails on the first untagged union, and the general path fills
    them in before converting."""
    batch = make_batches(1, 100, seed=3)[0]
    for statement in batch:
        statement["actor"].pop("objectType")
        statement["object"].pop("objectType")
        for parent in statement["context"]["contextActivities"]["parent"]:
            parent.pop("objectType")
    return msgspec.json.encode(batch)


@pytest.fixture(scope="session")
def complete_statements(batch_body: bytes) -> list[Statement]:
    """The batch as `accept_statements` hands it to `to_row`: id, stored, authority, version."""
    return [
        msgspec.structs.replace(
            s, id=new_statement_id(), stored=xapi_time(NOW), authority=AUTHORITY, version="1.0.0"
        )
        for s in decode_statements(batch_body, "1.0.3")
    ]
