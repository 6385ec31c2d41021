"""Query parameters of the xAPI resources, parsed or rejected with a 400 that names them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec
from litestar.datastructures import MultiDict

from core.errors import BadRequest, ValidationError
from core.xapi.models import Agent, Group
from core.xapi.validate import check_actor
from ingest.rows import agent_key

_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+")


def reject_unknown(params: MultiDict[str], allowed: Iterable[str]) -> None:
    unknown = set(params.keys()) - set(allowed)
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(sorted(unknown))}")


def uuid_param(name: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest(f"{name} must be a UUID, not {value!r}") from None


def iri_param(params: MultiDict[str], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not _IRI.fullmatch(value):
        raise BadRequest(f"{name} must be an absolute IRI, not {value!r}")
    return value


def bool_param(params: MultiDict[str], name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false, not {value!r}")
    return value == "true"


def timestamp_param(params: MultiDict[str], name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 timestamp, not {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_actor_param(text: str, name: str = "agent") -> Agent | Group:
    """An Agent or identified Group given as JSON in a parameter."""
    try:
        obj = msgspec.json.decode(text)
    except (msgspec.DecodeError, RecursionError):
        raise BadRequest(f"{name} must be a JSON Agent object") from None
    if not isinstance(obj, dict):
        raise BadRequest(f"{name} must be a JSON Agent object")
    obj.setdefault("objectType", "Agent")
    try:
        actor: Agent | Group = msgspec.convert(obj, Agent | Group)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"{name} is not a valid Agent: {exc}") from None
    if isinstance(actor, Group) and agent_key(actor) is None:
        raise BadRequest(f"{name} must be an Agent or an identified Group")
    try:
        check_actor(actor, "$")
    except ValidationError as exc:
        raise BadRequest(f"{name} is not a valid Agent: {exc.message}") from None
    return actor


def agent_key_param(text: str | None) -> str | None:
    if text is None:
        return None
    key = agent_key(parse_actor_param(text))
    assert key is not None
    return key
