"""The rules of the xAPI data model (1.0.3 and 2.0) that the msgspec types cannot say.

`validate_statement` walks a decoded `Statement` and raises `ValidationError` on the first
broken rule, naming the rule and the JSON path of the offending value. The string forms
(IRI, UUID, language tag, timestamp, duration, ...) are checked by the `is_*` predicates at the
top; the ones applied to values that repeat across statements (IRIs, language tags) are cached.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from msgspec import UNSET

from core.errors import ValidationError
from core.xapi.models import (
    Account,
    Activity,
    ActivityDefinition,
    ActivityList,
    Agent,
    Attachment,
    Context,
    ContextActivities,
    Group,
    InteractionComponent,
    Result,
    Score,
    Statement,
    StatementObject,
    StatementRef,
    SubStatement,
    Verb,
)

VOIDED = "http://adlnet.gov/expapi/verbs/voided"

EMPTY_OBJECT_RULE = (
    "A property's value must not be an empty object, except within extensions"
    " (Data 2.2.s4.b1.b1, XAPI-00001)"
)
# Every object type whose properties are all optional, in its empty form. Types with a required
# property (Verb, Activity, Account, ...) cannot be empty: decoding `{}` already fails.
_EMPTY_DEFINITION = ActivityDefinition()
_EMPTY_CONTEXT_ACTIVITIES = ContextActivities()
_EMPTY_CONTEXT = Context()
_EMPTY_RESULT = Result()
_EMPTY_SCORE = Score()

# --- string forms -------------------------------------------------------------------------

_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[^\x00-\x20<>\"{}|\\^`%\x7f]|%[0-9A-Fa-f]{2})+")
_MBOX = re.compile(r"mailto:[^\s\x00-\x1f\x7f@:/?#]+@[^\s\x00-\x1f\x7f@/?#]+")
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_SHA2_HEX_LENGTHS = frozenset({56, 64, 96, 128})
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MEDIA_TYPE = re.compile(
    r"[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+"
    r"(?:\s*;\s*[A-Za-z0-9!#$&^_.+\-]+=(?:[A-Za-z0-9!#$&^_.+\-]+|\"(?:[^\"\\]|\\.)*\"))*\s*"
)
_V1_VERSION = re.compile(r"1\.0(?:\.\d+)?")
_V2_VERSION = re.compile(r"2\.0(?:\.\d+)?")
_LANGUAGE_LOOSE = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")

# RFC 5646 section 2.1, the `langtag` and `privateuse` productions; grandfathered tags below.
_LANGTAG = re.compile(
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)"
    r"(?P<extensions>(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*)"
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[xX](?:-[A-Za-z0-9]{1,8})+"
)
_GRANDFATHERED = frozenset(
    [
        "en-gb-oed",
        "i-ami",
        "i-bnn",
        "i-default",
        "i-enochian",
        "i-hak",
        "i-klingon",
        "i-lux",
        "i-mingo",
        "i-navajo",
        "i-pwn",
        "i-tao",
        "i-tay",
        "i-tsu",
        "sgn-be-fr",
        "sgn-be-nl",
        "sgn-ch-de",
        "art-lojban",
        "cel-gaulish",
        "no-bok",
        "no-nyn",
        "zh-guoyu",
        "zh-hakka",
        "zh-min",
        "zh-min-nan",
        "zh-xiang",
    ]
)

_TIME = r"(?P<h>\d{2})(?P<sep>:?)(?P<mi>\d{2})(?:(?P=sep)(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
_ZONE = r"(?P<z>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
_TIMESTAMP_V1 = re.compile(
    r"(?P<y>\d{4})(?P<dsep>-?)(?P<mo>\d{2})(?P=dsep)(?P<d>\d{2})[Tt]" + _TIME + _ZONE
)
# xAPI 2.0 timestamps follow RFC 3339, which also allows a space between date and time.
_TIMESTAMP_V2 = re.compile(
    r"(?P<y>\d{4})(?P<dsep>-?)(?P<mo>\d{2})(?P=dsep)(?P<d>\d{2})[Tt ]" + _TIME + _ZONE
)
# The form nearly every client sends, checked first: extended format, "T", seconds, a zone.
_TIMESTAMP_COMMON = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)"
)
_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"P(?:{_NUM}W|(?!$)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}D)?"
    rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?)"
)


_FRACTION = re.compile(r"[.,]\d+[A-Z]")


_known_iris: set[str] = set()
_KNOWN_IRIS_MAX = 65536


def is_iri(value: str) -> bool:
    """An absolute IRI: a scheme, a colon, then IRI characters (RFC 3987, loosely)."""
    # Verb ids, activity ids and extension keys repeat from statement to statement.
    if value in _known_iris:
        return True
    if _IRI.fullmatch(value) is None:
        return False
    if len(_known_iris) >= _KNOWN_IRIS_MAX:
        _known_iris.clear()
    _known_iris.add(value)
    return True


def is_uuid(value: str) -> bool:
    return _UUID.fullmatch(value) is not None


def is_mbox(value: str) -> bool:
    return _MBOX.fullmatch(value) is not None


def is_sha1_hex(value: str) -> bool:
    return _SHA1.fullmatch(value) is not None


def is_sha2_hex(value: str) -> bool:
    return len(value) in _SHA2_HEX_LENGTHS and _HEX.fullmatch(value) is not None


def is_media_type(value: str) -> bool:
    return _MEDIA_TYPE.fullmatch(value) is not None


@lru_cache(maxsize=4096)
def is_language_tag(value: str) -> bool:
    """An RFC 5646 language tag; singletons and variants may not repeat (section 2.2.5-6)."""
    if value.lower() in _GRANDFATHERED:
        return True
    match = _LANGTAG.fullmatch(value)
    if match is None:
        return False
    variants = (match.group("variants") or "").lower().split("-")[1:]
    if len(variants) != len(set(variants)):
        return False
    extensions = (match.group("extensions") or "").lower().split("-")[1:]
    singletons = [subtag for subtag in extensions if len(subtag) == 1]
    return len(singletons) == len(set(singletons))


def is_context_language(value: str, v2: bool) -> bool:
    """An RFC 5646 tag in 2.0; in 1.0.x only its alphanumeric-subtag shape, since ADL's 1.0.3
    suite stores a 51-letter "tag" while its 2.0 suite rejects a 9-letter one."""
    return is_language_tag(value) if v2 else _LANGUAGE_LOOSE.fullmatch(value) is not None


def is_timestamp(value: str, v2: bool = False) -> bool:
    """ISO 8601 (1.0.x, extended or basic) or RFC 3339 (2.0, time zone required) date and time.

    A negative zero offset (`-00`, `-0000`, `-00:00`) means "offset unknown" in RFC 3339 and
    is rejected, as the ADL conformance suite expects.
    """
    if _TIMESTAMP_COMMON.fullmatch(value) is not None and value[-6:] != "-00:00":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return True
    match = (_TIMESTAMP_V2 if v2 else _TIMESTAMP_V1).fullmatch(value)
    if match is None:
        return False
    zone = match.group("z")
    if v2 and not zone:
        return False  # 2.0 (RFC 3339) timestamps carry their offset
    if zone and zone[0] == "-" and not zone.strip("-:0"):
        return False
    if zone and len(zone) > 1:
        digits = zone[1:].replace(":", "")
        if int(digits[:2]) > 23 or (len(digits) == 4 and int(digits[2:]) > 59):
            return False
    try:
        datetime(
            int(match.group("y")),
            int(match.group("mo")),
            int(match.group("d")),
            int(match.group("h")),
            int(match.group("mi")),
            min(int(match.group("s") or 0), 59),  # a leap second (60) is valid ISO 8601
        )
    except ValueError:
        return False
    return True


def timestamp_instant(value: str) -> datetime | None:
    """A Timestamp as an aware datetime, in UTC when it names no zone; None when no datetime
    can hold it (a leap second, `:60`) or it is no timestamp."""
    try:
        instant = datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def is_duration(value: str) -> bool:
    """ISO 8601:2004 section 4.4.3.2 duration (`P3Y1M29DT4H35M59.14S`, or weeks alone: `P4W`).
    Only the lowest-order component present may have a decimal fraction (4.4.3.2 b)."""
    if _DURATION.fullmatch(value) is None:
        return False
    fraction = _FRACTION.search(value)
    return fraction is None or fraction.end() == len(value)


def is_v2(version: str) -> bool:
    return version.startswith("2.")


# --- the walk ---------------------------------------------------------------------------


def validate_statement(stmt: Statement, version: str, path: str = "$") -> None:
    """Raise `ValidationError` for the first rule of the xAPI data model `stmt` breaks.

    `version` is the request's X-Experience-API-Version ("1.0.3", "2.0.0", ...).
    """
    v2 = is_v2(version)
    if stmt.id is not UNSET:
        check_uuid(stmt.id, path, "id", "A Statement id must be a UUID")
    check_actor(stmt.actor, f"{path}.actor")
    check_verb(stmt.verb, f"{path}.verb")
    check_object(stmt.object, f"{path}.object", v2)
    check_voiding_targets_statement_ref(stmt.verb, stmt.object, path)
    if stmt.result is not UNSET:
        check_result(stmt.result, f"{path}.result")
    if stmt.context is not UNSET:
        check_context(stmt.context, stmt.object, f"{path}.context", v2)
    if stmt.timestamp is not UNSET:
        check_timestamp(stmt.timestamp, path, "timestamp", v2)
    if stmt.stored is not UNSET:
        check_timestamp(stmt.stored, path, "stored", v2)
    if stmt.authority is not UNSET:
        check_authority(stmt.authority, f"{path}.authority")
    if stmt.version is not UNSET:
        check_version_property(stmt.version, f"{path}.version", v2)
    if stmt.attachments is not UNSET:
        check_attachments(stmt.attachments, f"{path}.attachments")


def fail(rule: str, path: str, value: object = UNSET) -> ValidationError:
    detail = "" if value is UNSET else f"got {_show(value)}"
    return ValidationError(rule, path, detail)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# These take the parent's path and the key, and build the value's path only on failure.


def check_iri(value: str, path: str, key: str, rule: str) -> None:
    if not is_iri(value):
        raise fail(rule, f"{path}.{key}", value)


def check_uuid(value: str, path: str, key: str, rule: str) -> None:
    if not is_uuid(value):
        raise fail(rule, f"{path}.{key}", value)


def check_timestamp(value: str, path: str, key: str, v2: bool) -> None:
    if not is_timestamp(value, v2):
        form = "RFC 3339" if v2 else "ISO 8601"
        rule = f"A Timestamp must be a date and time formatted according to {form}"
        raise fail(rule, f"{path}.{key}", value)


def check_language_map(value: dict[str, str], path: str) -> None:
    if not value:
        raise fail(EMPTY_OBJECT_RULE, path, {})
    for key in value:
        if not is_language_tag(key):
            raise fail("Language map keys must be RFC 5646 language tags", f"{path}.{key}", key)


def check_not_empty(value: object, empty: object, path: str) -> None:
    """Data 2.2.s4.b1.b1: no property's value may be an empty object, except in extensions.
    An object whose properties are all optional decodes to a Struct of UNSET fields; comparing
    it with that type's empty instance is one C call."""
    if value == empty:
        raise fail(EMPTY_OBJECT_RULE, path, {})


