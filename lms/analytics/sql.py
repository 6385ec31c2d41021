"""Analyst SQL, read-only: the one entry point for the CLI and (later) the HTTP endpoint.

Two locks: `check_readonly` turns away anything but one query statement with a clear
message, and the engine runs what passes under ClickHouse's `readonly=1`, which is what
actually guarantees no writes, DDL, settings changes or table functions.
"""

from __future__ import annotations

import re
from itertools import pairwise

from lms.analytics.engine import Engine

FORMATS = {
    "table": "PrettyCompactMonoBlock",
    "csv": "CSVWithNames",
    "json": "JSONEachRow",
    "parquet": "Parquet",
}
READ_VERBS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN"})

# Comments, quoted strings and identifiers, or a word: enough to see the statement's shape.
_TOKEN = re.compile(
    r"--[^\n]*|/\*.*?\*/|'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`\\]|\\.)*`|(\w+)|(;)|\S",
    re.DOTALL,
)


class NotReadOnly(ValueError):
    """The SQL is not a single read-only query."""


def check_readonly(sql: str) -> None:
    words: list[str] = []
    statements_ended = False
    for match in _TOKEN.finditer(sql):
        word, semicolon = match.groups()
        if semicolon:
            statements_ended = True
        elif statements_ended and not match.group().startswith(("--", "/*")):
            raise NotReadOnly("only one statement may be run")
        elif word:
            words.append(word.upper())
    first = words[0] if words else ""
    if first not in READ_VERBS:
        raise NotReadOnly(
            f"only {', '.join(sorted(READ_VERBS))} queries are allowed, not {first or 'nothing'}"
        )
    if any(a == "INTO" and b == "OUTFILE" for a, b in pairwise(words)):
        raise NotReadOnly("INTO OUTFILE is not allowed")


def run_readonly_sql(engine: Engine, sql: str, fmt: str) -> bytes:
    """`sql`'s result as `fmt` (table, csv, json: one array of row objects, parquet)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    check_readonly(sql)
    out = engine.query(sql.strip().rstrip(";"), FORMATS[fmt], readonly=True)
    if fmt == "json":
        return b"[" + b",".join(out.splitlines()) + b"]\n"
    return out
