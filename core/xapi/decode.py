"""Request bodies to validated `Statement`s: the first stage of the ingest path.

The body is parsed to plain JSON values, the `objectType`s the specification lets a client
omit are filled in (so every union in `models.py` is tagged), msgspec converts the values to
Structs, and `validate_statement` checks the rest. A body that names every objectType is first
tried straight to Structs, which skips the intermediate values (about a third of decode time).
Whatever the input, the only exception that leaves this module is `ValidationError`.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from msgspec import UNSET

from core.errors import ValidationError
from core.xapi.models import Activity, Context, ContextActivities, Statement, SubStatement
from core.xapi.validate import validate_statement

_decode_json = msgspec.json.Decoder().decode
_decode_typed = msgspec.json.Decoder(list[Statement] | Statement).decode
_MSGSPEC_PATH = re.compile(r" - at `\$(.*)`$")
_MSGSPEC_FIELD = re.compile(r"field `([^`]*)`")


def decode_statements(body: bytes, version: str) -> list[Statement]:
    """A POST/PUT body (one Statement or an array of them) as validated Statements."""
    fast = _decode_with_every_object_type_given(body)
    if fast is not None:
        if isinstance(fast, Statement):
            validate_statement(fast, version, "$")
            return [with_context_activity_lists(fast)]
        for i, stmt in enumerate(fast):
            validate_statement(stmt, version, f"$[{i}]")
        if fast:
            return [with_context_activity_lists(s) for s in fast]
    try:
        data = _decode_json(body)
    except msgspec.ValidationError as exc:  # valid JSON, but a number no float can hold
        raise from_msgspec_error(exc, "$") from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise ValidationError("The body must be valid JSON", "$", str(exc)) from None
    if isinstance(data, list):
        if not data:
            raise ValidationError("A batch of Statements must not be empty", "$")
        return [
            with_context_activity_lists(decode_statement_obj(item, version, f"$[{i}]"))
            for i, item in enumerate(data)
        ]
    return [with_context_activity_lists(decode_statement_obj(data, version, "$"))]


def _listed_context(context: Context) -> Context:
    ca = context.context_activities
    if ca is UNSET or not (
        isinstance(ca.parent, Activity)
        or isinstance(ca.grouping, Activity)
        or isinstance(ca.category, Activity)
        or isinstance(ca.other, Activity)
    ):
        return context
    lists = {
        name: [value] if isinstance(value, Activity) else value
        for name, value in msgspec.structs.asdict(ca).items()
    }
    return msgspec.structs.replace(context, context_activities=ContextActivities(**lists))


def with_context_activity_lists(stmt: Statement) -> Statement:
    """The statement with every context Activity given alone turned into an array of one,
    the form the LRS MUST return (Data 2.4.6.2)."""
    if stmt.context is not UNSET and (listed := _listed_context(stmt.context)) is not stmt.context:
        stmt = msgspec.structs.replace(stmt, context=listed)
    obj = stmt.object
    if (
        isinstance(obj, SubStatement)
        and obj.context is not UNSET
        and (listed := _listed_context(obj.context)) is not obj.context
    ):
        stmt = msgspec.structs.replace(stmt, object=msgspec.structs.replace(obj, context=listed))
    return stmt


def _decode_with_every_object_type_given(body: bytes) -> list[Statement] | Statement | None:
    """The fast path: straight to Structs, when the client spelled out every objectType.

    None sends the body down the general path, which also words the errors.
    """
    try:
        decoded: list[Statement] | Statement = _decode_typed(body)
    except (msgspec.MsgspecError, RecursionError):
        return None
    if isinstance(decoded, Statement):
        return decoded if not _may_lack_a_required_type(decoded) else None
    for statement in decoded:
        if _may_lack_a_required_type(statement):
            return None
    return decoded


def _may_lack_a_required_type(statement: Statement) -> bool:
    """Whether a context holds one of the objects whose objectType the typed decoder does not
    ask for but the specification does (see `_fill_context`): a team, a StatementRef,
    contextAgents or contextGroups. They are rare; such a statement takes the general path,
    which checks what was written. Asked of the decoded Structs, not of the body's bytes:
    five substring searches of a 800-byte body cost as much as decoding it."""
    for context in (
        statement.context,
        statement.object.context if type(statement.object) is SubStatement else UNSET,
    ):
        if context is not UNSET and (
            context.team is not UNSET
            or context.statement is not UNSET
            or context.context_agents is not UNSET
            or context.context_groups is not UNSET
        ):
            return True
    return False


def decode_statement_obj(obj: object, version: str, path: str = "$") -> Statement:
    """One already-parsed Statement as a validated Statement.

    Omitted `objectType`s are filled in `obj` in place.
    """
    if not isinstance(obj, dict):
        raise ValidationError("A Statement must be a JSON object", path)
    fill_statement_object_types(obj, path)
    try:
        stmt = msgspec.convert(obj, Statement)
    except (msgspec.ValidationError, RecursionError) as exc:
        raise from_msgspec_error(exc, path) from None
    validate_statement(stmt, version, path)
    return stmt


# --- objectType defaults -------------------------------------------------------------------
# Agent may omit objectType everywhere but as a Statement's object; an object without one is
# an Activity. Group, SubStatement, StatementRef, contextAgent and contextGroup must say it.


def fill_statement_object_types(stmt: dict[str, Any], path: str) -> None:
    _default_type(stmt.get("actor"), "Agent")
    _default_type(stmt.get("authority"), "Agent")
    obj = stmt.get("object")
    _default_type(obj, "Activity")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        _default_type(obj.get("actor"), "Agent")
        _default_type(obj.get("object"), "Activity")
        _fill_context(obj.get("context"), f"{path}.object.context")
    _fill_context(stmt.get("context"), f"{path}.context")


def _default_type(value: object, object_type: str) -> None:
    if isinstance(value, dict) and "objectType" not in value:
        value["objectType"] = object_type


def _fill_context(context: object, path: str) -> None:
    if not isinstance(context, dict):
        return
    _default_type(context.get("instructor"), "Agent")
    _require_type(context.get("team"), f"{path}.team", "Group")
    # Data 2.4.4.3: "A Statement Reference MUST specify an "objectType" property".
    _require_type(context.get("statement"), f"{path}.statement", "StatementRef")
    activities = context.get("contextActivities")
    if isinstance(activities, dict):
        for value in activities.values():
            if isinstance(value, list):
                for activity in value:
                    _default_type(activity, "Activity")
            else:
                _default_type(value, "Activity")
    for name, tag, inner in (
        ("contextAgents", "contextAgent", None),
        ("contextGroups", "contextGroup", "group"),
    ):
        entries = context.get(name)
        if isinstance(entries, list):
            for i, entry in enumerate(entries):
                _require_type(entry, f"{path}.{name}[{i}]", tag)
                if inner is not None and isinstance(entry, dict):
                    _require_type(entry.get(inner), f"{path}.{name}[{i}].{inner}", "Group")


def _require_type(value: object, path: str, object_type: str) -> None:
    # msgspec accepts a missing tag where the type is not a union; the spec does not.
    if isinstance(value, dict) and "objectType" not in value:
        raise ValidationError(f'objectType "{object_type}" is required here', path)


# --- msgspec errors as ValidationErrors -----------------------------------------------------


def from_msgspec_error(exc: Exception, path: str) -> ValidationError:
    if isinstance(exc, RecursionError):
        return ValidationError("The Statement is nested too deeply", path)
    message = str(exc)
    where = _MSGSPEC_PATH.search(message)
    at = path + (where.group(1) if where else "")
    text = message[: where.start()] if where else message
    field = _MSGSPEC_FIELD.search(text)
    if text.startswith("Object missing required field"):
        name = field.group(1) if field else ""
        return ValidationError("A required property is missing", f"{at}.{name}", text)
    if text.startswith("Object contains unknown field"):
        name = field.group(1) if field else ""
        return ValidationError(
            "A property not defined by the specification (keys are case-sensitive) is not allowed",
            f"{at}.{name}",
            text,
        )
    if text.endswith("got `null`"):
        return ValidationError("A property must not be null (except inside extensions)", at, text)
    if text.startswith("Invalid value") and at.endswith(".objectType"):
        return ValidationError("objectType is not one allowed at this position", at, text)
    if text.startswith("Number out of range"):
        return ValidationError("A number is out of the range of a double", at, text)
    return ValidationError("A property has the wrong data type", at, text)