def check_extensions(value: dict[str, Any], path: str) -> None:
    for key in value:
        if not is_iri(key):
            raise fail("Extension keys must be IRIs", f"{path}.{key}", key)


# Agents and Groups


def check_actor(actor: Agent | Group, path: str) -> None:
    if isinstance(actor, Agent):
        check_agent(actor, path)
    else:
        check_group(actor, path)


def check_agent(agent: Agent, path: str) -> None:
    if _count_ifis(agent) != 1:
        raise fail("An Agent must have exactly one inverse functional identifier", path)
    check_ifi(agent, path)


def check_group(group: Group, path: str) -> None:
    ifis = _count_ifis(group)
    if ifis > 1:
        raise fail("A Group must have at most one inverse functional identifier", path)
    if ifis == 0 and not group.member:
        raise fail("An Anonymous Group must have a non-empty member list", f"{path}.member")
    if ifis == 1:
        check_ifi(group, path)
    if group.member is not UNSET:
        for i, member in enumerate(group.member):
            check_agent(member, f"{path}.member[{i}]")


def _count_ifis(actor: Agent | Group) -> int:
    return (
        (actor.mbox is not UNSET)
        + (actor.mbox_sha1sum is not UNSET)
        + (actor.openid is not UNSET)
        + (actor.account is not UNSET)
    )


