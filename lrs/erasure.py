"""GDPR erasure of one agent: the one place where stored statements are changed or removed.

Every statement the agent appears in (actor, object, authority, instructor, team, context
agents and groups, group members, inside a SubStatement) is found through `statement_agents`
and, by mode,

- `delete`: removed with its side-table rows (agents, activities, activity definitions) and
  any attachment content no remaining statement refers to. A voiding statement whose target
  survives is pseudonymised instead, so that what it voided stays voided;
- `pseudonymise`: rewritten with every object identifying the agent replaced by one pseudonym
  account (a random name under `<base url>/pseudonyms`, the same for all of the agent's
  statements, derived from nothing), its `name` dropped; `statement_agents` follows, so
  queries by the pseudonym find the statements and queries by the agent find nothing.

Both modes delete the agent's State and Agent Profile documents (their content is opaque, so
there is nothing to pseudonymise) and write an `erasure_audit` row naming the agent only by
a keyed hash. All of it is one transaction. An agent given by `mbox` is also erased under its
`mbox_sha1sum`, the same person in the spec's hashed form.

Copies outside this database are not reached, and each needs its own erasure:
- the event log: consumers of the PostgreSQL bus read `statements` itself, so whatever they
  had not read yet they will never see (deleted) or see pseudonymised; a Kafka topic the
  relay (`hyperedu relay`) already wrote keeps its records until retention drops them, so
  give `xapi.statements` a retention you can defend, or rewrite the topic;
- ClickHouse analytics (lms/analytics): delete the rows there, e.g.
  `ALTER TABLE statements DELETE WHERE actor = '<agent key>' OR instructor = '<agent key>'`
  (rows where the agent is only a context agent or group member are in `statement` JSON);
- the LMS progress projection (lms/progress) is rebuilt from the log by
  `hyperedu consumer progress --rebuild`; the statements it already emitted about the
  learner are statements here, erased with the rest;
- exports and backups taken before the erasure.
Statements committed while the erasure runs are not covered: cut off the person's
credentials or account first, then erase.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from msgspec import UNSET

from core.xapi.models import Agent, Group
from ingest.rows import agent_key

PSEUDONYM_PATH = "/pseudonyms"
_IFI_PROPERTIES = ("mbox", "mbox_sha1sum", "openid", "account")
_CHUNK = 1000  # statements rewritten per round trip

_encode = msgspec.json.Encoder().encode


class ErasureMode(enum.StrEnum):
    DELETE = "delete"
    PSEUDONYMISE = "pseudonymise"


@dataclass(frozen=True)
class ErasureReport:
    agent_hash: str
    mode: ErasureMode
    deleted: int
    pseudonymised: int
    documents: int
    attachments: int
    pseudonym: str | None  # the account name that replaced the agent, if any did

    def to_dict(self) -> dict[str, object]:
        return {
            "agent_hash": self.agent_hash,
            "mode": self.mode.value,
            "deleted": self.deleted,
            "pseudonymised": self.pseudonymised,
            "documents": self.documents,
            "attachments": self.attachments,
            "pseudonym": self.pseudonym,
        }


def erased_keys(agent: Agent | Group) -> list[str]:
    """The agent keys (`ingest.rows.agent_key`) under which this agent is stored."""
    key = agent_key(agent)
    if key is None:
        raise ValueError("an anonymous group cannot be erased: it has no identifier")
    keys = [key]
    if agent.mbox is not UNSET:
        keys.append("mbox_sha1sum " + hashlib.sha1(agent.mbox.encode()).hexdigest())
    return keys


def agent_hash(server_key: bytes, agent: Agent | Group) -> str:
    """What the audit keeps of the agent: not reversible without the server key."""
    return hmac.new(server_key, erased_keys(agent)[0].encode(), hashlib.sha256).hexdigest()


async def erase_agent(
    pool: asyncpg.Pool,
    agent: Agent | Group,
    *,
    mode: ErasureMode,
    requested_by: str,
    server_key: bytes,
    base_url: str,
) -> ErasureReport:
    keys = erased_keys(agent)
    pseudonym = {"homePage": base_url + PSEUDONYM_PATH, "name": uuid.uuid4().hex}
    async with pool.acquire() as conn, conn.transaction():
        seqs = [
            r["seq"]
            for r in await conn.fetch(
                "SELECT DISTINCT seq FROM statement_agents WHERE agent = ANY($1::text[])", keys
            )
        ]
        if mode is ErasureMode.DELETE:
            kept = await _voiding_with_surviving_target(conn, seqs)
            deleted, attachments = await _delete_statements(
                conn, [s for s in seqs if s not in kept]
            )
            rewrite = sorted(kept)
        else:
            deleted, attachments, rewrite = 0, 0, seqs
        pseudonymised = await _pseudonymise(conn, rewrite, keys, pseudonym)
        documents = await conn.execute("DELETE FROM documents WHERE agent = ANY($1::text[])", keys)
        report = ErasureReport(
            agent_hash=agent_hash(server_key, agent),
            mode=mode,
            deleted=deleted,
            pseudonymised=pseudonymised,
            documents=int(documents.split()[-1]),
            attachments=attachments,
            pseudonym=pseudonym["name"] if pseudonymised else None,
        )
        await conn.execute(
            "INSERT INTO erasure_audit (requested_by, agent_hash, mode, deleted, pseudonymised,"
            " documents, attachments) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            requested_by,
            report.agent_hash,
            report.mode.value,
            report.deleted,
            report.pseudonymised,
            report.documents,
            report.attachments,
        )
    return report


async def _voiding_with_surviving_target(conn: asyncpg.Connection, seqs: list[int]) -> set[int]:
    rows = await conn.fetch(
        "SELECT seq FROM statements WHERE seq = ANY($1::bigint[]) AND voiding"
        " AND ref_target NOT IN (SELECT id FROM statements WHERE seq = ANY($1::bigint[]))",
        seqs,
    )
    return {r["seq"] for r in rows}


async def _delete_statements(conn: asyncpg.Connection, seqs: list[int]) -> tuple[int, int]:
    """Remove the statements and their side rows; (statements, attachment contents) removed."""
    if not seqs:
        return 0, 0
    removed = await conn.fetch(
        "DELETE FROM statements WHERE seq = ANY($1::bigint[]) RETURNING id, attachments", seqs
    )
    await conn.execute(
        "DELETE FROM statement_ids WHERE id = ANY($1::uuid[])", [r["id"] for r in removed]
    )
    for table in ("statement_agents", "statement_activities", "activity_definitions"):
        await conn.execute(f"DELETE FROM {table} WHERE seq = ANY($1::bigint[])", seqs)
    hashes = sorted({h for r in removed for h in r["attachments"] or ()})
    attachments = "DELETE 0"
    if hashes:
        attachments = await conn.execute(
            "DELETE FROM attachments a WHERE a.sha2 = ANY($1::text[])"
            " AND NOT EXISTS (SELECT 1 FROM statements s WHERE s.attachments @> ARRAY[a.sha2])",
            hashes,
        )
    return len(removed), int(attachments.split()[-1])


async def _pseudonymise(
    conn: asyncpg.Connection, seqs: list[int], keys: list[str], pseudonym: dict[str, str]
) -> int:
    """Rewrite the statements' bodies and agent rows; the number rewritten."""
    if not seqs:
        return 0
    erased = frozenset(keys)
    for start in range(0, len(seqs), _CHUNK):
        rows = await conn.fetch(
            "SELECT seq, body FROM statements WHERE seq = ANY($1::bigint[]) FOR UPDATE",
            seqs[start : start + _CHUNK],
        )
        await conn.executemany(
            "UPDATE statements SET body = $2 WHERE seq = $1",
            [
                (
                    r["seq"],
                    _encode(
                        pseudonymised(msgspec.json.decode(r["body"]), erased, pseudonym)
                    ).decode(),
                )
                for r in rows
            ],
        )
    await conn.execute(
        "WITH gone AS (DELETE FROM statement_agents"
        " WHERE agent = ANY($1::text[]) AND seq = ANY($2::bigint[]) RETURNING seq, direct)"
        " INSERT INTO statement_agents (agent, seq, direct)"
        " SELECT $3, seq, bool_or(direct) FROM gone GROUP BY seq",
        keys,
        seqs,
        f"account {pseudonym['homePage']} {pseudonym['name']}",
    )
    return len(seqs)


def pseudonymised(value: Any, erased: frozenset[str], pseudonym: dict[str, str]) -> Any:
    """`value` (a statement as JSON values) with every object that identifies an erased agent
    given the pseudonym account instead of its identifier and name; members kept."""
    if isinstance(value, dict):
        if _ifi_key(value) in erased:
            kept = {
                k: pseudonymised(v, erased, pseudonym)
                for k, v in value.items()
                if k not in _IFI_PROPERTIES and k != "name"
            }
            return {**kept, "account": dict(pseudonym)}
        return {k: pseudonymised(v, erased, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [pseudonymised(v, erased, pseudonym) for v in value]
    return value


def _ifi_key(obj: dict[str, Any]) -> str | None:
    """`agent_key` of an agent given as JSON values; None for anything else."""
    mbox, sha1, openid = obj.get("mbox"), obj.get("mbox_sha1sum"), obj.get("openid")
    if isinstance(mbox, str):
        return "mbox " + mbox
    if isinstance(sha1, str):
        return "mbox_sha1sum " + sha1.lower()
    if isinstance(openid, str):
        return "openid " + openid
    account = obj.get("account")
    if isinstance(account, dict):
        return f"account {account.get('homePage')} {account.get('name')}"
    return None
