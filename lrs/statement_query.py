"""GET /xapi/statements as SQL: filters, StatementRef targeting, voiding, keyset pages.

Rules (xAPI 1.0.3 Communication 2.1.3, 2.3.2):
- a statement matches a filter if it does, or if its object is a StatementRef to a
  statement that matches (recursively); time and limit apply to the statement itself;
- voided statements are never returned by a query, their voiding statements are;
- pages are keyset pages on `seq`, so a cursor stays valid while statements arrive.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import asyncpg
import msgspec

from core.errors import BadRequest

MAX_REF_DEPTH = 10


class StatementQuery(msgspec.Struct, frozen=True, omit_defaults=True):
    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 0
    format: str = "exact"
    attachments: bool = False
    ascending: bool = False
    after_seq: int | None = None


class StoredStatement(msgspec.Struct, frozen=True):
    seq: int
    stored: datetime
    body: str
    attachments: list[str] | None


def encode_more_cursor(query: StatementQuery, last_seq: int) -> str:
    token = msgspec.msgpack.encode(msgspec.structs.replace(query, after_seq=last_seq))
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_more_cursor(token: str) -> StatementQuery:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        query = msgspec.msgpack.decode(raw, type=StatementQuery)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise BadRequest("the 'more' cursor is not one this LRS issued") from None
    if query.after_seq is None:
        raise BadRequest("the 'more' cursor is not one this LRS issued")
    return query


class _Sql:
    def __init__(self) -> None:
        self.args: list[object] = []

    def arg(self, value: object) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


def _filters(q: StatementQuery, sql: _Sql, alias: str) -> list[str]:
    """The non-time filters of `q` on the statement `alias`."""
    where = []
    if q.agent is not None:
        direct = "" if q.related_agents else " AND a.direct"
        where.append(
            f"EXISTS (SELECT 1 FROM statement_agents a WHERE a.agent = {sql.arg(q.agent)}"
            f" AND a.seq = {alias}.seq{direct})"
        )
    if q.verb is not None:
        where.append(f"{alias}.verb = {sql.arg(q.verb)}")
    if q.activity is not None:
        direct = "" if q.related_activities else " AND x.direct"
        where.append(
            f"EXISTS (SELECT 1 FROM statement_activities x"
            f" WHERE x.activity = {sql.arg(q.activity)} AND x.seq = {alias}.seq{direct})"
        )
    if q.registration is not None:
        where.append(f"{alias}.registration = {sql.arg(q.registration)}::uuid")
    return where


def _driving_table(q: StatementQuery, sql: _Sql) -> tuple[str, str] | None:
    """The side table to walk in seq order when the query names an agent or an activity:
    its (key, seq) index yields the matches newest first, so a page stops early instead of
    filtering the whole statement table. The side tables are partitioned by `direct`
    (migration 0016): a direct-only walk reads one partition, a related one merges both."""
    if q.agent is not None:
        direct = "" if q.related_agents else " AND d.direct"
        return "statement_agents d", f"d.agent = {sql.arg(q.agent)}{direct}"
    if q.activity is not None:
        direct = "" if q.related_activities else " AND d.direct"
        return "statement_activities d", f"d.activity = {sql.arg(q.activity)}{direct}"
    return None


# A statement by id: `statement_ids` names its seq and stored, so the join reaches the one
# partition that holds it (statements has no index on id of its own; see migration 0013).
_BY_ID = (
    "JOIN statement_ids {alias}i ON {alias}i.id = {id}"
    " JOIN statements {alias} ON {alias}.seq = {alias}i.seq AND {alias}.stored = {alias}i.stored"
)


def build_query(q: StatementQuery, page_size: int, mine: str | None) -> tuple[str, list[object]]:
    """One page: the statements matching the filters directly, united with those whose
    StatementRef chain reaches a match; each branch is ordered and limited on its own so
    both stop after a page's worth of rows."""
    sql = _Sql()
    order = "ASC" if q.ascending else "DESC"
    limit = sql.arg(page_size + 1)

    def common(alias: str) -> list[str]:
        where = [
            # voided: a voiding statement targets it, and it is not itself a voiding statement
            f"({alias}.voiding OR NOT EXISTS (SELECT 1 FROM statements v"
            f" WHERE v.ref_target = {alias}.id AND v.voiding))"
        ]
        if q.since is not None:
            where.append(f"{alias}.stored > {sql.arg(q.since)}")
        if q.until is not None:
            where.append(f"{alias}.stored <= {sql.arg(q.until)}")
        if mine is not None:
            where.append(f"{alias}.authority = {sql.arg(mine)}")
        if q.after_seq is not None:
            where.append(f"{alias}.seq {'>' if q.ascending else '<'} {sql.arg(q.after_seq)}")
        return where

    columns = "s.seq, s.stored, s.body, s.attachments"
    driving = _driving_table(q, sql)
    if driving is None:
        direct_branch = (
            f"SELECT {columns} FROM statements s"
            f" WHERE {' AND '.join([*_filters(q, sql, 's'), *common('s')])}"
            f" ORDER BY s.seq {order} LIMIT {limit}"
        )
    else:
        table, condition = driving
        rest = _filters(msgspec.structs.replace(q, agent=None) if q.agent else
                        msgspec.structs.replace(q, activity=None), sql, "s")  # fmt: skip
        where = [condition, *rest, *common("s")]
        if q.after_seq is not None:  # the cursor bounds the index range, not only the join
            where.append(f"d.seq {'>' if q.ascending else '<'} {sql.arg(q.after_seq)}")
        direct_branch = (
            f"SELECT {columns} FROM {table} JOIN statements s ON s.seq = d.seq"
            f" WHERE {' AND '.join(where)}"
            f" ORDER BY d.seq {order} LIMIT {limit}"
        )
    target_filters = _filters(q, sql, "t")
    if not target_filters:
        return direct_branch, sql.args
    ref_branch = (
        f"SELECT {columns} FROM chain c {_BY_ID.format(id='c.target', alias='t')}"
        f" JOIN statements s ON s.seq = c.seq AND s.stored = c.stored"
        f" WHERE {' AND '.join([*target_filters, *common('s')])}"
        f" ORDER BY s.seq {order} LIMIT {limit}"
    )
    text = (
        "WITH RECURSIVE chain(seq, stored, target, depth) AS ("
        " SELECT seq, stored, ref_target, 1 FROM statements WHERE ref_target IS NOT NULL"
        " UNION ALL"
        " SELECT c.seq, c.stored, t.ref_target, c.depth + 1 FROM chain c"
        f" {_BY_ID.format(id='c.target', alias='t')}"
        f" WHERE t.ref_target IS NOT NULL AND c.depth < {MAX_REF_DEPTH}) "
        f"SELECT * FROM (({direct_branch}) UNION ({ref_branch})) page"
        f" ORDER BY seq {order} LIMIT {limit}"
    )
    return text, sql.args