def check_ifi(actor: Agent | Group, path: str) -> None:
    if actor.mbox is not UNSET and not is_mbox(actor.mbox):
        raise fail(
            'An mbox must be a "mailto:" IRI of an email address', f"{path}.mbox", actor.mbox
        )
    if actor.mbox_sha1sum is not UNSET and not is_sha1_hex(actor.mbox_sha1sum):
        raise fail(
            "An mbox_sha1sum must be the hex-encoded SHA1 of a mailto IRI",
            f"{path}.mbox_sha1sum",
            actor.mbox_sha1sum,
        )
    if actor.openid is not UNSET:
        check_iri(actor.openid, path, "openid", "An openid must be an absolute URI")
    if actor.account is not UNSET:
        check_account(actor.account, f"{path}.account")


def check_account(account: Account, path: str) -> None:
    check_iri(account.home_page, path, "homePage", "An account homePage must be an IRL")
    if "\x00" in account.name:
        # An identifier the LRS indexes and matches by: PostgreSQL's text cannot hold NUL.
        raise fail("An account name must not contain NUL (U+0000)", f"{path}.name")


def check_authority(authority: Agent | Group, path: str) -> None:
    """An authority is an Agent, or for 3-legged OAuth an anonymous Group of two Agents."""
    if isinstance(authority, Agent):
        check_agent(authority, path)
        return
    if _count_ifis(authority) != 0 or authority.member is UNSET or len(authority.member) != 2:
        raise fail("An authority Group must be an anonymous Group of exactly two Agents", path)
    check_group(authority, path)


