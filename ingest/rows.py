"""From a validated statement to the rows the store appends: the statement itself and the
agents and activities it mentions (the side tables that serve `agent`, `activity`,
`related_agents` and `related_activities` queries without scanning)."""

from __future__ import annotations

import random
import time
from datetime import datetime

import msgspec
from msgspec import UNSET

from core.errors import ValidationError
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


class StatementRow(msgspec.Struct, frozen=True, gc=False):
    """One statement as the store appends it. A Struct, not a dataclass: a frozen dataclass's
    constructor sets each of the twelve fields through `object.__setattr__` (1.7 µs a
    statement, against 0.2). Untracked by the garbage collector: it holds only strings,
    booleans and containers of them, so it can be part of no reference cycle."""

    id: str  # canonical (lower-case) UUID text; asyncpg encodes text into uuid columns
    stored: datetime
    verb: str
    registration: str | None
    ref_target: str | None
    voiding: bool
    authority: str
    attachments: list[str] | None
    body: str
    agents: dict[str, bool]  # agent key -> direct (actor/object) or only related
    activities: dict[str, bool]  # activity id -> direct (the object) or only related
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


def new_statement_id() -> str:
    """A UUIDv7: time-ordered, so LRS-assigned ids append to the primary-key index's right
    edge instead of touching random pages (random UUIDv4 keys make COPY 30-40 % slower)."""
    # 48-bit milliseconds, version 7, 12 random bits, variant 0b10, 62 random bits. The
    # random bits come from `random` (reseeded from the OS in every forked worker), not a
    # getrandom() system call per id: they make ids unique, they are not a secret.
    rand = random.getrandbits(74)
    value = (
        (time.time_ns() // 1_000_000) << 80
        | 0x7 << 76
        | (rand >> 62) << 64
        | 0b10 << 62
        | (rand & (1 << 62) - 1)
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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

    Activity definitions are kept only from credentials that may define (scope `define`).
    This runs once per statement on the ingest path: it is written for speed."""
    assert statement.id is not UNSET
    obj = statement.object
    context = statement.context
    registration = None
    if context is not UNSET and context.registration is not UNSET:
        registration = context.registration.lower()
    ref_target = obj.id.lower() if type(obj) is StatementRef else None
    agents: dict[str, bool] = {}
    activities: dict[str, bool] = {}
    definitions: list[tuple[str, str]] = []
    _add_agents(statement, agents)
    _add_activities(statement, activities, definitions if may_define else None)
    verb = statement.verb.id
    if len(verb) > _LONG_KEY_CHARS:
        _check_key(verb)
    return StatementRow(
        id=statement.id.lower(),
        stored=stored,
        verb=verb,
        registration=registration,
        ref_target=ref_target,
        voiding=ref_target is not None and verb == VOIDED,
        authority=authority_key,
        attachments=attachments,
        body=_encode(statement).decode(),
        agents=agents,
        activities=activities,
        definitions=definitions,
    )


# A B-tree entry holds at most 2,704 bytes (key, seq and header, uncompressed): identifiers
# longer than this could not be indexed, and PostgreSQL would refuse the whole commit.
_MAX_KEY_BYTES = 2000
_LONG_KEY_CHARS = _MAX_KEY_BYTES // 4  # no shorter string can exceed it in UTF-8


def _check_key(key: str) -> None:
    if len(key.encode()) > _MAX_KEY_BYTES:
        raise ValidationError(
            "An identifier this LRS indexes (an activity or verb IRI; an agent's mbox, openid or"
            f" account) must be at most {_MAX_KEY_BYTES:,} bytes in UTF-8",
            "$",
            f"got {len(key.encode()):,} bytes: {key[:60]!r}...",
        )


def _mention(seen: dict[str, bool], key: str, direct: bool) -> None:
    """One row per key, `direct` if any mention was direct."""
    if len(key) > _LONG_KEY_CHARS:
        _check_key(key)
    if direct or key not in seen:
        seen[key] = direct or seen.get(key, False)


def _add_actor(actor: object, seen: dict[str, bool], direct: bool) -> None:
    if actor is UNSET:
        return
    if not isinstance(actor, Agent | Group):
        raise TypeError(f"not an actor: {actor!r}")
    key = agent_key(actor)
    if key is not None:
        _mention(seen, key, direct)
    if type(actor) is Group and actor.member is not UNSET:
        for member in actor.member:
            member_key = agent_key(member)
            if member_key is not None:
                _mention(seen, member_key, direct)


def _add_context_agents(context: Context | msgspec.UnsetType, seen: dict[str, bool]) -> None:
    if context is UNSET:
        return
    _add_actor(context.instructor, seen, False)
    _add_actor(context.team, seen, False)
    for ca in context.context_agents or ():
        _add_actor(ca.agent, seen, False)
    for cg in context.context_groups or ():
        _add_actor(cg.group, seen, False)


def _add_agents(statement: Statement, seen: dict[str, bool]) -> None:
    _add_actor(statement.actor, seen, True)
    obj = statement.object
    if isinstance(obj, Agent | Group):
        _add_actor(obj, seen, True)
    _add_actor(statement.authority, seen, False)
    _add_context_agents(statement.context, seen)
    if type(obj) is SubStatement:
        _add_actor(obj.actor, seen, False)
        if isinstance(obj.object, Agent | Group):
            _add_actor(obj.object, seen, False)
        _add_context_agents(obj.context, seen)


def _add_activity(
    activity: Activity,
    seen: dict[str, bool],
    definitions: list[tuple[str, str]] | None,
    direct: bool,
) -> None:
    _mention(seen, activity.id, direct)
    if definitions is not None and activity.definition is not UNSET:
        definitions.append((activity.id, _encode(activity.definition).decode()))


def _add_context_activities(
    context: Context | msgspec.UnsetType,
    seen: dict[str, bool],
    definitions: list[tuple[str, str]] | None,
) -> None:
    if context is UNSET or context.context_activities is UNSET:
        return
    ca = context.context_activities
    for group in (ca.parent, ca.grouping, ca.category, ca.other):
        if group is UNSET:
            continue
        for activity in group if isinstance(group, list) else (group,):
            _add_activity(activity, seen, definitions, False)


def _add_activities(
    statement: Statement, seen: dict[str, bool], definitions: list[tuple[str, str]] | None
) -> None:
    obj = statement.object
    if type(obj) is Activity:
        _add_activity(obj, seen, definitions, True)
    _add_context_activities(statement.context, seen, definitions)
    if type(obj) is SubStatement:
        if type(obj.object) is Activity:
            _add_activity(obj.object, seen, definitions, False)
        _add_context_activities(obj.context, seen, definitions)
