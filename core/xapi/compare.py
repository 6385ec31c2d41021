"""Statement comparison: xAPI 1.0.3 Data 2.3.1-2.3.2 and xAPI 2.0 "Statement Immutability".

Two Statements match when they differ only where the specification allows: properties the LRS
assigns or may overwrite (`id`, `authority`, `stored`, `timestamp`, `version`), attachments,
referenced Activity Definitions, Verb `display`, the order of Group members, the case of
case-insensitive values (UUIDs, language tags, sha1 hex, IRI schemes), the serialization of
timestamps (compared as instants), an omitted default `objectType`, a single context Activity
against an array of one, and duration precision beyond 0.01 s.
"""

from __future__ import annotations

import re
from datetime import UTC
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

import msgspec

from core.xapi.validate import timestamp_instant

_LRS_ASSIGNED = frozenset({"id", "authority", "stored", "timestamp", "version", "attachments"})
_IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
_SECONDS = re.compile(r"(\d+(?:[.,]\d+)?)S$")
_encode_sorted = msgspec.json.Encoder(order="sorted").encode


def statements_equivalent(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two Statements (as JSON dicts) match per the Statement comparison requirements."""
    return normalize_statement(a, top_level=True) == normalize_statement(b, top_level=True)


def normalize_statement(stmt: dict[str, Any], top_level: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stmt.items():
        if key in _LRS_ASSIGNED and (top_level or key == "attachments"):
            continue
        if key == "actor":
            out[key] = normalize_actor(value)
        elif key == "verb":
            out[key] = {"id": value.get("id")} if isinstance(value, dict) else value
        elif key == "object":
            out[key] = normalize_object(value)
        elif key == "result":
            out[key] = normalize_result(value)
        elif key == "context":
            out[key] = normalize_context(value)
        elif key == "timestamp":
            out[key] = normalize_timestamp(value)
        else:
            out[key] = value
    return out


def normalize_actor(actor: Any, default_type: str = "Agent") -> Any:
    if not isinstance(actor, dict):
        return actor
    out = dict(actor)
    out.setdefault("objectType", default_type)
    if isinstance(out.get("mbox_sha1sum"), str):
        out["mbox_sha1sum"] = out["mbox_sha1sum"].lower()
    if isinstance(out.get("mbox"), str) and out["mbox"][:7].lower() == "mailto:":
        out["mbox"] = "mailto:" + out["mbox"][7:]
    members = out.get("member")
    if isinstance(members, list):
        normalized = [normalize_actor(member) for member in members]
        out["member"] = sorted(normalized, key=_encode_sorted)
    return out


def normalize_object(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        return normalize_activity(obj)
    if object_type in ("Agent", "Group"):
        return normalize_actor(obj)
    if object_type == "StatementRef":
        return normalize_statement_ref(obj)
    if object_type == "SubStatement":
        return normalize_statement(obj)
    return obj


def normalize_activity(activity: Any) -> Any:
    # An Activity's definition is not part of the Statement: only its id identifies it.
    if not isinstance(activity, dict):
        return activity
    return {"objectType": "Activity", "id": activity.get("id")}


def normalize_statement_ref(ref: Any) -> Any:
    if not isinstance(ref, dict):
        return ref
    out = dict(ref)
    if isinstance(out.get("id"), str):
        out["id"] = out["id"].lower()
    return out


def normalize_result(result: Any) -> Any:
    if not isinstance(result, dict) or not isinstance(result.get("duration"), str):
        return result
    return {**result, "duration": normalize_duration(result["duration"])}


def normalize_duration(duration: str) -> str:
    """The duration with its seconds truncated to 0.01 s (xAPI 2.0 section 4.2.7)."""
    match = _SECONDS.search(duration)
    if match is None:
        return duration
    try:
        seconds = Decimal(match.group(1).replace(",", "."))
    except InvalidOperation:
        return duration
    truncated = seconds.quantize(Decimal("0.01"), rounding=ROUND_DOWN).normalize()
    return duration[: match.start()] + f"{truncated:f}S"


def normalize_context(context: Any) -> Any:
    if not isinstance(context, dict):
        return context
    out = dict(context)
    if isinstance(out.get("registration"), str):
        out["registration"] = out["registration"].lower()
    if isinstance(out.get("language"), str):
        out["language"] = out["language"].lower()
    if "instructor" in out:
        out["instructor"] = normalize_actor(out["instructor"])
    if "team" in out:
        out["team"] = normalize_actor(out["team"], "Group")
    if "statement" in out:
        out["statement"] = normalize_statement_ref(out["statement"])
    activities = out.get("contextActivities")
    if isinstance(activities, dict):
        out["contextActivities"] = {
            key: [normalize_activity(a) for a in (value if isinstance(value, list) else [value])]
            for key, value in activities.items()
        }
    for name, inner in (("contextAgents", "agent"), ("contextGroups", "group")):
        entries = out.get(name)
        if isinstance(entries, list):
            out[name] = [
                {**entry, inner: normalize_actor(entry.get(inner), inner.capitalize())}
                if isinstance(entry, dict)
                else entry
                for entry in entries
            ]
    return out


def normalize_timestamp(value: Any) -> Any:
    """A timestamp as a UTC instant; unparseable values compare as themselves."""
    if not isinstance(value, str):
        return value
    instant = timestamp_instant(value)
    return value if instant is None else instant.astimezone(UTC)