# Verb and Object


def check_verb(verb: Verb, path: str) -> None:
    check_iri(verb.id, path, "id", "A Verb id must be an IRI")
    if verb.display is not UNSET:
        check_language_map(verb.display, f"{path}.display")


def check_voiding_targets_statement_ref(verb: Verb, obj: StatementObject, path: str) -> None:
    if verb.id == VOIDED and not isinstance(obj, StatementRef):
        raise fail(
            'A Statement with the verb "voided" must have a StatementRef as its object',
            f"{path}.object",
        )


def check_object(obj: StatementObject, path: str, v2: bool) -> None:
    if isinstance(obj, Activity):
        check_activity(obj, path)
    elif isinstance(obj, Agent):
        check_agent(obj, path)
    elif isinstance(obj, Group):
        check_group(obj, path)
    elif isinstance(obj, StatementRef):
        check_uuid(obj.id, path, "id", "A StatementRef id must be a UUID")
    else:
        check_substatement(obj, path, v2)


def check_substatement(sub: SubStatement, path: str, v2: bool) -> None:
    # id, stored, version and authority are not fields of SubStatement, and a SubStatement is
    # not a member of its `object` union: msgspec rejects both before we get here.
    check_actor(sub.actor, f"{path}.actor")
    check_verb(sub.verb, f"{path}.verb")
    check_object(sub.object, f"{path}.object", v2)
    check_voiding_targets_statement_ref(sub.verb, sub.object, path)
    if sub.result is not UNSET:
        check_result(sub.result, f"{path}.result")
    if sub.context is not UNSET:
        check_context(sub.context, sub.object, f"{path}.context", v2)
    if sub.timestamp is not UNSET:
        check_timestamp(sub.timestamp, path, "timestamp", v2)
    if sub.attachments is not UNSET:
        check_attachments(sub.attachments, f"{path}.attachments")


def check_activity(activity: Activity, path: str) -> None:
    check_iri(activity.id, path, "id", "An Activity id must be an IRI")
    if activity.definition is not UNSET:
        check_definition(activity.definition, f"{path}.definition")


INTERACTION_TYPES = frozenset(
    {
        "true-false",
        "choice",
        "fill-in",
        "long-fill-in",
        "matching",
        "performance",
        "sequencing",
        "likert",
        "numeric",
        "other",
    }
)
COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
ALLOWED_COMPONENT_LISTS: dict[str, frozenset[str]] = {
    "choice": frozenset({"choices"}),
    "sequencing": frozenset({"choices"}),
    "likert": frozenset({"scale"}),
    "matching": frozenset({"source", "target"}),
    "performance": frozenset({"steps"}),
}