async def run_query(
    conn: asyncpg.Connection, q: StatementQuery, page_size: int, mine: str | None
) -> tuple[list[StoredStatement], bool]:
    """One page of statements, and whether there are more."""
    text, args = build_query(q, page_size, mine)
    rows = await conn.fetch(text, *args)
    found = [StoredStatement(r["seq"], r["stored"], r["body"], r["attachments"]) for r in rows]
    return found[:page_size], len(found) > page_size


async def fetch_one(
    conn: asyncpg.Connection, statement_id: str, *, voided: bool, mine: str | None
) -> StoredStatement | None:
    """By id: a statement that is not voided (voided=False) or one that is (voided=True)."""
    is_voided = (
        "(NOT s.voiding AND EXISTS (SELECT 1 FROM statements v"
        " WHERE v.ref_target = s.id AND v.voiding))"
    )
    condition = is_voided if voided else f"NOT {is_voided}"
    args: list[object] = [statement_id]
    mine_clause = ""
    if mine is not None:
        args.append(mine)
        mine_clause = " AND s.authority = $2"
    row = await conn.fetchrow(
        "SELECT s.seq, s.stored, s.body, s.attachments FROM statement_ids i"
        " JOIN statements s ON s.seq = i.seq AND s.stored = i.stored"
        f" WHERE i.id = $1::uuid AND {condition}{mine_clause}",
        *args,
    )
    if row is None:
        return None
    return StoredStatement(row["seq"], row["stored"], row["body"], row["attachments"])


async def fetch_attachments(
    conn: asyncpg.Connection, hashes: list[str]
) -> list[tuple[str, str, bytes]]:
    rows = await conn.fetch(
        "SELECT sha2, content_type, content FROM attachments WHERE sha2 = ANY($1::text[])",
        hashes,
    )
    return [(r["sha2"], r["content_type"], bytes(r["content"])) for r in rows]
