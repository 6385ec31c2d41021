"""Query parameters of the xAPI resources, parsed or rejected with a 400 that names them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

import msgspec
from litestar.datastructures import MultiDict

from core.errors import BadRequest, ValidationError
from core.xapi.models import Agent, Group
from core.xapi.validate import check_actor, is_iri, is_timestamp, is_uuid, timestamp_instant
from ingest.rows import agent_key


def reject_unknown(params: MultiDict[str], allowed: Iterable[str]) -> None:
    unknown = set(params.keys()) - set(allowed)
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(sorted(unknown))}")


# Data 2.2.s4.b4: "The LRS MUST validate parameter values to the same standards required for
# values of the same types in Statements": the checks below are the statement validator's.


def uuid_param(name: str, value: str) -> str:
    if not is_uuid(value):
        raise BadRequest(f"{name} must be a UUID in its standard string form, not {value!r}")
    return str(uuid.UUID(value))


def iri_param(params: MultiDict[str], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not is_iri(value):
        raise BadRequest(f"{name} must be an absolute IRI, not {value!r}")
    return value


def bool_param(params: MultiDict[str], name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false, not {value!r}")
    return value == "true"


def timestamp_param(params: MultiDict[str], name: str, v2: bool = False) -> datetime | None:
    """A Timestamp as statements have them: ISO 8601 in 1.0.x, RFC 3339 in 2.0."""
    value = params.get(name)
    if value is None:
        return None
    form = "an RFC 3339" if v2 else "an ISO 8601"
    problem = f"{name} must be {form} timestamp, as in statements, not {value!r}"
    moment = timestamp_instant(value) if is_timestamp(value, v2) else None
    if moment is None:
        raise BadRequest(problem)
    return moment


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
