"""A statement as stored (JSON) → one row of the analytics `statements` table.

Rows are dicts keyed by column, ready for ClickHouse's JSONEachRow input. Agents are named
by the same inverse-functional-identifier strings the statement store uses (`agent_key`).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from msgspec import UNSET

from core.xapi.models import (
    Activity,
    ActivityList,
    Agent,
    Context,
    Group,
    Statement,
    StatementRef,
    SubStatement,
)
from ingest.rows import agent_key
from lms.analytics.schema import VOIDED

Row = dict[str, Any]

_decode_statement = msgspec.json.Decoder(Statement).decode
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?"
)
# Years and months have no fixed length; learning durations that use them are rare, so a
# calendar-free approximation (365 and 30 days) is good enough for sums of time on task.
_DURATION_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)


class FlattenError(ValueError):
    """The record's value is not a statement as the LRS stores them."""


def flatten(value: bytes) -> Row:
    try:
        stmt = _decode_statement(value)
    except msgspec.DecodeError as exc:
        raise FlattenError(f"not a stored statement: {exc}") from None
    if stmt.id is UNSET:
        raise FlattenError("a stored statement has an id")
    statement_id = _uuid(stmt.id)
    timestamp = parse_timestamp(stmt.timestamp)
    stored = parse_timestamp(stmt.stored)
    obj = stmt.object
    result = stmt.result
    score = result.score if result is not UNSET else UNSET
    context = stmt.context
    definition = obj.definition if isinstance(obj, Activity) else UNSET
    return {
        "id": statement_id,
        # Each stands in for the other when missing (the LRS sets both; see README).
        "timestamp": _datetime64(timestamp or stored or _EPOCH),
        "stored": _datetime64(stored or timestamp or _EPOCH),
        "actor": actor_id(stmt.actor),
        "actor_name": _or_empty(stmt.actor.name),
        "actor_type": type(stmt.actor).__name__,
        "verb_id": stmt.verb.id,
        "verb_display": display(stmt.verb.display),
        "object_id": object_id(obj),
        "object_type": type(obj).__name__,
        "activity_type": _or_empty(definition.type) if definition is not UNSET else "",
        "activity_name": display(definition.name) if definition is not UNSET else "",
        "score_scaled": _or_none(score.scaled) if score is not UNSET else None,
        "score_raw": _or_none(score.raw) if score is not UNSET else None,
        "score_min": _or_none(score.min) if score is not UNSET else None,
        "score_max": _or_none(score.max) if score is not UNSET else None,
        "success": _flag(result.success) if result is not UNSET else None,
        "completion": _flag(result.completion) if result is not UNSET else None,
        "duration_s": parse_duration(result.duration) if result is not UNSET else None,
        "response": _or_none(result.response) if result is not UNSET else None,
        **_context_columns(context),
        "authority": actor_id(stmt.authority) if stmt.authority is not UNSET else "",
        "version": _or_empty(stmt.version),
        "voids": _uuid(obj.id)
        if stmt.verb.id == VOIDED and isinstance(obj, StatementRef)
        else None,
        "statement": value.decode(),
    }


def actor_id(actor: Agent | Group) -> str:
    """The actor's IFI string; an anonymous group is named by its members' IFIs."""
    key = agent_key(actor)
    if key is not None:
        return key
    members = actor.member if isinstance(actor, Group) and actor.member is not UNSET else []
    return "group " + " | ".join(sorted(filter(None, (agent_key(m) for m in members))))


def object_id(obj: Activity | Agent | Group | SubStatement | StatementRef) -> str:
    """An activity's or referenced statement's id, an agent's IFI; "" for a SubStatement
    (its parts are in the `statement` JSON)."""
    if isinstance(obj, Activity | StatementRef):
        return obj.id
    if isinstance(obj, Agent | Group):
        return actor_id(obj)
    return ""


def display(language_map: dict[str, str] | msgspec.UnsetType) -> str:
    """The English entry of a language map (en, else any en-*), else its first."""
    if language_map is UNSET or not language_map:
        return ""
    if "en" in language_map:
        return language_map["en"]
    for tag, text in language_map.items():
        if tag.lower().startswith("en-"):
            return text
    return next(iter(language_map.values()))


def parse_timestamp(value: str | msgspec.UnsetType) -> datetime | None:
    """An ISO 8601 timestamp in UTC; one without an offset is taken as UTC."""
    if value is UNSET:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_duration(value: str | msgspec.UnsetType) -> float | None:
    """An ISO 8601 duration (PnYnMnWnDTnHnMnS) in seconds; None if absent or malformed."""
    if value is UNSET:
        return None
    match = _DURATION.fullmatch(value)
    if match is None or value in ("P", "PT") or value.endswith("T"):
        return None
    return sum(
        float(number.replace(",", ".")) * unit
        for number, unit in zip(match.groups(), _DURATION_UNITS, strict=True)
        if number is not None
    )


def _context_columns(context: Context | msgspec.UnsetType) -> Row:
    if context is UNSET:
        return {
            "registration": None,
            "parent_ids": [],
            "grouping_ids": [],
            "category_ids": [],
            "platform": "",
            "language": "",
            "instructor": "",
        }
    activities = context.context_activities
    return {
        "registration": _uuid(context.registration) if context.registration is not UNSET else None,
        "parent_ids": _ids(activities.parent) if activities is not UNSET else [],
        "grouping_ids": _ids(activities.grouping) if activities is not UNSET else [],
        "category_ids": _ids(activities.category) if activities is not UNSET else [],
        "platform": _or_empty(context.platform),
        "language": _or_empty(context.language),
        "instructor": actor_id(context.instructor) if context.instructor is not UNSET else "",
    }


def _ids(activities: ActivityList | msgspec.UnsetType) -> list[str]:
    if activities is UNSET:
        return []
    if isinstance(activities, Activity):
        return [activities.id]
    return [a.id for a in activities]


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise FlattenError(f"not a UUID: {value!r}") from None


def _datetime64(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _flag(value: bool | msgspec.UnsetType) -> int | None:
    return None if value is UNSET else int(value)


def _or_none(value: Any) -> Any:
    return None if value is UNSET else value


def _or_empty(value: str | msgspec.UnsetType) -> str:
    return "" if value is UNSET else value