def check_definition(definition: ActivityDefinition, path: str) -> None:
    check_not_empty(definition, _EMPTY_DEFINITION, path)
    if definition.name is not UNSET:
        check_language_map(definition.name, f"{path}.name")
    if definition.description is not UNSET:
        check_language_map(definition.description, f"{path}.description")
    if definition.type is not UNSET:
        check_iri(definition.type, path, "type", "An Activity type must be an IRI")
    if definition.more_info is not UNSET:
        check_iri(definition.more_info, path, "moreInfo", "An Activity moreInfo must be an IRL")
    if definition.extensions is not UNSET:
        check_extensions(definition.extensions, f"{path}.extensions")
    check_interaction(definition, path)


def check_interaction(definition: ActivityDefinition, path: str) -> None:
    lists = {
        name: components
        for name in COMPONENT_LISTS
        if (components := getattr(definition, name)) is not UNSET
    }
    interaction_type = definition.interaction_type
    if interaction_type is UNSET:
        if lists or definition.correct_responses_pattern is not UNSET:
            raise fail(
                "An Interaction Activity must have an interactionType",
                f"{path}.interactionType",
            )
        return
    if interaction_type not in INTERACTION_TYPES:
        raise fail(
            "interactionType must be one of the values enumerated by the specification, exactly",
            f"{path}.interactionType",
            interaction_type,
        )
    allowed = ALLOWED_COMPONENT_LISTS.get(interaction_type, frozenset())
    for name, components in lists.items():
        if name not in allowed:
            raise fail(
                f'Interaction component list "{name}" may only be used with a matching '
                "interactionType",
                f"{path}.{name}",
            )
        check_components(components, f"{path}.{name}")


def check_components(components: list[InteractionComponent], path: str) -> None:
    seen: set[str] = set()
    for i, component in enumerate(components):
        if component.id in seen:
            raise fail(
                "Within a list of interaction components, all ids must be distinct",
                f"{path}[{i}].id",
                component.id,
            )
        seen.add(component.id)
        if component.description is not UNSET:
            check_language_map(component.description, f"{path}[{i}].description")


# Result


def check_result(result: Result, path: str) -> None:
    check_not_empty(result, _EMPTY_RESULT, path)
    if result.score is not UNSET:
        check_score(result.score, f"{path}.score")
    if result.duration is not UNSET and not is_duration(result.duration):
        raise fail(
            "A duration must be an ISO 8601 duration (section 4.4.3.2)",
            f"{path}.duration",
            result.duration,
        )
    if result.extensions is not UNSET:
        check_extensions(result.extensions, f"{path}.extensions")


def check_score(score: Score, path: str) -> None:
    check_not_empty(score, _EMPTY_SCORE, path)
    if score.scaled is not UNSET and not -1 <= score.scaled <= 1:
        raise fail(
            "A scaled score must be between -1 and 1, inclusive", f"{path}.scaled", score.scaled
        )
    if score.min is not UNSET and score.max is not UNSET and not score.min < score.max:
        raise fail("A score min must be less than its max", f"{path}.min", score.min)
    if score.raw is not UNSET:
        if score.min is not UNSET and score.raw < score.min:
            raise fail("A raw score must not be less than min", f"{path}.raw", score.raw)
        if score.max is not UNSET and score.raw > score.max:
            raise fail("A raw score must not be greater than max", f"{path}.raw", score.raw)


# Context


def check_context(context: Context, obj: StatementObject, path: str, v2: bool) -> None:
    check_not_empty(context, _EMPTY_CONTEXT, path)
    if context.registration is not UNSET:
        check_uuid(context.registration, path, "registration", "A registration must be a UUID")
    if context.instructor is not UNSET:
        check_actor(context.instructor, f"{path}.instructor")
    if context.team is not UNSET:
        check_group(context.team, f"{path}.team")
    if context.context_activities is not UNSET:
        activities = context.context_activities
        check_not_empty(activities, _EMPTY_CONTEXT_ACTIVITIES, f"{path}.contextActivities")
        for name in ("parent", "grouping", "category", "other"):
            value = getattr(activities, name)
            if value is not UNSET:
                check_context_activities(value, f"{path}.contextActivities.{name}")
    check_context_agents_and_groups(context, path, v2)
    check_revision_and_platform_need_activity(context, obj, path)
    if context.language is not UNSET and not is_context_language(context.language, v2):
        raise fail(
            "A context language must be an RFC 5646 language tag",
            f"{path}.language",
            context.language,
        )
    if context.statement is not UNSET:
        check_uuid(context.statement.id, path, "statement.id", "A StatementRef id must be a UUID")
    if context.extensions is not UNSET:
        check_extensions(context.extensions, f"{path}.extensions")


