"""`to_row`: a complete statement to the rows the store appends (statement, agents,
activities, definitions), once per statement on the ingest path."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.xapi.models import Statement
from ingest.rows import StatementRow, to_row

STORED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _rows(statements: list[Statement]) -> list[StatementRow]:
    return [
        to_row(s, stored=STORED, authority_key="bench", attachments=None, may_define=True)
        for s in statements
    ]


def test_to_row_batch_of_100(benchmark: Any, complete_statements: list[Statement]) -> None:
    rows = benchmark(_rows, complete_statements)
    assert len(rows) == 100


def test_to_row_single_statement(benchmark: Any, complete_statements: list[Statement]) -> None:
    rows = benchmark(_rows, complete_statements[:1])
    assert rows[0].agents
