"""From a validated statement to the rows the store appends: the statement itself and the
agents and activities it mentions (the side tables that serve `agent`, `activity`,
`related_agents` and `related_activities` queries without scanning)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import msgspec
from msgspec import UNSET

from core.xapi.models import (
    Activity,
    Agent,
    Context,
    Group,
    Statement,
    StatementRef,
    SubStatement,
)

VOIDED = "http://adlnet.gov/expapi/verbs/voided"

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class StatementRow:
    id: uuid.UUID
    stored: datetime
    verb: str
    registration: uuid.UUID | None
    ref_target: uuid.UUID | None
    voiding: bool
    authority: str
    attachments: list[str] | None
    body: str
    agents: list[tuple[str, bool]]
    activities: list[tuple[str, bool]]
    definitions: list[tuple[str, str]]  # (activity id, definition JSON)

    def record(self, seq: int) -> tuple[object, ...]:
        return (
            seq,
            self.id,
            self.stored,
            self.verb,
            self.registration,
            self.ref_target,
            self.voiding,
            self.authority,
            self.attachments,
            self.body,
        )


STATEMENT_COLUMNS = (
    "seq",
    "id",
    "stored",
    "verb",
    "registration",
    "ref_target",
    "voiding",
    "authority",
    "attachments",
    "body",
)


def agent_key(agent: Agent | Group) -> str | None:
    """The agent's inverse functional identifier as one string; None for an anonymous group."""
    if agent.mbox is not UNSET:
        return "mbox " + agent.mbox
    if agent.mbox_sha1sum is not UNSET:
        return "mbox_sha1sum " + agent.mbox_sha1sum.lower()
    if agent.openid is not UNSET:
        return "openid " + agent.openid
    if agent.account is not UNSET:
        # IRIs cannot hold a space, so the space keeps homePage and name apart.
        return f"account {agent.account.home_page} {agent.account.name}"
    return None


def to_row(
    statement: Statement,
    *,
    stored: datetime,
    authority_key: str,
    attachments: list[str] | None,
    may_define: bool,
) -> StatementRow:
    """`statement` is complete: id, stored, timestamp, authority and version already set.

    Activity definitions are kept only from credentials that may define (scope `define`)."""
    assert statement.id is not UNSET
    obj = statement.object
    context = statement.context
    registration = None
    if context is not UNSET and context.registration is not UNSET:
        registration = uuid.UUID(context.registration)
    ref_target = uuid.UUID(obj.id) if isinstance(obj, StatementRef) else None
    return StatementRow(
        id=uuid.UUID(statement.id),
        stored=stored,
        verb=statement.verb.id,
        registration=registration,
        ref_target=ref_target,
        voiding=statement.verb.id == VOIDED and ref_target is not None,
        authority=authority_key,
        attachments=attachments,
        body=_encode(statement).decode(),
        agents=_dedupe(_agents(statement)),
        activities=_dedupe(_activities(statement)),
        definitions=list(_definitions(statement)) if may_define else [],
    )


def _dedupe(pairs: Iterator[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """One row per key, `direct` if any mention was direct."""
    seen: dict[str, bool] = {}
    for key, direct in pairs:
        seen[key] = seen.get(key, False) or direct
    return list(seen.items())


def _actor_keys(actor: object, direct: bool) -> Iterator[tuple[str, bool]]:
    if isinstance(actor, Agent | Group):
        key = agent_key(actor)
        if key is not None:
            yield key, direct
        if isinstance(actor, Group) and actor.member is not UNSET:
            for member in actor.member:
                member_key = agent_key(member)
                if member_key is not None:
                    yield member_key, direct
    elif actor is not UNSET and actor is not None:
        raise TypeError(f"not an actor: {actor!r}")


def _context_agent_keys(context: Context | msgspec.UnsetType) -> Iterator[tuple[str, bool]]:
    if context is UNSET:
        return
    yield from _actor_keys(context.instructor, False)
    yield from _actor_keys(context.team, False)
    for ca in context.context_agents or ():
        yield from _actor_keys(ca.agent, False)
    for cg in context.context_groups or ():
        yield from _actor_keys(cg.group, False)


def _agents(statement: Statement) -> Iterator[tuple[str, bool]]:
    yield from _actor_keys(statement.actor, True)
    obj = statement.object
    if isinstance(obj, Agent | Group):
        yield from _actor_keys(obj, True)
    yield from _actor_keys(statement.authority, False)
    yield from _context_agent_keys(statement.context)
    if isinstance(obj, SubStatement):
        yield from _actor_keys(obj.actor, False)
        if isinstance(obj.object, Agent | Group):
            yield from _actor_keys(obj.object, False)
        yield from _context_agent_keys(obj.context)


def _context_activities(context: Context | msgspec.UnsetType) -> Iterator[tuple[Activity, bool]]:
    if context is UNSET or context.context_activities is UNSET:
        return
    ca = context.context_activities
    for group in (ca.parent, ca.grouping, ca.category, ca.other):
        if group is UNSET:
            continue
        for activity in group if isinstance(group, list) else (group,):
            yield activity, False


def _all_activities(statement: Statement) -> Iterator[tuple[Activity, bool]]:
    obj = statement.object
    if isinstance(obj, Activity):
        yield obj, True
    yield from _context_activities(statement.context)
    if isinstance(obj, SubStatement):
        if isinstance(obj.object, Activity):
            yield obj.object, False
        yield from _context_activities(obj.context)


def _activities(statement: Statement) -> Iterator[tuple[str, bool]]:
    for activity, direct in _all_activities(statement):
        yield activity.id, direct


def _definitions(statement: Statement) -> Iterator[tuple[str, str]]:
    for activity, _direct in _all_activities(statement):
        if activity.definition is not UNSET:
            yield activity.id, _encode(activity.definition).decode()