def check_context_activities(value: ActivityList, path: str) -> None:
    if isinstance(value, Activity):
        check_activity(value, path)
        return
    for i, activity in enumerate(value):
        check_activity(activity, f"{path}[{i}]")


def check_context_agents_and_groups(context: Context, path: str, v2: bool) -> None:
    if context.context_agents is not UNSET:
        check_v2_only("contextAgents", path, v2)
        for i, agent_entry in enumerate(context.context_agents):
            entry_path = f"{path}.contextAgents[{i}]"
            check_agent(agent_entry.agent, f"{entry_path}.agent")
            if agent_entry.relevant_types is not UNSET:
                check_relevant_types(agent_entry.relevant_types, f"{entry_path}.relevantTypes")
    if context.context_groups is not UNSET:
        check_v2_only("contextGroups", path, v2)
        for i, group_entry in enumerate(context.context_groups):
            entry_path = f"{path}.contextGroups[{i}]"
            check_group(group_entry.group, f"{entry_path}.group")
            if group_entry.relevant_types is not UNSET:
                check_relevant_types(group_entry.relevant_types, f"{entry_path}.relevantTypes")


def check_v2_only(name: str, path: str, v2: bool) -> None:
    if not v2:
        raise fail(f"{name} is defined only by xAPI 2.0", f"{path}.{name}")


def check_relevant_types(types: list[str], path: str) -> None:
    if not types:
        raise fail("relevantTypes, when present, must hold at least one IRI", path)
    for i, value in enumerate(types):
        if not is_iri(value):
            raise fail("relevantTypes must be IRIs", f"{path}[{i}]", value)


def check_revision_and_platform_need_activity(
    context: Context, obj: StatementObject, path: str
) -> None:
    if isinstance(obj, Activity):
        return
    for name, value in (("revision", context.revision), ("platform", context.platform)):
        if value is not UNSET:
            raise fail(
                f'The context "{name}" property may only be used when the object is an Activity',
                f"{path}.{name}",
            )


# Version and attachments


def check_version_property(value: str, path: str, v2: bool) -> None:
    # A 2.0 LRS "should not reject a Statement that is otherwise valid except the version",
    # so 2.0 requests also accept statements first recorded under 1.0.x.
    if _V1_VERSION.fullmatch(value) or (v2 and _V2_VERSION.fullmatch(value)):
        return
    allowed = '"1.0.x" or "2.0.x"' if v2 else '"1.0" or "1.0.x"'
    raise fail(f"A Statement version must be {allowed}", path, value)


def check_attachments(attachments: list[Attachment], path: str) -> None:
    for i, attachment in enumerate(attachments):
        check_attachment(attachment, f"{path}[{i}]")


def check_attachment(attachment: Attachment, path: str) -> None:
    check_iri(attachment.usage_type, path, "usageType", "An attachment usageType must be an IRI")
    check_language_map(attachment.display, f"{path}.display")
    if attachment.description is not UNSET:
        check_language_map(attachment.description, f"{path}.description")
    if not is_media_type(attachment.content_type):
        raise fail(
            "An attachment contentType must be an Internet Media Type",
            f"{path}.contentType",
            attachment.content_type,
        )
    if attachment.length < 0:
        raise fail(
            "An attachment length must be a non-negative integer",
            f"{path}.length",
            attachment.length,
        )
    if not is_sha2_hex(attachment.sha2):
        raise fail(
            "An attachment sha2 must be a hex-encoded SHA-2 hash", f"{path}.sha2", attachment.sha2
        )
    if attachment.file_url is not UNSET:
        check_iri(attachment.file_url, path, "fileUrl", "An attachment fileUrl must be an IRL")
