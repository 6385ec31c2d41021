"""What one statement of the log says about a learner's progress in a course, if anything.

A statement counts when its context names a course activity as parent, carries a
registration, and its object is one of that course's items or a test; the course activity
itself as object (what progress sends) is never counted. A voiding statement says that its
target no longer counts. Statements are read leniently: the LRS validated them on the way in,
and a progress reader must not stop on a shape it does not need.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

import msgspec

from core import cmi5
from lms.progress.iris import LmsIris

ADL = "http://adlnet.gov/expapi/verbs/"
LAUNCHED = ADL + "launched"
EXPERIENCED = ADL + "experienced"
COMPLETED = ADL + "completed"
ANSWERED = ADL + "answered"
PASSED = ADL + "passed"
FAILED = ADL + "failed"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
VOIDED = ADL + "voided"
COUNTED_VERBS = frozenset({LAUNCHED, EXPERIENCED, COMPLETED, ANSWERED, PASSED, FAILED})

_DURATION = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?$"
)
_MS = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000}


class _Account(msgspec.Struct, rename="camel"):
    home_page: str = ""
    name: str = ""


class _Actor(msgspec.Struct):
    account: _Account | None = None
    mbox: str | None = None
    mbox_sha1sum: str | None = None
    openid: str | None = None


class _Id(msgspec.Struct):
    id: str = ""


class _Object(msgspec.Struct, rename="camel"):
    id: str = ""
    object_type: str = "Activity"


class _Score(msgspec.Struct):
    scaled: float | None = None


class _Result(msgspec.Struct):
    score: _Score | None = None
    success: bool | None = None
    completion: bool | None = None
    duration: str | None = None


class _ContextActivities(msgspec.Struct):
    parent: list[_Id] | _Id | None = None
    grouping: list[_Id] | _Id | None = None
    category: list[_Id] | _Id | None = None


class _Context(msgspec.Struct, rename="camel"):
    registration: str | None = None
    context_activities: _ContextActivities | None = None


class _Statement(msgspec.Struct):
    id: str
    actor: msgspec.Raw
    verb: _Id
    object: _Object
    timestamp: datetime
    result: _Result | None = None
    context: _Context | None = None


_decode = msgspec.json.Decoder(_Statement).decode
_decode_actor = msgspec.json.Decoder(_Actor).decode


@dataclass(frozen=True, slots=True)
class Observation:
    statement_id: str
    registration: str
    course_id: str
    learner: str
    actor: str  # JSON
    verb: str
    activity: str
    kind: str  # "item" or "test"
    timestamp: datetime
    score: float | None
    duration_ms: int
    cmi5: bool = False  # a cmi5 defined statement (not kept: only its first reading needs it)


@dataclass(frozen=True, slots=True)
class Voiding:
    target: str  # the id of the statement voided


def wanted(iris: LmsIris) -> tuple[str, ...]:
    """Strings one of which every statement `observe` reads contains, as the log stores it
    (core/bus.py): a counted statement names a course activity, a voiding one the verb."""
    return (iris.course(""), VOIDED)


def observe(body: bytes, iris: LmsIris) -> Observation | Voiding | None:
    if not body:  # a statement the bus left out (`wanted`)
        return None
    try:
        statement = _decode(body)
    except msgspec.DecodeError:
        return None
    if statement.verb.id == VOIDED:
        return _voiding(statement.object)
    context = statement.context
    if statement.verb.id not in COUNTED_VERBS or context is None or not context.registration:
        return None
    course_id = _course_of(context, iris)
    if course_id is None:
        return None
    activity = statement.object.id
    if iris.is_item_of(activity, course_id):
        kind = "item"
    elif iris.is_test(activity):
        kind = "test"
    else:
        return None
    result = statement.result or _Result()
    actor = bytes(statement.actor).decode()
    learner = learner_of(_decode_actor(statement.actor), iris)
    if learner is None:
        return None
    return Observation(
        statement_id=statement.id.lower(),
        registration=context.registration.lower(),
        course_id=course_id,
        learner=learner,
        actor=actor,
        verb=statement.verb.id,
        activity=activity,
        kind=kind,
        timestamp=statement.timestamp,
        score=result.score.scaled if result.score else None,
        duration_ms=duration_ms(result.duration),
        cmi5=_is_cmi5(context),
    )


def _voiding(target: _Object) -> Voiding | None:
    if target.object_type != "StatementRef":
        return None
    try:
        return Voiding(str(uuid.UUID(target.id)))
    except ValueError:
        return None


def learner_of(actor: _Actor, iris: LmsIris) -> str | None:
    """The user id for an LMS account, else the agent's identifier as `agent_key` writes it."""
    if actor.account is not None:
        if actor.account.home_page.rstrip("/") == iris.base_url:
            return actor.account.name
        return f"account {actor.account.home_page} {actor.account.name}"
    if actor.mbox:
        return "mbox " + actor.mbox
    if actor.mbox_sha1sum:
        return "mbox_sha1sum " + actor.mbox_sha1sum.lower()
    if actor.openid:
        return "openid " + actor.openid
    return None


def duration_ms(text: str | None) -> int:
    """An ISO 8601 duration in milliseconds (0 if absent or not understood)."""
    match = _DURATION.match(text or "")
    if match is None:
        return 0
    total = sum(float(v.replace(",", ".")) * _MS[k] for k, v in match.groupdict().items() if v)
    return round(total)


def _course_of(context: _Context, iris: LmsIris) -> str | None:
    activities = context.context_activities
    if activities is None:
        return None
    for activity in (*_listed(activities.parent), *_listed(activities.grouping)):
        course_id = iris.course_id_of(activity.id)
        if course_id is not None:
            return course_id
    return None


def _is_cmi5(context: _Context) -> bool:
    activities = context.context_activities
    return activities is not None and any(
        a.id == cmi5.CATEGORY for a in _listed(activities.category)
    )


def _listed(field: list[_Id] | _Id | None) -> list[_Id]:
    return field if isinstance(field, list) else [field] if field else []
