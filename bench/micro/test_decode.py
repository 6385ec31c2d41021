"""`decode_statements`: a body to validated Statements, the first stage of every POST."""

from __future__ import annotations

from typing import Any

from core.xapi.decode import decode_statements


def test_decode_batch_of_100(benchmark: Any, batch_body: bytes) -> None:
    statements = benchmark(decode_statements, batch_body, "1.0.3")
    assert len(statements) == 100


def test_decode_single_statement(benchmark: Any, single_body: bytes) -> None:
    statements = benchmark(decode_statements, single_body, "1.0.3")
    assert len(statements) == 1


def test_decode_batch_of_100_without_object_types(
    benchmark: Any, batch_body_without_object_types: bytes
) -> None:
    statements = benchmark(decode_statements, batch_body_without_object_types, "1.0.3")
    assert len(statements) == 100
